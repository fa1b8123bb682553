"""Meeting occurrences from a recurrence rule, in the meeting's own time zone.

Time is always an argument here: only the runner reads the clock, so tests can stand anywhere in
time. The rule runs on aware datetimes in the meeting's zone: dateutil then keeps the wall-clock
time (17:00 stays 17:00 across a DST change) while comparisons with `after` are by instant.
"""

from __future__ import annotations

import datetime as dt

from dateutil.rrule import rrulebase

from zulip_bot.config import MeetingConfig


def _rule(meeting: MeetingConfig) -> rrulebase:
    return meeting.recurrence()


def _require_aware(moment: dt.datetime) -> None:
    """A naive time is ambiguous by up to a day; guessing its zone would shift meetings."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; pass an aware datetime")


def occurrences(meeting: MeetingConfig, after: dt.datetime, count: int = 1) -> list[dt.datetime]:
    """Starts strictly after `after`, so a meeting starting at `after` counts as begun."""
    _require_aware(after)
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}")
    found = _rule(meeting).xafter(after, count=count) if count else ()
    return [start.astimezone(meeting.timezone) for start in found]


def next_occurrence(meeting: MeetingConfig, after: dt.datetime) -> dt.datetime | None:
    found = occurrences(meeting, after)
    return found[0] if found else None


def occurrence_on(meeting: MeetingConfig, day: dt.date) -> dt.datetime | None:
    """`day` is a date in the meeting's zone, as it is written in note file names."""
    midnight = dt.datetime.combine(day, dt.time.min, tzinfo=meeting.timezone)
    found = _rule(meeting).after(midnight, inc=True)
    return found.astimezone(meeting.timezone) if found is not None and found.date() == day else None


def current_occurrence(meeting: MeetingConfig, now: dt.datetime) -> dt.datetime | None:
    """The occurrence under way at `now`, else the next one: the draft people add items to."""
    _require_aware(now)
    ended = now.astimezone(dt.UTC) - dt.timedelta(minutes=meeting.duration_minutes)
    return next_occurrence(meeting, ended)
