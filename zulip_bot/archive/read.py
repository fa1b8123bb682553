"""Reading a folder of past notes: each file's meeting date, which configured meeting it belongs
to, and the files that cannot be read, each with its reason, while the rest goes on.

Nothing here writes: the archive is somebody's repository, and the import only reads it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from zulip_bot.config import MeetingConfig
from zulip_bot.notes import NotesDocument, NotesError
from zulip_bot.notes.document import decode

#: Called after each file: (files done, files in all, the file just read).
Progress = Callable[[int, int, Path], None]

# `20240117_agenda_and_minutes.md`, `2024-01-17.md`, `20260304-conda-ecosystem.md`.
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
_STRFTIME = {"Y": r"\d{4}", "y": r"\d{2}", "m": r"\d{2}", "d": r"\d{2}", "j": r"\d{3}", "%": "%"}
_LINE = re.compile(r"^(?P<line>\d+): (?P<reason>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Record:
    """One meeting's notes."""

    path: Path
    day: dt.date
    meeting: str | None  # the configured meeting whose `notes_path` names it, if any
    doc: NotesDocument


@dataclass(frozen=True)
class Problem:
    """A file the import could not use, and why."""

    path: Path
    line: int | None
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.reason}"
            if self.line
            else f"{self.path}: {self.reason}"
        )


@dataclass(frozen=True)
class Archive:
    folder: Path
    records: tuple[Record, ...]  # by date, then path
    unreadable: tuple[Problem, ...]
    undated: tuple[Path, ...]  # templates, READMEs: no meeting date in the name or title


def notes_files(folder: Path) -> list[Path]:
    """Every markdown file under `folder`, hidden folders (`.git`) aside, in a stable order."""
    return sorted(
        path
        for path in folder.rglob("*.md")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(folder).parts)
    )


def name_date(name: str) -> dt.date | None:
    found = _NAME_DATE.search(name)
    if found is None:
        return None
    try:
        return dt.date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def _name_pattern(notes_path: str) -> re.Pattern[str]:
    """The file names a `notes_path` gives (its last part, strftime codes as digits)."""
    parts = re.split(r"(%.)", PurePosixPath(notes_path).name)
    return re.compile(
        "".join(
            _STRFTIME.get(part[1], ".+?") if len(part) == 2 and part[0] == "%" else re.escape(part)
            for part in parts
        )
    )


def meeting_of(path: Path, meetings: Sequence[MeetingConfig]) -> str | None:
    """The meeting whose `notes_path` names files like this one; where two do, the one whose
    folder has the file's folder's name; where that does not settle it, none (not a guess)."""
    found = [m for m in meetings if _name_pattern(m.notes_path).fullmatch(path.name)]
    if len(found) > 1:
        found = [m for m in found if PurePosixPath(m.notes_path).parent.name == path.parent.name]
    return found[0].key if len(found) == 1 else None


def _load(path: Path) -> NotesDocument | Problem:
    try:
        data = path.read_bytes()
    except OSError as error:
        return Problem(path, None, f"cannot read: {error.strerror}")
    try:
        doc = NotesDocument(decode(data, str(path)), path)
    except NotesError as error:  # "path:line: what" as `decode` words it
        where = _LINE.match(str(error).removeprefix(f"{path}:"))
        if where is None:
            return Problem(path, None, str(error))
        return Problem(path, int(where["line"]), where["reason"])
    blocking = doc.blocking_warnings()
    if blocking:
        return Problem(path, blocking[0].line, blocking[0].message)
    return doc


def read_archive(
    folder: Path,
    meetings: Sequence[MeetingConfig],
    only: str | None = None,
    progress: Progress | None = None,
) -> Archive:
    """Every notes file under `folder`. `only` puts every file in that meeting, for archives
    whose file names the config's `notes_path` does not give."""
    files = notes_files(folder)
    records: list[Record] = []
    unreadable: list[Problem] = []
    undated: list[Path] = []
    for done, path in enumerate(files, start=1):
        loaded = _load(path)
        if isinstance(loaded, Problem):
            unreadable.append(loaded)
        else:
            day = name_date(path.name) or loaded.date
            if day is None:
                undated.append(path)
            else:
                meeting = only if only is not None else meeting_of(path, meetings)
                records.append(Record(path, day, meeting, loaded))
        if progress is not None:
            progress(done, len(files), path)
    records.sort(key=lambda r: (r.day, str(r.path)))
    return Archive(folder, tuple(records), tuple(unreadable), tuple(undated))
