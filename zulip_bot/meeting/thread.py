"""The agenda thread, and the rest of what the schedule does without anyone typing.

Before each meeting the bot opens its topic with the agenda and keeps that message current; it
reminds, starts, ends and summarizes on time unless an organizer did it first, and reminds
owners of their open action items. `tick` does every job `schedule.due_jobs` says is due, once:
the job's key is stored in the same transaction as what it changed. It acts as the bot, with
the same `Context` and the same steps (`live.begin`, `live.wrap_up`) as people's commands.

Zulip lets the bot edit the agenda message only for the realm's edit limit (600 s by default)
after posting it. Past that, a changed agenda is posted afresh, since an agenda in the topic
that stays behind the real one misleads exactly the people who read it last, just before the
meeting. How often is a trade between current and readable: after a post the next one waits a
tenth of the time that post had left before the meeting, between `REPOST_MIN` and
`REPOST_MAX` (two days ahead: hourly; 30 minutes ahead: 3 minutes; the last 20: 2 minutes).
So the topic is at most that far behind, a busy agenda adds a handful of posts, not one per
vote, and a re-post is only made when something changed. Each re-post can be edited again
for the limit, so with Zulip's default limit the last 100 minutes need no wait at all: one
post per ten minutes at most, edited in between. A re-post says it replaces the earlier one.
Once the meeting runs the topic is busy with it: no re-posts, and the start message itself
lists the items in the order `next` takes them. Going stale and what was done about it is
logged once each time.
"""

from __future__ import annotations

import datetime as dt
import logging
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
    without_paths,
)
from zulip_bot.meeting.effects import Edit, Effect, Send
from zulip_bot.meeting.refusal import Refused
from zulip_bot.meeting.store import AgendaPost, Store
from zulip_bot.notes import NotesConflict, NotesError

log = logging.getLogger(__name__)

REPOST_SHARE = 10  # after a post, the next waits this share of the time it had left
REPOST_MIN = dt.timedelta(minutes=2)
REPOST_MAX = dt.timedelta(hours=1)
REPLACES = (
    "**The agenda, updated**: this replaces my agenda message above, which Zulip no longer "
    "lets me edit.\n\n"
)


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
                effects += _job_failed(shared, job, without_paths(str(error)), now)
                continue
            shared.store.job_done(str(job.key), now.isoformat())
    with shared.store.transaction():
        effects += _catch_up_stale(shared, now, edit_limit)
        effects += timing.warnings(shared, now, shared.config.meetings)
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
        started = [Send(text, stream=meeting.stream, topic=topic) for text in live.begin(ctx)]
        return [*started, *refresh(ctx, now, edit_limit)]
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
    """Keep the agenda message current after a change: an edit while Zulip allows one
    (`edit_limit`, None for no limit), else a re-post when its pace allows (see the module),
    else it is marked stale and `tick` re-posts it at `next_repost`."""
    post = ctx.store.agenda_post(*ctx.key)
    if post is None:
        return []
    return _catch_up(ctx, post, now, edit_limit)


def repost_after(post: AgendaPost, start: dt.datetime) -> dt.datetime:
    """The earliest a changed agenda may be posted again after `post`: a tenth of the time
    the post had left before the meeting, within `REPOST_MIN` and `REPOST_MAX`."""
    posted = dt.datetime.fromisoformat(post.posted_at)
    wait = min(max((start - posted) / REPOST_SHARE, REPOST_MIN), REPOST_MAX)
    return posted + wait


def _catch_up(
    ctx: Context, post: AgendaPost, now: dt.datetime, edit_limit: dt.timedelta | None
) -> list[Effect]:
    store, meeting = ctx.store, ctx.meeting
    fresh = _text(ctx)
    content = (REPLACES if post.content.startswith(REPLACES) else "") + fresh  # as it reads
    if content == post.content:
        if post.stale:
            store.save_agenda_post(replace(post, stale=False))
        return []
    age = now - dt.datetime.fromisoformat(post.posted_at)
    if edit_limit is None or age < edit_limit:
        if post.message_id is None:  # posted, its id not heard yet: `tick` edits it then
            store.save_agenda_post(replace(post, stale=True))
            return []
        if post.stale:
            log.info("%s %s: the agenda message can be edited again: edited", meeting.key, ctx.day)
        store.save_agenda_post(replace(post, content=content, stale=False))
        return [Edit(post.message_id, content)]
    said = f"{meeting.key} {ctx.day}: the agenda changed past Zulip's edit limit for its message"
    if store.status(*ctx.key)[0] != "planned":
        if not post.stale:  # the start message listed the order; `agenda` shows it on demand
            log.info("%s; the meeting has begun, so it is not posted again", said)
            store.save_agenda_post(replace(post, stale=True))
        return []
    due = repost_after(post, ctx.start)
    if now < due:
        if not post.stale:
            log.warning("%s; it will be posted afresh at %s", said, due.isoformat(" ", "minutes"))
            store.save_agenda_post(replace(post, stale=True))
        return []
    if not post.stale:
        log.warning("%s; posted afresh", said)
    else:
        log.info("%s %s: the agenda posted afresh, as planned", meeting.key, ctx.day)
    day = ctx.day.isoformat()
    content = REPLACES + fresh
    store.save_agenda_post(AgendaPost(meeting.key, day, None, now.isoformat(), content, False))
    topic = meeting.topic_for(ctx.day)
    ref = f"agenda:{meeting.key}:{day}"
    return [Send(content, stream=meeting.stream, topic=topic, ref=ref)]


def edit_refused(store: Store, message_id: int) -> bool:
    """Zulip would not take an edit of an agenda message (its edit limit came first): the
    message is stale, and `tick` posts the agenda afresh in its time. Whether it was one."""
    post = store.agenda_post_by_message(message_id)
    if post is None:
        return False
    log.warning(
        "%s %s: Zulip refused an edit of the agenda message %s (past its edit limit); the "
        "agenda will be posted afresh",
        post.meeting,
        post.day,
        message_id,
    )
    # never edited again; what it shows is not what we meant: never "unchanged"
    store.save_agenda_post(replace(post, message_id=None, content="", stale=True))
    return True


def next_repost(shared: Shared) -> dt.datetime | None:
    """When `tick` next has a stale agenda to post afresh, for the runner to wake then."""
    due = [
        repost_after(post, start_of(meeting, dt.date.fromisoformat(post.day)))
        for post, meeting in _stale(shared)
        if shared.store.status(meeting.key, post.day)[0] == "planned"
    ]
    return min(due, default=None)


def _stale(shared: Shared) -> list[tuple[AgendaPost, MeetingConfig]]:
    found = []
    for post in shared.store.stale_agenda_posts():
        meeting = shared.config.meeting(post.meeting)
        if meeting is None:
            shared.store.save_agenda_post(replace(post, stale=False))
        else:
            found.append((post, meeting))
    return found


def _catch_up_stale(
    shared: Shared, now: dt.datetime, edit_limit: dt.timedelta | None
) -> list[Effect]:
    """Stale agendas before their meeting: edited if Zulip allows it again (a raised limit,
    a re-post confirmed since), else posted afresh when due. Once a meeting is over, its
    agenda is no longer followed."""
    effects: list[Effect] = []
    for post, meeting in _stale(shared):
        status = shared.store.status(meeting.key, post.day)[0]
        if status == "running":
            continue
        if status != "planned":
            shared.store.save_agenda_post(replace(post, stale=False))
            continue
        day = dt.date.fromisoformat(post.day)
        try:
            ctx = draft_context(
                shared, meeting, start_of(meeting, day), shared.bot, shared.bot_person
            )
        except Refused:
            continue  # reported to whoever sends a command; tried again on the next tick
        effects += _catch_up(ctx, post, now, edit_limit)
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
    organizers, and the next phase pushes what is left. Organizers are members, not the
    server's operator: they get the problem without the server's paths, the log keeps them."""
    result = publish.publish(meeting, phase, path)
    if result is None or result.ok:
        return []
    log.error("%s", result.problem)
    told = without_paths(result.problem)
    return [Send(told, to=email) for email in meeting.organizers]
