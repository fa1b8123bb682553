"""Who may do what: every command, tried by an organizer, an organization admin (organizers are
the configured list plus Zulip's admins and owners), a participant from the roster, a person
not in the roster, and another bot. Each attempt is either done or refused with a reply that
says why, and a refused attempt changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.meeting.conftest import BEFORE, Chat, make_chat, unchanged
from zulip_bot.meeting.commands import COMMAND_NAMES

ORGANIZER, ADMIN, PARTICIPANT, STRANGER, BOT = "JRG", "ADMIN", "DG", "SD", "BOT"
PEOPLE = (ORGANIZER, ADMIN, PARTICIPANT, STRANGER)
ORGANIZERS = (ORGANIZER, ADMIN)
ONLY_ORGANIZERS = "Only organizers and co-chairs of Conda Community Meeting can do that."
CALENDAR = (
    "Only its organizers (@_**Jaime Rodríguez-Guerra**, @_**Jannis Leidel**) and co-chairs can "
    "change when the Conda Community Meeting meets."
)
START = [(ORGANIZER, "start")]
OPEN_ITEM = [*START, (ORGANIZER, "item 1")]


@dataclass(frozen=True)
class Case:
    text: str
    done: str  # how the reply starts when the command is done
    allowed: tuple[str, ...] = PEOPLE
    refusal: str = ONLY_ORGANIZERS
    setup: tuple[tuple[str, str], ...] = ()  # "ROLE" is whoever is trying


CASES = {
    "add": Case("add item Mine", "Added item **2**"),
    "edit": Case("edit 1 New words", "Item 1 now reads", ORGANIZERS,
                 "Only the owners of item 1, the person who added it, or an organizer "
                 "can edit it."),
    "withdraw": Case("withdraw 1", "Withdrew item 1", ORGANIZERS,
                     "Only the owners of item 1, the person who added it, or an organizer "
                 "can withdraw it."),
    "vote": Case("vote 1", "Voted for item 1"),
    "unvote": Case("unvote 1", "Took back your vote", setup=(("ROLE", "vote 1"),)),
    "agenda": Case("agenda", "**Conda Community Meeting, <time:"),
    "poll": Case('poll "Lunch?" "pizza" "sushi"', "/poll Lunch?"),
    "close poll": Case("close poll", "Poll closed.", ORGANIZERS,
                       setup=((PARTICIPANT, 'poll "Lunch?" "pizza" "sushi"'),)),
    "here": Case("here", "Welcome, "),
    "iam": Case("iam ZZ Example Org @zz", "Noted: "),
    "chair": Case("chair @**Katherine Kinnaman**", "Katherine Kinnaman is now a co-chair",
                  ORGANIZERS),
    "start": Case("start", "Conda Community Meeting has started.", ORGANIZERS),
    # in a scheduled meeting's topic, nobody may (see test_adhoc.py for elsewhere)
    "start meeting": Case("start meeting Triage", "", (),
                          "#**community>2024-11-06 Conda Community Meeting** is the topic of the "
                          "scheduled Conda Community Meeting (`community`), so I will not start "
                          "another meeting in it: send `start meeting <title>` in a topic of its "
                          "own."),
    "next": Case("next", "Now on item 1", ORGANIZERS, setup=tuple(START)),
    "item": Case("item 1", "Now on item 1", ORGANIZERS, setup=tuple(START)),
    "note": Case("note a thought", "Noted under item 1.", setup=tuple(OPEN_ITEM)),
    "decided": Case("decided yes", "Decision recorded under item 1.", setup=tuple(OPEN_ITEM)),
    "action": Case("action JK write it up", "Action item A1 recorded", setup=tuple(OPEN_ITEM)),
    "undo": Case("undo", "Removed item 2.", setup=(("ROLE", "add item oops"),)),
    "end": Case("end", "## Summary: Conda Community Meeting", ORGANIZERS, setup=tuple(START)),
    "actions": Case("actions", "Open action items"),
    "done": Case("done A1", "Closed A1: write it up", ORGANIZERS,
                 "A1 belongs to JK; they or an organizer can close it.",
                 setup=(*OPEN_ITEM, (ORGANIZER, "action JK write it up"))),
    "notes": Case("notes", "The notes draft for <time:"),
    "next meeting": Case("next meeting", "The next Conda Community Meeting is"),
    "schedule": Case("schedule", "**Conda Community Meeting**, the next meetings:"),
    "skip": Case("skip 2024-11-20 holidays", "The Conda Community Meeting of <time:2024-11-20",
                 ORGANIZERS, CALENDAR),
    "unskip": Case("unskip 2024-11-20", "The Conda Community Meeting of <time:2024-11-20",
                   ORGANIZERS, CALENDAR, setup=((ORGANIZER, "skip 2024-11-20"),)),
    "move": Case("move 2024-11-20 to 2024-11-21 9:00", "The Conda Community Meeting of "
                 "<time:2024-11-20", ORGANIZERS, CALENDAR),
    "extra": Case("extra 2024-11-13 17:00 Vote", "Added a Vote: <time:2024-11-13", ORGANIZERS,
                  CALENDAR),
    "help": Case("help", "Mention me with a command;"),
}  # fmt: skip


def test_the_matrix_covers_every_command() -> None:
    assert list(CASES) == list(COMMAND_NAMES)


def _world(directory: Path, case: Case, role: str) -> Chat:
    chat = make_chat(directory)
    chat.say("JK", "add item Someone else's item", BEFORE)  # item 1 belongs to JK
    for who, text in case.setup:
        chat.say(role if who == "ROLE" else who, text)
    return chat


@pytest.mark.parametrize("role", [*PEOPLE, BOT])
@pytest.mark.parametrize("name", list(CASES))
def test_permission(tmp_path: Path, name: str, role: str) -> None:
    case = CASES[name]
    chat = _world(tmp_path, case, role)
    if role == BOT:
        unchanged(chat, role, case.text, "")  # other bots are never answered, nor obeyed
    elif role in case.allowed:
        assert chat.text(role, case.text).startswith(case.done)
    else:
        unchanged(chat, role, case.text, case.refusal)


def test_a_co_chair_may_do_what_organizers_do(tmp_path: Path) -> None:
    chat = make_chat(tmp_path)
    chat.say(ORGANIZER, "chair @**Dasha Gurova**")
    assert chat.text(PARTICIPANT, "start").startswith("Conda Community Meeting has started.")
    unchanged(chat, STRANGER, "end", ONLY_ORGANIZERS)


def test_owners_of_items_typed_by_hand_may_change_them(tmp_path: Path) -> None:
    chat = make_chat(tmp_path)
    chat.say(ORGANIZER, "add item first")
    path = chat.notes_path()
    path.write_text(path.read_text(encoding="utf-8") + "- [ ] DG: typed by hand\n", "utf-8")
    assert chat.text(PARTICIPANT, "edit 2 typed by Dasha") == "Item 2 now reads: typed by Dasha"
    unchanged(chat, STRANGER, "withdraw 2",
              "Only the owners of item 2, the person who added it, or an organizer "
                 "can withdraw it.")  # fmt: skip
