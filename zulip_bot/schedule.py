"""Meeting occurrences from a recurrence rule, in the meeting's own time zone.

Time is always an argument here: only the runner reads the clock, so tests can stand anywhere in
time. The rule runs on aware datetimes in the meeting's zone: dateutil then keeps the wall-clock
time (17:00 stays 17:00 across a DST change) while comparisons with `after` are by instant.

A local start that does not exist (02:30 on the night clocks spring forward) or exists twice
(01:30 on the night they fall back) is read with `fold=0`, as RFC 5545 and so every calendar
reads it: with the UTC offset in force before the change. The first is then 03:30 summer time, the
second the earlier of the two 01:30s.

`due_jobs` turns occurrences into keyed jobs for the runner: open the agenda, remind owners,
remind the topic, start, end and summarize.
"""

from __future__ import annotations

import bisect
import datetime as dt
import enum
import functools
import threading
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from dateutil.rrule import rrulebase

from zulip_bot.config import MeetingConfig

_Near = dt.datetime | None


class _Timeline:
    """One meeting's starts, generated once, in order, as far as asked, and found by bisection:
    dateutil's own `between` walks from `first` on every call, which a runner ticking every few
    seconds for years should not. Locked, as the runner's clock and its event loop may both ask."""

    def __init__(self, rule: rrulebase) -> None:
        self._lock = threading.Lock()
        self._more: Iterator[dt.datetime] = iter(rule)
        self._starts: list[dt.datetime] = []
        self._instants: list[dt.datetime] = []
        self._exhausted = False

    def _cover(self, moment: dt.datetime) -> None:
        """Generate starts until one lies past `moment`, or the series ends."""
        while not self._exhausted and (not self._instants or self._instants[-1] <= moment):
            start = next(self._more, None)
            if start is None:
                self._exhausted = True
            else:
                self._starts.append(start)
                self._instants.append(_utc(start))

    def around(self, low: dt.datetime, high: dt.datetime) -> list[tuple[_Near, dt.datetime, _Near]]:
        """Each start in [low, high] with the one before it and the one after it (or None)."""
        low, high = _utc(low), _utc(high)
        with self._lock:
            self._cover(high)
            first = bisect.bisect_left(self._instants, low)
            last = bisect.bisect_right(self._instants, high)
            starts = self._starts[first:last]
            before = self._starts[first - 1] if first else None
            after = self._starts[last] if last < len(self._starts) else None
        near = [before, *starts, after]
        return list(zip(near[:-2], starts, near[2:], strict=True))

    def after(self, moment: dt.datetime, count: int, inclusive: bool = False) -> list[dt.datetime]:
        moment = _utc(moment)
        found: list[dt.datetime] = []
        with self._lock:
            while len(found) < count:
                self._cover(moment)
                search = bisect.bisect_left if inclusive and not found else bisect.bisect_right
                index = search(self._instants, moment)
                if index == len(self._starts):
                    break
                found.append(self._starts[index])
                moment = self._instants[index]
        return found


@functools.lru_cache(maxsize=128)
def _timeline(meeting: MeetingConfig) -> _Timeline:
    return _Timeline(meeting.recurrence())


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def _local(meeting: MeetingConfig, moment: dt.datetime) -> dt.datetime:
    """Through UTC: `astimezone` to a datetime's own zone returns it as it is, so a start in the
    spring-forward gap would keep a wall-clock time that never shows."""
    return _utc(moment).astimezone(meeting.timezone)


def _require_aware(moment: dt.datetime) -> None:
    """A naive time is ambiguous by up to a day; guessing its zone would shift meetings."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; pass an aware datetime")


def occurrences(meeting: MeetingConfig, after: dt.datetime, count: int = 1) -> list[dt.datetime]:
    """Starts strictly after `after`, so a meeting starting at `after` counts as begun."""
    _require_aware(after)
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}")
    found = _timeline(meeting).after(after, count)
    return [_local(meeting, start) for start in found]


def next_occurrence(meeting: MeetingConfig, after: dt.datetime) -> dt.datetime | None:
    found = occurrences(meeting, after)
    return found[0] if found else None


def occurrence_on(meeting: MeetingConfig, day: dt.date) -> dt.datetime | None:
    """`day` is a date in the meeting's zone, as it is written in note file names."""
    midnight = dt.datetime.combine(day, dt.time.min, tzinfo=meeting.timezone)
    found = _timeline(meeting).after(midnight, 1, inclusive=True)
    return _local(meeting, found[0]) if found and found[0].date() == day else None


def current_occurrence(meeting: MeetingConfig, now: dt.datetime) -> dt.datetime | None:
    """The occurrence under way at `now`, else the next one: the draft people add items to."""
    _require_aware(now)
    ended = now.astimezone(dt.UTC) - dt.timedelta(minutes=meeting.duration_minutes)
    return next_occurrence(meeting, ended)


# --- jobs -------------------------------------------------------------------------------------


class JobKind(enum.StrEnum):
    """What the runner does for one occurrence, in the order it happens."""

    AGENDA = "agenda"  # make the draft and post the agenda in the meeting's topic
    OWNERS = "owners"  # direct-message each owner of an open action item (remind_owners)
    REMIND = "remind"  # remind the topic, mentioning the organizers
    START = "start"  # start the meeting, unless started by hand
    END = "end"  # end and summarize, unless ended by hand


_ORDER: Final = {kind: rank for rank, kind in enumerate(JobKind)}
#: A summary nobody could post (the bot was down) is still worth posting this long after it was
#: due, unless the next occurrence has started: a week-old summary beats none.
SUMMARY_GRACE: Final = dt.timedelta(days=7)


@dataclass(frozen=True, order=True)
class JobKey:
    """What the runner stores once a job is done, so that no job is ever done twice.

    `occurrence` is the start's wall-clock time in the meeting's zone, as the rule gives it, so a
    key does not change with the UTC offset a tzdata update might give that day."""

    meeting: str
    occurrence: dt.datetime
    kind: JobKind

    def __post_init__(self) -> None:
        if self.occurrence.tzinfo is not None:
            raise ValueError(f"{self.occurrence.isoformat()}: a job key holds a local time")

    def __str__(self) -> str:
        return f"{self.meeting}/{self.occurrence.isoformat()}/{self.kind}"

    @property
    def day(self) -> dt.date:
        """The occurrence's date, as the store and the notes file name it."""
        return self.occurrence.date()

    @classmethod
    def parse(cls, text: str) -> JobKey:
        """The inverse of `str()`: keys come back from SQLite as text."""
        parts = text.split("/")
        try:
            meeting, moment, kind = parts
            return cls(meeting, dt.datetime.fromisoformat(moment), JobKind(kind))
        except ValueError:
            raise ValueError(
                f"{text!r} is not a job key like 'community/2024-11-06T17:00:00/agenda'"
            ) from None


@dataclass(frozen=True)
class Job:
    """A job and the span in which doing it still makes sense: `due <= now < until`.

    The schedule cannot see the store, so "unless started (ended) by hand" is the meeting
    layer's check: `meeting/thread.py` does a START or END job as nothing when the
    occurrence's status says an organizer did it first."""

    key: JobKey
    meeting: MeetingConfig
    #: The occurrence's start, aware, in the meeting's zone.
    start: dt.datetime
    #: Both in UTC.
    due: dt.datetime
    until: dt.datetime

    def is_due(self, now: dt.datetime) -> bool:
        return self.due <= now < self.until


def _jobs(
    meeting: MeetingConfig, previous: _Near, start: dt.datetime, following: _Near
) -> list[Job]:
    """Leads and delays are exact lengths of time, taken in UTC: "2 days" before a Monday 17:00
    meeting just after a DST change is 16:00 or 18:00 local on the Saturday."""
    begin = _utc(start)
    over = begin + dt.timedelta(minutes=meeting.duration_minutes)
    summary = over + meeting.summary_delay
    summary_until = summary + SUMMARY_GRACE
    if following is not None and summary < _utc(following) < summary_until:
        summary_until = _utc(following)
    spans = [
        (JobKind.AGENDA, begin - meeting.agenda_lead, over),
        (JobKind.REMIND, begin - meeting.reminder_lead, begin),
        (JobKind.START, begin, over),
        (JobKind.END, summary, summary_until),
    ]
    if meeting.remind_owners:
        # After the previous meeting's summary, so that its new action items are in it.
        since = begin - meeting.agenda_lead
        if previous is not None:
            previous_over = _utc(previous) + dt.timedelta(minutes=meeting.duration_minutes)
            since = max(since, previous_over + meeting.summary_delay)
        spans.append((JobKind.OWNERS, since, begin))
    local = start.replace(tzinfo=None)
    jobs = [
        Job(
            JobKey(meeting.key, local, kind),
            meeting,
            _local(meeting, start),
            due,
            until,
        )
        for kind, due, until in spans
    ]
    return sorted(jobs, key=lambda job: (job.due, _ORDER[job.key.kind]))


def _reach(meeting: MeetingConfig) -> tuple[dt.timedelta, dt.timedelta]:
    """How far before and after `now` an occurrence can start and still have a job due now."""
    after = max(meeting.agenda_lead, meeting.reminder_lead)
    length = dt.timedelta(minutes=meeting.duration_minutes)
    return length + meeting.summary_delay + SUMMARY_GRACE, after


def jobs_for(meeting: MeetingConfig, start: dt.datetime) -> list[Job]:
    """Every job of the occurrence that starts at `start` (one of the meeting's starts)."""
    _require_aware(start)
    found = _timeline(meeting).around(start, start)
    if not found:
        raise ValueError(f"{start.isoformat()} is not a start of meetings.{meeting.key}")
    return _jobs(meeting, *found[0])


def next_due(
    meetings: Iterable[MeetingConfig], now: dt.datetime, done: Container[JobKey]
) -> dt.datetime | None:
    """When the next job not in `done` falls due, strictly after `now` (in UTC), or None: the
    runner waits for events no longer than that. A job due already but not done (it failed)
    is not counted: it is tried again at the runner's next regular tick, not in a tight loop.

    Occurrences are walked forward from those around `now` until one starts too late for any
    of its jobs to come first."""
    _require_aware(now)
    found: list[dt.datetime] = []
    for meeting in meetings:
        before, after = _reach(meeting)
        timeline = _timeline(meeting)
        near = timeline.around(now - before, now + after)
        found += _pending(meeting, near, now, done)
        moment = now + after
        while following := timeline.after(moment, 1):
            moment = following[0]
            if found and _utc(moment) - after >= min(found):
                break
            found += _pending(meeting, timeline.around(moment, moment), now, done)
    return min(found, default=None)


def _pending(
    meeting: MeetingConfig,
    near: list[tuple[_Near, dt.datetime, _Near]],
    now: dt.datetime,
    done: Container[JobKey],
) -> list[dt.datetime]:
    return [
        job.due
        for occurrence in near
        for job in _jobs(meeting, *occurrence)
        if job.due > now and job.key not in done
    ]


def due_jobs(
    meetings: Iterable[MeetingConfig], now: dt.datetime, done: Container[JobKey]
) -> list[Job]:
    """The jobs to do at `now` that are not in `done`, the earliest due first.

    A job missed while the bot was down stays due until its `until`; past that it is dropped
    for good. Only the occurrences near `now` are looked at, so a tick costs the same in a
    series' tenth year as in its first."""
    _require_aware(now)
    found = [job for job in _around(meetings, now, now) if job.is_due(now) and job.key not in done]
    return _in_order(found)


def jobs_fallen_due(
    meetings: Iterable[MeetingConfig], since: dt.datetime, now: dt.datetime
) -> list[Job]:
    """The jobs that fell due after `since` and by `now` (`since < due <= now`), done or not,
    the earliest first: what a bot that was not running over that span owed. Only the
    occurrences of the span are looked at."""
    _require_aware(since)
    _require_aware(now)
    return _in_order([job for job in _around(meetings, since, now) if since < job.due <= now])


def _around(meetings: Iterable[MeetingConfig], low: dt.datetime, high: dt.datetime) -> list[Job]:
    """Every job of the occurrences that can have a job due between `low` and `high`."""
    found: list[Job] = []
    for meeting in meetings:
        before, after = _reach(meeting)
        for near in _timeline(meeting).around(low - before, high + after):
            found += _jobs(meeting, *near)
    return found


def _in_order(jobs: list[Job]) -> list[Job]:
    return sorted(jobs, key=lambda job: (job.due, _ORDER[job.key.kind], job.key.meeting))
