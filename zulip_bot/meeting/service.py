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
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from zulip_bot import schedule
from zulip_bot.config import BotConfig, MeetingConfig, Person
from zulip_bot.meeting import commands as c
from zulip_bot.meeting import messages, transcript, wrapup
from zulip_bot.meeting.effects import Incoming, Send, Sender
from zulip_bot.meeting.people import People
from zulip_bot.meeting.refusal import Refused
from zulip_bot.meeting.store import ActionRow, ItemRow, Store
from zulip_bot.notes import (
    AgendaItem,
    Attendee,
    NotesConflict,
    NotesDocument,
    NotesError,
    inline_text,
    new_draft,
)
from zulip_bot.notes.extract import is_decision, owner_prefix
from zulip_bot.notes.model import PLACEHOLDER_TEXTS, Parsed
from zulip_bot.notes.parse import normalize_title

# Commands about a person rather than a meeting: they work in direct messages too.
ANYWHERE = (c.Help, c.Actions, c.Done, c.Iam)
ORGANIZER_ONLY = (c.Start, c.Next, c.GoTo, c.End, c.Chair, c.ClosePoll)
LIVE_ONLY = (c.Next, c.GoTo, c.Note, c.Action, c.Decided, c.End)
THUMBS_UP = ("+1", "thumbs_up", "like")
REWORDED = 0.6  # how alike a hand-edited item's text must stay to keep its number
START_EARLY = dt.timedelta(hours=1)  # a `start` long before the meeting is a mistake
SAVE_ATTEMPTS = 3  # a hand edit saved between our read and our write: redo the command on it
UNTOUCHED = "I have not changed it; fix it by hand, then send the command again."


def _reworded(rows: list[ItemRow], title: str, item: AgendaItem, rivals: int) -> ItemRow | None:
    """The stored item that `item` most likely is after a hand edit of its words: same
    section and owners, and either the only such pair (`rivals` counts the new items that
    could claim the same rows) or mostly the same words."""
    section = normalize_title(title)
    candidates = [
        row for row in rows if normalize_title(row.section) == section and row.owners == item.owners
    ]
    if len(candidates) == 1 and rivals == 1:
        return candidates[0]

    def likeness(row: ItemRow) -> float:
        if row.text in item.text or item.text in row.text:
            return 1.0
        return difflib.SequenceMatcher(None, row.text, item.text).ratio()

    best = max(candidates, key=likeness, default=None)
    return best if best is not None and likeness(best) >= REWORDED else None


def _speaker(text: str) -> tuple[tuple[str, ...], str]:
    """Split `JL: text` into its owners and the text, as the notes write who said or owns it."""
    prefix = owner_prefix(text)
    if prefix is None or prefix.style != "colon" or not text[len(prefix.written) :].strip():
        return (), text
    return prefix.owners, text[len(prefix.written) :]


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

    @property
    def key(self) -> tuple[str, str]:
        return self.meeting.key, self.day.isoformat()


@dataclass(frozen=True)
class Live:
    row: ItemRow
    item: AgendaItem


class MeetingService:
    def __init__(self, config: BotConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self.people = People(config, store)

    # --- entry points -----------------------------------------------------------------------

    def handle_message(self, message: Incoming, now: dt.datetime) -> list[Send]:
        """A message to the bot gets replies; any message in a running meeting's topic is kept
        in the transcript (and, with `auto_attendance`, adds its sender to the attendees)."""
        if message.sender.is_bot:
            return []
        meeting = self.config.meeting_for_stream(message.stream or "")
        if message.stream is None:
            meeting, message = self._named_meeting(message)
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
                        effects = self._anywhere(command, message, meeting)
                elif meeting is None:
                    effects = [self._reply(message, self._where(command))]
                else:
                    return self._in_meeting(command, meeting, message, now)
            except (c.CommandError, Refused) as error:
                effects = [self._reply(message, str(error))]
            self._observe(meeting, message, effects, now)
            return effects

    def _in_meeting(
        self, command: c.Command, meeting: MeetingConfig, message: Incoming, now: dt.datetime
    ) -> list[Send]:
        running_before = self.store.running(meeting.key)
        for _attempt in range(SAVE_ATTEMPTS):
            try:
                ctx = self._context(meeting, message.sender, now)
                with self.store.savepoint():
                    effects = self._dispatch(command, ctx, message, now)
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

    def _where(self, command: c.Command) -> str:
        name = c.name_of(command)
        streams = ", ".join(f"#**{m.stream}**" for m in self.config.meetings)
        example = f"{self.config.meetings[0].key} {name}"
        return (
            f"`{name}` belongs to a meeting: send it in the meeting's stream ({streams}), "
            f"or name the meeting first in a direct message, like `{example}`."
        )

    def _named_meeting(self, message: Incoming) -> tuple[MeetingConfig | None, Incoming]:
        """A direct message may start with the meeting it is about: `community vote 3`,
        `#community agenda` or `#**community** agenda` (a meeting's key or its stream)."""
        first, _, rest = message.content.strip().partition(" ")
        name = first.removeprefix("#").removeprefix("**").removesuffix("**")
        if not name or name.casefold() in c.COMMAND_WORDS:
            return None, message
        for meeting in self.config.meetings:
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
    ) -> list[Send]:
        """A 👍 on the bot's reply to an `add` is a vote for that item; removing it unvotes."""
        if sender.is_bot or emoji not in THUMBS_UP:
            return []
        with self.store.transaction():
            if self.store.seen(event_id):
                return []
            found = self.store.item_by_message(message_id)
            if found is not None:
                self.store.vote(found[0], found[1], found[2], sender.email.casefold(), added)
        return []

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

    def _observe(
        self,
        meeting: MeetingConfig | None,
        message: Incoming,
        replies: list[Send],
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
        said += [(self.config.bot_name, r.content) for r in replies if r.topic == message.topic]
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
        """The meeting that chat is about at `now`: the running one (even when it overruns),
        else the one under way or next on the schedule, passing over one that has ended."""
        running = self.store.running(meeting.key)
        if running is not None:
            day = dt.date.fromisoformat(running)
            return schedule.occurrence_on(meeting, day) or dt.datetime.combine(
                day, meeting.start, meeting.timezone
            )
        found = schedule.current_occurrence(meeting, now)
        while (
            found is not None
            and self.store.status(meeting.key, found.date().isoformat())[0] == "ended"
        ):
            found = schedule.next_occurrence(meeting, found)
        return found

    def _context(self, meeting: MeetingConfig, sender: Sender, now: dt.datetime) -> Context:
        start = self.occurrence(meeting, now)
        if start is None:
            raise Refused(f"{meeting.title} has no more meetings on its schedule.")
        day = start.date()
        path = meeting.notes_path_for(day)
        if not path.exists():
            doc = new_draft(meeting.template.read_text(encoding="utf-8"), day)
            return Context(meeting, day, start, sender, self.people.identify(sender), doc, path)
        try:
            doc = NotesDocument.load(path)
        except NotesError as error:
            raise Refused(f"I cannot read the notes draft: {error}. {UNTOUCHED}") from None
        for problem in doc.blocking_warnings():
            raise Refused(
                f"The notes draft `{path}` has a problem on line {problem.line}: "
                f"{problem.message}. {UNTOUCHED}"
            )
        return Context(meeting, day, start, sender, self.people.identify(sender), doc, path)

    # --- helpers ----------------------------------------------------------------------------

    def _reply(self, message: Incoming, content: str, ref: str | None = None) -> Send:
        if message.stream is None:
            return Send(content, to=message.sender.email, ref=ref)
        return Send(content, stream=message.stream, topic=message.topic, ref=ref)

    def _agenda(self, ctx: Context) -> list[Live]:
        """Store rows matched to the draft's items; items typed by hand get numbers too."""
        if ctx.agenda is not None and ctx.agenda[0] is ctx.doc.parsed:
            return ctx.agenda[1]
        unmatched: dict[tuple[str, str], list[ItemRow]] = {}
        for row in self.store.items(*ctx.key):  # in number order: duplicates match in turn
            if not row.withdrawn:
                unmatched.setdefault((normalize_title(row.section), row.text), []).append(row)
        live: list[Live] = []
        new: list[tuple[str, AgendaItem]] = []
        for title, item in self._draft_items(ctx):
            same = unmatched.get((normalize_title(title), item.text))
            if same:
                live.append(Live(same.pop(0), item))
            else:
                new.append((title, item))
        left = [row for rows in unmatched.values() for row in rows]
        claims = Counter((normalize_title(t), i.owners) for t, i in new)
        for title, item in new:
            rivals = claims[normalize_title(title), item.owners]
            earlier = _reworded(left, title, item, rivals)
            if earlier is not None:  # its text was corrected by hand: same item, same number
                left.remove(earlier)
                self.store.update_item(*ctx.key, earlier.number, text=item.text)
                row = replace(earlier, text=item.text)
            else:
                number = self.store.add_item(*ctx.key, title, item.text, item.owners, None)
                row = ItemRow(number, title, item.text, item.owners, None, False, None)
            live.append(Live(row, item))
        for row in left:  # removed from the file by hand
            self.store.update_item(*ctx.key, row.number, withdrawn=True)
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
        top = max(rows, default=0)
        raise Refused(
            f"There is no item {number}; the agenda has items 1 to {top}."
            if top
            else f"There is no item {number}; the agenda is empty."
        )

    def _may_change(self, ctx: Context, entry: Live, verb: str) -> None:
        if entry.row.author == ctx.sender.email.casefold() or self.people.is_organizer(
            ctx.meeting, ctx.sender
        ):
            return
        if entry.row.author is None and ctx.person.initials in entry.item.owners:
            return
        raise Refused(
            f"Only the person who added item {entry.row.number} or an organizer can {verb} it."
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
        if isinstance(cmd, LIVE_ONLY) and status != "running":
            raise Refused("The meeting has not started: an organizer starts it with `start`.")
        handler: Callable[[c.Command, Context, Incoming, dt.datetime], list[Send]] = getattr(
            self, f"_cmd_{type(cmd).__name__.lower()}"
        )
        return handler(cmd, ctx, msg, now)

    def _cmd_add(self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
        assert isinstance(cmd, c.Add)
        section = ctx.meeting.section(cmd.kind)
        self._agenda(ctx)
        if ctx.doc.section(section) is None:
            ctx.doc.add_section(section)
        owners, text = self._owned(ctx, cmd.text)
        ctx.doc.add_item(section, text, owners=owners, checked=False)
        self._save(ctx)
        text = inline_text(text)
        number = self.store.add_item(*ctx.key, section, text, owners, ctx.sender.email.casefold())
        self.store.push_undo(*ctx.key, ctx.sender.email.casefold(), "add", number)
        reply = (
            f"Added item **{number}** to {section}: {'/'.join(owners)}: {text}\n"
            f"React with 👍 (or `vote {number}`) to vote for it."
        )
        return [
            self._reply(
                msg,
                reply + self._unknown_note(owners),
                ref=f"item:{ctx.meeting.key}:{ctx.day}:{number}",
            )
        ]

    def _owned(self, ctx: Context, text: str) -> tuple[tuple[str, ...], str]:
        """`add item BZ/WV: text` is owned by BZ and WV, as the notes write shared items;
        anything else is the sender's own."""
        owners, rest = _speaker(text)
        return owners or (ctx.person.initials,), rest

    def _unknown_note(self, owners: Sequence[str]) -> str:
        unknown = self.people.unknown(owners)
        if not unknown:
            return ""
        return (
            f"\nNote: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in the "
            "roster; I kept it as written."
        )

    def _cmd_edit(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        assert isinstance(cmd, c.Edit)
        entry = self._find(ctx, cmd.number)
        self._may_change(ctx, entry, "edit")
        ctx.doc.set_item_text(entry.item, cmd.text)
        self._save(ctx)
        self.store.update_item(*ctx.key, cmd.number, text=inline_text(cmd.text))
        return [self._reply(msg, f"Item {cmd.number} now reads: {inline_text(cmd.text)}")]

    def _cmd_withdraw(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        assert isinstance(cmd, c.Withdraw)
        entry = self._find(ctx, cmd.number)
        self._may_change(ctx, entry, "withdraw")
        ctx.doc.remove_item(entry.item)
        self._save(ctx)
        self.store.update_item(*ctx.key, cmd.number, withdrawn=True)
        return [self._reply(msg, f"Withdrew item {cmd.number}: {entry.item.text}")]

    def _vote(self, number: int, ctx: Context, msg: Incoming, on: bool) -> list[Send]:
        self._find(ctx, number)
        changed = self.store.vote(*ctx.key, number, ctx.sender.email.casefold(), on)
        if not changed:
            already = "You already voted for" if on else "You had not voted for"
            return [self._reply(msg, f"{already} item {number}.")]
        votes = self.store.vote_counts(*ctx.key).get(number, 0)
        verb = "Voted for" if on else "Took back your vote for"
        return [self._reply(msg, f"{verb} item {number}; it has {votes} vote(s).")]

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
        return [self._reply(msg, text) for text in messages.agenda(title, lines)]

    def _cmd_here(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        added = self._attend(ctx)
        self._save(ctx)
        if not added:
            return [self._reply(msg, f"{ctx.person.name} is already on the attendee list.")]
        count = ctx.doc.head_count
        return [
            self._reply(
                msg,
                f"Welcome, {ctx.person.name} ({ctx.person.initials})! "
                f"{count} {'person' if count == 1 else 'people'} here so far.",
            )
        ]

    def _attend(self, ctx: Context) -> bool:
        attendees = ctx.doc.attendees()
        person = ctx.person
        if any(
            a.name == person.name or (a.initials and a.initials == person.initials)
            for a in attendees
        ):
            return False
        if ctx.doc.parsed.attendee_section is None and ctx.doc.parsed.attendee_table is None:
            ctx.doc.add_section("Attendees", level=2)
        ctx.doc.add_attendee(
            Attendee(person.name, person.initials, person.affiliation, person.github)
        )
        counted = max(len(ctx.doc.attendees()), ctx.doc.head_count or 0)
        if ctx.doc.head_count is None or counted > ctx.doc.head_count:
            ctx.doc.set_head_count(counted)
        return True

    def _anywhere(self, cmd: c.Command, msg: Incoming, meeting: MeetingConfig | None) -> list[Send]:
        """Commands about the sender, not a meeting: no notes file is read for them. In a
        meeting's stream, `actions` lists that meeting's; elsewhere, every meeting's."""
        if isinstance(cmd, c.Help):
            return [self._reply(msg, self._help(cmd))]
        if isinstance(cmd, c.Iam):
            return [
                self._reply(
                    msg, self.people.register(msg.sender, cmd.initials, cmd.affiliation, cmd.github)
                )
            ]
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
        self.store.set_status(*ctx.key, "running", None)
        order = ""
        if ctx.meeting.order_by_votes:
            try:
                if self._order_by_votes(ctx):
                    order = " The agenda is now ordered by votes."
            except NotesError as error:
                order = f" I kept the agenda in its written order: {error}."
        self._save(ctx)  # the draft exists from now on, for the note-takers
        return [
            self._reply(
                msg, f"{ctx.meeting.title} has started.{order} `next` opens the first item."
            )
        ]

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
        actions: Sequence[int] = (),
        owners: Sequence[str] = (),
    ) -> None:
        """A sub-bullet under the current item, which `undo` can take back (with the action
        items it registered)."""
        ctx.doc.add_child(entry.item, text, owners=owners)
        self._save(ctx)
        undo = {"item": entry.row.number, "text": inline_text(text), "actions": list(actions)}
        self.store.push_undo(*ctx.key, ctx.sender.email.casefold(), "note", undo)

    def _cmd_note(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        assert isinstance(cmd, c.Note)
        owners, text = _speaker(cmd.text)
        entry = self._current(ctx)
        self._add_note(ctx, entry, text, owners=owners)
        return [
            self._reply(msg, f"Noted under item {entry.row.number}." + self._unknown_note(owners))
        ]

    def _cmd_decided(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        assert isinstance(cmd, c.Decided)
        entry = self._current(ctx)
        self._add_note(ctx, entry, cmd.text if is_decision(cmd.text) else f"Decision: {cmd.text}")
        return [self._reply(msg, f"Decision recorded under item {entry.row.number}.")]

    def _cmd_action(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        assert isinstance(cmd, c.Action)
        owners = [self._initials(o) for o in cmd.owners]
        text = (
            f"Action item: {'/'.join(owners)} to {cmd.text}"
            if owners
            else f"Action item: {cmd.text}"
        )
        entry = self._current(ctx)
        ids = [
            self.store.add_action(*ctx.key, entry.item.text, owner, inline_text(cmd.text))
            for owner in owners or [""]
        ]
        self._add_note(ctx, entry, text, ids)
        listed = ", ".join(f"A{i}" for i in ids)
        reply = f"Action item {listed} recorded under item {entry.row.number}."
        if not owners:
            reply += " It has no owner: say `action XX <text>` to give one."
        return [self._reply(msg, reply + self._unknown_note(owners))]

    def _initials(self, owner: c.Owner) -> str:
        person = self.people.find(owner.mention) if owner.mention else None
        return person.initials if person else owner.text.replace(" ", "")

    def _cmd_undo(
        self, cmd: c.Command, ctx: Context, msg: Incoming, now: dt.datetime
    ) -> list[Send]:
        last = self.store.pop_undo(*ctx.key, ctx.sender.email.casefold())
        if last is None:
            raise Refused("You have added nothing in this meeting that I can undo.")
        kind, payload = last
        if kind == "add":
            assert isinstance(payload, int)
            entry = self._find(ctx, payload)
            if entry.item.children or entry.item.checked:
                raise Refused(
                    f"Item {payload} has been discussed or has notes under it now, so I left it; "
                    f"`withdraw {payload}` removes it with them."
                )
            ctx.doc.remove_item(entry.item)
            self.store.update_item(*ctx.key, payload, withdrawn=True)
            self._save(ctx)
            return [self._reply(msg, f"Removed item {payload}.")]
        assert isinstance(payload, dict)
        entry = self._find(ctx, int(payload["item"]))
        child = next(
            (ch for ch in reversed(entry.item.children) if ch.text == payload["text"]), None
        )
        if child is None:
            raise Refused("What you added is no longer in the notes; nothing to undo.")
        ctx.doc.remove_item(child)
        self._save(ctx)
        actions = [int(action) for action in payload.get("actions", [])]
        for action in actions:
            self.store.delete_action(action)
        what = f"action item {', '.join(f'A{a}' for a in actions)}" if actions else "note"
        return [self._reply(msg, f"Removed your {what} under item {entry.row.number}.")]

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
        entry = next((e for e in self._agenda(ctx) if e.row.number == poll.item), None)
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
                named = self.people.find(cmd.who)
                owner = named.initials if named else cmd.who.name
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
                f"`{ctx.path}` ({count} agenda items).",
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
        self._close_poll(ctx)
        wrapup.register_written_actions(self.store, ctx.meeting, ctx.day, ctx.doc)
        wrapup.close_ticked_actions(self.store, ctx.meeting, ctx.doc)
        self._save(ctx)
        self.store.set_status(*ctx.key, "ended", None)
        live = self._agenda(ctx)
        carried = [e.item for e in live if not e.item.checked]
        open_actions = [
            self._open_action(r) for r in self.store.open_actions(meeting=ctx.meeting.key)
        ]
        try:
            written = wrapup.next_draft(ctx.meeting, ctx.start, carried, open_actions)
            next_draft = f"`{written}`" if written else None
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
            for e in live
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
            notes_path=str(ctx.path),
            next_draft=next_draft,
        )
        return [
            Send(text, stream=msg.stream, topic=msg.topic) for text in messages.summary(summary)
        ]
