"""The data a notes file is understood as, and the errors reading or writing one can raise.

Public dataclasses carry what a reader of the notes cares about. The `*Layout` classes carry
where each piece sits in the file (0-based line indexes, indentation, markers), which only the
edit functions need, so that an edit can splice lines without re-reading the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


class NotesError(Exception):
    """A notes file that cannot be read or an edit that cannot be made; names file and line."""


class NotesConflict(NotesError):
    """The file changed on disk after it was loaded: saving would lose someone's edit."""


class NotesUnsaved(NotesError):
    """The system refused the write (disk full, no permission): the file is as it was, and the
    same edit will work once the fault is gone, so whoever asked for it must be told."""


@dataclass(frozen=True)
class NotesWarning:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Attendee:
    name: str
    initials: str = ""
    affiliation: str = ""
    github: str = ""


@dataclass(frozen=True)
class AgendaItem:
    text: str
    owners: tuple[str, ...] = ()
    checked: bool | None = None
    children: tuple[AgendaItem, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Section:
    title: str
    level: int
    items: tuple[AgendaItem, ...] = ()
    line: int = 0


# `explicit`: written with a label or under a heading that says what it is ("Action item:",
# "Consensus:", a `## Action items` list); `inferred`: read from prose ("JRG will ...", "we
# agreed ..."), for a person to confirm.
Confidence = Literal["explicit", "inferred"]


@dataclass(frozen=True)
class ActionItem:
    text: str  # the sentence as written, without its label ("JRG to create the PR")
    owners: tuple[str, ...] = ()
    item: AgendaItem | None = None
    line: int = 0
    task: str = ""  # what is to be done, without label or owner ("create the PR")
    confidence: Confidence = "explicit"
    # the owners as the people the roster or the attendee list knows them by ("Jaime" -> "JRG")
    people: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    text: str
    item: AgendaItem | None = None
    line: int = 0
    confidence: Confidence = "explicit"


# Template leftovers that stand for "no item yet": `- [ ]`, `- [ ] ...`, `- [ ] ( )`.
PLACEHOLDER_TEXTS = frozenset({"", "...", "\u2026", "( )", "()"})

OwnerStyle = Literal["colon", "paren", "bracket", "dash"]


@dataclass(frozen=True)
class ItemLayout:
    """Where one list item sits: enough to rewrite its first line or add lines after it."""

    start: int  # index of the item's first line
    end: int  # index after its last non-blank line, children included
    para_end: int  # index after the last line of its first paragraph
    indent: str  # the whitespace before the marker, verbatim
    head: str  # the first line up to where the item's text starts (marker, box, owners)
    marker: str  # "-", "*", "+", "1." or "3)"
    gap: str  # the whitespace between marker and content
    box: str | None  # "[ ]", "[x]", "[X]" or "[]" as written
    owner_prefix: str  # the owner prefix as written, with its trailing space ("JRG: ", "(WV) ")
    owner_style: OwnerStyle | None
    depth: int  # 0 for a top-level item
    editable: bool  # False when the first line does not start with the marker (blockquotes)
    loose_before: bool  # a blank line separates it from the previous sibling


@dataclass(frozen=True)
class TableLayout:
    start: int
    end: int  # index after the last row
    header: tuple[str, ...]  # header cells, stripped
    widths: tuple[int, ...]  # inner widths of the delimiter row cells
    outer_pipes: bool
    columns: tuple[str | None, ...]  # "name", "initials", "affiliation", "github" or None
    filler_rows: tuple[int, ...]  # indexes of rows whose cells are all blank
    at_handles: bool  # the github column is written "@handle"


@dataclass(frozen=True)
class AttendeeListLayout:
    items: tuple[AgendaItem, ...]
    placeholders: tuple[int, ...]  # indexes of "1. ..." style placeholder lines
    detailed: bool  # "XX: Full Name (@gh), Affiliation" rather than bare names


@dataclass
class Parsed:
    """Everything a parse finds; rebuilt after every edit, read by queries and edits."""

    front_matter: dict[str, object] = field(default_factory=dict)
    body_start: int = 0
    title: str | None = None
    title_line: int | None = None
    sections: list[SectionSpan] = field(default_factory=list)
    preamble_items: list[AgendaItem] = field(default_factory=list)
    layouts: dict[int, ItemLayout] = field(default_factory=dict)
    items_at: dict[int, AgendaItem] = field(default_factory=dict)
    texts: list[TextBlock] = field(default_factory=list)
    attendees: list[Attendee] = field(default_factory=list)
    attendee_table: TableLayout | None = None
    attendee_list: AttendeeListLayout | None = None
    attendee_section: SectionSpan | None = None
    attendee_names_end: int | None = None  # after the last bare-name line
    head_count_line: int | None = None
    head_count: int | None = None
    warnings: list[NotesWarning] = field(default_factory=list)
    indent_step: int = 4
    checked_case: str = "x"


@dataclass
class SectionSpan:
    title: str
    level: int
    start: int  # index of the heading line
    end: int  # index of the next heading line, or end of file
    items: list[AgendaItem] = field(default_factory=list)

    def public(self) -> Section:
        return Section(self.title, self.level, tuple(self.items), self.start + 1)


@dataclass(frozen=True)
class TextBlock:
    """A paragraph, for finding action items and decisions written in prose."""

    text: str
    line: int  # 1-based
    top_item: AgendaItem | None  # the top-level agenda item it sits under
