"""Polls: Zulip's native `/poll` widget, posted for the meeting, and its result written into
the notes when it closes (by `close poll`, or by `end`).

The ballots arrive as submessages the service records; here a poll is opened, counted and
closed.
"""

from __future__ import annotations

import datetime as dt

from zulip_bot.meeting import commands as c
from zulip_bot.meeting.context import Context, entries, reply, save
from zulip_bot.meeting.effects import Incoming, Send
from zulip_bot.meeting.mentions import silenced
from zulip_bot.meeting.refusal import Refused


def poll(cmd: c.Poll, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    roster = ctx.config.roster
    if cmd.voters and roster.group(cmd.voters) is None:
        groups = ", ".join(g for g, _ in roster.groups) or "none"
        raise Refused(f"There is no roster group `{cmd.voters}` (groups: {groups}).")
    if ctx.store.open_poll(*ctx.key) is not None:
        raise Refused("A poll is already open; `close poll` closes it first.")
    _, current = ctx.store.status(*ctx.key)
    number = ctx.store.add_poll(
        *ctx.key, cmd.question, cmd.options, cmd.quorum, cmd.voters, current
    )
    lines = [  # the widget shows what people typed: silenced, so that it pings nobody
        f"/poll {silenced(' '.join(cmd.question.split()))}",
        *(silenced(" ".join(o.split())) for o in cmd.options),
    ]
    return [Send("\n".join(lines), stream=msg.stream, topic=msg.topic, ref=f"poll:{number}")]


def close_poll(cmd: c.ClosePoll, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    result = close_open(ctx)
    if result is None:
        raise Refused("There is no open poll.")
    save(ctx)
    return [reply(msg, f"Poll closed. {silenced(result)}")]


def close_open(ctx: Context) -> str | None:
    """Writes `Poll: question option: n (voters); ...` under the item that was open when the
    poll began (or as an item of its own). With a quorum the poll is a formal vote on its
    first option, which passes with the quorum and more than half of the voters."""
    store = ctx.store
    open_poll = store.open_poll(*ctx.key)
    if open_poll is None:
        return None
    store.set_poll(open_poll.id, closed=True)
    options = store.poll_options(open_poll)
    counts: dict[str, list[str]] = {key: [] for key, _ in options}
    group = open_poll.voters
    allowed = set(ctx.config.roster.group(group) or ()) if group else None
    for voter_id, key in store.ballots(open_poll.id):
        person = store.person_by_id(voter_id)
        initials = person.initials if person else f"user {voter_id}"
        if key in counts and (allowed is None or initials in allowed):
            counts[key].append(initials)
    parts = [
        f"{text}: {len(counts[key])}" + (f" ({', '.join(counts[key])})" if counts[key] else "")
        for key, text in options
    ]
    result = f"Poll: {open_poll.question} {'; '.join(parts)}"
    if open_poll.quorum is not None:
        voted = len({v for vs in counts.values() for v in vs})
        passed = voted >= open_poll.quorum and len(counts[options[0][0]]) * 2 > voted
        result += (
            f". Vote {'passed' if passed else 'did not pass'} "
            f"({voted} voted, quorum {open_poll.quorum})"
        )
    entry = next((e for e in [*entries(ctx), *ctx.struck] if e.row.number == open_poll.item), None)
    if entry is not None:  # else the item was withdrawn meanwhile: the result stands alone
        ctx.doc.add_child(entry.item, result)
    else:
        ctx.doc.add_item(ctx.meeting.section("item"), result, checked=True)
    return result
