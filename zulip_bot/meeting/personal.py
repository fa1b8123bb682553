"""What people do about themselves rather than a meeting: ask for help, say who they are,
list and close their action items. These work in direct messages too, and read no notes
draft (but `iam` renames the sender's items in the meetings ahead).
"""

from __future__ import annotations

import datetime as dt

from zulip_bot.config import MeetingConfig, Person
from zulip_bot.meeting import adhoc, messages
from zulip_bot.meeting import commands as c
from zulip_bot.meeting.context import Shared, context, entries, open_action, reply, save
from zulip_bot.meeting.effects import Incoming, Send
from zulip_bot.meeting.refusal import Refused


def usage(
    cmd: c.Help, shared: Shared, msg: Incoming, meeting: MeetingConfig | None, now: dt.datetime
) -> list[Send]:
    """The parser has already turned the topic into a known command's or topic's name; a bare
    `help` lists the topics, so that every answer fits on one screen."""
    return [reply(msg, (c.help_for(cmd.topic) if cmd.topic else None) or c.overview())]


def iam(
    cmd: c.Iam, shared: Shared, msg: Incoming, meeting: MeetingConfig | None, now: dt.datetime
) -> list[Send]:
    before = shared.people.identify(msg.sender).initials
    done = shared.people.register(msg.sender, cmd.initials, cmd.affiliation, cmd.github)
    for each in [meeting] if meeting else shared.config.meetings:
        _rename_owner(shared, each, msg, before, cmd.initials, now)
    return [reply(msg, done)]


def _rename_owner(
    shared: Shared, meeting: MeetingConfig, msg: Incoming, old: str, new: str, now: dt.datetime
) -> None:
    """The sender's own items in the meeting ahead follow their newly chosen initials."""
    if old == new:
        return
    try:
        ctx = context(shared, meeting, msg.sender, now)
    except Refused:
        return  # no meeting ahead, or a draft we may not touch: nothing to follow
    if ctx.store.status(*ctx.key)[0] == "ended" or not ctx.path.exists():
        return
    author = msg.sender.email.casefold()
    mine = [e for e in entries(ctx) if e.row.author == author and old in e.item.owners]
    for entry in mine:
        owners = tuple(new if o == old else o for o in entry.item.owners)
        ctx.doc.set_item_owners(ctx.doc.item_at(entry.item.line) or entry.item, owners)
        ctx.store.update_item(*ctx.key, entry.row.number, owners=owners)
    if mine:
        save(ctx)


def actions(
    cmd: c.Actions, shared: Shared, msg: Incoming, meeting: MeetingConfig | None, now: dt.datetime
) -> list[Send]:
    """In a meeting's stream, `actions` lists that meeting's; elsewhere, every meeting's."""
    person = shared.people.identify(msg.sender)
    return [reply(msg, text) for text in _actions(cmd, shared, person, meeting)]


def _actions(
    cmd: c.Actions, shared: Shared, person: Person, meeting: MeetingConfig | None
) -> list[str]:
    """Everyone's open items of the meeting whose stream this is (of every meeting in a DM);
    one person's items from every meeting, since that is their to-do list."""
    store, people = shared.store, shared.people
    if cmd.who == "all":
        key = meeting.key if meeting else None
        title = f"Open action items of {meeting.title}" if meeting else "Open action items"
        rows = store.open_actions(meeting=key)
    else:
        if cmd.who == "mine":
            owner = person.initials
        else:
            named = people.find(cmd.who) or people.by_initials(cmd.who.name)
            owner = named.initials if named else cmd.who.name
            if named is None and not store.open_actions(owner):
                raise Refused(
                    f"I don't know anyone called {owner}: mention them as @**Name**, or use "
                    "their initials; `actions` lists everyone's open items."
                )
        rows, title = store.open_actions(owner), f"Open action items of {owner}"
    return messages.action_list(title, [open_action(people, r) for r in rows])


def done(
    cmd: c.Done, shared: Shared, msg: Incoming, meeting: MeetingConfig | None, now: dt.datetime
) -> list[Send]:
    """The owner, an organizer of the item's meeting, or an admin closes an action item."""
    sender, store = msg.sender, shared.store
    person = shared.people.identify(sender)
    row = store.action(cmd.action_id)
    if row is None:
        raise Refused(f"There is no action item A{cmd.action_id}; `actions` lists the open ones.")
    if row.done:
        raise Refused(f"A{cmd.action_id} is already done.")
    of = shared.config.meeting(row.meeting) or adhoc.meeting_by_key(shared, row.meeting)
    allowed = row.owner in ("", person.initials) or (
        of is not None and shared.people.is_organizer(of, sender)
    )
    if not allowed and not sender.is_admin:
        raise Refused(
            f"A{cmd.action_id} belongs to {row.owner}; they or an organizer can close it."
        )
    store.set_action(cmd.action_id, done=True)
    return [reply(msg, f"Closed A{cmd.action_id}: {row.text}")]
