"""What every command works with: the meeting's draft, its items matched to the store, and who
is asking.

A command reads the notes afresh (people edit them by hand), so a `Context` holds one reading of
the draft and the rows it was matched to; the command modules (`agenda`, `live`, `polls`,
`attendance`, `personal`) and the schedule's `thread` find items, check who may change them and
save through it, so that those rules live in one place.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from zulip_bot import schedule
from zulip_bot.config import BotConfig, MeetingConfig, Person
from zulip_bot.meeting import messages, unsaved, wrapup
from zulip_bot.meeting.effects import Incoming, Send, Sender
from zulip_bot.meeting.mentions import silenced
from zulip_bot.meeting.people import People, is_named
from zulip_bot.meeting.readers import Readers, everyone
from zulip_bot.meeting.refusal import Refused
from zulip_bot.meeting.store import ActionRow, ItemRow, Store
from zulip_bot.notes import AgendaItem, NotesDocument, NotesError
from zulip_bot.notes.extract import owner_prefix
from zulip_bot.notes.model import PLACEHOLDER_TEXTS, OwnerStyle, Parsed
from zulip_bot.notes.parse import normalize_title

NO_OWNER = "(no owner)"  # `add item (no owner) ...`: an item nobody in particular brings
CHECKBOXES = ("[x]", "[X]", "[ ]")  # `[x] done` is a ticked box as typed, not an owner `x`
REWORDED = 0.6  # how alike a hand-edited item's text must stay to keep its number
START_EARLY = dt.timedelta(hours=1)  # a `start` long before the meeting is a mistake
UNTOUCHED = "I have not changed it; fix it by hand, then send the command again."


@dataclass(frozen=True)
class Shared:
    """What commands and the schedule's jobs share for every event: the config, the store,
    the people, and who the bot is when the schedule acts (never a person in the roster)."""

    config: BotConfig
    store: Store
    people: People
    bot: Sender
    bot_person: Person
    readers: Readers = everyone


@dataclass(frozen=True)
class Live:
    row: ItemRow
    item: AgendaItem


@dataclass(frozen=True)
class Owned:
    """Text with the owners it names (or the sender's), and how they were written."""

    owners: tuple[str, ...]
    text: str
    style: OwnerStyle | None


@dataclass
class Context:
    shared: Shared
    meeting: MeetingConfig
    day: dt.date
    start: dt.datetime
    sender: Sender
    person: Person
    doc: NotesDocument
    path: Path
    # `entries` for the parse it was made from: several steps of one command ask for it.
    matched: tuple[Parsed, list[Live]] | None = None
    # What `entries` found besides: items whose lines are gone (for now), crossed-out items,
    # and items withdrawn earlier whose lines are gone.
    missing: list[ItemRow] = field(default_factory=list)
    struck: list[Live] = field(default_factory=list)
    withdrawn: list[ItemRow] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return self.meeting.key, self.day.isoformat()

    @property
    def store(self) -> Store:
        return self.shared.store

    @property
    def people(self) -> People:
        return self.shared.people

    @property
    def config(self) -> BotConfig:
        return self.shared.config


# --- which meeting, which draft ---------------------------------------------------------------


def occurrence(shared: Shared, meeting: MeetingConfig, now: dt.datetime) -> dt.datetime | None:
    """The meeting that chat is about at `now`: the running one (even when it overruns); else
    one whose time has passed without a start, until the next one is near (then it counts as
    skipped, and its items move on); else the one under way or next on the schedule, passing
    over one that has ended."""
    store = shared.store
    running = store.running(meeting.key)
    if running is not None:
        return start_of(meeting, dt.date.fromisoformat(running))
    found = schedule.current_occurrence(meeting, now)
    while found is not None and store.status(meeting.key, found.date().isoformat())[0] != "planned":
        found = schedule.next_occurrence(meeting, found)
    if found is None:
        return None
    while days := store.overdue_days(meeting.key, found.date().isoformat()):
        late = start_of(meeting, dt.date.fromisoformat(days[0]))
        following = schedule.next_occurrence(meeting, late) or found
        if now < following - START_EARLY:
            return late  # not started on time: still the agenda people see
        try:
            wrapup.carry_skipped(store, meeting, late.date(), following.date())
        except NotesError as error:
            raise Refused(
                f"The {late.date()} meeting was never held, and I cannot move its items to "
                f"the next draft: {error}. {UNTOUCHED}"
            ) from None
    return found


def in_topic(meeting: MeetingConfig, topic: str) -> bool:
    """Whether `topic` is one of the meeting's (its `topic` pattern, for some date)."""
    try:
        dt.datetime.strptime(topic.strip(), meeting.topic)
    except ValueError:
        return False
    return True


def start_of(meeting: MeetingConfig, day: dt.date) -> dt.datetime:
    return schedule.occurrence_on(meeting, day) or dt.datetime.combine(
        day, meeting.start, meeting.timezone
    )


def context(shared: Shared, meeting: MeetingConfig, sender: Sender, now: dt.datetime) -> Context:
    """The draft of the meeting chat is about now, for `sender`."""
    start = occurrence(shared, meeting, now)
    if start is None:
        raise Refused(f"{meeting.title} has no more meetings on its schedule.")
    return draft_context(shared, meeting, start, sender, shared.people.identify(sender))


def draft_context(
    shared: Shared, meeting: MeetingConfig, start: dt.datetime, sender: Sender, person: Person
) -> Context:
    day = start.date()
    path = meeting.notes_path_for(day)
    if not path.exists():
        kept = [r for r in shared.store.items(meeting.key, day.isoformat()) if not r.withdrawn]
        if kept:  # deleted by hand, or being restored: never start over on top of it
            raise Refused(
                f"The notes draft {where_notes(meeting, day, path)} is missing, but it held "
                f"{messages.noun(len(kept), 'item')} {_numbers(r.number for r in kept)}. "
                "Put it back, then send the command again; nothing was changed. (To start "
                "afresh instead, make a new draft with `meetbot notes new` and `withdraw` "
                "the items you no longer want.)"
            )
        doc = wrapup.blank_draft(meeting, day)
        return Context(shared, meeting, day, start, sender, person, doc, path)
    try:
        doc = NotesDocument.load(path)
    except NotesError as error:
        raise Refused(f"I cannot read the notes draft: {error}. {UNTOUCHED}") from None
    for problem in doc.blocking_warnings():
        raise Refused(
            f"The notes draft {where_notes(meeting, day, path)} has a problem on line "
            f"{problem.line}: "
            f"{problem.message}. {UNTOUCHED}"
        )
    return Context(shared, meeting, day, start, sender, person, doc, path)


def _numbers(numbers: Iterable[int]) -> str:
    listed = [str(n) for n in numbers]
    return ", ".join(listed[:-1]) + " and " + listed[-1] if len(listed) > 1 else "".join(listed)


def is_running(ctx: Context) -> bool:
    return ctx.store.status(*ctx.key)[0] == "running"


def not_running(ctx: Context) -> str:
    """After an `end`, chat is about the next meeting: say so, rather than that the meeting
    has not started."""
    ended = ctx.store.last_ended(ctx.meeting.key)
    if ended is None or ended[0] >= ctx.day.isoformat():
        return "The meeting has not started: an organizer starts it with `start`."
    day = dt.date.fromisoformat(ended[0])
    when = f" at {messages.time_tag(dt.datetime.fromisoformat(ended[1]))}" if ended[1] else ""
    where = f"#**{ctx.meeting.stream}>{ctx.meeting.topic_for(day)}**"
    return (
        f"The {ctx.meeting.title} of {day} ended{when}; its summary is in {where}. "
        f"The next one is {messages.time_tag(ctx.start)}; an organizer starts it with `start`."
    )


# --- the agenda: the draft's items matched to the store's rows -------------------------------


def entries(ctx: Context) -> list[Live]:
    """Store rows matched to the draft's items; items typed by hand get numbers too.

    A line is its item by its words (in any section, so moving it keeps it), else, when its
    words were corrected by hand, by owners, section and mostly the same words. A row no line
    claims is missing, not withdrawn: it keeps its number and votes for when its line comes
    back. Crossed-out lines are withdrawn items, kept for their notes."""
    if ctx.matched is not None and ctx.matched[0] is ctx.doc.parsed:
        return ctx.matched[1]
    store = ctx.store
    by_text: dict[str, list[ItemRow]] = {}
    for row in store.items(*ctx.key):  # in number order: duplicates match in turn
        by_text.setdefault(row.text, []).append(row)
    live: list[Live] = []
    struck: list[Live] = []
    new: list[tuple[str, AgendaItem]] = []
    for title, item in _draft_items(ctx):
        text, crossed = wrapup.unstruck(item.text) if item.text[:2] == "~~" else (item.text, False)
        rows = by_text.get(text)
        if rows and len(rows) == 1 and rows[0].owners == item.owners and not rows[0].withdrawn:
            claimed: ItemRow | None = rows.pop()  # nearly always: the one row, unchanged
        else:
            claimed = _claim(rows, title, item.owners, crossed)
        if claimed is None:
            new.append((title, item))
        elif crossed:
            if not claimed.withdrawn:  # crossed out by hand
                store.update_item(*ctx.key, claimed.number, withdrawn=True)
            struck.append(Live(claimed, item))
        else:
            live.append(Live(claimed, item))
    left = [row for rows in by_text.values() for row in rows if not row.withdrawn]
    for title, item in new:
        text, crossed = wrapup.unstruck(item.text)
        section = normalize_title(title)
        earlier = max(
            (r for r in left if r.owners == item.owners and normalize_title(r.section) == section),
            key=lambda r: _likeness(r, text),
            default=None,
        )
        if earlier is not None and _likeness(earlier, text) >= REWORDED:
            left.remove(earlier)  # its words were corrected by hand: same item, same number
            store.update_item(*ctx.key, earlier.number, text=text, withdrawn=crossed)
            row = replace(earlier, text=text, withdrawn=crossed)
        else:
            number = store.add_item(*ctx.key, title, text, item.owners, None)
            row = ItemRow(number, title, text, item.owners, None, crossed, None)
        (struck if crossed else live).append(Live(row, item))
    ctx.missing = sorted(left, key=lambda r: r.number)
    ctx.struck = struck
    ctx.withdrawn = [row for rows in by_text.values() for row in rows if row.withdrawn]
    ctx.matched = ctx.doc.parsed, sorted(live, key=lambda entry: entry.item.line)
    return ctx.matched[1]


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


def _draft_items(ctx: Context) -> Iterator[tuple[str, AgendaItem]]:
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


def find(ctx: Context, number: int) -> Live:
    for entry in entries(ctx):
        if entry.row.number == number:
            return entry
    rows = {r.number: r for r in ctx.store.items(*ctx.key)}
    if number in rows and rows[number].withdrawn:
        raise Refused(f"Item {number} was withdrawn.")
    if number in rows:
        raise Refused(f"Item {number} is {_gone(ctx, rows[number])}")
    top = max(rows, default=0)
    raise Refused(
        f"There is no item {number}; the agenda has items 1 to {top}."
        if top
        else f"There is no item {number}; the agenda is empty."
    )


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


def current(ctx: Context) -> Live:
    """The open item; only live commands ask, and the service has checked that it runs."""
    _, number = ctx.store.status(*ctx.key)
    if number is None:
        raise Refused("No item is open yet: an organizer opens one with `next` or `item <n>`.")
    try:
        return find(ctx, number)
    except Refused:
        raise Refused(
            f"Item {number}, the one open, is no longer on the agenda: an organizer opens "
            "another with `next` or `item <n>`."
        ) from None


# --- who may change what ----------------------------------------------------------------------


def owns(ctx: Context, row: ItemRow, owners: Sequence[str]) -> bool:
    """The person who added the item, or one of the owners it names."""
    return row.author == ctx.sender.email.casefold() or ctx.person.initials in owners


def may_change(ctx: Context, row: ItemRow, owners: Sequence[str], verb: str) -> None:
    if owns(ctx, row, owners) or ctx.people.is_organizer(ctx.meeting, ctx.sender):
        return
    raise Refused(
        f"Only the owners of item {row.number}, the person who added it, or an organizer "
        f"can {verb} it."
    )


def owned(ctx: Context, text: str, mine: bool = True) -> Owned:
    """`BZ/WV: text` is owned by BZ and WV, as the notes write shared items; anything else is
    the sender's own (with `mine`) or nobody's. Only an organizer may name owners without
    being one of them: nobody else's name is put on what they did not write."""
    if text.casefold().startswith(NO_OWNER) and text[len(NO_OWNER) :].strip():
        return Owned((), text[len(NO_OWNER) :].strip(), None)  # standing items, to-dos
    owners, rest, style = _speaker(text)
    if not owners:
        return Owned((ctx.person.initials,) if mine else (), text, None)
    if not any(is_named(ctx.person, o) for o in owners) and not ctx.people.is_organizer(
        ctx.meeting, ctx.sender
    ):
        named = "/".join(owners)
        raise Refused(
            f"Only {named} or an organizer can write in {named}'s name. Name yourself "
            f"among them (`{ctx.person.initials}/{named}: ...`), or leave the names out."
        )
    return Owned(owners, rest, style)


def _speaker(text: str) -> tuple[tuple[str, ...], str, OwnerStyle | None]:
    """Split `JL: text`, `(jaimergp) text` or `[DG/Travis] text` into its owners, the text and
    how the owners were written: whatever the notes read as owners, chat does too (`Zulip CEP:
    vote now` stays words in both)."""
    prefix = owner_prefix(text)
    rest = text[len(prefix.written) :] if prefix is not None else ""
    if prefix is None or not rest.strip() or prefix.written.strip() in CHECKBOXES:
        return (), text, None
    return prefix.owners, rest, prefix.style


def unknown_note(people: People, owners: Sequence[str]) -> str:
    unknown = people.unknown(owners)
    if not unknown:
        return ""
    one = len(unknown) == 1
    named = silenced(", ".join(unknown))  # as written, which may be anything
    return (
        f"\nNote: {named} {'is' if one else 'are'} not in the roster; I kept "
        f"{'it' if one else 'them'} as written."
    )


# --- writing and answering --------------------------------------------------------------------


def written(ctx: Context, line: int) -> str:
    """The text of the item the bot just wrote on `line`, as the notes now read it: what the
    store keeps and replies quote, so that both match the file exactly."""
    item = ctx.doc.item_at(line)
    assert item is not None, f"no item on line {line} right after writing it"
    return item.text


def save(ctx: Context) -> None:
    ctx.doc.save(ctx.path)
    unsaved.recovered(ctx.shared.store, ctx.meeting)


def reply(message: Incoming, content: str, ref: str | None = None) -> Send:
    if message.stream is None:
        return Send(content, to=message.sender.email, ref=ref)
    return Send(content, stream=message.stream, topic=message.topic, ref=ref)


def where_notes(meeting: MeetingConfig, day: dt.date, path: Path) -> str:
    """Where people read the notes: the meeting's `notes_url` when it has one (they cannot
    open a file on the bot's machine), else the file's name; never its place on that machine,
    which says nothing a member can use and more than they should know of the server."""
    url = meeting.notes_url_for(day)
    return f"[{path.name}]({url})" if url else f"`{path.name}`"


# An absolute path's folders: from a `/` that starts a word, up to its last `/`. URLs are
# left alone, since their slashes follow `:` or another `/`.
_FOLDERS = re.compile(r"(?<![\w/:.~-])/(?:[^\s/`'\"<>()\[\]]+/)+(?=[^\s/`'\"<>()\[\]])")


_QUOTED = re.compile(r"`/[^`]*/([^`/]+)`")


def without_paths(text: str) -> str:
    """An error for chat: the files it names (the notes library names them by path, for the
    command line) by their names only."""
    return _FOLDERS.sub("", _QUOTED.sub(r"`\1`", text))


def open_action(people: People, row: ActionRow) -> messages.OpenAction:
    return messages.OpenAction(
        row.id, row.owner, people.mention(row.owner), row.text, row.day, row.to_confirm
    )
