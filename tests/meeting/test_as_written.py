"""What people type reads back from the draft as they meant it (issue "Real meetings replayed
through chat", causes 3 to 7): owners of actions are people, chosen initials are theirs, details
go under items ahead of time, and introductions have no owner and are not carried over."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.meeting.conftest import BEFORE, Chat
from zulip_bot.meeting.effects import Sender

AGENDA = "New Agenda Items"
NEXT_DAY = dt.date(2024, 11, 20)


@pytest.fixture
def live(chat: Chat) -> Chat:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("JRG", "start")
    chat.say("JRG", "next")
    return chat


def _actions(chat: Chat) -> list[tuple[str, tuple[str, ...]]]:
    return [(a.text, a.owners) for a in chat.draft().action_items()]


# --- 3. an action's owner is a person ---------------------------------------------------------


def test_a_label_word_starts_the_text_of_an_ownerless_action(live: Chat) -> None:
    reply = live.text("JRG", "action CEP to deprecate --use-channeldata")
    assert reply == (
        "Action item A1 recorded under item 1. It has no owner: say `action XX <text>` to give one."
    )
    (child,) = live.draft().items(AGENDA)[0].children
    assert child.text == "Action item: CEP to deprecate --use-channeldata"
    assert _actions(live) == [("CEP to deprecate --use-channeldata", ())]
    summary = live.text("JRG", "end")
    assert summary.count("deprecate --use-channeldata") == 1  # registered once


def test_a_github_handle_owns_its_action_and_reads_back(live: Chat) -> None:
    assert live.text("JRG", "action @soapy1 go get the names").startswith("Action item A1")
    (child,) = live.draft().items(AGENDA)[0].children
    assert child.text == "Action item: @soapy1 to go get the names"
    assert [owners for _, owners in _actions(live)] == [("soapy1",)]
    summary = live.text("JRG", "end")
    assert summary.count("go get the names") == 1 and "(no owner)" not in summary


def test_a_handle_of_someone_in_the_roster_becomes_their_initials(live: Chat) -> None:
    live.say("JRG", "action @jaimergp to open the PR")
    live.say("JRG", "action @chenghlee go get the names")
    assert _actions(live) == [
        ("JRG to open the PR", ("JRG",)),
        ("CHL to go get the names", ("CHL",)),
    ]


def test_a_mention_and_to_are_read_as_people_say_them(live: Chat) -> None:
    wolf = live.senders["WV"]
    live.say("JRG", f"action @**{wolf.full_name}** to Review the rattler PR")
    live.say("JRG", "action JK/DG ask the steering council")
    assert _actions(live) == [
        ("WV to Review the rattler PR", ("WV",)),
        ("JK/DG to ask the steering council", ("JK", "DG")),
    ]


# --- 4. initials people choose -------------------------------------------------------------------


@pytest.mark.parametrize("initials", ["SC", "NB", "PR"])
def test_initials_that_are_also_labels_are_accepted_for_a_person(chat: Chat, initials: str) -> None:
    chat.senders["X"] = Sender("x@example.net", "Xavier Ample", 830)
    assert chat.text("X", f"iam {initials} OpenTeams", BEFORE) == (
        f"Noted: Xavier Ample is {initials}, OpenTeams."
    )
    chat.say("X", "here", BEFORE)
    assert initials in [a.initials for a in chat.draft().attendees()]


# --- 5. details under an item before the meeting ----------------------------------------------


def test_owners_add_details_under_their_item_ahead_of_time(chat: Chat) -> None:
    chat.say("JL", "add item Governance FYIs and ideas:", BEFORE)
    for detail in ("[CEP 10](https://github.com/conda/ceps/pull/10) passed", "3 votes pending"):
        assert chat.text("JL", f"note #1 {detail}", BEFORE) == "Added under item 1."
    (item,) = chat.draft().items(AGENDA)
    assert item.checked is False  # not ticked: not yet discussed
    assert [c.text for c in item.children] == [
        "[CEP 10](https://github.com/conda/ceps/pull/10) passed",
        "3 votes pending",
    ]
    assert chat.text("JL", "undo", BEFORE) == "Removed your note under item 1."


def test_only_owners_and_organizers_add_details(chat: Chat) -> None:
    chat.say("JL", "add item Governance", BEFORE)
    assert chat.text("WV", "note #1 my two cents", BEFORE) == (
        "Only the owners of item 1 or an organizer can add to it out of turn; `note <text>` "
        "notes under the open item while the meeting runs."
    )
    assert chat.text("JRG", "note #1 from the chair", BEFORE) == "Added under item 1."
    assert chat.text("JL", "note #7 nothing there", BEFORE) == (
        "There is no item 7; the agenda has items 1 to 1."
    )


# --- 6. items without an owner; what is not carried over ---------------------------------------


def test_introductions_have_no_owner_and_are_not_carried_over(chat: Chat) -> None:
    chat.senders["AO"] = Sender("aaron@example.net", "Aaron Opfer", 840)
    assert chat.text("AO", "add intro Aaron Opfer, Python dev (first time here)", BEFORE) == (
        "Added item **1** to Introductions: Aaron Opfer, Python dev (first time here)\n"
        "React with 👍 (or `vote 1`) to vote for it."
    )
    chat.say("BZ", "add announcement BZ/WV: CEP17 implemented", BEFORE)
    chat.say("DG", "add item Zulip CEP", BEFORE)
    assert [(i.owners, i.text) for i in chat.draft().items("Introductions")] == [
        ((), "Aaron Opfer, Python dev (first time here)")
    ]
    assert chat.text("AO", "edit 1 Aaron Opfer, Python and Rust dev", BEFORE).startswith(
        "Item 1 now reads"
    )  # the person who added it may still change it
    chat.say("JRG", "start")
    summary = chat.text("JRG", "end")
    carried = summary.split("**Carried over**", 1)[1]
    assert "Zulip CEP" in carried
    assert "Aaron Opfer" not in carried and "CEP17" not in carried
    following = chat.draft(NEXT_DAY).render()
    assert "Aaron Opfer" not in following and "CEP17" not in following


def test_actions_and_decisions_go_under_an_item_that_is_not_open(chat: Chat) -> None:
    chat.say("JL", "add item Governance", BEFORE)
    chat.say("DG", "add item Zulip CEP", BEFORE)
    assert chat.text("JL", "action #1 MRB/IF draft the policy", BEFORE) == (
        "Action items A1, A2 recorded under item 1.\n"
        "Note: MRB, IF are not in the roster; I kept them as written."
    )
    assert chat.text("JRG", "decided #2 Zulip it is", BEFORE) == "Decision recorded under item 2."
    governance, zulip = chat.draft().items(AGENDA)
    assert (governance.checked, zulip.checked) == (False, False)  # neither was opened
    assert _actions(chat) == [("MRB/IF to draft the policy", ("MRB", "IF"))]
    assert [d.text for d in chat.draft().decisions()] == ["Decision: Zulip it is"]
    assert chat.text("WV", "decided #1 no", BEFORE).startswith("Only the owners of item 1")


def test_an_item_nobody_brings_is_added_without_an_owner(chat: Chat) -> None:
    assert chat.text("JRG", "add item (no owner) PRs needing review", BEFORE).startswith(
        "Added item **1** to New Agenda Items: PRs needing review\n"
    )
    assert [(i.owners, i.text) for i in chat.draft().items(AGENDA)] == [((), "PRs needing review")]
    assert chat.text("JRG", "withdraw 1", BEFORE).startswith("Withdrew item 1")


def test_a_name_owns_an_action_only_when_it_names_someone(chat: Chat) -> None:
    chat.say("JRG", "add item (Eric) conda-forge bot", BEFORE)
    chat.say("JRG", "start")
    chat.say("JRG", "next")
    chat.say("JRG", "action Eric follow up with the bot")  # an owner in this draft
    chat.say("JRG", "action Jaime to review the PR")  # a roster first name: initials
    chat.say("JRG", "action Call the vote")  # nobody: the text of an ownerless action
    assert _actions(chat) == [
        ("Eric to follow up with the bot", ("Eric",)),
        ("JRG to review the PR", ("JRG",)),
        ("Call the vote", ()),
    ]
