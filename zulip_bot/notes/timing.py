"""Time on agenda items, as the notes write it: a planned time at the end of an item's text,
and the minutes it took in a sub-bullet under it.

The planned time is the item's own words, kept as typed, so a hand edit of the draft changes
it as surely as `edit` does. It is a parenthesis at the very end of the text:

- minutes: `(10 min)`, `(10 mins)`, `(10 minutes)`, `(10m)`, `(5 m)`;
- hours: `(1h)`, `(2 hours)`, `(1 hr)`;
- hours and minutes: `(1h30)`, `(1h 30m)`, `(1 hour 30 minutes)`.

Case and the spaces between number and unit do not matter; the minutes after hours are 0 to
59; the whole is 1 minute to 8 hours. Anything else in parentheses stays words
(`(2024)`, `(see #12)`); a parenthesis that starts with a number and looks like a time but is
none (`(10 mn)`, `(1.5h)`, `(0 min)`) is a `near_miss`, so chat can say what would work.

What an item took is recorded when its meeting ends, as a sub-bullet in the notes' own
lower-case label style: `- time: 12 min (planned 10)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zulip_bot.notes.model import AgendaItem

MAX_MINUTES = 8 * 60
_MIN = r"(?:m|mins?|minutes?)"
_HOUR = r"(?:h|hrs?|hours?)"
_PLANNED = re.compile(
    r"\(\s*(?:"
    rf"(?P<hours>\d{{1,2}})\s*{_HOUR}(?:\s*(?P<rest>\d{{1,2}})(?:\s*{_MIN})?)?"
    rf"|(?P<minutes>\d{{1,3}})\s*{_MIN}"
    r")\s*\)\s*$",
    re.IGNORECASE,
)
# A parenthesis at the end: a number, then a word that starts like an hour or minute unit.
_TIMELIKE = re.compile(r"\(\s*\d[\d.,:]*\s*[hm][a-z]*\s*\d*\s*[a-z]*\s*\)\s*$", re.I)
_SPENT = re.compile(r"time: (?P<spent>\d+) min(?: \(planned (?P<planned>\d+)\))?", re.IGNORECASE)


@dataclass(frozen=True)
class Planned:
    """An item's planned time: `minutes`, the item's words without it, and how it was typed."""

    minutes: int
    text: str
    written: str


@dataclass(frozen=True)
class Spent:
    """What an item took, as its `time:` sub-bullet records it."""

    minutes: int
    planned: int | None


def planned(text: str) -> Planned | None:
    """The planned time at the end of an item's text, or None when it gives none."""
    found = _PLANNED.search(text)
    if found is None:
        return None
    if found["minutes"] is not None:
        minutes = int(found["minutes"])
    else:
        rest = int(found["rest"] or 0)
        if rest >= 60:
            return None
        minutes = int(found["hours"]) * 60 + rest
    if not 0 < minutes <= MAX_MINUTES:
        return None
    return Planned(minutes, text[: found.start()].rstrip(), found.group(0).strip())


def near_miss(text: str) -> str | None:
    """A parenthesis at the end of `text` that was surely meant as a planned time but is not
    one, as written; None when the text gives a time or gives none."""
    if planned(text) is not None:
        return None
    found = _TIMELIKE.search(text)
    return found.group(0).strip() if found else None


def words(text: str) -> str:
    """The item's words without its planned time."""
    found = planned(text)
    return found.text if found else text


def replanned(text: str, new: str) -> str | None:
    """`text` with the planned time of `new`, when `new` is nothing but a planned time (as in
    `edit 3 (15 min)`); None when `new` has words of its own."""
    given = planned(new)
    if given is None or given.text:
        return None
    return f"{words(text)} {given.written}"


def minutes_text(minutes: int) -> str:
    """`45 min`, `1h`, `1h30`: one of the accepted forms, so what the bot writes reads back."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours}h{rest:02d}" if rest else f"{hours}h"


def spent_note(minutes: int, planned_minutes: int) -> str:
    """The sub-bullet recording what a discussed item took."""
    return f"time: {minutes} min (planned {planned_minutes})"


def spent(item: AgendaItem) -> Spent | None:
    """What an item took, read from its `time:` sub-bullet (the first, if there are several)."""
    for child in item.children:
        found = _SPENT.fullmatch(child.text.strip())
        if found is not None:
            plan = found["planned"]
            return Spent(int(found["spent"]), int(plan) if plan is not None else None)
    return None
