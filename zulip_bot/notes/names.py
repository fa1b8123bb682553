"""Which person an owner written in the notes stands for.

Older notes name owners the way people talk (`Jaime will ...`, `(Eric) ...`, `John K. will
...`, `jjhelmus to ...`); the bot and its registry know people by initials. An owner is the
person a roster or the file's attendee list knows by that name, initials or GitHub handle, when
exactly one person fits; otherwise it stays as written, since a guess would put a task on the
wrong person's list.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from typing import Protocol


class Named(Protocol):
    """A roster person or an attendee: what it takes to recognise someone by name."""

    @property
    def name(self) -> str: ...

    @property
    def initials(self) -> str: ...

    @property
    def github(self) -> str: ...


def fold(text: str) -> str:
    """`Rodríguez` and `rodriguez` are one spelling: notes drop accents and case freely."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def spellings(person: Named) -> Iterator[str]:
    """The folded forms an owner may take for `person`: initials, handle, name, first name."""
    for value in (person.initials, person.github.lstrip("@"), person.name):
        if value.strip():
            yield fold(value)
    words = person.name.split()
    if len(words) > 1:
        yield fold(words[0])


def _fits(owner: str, person: Named) -> bool:
    if owner in spellings(person):
        return True
    words = owner.split()  # `John K.`, `Mike S`: a first name and the last name's initial
    names = fold(person.name).split()
    return (
        len(words) == 2
        and len(names) > 1
        and len(words[1].rstrip(".")) == 1
        and words[0] == names[0]
        and names[-1].startswith(words[1].rstrip("."))
    )


def person_for(owner: str, *lists: Sequence[Named]) -> str:
    """The initials (or, without initials, the name) of the one person the first list that
    knows `owner` names so; `owner` as written when none does or when several people fit."""
    wanted = fold(owner.lstrip("@").rstrip("?"))
    for people in lists:
        found = {(p.initials, p.name) for p in people if _fits(wanted, p)}
        if len(found) == 1:
            initials, name = found.pop()
            return initials or name
        if found:
            break  # two people answer to this name: say neither
    return owner
