"""Every command in the help, through the service: its happy path and the exact reply for each
way it can go wrong. Replies that come from the parser alone are in test_commands.py; these
are the ones that depend on the meeting, the notes and the store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.meeting.conftest import BEFORE, DAY, DURING, Chat, make_chat, unchanged
from zulip_bot.meeting import commands as c
from zulip_bot.meeting import messages
from zulip_bot.meeting.context import open_action
from zulip_bot.meeting.effects import Incoming, Sender
from zulip_bot.notes import NotesDocument

ONLY_ORGANIZERS = "Only organizers and co-chairs of Conda Community Meeting can do that."
NOT_STARTED = "The meeting has not started: an organizer starts it with `start`."
AGENDA = "New Agenda Items"


def items(chat: Chat, section: str = AGENDA) -> list[tuple[tuple[str, ...], str, bool | None]]:
    return [(i.owners, i.text, i.checked) for i in chat.draft().items(section)]


@pytest.fixture
def live(chat: Chat) -> Chat:
    """A running meeting with two items, item 1 open."""
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("JRG", "add item Change time of this meeting?", BEFORE)
    chat.say("JRG", "start")
    chat.say("JRG", "item 1")
    return chat


# --- add ----------------------------------------------------------------------------------


def test_add_items_announcements_and_intros(chat: Chat) -> None:
    assert chat.text("DG", "add item Zulip CEP") == (
        "Added item **1** to New Agenda Items: DG: Zulip CEP\n"
        "React with 👍 (or `vote 1`) to vote for it."
    )
    assert chat.text("BZ", "add announcement BZ/WV: CEP17 implemented in rattler-build").startswith(
        "Added item **2** to Announcements: BZ/WV: CEP17 implemented in rattler-build\n"
    )
    assert chat.text("SD", "add intro Hi, I'm Sam").startswith(
        "Added item **3** to Introductions: Hi, I'm Sam\n"  # written about the newcomer
    )
    assert items(chat) == [(("DG",), "Zulip CEP", False)]
    assert items(chat, "Announcements") == [
        (("BZ", "WV"), "CEP17 implemented in rattler-build", False)
    ]
    assert items(chat, "Introductions") == [((), "Hi, I'm Sam", False)]


def test_add_with_an_owner_not_in_the_roster_is_kept_with_a_note(chat: Chat) -> None:
    assert chat.text("DG", "add item DG/QQ: their topic") == (
        "Added item **1** to New Agenda Items: DG/QQ: their topic\n"
        "React with 👍 (or `vote 1`) to vote for it.\n"
        "Note: QQ is not in the roster; I kept it as written."
    )
    assert items(chat) == [(("DG", "QQ"), "their topic", False)]


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("<script>alert(1)</script>", "\\<script>alert(1)\\</script>"),
        # After the owner prefix none of these can start a block: they are written as typed.
        ("# heading\n- [x] a fake ticked item\n## Attendees",
         "# heading - [x] a fake ticked item ## Attendees"),
        ("| Evil | EV | row |", "| Evil | EV | row |"),
        ("- nested list", "- nested list"),
        ("```\ncode fence", "``` code fence"),
        ("[link]: https://example.org", "[link]: https://example.org"),
    ],
)  # fmt: skip
def test_add_markdown_and_html_cannot_break_the_notes(chat: Chat, text: str, stored: str) -> None:
    chat.say("JRG", "here")
    chat.say("DG", f"add item {text}")
    doc = chat.draft()
    assert [i.text for i in doc.items(AGENDA)] == [stored]
    assert [s.title for s in doc.sections()] == [
        "Attendees", "Introductions", "Announcements", AGENDA
    ]  # fmt: skip
    assert [a.initials for a in doc.attendees()] == ["JRG"]
    assert NotesDocument.parse(doc.render()).items(AGENDA)[0].text == stored


@pytest.mark.parametrize(
    "text", ["# heading", "- nested list", "```\ncode fence", "[link]: https://x.org", "[x] done"]
)
def test_an_ownerless_intro_cannot_break_the_notes_either(chat: Chat, text: str) -> None:
    chat.say("SD", f"add intro {text}")
    doc = chat.draft()
    (intro,) = doc.items("Introductions")
    assert (intro.owners, intro.checked) == ((), False)
    assert NotesDocument.parse(doc.render()).items("Introductions")[0].text == intro.text
    assert [s.title for s in doc.sections()] == [
        "Attendees",
        "Introductions",
        "Announcements",
        AGENDA,
    ]


def test_add_refuses_empty_and_overlong_text_and_changes_nothing(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP")
    unchanged(chat, "DG", "add item", "`add item` needs some text. Usage: `add item <text>`")
    unchanged(chat, "DG", "add item " + "x" * 2001,
              "That text is 2,001 characters long; the limit is 2,000.")  # fmt: skip


# --- edit and withdraw --------------------------------------------------------------------


def test_edit_your_own_item(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP")
    assert chat.text("DG", "edit 1 Zulip CEP: vote now") == "Item 1 now reads: Zulip CEP: vote now"
    assert items(chat) == [(("DG",), "Zulip CEP: vote now", False)]


def test_edit_refusals(chat: Chat) -> None:
    unchanged(chat, "DG", "edit 1 x", "There is no item 1; the agenda is empty.")
    chat.say("DG", "add item Zulip CEP")
    chat.say("DG", "add item Second")
    chat.say("DG", "withdraw 2")
    unchanged(chat, "DG", "edit 9 x", "There is no item 9; the agenda has items 1 to 2.")
    unchanged(chat, "DG", "edit 2 x", "Item 2 was withdrawn.")
    unchanged(
        chat,
        "WV",
        "edit 1 x",
        "Only the owners of item 1, the person who added it, or an organizer can edit it.",
    )
    assert chat.text("JRG", "edit 1 Zulip CEP (organizer's edit)").startswith("Item 1 now reads")


def test_withdraw_keeps_numbers_stable(chat: Chat) -> None:
    chat.say("DG", "add item one")
    chat.say("DG", "add item two")
    assert chat.text("DG", "withdraw 1") == "Withdrew item 1: one"
    assert chat.text("DG", "add item three").startswith("Added item **3**")
    assert items(chat) == [(("DG",), "two", False), (("DG",), "three", False)]
    unchanged(chat, "DG", "withdraw 1", "Item 1 was already withdrawn.")
    unchanged(chat, "DG", "vote 1", "Item 1 was withdrawn.")
    unchanged(chat, "WV", "withdraw 2",
              "Only the owners of item 2, the person who added it, or an organizer "
                 "can withdraw it.")  # fmt: skip


def test_items_typed_into_the_file_by_hand_get_numbers(chat: Chat) -> None:
    chat.say("DG", "add item from chat")
    path = chat.notes_path()
    path.write_text(path.read_text(encoding="utf-8") + "- [ ] KK: typed by hand\n", "utf-8")
    agenda = chat.text("KK", "agenda")
    assert "| 2 | typed by hand | KK | 0 |" in agenda
    assert chat.text("KK", "vote 2") == "Voted for item 2; it has 1 vote."
    assert chat.text("KK", "withdraw 2") == "Withdrew item 2: typed by hand"  # KK owns it


# --- votes --------------------------------------------------------------------------------


def test_vote_and_unvote(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP")
    assert chat.text("WV", "vote 1") == "Voted for item 1; it has 1 vote."
    assert chat.text("JK", "vote 1") == "Voted for item 1; it has 2 votes."
    unchanged(chat, "WV", "vote 1", "You already voted for item 1.")
    assert chat.text("WV", "unvote 1") == "Took back your vote for item 1; it has 1 vote."
    unchanged(chat, "WV", "unvote 1", "You had not voted for item 1.")
    unchanged(chat, "WV", "vote 5", "There is no item 5; the agenda has items 1 to 1.")
    unchanged(chat, "WV", "unvote 5", "There is no item 5; the agenda has items 1 to 1.")


def test_a_thumbs_up_on_the_add_reply_is_a_vote_and_removing_it_unvotes(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP")
    reply_id = chat.sent[f"item:community:{DAY}:1"]
    chat.react("WV", reply_id)
    chat.react("WV", reply_id)  # a second 👍 from the same person (another event) counts once
    chat.react("JK", reply_id)
    assert "| 1 | Zulip CEP | DG | 2 | (10) |" in chat.text("DG", "agenda")
    chat.react("JK", reply_id, added=False)
    assert "| 1 | Zulip CEP | DG | 1 |" in chat.text("DG", "agenda")
    unchanged(chat, "WV", "vote 1", "You already voted for item 1.")  # 👍 and `vote` are one


def test_agenda_is_ordered_by_votes_then_submission(chat: Chat) -> None:
    assert chat.text("DG", "agenda") == (
        "**Conda Community Meeting, <time:2024-11-06T17:00:00Z>**: the agenda is empty. "
        "Add to it with `add item <text>`."
    )
    chat.say("DG", "add item first")
    chat.say("JK", "add item second | with a pipe")
    chat.say("WV", "vote 2")
    assert chat.text("DG", "agenda") == (
        "**Conda Community Meeting, <time:2024-11-06T17:00:00Z>**\n\n"
        "| # | item | owner | votes | min |\n| ---: | --- | --- | ---: | ---: |\n"
        "| 2 | second \\| with a pipe | JK | 1 | (10) |\n"
        "| 1 | first | DG | 0 | (10) |\n\n"
        "Planned: 20 of the meeting's 60 min (in brackets: no time given, so the meeting's "
        "default).\nVote with `vote <n>` or a 👍 on the item's message."
    )


# --- polls --------------------------------------------------------------------------------


def test_poll_posts_a_native_poll_and_close_poll_writes_the_result(live: Chat) -> None:
    (poll,) = live.say("DG", 'poll "Which time?" "17 UTC" "14 UTC"')
    assert (poll.content, poll.stream, poll.ref) == (
        "/poll Which time?\n17 UTC\n14 UTC", "community", "poll:1"
    )  # fmt: skip
    unchanged(live, "DG", 'poll "Another?" "a" "b"',
              "A poll is already open; `close poll` closes it first.")  # fmt: skip
    message = live.sent["poll:1"]
    live.ballot("DG", message, 0)
    live.ballot("WV", message, 1)
    live.ballot("SD", message, 1)
    live.ballot("WV", message, 7)  # an option that does not exist is not counted
    unchanged(live, "DG", "close poll", ONLY_ORGANIZERS)
    assert live.text("JRG", "close poll") == (
        "Poll closed. Poll: Which time? 17 UTC: 1 (DG); 14 UTC: 2 (WV, SD)"
    )
    item = live.draft().items(AGENDA)[0]
    assert [c.text for c in item.children] == [
        "Poll: Which time? 17 UTC: 1 (DG); 14 UTC: 2 (WV, SD)"
    ]
    unchanged(live, "JRG", "close poll", "There is no open poll.")


def test_a_formal_vote_counts_only_the_group_and_says_whether_it_passed(live: Chat) -> None:
    unchanged(live, "JRG", 'poll "Q" "yes" "no" voters=nobody',
              "There is no roster group `nobody` (groups: steering-council).")  # fmt: skip
    live.say("JRG", 'poll "Accept CEP 92?" "yes" "no" quorum=3 voters=steering-council')
    message = live.sent["poll:1"]
    for who, option in [("JRG", 0), ("CHL", 0), ("JK", 1), ("DG", 0), ("FF", 0)]:
        live.ballot(who, message, option)
    assert live.text("JRG", "close poll") == (
        "Poll closed. Poll: Accept CEP 92? yes: 3 (JRG, CHL, FF); no: 1 (JK). "
        "Vote passed (4 voted, quorum 3)"
    )
    live.say("JRG", 'poll "Again?" "yes" "no" quorum=5 voters=steering-council')
    live.ballot("JRG", live.sent["poll:2"], 0)
    assert live.text("JRG", "close poll").endswith("Vote did not pass (1 voted, quorum 5)")


def test_a_poll_still_open_at_the_end_is_closed_into_the_notes(live: Chat) -> None:
    live.say("JRG", 'poll "Lunch?" "pizza" "sushi"')
    live.ballot("KK", live.sent["poll:1"], 1)
    assert "  - Poll: Lunch? pizza: 0; sushi: 1 (KK)" in live.text("JRG", "end")


# --- attendance and people ----------------------------------------------------------------


def test_here_adds_a_row_and_counts_heads(chat: Chat) -> None:
    assert chat.text("DG", "here") == "Welcome, Dasha Gurova (DG)! 1 person here so far."
    assert chat.text("SD", "here") == "Welcome, Sam Doe (SD)! 2 people here so far."
    unchanged(chat, "DG", "here", "Dasha Gurova is already on the attendee list.")
    doc = chat.draft()
    assert [(a.name, a.initials, a.affiliation, a.github) for a in doc.attendees()] == [
        ("Dasha Gurova", "DG", "Anaconda", "dashagurova"),
        ("Sam Doe", "SD", "", ""),
    ]
    assert doc.head_count == 2


def test_strangers_get_unique_initials_and_can_fix_them_with_iam(chat: Chat) -> None:
    chat.senders["SD2"] = chat.senders["SD"].__class__("sally@example.net", "Sally Dee", 950)
    chat.say("SD", "here")
    assert chat.text("SD2", "here") == "Welcome, Sally Dee (SDE)! 2 people here so far."
    assert chat.text("SD2", "iam SLD Example Org @sallyd") == (
        "Noted: Sally Dee is SLD, Example Org, @sallyd."
    )
    assert chat.text("SD2", "add item mine").startswith(
        "Added item **1** to New Agenda Items: SLD:"
    )
    unchanged(
        chat,
        "SD2",
        "iam JRG",
        "The initials `JRG` are taken by someone else; pick others.",
    )


def test_chair_makes_a_co_chair(chat: Chat) -> None:
    unchanged(chat, "DG", "start", ONLY_ORGANIZERS)
    unchanged(chat, "JRG", "chair @**Sam Doe**", "I don't know Sam Doe yet: they can say "
              "something to me first, or be added to the roster.")  # fmt: skip
    assert chat.text("JRG", "chair @**Dasha Gurova**") == (
        "Dasha Gurova is now a co-chair of Conda Community Meeting."
    )
    assert chat.text("DG", "start").startswith("Conda Community Meeting has started.")
    chat.say("SD", "here")  # now the bot knows Sam, by name and by Zulip id
    sam = chat.senders["SD"].user_id
    assert chat.text("JRG", f"chair @**Sam Doe|{sam}**") == (
        "Sam Doe is now a co-chair of Conda Community Meeting."
    )
    assert chat.text("SD", "next") == "Every item has been discussed; `end` ends the meeting."


# --- the live meeting ---------------------------------------------------------------------


def test_start_orders_by_votes_and_refuses_twice(chat: Chat) -> None:
    chat.say("DG", "add item fewer votes")
    chat.say("JK", "add item more votes")
    chat.say("WV", "vote 2")
    assert chat.text("JRG", "start") == (
        "Conda Community Meeting has started. The agenda is now ordered by votes. "
        "`next` opens the first item. In the order we take it:\n\n"
        "| # | item | owner | votes | min |\n| ---: | --- | --- | ---: | ---: |\n"
        "| 2 | more votes | JK | 1 | (10) |\n| 1 | fewer votes | DG | 0 | (10) |"
    )
    assert [text for _, text, _ in items(chat)] == ["more votes", "fewer votes"]
    unchanged(chat, "JRG", "start", "The meeting is already running.")
    chat.say("JRG", "end")
    unchanged(chat, "JRG", "start", "The next Conda Community Meeting is "
              "<time:2024-11-20T17:00:00Z>; `start` works from 60 minutes before it.")  # fmt: skip


def test_start_keeps_the_written_order_when_the_meeting_says_so(tmp_path: Path) -> None:
    chat = make_chat(tmp_path, ("order_by_votes = true", "order_by_votes = false"))
    chat.say("DG", "add item first")
    chat.say("JK", "add item second")
    chat.say("WV", "vote 2")
    assert chat.text("JRG", "start") == (
        "Conda Community Meeting has started. `next` opens the first item. In the order we "
        "take it:\n\n| # | item | owner | votes | min |\n| ---: | --- | --- | ---: | ---: |\n"
        "| 1 | first | DG | 0 | (10) |\n| 2 | second | JK | 1 | (10) |"
    )
    assert [text for _, text, _ in items(chat)] == ["first", "second"]


def test_next_and_item_move_through_the_agenda(chat: Chat) -> None:
    chat.say("DG", "add item one")
    chat.say("JK", "add item two")
    chat.say("BZ", "add announcement news")
    unchanged(chat, "JRG", "next", NOT_STARTED)
    chat.say("JRG", "start")
    unchanged(chat, "DG", "next", ONLY_ORGANIZERS)
    assert chat.text("JRG", "next") == "Now on item 3: BZ: news"  # announcements come first
    assert chat.text("JRG", "item 2") == "Now on item 2: JK: two"
    assert chat.text("JRG", "next") == "Now on item 1: DG: one"  # wraps round to what is left
    unchanged(chat, "JRG", "next", "Every item has been discussed; `end` ends the meeting.")
    unchanged(chat, "JRG", "item 7", "There is no item 7; the agenda has items 1 to 3.")
    assert [checked for _, _, checked in items(chat)] == [True, True]


def test_note_decided_and_action_go_under_the_current_item(live: Chat) -> None:
    assert live.text("DG", "note conda-forge already moved") == "Noted under item 1."
    assert live.text("DG", "decided we vote next week") == "Decision recorded under item 1."
    assert live.text("DG", "decided Consensus: try it") == "Decision recorded under item 1."
    assert live.text("DG", "action DG call the vote") == "Action item A1 recorded under item 1."
    assert live.text("DG", "action BZ/WV write it up") == (
        "Action items A2, A3 recorded under item 1."
    )
    assert live.text("DG", "action @**Jaime Rodríguez-Guerra** review") == (
        "Action item A4 recorded under item 1."
    )
    assert live.text("DG", "action follow up") == (
        "Action item A5 recorded under item 1. It has no owner: say `action XX <text>` to give one."
    )
    assert live.text("DG", "action QQ ask around") == (
        "Action item A6 recorded under item 1.\n"
        "Note: QQ is not in the roster; I kept it as written."
    )
    item = live.draft().items(AGENDA)[0]
    assert [c.text for c in item.children] == [
        "conda-forge already moved",
        "Decision: we vote next week",
        "Consensus: try it",
        "Action item: DG to call the vote",
        "Action item: BZ/WV to write it up",
        "Action item: JRG to review",
        "Action item: follow up",
        "Action item: QQ to ask around",
    ]
    doc = live.draft()
    assert [(a.owners, a.text) for a in doc.action_items()][:2] == [
        (("DG",), "DG to call the vote"), (("BZ", "WV"), "BZ/WV to write it up")
    ]  # fmt: skip
    assert [d.text for d in doc.decisions()] == ["Decision: we vote next week", "Consensus: try it"]


def test_live_commands_before_the_start_or_without_an_open_item(chat: Chat) -> None:
    chat.say("DG", "add item one")
    for text in ("note x", "decided x", "action DG x", "end"):
        unchanged(chat, "JRG", text, NOT_STARTED)
    chat.say("JRG", "start")
    unchanged(chat, "DG", "note x",
              "No item is open yet: an organizer opens one with `next` or `item <n>`.")  # fmt: skip


def test_undo_takes_back_your_last_addition(live: Chat) -> None:
    live.say("DG", "note first")
    live.say("DG", "action DG do it")
    live.say("WV", "note by someone else")
    assert live.text("DG", "undo") == "Removed your action item A1 under item 1."
    assert live.text("DG", "undo") == "Removed your note under item 1."
    notes = live.notes_path().read_bytes()
    assert live.text("DG", "undo") == (
        "Item 1 has been discussed or has notes under it now, so I left it (`withdraw 1` takes "
        "it off the agenda). I have skipped that step: `undo` again goes on to the one before it."
    )
    assert live.notes_path().read_bytes() == notes
    unchanged(live, "DG", "undo", "You have added nothing in this meeting that I can undo.")
    assert [c.text for c in live.draft().items(AGENDA)[0].children] == ["by someone else"]
    assert live.text("DG", "actions") == (
        "Open action items of Conda Community Meeting: none open. 🎉"
    )
    live.say("KK", "add item late addition")
    assert live.text("KK", "undo") == "Removed item 3."
    unchanged(live, "KK", "undo", "You have added nothing in this meeting that I can undo.")


def test_end_posts_the_summary_and_writes_the_next_draft(live: Chat) -> None:
    live.say("DG", "here")
    live.say("DG", "decided we vote")
    live.say("DG", "action JRG create proposal PR")
    replies = live.say("JRG", "end")
    assert [(r.stream, r.topic) for r in replies] == [
        ("community", "2024-11-06 Conda Community Meeting")
    ]
    jaime = live.senders["JRG"].user_id
    assert replies[0].content.startswith(
        "## Summary: Conda Community Meeting 2024-11-06\n"
        f"Held <time:2024-11-06T17:00:00Z>, notes in `{live.notes_path().name}`.\n\n"
        "**Attendees** (1): Dasha Gurova\n\n"
        "**Discussed**\n- DG: Zulip CEP\n  - Decision: we vote\n\n"
        f"**Open action items**\n- @**Jaime Rodríguez-Guerra|{jaime}**\n"
        "  - A1: create proposal PR (from 2024-11-06)\n\n"
        "**Carried over** to the next meeting (1):\n- Change time of this meeting?\n\n"
    )
    following = live.draft(dt.date(2024, 11, 20))
    assert [(i.owners, i.text) for i in following.items("From previous meetings")] == [
        (("JRG",), "Change time of this meeting?")
    ]
    assert [i.text for i in following.items("Open action items")] == [
        "A1: JRG to create proposal PR (2024-11-06)"
    ]


def test_action_items_written_by_hand_join_the_registry_and_ticking_one_closes_it(
    live: Chat,
) -> None:
    path = live.notes_path()
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "- [x] DG: Zulip CEP\n", "- [x] DG: Zulip CEP\n    - WV to check the mirrors\n"
        ),
        encoding="utf-8",
    )
    live.say("JRG", "end")
    assert "A1: check the mirrors" in live.text("WV", "actions mine")
    following = live.notes_path(dt.date(2024, 11, 20))
    following.write_text(
        following.read_text(encoding="utf-8").replace("- [ ] A1:", "- [x] A1:"), "utf-8"
    )
    day2 = dt.datetime(2024, 11, 20, 17, 5, tzinfo=dt.UTC)
    live.say("JRG", "start", day2)
    live.say("JRG", "end", day2)
    assert live.text("WV", "actions mine", day2) == "Open action items of WV: none open. 🎉"


# --- across meetings ----------------------------------------------------------------------


def test_actions_lists_open_ones_by_owner(live: Chat) -> None:
    live.say("DG", "action WV check mirrors")
    live.say("DG", "action DG call the vote")
    wolf, dasha = live.senders["WV"].user_id, live.senders["DG"].user_id
    # the owners are named silently: asking for the list pings nobody (the summary does)
    assert live.text("WV", "actions") == (
        "**Open action items of Conda Community Meeting** (2 open; close one with `done A<n>`)\n\n"
        "- @_**Wolf Vollprecht**\n  - A1: check mirrors (from 2024-11-06)\n"
        f"- @_**Dasha Gurova|{dasha}**\n  - A2: call the vote (from 2024-11-06)"
    ).replace("@_**Wolf Vollprecht**", f"@_**Wolf Vollprecht|{wolf}**")
    assert live.text("WV", "actions mine").startswith("**Open action items of WV** (1 open;")
    assert "A2: call the vote" in live.text("WV", "actions @**Dasha Gurova**")


def test_done_closes_an_action_item(live: Chat) -> None:
    live.say("DG", "action WV check mirrors")
    unchanged(live, "WV", "done A9", "There is no action item A9; `actions` lists the open ones.")
    unchanged(live, "DG", "done A1", "A1 belongs to WV; they or an organizer can close it.")
    assert live.text("WV", "done A1") == "Closed A1: check mirrors"
    unchanged(live, "WV", "done A1", "A1 is already done.")


# --- information --------------------------------------------------------------------------


def test_notes_says_where_the_draft_is(chat: Chat) -> None:
    chat.say("DG", "add item one")
    assert chat.text("DG", "notes") == (
        "The notes draft for <time:2024-11-06T17:00:00Z> is "
        f"`{chat.notes_path().name}` (1 agenda item)."
    )


def test_next_meeting_gives_the_time_and_link(chat: Chat) -> None:
    assert chat.text("DG", "next meeting", BEFORE) == (
        "The next Conda Community Meeting is <time:2024-11-06T17:00:00Z>. "
        "Video: https://zoom.us/j/9138593505"
    )


def test_help_lists_topics_and_explains_one_topic_or_command(chat: Chat) -> None:
    assert chat.text("DG", "help") == c.overview()
    assert (
        "- **calendar** (when meetings happen): `next meeting`, `schedule`, `skip`" in c.overview()
    )
    assert chat.text("DG", "help calendar").splitlines()[3].startswith("- `skip <date> [reason]`")
    assert chat.text("DG", "help vote") == (
        "`vote <n>`: vote for item n (a 👍 on its message works too)"
    )


def test_commands_in_direct_messages(chat: Chat) -> None:
    def dm(text: str) -> list[str]:
        number = next(dm_ids)
        message = Incoming(f"dm{number}", number, chat.senders["DG"], text)
        replies = chat.service.handle_message(message, BEFORE)
        assert all((r.to, r.stream) == ("dashagurova@example.org", None) for r in replies)
        return [r.content for r in replies]

    dm_ids = iter(range(1, 100))
    assert dm("vote 1") == [
        "`vote` belongs to a meeting: send it in the meeting's stream "
        "(#**community**, #**packaging**), or name the meeting first in a direct message, "
        "like `community vote`."
    ]
    assert dm("help notes")[0].startswith("`notes`")  # needs no meeting
    assert dm("community add item Zulip CEP")[0].startswith("Added item **1** to New Agenda")
    assert dm("#**community** vote 1") == ["Voted for item 1; it has 1 vote."]
    assert "| 1 | Zulip CEP | DG | 1 |" in dm("#community agenda")[0]
    assert dm("packaging agenda")[0].startswith("**Packaging Sync, <time:")
    assert items(chat) == [(("DG",), "Zulip CEP", False)]


def test_a_redelivered_event_is_answered_once(chat: Chat) -> None:
    message = Incoming("same", 1, chat.senders["DG"], "add item once", "community", "t")
    assert chat.service.handle_message(message, BEFORE)
    assert chat.service.handle_message(message, BEFORE) == []
    assert len(items(chat)) == 1


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"# Notes\n\n\xff\xfe broken\n",
         "I cannot read the notes draft: {path}:3: not UTF-8 text"),
        (b"---\ntags: [meeting-notes]\n# no closing fence\n\n## New Agenda Items\n",
         "The notes draft `{path}` has a problem on line 1: front matter opened with `---` is "
         "never closed."),
        (b"", "The notes draft `{path}` has a problem on line 1: the file is empty."),
    ],
)  # fmt: skip
def test_a_malformed_draft_is_reported_and_never_overwritten(
    chat: Chat, content: bytes, problem: str
) -> None:
    path = chat.notes_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    for text in ("add item Zulip CEP", "here", "agenda"):
        reply = chat.text("DG", text)
        assert reply.startswith(problem.format(path=path.name)), reply
        assert reply.endswith("I have not changed it; fix it by hand, then send the command again.")
    assert path.read_bytes() == content
    assert chat.text("DG", "help vote").startswith("`vote <n>`")  # what needs no draft still works


def test_a_hand_edit_saved_at_the_same_moment_is_kept_and_the_command_redone(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat.say("DG", "add item Zulip CEP")
    path = chat.notes_path()
    real_save = NotesDocument.save
    edits = iter(["- [ ] JK: typed by hand while the bot was busy\n"])

    def racing_save(doc: NotesDocument, target: Path | None = None) -> None:
        for line in edits:  # only the first save races with a person
            path.write_text(path.read_text(encoding="utf-8") + line, encoding="utf-8")
        real_save(doc, target)

    monkeypatch.setattr(NotesDocument, "save", racing_save)
    assert chat.text("WV", "add item rattler-build").startswith("Added item **3**")
    assert [text for _, text, _ in items(chat)] == [
        "Zulip CEP", "typed by hand while the bot was busy", "rattler-build"
    ]  # fmt: skip


def test_initials_for_any_name_read_back_as_owners_in_the_notes(chat: Chat) -> None:
    people = [
        ("cher@example.net", "Cher", "CH"),  # one word: its first two letters
        ("emile@example.net", "Émile Zola", "EZ"),  # accents dropped
        ("elodie@example.net", "Élodie Zoé", "EZO"),  # a clash: a third letter
        ("li@example.net", "李小龙", "LI"),  # no Latin letters: from the email
        ("carl@example.net", "Carl Ivers", "CIV"),  # CI is a label in the notes, not initials
    ]
    for number, (email, name, initials) in enumerate(people, start=1):
        chat.senders[initials] = Sender(email, name, 800 + number)
        assert chat.text(initials, f"add item topic {number}").startswith(
            f"Added item **{number}** to New Agenda Items: {initials}: topic {number}\n"
        )
    assert [i.owners for i in chat.draft().items(AGENDA)] == [(i,) for _, _, i in people]
    assert "| 5 | topic 5 | CIV | 0 |" in chat.text("CH", "agenda")  # numbers held: no re-match
    unchanged(chat, "LI", "iam EZ", "The initials `EZ` are taken by someone else; pick others.")


def test_an_item_reworded_by_hand_keeps_its_number_and_votes(live: Chat) -> None:
    live.say("WV", "vote 2")
    path = live.notes_path()
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("Zulip CEP", "Zulip CEP (vote opens Friday)").replace(
            "Change time of this meeting?", "Change the time of this meeting?"
        ),
        encoding="utf-8",
    )
    assert live.text("DG", "note still item 1") == "Noted under item 1."
    assert "| 2 | Change the time of this meeting? | JRG | 1 |" in live.text("DG", "agenda")
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "JRG: Change the time of this meeting?", "KK: Something else entirely"
        ),
        encoding="utf-8",
    )
    assert "| 3 | Something else entirely | KK | 0 |" in live.text("DG", "agenda")
    assert live.text("DG", "vote 2") == (  # unrelated words are another item: 2 is missing
        "Item 2 is not in the notes draft now: its line was removed by hand. It keeps its "
        "number and votes and comes back when its line does; `withdraw 2` takes it off for good."
    )


def test_after_the_end_chat_is_about_the_next_meeting(live: Chat) -> None:
    live.say("JRG", "withdraw 1")
    unchanged(live, "DG", "note too late", "Item 1, the one open, is no longer on the agenda: an "
              "organizer opens another with `next` or `item <n>`.")  # fmt: skip
    live.say("JRG", "end")
    assert live.text("DG", "add item for next time").startswith("Added item **2** to New Agenda")
    assert live.text("DG", "agenda").startswith(
        "**Conda Community Meeting, <time:2024-11-20T17:00:00Z>**"
    )
    following = live.draft(dt.date(2024, 11, 20))
    assert [i.text for i in following.items("From previous meetings")] == [
        "Change time of this meeting?"  # carried over, numbered 1 in the new meeting
    ]
    assert [i.text for i in following.items(AGENDA)] == ["for next time"]
    assert "for next time" not in live.notes_path().read_text(encoding="utf-8")
    ended = (
        "The Conda Community Meeting of 2024-11-06 ended at <time:2024-11-06T17:05:00Z>; its "
        "summary is in #**community>2024-11-06 Conda Community Meeting**. The next one is "
        "<time:2024-11-20T17:00:00Z>; an organizer starts it with `start`."
    )
    unchanged(live, "JRG", "end", ended)
    unchanged(live, "DG", "note one more thing", ended)


def test_the_meeting_ends_even_when_the_next_draft_cannot_be_written(live: Chat) -> None:
    live.say("DG", 'poll "Lunch?" "pizza" "sushi"')
    live.say("JRG", "withdraw 1")  # the item the poll was about: crossed out, kept
    following = live.notes_path(dt.date(2024, 11, 20))
    following.write_bytes(b"---\nbroken: [\n---\n# hand-made\n")
    summary = live.text("JRG", "end")
    assert "- [x] DG: ~~Zulip CEP~~\n    - Poll: Lunch? pizza: 0; sushi: 0\n" in (
        live.notes_path().read_text("utf-8")
    )
    assert "**Discussed**\n- DG: ~~Zulip CEP~~\n  - Poll: Lunch? pizza: 0; sushi: 0\n" in summary
    assert f"Next draft: not written, because {following.name}" in summary
    assert following.read_bytes() == b"---\nbroken: [\n---\n# hand-made\n"
    assert live.text("DG", "agenda").startswith(  # chat now about that meeting: it says why
        f"The notes draft `{following.name}` has a problem on line 3: front matter is not valid "
        "YAML: while parsing a flow node did not find expected node content"
    )


def test_each_meeting_keeps_its_own_action_items(live: Chat) -> None:
    live.say("DG", "action WV check the mirrors")
    packaging = Incoming("pk1", 1, live.senders["WV"], "action WV cut the release", "packaging",
                         "2024-11-05 packaging sync")  # fmt: skip
    start = Incoming(
        "pk0", 2, live.senders["WV"], "start", "packaging", "2024-11-05 packaging sync"
    )
    item = Incoming("pk2", 3, live.senders["WV"], "add item release", "packaging", "x")
    open_item = Incoming("pk3", 4, live.senders["WV"], "next", "packaging", "x")
    when = dt.datetime(2024, 11, 5, 15, 10, tzinfo=dt.UTC)  # 16:10 in Berlin
    for message in (item, start, open_item, packaging):
        live.service.handle_message(message, when)
    assert "A1: check the mirrors" in live.text("DG", "actions")
    assert "cut the release" not in live.text("DG", "actions")  # the community stream's list
    mine = live.text("WV", "actions mine")  # a person's list spans meetings
    assert "A1: check the mirrors" in mine and "A2: cut the release" in mine
    summary = live.text("JRG", "end")
    assert "check the mirrors" in summary and "cut the release" not in summary


def test_a_new_draft_is_headed_with_its_own_meetings_title_and_link(tmp_path: Path) -> None:
    chat = make_chat(
        tmp_path, ('title = "Conda Community Meeting"', 'title = "Real Cycle Meeting"')
    )
    chat.say("JRG", "add item Zulip CEP", BEFORE)
    draft = chat.draft()
    assert draft.title == "2024-11-06 Real Cycle Meeting"
    assert "Conda Community Meeting" not in draft.render()
    assert chat.config.meetings[0].video_link in draft.render()


def test_actions_read_from_prose_say_they_are_to_confirm_wherever_they_are_listed(
    tmp_path: Path,
) -> None:
    """An action the import (or `end`) read from prose is listed as one to confirm, in
    `actions` and in its owner's reminder, not as a task someone labelled."""
    chat = make_chat(tmp_path)
    store = chat.service.store
    store.add_action("community", "2024-10-23", "", "JRG", "write the blog post", 12, True)
    store.add_action("community", "2024-10-23", "", "JRG", "open the CEP", 13)
    listed = chat.text("JRG", "actions mine", BEFORE)
    assert "A1: write the blog post (from 2024-10-23, to confirm)" in listed
    assert "A2: open the CEP (from 2024-10-23)" in listed
    reminder = messages.owner_reminder(
        "Conda Community Meeting",
        DURING,
        [open_action(chat.service.people, row) for row in store.open_actions("JRG")],
    )
    assert "- A1: write the blog post (from 2024-10-23, to confirm)" in reminder
    assert "- A2: open the CEP (from 2024-10-23)" in reminder
