"""After the bot was away across a scheduled meeting: one notice in that meeting's topic.

The schedule does a job late while its span lasts and drops it for good past its `until`
(`schedule.due_jobs`), so a bot that was not running through a meeting's time would otherwise
start it late, or never, without a word. Each tick stores when it ran (`ALIVE`, written with the
tick's own changes: one write per tick, none per event); the span from there to the next tick
is when the bot was away. The jobs that fell due in it and were not done are what it owed:
after the tick has done what it still could, one message per occurrence they belong to says
when the bot was away, what it did late or not at all, and what organizers can do now.

The notice goes out in the tick that stores the new `ALIVE`, so a later restart never finds that
span again: it is said once. A job done less than `LATE` after its time is no news, so a brief
restart, or the clock moving on between two ticks, says nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from dataclasses import dataclass

from zulip_bot import schedule
from zulip_bot.config import MeetingConfig
from zulip_bot.meeting.context import START_EARLY, Shared
from zulip_bot.meeting.effects import Effect, Send
from zulip_bot.meeting.messages import counted, time_tag
from zulip_bot.meeting.store import Store

ALIVE = "schedule.alive"  # the store's value: when the last tick ran (ISO, UTC)
LATE = dt.timedelta(minutes=5)  # a job done this long after its time was done late

JobKind = schedule.JobKind


@dataclass(frozen=True)
class Absence:
    """A span in which the bot did not tick, and the jobs that fell due in it and were not
    done when it came back."""

    since: dt.datetime
    back: dt.datetime
    owed: tuple[schedule.Job, ...]


@dataclass(frozen=True)
class Outcome:
    """What became of one owed job after the tick that came back: done late at `back`, or
    missed for good (`late` False). A job still due but not done (it failed) has none: its
    failure is reported on its own and it is tried again."""

    job: schedule.Job
    late: bool


def alive(store: Store, now: dt.datetime) -> None:
    """The heartbeat: in the tick's transaction, so it is stored with what the tick did."""
    store.set_runner_value(ALIVE, now.astimezone(dt.UTC).isoformat())


def absence(shared: Shared, now: dt.datetime, done: Container[schedule.JobKey]) -> Absence | None:
    """Before the tick's jobs: since when the bot was away, and what fell due meanwhile that
    is not done. None on the very first tick, or when nothing fell due."""
    stored = shared.store.runner_value(ALIVE)
    if stored is None:
        return None
    since = dt.datetime.fromisoformat(stored)
    if now <= since:
        return None
    owed = tuple(
        job
        for job in schedule.jobs_fallen_due(shared.config.meetings, since, now)
        if job.key not in done and _would_act(job, _status(shared.store, job))
    )
    return Absence(since, now, owed) if owed else None


def _status(store: Store, job: schedule.Job) -> str:
    return store.status(job.key.meeting, job.key.day.isoformat())[0]


def _would_act(job: schedule.Job, status: str) -> bool:
    """Whether the job does anything on an occurrence in `status`: none does once it ended
    (by hand, before its time) or was skipped, and START none once it was started by hand."""
    if status in ("ended", "skipped"):
        return False
    return not (job.key.kind is JobKind.START and status == "running")


def outcomes(
    owed: tuple[schedule.Job, ...], done: Container[str], back: dt.datetime
) -> list[Outcome]:
    """What the tick made of each owed job, those worth saying only: done `LATE` or more
    after its time, or dropped for good."""
    found: list[Outcome] = []
    for job in owed:
        if str(job.key) in done:
            if back - job.due >= LATE:
                found.append(Outcome(job, late=True))
        elif back >= job.until:
            found.append(Outcome(job, late=False))
    return found


def notices(shared: Shared, gone: Absence | None) -> list[Effect]:
    """After the tick's jobs: one message in the topic of each occurrence the absence
    touched, if anything in it is worth saying."""
    if gone is None:
        return []
    done = shared.store.jobs_done()
    by_occurrence: dict[tuple[str, dt.datetime], list[Outcome]] = {}
    for outcome in outcomes(gone.owed, done, gone.back):
        key = outcome.job.key
        by_occurrence.setdefault((key.meeting, key.occurrence), []).append(outcome)
    effects: list[Effect] = []
    for found in by_occurrence.values():
        meeting, start = found[0].job.meeting, found[0].job.start
        day = start.date().isoformat()
        steps = [line for o in found if (line := _step(shared, o, gone.back))]
        if not steps:
            continue
        status = shared.store.status(meeting.key, day)[0]
        text = _notice(gone, meeting, steps, _advice(shared, meeting, start, found, status, gone))
        effects.append(Send(text, stream=meeting.stream, topic=meeting.topic_for(start.date())))
    return effects


def _notice(gone: Absence, meeting: MeetingConfig, steps: list[str], advice: str) -> str:
    zone = meeting.timezone
    lines = [
        f"**I was away** (not running) from {_moment(gone.since, zone)} to "
        f"{_moment(gone.back, zone)}. For this meeting, I:",
        *(f"- {step}" for step in steps),
    ]
    return "\n".join([*lines, "", advice] if advice else lines)


def _step(shared: Shared, outcome: Outcome, back: dt.datetime) -> str:
    """One line of the notice; empty when the job would have done nothing anyway."""
    job, late = outcome.job, outcome.late
    at = _clock(back, job.start)
    due = _clock(job.due, job.start)
    kind = job.key.kind
    if kind is JobKind.AGENDA:
        return (
            f"posted the agenda late, at {at}" if late else f"did not post the agenda (due {due})"
        )
    if kind is JobKind.OWNERS:
        if not shared.store.open_actions(meeting=job.meeting.key):
            return ""
        if late:
            return f"reminded the owners of open action items late, at {at}"
        return f"did not remind the owners of open action items (due {due})"
    if kind is JobKind.REMIND:
        return (
            f"posted the reminder late, at {at}"
            if late
            else f"did not post the reminder (due {due})"
        )
    if kind is JobKind.START:
        if late:
            return f"started the meeting late, at {at}"
        return f"did not start the meeting (due {due}): it was over when I came back"
    if _status(shared.store, job) not in ("running", "ended"):
        return ""  # never started: there was nothing to end
    if late:
        return f"ended the meeting and posted its summary late, at {at}"
    return f"did not end the meeting nor post its summary (due {due})"


def _advice(
    shared: Shared,
    meeting: MeetingConfig,
    start: dt.datetime,
    found: list[Outcome],
    status: str,
    gone: Absence,
) -> str:
    """What organizers can do now, read from the state the tick left."""
    missed = {o.job.key.kind for o in found if not o.late}
    bot = shared.config.bot_name
    if JobKind.END in missed and status == "running":
        return (
            f"The meeting is still open: an organizer can send `@**{bot}** end` here to end "
            "it and post the summary."
        )
    if JobKind.START not in missed or status not in ("planned", "skipped"):
        return ""
    following = schedule.next_occurrence(meeting, start)
    if following is None:
        return ""
    if status == "skipped":  # not held: this tick moved its items on (`context.occurrence`)
        return f"Its agenda items moved to the next meeting, {time_tag(following)}."
    items = [
        r for r in shared.store.items(meeting.key, start.date().isoformat()) if not r.withdrawn
    ]
    if not items:
        return ""
    count, following_at = counted(len(items), "item"), time_tag(following)
    if gone.back < following - START_EARLY:
        return (
            f"An organizer can still hold it late: `@**{bot}** start` here. Otherwise its agenda "
            f"({count}) moves to the next meeting, {following_at}, an hour before it starts."
        )
    return f"Its agenda ({count}) moves to the next meeting, {following_at}."


def _moment(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """As the other messages give times (a Zulip time, in each reader's zone), and in words:
    UTC and the meeting's zone, for a log read later or elsewhere."""
    moment = moment.replace(second=0, microsecond=0)  # to the minute, as the steps' times
    utc = moment.astimezone(dt.UTC)
    local = moment.astimezone(zone)
    words = f"{utc:%Y-%m-%d %H:%M} UTC"
    if local.utcoffset() != dt.timedelta(0):
        words += f", {local:%Y-%m-%d %H:%M %Z}"
    return f"{time_tag(moment)} ({words})"


def _clock(moment: dt.datetime, start: dt.datetime) -> str:
    """A step's time in the meeting's zone (and UTC), with its date if not the meeting's."""
    local = moment.astimezone(start.tzinfo)
    shown = f"{local:%H:%M %Z}" if local.date() == start.date() else f"{local:%Y-%m-%d %H:%M %Z}"
    if local.utcoffset() == dt.timedelta(0):
        return shown
    return f"{shown} / {moment.astimezone(dt.UTC):%H:%M} UTC"
