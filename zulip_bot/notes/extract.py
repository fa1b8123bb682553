"""Owners, action items and decisions that people write inline in prose.

The notes have no action-item or decision sections: note-takers write `Action item: ...`,
`JRG to ...` or `Consensus: ...` as sub-bullets (notes-format.md sections 8 to 10). These
patterns work on the text of one paragraph, never on markdown syntax: markdown-it-py has already
told us where paragraphs and list items are.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from zulip_bot.notes.model import OwnerStyle

# Acronyms that look like initials but are labels or topics ("CEP: ...", "PR: ...").
NOT_INITIALS = frozenset(
    [
        "AI",
        "AOE",
        "API",
        "ARM",
        "BOF",
        "CEP",
        "CFEP",
        "CI",
        "CLA",
        "CPU",
        "CVE",
        "EOD",
        "ETA",
        "FAQ",
        "FYI",
        "GPU",
        "IO",
        "NB",
        "OS",
        "OSX",
        "PEP",
        "PR",
        "PRS",
        "PS",
        "PSA",
        "QA",
        "RC",
        "RFC",
        "SC",
        "TBD",
        "TLDR",
        "TODO",
        "TUF",
        "UI",
        "URL",
        "UX",
        "WIP",
    ]
)
NOT_NAMES = frozenset(
    [
        "TODO",
        "FYI",
        "WIP",
        "DONE",
        "NOTE",
        "NB",
        "EDIT",
        "UPDATE",
        "UPDATED",
        "DRAFT",
        "NEW",
        "OLD",
        "OPTIONAL",
    ]
)

_INITIALS = r"[A-Z](?:[a-z]?[A-Z]){1,2}"
_INITIALS_LIST = rf"{_INITIALS}(?:\s*/\s*{_INITIALS})*"
_NAME = r"@?[A-Za-z][\w.'-]{0,30}"
_NAME_LIST = rf"{_NAME}(?:\s*[/,&]\s*{_NAME})*"

_PREFIXES: tuple[tuple[OwnerStyle, re.Pattern[str]], ...] = (
    ("paren", re.compile(rf"\((?P<o>{_NAME_LIST})\)(?:\s+|$)")),
    ("bracket", re.compile(rf"\[(?P<o>\s*{_NAME_LIST}\s*)\](?![(\[:])(?:\s+|$)")),
    ("colon", re.compile(rf"(?P<o>{_INITIALS_LIST}):(?:\s+|$)")),
    ("dash", re.compile(rf"(?P<o>{_INITIALS_LIST})\s+[-\u2013\u2014](?:\s+|$)")),
)
_SPLIT = re.compile(r"\s*[/,&]\s*")


@dataclass(frozen=True)
class OwnerPrefix:
    owners: tuple[str, ...]
    style: OwnerStyle
    written: str  # the prefix exactly as written, trailing space included


def is_initials(text: str) -> bool:
    """Whether `XX: ...` written with these initials reads back as an owner: 2 or 3 capital
    letters (a lower-case one may sit between, as in `MvN`) that are not a label like `CI`."""
    return (
        re.fullmatch(_INITIALS, text) is not None
        and text.upper() not in NOT_INITIALS
        and text.upper() not in NOT_NAMES
    )


def split_owners(text: str) -> tuple[str, ...]:
    return tuple(part.lstrip("@") for part in _SPLIT.split(text.strip()) if part)


def owner_prefix(text: str) -> OwnerPrefix | None:
    """The `XX:`, `(XX)`, `[XX]` or `XX -` owner prefix at the start of an item's text."""
    for style, pattern in _PREFIXES:
        match = pattern.match(text)
        if match is None:
            continue
        owners = split_owners(match["o"])
        if not owners or any(o.upper() in NOT_NAMES for o in owners):
            return None
        if style in ("colon", "dash") and any(o.upper() in NOT_INITIALS for o in owners):
            return None
        return OwnerPrefix(owners, style, match.group(0))
    return None


def format_owner_prefix(owners: tuple[str, ...], style: OwnerStyle) -> str:
    joined = "/".join(owners)
    return {
        "colon": f"{joined}: ",
        "paren": f"({joined}) ",
        "bracket": f"[{joined}] ",
        "dash": f"{joined} - ",
    }[style]


# --- action items ---------------------------------------------------------------------------

_LABELLED_ACTION = re.compile(
    r"^(?:\w+\s+)?action\s+items?\s*(?::|-+)\s*(?P<rest>.+)$"
    r"|^AI\s*:\s*(?P<ai>.+)$"
    r"|^\(?TODO\)?(?:\s+for\s+(?P<for>@?[\w-]+))?\s*(?::|-+)?\s+(?P<todo>.+)$"
    r"|(?:^|\b)next\s+steps?\s*:\s*(?P<next>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_TODO_CASE = re.compile(r"^\(?(?:TODO|ToDo|Todo)\b")
_ASSIGNED = re.compile(rf"^(?P<o>{_NAME_LIST})\s+to\s+[a-z]")
_PAREN_OWNER = re.compile(rf"^\((?P<o>{_NAME_LIST})\)\s")


def _assignees(text: str, names: Collection[str]) -> tuple[str, ...]:
    """Who `text` assigns work to: `JRG to ...`, `Jaime to ...`, `(MRB) ...`."""
    match = _ASSIGNED.match(text) or _PAREN_OWNER.match(text)
    if match is None:
        return ()
    owners = split_owners(match["o"])
    if all(_is_person(o, names) for o in owners):
        return owners
    return ()


def _is_person(word: str, names: Collection[str]) -> bool:
    if word.upper() in NOT_INITIALS or word.upper() in NOT_NAMES:
        return False
    return re.fullmatch(_INITIALS, word) is not None or word.casefold() in names


def find_action(text: str, names: Collection[str] = ()) -> tuple[str, tuple[str, ...]] | None:
    """The action (text without its label, owners) that a paragraph records, if any.

    `names` are lower-cased first names known to belong to people, so that `Dasha to ...` is
    an assignment and `Welcome to ...` is not.
    """
    match = _LABELLED_ACTION.search(text)
    if match is not None and (match["todo"] is None or _TODO_CASE.match(text)):
        body = next(g for g in (match["rest"], match["ai"], match["todo"], match["next"]) if g)
        body = body.strip()
        owners = (match["for"].lstrip("@"),) if match["for"] else _assignees(body, names)
        return body, owners
    owners = _assignees(text, names)
    if owners and _ASSIGNED.match(text):
        return text.strip(), owners
    return None


# --- decisions ------------------------------------------------------------------------------

_DECISION = re.compile(
    r"^(?:consensus|decision|decided|agreed|agreement|conclusion|general\s+feeling"
    r"|compromise\s+resolution|resolution|resolved)\b",
    re.IGNORECASE,
)


def is_decision(text: str) -> bool:
    return _DECISION.match(text) is not None
