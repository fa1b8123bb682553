"""The agenda thread, and the rest of what the schedule does without anyone typing.

Before each meeting the bot opens its topic with the agenda and keeps that message current; it
reminds, starts, ends and summarizes on time unless an organizer did it first, and reminds
owners of their open action items. `tick` does every job `schedule.due_jobs` says is due, once:
the job's key is stored in the same transaction as what it changed. Functions of the service,
kept apart from what people type.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from zulip_bot import publish, schedule
from zulip_bot.config import MeetingConfig
from zulip_bot.meeting import messages, wrapup
from zulip_bot.meeting.effects import Edit, Effect, Send
from zulip_bot.meeting.refusal import Refused
from zulip_bot.meeting.store import AgendaPost
from zulip_bot.notes import NotesConflict, NotesError

if TYPE_CHECKING:
    from zulip_bot.meeting.service import Context, MeetingService

REPOST_EVERY = dt.timedelta(hours=1)  # a stale agenda message is posted afresh at most this often


class _Done:
    """The keys of jobs done, as the store keeps them (text), for `schedule.due_jobs`."""

    def __init__(self, keys: set[str]) -> None:
        self.keys = keys

    def __contains__(self, key: object) -> bool:
        return str(key) in self.keys


def tick(svc: MeetingService, now: dt.datetime) -> list[Effect]:
    """What the clock makes due: each scheduled job not done yet, done once (its state
    and effects in one transaction), then agenda messages to post afresh. A job that fails
    (a draft broken by hand) is reported once and tried again later; other meetings go on."""
    effects: list[Effect] = []
    for job in schedule.due_jobs(svc.config.meetings, now, _Done(svc.store.jobs_done())):
        with svc.store.transaction():
            if str(job.key) in svc.store.jobs_done():  # another process was quicker
                continue
            try:
                with svc.store.savepoint():
                    effects += _job(svc, job, now)
            except NotesConflict:
                continue  # saved by hand just now: the next tick does it on their version
            except (Refused, NotesError) as error:
                effects += _job_failed(svc, job, str(error), now)
                continue
            svc.store.job_done(str(job.key), now.isoformat())
    with svc.store.transaction():
        effects += _repost(svc, now)
    return effects


def _job(svc: MeetingService, job: schedule.Job, now: dt.datetime) -> list[Effect]:
    meeting, kind = job.meeting, job.key.kind
    status = svc.store.status(meeting.key, job.start.date().isoformat())[0]
    if status in ("ended", "skipped"):
        return []
    if kind is schedule.JobKind.OWNERS:
        return _remind_owners(svc, meeting, job.start)
    svc.occurrence(meeting, now)  # an earlier meeting never held hands its items on first
    ctx = svc._draft_context(meeting, job.start, svc._bot, svc._bot_person)
    topic = meeting.topic_for(ctx.day)
    if kind is schedule.JobKind.AGENDA:
        return _open_agenda(svc, ctx, now)
    if kind is schedule.JobKind.REMIND:
        mentions = [svc.people.mention_email(email) for email in meeting.organizers]
        text = messages.reminder(meeting.title, ctx.start, meeting.video_link, mentions)
        return [Send(text, stream=meeting.stream, topic=topic)]
    if kind is schedule.JobKind.START:
        if status == "running":
            return []  # started by hand
        started = Send(svc._start(ctx), stream=meeting.stream, topic=topic)
        return [started, *refresh(svc, ctx, now)]
    if status != "running":
        return []  # never started: its agenda waits (see `occurrence`)
    summary = [Send(text, stream=meeting.stream, topic=topic) for text in svc._end(ctx, now)]
    return summary + published(svc, meeting, "meeting ended", ctx.path)


def _job_failed(
    svc: MeetingService, job: schedule.Job, error: str, now: dt.datetime
) -> list[Effect]:
    reported = f"{job.key}!reported"
    if reported in svc.store.jobs_done():
        return []
    svc.store.job_done(reported, now.isoformat())
    meeting = job.meeting
    mentions = ", ".join(svc.people.mention_email(email) for email in meeting.organizers)
    text = (
        f"{mentions}: I could not do the scheduled {job.key.kind} of {meeting.title} "
        f"{job.start.date()}: {error} I will try again."
    )
    return [Send(text, stream=meeting.stream, topic=meeting.topic_for(job.start.date()))]


def _open_agenda(svc: MeetingService, ctx: Context, now: dt.datetime) -> list[Effect]:
    """The draft (from the template, with the open action items, as `end` makes it) and
    the agenda message that opens the meeting's topic."""
    if not ctx.path.exists():
        actions = [svc._open_action(r) for r in svc.store.open_actions(meeting=ctx.meeting.key)]
        wrapup.write_draft(ctx.meeting, ctx.day, [], actions)
        ctx = svc._draft_context(ctx.meeting, ctx.start, svc._bot, svc._bot_person)
    content = _text(svc, ctx)
    day = ctx.day.isoformat()
    svc.store.save_agenda_post(
        AgendaPost(ctx.meeting.key, day, None, now.isoformat(), content, False)
    )
    post = Send(
        content,
        stream=ctx.meeting.stream,
        topic=ctx.meeting.topic_for(ctx.day),
        ref=f"agenda:{ctx.meeting.key}:{day}",
    )
    return [post, *published(svc, ctx.meeting, "agenda opened", ctx.path)]


def _text(svc: MeetingService, ctx: Context) -> str:
    lines = [
        messages.AgendaLine(e.row.number, e.item.owners, e.item.text, votes, e.item.checked)
        for e, votes in svc._ordered(ctx)
    ]
    return messages.agenda_thread(
        ctx.meeting.title, ctx.start, ctx.meeting.video_link, lines, svc.config.bot_name
    )


def refresh(svc: MeetingService, ctx: Context, now: dt.datetime) -> list[Effect]:
    """Keep the agenda message current: an edit while Zulip allows one, else it is marked
    stale for `_repost_agendas`."""
    post = svc.store.agenda_post(*ctx.key)
    if post is None:
        return []
    content = _text(svc, ctx)
    if content == post.content:
        return []
    age = now - dt.datetime.fromisoformat(post.posted_at)
    if post.message_id is not None and (svc.edit_limit is None or age < svc.edit_limit):
        svc.store.save_agenda_post(replace(post, content=content))
        return [Edit(post.message_id, content)]
    svc.store.save_agenda_post(replace(post, stale=True))
    return []


def edit_refused(svc: MeetingService, message_id: int) -> None:
    """Zulip would not take an edit of an agenda message (its edit limit came first): the
    message is stale, and `_repost_agendas` posts the agenda afresh in its time."""
    post = svc.store.agenda_post_by_message(message_id)
    if post is not None:  # what it shows is not what we meant: never "unchanged"
        svc.store.save_agenda_post(replace(post, content="", stale=True))


def _repost(svc: MeetingService, now: dt.datetime) -> list[Effect]:
    """An agenda that changed after its message could no longer be edited is posted
    afresh, at most once an hour and only before the meeting: people see it current, and
    the topic is not flooded."""
    effects: list[Effect] = []
    for post in svc.store.stale_agenda_posts():
        meeting = svc.config.meeting(post.meeting)
        if now - dt.datetime.fromisoformat(post.posted_at) < REPOST_EVERY:
            continue
        day = dt.date.fromisoformat(post.day)
        if meeting is None or svc.store.status(meeting.key, post.day)[0] != "planned":
            # once the meeting runs, the topic is busy with it: `agenda` shows it on demand
            svc.store.save_agenda_post(replace(post, stale=False))
            continue
        try:
            ctx = svc._draft_context(
                meeting, svc._start_of(meeting, day), svc._bot, svc._bot_person
            )
        except Refused:
            continue  # reported to whoever sends a command; tried again on the next tick
        content = _text(svc, ctx)
        if content == post.content:
            svc.store.save_agenda_post(replace(post, stale=False))
            continue
        svc.store.save_agenda_post(
            AgendaPost(meeting.key, post.day, None, now.isoformat(), content, False)
        )
        lead = "The agenda changed since my last post, which can no longer be edited:\n\n"
        effects.append(
            Send(
                lead + content,
                stream=meeting.stream,
                topic=meeting.topic_for(day),
                ref=f"agenda:{meeting.key}:{post.day}",
            )
        )
    return effects


def _remind_owners(svc: MeetingService, meeting: MeetingConfig, start: dt.datetime) -> list[Effect]:
    """One direct message to each owner of an open action item whom the bot can reach."""
    by_owner: dict[str, list[messages.OpenAction]] = {}
    for row in svc.store.open_actions(meeting=meeting.key):
        by_owner.setdefault(row.owner, []).append(svc._open_action(row))
    effects: list[Effect] = []
    for owner, actions in by_owner.items():
        person = svc.people.by_initials(owner) if owner else None
        if person is not None and person.email:
            text = messages.owner_reminder(meeting.title, start, actions)
            effects.append(Send(text, to=person.email))
    return effects


def published(svc: MeetingService, meeting: MeetingConfig, phase: str, path: Path) -> list[Effect]:
    """Commit (and push) the notes where people read them; a failure is told to the
    organizers, and the next phase pushes what is left."""
    result = publish.publish(meeting, phase, path)
    if result is None or result.ok:
        return []
    return [Send(result.problem, to=email) for email in meeting.organizers]
