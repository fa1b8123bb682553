"""Who may read a meeting (those who can read its stream, as the `Readers` port says), whose
names `iam` may claim, and that no reply shows where a file lives on the bot's machine."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.meeting.conftest import BEFORE, DURING, Chat, make_chat, store_dump
from zulip_bot.config import MeetingConfig
from zulip_bot.meeting.effects import Effect, Incoming, Send, Sender
from zulip_bot.meeting.service import MeetingService

MEMBERS_ONLY = (
    "Conda Community Meeting is for the members of its stream #**community**; ask an "
    "organizer to add you to the stream."
)
_IDS = itertools.count(5000)


class Gate:
    """The port as a test sets it: (meeting key, user id) pairs that cannot read."""

    def __init__(self) -> None:
        self.shut: set[tuple[str, int]] = set()

    def __call__(self, meeting: MeetingConfig, sender: Sender) -> bool:
        return (meeting.key, sender.user_id) not in self.shut


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def gated(tmp_path: Path, gate: Gate) -> Chat:
    """A running community meeting with an item, a poll and an action item."""
    plain = make_chat(tmp_path)
    chat = Chat(MeetingService(plain.config, plain.service.store, gate), plain.senders)
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("JRG", "start")
    chat.say("JRG", "item 1")
    chat.say("DG", "action WV check the mirrors")
    chat.say("DG", 'poll "Lunch?" "pizza" "sushi"')
    return chat


def dm(chat: Chat, who: str, text: str, now: dt.datetime = DURING) -> str:
    number = next(_IDS)
    message = Incoming(f"dm{number}", number, chat.senders[who], text)
    replies: list[Effect] = chat.service.handle_message(message, now)
    return "\n".join(r.content for r in replies if isinstance(r, Send))


def _state(chat: Chat) -> tuple[bytes, set[tuple[object, ...]]]:
    rows = {r for r in store_dump(chat) if r[0] != "person"}  # who has spoken, not what
    return chat.notes_path().read_bytes(), rows


def test_who_cannot_read_the_stream_gets_one_line_and_changes_nothing(
    gated: Chat, gate: Gate
) -> None:
    outsider = gated.senders["SD"].user_id
    gate.shut.add(("community", outsider))
    item_message = gated.sent["item:community:2024-11-06:1"]
    poll_message = next(v for k, v in gated.sent.items() if k.startswith("poll:"))
    before = _state(gated)
    for text in (
        "community agenda",
        "community actions",
        "community notes",
        "community add item x",
        "community vote 1",
        "community here",
        "#community help",
    ):
        assert dm(gated, "SD", text) == MEMBERS_ONLY, text
    assert gated.text("SD", "agenda") == MEMBERS_ONLY  # in the stream too, were it possible
    assert dm(gated, "SD", "done A1") == MEMBERS_ONLY
    gated.react("SD", item_message)
    gated.ballot("SD", poll_message, 1)
    listed = dm(gated, "SD", "actions")
    assert "check the mirrors" not in listed and "A1" not in listed
    assert _state(gated) == before

    gate.shut.clear()  # subscribed now: the same questions get the meeting's answers
    assert "| 1 | Zulip CEP ✔ | DG | 0 |" in dm(gated, "SD", "community agenda")
    assert "A1: check the mirrors" in dm(gated, "SD", "actions")
    gated.react("SD", item_message)
    assert "| 1 | Zulip CEP ✔ | DG | 1 |" in dm(gated, "SD", "community agenda")


def test_actions_lists_only_the_meetings_the_asker_reads(gated: Chat, gate: Gate) -> None:
    when = dt.datetime(2024, 11, 5, 15, 10, tzinfo=dt.UTC)
    for number, text in enumerate(("add item release", "start", "next", "action WV cut it")):
        said = Incoming(f"pk{number}", number, gated.senders["WV"], text, "packaging", "x")
        gated.service.handle_message(said, when)
    gate.shut.add(("packaging", gated.senders["WV"].user_id))
    mine = dm(gated, "WV", "actions mine")
    assert "check the mirrors" in mine and "cut it" not in mine
    assert "cut it" in dm(gated, "DG", "actions @**Wolf Vollprecht**")


def test_iam_claims_nothing_that_is_someone_elses_and_says_not_whose(chat: Chat) -> None:
    chat.senders["NAMESAKE"] = Sender("other@example.net", "Jaime Rodríguez-Guerra", 950)
    chat.senders["AB"] = Sender("ab@example.net", "Alex Bee", 951)
    chat.senders["CD"] = Sender("cd@example.net", "Cory Dee", 952)
    refusals = {
        ("SD", "iam JRG"): "The initials `JRG` are taken",
        ("SD", "iam SDX Acme @jaimergp"): "The GitHub handle @jaimergp is taken",
        ("NAMESAKE", "iam JRX"): "The name Jaime Rodríguez-Guerra is taken",
    }
    assert chat.text("AB", "iam ABX Acme @alexbee") == "Noted: Alex Bee is ABX, Acme, @alexbee."
    refusals[("CD", "iam CDX @AlexBee")] = "The GitHub handle @AlexBee is taken"
    refusals[("CD", "iam abx")] = "The initials `ABX` are taken"
    before = store_dump(chat)
    for (who, text), start in refusals.items():
        reply = chat.text(who, text)
        assert reply.startswith(start), reply
        assert "Jaime" not in reply.replace("The name Jaime Rodríguez-Guerra", "")
        assert "Alex Bee" not in reply and "jaimergp@" not in reply
    assert [r for r in store_dump(chat) if r[0] == "person" and r[-1] == 1] == [
        r for r in before if r[0] == "person" and r[-1] == 1
    ]
    assert chat.text("AB", "iam ABX Acme @alexbee").startswith("Noted:")  # one's own again
    assert chat.text("JRG", "iam JRG Anaconda @jaimergp").startswith("Noted:")  # the roster's


# --- no reply names a place on the bot's machine --------------------------------------------

_ABSOLUTE = re.compile(r"(?<![\w:/.])/[^\s/`]+/")


def _broken(content: bytes) -> Callable[[Chat], str]:
    def drive(chat: Chat) -> str:
        chat.say("DG", "add item one", BEFORE)
        chat.notes_path().write_bytes(content)
        return chat.text("DG", "agenda", BEFORE)

    return drive


def _missing(chat: Chat) -> str:
    chat.say("DG", "add item one", BEFORE)
    chat.notes_path().unlink()
    return chat.text("DG", "add item two", BEFORE)


def _linked(chat: Chat) -> str:
    chat.say("DG", "add item one", BEFORE)
    path = chat.notes_path()
    elsewhere = path.with_name("elsewhere.md")
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    return chat.text("DG", "vote 1", BEFORE)


def _notes(chat: Chat) -> str:
    chat.say("DG", "add item one", BEFORE)
    return chat.text("DG", "notes", BEFORE)


def _end_with_the_next_draft_broken(chat: Chat) -> str:
    chat.say("DG", "add item one", BEFORE)
    chat.say("JRG", "start")
    following = chat.config.meetings[0].notes_path_for(dt.date(2024, 11, 20))
    following.write_bytes(b"---\nbroken: [\n---\n")
    return chat.text("JRG", "end") + "\n" + chat.text("DG", "agenda")


def _scheduled_job_on_a_broken_draft(chat: Chat) -> str:
    chat.say("DG", "add item one", BEFORE)
    chat.notes_path().write_bytes(b"")
    effects = chat.service.tick(DURING)
    return "\n".join(e.content for e in effects if isinstance(e, Send))


@pytest.mark.parametrize(
    "drive",
    [
        _notes,
        _missing,
        _linked,
        pytest.param(_broken(b"# Notes\n\n\xff broken\n"), id="not-utf8"),
        pytest.param(_broken(b"---\ntags: [x]\n"), id="front-matter-open"),
        pytest.param(_broken(b""), id="empty"),
        _end_with_the_next_draft_broken,
        _scheduled_job_on_a_broken_draft,
    ],
)
def test_no_reply_shows_a_path_on_the_server(chat: Chat, drive: Callable[[Chat], str]) -> None:
    said = drive(chat)
    name = chat.notes_path().name
    assert said and str(chat.config.meetings[0].config_dir) not in said, said
    assert not _ABSOLUTE.search(said), said
    assert name in said or "20241120" in said, said  # the file is still named, by its name


def test_with_a_notes_url_the_draft_is_named_by_its_link(tmp_path: Path) -> None:
    url = 'notes_url = "https://example.org/notes/{path}"\n'
    chat = make_chat(tmp_path, ('timezone = "UTC"', 'timezone = "UTC"\n' + url))
    chat.say("DG", "add item one", BEFORE)
    chat.notes_path().unlink()
    said = chat.text("DG", "add item two", BEFORE)
    name = chat.notes_path().name
    assert said.startswith(
        f"The notes draft [{name}](https://example.org/notes/notes/{name}) is missing"
    ), said
