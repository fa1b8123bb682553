"""The meeting service driven through its public entry points, on a real draft and store."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from zulip_bot.config import load_config
from zulip_bot.meeting.effects import Incoming, Sender
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store
from zulip_bot.notes import NotesDocument

NOW = dt.datetime(2024, 11, 4, 12, 0, tzinfo=dt.UTC)
ORGANIZER = Sender("jaimergp@example.org", "Jaime Rodríguez-Guerra", 10)
DASHA = Sender("dashagurova@example.org", "Dasha Gurova", 11)
STRANGER = Sender("sam@example.net", "Sam Doe", 12)
BOT = Sender("other-bot@example.net", "Other Bot", 13, is_bot=True)


@pytest.fixture
def service(tmp_path: Path) -> MeetingService:
    for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
        shutil.copy(REPO / "config" / name, tmp_path / name)
    config = load_config(tmp_path / "meetbot.example.toml")
    return MeetingService(config, Store(config.state_path))


_ids = itertools.count(1)


def say(service: MeetingService, who: Sender, text: str) -> list[str]:
    number = next(_ids)
    message = Incoming(f"m{number}", number, who, text, "community", "2024-11-06")
    return [e.content for e in service.handle_message(message, NOW)]


def draft(service: MeetingService) -> NotesDocument:
    return NotesDocument.load(service.config.meetings[0].notes_path_for(dt.date(2024, 11, 6)))


def test_add_vote_agenda(service: MeetingService) -> None:
    assert say(service, DASHA, "add item Zulip CEP") == [
        "Added item **1** to New Agenda Items: DG: Zulip CEP\n"
        "React with 👍 (or `vote 1`) to vote for it."
    ]
    say(service, ORGANIZER, "add item Change time of this meeting?")
    assert say(service, DASHA, "vote 2") == ["Voted for item 2; it has 1 vote(s)."]
    assert say(service, DASHA, "vote 2") == ["You already voted for item 2."]
    agenda = say(service, DASHA, "agenda")[0]
    assert agenda.index("Change time") < agenda.index("Zulip CEP")
    items = draft(service).items("New Agenda Items")
    assert [(i.owners, i.text, i.checked) for i in items] == [
        (("DG",), "Zulip CEP", False),
        (("JRG",), "Change time of this meeting?", False),
    ]


def test_bad_input_changes_nothing(service: MeetingService) -> None:
    say(service, DASHA, "add item one")
    before = draft(service).render()
    assert say(service, DASHA, "vote 9") == ["There is no item 9; the agenda has items 1 to 1."]
    assert say(service, DASHA, "vot 1") == [
        "I don't know `vot`. Did you mean `vote`? Send `help` for the list."
    ]
    assert say(service, DASHA, "add item " + "x" * 2001) == [
        "That text is 2,001 characters long; the limit is 2,000."
    ]
    assert say(service, DASHA, "start") == [
        "Only organizers and co-chairs of Conda Community Meeting can do that."
    ]
    assert say(service, STRANGER, "withdraw 1") == [
        "Only the person who added item 1 or an organizer can withdraw it."
    ]
    assert say(service, BOT, "add item spam") == []
    assert draft(service).render() == before


def test_redelivered_event_is_skipped(service: MeetingService) -> None:
    message = Incoming("same", 1, DASHA, "add item once", "community", "t")
    assert service.handle_message(message, NOW)
    assert service.handle_message(message, NOW) == []
    assert len(draft(service).items("New Agenda Items")) == 1


def test_stranger_gets_initials_and_attends(service: MeetingService) -> None:
    assert say(service, STRANGER, "here") == ["Welcome, Sam Doe (SD)! 1 people in total."]
    assert draft(service).attendees()[0].initials == "SD"
    assert draft(service).head_count == 1


def test_live_meeting_end_to_end(service: MeetingService) -> None:
    say(service, DASHA, "add item Zulip CEP: https://github.com/conda/ceps/pull/92")
    say(service, ORGANIZER, "add item Change time of this meeting?")
    say(service, DASHA, "add item Left for later")
    assert say(service, ORGANIZER, "start") == [
        "Conda Community Meeting has started. `next` opens the first item."
    ]
    say(service, ORGANIZER, "item 1")
    say(service, DASHA, "note conda-forge already moved")
    say(service, DASHA, "action call the vote")
    say(service, ORGANIZER, "item 2")
    say(service, ORGANIZER, "decided General feeling: yes, let's run a poll.")
    say(service, ORGANIZER, "action JRG create proposal PR in conda-build")
    summary = "\n".join(say(service, ORGANIZER, "end"))
    doc = draft(service)
    assert [(a.text, a.owners) for a in doc.action_items()] == [
        ("call the vote", ()),
        ("JRG to create proposal PR in conda-build", ("JRG",)),
    ]
    assert [d.text for d in doc.decisions()] == ["General feeling: yes, let's run a poll."]
    assert "- @**Jaime Rodríguez-Guerra|10**\n  - A" in summary
    assert "create proposal PR in conda-build" in summary
    assert "**Carried over** to the next meeting (1):\n- Left for later" in summary
    nxt = NotesDocument.load(service.config.meetings[0].notes_path_for(dt.date(2024, 11, 20)))
    assert [i.text for i in nxt.items("From previous meetings")] == ["Left for later"]
