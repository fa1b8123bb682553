"""What `end` leaves behind besides the summary: the registry of action items brought up to
date from the notes, and the next meeting's draft with what is still open.

Action items are read back from the notes rather than only from chat, because note-takers
type them into the file by hand too. The next draft lists the open ones as `- [ ] A12: ...`;
ticking one there closes it when that meeting ends.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from zulip_bot import schedule
from zulip_bot.config import MeetingConfig
from zulip_bot.meeting.messages import OpenAction
from zulip_bot.meeting.store import Store
from zulip_bot.notes import AgendaItem, NotesDocument, NotesError, inline_text, new_draft
from zulip_bot.notes.parse import normalize_title

ACTION_ID = re.compile(r"A(?P<id>[0-9]+)\b")


def _section_kind(meeting: MeetingConfig, doc: NotesDocument, item: AgendaItem) -> str | None:
    for section in doc.sections():
        if item in section.items:
            wanted = normalize_title(section.title)
            return next(
                (kind for kind, title in meeting.sections if normalize_title(title) == wanted),
                None,
            )
    return None


def register_written_actions(
    store: Store, meeting: MeetingConfig, day: dt.date, doc: NotesDocument
) -> list[int]:
    """Action items typed into the notes by hand join the registry like chat ones. Returns
    the ids of those read from prose rather than labelled, which a person should confirm."""
    to_confirm: list[int] = []
    key = (meeting.key, day.isoformat())
    registered = {(a.item, a.text) for a in store.actions_of(*key)}
    for found in doc.action_items():
        if found.item is not None and _section_kind(meeting, doc, found.item) == "actions":
            continue  # the list of earlier meetings' open items: registered already
        item_text = found.item.text if found.item else ""
        assigned = found.owners and " to " in found.text
        text = found.text.split(" to ", 1)[1] if assigned else found.text
        if {(item_text, text), (item_text, found.text), (item_text, found.task)} & registered:
            continue
        for owner in found.owners or ("",):
            action = store.add_action(*key, item_text, owner, found.task or text)
            if found.confidence == "inferred":
                to_confirm.append(action)
    return to_confirm


def close_ticked_actions(store: Store, meeting: MeetingConfig, doc: NotesDocument) -> None:
    """`- [x] A12: ...` in the draft's list of open action items closes A12."""
    try:
        listed = doc.items(meeting.section("actions"))
    except NotesError:
        return
    for item in listed:
        found = ACTION_ID.match(item.text)
        if item.checked and found:
            store.set_action(int(found["id"]), done=True)


def next_draft(
    meeting: MeetingConfig, start: dt.datetime, carried: list[AgendaItem], actions: list[OpenAction]
) -> Path | None:
    """The next occurrence's draft (made from the template if there is none yet) with the
    undiscussed items carried over and the open action items listed."""
    upcoming = schedule.next_occurrence(meeting, start)
    if upcoming is None:
        return None
    path = meeting.notes_path_for(upcoming.date())
    if path.exists():
        doc = NotesDocument.load(path)
        for problem in doc.blocking_warnings():  # a file we cannot read safely is left alone
            raise NotesError(f"{path}:{problem.line}: {problem.message}")
    else:
        doc = new_draft(meeting.template.read_text(encoding="utf-8"), upcoming.date())
    open_items = [
        (f"A{a.id}: {a.owner + ' to ' if a.owner else ''}{a.text} ({a.day})", ()) for a in actions
    ]
    after = meeting.section("announcement")
    for kind, entries in (("carried", [(i.text, i.owners) for i in carried]),
                          ("actions", open_items)):  # fmt: skip
        title = meeting.section(kind)
        if entries and doc.section(title) is None:
            doc.add_section(title, after=after if doc.section(after) else None)
        written = {i.text for i in doc.items(title)} if entries else set()
        for text, owners in entries:
            if inline_text(text) not in written:  # a second `end` adds nothing twice
                doc.add_item(title, text, owners=owners)
        after = title
    doc.save(path)
    return path
