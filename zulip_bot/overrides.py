"""The calendar as chat changes it: skips, moves and extra meetings on top of the config.

The config is the base (its rule, `skip` and `[[moved]]`). What organizers change from chat is a
log of `Change`s that the store keeps and `Calendars` replays onto the config, oldest first. The
result is a `MeetingConfig` per meeting (`Calendars.config`) with the same `skip`, `moved` and
`extra` a config holds, so `schedule.py` (the bot's jobs), `meetbot check-config` and `meetbot
ics` all compute the same meetings from it, and a restart or an edited config keeps what chat
changed. A change is checked against the whole calendar before it is kept, and refused with a
reason people can act on (`CalendarError`).

People name an occurrence by the date it has now, as `schedule` shows it; a change records it
by its `ident`: the date the rule gives it, which a move does not change (an extra's is its own
date). No two occurrences share a date or an ident, so either names one: each day's meeting has
its own notes file and topic.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final
from zoneinfo import ZoneInfo

from zulip_bot import schedule
from zulip_bot.config import BotConfig, Extra, MeetingConfig, Move, near_dates, topic_clash

#: `Change.by` of what the config itself says.
CONFIG: Final = ""
#: How far either side of a changed start another meeting's could overlap it.
_AROUND: Final = dt.timedelta(days=1)


@dataclass(frozen=True)
class CalendarRow:
    """A `Change` as the store keeps it: text, so that the store needs no calendar logic."""

    meeting: str
    kind: str
    day: str
    moment: str | None
    zone: str | None
    text: str
    by: str
    made: str


class CalendarError(ValueError):
    """A change that cannot be made; the message says why, for the person who asked."""


class Kind(enum.StrEnum):
    SKIP = "skip"
    UNSKIP = "unskip"
    MOVE = "move"
    EXTRA = "extra"


@dataclass(frozen=True)
class Change:
    """One change to one meeting's calendar. `day` is the occurrence's ident (an extra's
    own date); `to` is where a move puts it or when an extra starts (aware); `text` is a
    skip's reason or an extra's title; `by` the email of who made it, `made` when (UTC)."""

    meeting: str
    kind: Kind
    day: dt.date
    to: dt.datetime | None = None
    text: str = ""
    by: str = CONFIG
    made: dt.datetime | None = None

    def row(self) -> CalendarRow:
        """Local time and zone apart: a tzdata update keeps the wall-clock time asked for."""
        moment = self.to.replace(tzinfo=None).isoformat() if self.to else None
        zone = str(self.to.tzinfo) if self.to else None
        made = self.made.astimezone(dt.UTC).isoformat() if self.made else ""
        return CalendarRow(
            self.meeting, self.kind, self.day.isoformat(), moment, zone, self.text, self.by, made
        )

    @classmethod
    def from_row(cls, row: CalendarRow) -> Change:
        to = None
        if row.moment is not None:
            to = dt.datetime.fromisoformat(row.moment).replace(tzinfo=ZoneInfo(row.zone or "UTC"))
        made = dt.datetime.fromisoformat(row.made) if row.made else None
        day = dt.date.fromisoformat(row.day)
        return cls(row.meeting, Kind(row.kind), day, to, row.text, row.by, made)


@dataclass(frozen=True)
class Occurrence:
    """One meeting as the calendar has it now, skipped ones included."""

    meeting: MeetingConfig
    ident: dt.date
    #: Aware, in the meeting's zone: where it takes place.
    start: dt.datetime
    #: The rule's start, when a move put it elsewhere.
    planned: dt.datetime | None = None
    added: Change | None = None
    moved: Change | None = None
    skipped: Change | None = None

    @property
    def day(self) -> dt.date:
        return self.start.date()

    @property
    def title(self) -> str:
        return self.added.text if self.added and self.added.text else self.meeting.title


@dataclass(frozen=True)
class _Added:
    change: Change
    at: dt.datetime
    moved: Change | None = None


def _rule(meeting: MeetingConfig) -> MeetingConfig:
    """The meeting as its rule alone has it: what idents are dates of."""
    return replace(meeting, skip=(), moved=(), extra=())


def _local(meeting: MeetingConfig, moment: dt.datetime) -> dt.datetime:
    """In the meeting's zone, through UTC, so a wall-clock time of another zone is converted."""
    return moment.astimezone(dt.UTC).astimezone(meeting.timezone)


@dataclass(frozen=True, eq=False)
class Calendar:
    """One meeting's calendar: the config's, with chat's changes replayed on it."""

    meeting: MeetingConfig
    skipped: Mapping[dt.date, Change] = field(default_factory=dict)
    moved: Mapping[dt.date, Change] = field(default_factory=dict)
    extras: Mapping[dt.date, _Added] = field(default_factory=dict)
    #: Changes that name no occurrence any more: the config's rule changed under them.
    stale: tuple[Change, ...] = ()

    @classmethod
    def replay(cls, meeting: MeetingConfig, changes: Iterable[Change]) -> Calendar:
        rule = _rule(meeting)
        skipped = {day: Change(meeting.key, Kind.SKIP, day) for day in meeting.skip}
        moved = {m.original: Change(meeting.key, Kind.MOVE, m.original, m.to)
                 for m in meeting.moved}  # fmt: skip
        extras: dict[dt.date, _Added] = {}
        stale: list[Change] = []
        for change in changes:
            is_rule = schedule.occurrence_on(rule, change.day) is not None
            if change.kind is Kind.EXTRA and change.to is not None:
                extras[change.day] = _Added(change, _local(meeting, change.to))
            elif change.kind is not Kind.EXTRA and change.day in extras:
                if change.kind is Kind.MOVE and change.to is not None:
                    added = extras.pop(change.day)
                    at = _local(meeting, change.to)
                    extras[at.date()] = replace(added, at=at, moved=change)
                else:
                    _mark(skipped, change)
            elif not is_rule or (change.kind is Kind.MOVE and change.to is None):
                stale.append(change)
            elif change.kind is Kind.MOVE and change.to is not None:
                to = _local(meeting, change.to)
                if to == schedule.occurrence_on(rule, change.day):
                    moved.pop(change.day, None)  # moved back to its own time
                else:
                    moved[change.day] = replace(change, to=to)
            else:
                _mark(skipped, change)
        return cls(meeting, skipped, moved, extras, tuple(stale))

    def effective(self) -> MeetingConfig:
        """The meeting with this calendar's skips, moves and extras, for `schedule.py`."""
        skip = tuple(sorted(day for day in self.skipped if day not in self.extras))
        moved = tuple(
            Move(day, change.to)
            for day, change in sorted(self.moved.items())
            if day not in self.skipped and change.to is not None
        )
        extra = tuple(
            Extra(added.at, added.change.text, added.change.made)
            for day, added in sorted(self.extras.items())
            if day not in self.skipped
        )
        return replace(self.meeting, skip=skip, moved=moved, extra=extra)

    def occurrence(self, ident: dt.date) -> Occurrence | None:
        """The occurrence with this ident, skipped or not."""
        skipped = self.skipped.get(ident)
        if ident in self.extras:
            added = self.extras[ident]
            return Occurrence(
                self.meeting, ident, added.at, None, added.change, added.moved, skipped
            )
        planned = schedule.occurrence_on(_rule(self.meeting), ident)
        if planned is None:
            return None
        moved = self.moved.get(ident)
        if moved is None or moved.to is None:
            return Occurrence(self.meeting, ident, planned, skipped=skipped)
        return Occurrence(self.meeting, ident, moved.to, planned, moved=moved, skipped=skipped)

    def on(self, day: dt.date) -> list[Occurrence]:
        """Every occurrence held on `day` or named by it, skipped ones too."""
        idents = {day} | {ident for ident, c in self.moved.items() if c.to and c.to.date() == day}
        found = (self.occurrence(ident) for ident in sorted(idents))
        return [o for o in found if o is not None and day in (o.day, o.ident)]

    def upcoming(self, after: dt.datetime, count: int) -> list[Occurrence]:
        """The next `count` occurrences held after `after`, with those skipped among them."""
        more = count + len(self.moved) + len(self.skipped)
        rule = schedule.occurrences(_rule(self.meeting), after, more)
        idents = {start.date() for start in rule} | set(self.moved) | set(self.extras)
        found = (self.occurrence(ident) for ident in idents)
        later = sorted((o for o in found if o is not None and o.start > after),
                       key=lambda o: o.start)  # fmt: skip
        held = [index for index, o in enumerate(later) if o.skipped is None]
        return later[: held[count - 1] + 1] if len(held) >= count > 0 else later


def _mark(skipped: dict[dt.date, Change], change: Change) -> None:
    if change.kind is Kind.SKIP:
        skipped[change.day] = change
    else:
        skipped.pop(change.day, None)


class Calendars:
    """Every meeting's calendar: the config, chat's changes, and what a new change may do."""

    def __init__(self, base: BotConfig, changes: Sequence[Change] = ()) -> None:
        self.base = base
        self.changes = tuple(changes)

    @classmethod
    def from_rows(cls, base: BotConfig, rows: Iterable[CalendarRow]) -> Calendars:
        return cls(base, [Change.from_row(row) for row in rows])

    @functools.cached_property
    def _calendars(self) -> dict[str, Calendar]:
        return {
            m.key: Calendar.replay(m, (c for c in self.changes if c.meeting == m.key))
            for m in self.base.meetings
        }

    @functools.cached_property
    def config(self) -> BotConfig:
        """The config with every meeting's calendar applied: what the bot schedules by."""
        meetings = tuple(self._calendars[m.key].effective() for m in self.base.meetings)
        return replace(self.base, meetings=meetings)

    def of(self, key: str) -> Calendar:
        """Raises KeyError for a meeting the config does not have: a bug in the caller."""
        return self._calendars[key]

    def with_change(self, change: Change) -> Calendars:
        return Calendars(self.base, (*self.changes, change))

    # --- changes, checked -------------------------------------------------------------------

    def skip(
        self, key: str, day: dt.date | None, reason: str, by: str, now: dt.datetime
    ) -> tuple[Change, Occurrence]:
        """`day` None is the next occurrence not skipped yet."""
        calendar = self.of(key)
        if day is None:
            ahead = [o for o in calendar.upcoming(now, 1) if o.skipped is None]
            found = ahead[0] if ahead else None
            if found is None:
                raise CalendarError(f"{calendar.meeting.title} has no more meetings to skip.")
        else:
            found = self._named(calendar, day, skipped=False)
            _still_to_come(found, now)
        return Change(key, Kind.SKIP, found.ident, None, reason, by, now), found

    def unskip(
        self, key: str, day: dt.date, by: str, now: dt.datetime
    ) -> tuple[Change, Occurrence]:
        calendar = self.of(key)
        found = self._named(calendar, day, skipped=True)
        _still_to_come(found, now)
        change = Change(key, Kind.UNSKIP, found.ident, None, "", by, now)
        self._room_for(change, found, found.start)
        return change, found

    def move(
        self, key: str, day: dt.date, to_day: dt.date | None, to_time: dt.time | None,
        zone: str | None, by: str, now: dt.datetime,
    ) -> tuple[Change, Occurrence]:  # fmt: skip
        """Without a day it stays on its date; without a time it keeps the usual start."""
        calendar = self.of(key)
        found = self._named(calendar, day, skipped=False)
        _still_to_come(found, now)
        meeting = calendar.meeting
        to = _wall_clock(
            to_day or found.day, to_time or meeting.start, ZoneInfo(zone) if zone else None, meeting
        )
        if to == found.start:
            raise CalendarError(
                f"The {found.day} meeting is already at {_shown(meeting, to)}; nothing changed."
            )
        _ahead(meeting, to, now)
        change = Change(key, Kind.MOVE, found.ident, to, "", by, now)
        self._room_for(change, found, to)
        return change, found

    def extra(
        self, key: str, day: dt.date, time: dt.time, zone: str | None, title: str, by: str,
        now: dt.datetime,
    ) -> tuple[Change, Occurrence]:  # fmt: skip
        meeting = self.of(key).meeting
        at = _wall_clock(day, time, ZoneInfo(zone) if zone else None, meeting)
        _ahead(meeting, at, now)
        change = Change(key, Kind.EXTRA, at.date(), at, title, by, now)
        self._room_for(change, None, at)
        added = self.with_change(change).of(key).occurrence(at.date())
        assert added is not None, "an extra just added is an occurrence"
        return change, added

    def _named(self, calendar: Calendar, day: dt.date, skipped: bool) -> Occurrence:
        """The occurrence people name by `day`: skipped (to unskip it) or not (else)."""
        found = calendar.on(day)
        wanted = [o for o in found if (o.skipped is not None) == skipped]
        shown = [o for o in wanted if o.day == day] or wanted
        if shown:
            return shown[0]
        title = calendar.meeting.title
        if found and skipped:
            raise CalendarError(f"The {day} {title} is not skipped.")
        if found:
            raise CalendarError(f"The {day} {title} is already skipped{_by(found[0].skipped)}.")
        moment = dt.datetime.combine(day, calendar.meeting.start, calendar.meeting.timezone)
        near = near_dates(calendar.effective().recurrence(), moment)
        raise CalendarError(
            f"{day} is not a day the {title} meets; the nearest are {near}. "
            "Send `schedule` to see the next ones."
        )

    def _room_for(self, change: Change, moving: Occurrence | None, start: dt.datetime) -> None:
        """One meeting a day (each has its own notes file and topic), and none sharing a
        topic with another meeting at the same time."""
        calendar = self.of(change.meeting)
        meeting = calendar.meeting
        for taken in calendar.on(start.date()):
            if moving is None or taken.ident != moving.ident:
                state = " (skipped)" if taken.skipped else ""
                raise CalendarError(
                    f"{start.date()} already has a {meeting.title}{state} at "
                    f"{_shown(meeting, taken.start)}: each day's meeting has its own notes "
                    "and topic, so pick another day."
                )
        after = self.with_change(change).config
        stream = [m for m in after.meetings if m.stream.casefold() == meeting.stream.casefold()]
        clash = topic_clash(stream, 2 * _AROUND, start - _AROUND)
        if clash is not None:
            other = clash.earlier if clash.later.key == meeting.key else clash.later
            raise CalendarError(
                f"{_shown(meeting, start)} would hold the {meeting.title} in "
                f"#{meeting.stream} > {clash.topic} while the {other.title} meets there; "
                "pick another time."
            )


def _still_to_come(found: Occurrence, now: dt.datetime) -> None:
    if found.start <= now:
        raise CalendarError(
            f"The {found.day} {found.title} has begun already; only meetings still to come "
            "can be changed."
        )


def _ahead(meeting: MeetingConfig, start: dt.datetime, now: dt.datetime) -> None:
    if start <= now:
        raise CalendarError(f"{_shown(meeting, start)} is in the past; pick a time still to come.")


def _wall_clock(
    day: dt.date, time: dt.time, zone: ZoneInfo | None, meeting: MeetingConfig
) -> dt.datetime:
    """`time` on `day` in `zone` (the meeting's own by default), in the meeting's zone. A time
    the clocks skip that night is refused rather than guessed."""
    where = zone or meeting.timezone
    local = dt.datetime.combine(day, time, where)
    if local.astimezone(dt.UTC).astimezone(where).replace(tzinfo=None) != local.replace(
        tzinfo=None
    ):
        raise CalendarError(
            f"{day} {time:%H:%M} does not exist in {where}: the clocks go forward then. "
            "Pick another time."
        )
    return _local(meeting, local)


def _shown(meeting: MeetingConfig, moment: dt.datetime) -> str:
    return f"{_local(meeting, moment):%Y-%m-%d %H:%M} {meeting.timezone}"


def _by(change: Change | None) -> str:
    if change is None:
        return ""
    return " in the config" if change.by == CONFIG else f" by {change.by}"


def describe(
    occurrence: Occurrence, who: Callable[[str], str], when: Callable[[dt.datetime], str]
) -> str:
    """What changed about an occurrence (empty when nothing did), `who(email)` naming people
    and `when` showing times; the config's own skips and moves are said to be the config's."""

    def by(change: Change) -> str:
        return "the config" if change.by == CONFIG else who(change.by)

    notes = []
    if occurrence.added is not None:
        notes.append(f"added by {by(occurrence.added)}")
    if occurrence.moved is not None and occurrence.planned is not None:
        notes.append(f"moved from {when(occurrence.planned)} by {by(occurrence.moved)}")
    elif occurrence.moved is not None:
        notes.append(f"moved by {by(occurrence.moved)}")
    if occurrence.skipped is not None:
        reason = f": {occurrence.skipped.text}" if occurrence.skipped.text else ""
        notes.append(f"skipped by {by(occurrence.skipped)}{reason}")
    return "; ".join(notes)
