"""Applies chat commands, reactions and poll votes to the notes draft and the store.

Pure of Zulip: it takes `Incoming` values and `now`, and returns `Send` effects. The notes file
is read afresh for every event (people edit it by hand) and saved atomically; a command is
redone if someone saved the file in between. Each event runs in one store transaction and is
skipped if its id was already processed; a refused command is rolled back to a savepoint.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from zulip_bot import schedule
from zulip_bot.config import BotConfig, MeetingConfig, Person
from zulip_bot.meeting import commands as c
from zulip_bot.meeting import messages, thread, transcript, wrapup
from zulip_bot.meeting.effects import Effect, Incoming, Send, Sender
from zulip_bot.meeting.people import People, is_named
from zulip_bot.meeting.refusal import Refused
from zulip_bot.meeting.store import ActionRow, Busy, ItemRow, Store
from zulip_bot.notes import (
    AgendaItem,
    Attendee,
    NotesConflict,
    NotesDocument,
    NotesError,
    new_draft,
)
from zulip_bot.notes.extract import NOT_INITIALS, is_decision, owner_prefix
from zulip_bot.notes.model import PLACEHOLDER_TEXTS, OwnerStyle, Parsed
from zulip_bot.notes.parse import is_attendee_title, normalize_title

# Commands about a person rather than a meeting: they work in direct messages too.
ANYWHERE = (c.Help, c.Actions, c.Done, c.Iam)
ORGANIZER_ONLY = (c.Start, c.Next, c.GoTo, c.End, c.Chair, c.ClosePoll)
LIVE_ONLY = (c.Next, c.GoTo, c.Note, c.Action, c.Decided, c.End)
# Commands after which the agenda message may read differently (numbers, owners, votes, ticks).
AGENDA_CHANGES = (c.Add, c.Edit, c.Withdraw, c.Vote, c.Unvote, c.Start, c.Next, c.GoTo, c.Undo)
THUMBS_UP = ("+1", "thumbs_up", "like")
NO_OWNER = "(no owner)"  # `add item (no owner) ...`: an item nobody in particular brings
CHECKBOXES = ("[x]", "[X]", "[ ]")  # `[x] done` is a ticked box as typed, not an owner `x`
REWORDED = 0.6  # how alike a hand-edited item's text must stay to keep its number
START_EARLY = dt.timedelta(hours=1)  # a `start` long before the meeting is a mistake
SAVE_ATTEMPTS = 5  # a hand edit saved between our read and our write: redo the command on it
BUSY = (
    "I am busy: my database is locked by another process. Nothing was changed; "
    "send the command again in a minute."
)
EDIT_LIMIT = dt.timedelta(seconds=600)  # Zulip's default; the runner sets the realm's own
UNTOUCHED = "I have not changed it; fix it by hand, then send the command again."


def _likeness(row: ItemRow, text: str) -> float:
    """How alike a stored item's words and a line's words are (1.0 when one holds the other)."""
    old, new = row.text.casefold(), text.casefold()
    if old in new or new in old:
        return 1.0
    return difflib.SequenceMatcher(None, old, new).ratio()


def _claim(
    rows: list[ItemRow] | None, title: str, owners: tuple[str, ...], struck: bool
) -> ItemRow | None:
    """The stored row a line with these words is, among those with the same words: same
    owners and section first. A withdrawn number comes back only for its crossed-out line."""
    if not rows:
        return None
    candidates = [r for r in rows if struck or not r.withdrawn]
    if not candidates:
        return None
    section = normalize_title(title)
    best = max(
        candidates, key=lambda r: (r.owners == owners, normalize_title(r.section) == section)
    )
    rows.remove(best)
    return best


def _numbers(numbers: Iterable[int]) -> str:
    listed = [str(n) for n in numbers]
    return ", ".join(listed[:-1]) + " and " + listed[-1] if len(listed) > 1 else "".join(listed)


def _in_topic(meeting: MeetingConfig, topic: str) -> bool:
    """Whether `topic` is one of the meeting's (its `topic` pattern, for some date)."""
    try:
        dt.datetime.strptime(topic.strip(), meeting.topic)
    except ValueError:
        return False
    return True


def _ids(actions: Sequence[int]) -> str:
    return ", ".join(f"A{action}" for action in actions)


@dataclass
class Context:
    meeting: MeetingConfig
    day: dt.date
    start: dt.datetime
    sender: Sender
    person: Person
    doc: NotesDocument
    path: Path
    # `_agenda` for the parse it was made from: several steps of one command ask for it.
    agenda: tuple[Parsed, list[Live]] | None = None
    # What `_agenda` found besides: items whose lines are gone (for now), crossed-out items.
    missing: list[ItemRow] = field(default_factory=list)
    struck: list[Live] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return self.meeting.key, self.day.isoformat()


@dataclass(frozen=True)
class Owned:
    """Text with the owners it names (or the sender's), and how they were written."""

    owners: tuple[str, ...]
    text: str
    style: OwnerStyle | None


@dataclass(frozen=True)
class Live:
    row: ItemRow
    item: AgendaItem


class MeetingService:
    def __init__(self, config: BotConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self.people = People(config, store)
        #: How long Zulip lets the bot edit its messages (None: no limit).
        self.edit_limit: dt.timedelta | None = EDIT_LIMIT
        # Who the schedule acts as: the bot itself, never a person in the roster.
        self._bot = Sender(f"{config.bot_name}@localhost", config.bot_name, 0, is_bot=True)
        self._bot_person = Person(config.bot_name, "", email=self._bot.email)

    # --- entry points -----------------------------------------------------------------------

    def handle_message(self, message: Incoming, now: dt.datetime) -> list[Effect]:
        """A message to the bot gets replies; any message in a running meeting's topic is kept
        in the transcript (and, with `auto_attendance`, adds its sender to the attendees).
        When another process holds the database too long, the sender is told to try again:
        the event is not marked processed, so nothing of it is half done."""
        if message.sender.is_bot:
            return []
        try:
            return self._handle_message(message, now)
        except Busy:
            if not message.addressed:
                raise
            return [self._reply(message, BUSY)]

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
                command = c.parse(message.content)
                if isinstance(command, ANYWHERE):
                    with self.store.savepoint():
                        effects = [*self._anywhere(command, message, meeting, now)]
                elif meeting is None:
                    effects = [self._reply(message, self._where(command, message.stream))]
                else:
                    return self._in_meeting(command, meeting, message, now)
            except (c.CommandError, Refused) as error:
                effects = [self._reply(message, str(error))]
            self._observe(meeting, message, effects, now)
            return effects

    def _in_meeting(
        self, command: c.Command, meeting: MeetingConfig, message: Incoming, now: dt.datetime
    ) -> list[Effect]:
        running_before = self.store.running(meeting.key)
        effects: list[Effect]
        for _attempt in range(SAVE_ATTEMPTS):
            try:
                ctx = self._context(meeting, message.sender, now)
                with self.store.savepoint():
                    effects = [*self._dispatch(command, ctx, message, now)]
                    if isinstance(command, AGENDA_CHANGES):
                        effects += thread.refresh(self, ctx, now)
                break
            except NotesConflict:
                continue  # someone saved the draft meanwhile: do it again on their version
            except (Refused, NotesError) as error:
                effects = [self._reply(message, str(error))]
                break
        else:
            effects = [self._reply(message, "The notes draft kept changing while I was saving "
                                   "it; nothing was changed. Send the command again.")]  # fmt: skip
        self._observe(meeting, message, effects, now, running_before)  # `end` is transcribed
        return effects

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
        as a direct message must."""
        if message.stream is None:
            return self._named_meeting(message, self.config.meetings)
        found = self.config.meetings_in_stream(message.stream)
        if len(found) < 2:
            return (found[0] if found else None), message
        for meeting in found:
            if _in_topic(meeting, message.topic or ""):
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
            start = self._start_of(meeting, dt.date.fromisoformat(day))
            try:
                ctx = self._draft_context(meeting, start, self._bot, self._bot_person)
            except Refused:
                return []  # the vote counts; the agenda message catches up on a later change
            return thread.refresh(self, ctx, now)

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
            try:
                ctx = self._context(meeting, message.sender, now)
            except Refused:
                return  # the draft cannot be read: the reply to a command says so
            if self._attend(ctx):
                self._save(ctx)

    def _is_running(self, ctx: Context) -> bool:
        return self.store.status(*ctx.key)[0] == "running"

    # --- context ----------------------------------------------------------------------------

    def occurrence(self, meeting: MeetingConfig, now: dt.datetime) -> dt.datetime | None:
        """The meeting that chat is about at `now`: the running one (even when it overruns);
        else one whose time has passed without a start, until the next one is near (then it
        counts as skipped, and its items move on); else the one under way or next on the
        schedule, passing over one that has ended."""
        running = self.store.running(meeting.key)
        if running is not None:
            return self._start_of(meeting, dt.date.fromisoformat(running))
        found = schedule.current_occurrence(meeting, now)
        while (
            found is not None
            and self.store.status(meeting.key, found.date().isoformat())[0] != "planned"
        ):
            found = schedule.next_occurrence(meeting, found)
        if found is None:
            return None
        while days := self.store.overdue_days(meeting.key, found.date().isoformat()):
            late = self._start_of(meeting, dt.date.fromisoformat(days[0]))
            following = schedule.next_occurrence(meeting, late) or found
            if now < following - START_EARLY:
                return late  # not started on time: still the agenda people see
            try:
                wrapup.carry_skipped(self.store, meeting, late.date(), following.date())
            except NotesError as error:
                raise Refused(
                    f"The {late.date()} meeting was never held, and I cannot move its items to "
                    f"the next draft: {error}. {UNTOUCHED}"
                ) from None
        return found

    @staticmethod
    def _start_of(meeting: MeetingConfig, day: dt.date) -> dt.datetime:
        return schedule.occurrence_on(meeting, day) or dt.datetime.combine(
            day, meeting.start, meeting.timezone
        )

    def _context(self, meeting: MeetingConfig, sender: Sender, now: dt.datetime) -> Context:
        start = self.occurrence(meeting, now)
        if start is None:
            raise Refused(f"{meeting.title} has no more meetings on its schedule.")
        return self._draft_context(meeting, start, sender, self.people.identify(sender))

    def _draft_context(
        self, meeting: MeetingConfig, start: dt.datetime, sender: Sender, person: Person
    ) -> Context:
        day = start.date()
        path = meeting.notes_path_for(day)
        if not path.exists():
            kept = [r for r in self.store.items(meeting.key, day.isoformat()) if not r.withdrawn]
            if kept:  # deleted by hand, or being restored: never start over on top of it
                raise Refused(
                    f"The notes draft `{path}` is missing, but it held "
                    f"{messages.noun(len(kept), 'item')} {_numbers(r.number for r in kept)}. "
                    "Put it back, then send the command again; nothing was changed. (To start "
                    "afresh instead, make a new draft with `meetbot notes new` and `withdraw` "
                    "the items you no longer want.)"
                )
            doc = new_draft(meeting.template.read_text(encoding="utf-8"), day)
            return Context(meeting, day, start, sender, person, doc, path)
        try:
            doc = NotesDocument.load(path)
        except NotesError as error:
            raise Refused(f"I cannot read the notes draft: {error}. {UNTOUCHED}") from None
        for problem in doc.blocking_warnings():
            raise Refused(
                f"The notes draft `{path}` has a problem on line {problem.line}: "
                f"{problem.message}. {UNTOUCHED}"
            )
        return Context(meeting, day, start, sender, person, doc, path)

    # --- helpers ----------------------------------------------------------------------------

    def _reply(self, message: Incoming, content: str, ref: str | None = None) -> Send:
        if message.stream is None:
            return Send(content, to=message.sender.email, ref=ref)
        return Send(content, stream=message.stream, topic=message.topic, ref=ref)

    def _agenda(self, ctx: Context) -> list[Live]:
        """Store rows matched to the draft's items; items typed by hand get numbers too.

        A line is its item by its words (in any section, so moving it keeps it), else, when
        its words were corrected by hand, by owners, section and mostly the same words. A row
        no line claims is missing, not withdrawn: it keeps its number and votes for when its
        line comes back. Crossed-out lines are withdrawn items, kept for their notes."""
        if ctx.agenda is not None and ctx.agenda[0] is ctx.doc.parsed:
            return ctx.agenda[1]
        by_text: dict[str, list[ItemRow]] = {}
        for row in self.store.items(*ctx.key):  # in number order: duplicates match in turn
            by_text.setdefault(row.text, []).append(row)
        live: list[Live] = []
        struck: list[Live] = []
        new: list[tuple[str, AgendaItem]] = []
        for title, item in self._draft_items(ctx):
            text, crossed = (
                wrapup.unstruck(item.text) if item.text[:2] == "~~" else (item.text, False)
            )
            rows = by_text.get(text)
            if rows and len(rows) == 1 and rows[0].owners == item.owners and not rows[0].withdrawn:
                claimed: ItemRow | None = rows.pop()  # nearly always: the one row, unchanged
            else:
                claimed = _claim(rows, title, item.owners, crossed)
            if claimed is None:
                new.append((title, item))
            elif crossed:
                if not claimed.withdrawn:  # crossed out by hand
                    self.store.update_item(*ctx.key, claimed.number, withdrawn=True)
                struck.append(Live(claimed, item))
            else:
                live.append(Live(claimed, item))
        left = [row for rows in by_text.values() for row in rows if not row.withdrawn]
        for title, item in new:
            text, crossed = wrapup.unstruck(item.text)
            section = normalize_title(title)
            earlier = max(
                (
                    r
                    for r in left
                    if r.owners == item.owners and normalize_title(r.section) == section
                ),
                key=lambda r: _likeness(r, text),
                default=None,
            )
            if earlier is not None and _likeness(earlier, text) >= REWORDED:
                left.remove(earlier)  # its words were corrected by hand: same item, same number
                self.store.update_item(*ctx.key, earlier.number, text=text, withdrawn=crossed)
                row = replace(earlier, text=text, withdrawn=crossed)
            else:
                number = self.store.add_item(*ctx.key, title, text, item.owners, None)
                row = ItemRow(number, title, text, item.owners, None, crossed, None)
            (struck if crossed else live).append(Live(row, item))
        ctx.missing = sorted(left, key=lambda r: r.number)
        ctx.struck = struck
        ctx.agenda = ctx.doc.parsed, sorted(live, key=lambda entry: entry.item.line)
        return ctx.agenda[1]

    def _draft_items(self, ctx: Context) -> Iterator[tuple[str, AgendaItem]]:
        """The top-level items of the sections chat commands write to (placeholders aside)."""
        for kind, title in ctx.meeting.sections:
            if kind == "actions":
                continue
            try:
                items = ctx.doc.items(title)
            except NotesError:
                continue
            for item in items:
                if item.text not in PLACEHOLDER_TEXTS or item.owners:
                    yield title, item

    def _find(self, ctx: Context, number: int) -> Live:
        for entry in self._agenda(ctx):
            if entry.row.number == number:
                return entry
        rows = {r.number: r for r in self.store.items(*ctx.key)}
        if number in rows and rows[number].withdrawn:
            raise Refused(f"Item {number} was withdrawn.")
        if number in rows:
            raise Refused(f"Item {number} is {self._gone(ctx, rows[number])}")
        top = max(rows, default=0)
        raise Refused(
            f"There is no item {number}; the agenda has items 1 to {top}."
            if top
            else f"There is no item {number}; the agenda is empty."
        )

    @staticmethod
    def _gone(ctx: Context, row: ItemRow) -> str:
        """Why a missing item cannot be found, and that it is not lost."""
        why = (
            f"the section {row.section} is gone from it"
            if ctx.doc.section(row.section) is None
            else "its line was removed by hand"
        )
        return (
            f"not in the notes draft now: {why}. It keeps its number and votes and comes back "
            f"when its line does; `withdraw {row.number}` takes it off for good."
        )

    def _owns(self, ctx: Context, row: ItemRow, owners: Sequence[str]) -> bool:
        """The person who added the item, or one of the owners it names."""
        return row.author == ctx.sender.email.casefold() or ctx.person.initials in owners

    def _may_change(self, ctx: Context, row: ItemRow, owners: Sequence[str], verb: str) -> None:
        if self._owns(ctx, row, owners) or self.people.is_organizer(ctx.meeting, ctx.sender):
            return
        raise Refused(
            f"Only the owners of item {row.number}, the person who added it, or an organizer "
            f"can {verb} it."
        )

    def _current(self, ctx: Context) -> Live:
        """The open item; only live commands ask, and `_dispatch` has checked that it runs."""
        _, current = self.store.status(*ctx.key)
        if current is None:
            raise Refused("No item is open yet: an organizer opens one with `next` or `item <n>`.")
        try:
            return self._find(ctx, current)
        except Refused:
            raise Refused(
                f"Item {current}, the one open, is no longer on the agenda: an organizer opens "
                "another with `next` or `item <n>`."
            ) from None

    def _save(self, ctx: Context) -> None:
        ctx.doc.save(ctx.path)

    # --- dispatch ---------------------------------------------------------------------------

    def _dispatch(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        if isinstance(cmd, ORGANIZER_ONLY) and not self.people.is_organizer(
            ctx.meeting, ctx.sender
        ):
            raise Refused(f"Only organizers and co-chairs of {ctx.meeting.title} can do that.")
        status, _ = self.store.status(*ctx.key)
        if isinstance(cmd, LIVE_ONLY) and status != "running" and not self._any_time(cmd):
            raise Refused(self._not_running(ctx))
        handler: Callable[[c.Command, Context, Incoming, dt.datetime], list[Send]] = getattr(
            self, f"_cmd_{type(cmd).__name__.lower()}"
        )
        return handler(cmd, ctx, msg, now)

    def _not_running(self, ctx: Context) -> str:
        """After an `end`, chat is about the next meeting: say so, rather than that the
        meeting has not started."""
        ended = self.store.last_ended(ctx.meeting.key)
        if ended is None or ended[0] >= ctx.day.isoformat():
            return "The meeting has not started: an organizer starts it with `start`."
        day = dt.date.fromisoformat(ended[0])
        when = f" at {messages.time_tag(dt.datetime.fromisoformat(ended[1]))}" if ended[1] else ""
        where = f"#**{ctx.meeting.stream}>{ctx.meeting.topic_for(day)}**"
        return (
            f"The {ctx.meeting.title} of {day} ended{when}; its summary is in {where}. "
            f"The next one is {messages.time_tag(ctx.start)}; an organizer starts it with `start`."
        )

    @staticmethod
    def _any_time(cmd: c.Command) -> bool:
        """`note #n`, `decided #n` and `action #n` write under item n before, during or after
        the meeting."""
        return isinstance(cmd, c.Note | c.Decided | c.Action) and cmd.item is not None

    def _cmd_add(self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
        """An introduction is written about the newcomer, with no owner unless one is named."""
        assert isinstance(cmd, c.Add)
        section = ctx.meeting.section(cmd.kind)
        self._agenda(ctx)
        if ctx.doc.section(section) is None:
            ctx.doc.add_section(section)
        owned = self._owned(ctx, cmd.text, mine=cmd.kind != "intro")
        owners = owned.owners
        line = ctx.doc.add_item(section, owned.text, owners, checked=False, style=owned.style)
        text = self._written(ctx, line)
        self._save(ctx)
        number = self.store.add_item(*ctx.key, section, text, owners, ctx.sender.email.casefold())
        self.store.push_undo(*ctx.key, ctx.sender.email.casefold(), "add", number)
        shown = f"{'/'.join(owners)}: {text}" if owners else text
        reply = (
            f"Added item **{number}** to {section}: {shown}\n"
            f"React with 👍 (or `vote {number}`) to vote for it."
        )
        return [
            self._reply(
                msg,
                reply + self._unknown_note(owners),
                ref=f"item:{ctx.meeting.key}:{ctx.day}:{number}",
            )
        ]

    @staticmethod
    def _speaker(text: str) -> tuple[tuple[str, ...], str, OwnerStyle | None]:
        """Split `JL: text`, `(jaimergp) text` or `[DG/Travis] text` into its owners, the text
        and how the owners were written: whatever the notes read as owners, chat does too
        (`Zulip CEP: vote now` stays words in both)."""
        prefix = owner_prefix(text)
        rest = text[len(prefix.written) :] if prefix is not None else ""
        if prefix is None or not rest.strip() or prefix.written.strip() in CHECKBOXES:
            return (), text, None
        return prefix.owners, rest, prefix.style

    @staticmethod
    def _written(ctx: Context, line: int) -> str:
        """The text of the item the bot just wrote on `line`, as the notes now read it: what
        the store keeps and replies quote, so that both match the file exactly."""
        item = ctx.doc.item_at(line)
        assert item is not None, f"no item on line {line} right after writing it"
        return item.text

    def _owned(self, ctx: Context, text: str, mine: bool = True) -> Owned:
        """`BZ/WV: text` is owned by BZ and WV, as the notes write shared items; anything else
        is the sender's own (with `mine`) or nobody's. Only an organizer may name owners
        without being one of them: nobody else's name is put on what they did not write."""
        if text.casefold().startswith(NO_OWNER) and text[len(NO_OWNER) :].strip():
            return Owned((), text[len(NO_OWNER) :].strip(), None)  # standing items, to-dos
        owners, rest, style = self._speaker(text)
        if not owners:
            return Owned((ctx.person.initials,) if mine else (), text, None)
        if not any(is_named(ctx.person, o) for o in owners) and not self.people.is_organizer(
            ctx.meeting, ctx.sender
        ):
            named = "/".join(owners)
            raise Refused(
                f"Only {named} or an organizer can write in {named}'s name. Name yourself "
                f"among them (`{ctx.person.initials}/{named}: ...`), or leave the names out."
            )
        return Owned(owners, rest, style)

    def _unknown_note(self, owners: Sequence[str]) -> str:
        unknown = self.people.unknown(owners)
        if not unknown:
            return ""
        one = len(unknown) == 1
        return (
            f"\nNote: {', '.join(unknown)} {'is' if one else 'are'} not in the roster; I kept "
            f"{'it' if one else 'them'} as written."
        )

    def _cmd_edit(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        """`edit 2 DG: text` names the owners the way `add` does."""
        assert isinstance(cmd, c.Edit)
        entry = self._find(ctx, cmd.number)
        self._may_change(ctx, entry.row, entry.item.owners, "edit")
        owned = self._owned(ctx, cmd.text, mine=False)
        owners, text = owned.owners, owned.text
        ctx.doc.set_item_text(entry.item, text)
        if owners and owners != entry.item.owners:
            ctx.doc.set_item_owners(ctx.doc.item_at(entry.item.line) or entry.item, owners)
        text = self._written(ctx, entry.item.line)
        self._save(ctx)
        self.store.update_item(*ctx.key, cmd.number, text=text, owners=owners or None)
        shown = f"{'/'.join(owners)}: " if owners else ""
        return [self._reply(msg, f"Item {cmd.number} now reads: {shown}{text}")]

    def _cmd_withdraw(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        """An item that has been discussed, or has notes under it that its owners did not
        write, keeps them: only an organizer may withdraw it, and it is crossed out."""
        assert isinstance(cmd, c.Withdraw)
        number = cmd.number
        self._agenda(ctx)
        row = next((r for r in ctx.missing if r.number == number), None)
        if row is not None:  # its line is gone already: only the store knows it
            self._may_change(ctx, row, row.owners, "withdraw")
            self.store.update_item(*ctx.key, number, withdrawn=True)
            return [self._reply(msg, f"Withdrew item {number}: {row.text}")]
        if any(entry.row.number == number for entry in ctx.struck) or any(
            r.number == number and r.withdrawn for r in self.store.items(*ctx.key)
        ):
            raise Refused(f"Item {number} was already withdrawn.")
        entry = self._find(ctx, number)
        self._may_change(ctx, entry.row, entry.item.owners, "withdraw")
        if self._discussed(ctx, entry):
            if not self.people.is_organizer(ctx.meeting, ctx.sender):
                raise Refused(
                    f"Item {number} has been discussed or has notes under it that others "
                    "wrote, so I kept it; an organizer can still `withdraw` it, which crosses "
                    "it out and keeps what was written under it."
                )
            ctx.doc.strike_item(entry.item)
            done = f"Crossed out item {number}: {entry.item.text}. What was written under it stays."
        else:
            ctx.doc.remove_item(entry.item)
            done = f"Withdrew item {number}: {entry.item.text}"
        self._save(ctx)
        self.store.update_item(*ctx.key, number, withdrawn=True)
        return [self._reply(msg, done)]

    def _discussed(self, ctx: Context, entry: Live) -> bool:
        """Ticked, or with a sub-bullet that is not one of the details its owners added."""
        if entry.item.checked:
            return True
        details = self.store.details(*ctx.key, entry.row.number)
        return any(child.text not in details for child in entry.item.children)

    def _vote(self, number: int, ctx: Context, msg: Incoming, on: bool) -> list[Send]:
        self._find(ctx, number)
        changed = self.store.vote(*ctx.key, number, ctx.sender.email.casefold(), on)
        if not changed:
            already = "You already voted for" if on else "You had not voted for"
            return [self._reply(msg, f"{already} item {number}.")]
        votes = self.store.vote_counts(*ctx.key).get(number, 0)
        verb = "Voted for" if on else "Took back your vote for"
        reply = self._reply(msg, f"{verb} item {number}; it has {messages.counted(votes, 'vote')}.")
        return [replace(reply, ack_only=True)]

    def _cmd_vote(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        assert isinstance(cmd, c.Vote)
        return self._vote(cmd.number, ctx, msg, True)

    def _cmd_unvote(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        assert isinstance(cmd, c.Unvote)
        return self._vote(cmd.number, ctx, msg, False)

    def _ordered(self, ctx: Context) -> list[tuple[Live, int]]:
        votes = self.store.vote_counts(*ctx.key)
        entries = [(e, votes.get(e.row.number, 0)) for e in self._agenda(ctx)]
        return sorted(entries, key=lambda pair: (-pair[1], pair[0].row.number))

    def _cmd_agenda(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        lines = [
            messages.AgendaLine(e.row.number, e.item.owners, e.item.text, votes, e.item.checked)
            for e, votes in self._ordered(ctx)
        ]
        title = f"{ctx.meeting.title}, {messages.time_tag(ctx.start)}"
        texts = messages.agenda(title, lines)
        if ctx.missing:
            gone = ", ".join(
                f"item {r.number} ({'/'.join(r.owners) + ': ' if r.owners else ''}{r.text})"
                for r in ctx.missing
            )
            sections = sorted(
                {r.section for r in ctx.missing if ctx.doc.section(r.section) is None}
            )
            why = f" (the section {', '.join(sections)} is gone from it)" if sections else ""
            texts.append(
                f"Not in the notes draft now{why}, kept with their votes until their lines come "
                f"back: {gone}."
            )
        return [self._reply(msg, text) for text in texts]

    def _cmd_here(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        added = self._attend(ctx)
        self._save(ctx)
        if not added:
            return [self._reply(msg, f"{ctx.person.name} is already on the attendee list.")]
        count = max(ctx.doc.head_count or 0, len(ctx.doc.attendees()))
        welcome = self._reply(
            msg,
            f"Welcome, {ctx.person.name} ({ctx.person.initials})! "
            f"{messages.counted(count, 'person', 'people')} here so far.",
        )
        return [replace(welcome, ack_only=True)]

    def _attend(self, ctx: Context) -> bool:
        attendees = ctx.doc.attendees()
        person = ctx.person
        if any(
            a.name == person.name or (a.initials and a.initials == person.initials)
            for a in attendees
        ):
            return False
        if ctx.doc.parsed.attendee_section is None and ctx.doc.parsed.attendee_table is None:
            ctx.doc.add_section("Attendees", level=2, before=self._attendees_before(ctx))
        ctx.doc.add_attendee(
            Attendee(person.name, person.initials, person.affiliation, person.github)
        )
        counted = max(len(ctx.doc.attendees()), ctx.doc.head_count or 0)
        if ctx.doc.head_count is None or counted > ctx.doc.head_count:
            ctx.doc.set_head_count(counted)
        return True

    def _rename_owner(
        self, meeting: MeetingConfig, msg: Incoming, old: str, new: str, now: dt.datetime
    ) -> None:
        """The sender's own items in the meeting ahead follow their newly chosen initials."""
        if old == new:
            return
        try:
            ctx = self._context(meeting, msg.sender, now)
        except Refused:
            return  # no meeting ahead, or a draft we may not touch: nothing to follow
        if self.store.status(*ctx.key)[0] == "ended" or not ctx.path.exists():
            return
        author = msg.sender.email.casefold()
        mine = [e for e in self._agenda(ctx) if e.row.author == author and old in e.item.owners]
        for entry in mine:
            owners = tuple(new if o == old else o for o in entry.item.owners)
            ctx.doc.set_item_owners(ctx.doc.item_at(entry.item.line) or entry.item, owners)
            self.store.update_item(*ctx.key, entry.row.number, owners=owners)
        if mine:
            self._save(ctx)

    @staticmethod
    def _attendees_before(ctx: Context) -> str | None:
        """Where the template puts the attendees: before the first of the sections that
        follow them there which the draft still has (else at the end)."""
        template = NotesDocument.parse(ctx.meeting.template.read_text(encoding="utf-8"))
        titles = [section.title for section in template.sections()]
        first = next((n for n, title in enumerate(titles) if is_attendee_title(title)), None)
        if first is None:
            return None
        return next((t for t in titles[first + 1 :] if ctx.doc.section(t) is not None), None)

    def _anywhere(
        self, cmd: c.Command, msg: Incoming, meeting: MeetingConfig | None, now: dt.datetime
    ) -> list[Send]:
        """Commands about the sender, not a meeting: no notes file is read for them. In a
        meeting's stream, `actions` lists that meeting's; elsewhere, every meeting's."""
        if isinstance(cmd, c.Help):
            return [self._reply(msg, self._help(cmd))]
        if isinstance(cmd, c.Iam):
            before = self.people.identify(msg.sender).initials
            done = self.people.register(msg.sender, cmd.initials, cmd.affiliation, cmd.github)
            for each in [meeting] if meeting else self.config.meetings:
                self._rename_owner(each, msg, before, cmd.initials, now)
            return [self._reply(msg, done)]
        person = self.people.identify(msg.sender)
        if isinstance(cmd, c.Actions):
            return [self._reply(msg, text) for text in self._actions(cmd, person, meeting)]
        assert isinstance(cmd, c.Done)
        return [self._reply(msg, self._done(cmd, msg.sender, person))]

    def _cmd_chair(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        assert isinstance(cmd, c.Chair)
        person = self.people.find(cmd.person)
        if person is None or not person.email:
            raise Refused(
                f"I don't know {cmd.person.name} yet: they can say something to me first, "
                "or be added to the roster."
            )
        self.store.add_chair(ctx.meeting.key, person.email)
        return [self._reply(msg, f"{person.name} is now a co-chair of {ctx.meeting.title}.")]

    def _cmd_start(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        status, _ = self.store.status(*ctx.key)
        if status == "running":
            raise Refused("The meeting is already running.")
        if now < ctx.start - START_EARLY:
            minutes = START_EARLY // dt.timedelta(minutes=1)
            raise Refused(
                f"The next {ctx.meeting.title} is {messages.time_tag(ctx.start)}; `start` works "
                f"from {minutes} minutes before it."
            )
        return [self._reply(msg, self._start(ctx))]

    def _start(self, ctx: Context) -> str:
        self.store.set_status(*ctx.key, "running", None)
        order = ""
        if ctx.meeting.order_by_votes:
            try:
                if self._order_by_votes(ctx):
                    order = " The agenda is now ordered by votes."
            except NotesError as error:
                order = f" I kept the agenda in its written order: {error}."
        self._save(ctx)  # the draft exists from now on, for the note-takers
        return f"{ctx.meeting.title} has started.{order} `next` opens the first item."

    def _order_by_votes(self, ctx: Context) -> bool:
        """Undiscussed items move by votes, ties by submission; discussed ones stay put.
        Returns whether anything moved."""
        votes = self.store.vote_counts(*ctx.key)
        numbers = {e.item.line: e.row.number for e in self._agenda(ctx)}
        moved = False
        for kind in ("item", "carried"):
            title = ctx.meeting.section(kind)
            try:
                items = ctx.doc.items(title)
            except NotesError:
                continue
            movable = [i for i in items if i.line in numbers and not i.checked]
            ranked = sorted(
                movable, key=lambda i: (-votes.get(numbers[i.line], 0), numbers[i.line])
            )
            if ranked == movable:
                continue
            slots = iter(ranked)
            ctx.doc.reorder_items(title, [next(slots) if i in movable else i for i in items])
            numbers = {e.item.line: e.row.number for e in self._agenda(ctx)}
            moved = True
        return moved

    def _cmd_next(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        """The first undiscussed item after the current one in the notes (whose order `start`
        set by votes), else the first one left above it."""
        agenda = self._agenda(ctx)
        _, current = self.store.status(*ctx.key)
        at = next((e.item.line for e in agenda if e.row.number == current), 0)
        pending = sorted(
            (e for e in agenda if not e.item.checked), key=lambda e: (e.item.line < at, e.item.line)
        )
        if not pending:
            raise Refused("Every item has been discussed; `end` ends the meeting.")
        return self._open(ctx, msg, pending[0])

    def _cmd_goto(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        assert isinstance(cmd, c.GoTo)
        return self._open(ctx, msg, self._find(ctx, cmd.number))

    def _open(self, ctx: Context, msg: Incoming, entry: Live) -> list[Send]:
        ctx.doc.set_checked(entry.item, True)
        self._save(ctx)
        self.store.set_status(*ctx.key, "running", entry.row.number)
        owners = "/".join(entry.item.owners)
        return [
            self._reply(
                msg,
                f"Now on item {entry.row.number}: {owners + ': ' if owners else ''}"
                f"{entry.item.text}",
            )
        ]

    def _add_note(
        self,
        ctx: Context,
        entry: Live,
        text: str,
        owners: Sequence[str] = (),
        register: Callable[[str], list[int]] | None = None,
        style: OwnerStyle | None = None,
        detail: bool = False,
    ) -> str:
        """A sub-bullet under an item, which `undo` can take back, with the action items that
        `register` records for the text as written. A `detail` is one the item's own owners
        wrote before it was discussed: it does not make the item discussed."""
        written = self._written(ctx, ctx.doc.add_child(entry.item, text, owners, style=style))
        self._save(ctx)
        actions = register(written) if register else []
        # A plain note its owners wrote before the item came up; never an action or decision
        mine = self._owns(ctx, entry.row, entry.item.owners) and not entry.item.checked
        kind = "detail" if detail and mine else "note"
        undo = {"item": entry.row.number, "text": written, "actions": actions}
        self.store.push_undo(*ctx.key, ctx.sender.email.casefold(), kind, undo)
        return written

    def _target(self, ctx: Context, item: int | None) -> Live:
        """The item a note goes under: the open one, or item n (`note #n`) at any time, which
        only its owners and organizers may write under."""
        if item is None:
            if not self._is_running(ctx):
                raise Refused(self._not_running(ctx))
            return self._current(ctx)
        entry = self._find(ctx, item)
        if not self._owns(ctx, entry.row, entry.item.owners) and not self.people.is_organizer(
            ctx.meeting, ctx.sender
        ):
            raise Refused(
                f"Only the owners of item {item} or an organizer can add to it out of turn; "
                "`note <text>` notes under the open item while the meeting runs."
            )
        return entry

    def _cmd_note(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        """`note #n <text>` adds a detail under item n at any time, without opening it, as
        people add links under their items days ahead."""
        assert isinstance(cmd, c.Note)
        owned = self._owned(ctx, cmd.text, mine=False)
        owners = owned.owners
        entry = self._target(ctx, cmd.item)
        self._add_note(ctx, entry, owned.text, owners, style=owned.style, detail=True)
        where = "Noted under" if cmd.item is None else "Added under"
        reply = f"{where} item {entry.row.number}." + self._unknown_note(owners)
        return [replace(self._reply(msg, reply), ack_only=cmd.item is None)]

    def _cmd_decided(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        assert isinstance(cmd, c.Decided)
        entry = self._target(ctx, cmd.item)
        self._add_note(ctx, entry, cmd.text if is_decision(cmd.text) else f"Decision: {cmd.text}")
        return [self._reply(msg, f"Decision recorded under item {entry.row.number}.")]

    def _cmd_action(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        """The owner is a person; a word that only looks like initials (`CEP to deprecate
        ...`) starts the text of an action nobody owns yet."""
        assert isinstance(cmd, c.Action)
        entry = self._target(ctx, cmd.item)
        owners = [self._owner(o, ctx) for o in cmd.owners]
        task = cmd.text
        if None in owners:
            owners, task = [], cmd.said
        named = [o.removeprefix("@") for o in owners if o is not None]
        prefix = (
            f"Action item: {'/'.join(o for o in owners if o is not None)} to "
            if named
            else ("Action item: ")
        )
        ids: list[int] = []

        def register(written: str) -> list[int]:
            done = written.removeprefix(prefix)  # the task as the notes now read it
            ids.extend(
                self.store.add_action(*ctx.key, entry.item.text, owner, done)
                for owner in named or [""]
            )
            return ids

        self._add_note(ctx, entry, prefix + task, register=register)
        reply = (
            f"{messages.noun(len(ids), 'Action item')} {_ids(ids)} recorded under item "
            f"{entry.row.number}."
        )
        if not named:
            reply += " It has no owner: say `action XX <text>` to give one."
        return [self._reply(msg, reply + self._unknown_note(named))]

    def _owner(self, owner: c.Owner, ctx: Context) -> str | None:
        """Initials for a mention, a GitHub handle or a name of someone known; initials as
        typed unless they are a label (CEP, PR) that names nobody; a name as written when the
        notes already name that person (an owner, an attendee). None for anything else."""
        if owner.mention is not None:
            person = self.people.find(owner.mention)
            return person.initials if person else owner.text.replace(" ", "")
        if owner.handle:
            person = self.people.by_github(owner.text)
            return person.initials if person else f"@{owner.text}"
        if owner.name:
            person = self.config.roster.by_name(owner.text)
            if person is not None:
                return person.initials
            return owner.text if owner.text in self._names_in_draft(ctx) else None
        if self.people.known_initials(owner.text) or owner.text.upper() not in NOT_INITIALS:
            return owner.text
        return None

    @staticmethod
    def _names_in_draft(ctx: Context) -> set[str]:
        """Names the draft already uses for people: item owners and attendees' first names."""
        names = {o for item in ctx.doc.items() for o in item.owners}
        names |= {a.name.split()[0] for a in ctx.doc.attendees() if a.name.split()}
        return names

    def _cmd_undo(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        last = self.store.pop_undo(*ctx.key, ctx.sender.email.casefold())
        if last is None:
            raise Refused("You have added nothing in this meeting that I can undo.")
        kind, payload = last
        try:
            done = self._undo_add(ctx, payload) if kind == "add" else self._undo_note(ctx, payload)
        except Refused as why:  # used up all the same, so that the next `undo` goes on
            skipped = "I have skipped that step: `undo` again goes on to the one before it."
            return [self._reply(msg, f"{why} {skipped}")]
        self._save(ctx)
        return [self._reply(msg, done)]

    def _undo_add(self, ctx: Context, payload: object) -> str:
        assert isinstance(payload, int)
        entry = self._find(ctx, payload)
        if entry.item.children or entry.item.checked:
            raise Refused(
                f"Item {payload} has been discussed or has notes under it now, so I left it "
                f"(`withdraw {payload}` takes it off the agenda)."
            )
        ctx.doc.remove_item(entry.item)
        self.store.update_item(*ctx.key, payload, withdrawn=True)
        return f"Removed item {payload}."

    def _undo_note(self, ctx: Context, payload: object) -> str:
        assert isinstance(payload, dict)
        entry = self._find(ctx, int(payload["item"]))
        child = next(
            (ch for ch in reversed(entry.item.children) if ch.text == payload["text"]), None
        )
        if child is None:
            raise Refused(
                f"What you added under item {entry.row.number} has been changed or removed "
                "in the notes since."
            )
        ctx.doc.remove_item(child)
        actions = [int(action) for action in payload.get("actions", [])]
        for action in actions:
            self.store.delete_action(action)
        return f"Removed your {self._what(actions, child.text)} under item {entry.row.number}."

    @staticmethod
    def _what(actions: Sequence[int], text: str) -> str:
        if not actions:
            return "decision" if text.startswith("Decision: ") else "note"
        return f"{messages.noun(len(actions), 'action item')} {_ids(actions)}"

    def _cmd_poll(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        assert isinstance(cmd, c.Poll)
        if cmd.voters and self.config.roster.group(cmd.voters) is None:
            groups = ", ".join(g for g, _ in self.config.roster.groups) or "none"
            raise Refused(f"There is no roster group `{cmd.voters}` (groups: {groups}).")
        if self.store.open_poll(*ctx.key) is not None:
            raise Refused("A poll is already open; `close poll` closes it first.")
        _, current = self.store.status(*ctx.key)
        poll = self.store.add_poll(
            *ctx.key, cmd.question, cmd.options, cmd.quorum, cmd.voters, current
        )
        lines = [
            f"/poll {' '.join(cmd.question.split())}",
            *(" ".join(o.split()) for o in cmd.options),
        ]
        return [Send("\n".join(lines), stream=msg.stream, topic=msg.topic, ref=f"poll:{poll}")]

    def _cmd_closepoll(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        result = self._close_poll(ctx)
        if result is None:
            raise Refused("There is no open poll.")
        self._save(ctx)
        return [self._reply(msg, f"Poll closed. {result}")]

    def _close_poll(self, ctx: Context) -> str | None:
        """Writes `Poll: question option: n (voters); ...` under the item that was open when
        the poll began (or as an item of its own). With a quorum the poll is a formal vote on
        its first option, which passes with the quorum and more than half of the voters."""
        poll = self.store.open_poll(*ctx.key)
        if poll is None:
            return None
        self.store.set_poll(poll.id, closed=True)
        options = self.store.poll_options(poll)
        counts: dict[str, list[str]] = {key: [] for key, _ in options}
        allowed = set(self.config.roster.group(poll.voters) or ()) if poll.voters else None
        for voter_id, key in self.store.ballots(poll.id):
            person = self.store.person_by_id(voter_id)
            initials = person.initials if person else f"user {voter_id}"
            if key in counts and (allowed is None or initials in allowed):
                counts[key].append(initials)
        parts = [
            f"{text}: {len(counts[key])}" + (f" ({', '.join(counts[key])})" if counts[key] else "")
            for key, text in options
        ]
        result = f"Poll: {poll.question} {'; '.join(parts)}"
        if poll.quorum is not None:
            voted = len({v for vs in counts.values() for v in vs})
            passed = voted >= poll.quorum and len(counts[options[0][0]]) * 2 > voted
            result += (
                f". Vote {'passed' if passed else 'did not pass'} "
                f"({voted} voted, quorum {poll.quorum})"
            )
        entry = next(
            (e for e in [*self._agenda(ctx), *ctx.struck] if e.row.number == poll.item), None
        )
        if entry is not None:  # else the item was withdrawn meanwhile: the result stands alone
            ctx.doc.add_child(entry.item, result)
        else:
            ctx.doc.add_item(ctx.meeting.section("item"), result, checked=True)
        return result

    def _actions(self, cmd: c.Actions, person: Person, meeting: MeetingConfig | None) -> list[str]:
        """Everyone's open items of the meeting whose stream this is (of every meeting in a
        DM); one person's items from every meeting, since that is their to-do list."""
        if cmd.who == "all":
            key = meeting.key if meeting else None
            title = f"Open action items of {meeting.title}" if meeting else "Open action items"
            rows = self.store.open_actions(meeting=key)
        else:
            if cmd.who == "mine":
                owner = person.initials
            else:
                named = self.people.find(cmd.who) or self.people.by_initials(cmd.who.name)
                owner = named.initials if named else cmd.who.name
                if named is None and not self.store.open_actions(owner):
                    raise Refused(
                        f"I don't know anyone called {owner}: mention them as @**Name**, or use "
                        "their initials; `actions` lists everyone's open items."
                    )
            rows, title = self.store.open_actions(owner), f"Open action items of {owner}"
        return messages.action_list(title, [self._open_action(r) for r in rows])

    def _open_action(self, row: ActionRow) -> messages.OpenAction:
        return messages.OpenAction(
            row.id, row.owner, self.people.mention(row.owner), row.text, row.day
        )

    def _done(self, cmd: c.Done, sender: Sender, person: Person) -> str:
        row = self.store.action(cmd.action_id)
        if row is None:
            raise Refused(
                f"There is no action item A{cmd.action_id}; `actions` lists the open ones."
            )
        if row.done:
            raise Refused(f"A{cmd.action_id} is already done.")
        meeting = self.config.meeting(row.meeting)
        allowed = row.owner in ("", person.initials) or (
            meeting is not None and self.people.is_organizer(meeting, sender)
        )
        if not allowed and not sender.is_admin:
            raise Refused(
                f"A{cmd.action_id} belongs to {row.owner}; they or an organizer can close it."
            )
        self.store.set_action(cmd.action_id, done=True)
        return f"Closed A{cmd.action_id}: {row.text}"

    def _cmd_notes(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        count = len(self._agenda(ctx))
        return [
            self._reply(
                msg,
                f"The notes draft for {messages.time_tag(ctx.start)} is "
                f"{self._where_notes(ctx.meeting, ctx.day, ctx.path)} "
                f"({messages.counted(count, 'agenda item')}).",
            )
        ]

    def _cmd_nextmeeting(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        upcoming = schedule.next_occurrence(ctx.meeting, now)
        if upcoming is None:
            return [self._reply(msg, f"{ctx.meeting.title} has no more meetings scheduled.")]
        link = f" Video: {ctx.meeting.video_link}" if ctx.meeting.video_link else ""
        return [
            self._reply(
                msg, f"The next {ctx.meeting.title} is {messages.time_tag(upcoming)}.{link}"
            )
        ]

    @staticmethod
    def _help(cmd: c.Help) -> str:
        """The parser has already turned the topic into a known command's name."""
        return (c.help_for(cmd.topic) if cmd.topic else None) or c.usage()

    def _cmd_end(self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
        return [Send(text, stream=msg.stream, topic=msg.topic) for text in self._end(ctx, now)]

    def _end(self, ctx: Context, now: dt.datetime) -> list[str]:
        """Close the poll, bring the action registry up to date, write the next draft; the
        summary's messages."""
        self._close_poll(ctx)
        to_confirm = wrapup.register_written_actions(self.store, ctx.meeting, ctx.day, ctx.doc)
        wrapup.close_ticked_actions(self.store, ctx.meeting, ctx.doc)
        self._save(ctx)
        self.store.set_status(*ctx.key, "ended", None, now.isoformat())
        live = self._agenda(ctx)
        carried = [  # introductions and announcements are news of that day only
            e.item
            for e in live
            if not e.item.checked
            and wrapup.section_kind(ctx.meeting, ctx.doc, e.item) in ("item", "carried")
        ]
        open_actions = [
            self._open_action(r) for r in self.store.open_actions(meeting=ctx.meeting.key)
        ]
        try:
            written = wrapup.next_draft(ctx.meeting, ctx.start, carried, open_actions)
            following = schedule.next_occurrence(ctx.meeting, ctx.start)
            next_draft = (
                self._where_notes(ctx.meeting, following.date(), written)
                if written and following
                else None
            )
        except NotesError as error:  # the meeting still ends; the summary says what failed
            next_draft = f"not written, because {error}"
        decisions = ctx.doc.decisions()
        discussed = tuple(
            messages.DiscussedItem(
                e.item.text,
                e.item.owners,
                tuple(d.text for d in decisions if d.item == e.item),
                tuple(ch.text for ch in e.item.children if ch.text.startswith("Poll:")),
            )
            for e in sorted([*live, *ctx.struck], key=lambda entry: entry.item.line)
            if e.item.checked
        )
        attendees = ctx.doc.attendees()
        summary = messages.Summary(
            title=f"{ctx.meeting.title} {ctx.day}",
            start=ctx.start,
            attendees=tuple(a.name for a in attendees),
            head_count=max(ctx.doc.head_count or 0, len(attendees)),
            discussed=discussed,
            actions=tuple(open_actions),
            carried=tuple(i.text for i in carried),
            notes_path=self._where_notes(ctx.meeting, ctx.day, ctx.path),
            next_draft=next_draft,
            to_confirm=tuple(to_confirm),
        )
        return messages.summary(summary)

    @staticmethod
    def _where_notes(meeting: MeetingConfig, day: dt.date, path: Path) -> str:
        """Where people read the notes: the meeting's `notes_url` when it has one (they
        cannot open a file on the bot's machine), else the path."""
        url = meeting.notes_url_for(day)
        return f"[{path.name}]({url})" if url else f"`{path}`"

    # --- the schedule (see `thread`) ----------------------------------------------------------

    def tick(self, now: dt.datetime) -> list[Effect]:
        """What the clock makes due: the schedule's jobs, each once, and agenda re-posts."""
        return thread.tick(self, now)

    def edit_refused(self, message_id: int) -> None:
        """Zulip would not take an edit of a message (its edit limit came first)."""
        thread.edit_refused(self, message_id)
