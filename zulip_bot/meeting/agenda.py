"""What people do with the agenda before a meeting: add, edit and withdraw items, vote for
them, look at the agenda, the notes draft and when the next meeting is.

Each command is a function of its parsed command and the `Context` of the meeting's draft;
the service has checked who may send it and whether the meeting must be running.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from zulip_bot import schedule
from zulip_bot.meeting import commands as c
from zulip_bot.meeting import messages, timing
from zulip_bot.meeting.context import (
    Context,
    Live,
    entries,
    find,
    may_change,
    owned,
    reply,
    save,
    unknown_note,
    where_notes,
    written,
)
from zulip_bot.meeting.effects import Incoming, Send
from zulip_bot.meeting.refusal import Refused


def add(cmd: c.Add, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    """An introduction is written about the newcomer, with no owner unless one is named."""
    section = ctx.meeting.section(cmd.kind)
    entries(ctx)
    if ctx.doc.section(section) is None:
        ctx.doc.add_section(section)
    said = owned(ctx, cmd.text, mine=cmd.kind != "intro")
    owners = said.owners
    line = ctx.doc.add_item(section, said.text, owners, checked=False, style=said.style)
    text = written(ctx, line)
    save(ctx)
    author = ctx.sender.email.casefold()
    number = ctx.store.add_item(*ctx.key, section, text, owners, author)
    ctx.store.push_undo(*ctx.key, author, "add", number)
    added = (
        f"Added item **{number}** to {section}: {messages.quoted_item(owners, text)}\n"
        f"React with 👍 (or `vote {number}`) to vote for it."
    )
    return [
        reply(
            msg,
            added + unknown_note(ctx.people, owners) + timing.hint(text),
            ref=f"item:{ctx.meeting.key}:{ctx.day}:{number}",
        )
    ]


def edit(cmd: c.Edit, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    """`edit 2 DG: text` names the owners the way `add` does."""
    entry = find(ctx, cmd.number)
    may_change(ctx, entry.row, entry.item.owners, "edit")
    said = owned(ctx, cmd.text, mine=False)
    owners = said.owners
    ctx.doc.set_item_text(entry.item, timing.edited(entry.item.text, said.text))
    if owners and owners != entry.item.owners:
        ctx.doc.set_item_owners(ctx.doc.item_at(entry.item.line) or entry.item, owners)
    text = written(ctx, entry.item.line)
    save(ctx)
    ctx.store.update_item(*ctx.key, cmd.number, text=text, owners=owners or None)
    timing.replan(ctx, find(ctx, cmd.number))
    shown = messages.quoted_item(owners, text)
    return [reply(msg, f"Item {cmd.number} now reads: {shown}" + timing.hint(text))]


def withdraw(cmd: c.Withdraw, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    """An item that has been discussed, or has notes under it that its owners did not write,
    keeps them: only an organizer may withdraw it, and it is crossed out."""
    number = cmd.number
    entries(ctx)
    row = next((r for r in ctx.missing if r.number == number), None)
    if row is not None:  # its line is gone already: only the store knows it
        may_change(ctx, row, row.owners, "withdraw")
        ctx.store.update_item(*ctx.key, number, withdrawn=True)
        return [reply(msg, f"Withdrew item {number}: {messages.quoted_item((), row.text)}")]
    if any(e.row.number == number for e in ctx.struck) or any(
        r.number == number for r in ctx.withdrawn
    ):
        raise Refused(f"Item {number} was already withdrawn.")
    entry = find(ctx, number)
    may_change(ctx, entry.row, entry.item.owners, "withdraw")
    if _discussed(ctx, entry):
        if not ctx.people.is_organizer(ctx.meeting, ctx.sender):
            raise Refused(
                f"Item {number} has been discussed or has notes under it that others "
                "wrote, so I kept it; an organizer can still `withdraw` it, which crosses "
                "it out and keeps what was written under it."
            )
        ctx.doc.strike_item(entry.item)
        shown = messages.quoted_item((), entry.item.text)
        done = f"Crossed out item {number}: {shown}. What was written under it stays."
    else:
        ctx.doc.remove_item(entry.item)
        done = f"Withdrew item {number}: {messages.quoted_item((), entry.item.text)}"
    save(ctx)
    ctx.store.update_item(*ctx.key, number, withdrawn=True)
    return [reply(msg, done)]


def _discussed(ctx: Context, entry: Live) -> bool:
    """Ticked, or with a sub-bullet that is not one of the details its owners added."""
    if entry.item.checked:
        return True
    details = ctx.store.details(*ctx.key, entry.row.number)
    return any(child.text not in details for child in entry.item.children)


def vote(cmd: c.Vote, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    return _vote(cmd.number, ctx, msg, True)


def unvote(cmd: c.Unvote, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    return _vote(cmd.number, ctx, msg, False)


def _vote(number: int, ctx: Context, msg: Incoming, on: bool) -> list[Send]:
    find(ctx, number)
    changed = ctx.store.vote(*ctx.key, number, ctx.sender.email.casefold(), on)
    if not changed:
        already = "You already voted for" if on else "You had not voted for"
        return [reply(msg, f"{already} item {number}.")]
    votes = ctx.store.vote_counts(*ctx.key).get(number, 0)
    verb = "Voted for" if on else "Took back your vote for"
    done = reply(msg, f"{verb} item {number}; it has {messages.counted(votes, 'vote')}.")
    return [replace(done, ack_only=True)]


def ordered(ctx: Context) -> list[tuple[Live, int]]:
    """The agenda by votes, ties by number: as people see it in chat."""
    votes = ctx.store.vote_counts(*ctx.key)
    pairs = [(e, votes.get(e.row.number, 0)) for e in entries(ctx)]
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0].row.number))


def lines(ctx: Context) -> list[messages.AgendaLine]:
    return [timing.agenda_line(ctx, e, votes) for e, votes in ordered(ctx)]


def agenda(cmd: c.Agenda, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    title = f"{ctx.meeting.title}, {messages.time_tag(ctx.start)}"
    texts = messages.agenda(title, lines(ctx), ctx.meeting.duration_minutes)
    if ctx.missing:
        gone = ", ".join(
            f"item {r.number} ({messages.quoted_item(r.owners, r.text)})" for r in ctx.missing
        )
        sections = sorted({r.section for r in ctx.missing if ctx.doc.section(r.section) is None})
        why = f" (the section {', '.join(sections)} is gone from it)" if sections else ""
        texts.append(
            f"Not in the notes draft now{why}, kept with their votes until their lines come "
            f"back: {gone}."
        )
    return [reply(msg, text) for text in texts]


def notes(cmd: c.Notes, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    count = len(entries(ctx))
    return [
        reply(
            msg,
            f"The notes draft for {messages.time_tag(ctx.start)} is "
            f"{where_notes(ctx.meeting, ctx.day, ctx.path)} "
            f"({messages.counted(count, 'agenda item')}).",
        )
    ]


def next_meeting(cmd: c.NextMeeting, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    upcoming = schedule.next_occurrence(ctx.meeting, now)
    if upcoming is None:
        return [reply(msg, f"{ctx.meeting.title} has no more meetings scheduled.")]
    link = f" Video: {ctx.meeting.video_link}" if ctx.meeting.video_link else ""
    return [reply(msg, f"The next {ctx.meeting.title} is {messages.time_tag(upcoming)}.{link}")]
