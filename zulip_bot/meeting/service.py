"""Applies chat commands, reactions and poll votes to the notes draft and the store.

Pure of Zulip: it takes `Incoming` values and `now`, and returns `Send` effects. The notes file
is read afresh for every event (people edit it by hand) and saved atomically; a command is
redone if someone saved the file in between. Each event runs in one store transaction and is
skipped if its id was already processed; a refused command is rolled back to a savepoint.

This module keeps what every command shares (the entry points, the transaction, the
save-and-retry, who may do what and when, the transcript) and `_dispatch`, one `match` from
each command to the function that does it, in a module named for what people do: `agenda`,
`live`, `polls`, `attendance`, `personal`; the schedule's jobs are in `thread`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeAlias, TypeVar, assert_never

from zulip_bot.config import BotConfig, MeetingConfig, Person
from zulip_bot.meeting import (
    adhoc,
    agenda,
    attendance,
    calendar,
    live,
    personal,
    polls,
    thread,
    transcript,
)
from zulip_bot.meeting import commands as c
from zulip_bot.meeting.context import (
    Context,
    Shared,
    context,
    draft_context,
    in_topic,
    not_running,
    occurrence,
    reply,
    start_of,
)
from zulip_bot.meeting.effects import Effect, Incoming, Send, Sender
from zulip_bot.meeting.people import People
from zulip_bot.meeting.refusal import Refused
from zulip_bot.meeting.store import Busy, Store
from zulip_bot.notes import NotesConflict, NotesError
from zulip_bot.overrides import CalendarRow, Calendars

ORGANIZER_ONLY = (c.Start, c.Next, c.GoTo, c.End, c.Chair, c.ClosePoll)
LIVE_ONLY = (c.Next, c.GoTo, c.Note, c.Action, c.Decided, c.End)
# Commands after which the agenda message may read differently (numbers, owners, votes, ticks).
AGENDA_CHANGES = (c.Add, c.Edit, c.Withdraw, c.Vote, c.Unvote, c.Start, c.Next, c.GoTo, c.Undo)
THUMBS_UP = ("+1", "thumbs_up", "like")
SAVE_ATTEMPTS = 5  # a hand edit saved between our read and our write: redo the command on it
BUSY = (
    "I am busy: my database is locked by another process. Nothing was changed; "
    "send the command again in a minute."
)
EDIT_LIMIT = dt.timedelta(seconds=600)  # Zulip's default; the runner sets the realm's own

C = TypeVar("C", bound=c.Command)
# A command about a meeting: done on a fresh reading of its draft, again if it was saved meanwhile
InMeeting: TypeAlias = Callable[[C, Context, Incoming, dt.datetime], list[Send]]
# A command about the sender (help, iam, actions, done): it works in direct messages too.
Personal: TypeAlias = Callable[[C, Shared, Incoming, MeetingConfig | None, dt.datetime], list[Send]]
# A command about when a meeting meets: no notes draft is read for it.
OnCalendar: TypeAlias = Callable[[C, calendar.Asked], list[Effect]]


class MeetingService:
    def __init__(self, config: BotConfig, store: Store) -> None:
        #: The config as loaded; `config` is it with chat's calendar changes on top.
        self.base = config
        self.store = store
        self.people = People(config, store)
        #: How long Zulip lets the bot edit its messages (None: no limit).
        self.edit_limit: dt.timedelta | None = EDIT_LIMIT
        # Who the schedule acts as: the bot itself, never a person in the roster.
        bot = Sender(f"{config.bot_name}@localhost", config.bot_name, 0, is_bot=True)
        bot_person = Person(config.bot_name, "", email=bot.email)
        self.calendars = Calendars(config)
        self._calendar_rows: list[CalendarRow] = []
        self.shared = Shared(config, store, self.people, bot, bot_person)
        self._calendar_changed()

    @property
    def config(self) -> BotConfig:
        return self.shared.config

    def _calendar_changed(self) -> None:
        """Chat's calendar changes, replayed onto the config when the store has others than
        those last read (another process, or a command just now): every meeting date, job and
        draft follows them."""
        rows = self.store.calendar_changes()
        if rows != self._calendar_rows:
            self._calendar_rows = rows
            self.calendars = Calendars.from_rows(self.base, rows)
            self.shared = replace(self.shared, config=self.calendars.config)

    # --- entry points -----------------------------------------------------------------------

    def handle_message(self, message: Incoming, now: dt.datetime) -> list[Effect]:
        """A message to the bot gets replies; any message in a running meeting's topic is kept
        in the transcript (and, with `auto_attendance`, adds its sender to the attendees).
        When another process holds the database too long, the sender is told to try again:
        the event is not marked processed, so nothing of it is half done."""
        if message.sender.is_bot:
            return []
        self._calendar_changed()
        try:
            return self._handle_message(message, now)
        except Busy:
            if not message.addressed:
                raise
            return [reply(message, BUSY)]

    def _handle_message(self, message: Incoming, now: dt.datetime) -> list[Effect]:
        meeting, message = self._meeting_of(message)
        effects: list[Effect]
        with self.store.transaction():
            if self.store.seen(message.event_id):
                return []
            if not message.addressed:
                self._observe(meeting, message, [], now)
                return []
            try:
                return self._dispatch(c.parse(message.content), meeting, message, now)
            except (c.CommandError, Refused) as error:
                effects = [reply(message, str(error))]
            self._observe(meeting, message, effects, now)
            return effects

    def _dispatch(
        self, cmd: c.Command, meeting: MeetingConfig | None, msg: Incoming, now: dt.datetime
    ) -> list[Effect]:
        """Every command, to the function that does it."""
        match cmd:
            case c.Help():
                return self._personal(cmd, personal.usage, meeting, msg, now)
            case c.Iam():
                return self._personal(cmd, personal.iam, meeting, msg, now)
            case c.Actions():
                return self._personal(cmd, personal.actions, meeting, msg, now)
            case c.Done():
                return self._personal(cmd, personal.done, meeting, msg, now)
            case c.Add():
                return self._in_meeting(cmd, agenda.add, meeting, msg, now)
            case c.Edit():
                return self._in_meeting(cmd, agenda.edit, meeting, msg, now)
            case c.Withdraw():
                return self._in_meeting(cmd, agenda.withdraw, meeting, msg, now)
            case c.Vote():
                return self._in_meeting(cmd, agenda.vote, meeting, msg, now)
            case c.Unvote():
                return self._in_meeting(cmd, agenda.unvote, meeting, msg, now)
            case c.Agenda():
                return self._in_meeting(cmd, agenda.agenda, meeting, msg, now)
            case c.Notes():
                return self._in_meeting(cmd, agenda.notes, meeting, msg, now)
            case c.NextMeeting():
                return self._in_meeting(cmd, agenda.next_meeting, meeting, msg, now)
            case c.Start():
                return self._in_meeting(cmd, live.start, meeting, msg, now)
            case c.StartMeeting():
                return self._start_adhoc(cmd, msg, now)
            case c.Next():
                return self._in_meeting(cmd, live.next_item, meeting, msg, now)
            case c.GoTo():
                return self._in_meeting(cmd, live.goto, meeting, msg, now)
            case c.Note():
                return self._in_meeting(cmd, live.note, meeting, msg, now)
            case c.Decided():
                return self._in_meeting(cmd, live.decided, meeting, msg, now)
            case c.Action():
                return self._in_meeting(cmd, live.action, meeting, msg, now)
            case c.Undo():
                return self._in_meeting(cmd, live.undo, meeting, msg, now)
            case c.End():
                return self._in_meeting(cmd, live.end, meeting, msg, now)
            case c.Poll():
                return self._in_meeting(cmd, polls.poll, meeting, msg, now)
            case c.ClosePoll():
                return self._in_meeting(cmd, polls.close_poll, meeting, msg, now)
            case c.Here():
                return self._in_meeting(cmd, attendance.here, meeting, msg, now)
            case c.Chair():
                return self._in_meeting(cmd, attendance.chair, meeting, msg, now)
            case c.Schedule():
                return self._on_calendar(cmd, calendar.schedule_, meeting, msg, now)
            case c.Skip():
                return self._on_calendar(cmd, calendar.skip, meeting, msg, now)
            case c.Unskip():
                return self._on_calendar(cmd, calendar.unskip, meeting, msg, now)
            case c.Move():
                return self._on_calendar(cmd, calendar.move, meeting, msg, now)
            case c.Extra():
                return self._on_calendar(cmd, calendar.extra, meeting, msg, now)
            case _:
                assert_never(cmd)

    def _personal(
        self,
        cmd: C,
        handler: Personal[C],
        meeting: MeetingConfig | None,
        msg: Incoming,
        now: dt.datetime,
    ) -> list[Effect]:
        """Commands about the sender, not a meeting: no notes file is read for them."""
        with self.store.savepoint():
            effects: list[Effect] = [*handler(cmd, self.shared, msg, meeting, now)]
        self._observe(meeting, msg, effects, now)
        return effects

    def _start_adhoc(self, cmd: c.StartMeeting, msg: Incoming, now: dt.datetime) -> list[Effect]:
        """Like a personal command, but its transcript is the new meeting's first lines."""
        with self.store.savepoint():
            effects: list[Effect] = [*adhoc.start(cmd, self.shared, msg, now)]
        started = adhoc.meeting_in(self.shared, msg.stream or "", msg.topic or "")
        self._observe(started, msg, effects, now)
        return effects

    def _on_calendar(
        self,
        cmd: C,
        handler: OnCalendar[C],
        meeting: MeetingConfig | None,
        msg: Incoming,
        now: dt.datetime,
    ) -> list[Effect]:
        """Commands about when a meeting meets; what they change applies from this event on."""
        if meeting is None:
            raise Refused(self._where(cmd, msg.stream))
        asked = calendar.Asked(self.calendars, self.shared, meeting, msg, now, self.edit_limit)
        with self.store.savepoint():
            effects = handler(cmd, asked)
        self._calendar_changed()
        self._observe(meeting, msg, effects, now)
        return effects

    def _in_meeting(
        self,
        cmd: C,
        handler: InMeeting[C],
        meeting: MeetingConfig | None,
        msg: Incoming,
        now: dt.datetime,
    ) -> list[Effect]:
        if meeting is None:
            raise Refused(self._where(cmd, msg.stream))
        running_before = self.store.running(meeting.key)
        effects: list[Effect]
        for _attempt in range(SAVE_ATTEMPTS):
            try:
                ctx = context(self.shared, meeting, msg.sender, now)
                with self.store.savepoint():
                    self._check(cmd, ctx)
                    effects = [*handler(cmd, ctx, msg, now)]
                    if isinstance(cmd, AGENDA_CHANGES):
                        effects += thread.refresh(ctx, now, self.edit_limit)
                break
            except NotesConflict:
                continue  # someone saved the draft meanwhile: do it again on their version
            except (Refused, NotesError) as error:
                effects = [reply(msg, str(error))]
                break
        else:
            effects = [reply(msg, "The notes draft kept changing while I was saving "
                             "it; nothing was changed. Send the command again.")]  # fmt: skip
        self._observe(meeting, msg, effects, now, running_before)  # `end` is transcribed
        return effects

    def _check(self, cmd: c.Command, ctx: Context) -> None:
        """Who may send the command, and whether the meeting must be running for it."""
        if isinstance(cmd, ORGANIZER_ONLY) and not self.people.is_organizer(
            ctx.meeting, ctx.sender
        ):
            raise Refused(f"Only organizers and co-chairs of {ctx.meeting.title} can do that.")
        status, _ = self.store.status(*ctx.key)
        if isinstance(cmd, LIVE_ONLY) and status != "running" and not self._any_time(cmd):
            raise Refused(not_running(ctx))

    @staticmethod
    def _any_time(cmd: c.Command) -> bool:
        """`note #n`, `decided #n` and `action #n` write under item n before, during or after
        the meeting."""
        return isinstance(cmd, c.Note | c.Decided | c.Action) and cmd.item is not None

    def _where(self, command: c.Command, stream: str | None) -> str:
        name = c.name_of(command)
        shared = self.config.meetings_in_stream(stream) if stream else ()
        if shared:  # two meetings in this stream, and the topic is neither's
            topics = ", ".join(f"{m.title} in topics like `{m.topic}`" for m in shared)
            return (
                f"`{name}` belongs to a meeting, and #**{stream}** has several ({topics}): send "
                f"it in the meeting's topic, or name the meeting first, like "
                f"`{shared[0].key} {name}`."
            )
        streams = ", ".join(f"#**{m.stream}**" for m in self.config.meetings)
        example = f"{self.config.meetings[0].key} {name}"
        return (
            f"`{name}` belongs to a meeting: send it in the meeting's stream ({streams}), "
            f"or name the meeting first in a direct message, like `{example}`."
        )

    def _meeting_of(self, message: Incoming) -> tuple[MeetingConfig | None, Incoming]:
        """The meeting a message is about: its stream's; where two meetings share a stream,
        the one whose topic it is in, else the one it names first (`packaging add item ...`),
        as a direct message must. An ad hoc meeting open in the topic comes first."""
        if message.stream is None:
            return self._named_meeting(message, self.config.meetings)
        if adhoc_meeting := adhoc.meeting_in(self.shared, message.stream, message.topic or ""):
            return adhoc_meeting, message
        found = self.config.meetings_in_stream(message.stream)
        if len(found) < 2:
            return (found[0] if found else None), message
        for meeting in found:
            if in_topic(meeting, message.topic or ""):
                return meeting, message
        return self._named_meeting(message, found)

    def _named_meeting(
        self, message: Incoming, among: Sequence[MeetingConfig]
    ) -> tuple[MeetingConfig | None, Incoming]:
        """A direct message may start with the meeting it is about: `community vote 3`,
        `#community agenda` or `#**community** agenda` (a meeting's key or its stream)."""
        first, _, rest = message.content.strip().partition(" ")
        name = first.removeprefix("#").removeprefix("**").removesuffix("**")
        if not name or name.casefold() in c.COMMAND_WORDS:
            return None, message
        for meeting in among:
            if name.casefold() in (meeting.key.casefold(), meeting.stream.casefold()):
                return meeting, replace(message, content=rest)
        return None, message

    def handle_reaction(
        self,
        event_id: str,
        sender: Sender,
        message_id: int,
        emoji: str,
        added: bool,
        now: dt.datetime,
    ) -> list[Effect]:
        """A 👍 on the bot's reply to an `add` is a vote for that item; removing it unvotes."""
        if sender.is_bot or emoji not in THUMBS_UP:
            return []
        self._calendar_changed()
        with self.store.transaction():
            if self.store.seen(event_id):
                return []
            found = self.store.item_by_message(message_id)
            if found is None:
                return []
            key, day, number = found
            if not self.store.vote(key, day, number, sender.email.casefold(), added):
                return []
            meeting = self.config.meeting(key)
            if meeting is None or self.store.agenda_post(key, day) is None:
                return []
            start = start_of(meeting, dt.date.fromisoformat(day))
            try:
                ctx = draft_context(
                    self.shared, meeting, start, self.shared.bot, self.shared.bot_person
                )
            except Refused:
                return []  # the vote counts; the agenda message catches up on a later change
            return thread.refresh(ctx, now, self.edit_limit)

    def handle_submessage(
        self, event_id: str, sender: Sender, message_id: int, content: str
    ) -> None:
        """An action in a native poll: a ballot (`{"type": "vote", "key": "canned,0", "vote":
        1}`, -1 takes it back) or an option someone added (`{"type": "new_option", "idx": 1,
        "option": "..."}`, voted for as `"<their id>,<idx>"`). Anything else is ignored, as
        Zulip's own clients ignore it."""
        if sender.is_bot:
            return
        with self.store.transaction():
            if self.store.seen(event_id):
                return
            poll = self.store.poll_by_message(message_id)
            try:
                data = json.loads(content)
            except ValueError:
                return
            if poll is None or poll.closed or not isinstance(data, dict):
                return
            self.people.identify(sender)  # ballots carry only the user id: remember whose it is
            if data.get("type") == "vote" and data.get("vote") in (1, -1):
                self.store.ballot(poll.id, sender.user_id, str(data.get("key")), data["vote"] == 1)
            elif data.get("type") == "new_option" and isinstance(data.get("option"), str):
                key = f"{sender.user_id},{data.get('idx')}"
                self.store.add_poll_option(poll.id, key, " ".join(data["option"].split()))

    def message_sent(self, ref: str, message_id: int) -> None:
        """The runner reports the id Zulip gave to a message the service asked for."""
        kind, _, rest = ref.partition(":")
        with self.store.transaction():
            if kind == "item":
                meeting, day, number = rest.split(":")
                self.store.update_item(meeting, day, int(number), message_id=message_id)
            elif kind == "poll":
                self.store.set_poll(int(rest), message_id=message_id)
            elif kind == "agenda":
                meeting, day = rest.split(":")
                self.store.agenda_posted(meeting, day, message_id)

    def _observe(
        self,
        meeting: MeetingConfig | None,
        message: Incoming,
        replies: Sequence[Effect],
        now: dt.datetime,
        running_before: str | None = None,
    ) -> None:
        """While a meeting runs, its topic is transcribed, replies included, and with
        `auto_attendance` whoever speaks there is counted present."""
        running = self.store.running(meeting.key) if meeting else None
        day_text = running or running_before
        if meeting is None or day_text is None:
            return
        day = dt.date.fromisoformat(day_text)
        if (message.topic or "").casefold() != meeting.topic_for(day).casefold():
            return
        said = [(message.sender.full_name, message.content)]
        said += [
            (self.config.bot_name, r.content)
            for r in replies
            if isinstance(r, Send) and r.topic == message.topic
        ]
        notes = meeting.notes_path_for(day)
        when = now.astimezone(meeting.timezone)
        transcript.append(transcript.path_for(notes), meeting.title, day, when, said)
        if meeting.auto_attendance and running:
            attendance.auto(self.shared, meeting, message.sender, now)

    def occurrence(self, meeting: MeetingConfig, now: dt.datetime) -> dt.datetime | None:
        """The meeting that chat is about at `now` (see `context.occurrence`)."""
        return occurrence(self.shared, meeting, now)

    # --- the schedule (see `thread`) ----------------------------------------------------------

    def tick(self, now: dt.datetime) -> list[Effect]:
        """What the clock makes due: the schedule's jobs, each once, agenda re-posts, and the
        end of ad hoc meetings left open."""
        self._calendar_changed()
        return thread.tick(self.shared, now, self.edit_limit) + adhoc.tick(self.shared, now)

    def edit_refused(self, message_id: int) -> None:
        """Zulip would not take an edit of a message (its edit limit came first)."""
        thread.edit_refused(self.store, message_id)
