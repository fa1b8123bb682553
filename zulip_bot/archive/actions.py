"""Which action items of past notes are still open, and whose they are.

The reader (`notes/extract.py`) finds the action items and says whether each was labelled
(explicit) or read from prose (inferred, for a person to confirm); this module drops the ones
the notes mark done, the lists of earlier meetings' open items (registered from the meeting
that first wrote them), and repeats of one task in later notes, and names owners the way the
registry does: by initials where the roster knows the name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from zulip_bot.config import MeetingConfig, Roster, fold_name
from zulip_bot.meeting.wrapup import section_lines, unstruck
from zulip_bot.notes import ActionItem, NotesDocument
from zulip_bot.notes.extract import is_initials

# `... (done)`, `... - DONE.`, `Done: ...`, a ticked emoji: the notes say it was done.
_DONE = re.compile(
    r"(?:\b(?:done|completed|finished)\b\W*$)|(?:^\W*(?:done|completed)\b)|[\u2705\u2714\u2611]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class OpenAction:
    """One open action item of one owner, as the registry will hold it."""

    meeting: str
    day: dt.date
    path: Path
    line: int
    item: str  # the agenda item it was written under
    owner: str  # initials where the roster knows the person, else as written
    written: str  # the owner as the notes write it
    text: str
    inferred: bool


@dataclass(frozen=True)
class Found:
    open: tuple[OpenAction, ...]
    done: int  # marked done in the notes that wrote them, or ticked in later ones


def is_done(doc: NotesDocument, action: ActionItem) -> bool:
    """Ticked (a sub-item's box: a top-level agenda item's box says it was discussed), struck
    out, or said to be done."""
    item = doc.item_at(action.line)
    nested = item is not None and (action.item is None or action.item.line != item.line)
    if nested and item is not None and item.checked:
        return True
    text = item.text if item is not None else action.text
    return unstruck(text)[1] or _DONE.search(action.text) is not None


def owner_initials(owner: str, roster: Roster) -> str:
    """`Jaime` is JRG where the roster has exactly one Jaime; `jjhelmus` is the person with
    that GitHub handle; anyone else stays as written."""
    if not owner or is_initials(owner):
        return owner
    person = roster.by_name(owner) or next(
        (p for p in roster.people if p.github and p.github.casefold() == owner.casefold()), None
    )
    return person.initials if person is not None else owner


def open_actions(
    notes: Iterable[tuple[MeetingConfig, dt.date, Path, NotesDocument]], roster: Roster
) -> Found:
    """The open action items of these notes (taken in date order), one per owner."""
    found: dict[tuple[str, str, str], OpenAction] = {}
    closed: set[tuple[str, str, str]] = set()
    for meeting, day, path, doc in notes:
        listed = section_lines(doc, meeting.section("actions"))
        for action in doc.action_items():
            if action.line in listed or (action.item is not None and action.item.line in listed):
                continue
            done = is_done(doc, action)
            item = unstruck(action.item.text)[0] if action.item else ""
            for written in action.owners or ("",):
                owner = owner_initials(written, roster)
                task = action.task or action.text
                key = (meeting.key, owner.casefold(), fold_name(task))
                if done:
                    closed.add(key)
                elif key not in found:
                    inferred = action.confidence == "inferred"
                    found[key] = OpenAction(
                        meeting.key, day, path, action.line, item, owner, written, task, inferred
                    )
    still = tuple(a for key, a in found.items() if key not in closed)
    return Found(still, len(closed))
