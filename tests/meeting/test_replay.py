"""The 2024-11-06 Conda Community Meeting, replayed from chat.

Everything the real notes file records is typed to the bot the way people would type it:
attendance, each agenda item by its owner, votes (commands and 👍 reactions), the live notes,
action items and decisions, and a poll on the meeting time. The draft the bot writes must then
have the real file's structure: the same attendee rows, the same items with the same owners and
checked state, and the same action items and decisions.
"""

from __future__ import annotations

import datetime as dt

from tests.conftest import CORPUS
from tests.meeting.conftest import BEFORE, DAY, Chat
from zulip_bot.notes import AgendaItem, NotesDocument

REAL = CORPUS / "governance" / "20241106_agenda_and_minutes.md"
AGENDA = "New Agenda Items"


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
    after_start = chat.draft()
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
    ours = chat.draft()

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
    following = chat.draft(dt.date(2024, 11, 20))
    assert [i.text for i in following.items("Open action items")] == [
        "A1: call the vote (2024-11-06)",
        "A2: JRG to create proposal PR in conda-build (2024-11-06)",
    ]
    assert not any(s.title == "From previous meetings" for s in following.sections())
