"""The 2024-11-06 Conda Community Meeting, replayed from chat.

Everything the real notes file records is typed to the bot the way people would type it:
attendance, each agenda item by its owner, votes (commands and 👍 reactions), the live notes,
action items and decisions, and a poll on the meeting time. The draft the bot writes must then
have the real file's structure: the same attendee rows, the same items with the same owners and
checked state, and the same action items and decisions.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO, needs_corpus
from zulip_bot.config import load_config
from zulip_bot.meeting.effects import Incoming, Send, Sender
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store
from zulip_bot.notes import AgendaItem, NotesDocument

pytestmark = needs_corpus()

REAL = CORPUS / "governance" / "20241106_agenda_and_minutes.md"
DAY = dt.date(2024, 11, 6)
TOPIC = "2024-11-06 Conda Community Meeting"
BEFORE = dt.datetime(2024, 11, 5, 9, 0, tzinfo=dt.UTC)
DURING = dt.datetime(2024, 11, 6, 17, 5, tzinfo=dt.UTC)
AGENDA = "New Agenda Items"


@dataclass
class Chat:
    """A stream where roster people talk to the service; replies are kept per message."""

    service: MeetingService
    senders: dict[str, Sender]
    sent: dict[str, int] = field(default_factory=dict)  # ref -> the id "Zulip" gave it
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))

    def say(self, initials: str, text: str, now: dt.datetime = DURING) -> list[Send]:
        number = next(self._ids)
        message = Incoming(f"m{number}", number, self.senders[initials], text, "community", TOPIC)
        replies = self.service.handle_message(message, now)
        for reply in replies:
            if reply.ref is not None:  # what the runner does after posting
                self.sent[reply.ref] = next(self._ids)
                self.service.message_sent(reply.ref, self.sent[reply.ref])
        return replies

    def text(self, initials: str, text: str, now: dt.datetime = DURING) -> str:
        return "\n".join(r.content for r in self.say(initials, text, now))

    def react(self, initials: str, message_id: int) -> None:
        event = f"r{next(self._ids)}"
        self.service.handle_reaction(event, self.senders[initials], message_id, "+1", True, BEFORE)

    def ballot(self, initials: str, poll_message: int, option: int, vote: int = 1) -> None:
        content = json.dumps({"type": "vote", "key": f"canned,{option}", "vote": vote})
        sender = self.senders[initials]
        self.service.handle_submessage(f"s{next(self._ids)}", sender.user_id, poll_message, content)


@pytest.fixture
def chat(tmp_path: Path) -> Chat:
    for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
        shutil.copy(REPO / "config" / name, tmp_path / name)
    config = load_config(tmp_path / "meetbot.example.toml")
    service = MeetingService(config, Store(config.state_path))
    senders = {
        p.initials: Sender(p.email, p.name, 100 + n) for n, p in enumerate(config.roster.people)
    }
    return Chat(service, senders)


def _typed(item: AgendaItem) -> str:
    """An item or note as a person types it: its owners first, as the notes write them."""
    return f"{'/'.join(item.owners)}: {item.text}" if item.owners else item.text


def _descendants(item: AgendaItem) -> list[AgendaItem]:
    return [d for child in item.children for d in (child, *_descendants(child))]


def _shape(doc: NotesDocument, section: str) -> list[tuple[tuple[str, ...], str, bool | None]]:
    return [(i.owners, i.text, i.checked) for i in doc.items(section)]


def _attendee_rows(doc: NotesDocument) -> list[tuple[str, str, str, str]]:
    return [(a.name, a.initials, a.affiliation, a.github) for a in doc.attendees()]


def _replay(chat: Chat, real: NotesDocument) -> tuple[list[str], str]:
    """Runs the meeting; returns the poll result line and the summary."""
    # Everyone in the real attendee table says `here`.
    for attendee in real.attendees():
        assert chat.text(attendee.initials, "here").startswith(f"Welcome, {attendee.name}")

    # The announcement, and the agenda items in reverse: the votes must restore the real order.
    (announcement,) = real.items("Announcements")
    chat.say(announcement.owners[0], f"add announcement {_typed(announcement)}", BEFORE)
    items = real.items(AGENDA)
    numbers = {}
    for item in reversed(items):
        reply = chat.text(item.owners[0], f"add item {item.text}", BEFORE)
        numbers[item.text] = int(reply.split("**")[1])

    # The n-th real item gets 11 - n votes: the first voters by command, the rest by 👍.
    voters = [a.initials for a in real.attendees()]
    for position, item in enumerate(items):
        ref = f"item:community:{DAY}:{numbers[item.text]}"
        for voter in voters[: len(items) - 1 - position]:
            if voter in voters[:5]:
                assert chat.text(voter, f"vote {numbers[item.text]}", BEFORE).startswith("Voted")
            else:
                chat.react(voter, chat.sent[ref])

    assert "ordered by votes" in chat.text("JRG", "start")
    after_start = NotesDocument.load(chat.service.config.meetings[0].notes_path_for(DAY))
    assert [i.text for i in after_start.items(AGENDA)] == [i.text for i in items]

    # The discussion, item by item, in the order the notes have it.
    actions = {a.line for a in real.action_items()}
    decisions = {d.line for d in real.decisions()}
    poll_line: list[str] = []
    for item in [announcement, *items]:
        opened = chat.text("JRG", "next")
        assert opened.startswith("Now on item ") and opened.endswith(_typed(item)), opened
        for child in _descendants(item):
            if child.line in actions:
                (found,) = [a for a in real.action_items() if a.line == child.line]
                owner = f"{'/'.join(found.owners)} " if found.owners else ""
                text = found.text.split(" to ", 1)[1] if found.owners else found.text
                assert chat.text(item.owners[0], f"action {owner}{text}").startswith(
                    "Action item A"
                )
            elif child.line in decisions:
                assert chat.text("JRG", f"decided {child.text}").startswith("Decision recorded")
            else:
                speaker = child.owners[0] if child.owners else "JRG"
                assert chat.text(speaker, f"note {_typed(child)}").startswith("Noted under item")
        if item.text == "Change time of this meeting?":
            poll = chat.say(
                "JRG",
                'poll "Move this meeting to a new time?" "Keep 17:00 UTC" "15:00 UTC" "19:00 UTC"',
            )
            assert [p.content for p in poll] == [
                "/poll Move this meeting to a new time?\nKeep 17:00 UTC\n15:00 UTC\n19:00 UTC"
            ]
            poll_message = chat.sent["poll:1"]
            for voter, option in [
                ("RA", 1),
                ("BZ", 1),
                ("FF", 0),
                ("WV", 1),
                ("JK", 0),
                ("ME", 2),
                ("DG", 1),
            ]:
                chat.ballot(voter, poll_message, option)
            chat.ballot("DG", poll_message, 1, vote=-1)  # Dasha changes her mind
            chat.ballot("DG", poll_message, 2)
            poll_line.append(
                "Poll: Move this meeting to a new time? Keep 17:00 UTC: 2 (FF, JK); "
                "15:00 UTC: 3 (RA, BZ, WV); 19:00 UTC: 2 (ME, DG)"
            )
    return poll_line, chat.text("JRG", "end")


def test_replaying_the_2024_11_06_meeting_gives_its_notes(chat: Chat) -> None:
    real = NotesDocument.load(REAL)
    poll_line, summary = _replay(chat, real)
    config = chat.service.config
    ours = NotesDocument.load(config.meetings[0].notes_path_for(DAY))

    assert _attendee_rows(ours) == _attendee_rows(real)
    assert ours.head_count == 11  # the real file counted 4 people who were not in the table
    for section in ("Introductions", "Announcements", AGENDA):
        assert _shape(ours, section) == _shape(real, section), section
    for mine, theirs in zip(ours.items(), real.items(), strict=True):
        typed = [_typed(d) for d in _descendants(mine)]
        for child in _descendants(theirs):
            if child.line not in {a.line for a in real.action_items()}:
                assert _typed(child) in typed, (theirs.text, child.text)
    assert [(a.text, a.owners, a.item and a.item.text) for a in ours.action_items()] == [
        (a.text, a.owners, a.item and a.item.text) for a in real.action_items()
    ]
    assert [(d.text, d.item and d.item.text) for d in ours.decisions()] == [
        (d.text, d.item and d.item.text) for d in real.decisions()
    ]
    (time_item,) = [i for i in ours.items(AGENDA) if i.text == "Change time of this meeting?"]
    assert [c.text for c in time_item.children if c.text.startswith("Poll:")] == poll_line

    # The summary lists the action items under their owners, mentioned so they are notified.
    jaime = chat.senders["JRG"].user_id
    assert f"- @**Jaime Rodríguez-Guerra|{jaime}**\n  - A2: create proposal PR in conda-build" in (
        summary
    )
    assert "- (no owner)\n  - A1: call the vote (from 2024-11-06)" in summary
    assert "**Attendees** (11): Ruben Arts, Bas Zalmstra," in summary
    assert f"  - {poll_line[0]}" in summary

    # Nothing was left undiscussed; the open action items wait in the next draft.
    following = NotesDocument.load(config.meetings[0].notes_path_for(dt.date(2024, 11, 20)))
    assert [i.text for i in following.items("Open action items")] == [
        "A1: call the vote (2024-11-06)",
        "A2: JRG to create proposal PR in conda-build (2024-11-06)",
    ]
    assert not any(s.title == "From previous meetings" for s in following.sections())


def test_the_meeting_topic_is_transcribed_while_it_runs(chat: Chat) -> None:
    chat.say("JRG", "start")
    heard = Incoming(
        "plain",
        1,
        chat.senders["DG"],
        "I can hear you fine\nand see you",
        "community",
        TOPIC,
        addressed=False,
    )
    assert chat.service.handle_message(heard, DURING) == []
    chat.say("JRG", "end")
    chat.say("DG", "note after the end is not transcribed")
    path = chat.service.config.meetings[0].notes_path_for(DAY).with_suffix(".transcript.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:5] == [
        "Conda Community Meeting 2024-11-06: transcript (UTC)",
        "",
        "17:05 Jaime Rodríguez-Guerra: start",
        "17:05 meetbot: Conda Community Meeting has started. `next` opens the first item.",
        "17:05 Dasha Gurova: I can hear you fine",
    ]
    assert lines[5] == "    and see you"
    assert lines[6] == "17:05 Jaime Rodríguez-Guerra: end"
    assert not any("after the end" in line for line in lines)


def test_auto_attendance_counts_whoever_speaks(chat: Chat, tmp_path: Path) -> None:
    config_path = tmp_path / "meetbot.example.toml"
    config_path.write_text(
        config_path.read_text(encoding="utf-8").replace(
            "auto_attendance = false", "auto_attendance = true", 1
        ),
        encoding="utf-8",
    )
    config = load_config(config_path)
    chat = Chat(MeetingService(config, chat.service.store), chat.senders)
    chat.say("JRG", "start")
    heard = Incoming(
        "plain", 1, chat.senders["DG"], "hello all", "community", TOPIC, addressed=False
    )
    chat.service.handle_message(heard, DURING)
    elsewhere = Incoming(
        "side", 2, chat.senders["WV"], "hi", "community", "another topic", addressed=False
    )
    chat.service.handle_message(elsewhere, DURING)
    doc = NotesDocument.load(config.meetings[0].notes_path_for(DAY))
    assert [a.initials for a in doc.attendees()] == ["JRG", "DG"]
    assert chat.text("DG", "here") == "Dasha Gurova is already on the attendee list."
