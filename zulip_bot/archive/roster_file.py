"""Adding people to the roster's TOML text without touching a byte of what is there.

People keep comments in the roster (why someone has those initials, who is away), and a TOML
writer would drop them and reorder keys, so the new `[[person]]` tables are spliced in as text:
after the last person, before the tables that follow (`[groups]`) and the comment lines that
introduce them. The result is checked with the config's own loader before it replaces the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from zulip_bot.config import ConfigError, Person, load_roster
from zulip_bot.notes import replace

_PERSON = re.compile(r"^\s*\[\[\s*person\s*\]\]")
_TABLE = re.compile(r"^\s*\[(?!\[)")
_SKIPPABLE = re.compile(r"^\s*(?:#.*)?$")
HEADER = "# Added by `meetbot import` from the notes archive (the latest attendee line of each)."


def toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, and TOML also wants DEL escaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def person_table(person: Person, newline: str = "\n") -> str:
    keys = [("name", person.name), ("initials", person.initials)]
    keys += [
        (k, v) for k, v in (("affiliation", person.affiliation), ("github", person.github)) if v
    ]
    return newline.join(["[[person]]", *(f"{k} = {toml_string(v)}" for k, v in keys)]) + newline


def _insertion(lines: list[str]) -> int:
    """After the last person's table: before the first other table that follows it, and
    before the comments and blank lines right above that table."""
    last = max((i for i, line in enumerate(lines) if _PERSON.match(line)), default=-1)
    table = next((i for i in range(last + 1, len(lines)) if _TABLE.match(lines[i])), len(lines))
    while table > last + 1 and _SKIPPABLE.match(lines[table - 1]):
        table -= 1
    return table


def with_people(text: str, people: Sequence[Person]) -> str:
    """`text` with a `[[person]]` table for each of `people` added; every other line as it was."""
    if not people:
        return text
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    at = _insertion(lines)
    tables = newline.join(person_table(person, newline) for person in people)
    added = [newline, HEADER + newline, tables]
    if at < len(lines) and lines[at].strip():
        added.append(newline)  # what follows is not set apart by a blank line of its own
    return "".join([*lines[:at], *added, *lines[at:]])


def write_roster(path: Path, old: bytes, new: str) -> None:
    """Replace the roster atomically with `new`, if it still holds `old` (someone editing
    it meanwhile keeps their edit and the import says so) and if the config can load it."""
    data = new.encode("utf-8")
    with tempfile.TemporaryDirectory(prefix="meetbot-roster-") as scratch:
        trial = Path(scratch) / path.name
        trial.write_bytes(data)
        try:
            load_roster(trial)  # before anything is replaced
        except ConfigError as error:
            raise ConfigError(path, error.key, error.problem, error.fix) from None
    try:
        replace.replace(path, data, hashlib.sha256(old).hexdigest())
    except replace.Changed:
        raise ConfigError(
            path, "", "changed while the import was running", "run `meetbot import` again"
        ) from None
