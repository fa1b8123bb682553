"""What people do while a meeting runs: start it, move through the items, write notes,
decisions and action items under them, take their own last step back, and end it.

`note #n`, `decided #n` and `action #n` write under item n at any time (owners add details
ahead); the rest needs the meeting running, which the service checks. `begin` and `wrap_up`
are also what the schedule does when nobody started or ended the meeting by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace

from zulip_bot import schedule
from zulip_bot.meeting import commands as c
from zulip_bot.meeting import messages, polls, timing, wrapup
from zulip_bot.meeting.context import (
    START_EARLY,
    Context,
    Live,
    current,
    entries,
    find,
    is_running,
    not_running,
    open_action,
    owned,
    owns,
    reply,
    save,
    unknown_note,
    where_notes,
    without_paths,
    written,
)
from zulip_bot.meeting.effects import Incoming, Send
from zulip_bot.meeting.refusal import Refused
from zulip_bot.notes import NotesError
from zulip_bot.notes.extract import NOT_INITIALS, is_decision
from zulip_bot.notes.model import OwnerStyle

# --- start ------------------------------------------------------------------------------------


def start(cmd: c.Start, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    status, _ = ctx.store.status(*ctx.key)
    if status == "running":
        raise Refused("The meeting is already running.")
    if now < ctx.start - START_EARLY:
        minutes = START_EARLY // dt.timedelta(minutes=1)
        raise Refused(
            f"The next {ctx.meeting.title} is {messages.time_tag(ctx.start)}; `start` works "
            f"from {minutes} minutes before it."
        )
    return [reply(msg, text) for text in begin(ctx)]


def begin(ctx: Context) -> list[str]:
    """Mark the meeting running and order its agenda; what to tell the topic: that it has
    started, and the items in the order `next` will take them (the agenda message above may
    be one Zulip no longer lets the bot edit)."""
    ctx.store.set_status(*ctx.key, "running", None)
    order = ""
    if ctx.meeting.order_by_votes:
        try:
            if _order_by_votes(ctx):
                order = " The agenda is now ordered by votes."
        except NotesError as error:
            order = f" I kept the agenda in its written order: {without_paths(str(error))}."
    save(ctx)  # the draft exists from now on, for the note-takers
    votes = ctx.store.vote_counts(*ctx.key)
    pending = sorted((e for e in entries(ctx) if not e.item.checked), key=lambda e: e.item.line)
    lines = [timing.agenda_line(ctx, e, votes.get(e.row.number, 0)) for e in pending]
    return messages.started(ctx.meeting.title, order, lines)


def _order_by_votes(ctx: Context) -> bool:
    """Undiscussed items move by votes, ties by submission; discussed ones stay put. Returns
    whether anything moved."""
    votes = ctx.store.vote_counts(*ctx.key)
    numbers = {e.item.line: e.row.number for e in entries(ctx)}
    moved = False
    for kind in ("item", "carried"):
        title = ctx.meeting.section(kind)
        try:
            items = ctx.doc.items(title)
        except NotesError:
            continue
        movable = [i for i in items if i.line in numbers and not i.checked]
        ranked = sorted(movable, key=lambda i: (-votes.get(numbers[i.line], 0), numbers[i.line]))
        if ranked == movable:
            continue
        slots = iter(ranked)
        ctx.doc.reorder_items(title, [next(slots) if i in movable else i for i in items])
        numbers = {e.item.line: e.row.number for e in entries(ctx)}
        moved = True
    return moved


# --- moving through the items -----------------------------------------------------------------


def next_item(cmd: c.Next, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    """The first undiscussed item after the current one in the notes (whose order `start` set
    by votes), else the first one left above it."""
    agenda = entries(ctx)
    _, number = ctx.store.status(*ctx.key)
    at = next((e.item.line for e in agenda if e.row.number == number), 0)
    pending = sorted(
        (e for e in agenda if not e.item.checked), key=lambda e: (e.item.line < at, e.item.line)
    )
    if not pending:
        raise Refused("Every item has been discussed; `end` ends the meeting.")
    return _open(ctx, msg, pending[0], now)


def goto(cmd: c.GoTo, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    return _open(ctx, msg, find(ctx, cmd.number), now)


def _open(ctx: Context, msg: Incoming, entry: Live, now: dt.datetime) -> list[Send]:
    """Tick the item and start its clock; the reply says what the one before took."""
    took = timing.open_item(ctx, entry, now)
    ctx.doc.set_checked(entry.item, True)
    save(ctx)
    ctx.store.set_status(*ctx.key, "running", entry.row.number)
    shown = messages.quoted_item(entry.item.owners, entry.item.text)
    now_on = f"Now on item {entry.row.number}: {shown}"
    return [reply(msg, f"{took} {now_on}" if took else now_on)]


# --- writing under an item --------------------------------------------------------------------


def _add_note(
    ctx: Context,
    entry: Live,
    text: str,
    owners: Sequence[str] = (),
    register: Callable[[str], list[int]] | None = None,
    style: OwnerStyle | None = None,
    detail: bool = False,
) -> str:
    """A sub-bullet under an item, which `undo` can take back, with the action items that
    `register` records for the text as written. A `detail` is one the item's own owners wrote
    before it was discussed: it does not make the item discussed."""
    text = written(ctx, ctx.doc.add_child(entry.item, text, owners, style=style))
    save(ctx)
    actions = register(text) if register else []
    # A plain note its owners wrote before the item came up; never an action or decision
    mine = owns(ctx, entry.row, entry.item.owners) and not entry.item.checked
    kind = "detail" if detail and mine else "note"
    undo_step = {"item": entry.row.number, "text": text, "actions": actions}
    ctx.store.push_undo(*ctx.key, ctx.sender.email.casefold(), kind, undo_step)
    return text


def _target(ctx: Context, item: int | None) -> Live:
    """The item a note goes under: the open one, or item n (`note #n`) at any time, which only
    its owners and organizers may write under."""
    if item is None:
        if not is_running(ctx):
            raise Refused(not_running(ctx))
        return current(ctx)
    entry = find(ctx, item)
    if not owns(ctx, entry.row, entry.item.owners) and not ctx.people.is_organizer(
        ctx.meeting, ctx.sender
    ):
        raise Refused(
            f"Only the owners of item {item} or an organizer can add to it out of turn; "
            "`note <text>` notes under the open item while the meeting runs."
        )
    return entry


def note(cmd: c.Note, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    """`note #n <text>` adds a detail under item n at any time, without opening it, as people
    add links under their items days ahead."""
    said = owned(ctx, cmd.text, mine=False)
    owners = said.owners
    entry = _target(ctx, cmd.item)
    _add_note(ctx, entry, said.text, owners, style=said.style, detail=True)
    where = "Noted under" if cmd.item is None else "Added under"
    done = f"{where} item {entry.row.number}." + unknown_note(ctx.people, owners)
    return [replace(reply(msg, done), ack_only=cmd.item is None)]


def decided(cmd: c.Decided, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    entry = _target(ctx, cmd.item)
    _add_note(ctx, entry, cmd.text if is_decision(cmd.text) else f"Decision: {cmd.text}")
    return [reply(msg, f"Decision recorded under item {entry.row.number}.")]


def action(cmd: c.Action, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    """The owner is a person; a word that only looks like initials (`CEP to deprecate ...`)
    starts the text of an action nobody owns yet."""
    entry = _target(ctx, cmd.item)
    owners = [_owner(o, ctx) for o in cmd.owners]
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

    def register(text: str) -> list[int]:
        done = text.removeprefix(prefix)  # the task as the notes now read it
        ids.extend(
            ctx.store.add_action(*ctx.key, entry.item.text, owner, done) for owner in named or [""]
        )
        return ids

    _add_note(ctx, entry, prefix + task, register=register)
    recorded = (
        f"{messages.noun(len(ids), 'Action item')} {_ids(ids)} recorded under item "
        f"{entry.row.number}."
    )
    if not named:
        recorded += " It has no owner: say `action XX <text>` to give one."
    return [reply(msg, recorded + unknown_note(ctx.people, named))]


def _owner(owner: c.Owner, ctx: Context) -> str | None:
    """Initials for a mention, a GitHub handle or a name of someone known; initials as typed
    unless they are a label (CEP, PR) that names nobody; a name as written when the notes
    already name that person (an owner, an attendee). None for anything else."""
    people = ctx.people
    if owner.mention is not None:
        person = people.find(owner.mention)
        return person.initials if person else owner.text.replace(" ", "")
    if owner.handle:
        person = people.by_github(owner.text)
        return person.initials if person else f"@{owner.text}"
    if owner.name:
        person = ctx.config.roster.by_name(owner.text)
        if person is not None:
            return person.initials
        return owner.text if owner.text in _names_in_draft(ctx) else None
    if people.known_initials(owner.text) or owner.text.upper() not in NOT_INITIALS:
        return owner.text
    return None


def _names_in_draft(ctx: Context) -> set[str]:
    """Names the draft already uses for people: item owners and attendees' first names."""
    names = {o for item in ctx.doc.items() for o in item.owners}
    names |= {a.name.split()[0] for a in ctx.doc.attendees() if a.name.split()}
    return names


def _ids(actions: Sequence[int]) -> str:
    return ", ".join(f"A{number}" for number in actions)


# --- undo -------------------------------------------------------------------------------------


def undo(cmd: c.Undo, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    last = ctx.store.pop_undo(*ctx.key, ctx.sender.email.casefold())
    if last is None:
        raise Refused("You have added nothing in this meeting that I can undo.")
    kind, payload = last
    try:
        done = _undo_add(ctx, payload) if kind == "add" else _undo_note(ctx, payload)
    except Refused as why:  # used up all the same, so that the next `undo` goes on
        skipped = "I have skipped that step: `undo` again goes on to the one before it."
        return [reply(msg, f"{why} {skipped}")]
    save(ctx)
    return [reply(msg, done)]


def _undo_add(ctx: Context, payload: object) -> str:
    assert isinstance(payload, int)
    entry = find(ctx, payload)
    if entry.item.children or entry.item.checked:
        raise Refused(
            f"Item {payload} has been discussed or has notes under it now, so I left it "
            f"(`withdraw {payload}` takes it off the agenda)."
        )
    ctx.doc.remove_item(entry.item)
    ctx.store.update_item(*ctx.key, payload, withdrawn=True)
    return f"Removed item {payload}."


def _undo_note(ctx: Context, payload: object) -> str:
    assert isinstance(payload, dict)
    entry = find(ctx, int(payload["item"]))
    child = next((ch for ch in reversed(entry.item.children) if ch.text == payload["text"]), None)
    if child is None:
        raise Refused(
            f"What you added under item {entry.row.number} has been changed or removed "
            "in the notes since."
        )
    ctx.doc.remove_item(child)
    actions = [int(number) for number in payload.get("actions", [])]
    for number in actions:
        ctx.store.delete_action(number)
    return f"Removed your {_what(actions, child.text)} under item {entry.row.number}."


def _what(actions: Sequence[int], text: str) -> str:
    if not actions:
        return "decision" if text.startswith("Decision: ") else "note"
    return f"{messages.noun(len(actions), 'action item')} {_ids(actions)}"


# --- end --------------------------------------------------------------------------------------


def end(cmd: c.End, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    return [Send(text, stream=msg.stream, topic=msg.topic) for text in wrap_up(ctx, now)]


def wrap_up(ctx: Context, now: dt.datetime) -> list[str]:
    """Close the poll, bring the action registry up to date, write the next draft; the
    summary's messages."""
    store = ctx.store
    polls.close_open(ctx)
    times = timing.finish(ctx, now)
    wrapup.register_written_actions(store, ctx.meeting, ctx.day, ctx.doc)
    wrapup.close_ticked_actions(store, ctx.meeting, ctx.doc)
    save(ctx)
    store.set_status(*ctx.key, "ended", None, now.isoformat())
    live = entries(ctx)
    carried = [  # introductions and announcements are news of that day only
        e.item
        for e in live
        if not e.item.checked
        and wrapup.section_kind(ctx.meeting, ctx.doc, e.item) in ("item", "carried")
    ]
    open_actions = [open_action(ctx.people, r) for r in store.open_actions(meeting=ctx.meeting.key)]
    try:
        draft = wrapup.next_draft(ctx.meeting, ctx.start, carried, open_actions)
        following = schedule.next_occurrence(ctx.meeting, ctx.start)
        next_draft = (
            where_notes(ctx.meeting, following.date(), draft) if draft and following else None
        )
    except NotesError as error:  # the meeting still ends; the summary says what failed
        next_draft = f"not written, because {without_paths(str(error))}"
    agenda = wrapup.agenda_lines(ctx.meeting, ctx.doc)
    decisions = [d for d in ctx.doc.decisions() if d.line not in agenda]
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
        notes_path=where_notes(ctx.meeting, ctx.day, ctx.path),
        next_draft=next_draft,
        times=times,
    )
    return messages.summary(summary)
