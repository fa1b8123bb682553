"""Who came: `here` adds the sender to the draft's attendees, `chair` makes someone a
co-chair, and with `auto_attendance` whoever speaks in a running meeting's topic is counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from zulip_bot.config import MeetingConfig
from zulip_bot.meeting import commands as c
from zulip_bot.meeting import messages
from zulip_bot.meeting.context import Context, Shared, context, reply, save
from zulip_bot.meeting.effects import Incoming, Send, Sender
from zulip_bot.meeting.refusal import Refused
from zulip_bot.notes import Attendee, NotesDocument
from zulip_bot.notes.parse import is_attendee_title


def here(cmd: c.Here, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    added = attend(ctx)
    save(ctx)
    if not added:
        return [reply(msg, f"{ctx.person.name} is already on the attendee list.")]
    count = max(ctx.doc.head_count or 0, len(ctx.doc.attendees()))
    welcome = reply(
        msg,
        f"Welcome, {ctx.person.name} ({ctx.person.initials})! "
        f"{messages.counted(count, 'person', 'people')} here so far.",
    )
    return [replace(welcome, ack_only=True)]


def auto(shared: Shared, meeting: MeetingConfig, sender: Sender, now: dt.datetime) -> None:
    """`auto_attendance`: someone who spoke in the running meeting's topic is present."""
    try:
        ctx = context(shared, meeting, sender, now)
    except Refused:
        return  # the draft cannot be read: the reply to a command says so
    if attend(ctx):
        save(ctx)


def attend(ctx: Context) -> bool:
    """Add the sender to the attendees (and the head count) unless they are there; whether
    they were added."""
    attendees = ctx.doc.attendees()
    person = ctx.person
    if any(
        a.name == person.name or (a.initials and a.initials == person.initials) for a in attendees
    ):
        return False
    if ctx.doc.parsed.attendee_section is None and ctx.doc.parsed.attendee_table is None:
        ctx.doc.add_section("Attendees", level=2, before=_attendees_before(ctx))
    ctx.doc.add_attendee(Attendee(person.name, person.initials, person.affiliation, person.github))
    counted = max(len(ctx.doc.attendees()), ctx.doc.head_count or 0)
    if ctx.doc.head_count is None or counted > ctx.doc.head_count:
        ctx.doc.set_head_count(counted)
    return True


def _attendees_before(ctx: Context) -> str | None:
    """Where the template puts the attendees: before the first of the sections that follow
    them there which the draft still has (else at the end)."""
    template = NotesDocument.parse(ctx.meeting.template.read_text(encoding="utf-8"))
    titles = [section.title for section in template.sections()]
    first = next((n for n, title in enumerate(titles) if is_attendee_title(title)), None)
    if first is None:
        return None
    return next((t for t in titles[first + 1 :] if ctx.doc.section(t) is not None), None)


def chair(cmd: c.Chair, ctx: Context, msg: Incoming, now: dt.datetime) -> list[Send]:
    person = ctx.people.find(cmd.person)
    if person is None or not person.email:
        raise Refused(
            f"I don't know {cmd.person.name} yet: they can say something to me first, "
            "or be added to the roster."
        )
    ctx.store.add_chair(ctx.meeting.key, person.email)
    return [reply(msg, f"{person.name} is now a co-chair of {ctx.meeting.title}.")]
