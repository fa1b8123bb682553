"""What is said in the meeting's topic while it runs: the transcript, and automatic attendance."""

from __future__ import annotations

from pathlib import Path

from tests.meeting.conftest import DURING, TOPIC, Chat, make_chat
from zulip_bot.meeting.effects import Incoming


def overheard(chat: Chat, who: str, text: str, topic: str = TOPIC) -> None:
    """A message in the stream that does not mention the bot: it must never be answered."""
    number = len(chat.sent) + 5000 + len(text)
    message = Incoming(f"o{number}{who}", number, chat.senders[who], text, "community", topic,
                       addressed=False)  # fmt: skip
    assert chat.service.handle_message(message, DURING) == []


def test_the_meeting_topic_is_transcribed_while_it_runs(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP")
    overheard(chat, "DG", "nor is chatter before it")
    chat.say("JRG", "start")
    overheard(chat, "DG", "I can hear you fine\nand see you")
    overheard(chat, "WV", "another topic is not this meeting", topic="packaging questions")
    chat.say("DG", "vot 1")
    chat.say("JRG", "end")
    chat.say("DG", "note after the end is not transcribed")
    lines = chat.notes_path().with_suffix(".transcript.txt").read_text(encoding="utf-8")
    assert lines.splitlines()[:12] == [
        "Conda Community Meeting 2024-11-06: transcript (UTC)",
        "",
        "17:05 Jaime Rodríguez-Guerra: start",
        "17:05 meetbot: Conda Community Meeting has started. `next` opens the first item. In "
        "the order we take it:",
        "    ",
        "    | # | item | owner | votes | min |",
        "    | ---: | --- | --- | ---: | ---: |",
        "    | 1 | Zulip CEP | DG | 0 | (10) |",
        "17:05 Dasha Gurova: I can hear you fine",
        "    and see you",
        "17:05 Dasha Gurova: vot 1",
        "17:05 meetbot: I don't know `vot`. Did you mean `vote`? Send `help` for the list.",
    ]
    assert "17:05 Jaime Rodríguez-Guerra: end\n17:05 meetbot: ## Summary:" in lines
    assert "add item Zulip CEP" not in lines and "chatter before" not in lines
    assert "after the end" not in lines and "another topic" not in lines


def test_auto_attendance_counts_whoever_speaks_in_the_running_meeting(tmp_path: Path) -> None:
    chat = make_chat(tmp_path, ("auto_attendance = false", "auto_attendance = true"))
    overheard(chat, "WV", "early bird, not counted before the start")
    chat.say("JRG", "start")
    overheard(chat, "DG", "hello all")
    overheard(chat, "SD", "hi, first time here")
    overheard(chat, "KK", "elsewhere", topic="another topic")
    doc = chat.draft()
    assert [(a.name, a.initials) for a in doc.attendees()] == [
        ("Jaime Rodríguez-Guerra", "JRG"),
        ("Dasha Gurova", "DG"),
        ("Sam Doe", "SD"),
    ]
    assert doc.head_count == 3
    assert chat.text("DG", "here") == "Dasha Gurova is already on the attendee list."


def test_without_auto_attendance_speaking_is_not_attending(chat: Chat) -> None:
    chat.say("JRG", "start")
    overheard(chat, "DG", "hello all")
    assert chat.draft().attendees() == []
