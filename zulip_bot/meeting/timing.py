"""Time on each agenda item: what it is planned for, how long it is open, and the one line in
the topic when it has had its time.

An item plans its time in its own words (`Zulip CEP (10 min)`, read by `notes.timing`); an
item or carried item without one counts as the meeting's `item_minutes`, and introductions
and announcements count only when they give one. While a meeting runs, each opened item has a
clock in the store (`ItemClock`): `next` stops one and starts the next, the schedule's tick
warns at the shares of the planned time in `item_warn_at` (each once, across restarts), and
`end` writes what each discussed item took into the notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

from zulip_bot.config import MeetingConfig
from zulip_bot.meeting import messages
from zulip_bot.meeting.context import Context, Live, Shared, draft_context, entries, start_of
from zulip_bot.meeting.effects import Effect, Send
from zulip_bot.meeting.refusal import Refused
from zulip_bot.meeting.store import ItemClock
from zulip_bot.notes import NotesError
from zulip_bot.notes import timing as written

COUNTED = ("item", "carried")  # sections whose items take the default time when they give none


def planned(ctx: Context, entry: Live) -> tuple[int | None, bool]:
    """The minutes an item is planned for, and whether they are its own; None for an item
    that does not count (an introduction without a time of its own)."""
    given = written.planned(entry.item.text)
    if given is not None:
        return given.minutes, True
    if entry.item.line in _counted_lines(ctx):
        return ctx.meeting.item_minutes, False
    return None, False


def _counted_lines(ctx: Context) -> set[int]:
    lines: set[int] = set()
    for kind in COUNTED:
        try:
            lines.update(item.line for item in ctx.doc.items(ctx.meeting.section(kind)))
        except NotesError:
            continue  # the section is not in this draft
    return lines


def agenda_line(ctx: Context, entry: Live, votes: int) -> messages.AgendaLine:
    """An item as the agenda shows it: its words without the planned time, which has a column."""
    minutes, timed = planned(ctx, entry)
    text = written.words(entry.item.text)
    return messages.AgendaLine(
        entry.row.number, entry.item.owners, text, votes, entry.item.checked, minutes, timed
    )


def edited(old: str, new: str) -> str:
    """What `edit` writes: `new`, or the old words with a new time when `new` is only one."""
    return written.replanned(old, new) or new


def hint(text: str) -> str:
    """For a reply to `add` or `edit`: a time that was meant but not read as one."""
    missed = written.near_miss(text)
    if missed is None:
        return ""
    return (
        f"\nNote: I did not read `{missed}` as a planned time; write it like `(10 min)`, "
        "`(1h)` or `(1h30)` (`edit <n> (10 min)` changes just the time)."
    )


# --- the clocks -------------------------------------------------------------------------------


def _seconds(clock: ItemClock, now: dt.datetime) -> float:
    running = now - dt.datetime.fromisoformat(clock.opened_at) if clock.opened_at else None
    return clock.spent + (running.total_seconds() if running else 0.0)


def _minutes(seconds: float) -> int:
    return int((seconds + 30) // 60)


def _stopped(clock: ItemClock, now: dt.datetime) -> ItemClock:
    return replace(clock, spent=_seconds(clock, now), opened_at=None)


def open_item(ctx: Context, entry: Live, now: dt.datetime) -> str:
    """Start the item's clock and stop the one that ran; what to say of the item it closes
    ("" when none did, or when it is the same item)."""
    clocks = ctx.store.item_clocks(*ctx.key)
    number = entry.row.number
    said = ""
    for clock in clocks.values():
        if clock.opened_at is not None and clock.number != number:
            stopped = _stopped(clock, now)
            ctx.store.save_item_clock(*ctx.key, stopped)
            if _minutes(stopped.spent):  # passed over in a moment: nothing worth saying
                said = messages.took(stopped.number, _minutes(stopped.spent), stopped.planned)
    mine = clocks.get(number)
    if mine is None:
        minutes = planned(ctx, entry)[0] or ctx.meeting.item_minutes
        mine = ItemClock(number, minutes, 0.0, None, 0)
    if mine.opened_at is None:
        ctx.store.save_item_clock(*ctx.key, replace(mine, opened_at=now.isoformat()))
    return said


def replan(ctx: Context, entry: Live) -> None:
    """After `edit`: an item already opened is held to its new planned time."""
    clock = ctx.store.item_clocks(*ctx.key).get(entry.row.number)
    minutes = planned(ctx, entry)[0]
    if clock is not None and minutes is not None:
        ctx.store.save_item_clock(*ctx.key, replace(clock, planned=minutes))


def finish(ctx: Context, now: dt.datetime) -> tuple[messages.ItemTime, ...]:
    """At the end: stop the clock, write `time: N min (planned P)` under each discussed item
    that was open a minute or more (unless the notes already say), and the summary's rows, in
    the notes' order. An item passed over in a moment is not timed."""
    clocks = {
        number: _stopped(clock, now) for number, clock in ctx.store.item_clocks(*ctx.key).items()
    }
    for clock in clocks.values():
        ctx.store.save_item_clock(*ctx.key, clock)
    discussed = sorted([*entries(ctx), *ctx.struck], key=lambda e: e.item.line)
    numbers = [
        e.row.number
        for e in discussed
        if e.item.checked and e.row.number in clocks and _minutes(clocks[e.row.number].spent)
    ]
    times = []
    for number in numbers:
        entry = _entry(ctx, number)  # afresh: each sub-bullet moves the lines below it
        clock = clocks[number]
        spent = _minutes(clock.spent)
        if written.spent(entry.item) is None:
            ctx.doc.add_child(entry.item, written.spent_note(spent, clock.planned))
        times.append(messages.ItemTime(written.words(entry.item.text), clock.planned, spent))
    return tuple(times)


def _entry(ctx: Context, number: int) -> Live:
    return next(e for e in [*entries(ctx), *ctx.struck] if e.row.number == number)


# --- the schedule's warnings ------------------------------------------------------------------


def warnings(
    shared: Shared, now: dt.datetime, meetings: Iterable[MeetingConfig], *, open_ended: bool = False
) -> list[Effect]:
    """One line in a running meeting's topic when its open item reaches a share of its
    planned time (`item_warn_at`); each share once per item, the highest one reached. The
    meetings are the caller's: scheduled ones from the config, ad hoc ones from the store
    (`open_ended`: their length is only a limit, so no "minutes of the meeting left")."""
    effects: list[Effect] = []
    for meeting in meetings:
        day = shared.store.running(meeting.key)
        if day is None or not meeting.item_warn_at:
            continue
        number = shared.store.status(meeting.key, day)[1]
        clock = shared.store.item_clocks(meeting.key, day).get(number or 0)
        if clock is None or clock.opened_at is None:
            continue
        share = _seconds(clock, now) * 100 / (clock.planned * 60)
        due = [p for p in meeting.item_warn_at if clock.warned < p <= share]
        if not due:
            continue
        shared.store.save_item_clock(meeting.key, day, replace(clock, warned=max(due)))
        date = dt.date.fromisoformat(day)
        text = _warning(shared, meeting, date, clock, max(due), now, open_ended)
        effects.append(Send(text, stream=meeting.stream, topic=meeting.topic_for(date)))
    return effects


def _warning(
    shared: Shared,
    meeting: MeetingConfig,
    day: dt.date,
    clock: ItemClock,
    percent: int,
    now: dt.datetime,
    open_ended: bool,
) -> str:
    start = start_of(meeting, day)
    end = start + dt.timedelta(minutes=meeting.duration_minutes)
    left = None if open_ended else _minutes((end - now).total_seconds())
    try:
        ctx = draft_context(shared, meeting, start, shared.bot, shared.bot_person)
        live = entries(ctx)
    except (Refused, NotesError):
        live, ctx = [], None  # the draft is broken by hand: the warning still comes
    text = next((e.item.text for e in live if e.row.number == clock.number), f"#{clock.number}")
    pending = [planned(ctx, e)[0] for e in live if not e.item.checked] if ctx else []
    minutes = [m for m in pending if m is not None]
    return messages.time_warning(
        clock.number, written.words(text), clock.planned, percent, left, len(minutes), sum(minutes)
    )
