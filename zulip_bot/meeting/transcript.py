"""The plain-text transcript kept beside each meeting's notes.

The notes are what people decided to write down; the transcript is everything said in the
meeting's topic while it ran, so that a note-taker can check the notes against it later. Lines
are only ever appended, one `write` per message, so a crash cannot garble what is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path


def path_for(notes: Path) -> Path:
    """`20241106_agenda_and_minutes.md` -> `20241106_agenda_and_minutes.transcript.txt`."""
    return notes.with_suffix(".transcript.txt")


def format_lines(when: dt.datetime, said: Sequence[tuple[str, str]]) -> str:
    """`17:05 Dasha Gurova: text`, with the lines of a multi-line message indented under it."""
    out = []
    for speaker, content in said:
        first, *rest = content.strip().splitlines() or [""]
        out.append(f"{when:%H:%M} {speaker}: {first}\n")
        out.extend(f"    {line}\n" for line in rest)
    return "".join(out)


def append(
    path: Path, title: str, day: dt.date, when: dt.datetime, said: Sequence[tuple[str, str]]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "" if path.exists() else f"{title} {day.isoformat()}: transcript ({when:%Z})\n\n"
    with path.open("a", encoding="utf-8") as file:
        file.write(header + format_lines(when, said))
