"""The agenda thread, and the rest of what the schedule does without anyone typing.

Before each meeting the bot opens its topic with the agenda and keeps that message current; it
reminds, starts, ends and summarizes on time unless an organizer did it first, and reminds
owners of their open action items. `tick` does every job `schedule.due_jobs` says is due, once:
the job's key is stored in the same transaction as what it changed. It acts as the bot, with
the same `Context` and the same steps (`live.begin`, `live.wrap_up`) as people's commands.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from zulip_bot import publish, schedule
from zulip_bot.config import MeetingConfig
from zulip_bot.meeting import agenda, live, messages, timing, wrapup
from zulip_bot.meeting.context import (
    Context,
    Shared,
    draft_context,
    occurrence,
    open_action,
    start_of,
)
from zulip_bot.meeting.effects import Edit, Effect, Send
from zulip_bot.meeting.refusal import Refused
from zulip_bot.meeting.store import AgendaPost, Store
from zulip_bot.notes import NotesConflict, NotesError

REPOST_EVERY = dt.timedelta(hours=1)  # a stale agenda message is posted afresh at most this often


class _Done:
    """The keys of jobs done, as the store keeps them (text), for `schedule.due_jobs`."""

    def __init__(self, keys: set[str]) -> None:
        self.keys = keys

    def __contains__(self, key: object) -> bool:
        return str(key) in self.keys


def tick(shared: Shared, now: dt.datetime, edit_limit: dt.timedelta | None) -> list[Effect]:
    """What the clock makes due: each scheduled job not done yet, done once (its state
    and effects in one transaction), then agenda messages to post afresh. A job that fails
    (a draft broken by hand) is reported once and tried again later; other meetings go on."""
    effects: list[Effect] = []
    for job in schedule.due_jobs(shared.config.meetings, now, _Done(shared.store.jobs_done())):
        with shared.store.transaction():
            if str(job.key) in shared.store.jobs_done():  # another process was quicker
                continue
            try:
                with shared.store.savepoint():
                    effects += _job(shared, job, now, edit_limit)
            except NotesConflict:
                continue  # saved by hand just now: the next tick does it on their version
            except (Refused, NotesError) as error:
                effects += _job_failed(shared, job, str(error), now)
                continue
            shared.store.job_done(str(job.key), now.isoformat())
    with shared.store.transaction():
        effects += _repost(shared, now)
        effects += timing.warnings(shared, now)
    return effects


def _job(
    shared: Shared, job: schedule.Job, now: dt.datetime, edit_limit: dt.timedelta | None
) -> list[Effect]:
    meeting, kind = job.meeting, job.key.kind
    status = shared.store.status(meeting.key, job.start.date().isoformat())[0]
    if status in ("ended", "skipped"):
        return []
    if kind is schedule.JobKind.OWNERS:
        return _remind_owners(shared, meeting, job.start)
    occurrence(shared, meeting, now)  # an earlier meeting never held hands its items on first
    ctx = draft_context(shared, meeting, job.start, shared.bot, shared.bot_person)
    topic = meeting.topic_for(ctx.day)
    if kind is schedule.JobKind.AGENDA:
        return _open_agenda(shared, ctx, now)
    if kind is schedule.JobKind.REMIND:
        mentions = [shared.people.mention_email(email) for email in meeting.organizers]
        text = messages.reminder(meeting.title, ctx.start, meeting.video_link, mentions)
        return [Send(text, stream=meeting.stream, topic=topic)]
    if kind is schedule.JobKind.START:
        if status == "running":
            return []  # started by hand
        started = Send(live.begin(ctx), stream=meeting.stream, topic=topic)
        return [started, *refresh(ctx, now, edit_limit)]
    if status != "running":
        return []  # never started: its agenda waits (see `occurrence`)
    summary = [Send(text, stream=meeting.stream, topic=topic) for text in live.wrap_up(ctx, now)]
    return summary + published(meeting, "meeting ended", ctx.path)


def _job_failed(shared: Shared, job: schedule.Job, error: str, now: dt.datetime) -> list[Effect]:
    reported = f"{job.key}!reported"
    if reported in shared.store.jobs_done():
        return []
    shared.store.job_done(reported, now.isoformat())
    meeting = job.meeting
    mentions = ", ".join(shared.people.mention_email(email) for email in meeting.organizers)
    text = (
        f"{mentions}: I could not do the scheduled {job.key.kind} of {meeting.title} "
        f"{job.start.date()}: {error} I will try again."
    )
    return [Send(text, stream=meeting.stream, topic=meeting.topic_for(job.start.date()))]


def _open_agenda(shared: Shared, ctx: Context, now: dt.datetime) -> list[Effect]:
    """The draft (from the template, with the open action items, as `end` makes it) and
    the agenda message that opens the meeting's topic."""
    if not ctx.path.exists():
        rows = shared.store.open_actions(meeting=ctx.meeting.key)
        wrapup.write_draft(ctx.meeting, ctx.day, [], [open_action(shared.people, r) for r in rows])
        ctx = draft_context(shared, ctx.meeting, ctx.start, shared.bot, shared.bot_person)
    content = _text(ctx)
    day = ctx.day.isoformat()
    shared.store.save_agenda_post(
        AgendaPost(ctx.meeting.key, day, None, now.isoformat(), content, False)
    )
    post = Send(
        content,
        stream=ctx.meeting.stream,
        topic=ctx.meeting.topic_for(ctx.day),
        ref=f"agenda:{ctx.meeting.key}:{day}",
    )
    return [post, *published(ctx.meeting, "agenda opened", ctx.path)]


def _text(ctx: Context) -> str:
    meeting = ctx.meeting
    return messages.agenda_thread(
        meeting.title, ctx.start, meeting.video_link, agenda.lines(ctx), ctx.config.bot_name,
        meeting.duration_minutes,
    )  # fmt: skip


def refresh(ctx: Context, now: dt.datetime, edit_limit: dt.timedelta | None) -> list[Effect]:
    """Keep the agenda message current: an edit while Zulip allows one (`edit_limit`, None
    for no limit), else it is marked stale for `_repost`."""
    store = ctx.store
    post = store.agenda_post(*ctx.key)
    if post is None:
        return []
    content = _text(ctx)
    if content == post.content:
        return []
    age = now - dt.datetime.fromisoformat(post.posted_at)
    if post.message_id is not None and (edit_limit is None or age < edit_limit):
        store.save_agenda_post(replace(post, content=content))
        return [Edit(post.message_id, content)]
    store.save_agenda_post(replace(post, stale=True))
    return []


def edit_refused(store: Store, message_id: int) -> None:
    """Zulip would not take an edit of an agenda message (its edit limit came first): the
    message is stale, and `_repost` posts the agenda afresh in its time."""
    post = store.agenda_post_by_message(message_id)
    if post is not None:  # what it shows is not what we meant: never "unchanged"
        store.save_agenda_post(replace(post, content="", stale=True))


def _repost(shared: Shared, now: dt.datetime) -> list[Effect]:
    """An agenda that changed after its message could no longer be edited is posted
    afresh, at most once an hour and only before the meeting: people see it current, and
    the topic is not flooded."""
    effects: list[Effect] = []
    for post in shared.store.stale_agenda_posts():
        meeting = shared.config.meeting(post.meeting)
        if now - dt.datetime.fromisoformat(post.posted_at) < REPOST_EVERY:
            continue
        day = dt.date.fromisoformat(post.day)
        if meeting is None or shared.store.status(meeting.key, post.day)[0] != "planned":
            # once the meeting runs, the topic is busy with it: `agenda` shows it on demand
            shared.store.save_agenda_post(replace(post, stale=False))
            continue
        try:
            ctx = draft_context(
                shared, meeting, start_of(meeting, day), shared.bot, shared.bot_person
            )
        except Refused:
            continue  # reported to whoever sends a command; tried again on the next tick
        content = _text(ctx)
        if content == post.content:
            shared.store.save_agenda_post(replace(post, stale=False))
            continue
        shared.store.save_agenda_post(
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


def _remind_owners(shared: Shared, meeting: MeetingConfig, start: dt.datetime) -> list[Effect]:
    """One direct message to each owner of an open action item whom the bot can reach."""
    by_owner: dict[str, list[messages.OpenAction]] = {}
    for row in shared.store.open_actions(meeting=meeting.key):
        by_owner.setdefault(row.owner, []).append(open_action(shared.people, row))
    effects: list[Effect] = []
    for owner, actions in by_owner.items():
        person = shared.people.by_initials(owner) if owner else None
        if person is not None and person.email:
            text = messages.owner_reminder(meeting.title, start, actions)
            effects.append(Send(text, to=person.email))
    return effects


def published(meeting: MeetingConfig, phase: str, path: Path) -> list[Effect]:
    """Commit (and push) the notes where people read them; a failure is told to the
    organizers, and the next phase pushes what is left."""
    result = publish.publish(meeting, phase, path)
    if result is None or result.ok:
        return []
    return [Send(result.problem, to=email) for email in meeting.organizers]
