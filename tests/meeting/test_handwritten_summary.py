"""A meeting whose notes were written by hand: the bot only ran the agenda, and at `end` it reads
the action items and decisions back from the file for the registry and the summary."""

from __future__ import annotations

import datetime as dt

from tests.meeting.conftest import BEFORE, DAY, Chat
from zulip_bot.meeting import messages, wrapup
from zulip_bot.meeting.messages import OpenAction, Summary
from zulip_bot.notes import NotesDocument

CEP = "https://github.com/conda/ceps/pull/92"
HAND_WRITTEN = """\
- [x] DG: Zulip CEP
    - conda-forge already moved: https://conda-forge.zulipchat.com/stats
    - Action item: call the vote
    - JRG to write up the [CEP summary](https://github.com/conda/ceps/pull/92)
    - Consensus: move the community channel to Zulip by March.
- [x] JRG: Change time of this meeting?
    - Jaime will run a poll on Discourse.
    - Wolf and Dasha to collect the time zones of regulars
    - we will decide at the next call
    - the new time will be announced on the blog
    - > JK will do it, said nobody
    - Who will tell the conda-forge call? KK
    - General feeling: yes, let's run a poll.
"""


def _write_by_hand(chat: Chat) -> None:
    path = chat.notes_path()
    text = path.read_text(encoding="utf-8")
    start = text.index("- [ ] DG: Zulip CEP")
    path.write_text(text[:start] + HAND_WRITTEN, encoding="utf-8")


def test_hand_written_notes_end_in_a_summary_by_owner_with_the_decisions(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("JRG", "add item Change time of this meeting?", BEFORE)
    chat.say("JRG", "start")
    for who in ("DG", "JRG", "WV", "KK"):
        chat.say(who, "here")
    _write_by_hand(chat)

    summary = chat.text("JRG", "end")

    discussed = summary.split("**Discussed**\n", 1)[1].split("\n\n", 1)[0]
    assert discussed.splitlines() == [
        "- DG: Zulip CEP",
        "  - Consensus: move the community channel to Zulip by March.",
        "- JRG: Change time of this meeting?",
        "  - General feeling: yes, let's run a poll.",
    ]
    jaime, kk = chat.senders["JRG"].user_id, chat.senders["KK"].user_id
    wolf, dasha = chat.senders["WV"].user_id, chat.senders["DG"].user_id
    actions = summary.split("**Open action items**\n", 1)[1]
    labelled, inferred = actions.split("\n\n", 2)[:2]
    assert labelled.splitlines() == ["- (no owner)", "  - A1: call the vote (from 2024-11-06)"]
    # Read from prose, for a person to confirm: each owner once, with their tasks under them;
    # both owners of the shared task get it. Owners named by first name are the attendees
    # who answer to it.
    assert inferred.splitlines()[0].startswith("**Read from the notes, to confirm**")
    assert inferred.splitlines()[1:] == [
        f"- @**Jaime Rodríguez-Guerra|{jaime}**",
        f"  - A2: write up the [CEP summary]({CEP}) (from 2024-11-06)",
        "  - A3: run a poll on Discourse. (from 2024-11-06)",
        f"- @**Wolf Vollprecht|{wolf}**",
        "  - A4: collect the time zones of regulars (from 2024-11-06)",
        f"- @**Dasha Gurova|{dasha}**",
        "  - A5: collect the time zones of regulars (from 2024-11-06)",
        f"- @**Katherine Kinnaman|{kk}**",
        "  - A6: tell the conda-forge call (from 2024-11-06)",
    ]
    # "we will", a thing's future and a quotation are not action items.
    assert "decide at the next call" not in summary
    assert "announced on the blog" not in summary
    assert "said nobody" not in summary


def test_a_second_end_registers_nothing_twice(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("JRG", "add item Change time of this meeting?", BEFORE)
    chat.say("JRG", "start")
    chat.say("JRG", "here")  # "Jaime will ..." is read as Jaime's once the notes know a Jaime
    _write_by_hand(chat)
    meeting = chat.config.meetings[0]
    doc = NotesDocument.load(chat.notes_path())
    first = wrapup.register_written_actions(chat.service.store, meeting, DAY, doc)
    again = wrapup.register_written_actions(chat.service.store, meeting, DAY, doc)
    rows = chat.service.store.actions_of(meeting.key, DAY.isoformat())
    assert again == []
    assert [(r.owner, r.text) for r in rows] == [
        ("", "call the vote"),
        ("JRG", f"write up the [CEP summary]({CEP})"),
        ("JRG", "run a poll on Discourse."),  # the attendee the notes call Jaime
        ("Wolf", "collect the time zones of regulars"),
        ("Dasha", "collect the time zones of regulars"),
        ("KK", "tell the conda-forge call"),
    ]
    # What prose says is to be confirmed; labelled lines are not.
    confirm = {r.id for r in rows if r.text != "call the vote"}
    assert set(first) == confirm


def test_inferred_action_items_are_listed_under_their_own_heading() -> None:
    actions = (
        OpenAction(1, "", "(no owner)", "call the vote", "2024-11-06"),
        OpenAction(2, "JRG", "@**Jaime|7**", "write the summary", "2024-11-06"),
        OpenAction(3, "Wolf", "Wolf", "collect time zones", "2024-11-06"),
    )
    start = dt.datetime(2024, 11, 6, 17, tzinfo=dt.UTC)
    data = Summary("M 2024-11-06", start, (), 0, (), actions, (), "notes.md", None, (2, 3))
    text = "\n".join(messages.summary(data))
    confirmed, inferred = text.split("**Open action items**\n", 1)[1].split("\n\n**Read from")
    assert confirmed == "- (no owner)\n  - A1: call the vote (from 2024-11-06)"
    assert inferred.splitlines()[1:] == [
        "- @**Jaime|7**",
        "  - A2: write the summary (from 2024-11-06)",
        "- Wolf",
        "  - A3: collect time zones (from 2024-11-06)",
    ]
    everything_inferred = Summary("M", start, (), 0, (), actions[1:], (), "n.md", None, (2, 3))
    assert "**Open action items**\n- only those below\n" in "\n".join(
        messages.summary(everything_inferred)
    )


def test_an_item_that_reads_like_an_action_or_a_decision_stays_an_item(chat: Chat) -> None:
    """Adding `action: JRG will fix it` asks to talk about it: its line is never registered as
    an action (nor sent to its owner as one) or listed as a decision; what is written under it
    still is."""
    for text in (
        "add item action: JRG will fix it",
        "add item TODO: decide on the logo",
        "add item decided: we ship on Friday",
        "add item JRG to review the CEP",
    ):
        chat.say("JRG", text, BEFORE)
    chat.say("JRG", "start")
    chat.say("JRG", "next")
    chat.say("JRG", "decided we fix it this week")
    chat.say("JRG", "next")
    chat.say("JRG", "next")
    summary = chat.text("JRG", "end")
    rows = chat.service.store.actions_of(chat.config.meetings[0].key, DAY.isoformat())
    assert rows == []
    assert "**Open action items**\n- none 🎉" in summary
    discussed = summary.split("**Discussed**\n", 1)[1].split("\n\n", 1)[0]
    assert discussed.splitlines() == [
        "- JRG: action: JRG will fix it",
        "  - Decision: we fix it this week",
        "- JRG: TODO: decide on the logo",
        "- JRG: decided: we ship on Friday",
    ]
