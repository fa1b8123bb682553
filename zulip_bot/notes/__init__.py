"""The notes draft: a lossless model of a conda-style meeting-notes markdown file."""

from zulip_bot.notes.document import NotesDocument
from zulip_bot.notes.edit import inline_text
from zulip_bot.notes.model import (
    ActionItem,
    AgendaItem,
    Attendee,
    Decision,
    NotesConflict,
    NotesError,
    NotesUnsaved,
    NotesWarning,
    Section,
)
from zulip_bot.notes.template import new_draft

__all__ = [
    "ActionItem",
    "AgendaItem",
    "Attendee",
    "Decision",
    "NotesConflict",
    "NotesDocument",
    "NotesError",
    "NotesUnsaved",
    "NotesWarning",
    "Section",
    "inline_text",
    "new_draft",
]
