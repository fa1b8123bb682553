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
from zulip_bot.notes.model import PLACEHOLDER_TEXTS
from zulip_bot.notes.parse import normalize_title

ACTION_ID = re.compile(r"A(?P<id>[0-9]+)\b")


def unstruck(text: str) -> tuple[str, bool]:
    """`~~words~~` is an item crossed out (withdrawn, its notes kept) and its words."""
    inner = text[2:-2] if len(text) > 4 and text.startswith("~~") and text.endswith("~~") else None
    return (inner, True) if inner and not inner.startswith("~") else (text, False)


def section_kind(meeting: MeetingConfig, doc: NotesDocument, item: AgendaItem) -> str | None:
    for section in doc.sections():
        if item in section.items:
            wanted = normalize_title(section.title)
            return next(
                (kind for kind, title in meeting.sections if normalize_title(title) == wanted),
                None,
            )
    return None


#: The sections whose items are the agenda: what people come to talk about.
AGENDA_KINDS = ("item", "announcement", "intro", "carried")


def agenda_lines(meeting: MeetingConfig, doc: NotesDocument) -> set[int]:
    """The lines of the agenda's own items. An item is something to talk about, however its
    words read: `add item action: JRG will fix it` asks to discuss it, so its line is never an
    action item or a decision (what is decided or owed is written under it)."""
    kinds = {normalize_title(title): kind for kind, title in meeting.sections}
    return {
        item.line
        for section in doc.sections()
        if kinds.get(normalize_title(section.title)) in AGENDA_KINDS
        for item in section.items
    }


def register_written_actions(
    store: Store, meeting: MeetingConfig, day: dt.date, doc: NotesDocument
) -> list[int]:
    """Action items typed into the notes by hand join the registry like chat ones. Returns
    the ids of those read from prose rather than labelled, which a person should confirm."""
    to_confirm: list[int] = []
    key = (meeting.key, day.isoformat())
    registered = {(a.item, a.text) for a in store.actions_of(*key)}
    listed = section_lines(doc, meeting.section("actions"))
    agenda = agenda_lines(meeting, doc)
    for found in doc.action_items():
        if found.line in agenda:
            continue
        if found.line in listed or (found.item is not None and found.item.line in listed):
            continue  # the list of earlier meetings' open items: registered already
        item_text = unstruck(found.item.text)[0] if found.item else ""
        # However the reader split owner from task, the line the bot wrote for a registered
        # action reads back as that action: `OWNERS to TASK` or `TASK`.
        task = found.text.split(" to ", 1)[1] if " to " in found.text else found.text
        if {(item_text, task), (item_text, found.text), (item_text, found.task)} & registered:
            continue
        inferred = found.confidence == "inferred"
        for owner in found.people or found.owners or ("",):
            task = found.task or found.text
            action = store.add_action(*key, item_text, owner, task, found.line, inferred)
            if inferred:
                to_confirm.append(action)
    return to_confirm


def section_lines(doc: NotesDocument, section: str) -> set[int]:
    """The lines of every item and sub-item of a section (none when it is not there)."""
    try:
        pending = list(doc.items(section))
    except NotesError:
        return set()
    lines: set[int] = set()
    while pending:
        item = pending.pop()
        lines.add(item.line)
        pending.extend(item.children)
    return lines


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


def blank_draft(meeting: MeetingConfig, day: dt.date) -> NotesDocument:
    """A new draft from the meeting's template, headed with its own title and video link."""
    template = meeting.template.read_text(encoding="utf-8")
    return new_draft(template, day, None, **meeting.template_values(day))


def load_draft(meeting: MeetingConfig, path: Path, day: dt.date) -> NotesDocument:
    """The draft at `path`, or a new one from the template; one we cannot read safely is
    left alone."""
    if not path.exists():
        return blank_draft(meeting, day)
    doc = NotesDocument.load(path)
    for problem in doc.blocking_warnings():
        raise NotesError(f"{path}:{problem.line}: {problem.message}")
    return doc


def next_draft(
    meeting: MeetingConfig, start: dt.datetime, carried: list[AgendaItem], actions: list[OpenAction]
) -> Path | None:
    """The next occurrence's draft (made from the template if there is none yet) with the
    undiscussed items carried over and the open action items listed."""
    upcoming = schedule.next_occurrence(meeting, start)
    if upcoming is None:
        return None
    return write_draft(meeting, upcoming.date(), carried, actions)


def write_draft(
    meeting: MeetingConfig, day: dt.date, carried: list[AgendaItem], actions: list[OpenAction]
) -> Path:
    """The draft of the occurrence on `day` (from the template if there is none yet) with
    `carried` items and the open action items listed, each once however often it is called."""
    path = meeting.notes_path_for(day)
    doc = load_draft(meeting, path, day)
    # A section the draft lacks goes after the one before it, where that one is there.
    before = {
        meeting.section("carried"): meeting.section("announcement"),
        meeting.section("actions"): meeting.section("carried"),
    }
    for title, text, owners in missing_entries(meeting, doc, carried, actions):
        if doc.section(title) is None:
            after = before[title]
            doc.add_section(title, after=after if doc.section(after) else None)
        doc.add_item(title, text, owners=owners)
    doc.save(path)
    return path


def missing_entries(
    meeting: MeetingConfig, doc: NotesDocument, carried: list[AgendaItem], actions: list[OpenAction]
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(section, text, owners) of what `write_draft` adds to `doc`: the carried items and
    open action items it does not list yet, so that a second `end` adds nothing twice and an
    import can tell beforehand what it would write."""
    open_items = [
        (f"A{a.id}: {a.owner + ' to ' if a.owner else ''}{a.text} ({a.day})", ()) for a in actions
    ]
    missing: list[tuple[str, str, tuple[str, ...]]] = []
    for kind, entries in (("carried", [(i.text, i.owners) for i in carried]),
                          ("actions", open_items)):  # fmt: skip
        title = meeting.section(kind)
        written = {i.text for i in doc.items(title)} if doc.section(title) else set()
        missing += [(title, text, owners) for text, owners in entries
                    if inline_text(text) not in written]  # fmt: skip
    return missing


def undiscussed(meeting: MeetingConfig, doc: NotesDocument) -> list[AgendaItem]:
    """The items a held meeting's notes leave for the next one, as `end` carries them: the
    unticked agenda items and carried ones (introductions and announcements are news of that
    day only). An item with no box was never on the bot's agenda, so it is not carried."""
    return [
        item
        for item in doc.items()
        if item.checked is False
        and item.text not in PLACEHOLDER_TEXTS
        and not unstruck(item.text)[1]
        and section_kind(meeting, doc, item) in ("item", "carried")
    ]


def carry_items(store: Store, meeting: MeetingConfig, source: dt.date, to: dt.date) -> int:
    """The items of the occurrence on `source`, with their votes and 👍 messages, go to the
    same sections of the draft on `to`; the draft on `source` stays as it was. Returns how
    many moved."""
    rows = [row for row in store.items(meeting.key, source.isoformat()) if not row.withdrawn]
    path = meeting.notes_path_for(to)
    doc = load_draft(meeting, path, to)
    for row in rows:
        if doc.section(row.section) is None:
            doc.add_section(row.section)
        doc.add_item(row.section, row.text, owners=row.owners)
    doc.save(path)
    for row in rows:
        number = store.add_item(
            meeting.key, to.isoformat(), row.section, row.text, row.owners, row.author,
            row.message_id,
        )  # fmt: skip
        for voter in store.voters(meeting.key, source.isoformat(), row.number):
            store.vote(meeting.key, to.isoformat(), number, voter, True)
        store.update_item(meeting.key, source.isoformat(), row.number, withdrawn=True)
    return len(rows)


def carry_skipped(store: Store, meeting: MeetingConfig, skipped: dt.date, to: dt.date) -> int:
    """An occurrence that was not held: its items go to the next one (`carry_items`)."""
    carried = carry_items(store, meeting, skipped, to)
    store.set_status(meeting.key, skipped.isoformat(), "skipped", None)
    return carried
