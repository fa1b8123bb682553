"""The calendar from chat: `schedule` for everyone; `skip`, `unskip`, `move` and `extra` for
organizers and co-chairs.

A change is checked and kept by `overrides` (the store keeps it; the service replays it onto the
config, so the schedule's jobs, `check-config` and `ics` follow). What it does to a meeting that
people already prepare is done here, in the same transaction:

- A skipped meeting's items, with their votes and 👍 messages, go to the next meeting, as those
  of a meeting nobody started do (`wrapup.carry_skipped`); an agenda thread already open says
  that the meeting is cancelled, why, and where its items went. `unskip` brings the meeting back,
  not its items, which stay where they went.
- A moved meeting keeps its items and votes. Its topic and notes file are named by its date: on
  the same day it stays where it is, its agenda message is edited to the new time and its agenda
  is not posted again; on another day the items go to that day's draft and topic, where the
  agenda opens on time (at once if that is past), and the old thread says where it went. The
  reminder, the start and the summary follow the new time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from zulip_bot import overrides, schedule
from zulip_bot.config import MeetingConfig
from zulip_bot.meeting import commands as c
from zulip_bot.meeting import messages, thread, wrapup
from zulip_bot.meeting.context import Shared, draft_context, open_action, reply
from zulip_bot.meeting.effects import Effect, Incoming, Send
from zulip_bot.meeting.refusal import Refused
from zulip_bot.notes import NotesError
from zulip_bot.overrides import Calendars, Occurrence

SHOWN = 5  # meetings held that `schedule` lists, with those skipped among them


@dataclass(frozen=True)
class Asked:
    """What a calendar command is asked in: the calendars as they are, the meeting, the
    message, the time, and how long Zulip lets the bot edit its messages."""

    calendars: Calendars
    shared: Shared
    meeting: MeetingConfig
    msg: Incoming
    now: dt.datetime
    edit_limit: dt.timedelta | None

    @property
    def email(self) -> str:
        return self.msg.sender.email.casefold()

    def silent(self, email: str) -> str:
        """A mention that names without notifying: a calendar change is news, not a page."""
        return self.shared.people.mention_email(email).replace("@**", "@_**", 1)

    def after(self, change: overrides.Change) -> MeetingConfig:
        """The meeting as the calendar has it once `change` is made."""
        found = self.calendars.with_change(change).config.meeting(self.meeting.key)
        assert found is not None, "the meeting of a change is in the config"
        return found


def _where(meeting: MeetingConfig, day: dt.date) -> str:
    return f"#**{meeting.stream}>{meeting.topic_for(day)}**"


def schedule_(cmd: c.Schedule, asked: Asked) -> list[Effect]:
    meeting = asked.meeting
    found = asked.calendars.of(meeting.key).upcoming(asked.now, SHOWN)
    if not found:
        return [reply(asked.msg, f"{meeting.title} has no more meetings on its schedule.")]
    lines = [f"**{meeting.title}**, the next meetings:"]
    lines += [f"- {_line(asked, occurrence)}" for occurrence in found]
    return [reply(asked.msg, "\n".join(lines))]


def _line(asked: Asked, occurrence: Occurrence) -> str:
    when = messages.time_tag(occurrence.start)
    if occurrence.skipped is not None:
        when = f"~~{when}~~"
    if occurrence.added is not None and occurrence.added.text:
        when += f" **{occurrence.added.text}**"
    notes = overrides.describe(occurrence, asked.silent, messages.time_tag)
    return when + (f" ({notes})" if notes else "")


def _made(
    asked: Asked, make: Callable[[], tuple[overrides.Change, Occurrence]]
) -> tuple[overrides.Change, Occurrence]:
    """The change, kept; refused when the sender is not an organizer or co-chair (saying who
    may), with the calendar's reason, or when its meeting is under way (an organizer may
    start up to an hour early) or over."""
    meeting, shared = asked.meeting, asked.shared
    if not shared.people.is_organizer(meeting, asked.msg.sender):
        names = ", ".join(asked.silent(email) for email in meeting.organizers)
        who = f"its organizers ({names}) and co-chairs" if names else "its organizers and co-chairs"
        raise Refused(f"Only {who} can change when the {meeting.title} meets.")
    try:
        change, found = make()
    except overrides.CalendarError as error:
        raise Refused(str(error)) from None
    status = shared.store.status(meeting.key, found.day.isoformat())[0]
    if status in ("running", "ended"):
        verb = "is under way" if status == "running" else "has ended"
        raise Refused(f"The {found.day} {found.title} {verb}; only meetings to come can change.")
    shared.store.add_calendar_change(change.row())
    return change, found


def _named(cmd: c.Skip, asked: Asked) -> dt.date | None:
    """A bare `skip` (or `cancel`) is about the meeting whose topic it is sent in."""
    if cmd.day is not None or cmd.next:
        return cmd.day
    try:
        return dt.datetime.strptime((asked.msg.topic or "").strip(), asked.meeting.topic).date()
    except ValueError:
        raise Refused(
            "Which meeting? Here I cannot tell: write `skip next` or its date, like "
            "`skip 2026-12-30 holidays`."
        ) from None


def skip(cmd: c.Skip, asked: Asked) -> list[Effect]:
    key = asked.meeting.key
    change, found = _made(
        asked,
        lambda: asked.calendars.skip(key, _named(cmd, asked), cmd.reason, asked.email, asked.now),
    )
    after = asked.after(change)
    following = schedule.next_occurrence(after, found.start)
    why = f" ({cmd.reason})" if cmd.reason else ""
    text = (
        f"The {found.title} of {messages.time_tag(found.start)} is cancelled by "
        f"{asked.silent(asked.email)}{why}. {_carried(asked.shared, after, found, following)}"
        f"`unskip {found.day}` brings it back."
    )
    return _told(asked, found.day, text)


def _carried(
    shared: Shared, meeting: MeetingConfig, found: Occurrence, following: dt.datetime | None
) -> str:
    """Items of a skipped meeting go to the next one; a meeting people see (its agenda is
    open, or it has items) counts as skipped, so that its agenda is not posted again."""
    store, day = shared.store, found.day.isoformat()
    items = [row for row in store.items(meeting.key, day) if not row.withdrawn]
    if following is None:
        return "There is no later meeting on the schedule. " if items else ""
    where = f"the next one, {messages.time_tag(following)}: {_where(meeting, following.date())}"
    if not items:
        if store.agenda_post(meeting.key, day) is not None:
            store.set_status(meeting.key, day, "skipped", None)
        return f"The next one is {messages.time_tag(following)}. "
    try:
        count = wrapup.carry_skipped(store, meeting, found.day, following.date())
    except NotesError as error:
        raise Refused(
            f"I cannot move its items to the next draft: {error}. Nothing was changed; fix the "
            "draft, then send the command again."
        ) from None
    return f"Its {messages.counted(count, 'item')}, with their votes, go to {where}. "


def _told(asked: Asked, day: dt.date, text: str) -> list[Effect]:
    """The reply, and the same words in the meeting's agenda thread when it is open and the
    change was asked for elsewhere."""
    meeting, msg = asked.meeting, asked.msg
    effects: list[Effect] = [reply(msg, text)]
    topic = meeting.topic_for(day)
    elsewhere = msg.stream is None or (msg.topic or "").casefold() != topic.casefold()
    if elsewhere and asked.shared.store.agenda_post(meeting.key, day.isoformat()) is not None:
        effects.append(Send(text, stream=meeting.stream, topic=topic))
    return effects


def unskip(cmd: c.Unskip, asked: Asked) -> list[Effect]:
    key, store = asked.meeting.key, asked.shared.store
    _, found = _made(asked, lambda: asked.calendars.unskip(key, cmd.day, asked.email, asked.now))
    kept = ""
    if store.status(key, found.day.isoformat())[0] == "skipped":
        store.set_status(key, found.day.isoformat(), "planned", None)
        kept = " Its items stay where they went when it was skipped."
    text = (
        f"The {found.title} of {messages.time_tag(found.start)} is back on the calendar "
        f"({asked.silent(asked.email)}), in {_where(asked.meeting, found.day)}.{kept}"
    )
    return _told(asked, found.day, text)


def move(cmd: c.Move, asked: Asked) -> list[Effect]:
    key, shared = asked.meeting.key, asked.shared
    change, found = _made(
        asked,
        lambda: asked.calendars.move(
            key, cmd.day, cmd.to_day, cmd.to_time, cmd.zone, asked.email, asked.now
        ),
    )
    after = asked.after(change)
    assert change.to is not None, "a move is to a time"
    to = schedule.occurrence_on(after, change.to.date())
    assert to is not None, "a meeting just moved takes place"
    text = (
        f"The {found.title} of {messages.time_tag(found.start)} is moved to "
        f"{messages.time_tag(to)} by {asked.silent(asked.email)}."
    )
    _done_again(shared, after, found, to, asked.now)
    if to.date() == found.day:
        text += " Its items and votes stay, in this topic."
        ctx = draft_context(shared, after, to, shared.bot, shared.bot_person)
        return _told(asked, found.day, text) + thread.refresh(ctx, asked.now, asked.edit_limit)
    text += f" Its agenda moves to {_where(after, to.date())}, with its items and votes."
    effects = _told(asked, found.day, text)
    _follow(shared, after, found, to)
    return effects


def _done_again(
    shared: Shared, meeting: MeetingConfig, found: Occurrence, to: dt.datetime, now: dt.datetime
) -> None:
    """What was done for the meeting before its move stays done: owners were reminded, and
    on the same day its agenda thread is open already. Reminder, start and summary follow."""
    kinds = [schedule.JobKind.OWNERS]
    if to.date() == found.day:
        kinds.append(schedule.JobKind.AGENDA)
    done = shared.store.jobs_done()
    for kind in kinds:
        before = schedule.JobKey(meeting.key, found.start.replace(tzinfo=None), kind)
        if str(before) in done:
            moved = schedule.JobKey(meeting.key, to.replace(tzinfo=None), kind)
            shared.store.job_done(str(moved), now.isoformat())


def _follow(shared: Shared, meeting: MeetingConfig, found: Occurrence, to: dt.datetime) -> None:
    """On another day, the items and votes go to that day's draft (with the open action
    items, as the agenda thread makes it), and the old day is no longer planned."""
    store, day = shared.store, found.day.isoformat()
    items = [row for row in store.items(meeting.key, day) if not row.withdrawn]
    if not items and store.agenda_post(meeting.key, day) is None:
        return
    try:
        wrapup.carry_items(store, meeting, found.day, to.date())
        rows = store.open_actions(meeting=meeting.key)
        wrapup.write_draft(meeting, to.date(), [], [open_action(shared.people, r) for r in rows])
    except NotesError as error:
        raise Refused(
            f"I cannot move its items to the {to.date()} draft: {error}. Nothing was changed; "
            "fix the draft, then send the command again."
        ) from None
    store.set_status(meeting.key, day, "moved", None)


def extra(cmd: c.Extra, asked: Asked) -> list[Effect]:
    meeting = asked.meeting
    _, added = _made(
        asked,
        lambda: asked.calendars.extra(
            meeting.key, cmd.day, cmd.time, cmd.zone, cmd.title, asked.email, asked.now
        ),
    )
    opens = max(asked.now, added.start - meeting.agenda_lead)
    text = (
        f"Added a {added.title}: {messages.time_tag(added.start)}, by "
        f"{asked.silent(asked.email)}, in {_where(meeting, added.day)}; its agenda opens there "
        f"{messages.time_tag(opens)}."
    )
    return [reply(asked.msg, text)]
