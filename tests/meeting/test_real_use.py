"""What broke when the service was used as new and hostile users would (issue "The meeting
service under real use"): each numbered case there, through the public service."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.meeting.conftest import BEFORE, Chat, make_chat, store_dump, unchanged
from zulip_bot.config import load_config
from zulip_bot.meeting.effects import Incoming, Sender
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store

AGENDA = "New Agenda Items"
NEXT_DAY = dt.date(2024, 11, 20)
AFTER = dt.datetime(2024, 11, 7, 9, 0, tzinfo=dt.UTC)  # the day after the 2024-11-06 meeting


def _discussed(chat: Chat) -> Chat:
    """Dasha's item 1, opened by the organizer, with a note, a decision and an action item."""
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("DG", "add item Second topic", BEFORE)
    chat.say("JRG", "start")
    assert chat.text("JRG", "item 1") == "Now on item 1: DG: Zulip CEP"
    chat.say("JRG", "note JK: we should try it")
    chat.say("JRG", "decided use Zulip for a month")
    assert chat.text("JRG", "action DG draft the CEP") == "Action item A1 recorded under item 1."
    return chat


# --- 1. withdrawing a discussed item ---------------------------------------------------------


def test_the_owner_cannot_withdraw_a_discussed_item(chat: Chat) -> None:
    _discussed(chat)
    unchanged(chat, "DG", "withdraw 1", "Item 1 has been discussed or has notes under it that "
              "others wrote, so I kept it; an organizer can still `withdraw` it, which crosses it "
              "out and keeps what was written under it.")  # fmt: skip


def test_an_organizer_crosses_a_discussed_item_out_and_keeps_its_discussion(chat: Chat) -> None:
    _discussed(chat)
    before = chat.draft().items(AGENDA)[0].children
    assert chat.text("JRG", "withdraw 1") == (
        "Crossed out item 1: Zulip CEP. What was written under it stays."
    )
    (item, _) = chat.draft().items(AGENDA)
    assert (item.owners, item.text, item.children) == (("DG",), "~~Zulip CEP~~", before)
    assert chat.text("DG", "vote 1") == "Item 1 was withdrawn."
    assert "| 1 |" not in chat.text("DG", "agenda")
    summary = chat.text("JRG", "end")
    assert "**Discussed**\n- DG: ~~Zulip CEP~~\n  - Decision: use Zulip for a month" in summary
    assert "A1: draft the CEP" in summary  # the action item still stands, and still open
    assert "Zulip CEP" not in chat.draft(NEXT_DAY).render()  # neither carried over


def test_an_item_with_only_its_owners_details_can_still_be_withdrawn(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    assert chat.text("DG", "note #1 https://example.org/cep", BEFORE) == "Added under item 1."
    assert chat.text("DG", "withdraw 1", BEFORE) == "Withdrew item 1: Zulip CEP"
    assert chat.draft().items(AGENDA) == []


def test_a_note_by_someone_else_before_the_meeting_makes_it_the_organizers_call(
    chat: Chat,
) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    assert chat.text("JRG", "note #1 context from the organizer", BEFORE) == "Added under item 1."
    assert chat.text("DG", "withdraw 1", BEFORE).startswith("Item 1 has been discussed or has")


# --- 2. actions whose task starts with a capital -----------------------------------------------


@pytest.mark.parametrize(
    "task", ["Review the CEP draft", "3 reviewers to sign off", "`conda` docs", "Élan vital"]
)
def test_an_action_is_registered_once_whatever_its_first_character(chat: Chat, task: str) -> None:
    _discussed(chat)
    assert chat.text("JRG", f"action WV {task}") == "Action item A2 recorded under item 1."
    summary = chat.text("JRG", "end")
    assert "(no owner)" not in summary
    assert summary.count(task) == 1
    assert [a.text for a in chat.service.store.open_actions()] == ["draft the CEP", task]


# --- 3. hand edits that come and go ---------------------------------------------------------


def _votes(chat: Chat) -> str:
    return chat.text("DG", "agenda", BEFORE)


def test_an_item_cut_and_pasted_back_keeps_its_number_and_votes(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("WV", "add item Sharded repodata", BEFORE)
    chat.say("JK", "vote 2", BEFORE)
    path = chat.notes_path()
    text = path.read_text(encoding="utf-8")
    line = "- [ ] WV: Sharded repodata\n"
    path.write_text(text.replace(line, ""), encoding="utf-8")
    agenda = _votes(chat)
    assert "Sharded repodata" not in agenda.split("\n\n")[1]
    assert "item 2 (WV: Sharded repodata)" in agenda
    assert chat.text("JK", "vote 2", BEFORE).startswith("Item 2 is not in the notes draft now")
    path.write_text(text, encoding="utf-8")
    assert "| 2 | Sharded repodata | WV | 1 |" in _votes(chat)


def test_a_renamed_section_and_a_deleted_file_are_reported_not_withdrawn(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("JK", "vote 1", BEFORE)
    path = chat.notes_path()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("## New Agenda Items", "## Agenda"), encoding="utf-8")
    assert "the section New Agenda Items is gone" in chat.text("JK", "vote 1", BEFORE)
    path.write_text(text, encoding="utf-8")
    assert "| 1 | Zulip CEP | DG | 1 |" in _votes(chat)
    path.unlink()
    reply = chat.text("DG", "add item Another", BEFORE)
    assert reply.startswith(f"The notes draft `{path.name}` is missing, but it held item 1")
    assert not path.exists()
    path.write_text(text, encoding="utf-8")
    assert "| 1 | Zulip CEP | DG | 1 |" in _votes(chat)


def test_an_item_moved_to_another_section_keeps_its_number(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("JK", "vote 1", BEFORE)
    path = chat.notes_path()
    text = path.read_text(encoding="utf-8").replace("- [ ] DG: Zulip CEP\n", "")
    path.write_text(
        text.replace("## Announcements\n\n- [ ]", "## Announcements\n\n- [ ] DG: Zulip CEP")
    )
    assert "| 1 | Zulip CEP | DG | 1 |" in _votes(chat)


def test_new_words_on_an_old_line_are_a_new_item(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("JK", "vote 1", BEFORE)
    path = chat.notes_path()
    path.write_text(path.read_text("utf-8").replace("Zulip CEP", "Lunch options for the sprint"))
    agenda = _votes(chat)
    assert "| 2 | Lunch options for the sprint | DG | 0 |" in agenda
    assert "item 1 (DG: Zulip CEP)" in agenda  # missing, votes kept


# --- 4. a meeting that is not started on time --------------------------------------------------


def test_a_meeting_started_late_keeps_its_agenda_and_votes(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("JK", "vote 1", BEFORE)
    late = dt.datetime(2024, 11, 6, 19, 30, tzinfo=dt.UTC)  # the meeting was 17:00 to 18:00
    assert "| 1 | Zulip CEP | DG | 1 |" in chat.text("DG", "agenda", late)
    assert chat.text("JRG", "start", late).startswith("Conda Community Meeting has started.")
    assert chat.text("JRG", "next", late) == "Now on item 1: DG: Zulip CEP"
    assert chat.text("DG", "agenda", AFTER).startswith(
        "**Conda Community Meeting, <time:2024-11-06T17:00:00Z>**"
    )


def test_a_meeting_never_held_carries_its_items_and_votes_to_the_next(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    message = chat.sent["item:community:2024-11-06:1"]
    chat.say("JK", "vote 1", BEFORE)
    chat.react("WV", message)
    assert "| 1 | Zulip CEP | DG | 2 |" in chat.text("DG", "agenda", AFTER)
    near_next = dt.datetime(2024, 11, 20, 16, 30, tzinfo=dt.UTC)
    agenda = chat.text("DG", "agenda", near_next)
    assert agenda.startswith("**Conda Community Meeting, <time:2024-11-20T17:00:00Z>**")
    assert "| 1 | Zulip CEP | DG | 2 |" in agenda
    assert [(i.owners, i.text) for i in chat.draft(NEXT_DAY).items(AGENDA)] == [
        (("DG",), "Zulip CEP")
    ]
    chat.react("FF", message)  # the 👍 on the old reply still counts, for the new meeting
    assert "| 1 | Zulip CEP | DG | 3 |" in chat.text("DG", "agenda", near_next)
    assert chat.text("JK", "vote 1", near_next) == "You already voted for item 1."


# --- 5. the save race is in test_save_race.py ---------------------------------------------------
# --- 6. forged ownership ---------------------------------------------------------------------


def test_nobody_puts_an_item_or_a_note_in_someone_elses_name(chat: Chat) -> None:
    unchanged(chat, "SD", "add item DG: ship it", "Only DG or an organizer can write in DG's "
              "name. Name yourself among them (`SD/DG: ...`), or leave the names out.")  # fmt: skip
    assert chat.text("SD", "add item SD/DG: ship it").startswith("Added item **1**")
    chat.say("JRG", "start")
    chat.say("JRG", "next")
    unchanged(chat, "SD", "note JRG: I agree to everything", "Only JRG or an organizer can "
              "write in JRG's name. Name yourself among them (`SD/JRG: ...`), or leave the names "
              "out.")  # fmt: skip
    assert chat.text("JRG", "note WV: seconded") == "Noted under item 1."  # the organizer may


def test_the_owners_named_on_an_item_may_edit_and_withdraw_it(chat: Chat) -> None:
    chat.say("JRG", "add item DG/WV: rattler and conda", BEFORE)  # an organizer names them
    assert chat.text("WV", "edit 1 DG/WV: rattler, conda and pixi", BEFORE) == (
        "Item 1 now reads: DG/WV: rattler, conda and pixi"
    )
    assert chat.text("DG", "withdraw 1", BEFORE) == "Withdrew item 1: rattler, conda and pixi"


# --- 7. undo after a refusal -------------------------------------------------------------------


def test_undo_skips_what_it_cannot_undo_and_goes_on(chat: Chat) -> None:
    chat.say("DG", "add item A", BEFORE)
    chat.say("DG", "add item B", BEFORE)
    chat.say("DG", "withdraw 2", BEFORE)
    assert chat.text("DG", "undo", BEFORE) == (
        "Item 2 was withdrawn. I have skipped that step: `undo` again goes on to the one before it."
    )
    assert chat.text("DG", "undo", BEFORE) == "Removed item 1."
    assert chat.draft().items(AGENDA) == []


def test_undo_after_a_hand_fix_of_the_note_goes_on(chat: Chat) -> None:
    chat.say("DG", "add item A", BEFORE)
    chat.say("JRG", "start")
    chat.say("JRG", "next")
    chat.say("DG", "note frist thought")
    chat.say("DG", "note second thought")
    path = chat.notes_path()
    path.write_text(path.read_text("utf-8").replace("second thought", "second thought, fixed"))
    assert chat.text("DG", "undo").startswith("What you added under item 1 has been changed")
    assert chat.text("DG", "undo") == "Removed your note under item 1."
    assert [c.text for c in chat.draft().items(AGENDA)[0].children] == ["second thought, fixed"]


# --- 8. a locked database ------------------------------------------------------------------


def test_a_database_locked_a_while_is_waited_for(tmp_path: Path) -> None:
    chat = make_chat(tmp_path)
    holder = sqlite3.connect(chat.config.state_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(6.0, lambda: holder.execute("COMMIT"))  # past sqlite's own 5 s
    release.start()
    assert chat.text("DG", "add item while locked", BEFORE).startswith("Added item **1**")
    release.join()
    holder.close()


def test_a_database_locked_too_long_answers_busy_and_changes_nothing(tmp_path: Path) -> None:
    chat = make_chat(tmp_path)
    config = load_config(tmp_path / "meetbot.example.toml")
    impatient = MeetingService(config, Store(config.state_path, busy_wait=0.2))
    holder = sqlite3.connect(config.state_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    dasha = chat.senders["DG"]
    message = Incoming("m1", 1, dasha, "add item while locked", "community", "x")
    (reply,) = impatient.handle_message(message, BEFORE)
    assert reply.content.startswith("I am busy: my database is locked by another process.")
    assert not chat.notes_path().exists()
    holder.execute("COMMIT")
    holder.close()
    (reply,) = impatient.handle_message(message, BEFORE)  # the same event again: not skipped
    assert reply.content.startswith("Added item **1**")
    assert impatient.handle_message(message, BEFORE) == []  # now it is done


# --- 9. the attendees deleted by hand ------------------------------------------------------------


def test_here_recreates_the_attendees_where_the_template_has_them(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    path = chat.notes_path()
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("## Attendees")] + text[text.index("## Introductions") :])
    assert chat.text("JRG", "here", BEFORE).endswith("1 person here so far.")
    assert chat.text("DG", "here", BEFORE).endswith("2 people here so far.")
    doc = chat.draft()
    assert [s.title for s in doc.sections()][:2] == ["Attendees", "Introductions"]
    assert [a.initials for a in doc.attendees()] == ["JRG", "DG"]


# --- replies people will read --------------------------------------------------------------------


def test_replies_after_the_end_say_it_ended_and_where_the_summary_is(chat: Chat) -> None:
    _discussed(chat)
    chat.say("JRG", "end")
    reply = chat.text("DG", "note too late")
    assert reply.startswith("The Conda Community Meeting of 2024-11-06 ended at <time:")
    assert "its summary is in #**community>2024-11-06 Conda Community Meeting**" in reply


def test_second_withdraw_and_plurals(chat: Chat) -> None:
    chat.say("DG", "add item A", BEFORE)
    chat.say("DG", "withdraw 1", BEFORE)
    assert chat.text("DG", "withdraw 1", BEFORE) == "Item 1 was already withdrawn."
    chat.say("DG", "add item B", BEFORE)
    assert chat.text("JK", "vote 2", BEFORE) == "Voted for item 2; it has 1 vote."
    assert chat.text("WV", "vote 2", BEFORE) == "Voted for item 2; it has 2 votes."
    assert "(1 agenda item)" in chat.text("DG", "notes", BEFORE)


def test_actions_for_an_unknown_person_and_by_initials(chat: Chat) -> None:
    _discussed(chat)
    unchanged(chat, "DG", "actions @**Nobody Here**", "I don't know anyone called Nobody Here: "
              "mention them as `@**Name**`, or use their initials; `actions` lists everyone's open "
              "items.")  # fmt: skip
    assert "A1: draft the CEP" in chat.text("JRG", "actions DG")


def test_edit_takes_an_owner_prefix_the_way_add_does(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    assert chat.text("DG", "edit 1 DG/JK: Zulip CEP, revised", BEFORE) == (
        "Item 1 now reads: DG/JK: Zulip CEP, revised"
    )
    (item,) = chat.draft().items(AGENDA)
    assert (item.owners, item.text) == (("DG", "JK"), "Zulip CEP, revised")


def test_items_follow_the_initials_chosen_later(chat: Chat) -> None:
    chat.senders["KH"] = Sender("kim@example.net", "Kim Hall", 811)
    chat.say("KH", "add item hello", BEFORE)
    assert chat.draft().items(AGENDA)[0].owners == ("KH",)
    assert chat.text("KH", "iam HM Acme", BEFORE) == "Noted: Kim Hall is HM, Acme."
    assert [(i.owners, i.text) for i in chat.draft().items(AGENDA)] == [(("HM",), "hello")]
    assert chat.text("KH", "withdraw 1", BEFORE) == "Withdrew item 1: hello"


def test_real_initials_that_look_like_labels_are_a_persons_own(chat: Chat) -> None:
    chat.senders["SC"] = Sender("sophia@example.net", "Sophia Castellarin", 812)
    assert chat.text("SC", "iam SC OpenTeams @soapy1", BEFORE) == (
        "Noted: Sophia Castellarin is SC, OpenTeams, @soapy1."
    )
    assert chat.text("SC", "add item pixi and conda", BEFORE).startswith(
        "Added item **1** to New Agenda Items: SC: pixi and conda"
    )
    assert [(i.owners, i.text) for i in chat.draft().items(AGENDA)] == [(("SC",), "pixi and conda")]
    assert "| 1 | pixi and conda | SC | 0 |" in chat.text("SC", "agenda", BEFORE)
    unchanged(chat, "DG", "iam SC", "The initials `SC` are taken by someone else; pick others.")


def test_store_is_untouched_by_a_busy_refusal_of_a_reaction(tmp_path: Path) -> None:
    """Reactions have no reply: a busy database is the runner's to retry, loudly."""
    chat = make_chat(tmp_path)
    chat.say("DG", "add item Zulip CEP", BEFORE)
    config = load_config(tmp_path / "meetbot.example.toml")
    impatient = MeetingService(config, Store(config.state_path, busy_wait=0.1))
    holder = sqlite3.connect(config.state_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    rows = store_dump(chat)
    with pytest.raises(Exception, match="locked"):
        impatient.handle_reaction("r1", chat.senders["JK"], 1001, "+1", True, BEFORE)
    holder.execute("ROLLBACK")
    holder.close()
    assert store_dump(chat) == rows


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("family 👨\u200d👩\u200d👧 day", "family 👨\u200d👩\u200d👧 day"),  # one emoji, kept whole
        ("caf\udce9 au lait", "caf\ufffd au lait"),  # a byte the terminal could not decode
        ("line\x85break", "line break"),  # NEL is a line break: a space on one line
        ("escape \x1b[31m red", "escape \ufffd[31m red"),
        ("abc\u202eevil", "abc\ufffdevil"),  # a bidi override could disguise the text
    ],
)
def test_text_is_kept_as_typed_or_replaced_never_dropped(
    chat: Chat, typed: str, written: str
) -> None:
    chat.say("DG", f"add item {typed}", BEFORE)
    assert [i.text for i in chat.draft().items(AGENDA)] == [written]


def test_an_action_or_decision_written_ahead_makes_the_item_the_organizers_to_withdraw(
    chat: Chat,
) -> None:
    chat.say("DG", "add item Zulip CEP", BEFORE)
    assert chat.text("DG", "action #1 DG draft the CEP", BEFORE).startswith("Action item A1")
    assert chat.text("DG", "withdraw 1", BEFORE).startswith("Item 1 has been discussed or has")
    assert chat.text("JRG", "withdraw 1", BEFORE).startswith("Crossed out item 1")
    assert "Action item: DG to draft the CEP" in chat.notes_path().read_text(encoding="utf-8")
