"""Meeting occurrences from a recurrence rule, in the meeting's own time zone.

Time is always an argument here: the runner owns the clock, so tests can stand anywhere in time.
"""

from __future__ import annotations

import datetime as dt

from dateutil.rrule import rrulestr

from zulip_bot.config import MeetingConfig


def _rule(meeting: MeetingConfig) -> object:
    # The rule runs on naive local wall-clock times, so that 17:00 stays 17:00 across DST.
    return rrulestr(meeting.schedule, dtstart=dt.datetime.combine(meeting.first, meeting.start))


def occurrences(meeting: MeetingConfig, after: dt.datetime, count: int = 1) -> list[dt.datetime]:
    """The next `count` starts strictly after `after`, as aware datetimes in the meeting's zone."""
    if after.tzinfo is None:
        raise ValueError("`after` must be timezone-aware")
    local = after.astimezone(meeting.timezone).replace(tzinfo=None)
    rule = _rule(meeting)
    found: list[dt.datetime] = []
    while len(found) < count:
        start = rule.after(local)  # type: ignore[attr-defined]
        if start is None:
            break
        found.append(start.replace(tzinfo=meeting.timezone))
        local = start
    return found


def next_occurrence(meeting: MeetingConfig, after: dt.datetime) -> dt.datetime | None:
    found = occurrences(meeting, after)
    return found[0] if found else None


def current_occurrence(meeting: MeetingConfig, now: dt.datetime) -> dt.datetime | None:
    """The occurrence that is under way at `now`, else the next one: the draft people add to."""
    return next_occurrence(meeting, now - dt.timedelta(minutes=meeting.duration_minutes))
