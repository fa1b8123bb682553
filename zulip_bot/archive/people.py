"""Roster people from the attendee sections of past notes, and how they meet the roster.

A person is known by their GitHub handle where any mention gives one, else by their full name
folded (accents and case aside). Across mentions the latest wins, field by field, so a later
bare name does not erase an earlier handle. Two things are reported rather than guessed: one
set of initials claimed by two people (the roster could not tell their items apart) and one
person written two ways that differ only by accents or case (which spelling is theirs is for a
person to say). A mention with neither a handle nor a full name (`Jaime`, `Matt B`) names
nobody the roster can take.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from zulip_bot.config import Person, Roster, fold_name
from zulip_bot.notes import Attendee
from zulip_bot.notes.extract import is_initials

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_NAME_WORD = re.compile(r"[^\W\d_][\w'\u2019.-]*")
_FIELDS = ("name", "initials", "affiliation", "github")


@dataclass(frozen=True)
class Mention:
    """One attendee line or row, with the meeting it is from."""

    attendee: Attendee
    day: dt.date
    path: Path


@dataclass(frozen=True)
class Difference:
    """A roster person whom the archive writes otherwise; the roster's line stays."""

    person: Person
    field: str
    roster: str
    archive: str
    seen: Mention  # the latest mention that says so


@dataclass(frozen=True)
class Clash:
    """One set of initials claimed by several people."""

    initials: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Spellings:
    """One person written in ways that differ only by accents or case."""

    names: tuple[str, ...]
    in_roster: bool


@dataclass(frozen=True)
class RosterPlan:
    new: tuple[Person, ...]  # in order of their latest mention
    made_initials: tuple[str, ...]  # names of new people whose initials no note wrote
    differences: tuple[Difference, ...]
    clashes: tuple[Clash, ...]
    spellings: tuple[Spellings, ...]
    known: int  # people of the archive already in the roster
    nameless: int  # mentions that name nobody the roster can take
    no_initials: tuple[str, ...]  # new people with no initials written or to be made


def clean(attendee: Attendee) -> Attendee:
    """Links and emphasis around what a cell or list line says are not part of it."""
    name = " ".join(_LINK.sub(r"\1", attendee.name).strip("*_ ").split())
    github = attendee.github.strip().strip("`").lstrip("@")
    initials = attendee.initials.strip()
    if not is_initials(initials) and is_initials(initials.upper()):
        initials = initials.upper()
    return Attendee(
        name,
        initials if is_initials(initials) else "",
        " ".join(attendee.affiliation.split()),
        github if re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})", github) else "",
    )


def is_full_name(name: str) -> bool:
    """Two to five words, the last one not cut short: `Cheng H. Lee`, not `Matt B` or
    `Jaime Rodríguez-G.`."""
    words = name.split()
    return (
        2 <= len(words) <= 5
        and words[0][:1].isupper()
        and all(_NAME_WORD.fullmatch(word) for word in words)
        and all(len(part) > 1 for part in words[-1].split("-"))
        and not words[-1].endswith(".")
    )


def made_initials(name: str) -> str:
    """The first letter of each part of the name, as the notes make them (`JRG`, `MvN`),
    or "" where that reads back as no owner."""
    letters = ""
    for word in re.split(r"[\s-]+", name):
        plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
        letters += next((ch for ch in plain if ch.isalpha()), "")
    return letters if is_initials(letters) else ""


def _key(name: str) -> str:
    """`Cheng H. Lee` and `Cheng H Lee`, `Rodríguez` and `Rodriguez` are one name."""
    return fold_name(name.replace(".", " "))


def _usable(attendee: Attendee) -> bool:
    """A handle names someone whatever the name cell says (`Avalon`); a bare name must be a
    full one. A template's `XXXX` row names nobody."""
    named = any(ch.islower() for ch in attendee.name)
    return named and (bool(attendee.github) or is_full_name(attendee.name))


def _groups(mentions: Iterable[Mention]) -> list[list[Mention]]:
    """The mentions of each person, earliest first: those that share a handle or a full name
    are one person's (a handle mistyped once, or changed, still meets the name)."""
    usable = sorted(
        (m for m in mentions if _usable(m.attendee)), key=lambda m: (m.day, str(m.path))
    )
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    def keys(attendee: Attendee) -> list[str]:
        found = [f"gh:{attendee.github.casefold()}"] if attendee.github else []
        return found + ([f"name:{_key(attendee.name)}"] if is_full_name(attendee.name) else [])

    for mention in usable:
        first, *rest = keys(mention.attendee)
        for key in rest:
            parent[root(key)] = root(first)
    groups: dict[str, list[Mention]] = {}
    for mention in usable:
        groups.setdefault(root(keys(mention.attendee)[0]), []).append(mention)
    return list(groups.values())


def _latest(mentions: list[Mention], field: str) -> str:
    values = [str(getattr(m.attendee, field)) for m in mentions]
    if field == "name":
        full = [v for v in values if is_full_name(v)]
        values = full or values
    return next((v for v in reversed(values) if v), "")


def _spellings(mentions: list[Mention]) -> tuple[str, ...]:
    by_fold: dict[str, set[str]] = {}
    for mention in mentions:
        if is_full_name(mention.attendee.name):
            by_fold.setdefault(fold_name(mention.attendee.name), set()).add(mention.attendee.name)
    return tuple(sorted(next((n for n in by_fold.values() if len(n) > 1), set())))


def _in_roster(roster: Roster, group: list[Mention]) -> Person | None:
    handles = {m.attendee.github.casefold() for m in group if m.attendee.github}
    names = {_key(m.attendee.name) for m in group if is_full_name(m.attendee.name)}
    return next(
        (p for p in roster.people if p.github.casefold() in handles or _key(p.name) in names),
        None,
    )


def plan_roster(mentions: Iterable[Mention], roster: Roster) -> RosterPlan:
    mentions = [Mention(clean(m.attendee), m.day, m.path) for m in mentions]
    groups = _groups(mentions)
    nameless = len(mentions) - sum(len(g) for g in groups)
    candidates: list[tuple[Person, list[Mention], bool]] = []
    differences: list[Difference] = []
    spellings: list[Spellings] = []
    known = 0
    for group in sorted(groups, key=lambda g: (g[-1].day, str(g[-1].path))):
        name, initials, affiliation, github = (_latest(group, field) for field in _FIELDS)
        written = bool(initials)
        person = Person(name, initials or made_initials(name), affiliation, github)
        variants = _spellings(group)
        existing = _in_roster(roster, group)
        if variants:
            spellings.append(Spellings(variants, existing is not None))
        if existing is not None:
            known += 1
            differences += _differences(existing, person, group, written)
        elif not variants:
            candidates.append((person, group, written))
    clashes, taken = _clashes(roster, candidates)
    new = [p for p, _, _ in candidates if p.initials and p.initials.casefold() not in taken]
    return RosterPlan(
        new=tuple(new),
        made_initials=tuple(p.name for p, _, written in candidates if not written and p in new),
        differences=tuple(differences),
        clashes=tuple(clashes),
        spellings=tuple(spellings),
        known=known,
        nameless=nameless,
        no_initials=tuple(p.name for p, _, _ in candidates if not p.initials),
    )


def _differences(
    existing: Person, person: Person, group: list[Mention], written: bool
) -> list[Difference]:
    """What the archive says otherwise than the roster, made-up initials aside."""
    found = []
    for field in _FIELDS:
        ours, theirs = str(getattr(existing, field)), str(getattr(person, field))
        if not theirs or (field == "initials" and not written):
            continue
        if ours != theirs if field == "name" else fold_name(ours) != fold_name(theirs):
            seen = next(m for m in reversed(group) if getattr(m.attendee, field) == theirs)
            found.append(Difference(existing, field, ours, theirs, seen))
    return found


def _clashes(
    roster: Roster, candidates: list[tuple[Person, list[Mention], bool]]
) -> tuple[list[Clash], set[str]]:
    """Initials claimed by two people (new ones, or a new one and the roster's): reported,
    and the new claimants left out."""
    claims: dict[str, list[str]] = {}
    for person in roster.people:
        claims.setdefault(person.initials.casefold(), []).append(person.name)
    for person, _, _ in candidates:
        if person.initials:
            claims.setdefault(person.initials.casefold(), []).append(person.name)
    clashed = {key: names for key, names in claims.items() if len(names) > 1}
    clashes = [
        Clash(next(p.initials for p, _, _ in candidates if p.initials.casefold() == key), tuple(n))
        for key, n in sorted(clashed.items())
    ]
    return clashes, set(clashed)
