"""`NotesDocument`: one notes file, understood but never re-rendered.

The document keeps the file's lines verbatim. Queries read a parse of those lines; edits splice
a few lines and leave every other byte alone, so a hand-edited file survives the bot. An edit
brings the parse up to date itself when it can (`incremental.py`); otherwise the parse is
redone lazily, when a query needs it. Parses of recent texts are kept by digest, so that
loading the file the bot itself saved a moment ago costs no parse at all.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from zulip_bot.notes import edit, extract, incremental, replace
from zulip_bot.notes.model import (
    ActionItem,
    AgendaItem,
    Attendee,
    Decision,
    NotesConflict,
    NotesError,
    NotesUnsaved,
    NotesWarning,
    OwnerStyle,
    Parsed,
    Section,
)
from zulip_bot.notes.names import Named
from zulip_bot.notes.parse import BLOCKING, is_attendee_title, parse_date, parse_lines, split_lines


def _unsaved(error: OSError) -> str:
    """In words a meeting's members understand: they are who reads it first."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "could not be saved because the server's disk is full"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "could not be saved because the bot may not write to the notes folder"
    return f"could not be saved ({error.strerror or error})"


def _linked(file: Path) -> str:
    return (
        f"{file}: is a symbolic link, which meetbot never follows or replaces (it would read or "
        "write another file than the notes); put the notes file itself at that path"
    )


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_RECENT: OrderedDict[str, Parsed] = OrderedDict()
_RECENT_SIZE = 4  # the drafts a bot is busy with at one time; each 300-item parse is ~3,000 objects


def _remember(digest: str, parsed: Parsed) -> None:
    """Parses are never changed once made (edits make new ones), so they can be shared."""
    _RECENT[digest] = parsed
    _RECENT.move_to_end(digest)
    while len(_RECENT) > _RECENT_SIZE:
        _RECENT.popitem(last=False)


def decode(data: bytes, source: str) -> str:
    """UTF-8 text, or a NotesError that says where the first bad byte is."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise NotesError(
            f"{source}:{line}: not UTF-8 text (byte 0x{data[error.start]:02x} at column "
            f"{column}); save the file as UTF-8"
        ) from None


class NotesDocument:
    def __init__(self, text: str, path: Path | None = None, digest: str | None = None) -> None:
        self._lines = split_lines(text)
        self._parsed: Parsed | None = None
        self.path = path
        self._digest = digest  # of the file as loaded or last saved
        self._edited = False  # since then

    # --- reading and writing ----------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> NotesDocument:
        return cls(text)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, follow_link: bool = False) -> NotesDocument:
        """A notes path that is a symbolic link is refused unless `follow_link`: the bot
        never made one, so someone else did, and following it would show another file's
        content in chat. A person at the command line (`meetbot notes show`) may follow it."""
        file = Path(path)
        flags = os.O_RDONLY if follow_link else os.O_RDONLY | os.O_NOFOLLOW
        try:
            handle = os.open(file, flags)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise NotesError(_linked(file)) from None
            raise NotesError(f"{file}: cannot read: {error.strerror}") from None
        with os.fdopen(handle, "rb") as opened:
            data = opened.read()
        return cls(decode(data, str(file)), file, _digest(data))

    def render(self) -> str:
        return "".join(self._lines)

    def save(self, path: str | os.PathLike[str] | None = None) -> None:
        """Write atomically; refuse to overwrite a file that changed since it was loaded, even
        when the other save lands while this one is under way (see `replace`)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise NotesError("this document was not loaded from a file: give a path to save to")
        data = self.render().encode("utf-8")
        expected = self._digest if target == self.path else None
        try:
            replace.replace(target, data, expected)
        except replace.Linked:
            raise NotesError(_linked(target)) from None
        except OSError as error:  # the file is as it was: `replace` writes a copy, then swaps
            raise NotesUnsaved(f"{target}: {_unsaved(error)}") from None
        except replace.Changed:
            why = "changed on disk since it was loaded" if expected else "exists and was not loaded"
            raise NotesConflict(f"{target}: the file {why}; reload and redo the edit") from None
        self.path, self._digest, self._edited = target, _digest(data), False
        if self._parsed is not None:
            _remember(self._digest, self._parsed)

    # --- queries ----------------------------------------------------------------------------

    @property
    def parsed(self) -> Parsed:
        if self._parsed is None:
            digest = self._digest
            if digest is None or self._edited:
                digest = _digest(self.render().encode("utf-8"))
            self._parsed = _RECENT.get(digest) or parse_lines(self._lines)
            _remember(digest, self._parsed)
        return self._parsed

    @property
    def lines(self) -> Sequence[str]:
        return tuple(self._lines)

    @property
    def front_matter(self) -> dict[str, object]:
        return dict(self.parsed.front_matter)

    @property
    def title(self) -> str | None:
        return self.parsed.title

    @property
    def date(self) -> dt.date | None:
        meta_title = self.parsed.front_matter.get("title")
        return parse_date(self.title) or parse_date(
            meta_title if isinstance(meta_title, str) else None
        )

    @property
    def warnings(self) -> list[NotesWarning]:
        return list(self.parsed.warnings)

    def blocking_warnings(self) -> list[NotesWarning]:
        """Problems that make the file unsafe to edit: where its front matter ends, or
        whether it has any content at all, is in doubt."""
        return [w for w in self.parsed.warnings if w.message.startswith(BLOCKING)]

    @property
    def head_count(self) -> int | None:
        return self.parsed.head_count

    def attendees(self) -> list[Attendee]:
        return list(self.parsed.attendees)

    def sections(self) -> list[Section]:
        return [span.public() for span in self.parsed.sections]

    def section(self, title: str) -> Section | None:
        """The section with this title (case, emoji and punctuation aside), or None."""
        span = edit.section_named(self.parsed, title)
        return span.public() if span is not None else None

    def items(self, section: str | Section | None = None) -> list[AgendaItem]:
        """Top-level items of one section, or of every section but the attendees."""
        parsed = self.parsed
        if section is not None:
            title = section.title if isinstance(section, Section) else section
            return list(edit.find_section(parsed, title).items)
        if not parsed.sections:
            return list(parsed.preamble_items)
        return [
            item
            for span in parsed.sections
            if not is_attendee_title(span.title)
            for item in span.items
        ]

    def action_items(self, roster: Sequence[Named] = ()) -> list[ActionItem]:
        """The action items, owners also mapped to the roster's people (see `names`)."""
        return extract.action_items(self.parsed, self._lines, roster)

    def decisions(self) -> list[Decision]:
        return extract.decisions(self.parsed, self._lines)

    def item_at(self, line: int) -> AgendaItem | None:
        """The item that starts on 1-based `line`, nested or not."""
        return self.parsed.items_at.get(line - 1)

    # --- edits ------------------------------------------------------------------------------

    def _apply(self, splice: edit.Splice) -> None:
        new = list(splice.lines)
        lines = self._lines
        start = splice.start
        if new and start == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
            nl = edit.newline(lines)
            lines[-1] += nl
            new[-1] = new[-1].rstrip("\r\n")
            start -= 1  # the last line changed too: it gained a line ending
        lines[splice.start : splice.end] = new
        self._edited = True
        if self._parsed is not None:
            count = len(new) + splice.start - start
            self._parsed = incremental.update(self._parsed, lines, start, splice.end, count)

    def add_item(
        self,
        section: str | Section,
        text: str,
        owners: Sequence[str] = (),
        checked: bool | None = False,
        style: OwnerStyle | None = None,
    ) -> int:
        """Add an item; returns its 1-based line."""
        title = section.title if isinstance(section, Section) else section
        splice, line = edit.add_item(self._lines, self.parsed, title, text, owners, checked, style)
        self._apply(splice)
        return line + 1

    def add_child(
        self,
        item: AgendaItem,
        text: str,
        owners: Sequence[str] = (),
        checked: bool | None = None,
        style: OwnerStyle | None = None,
    ) -> int:
        splice, line = edit.add_child(self._lines, self.parsed, item, text, owners, checked, style)
        self._apply(splice)
        return line + 1

    def set_checked(self, item: AgendaItem, value: bool | None) -> None:
        self._apply(edit.set_checked(self._lines, self.parsed, item, value))

    def set_item_text(self, item: AgendaItem, text: str) -> None:
        self._apply(edit.set_item_text(self._lines, self.parsed, item, text))

    def set_item_owners(self, item: AgendaItem, owners: Sequence[str]) -> None:
        self._apply(edit.rewrite_item(self._lines, self.parsed, item, owners=owners))

    def strike_item(self, item: AgendaItem) -> None:
        """Cross the item out, keeping it and what was written under it."""
        self._apply(edit.rewrite_item(self._lines, self.parsed, item, strike=True))

    def remove_item(self, item: AgendaItem) -> None:
        self._apply(edit.remove_item(self._lines, self.parsed, item))

    def reorder_items(self, section: str | Section, order: Sequence[AgendaItem]) -> None:
        """Put the section's top-level items in `order` (each of them exactly once)."""
        title = section.title if isinstance(section, Section) else section
        self._apply(edit.reorder_items(self._lines, self.parsed, title, order))

    def add_attendee(self, attendee: Attendee) -> None:
        self._apply(edit.add_attendee(self._lines, self.parsed, attendee))

    def set_head_count(self, count: int) -> None:
        self._apply(edit.set_head_count(self._lines, self.parsed, count))

    def add_section(
        self,
        title: str,
        after: str | Section | None = None,
        level: int | None = None,
        before: str | None = None,
    ) -> None:
        anchor = after.title if isinstance(after, Section) else after
        self._apply(edit.add_section(self._lines, self.parsed, title, anchor, level, before))
