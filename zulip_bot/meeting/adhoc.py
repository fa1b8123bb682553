"""Meetings nobody configured: `start meeting <title>` in any topic holds one there.

An ad hoc meeting is a one-occurrence meeting made up from its row in the store (its topic,
title, chair and notes file), so the live commands, `end` and the summary are the same steps
as for a scheduled meeting, with the starter as its one organizer. Whether it is open is its
occurrence's status, which the store keeps across restarts. One left open past the configured
limit is ended by the schedule's tick, and its summary says so.

Its notes file is named here from chat text (stream, topic, date), which must never name a
path outside the ad hoc folder, a hidden file or an existing file or link.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from pathlib import Path
from zoneinfo import ZoneInfo

from zulip_bot.config import AdhocConfig, MeetingConfig, format_duration
from zulip_bot.meeting import commands as c
from zulip_bot.meeting import live, messages, timing
from zulip_bot.meeting.context import Context, Shared, draft_context, in_topic, reply, where_notes
from zulip_bot.meeting.effects import Effect, Incoming, Send, Sender
from zulip_bot.meeting.mentions import silenced
from zulip_bot.meeting.refusal import Refused
from zulip_bot.meeting.store import AdhocRow
from zulip_bot.notes import NotesConflict, NotesError, new_draft

#: How much of a stream or topic name goes into a file name: the name stays far below the
#: 255-byte limit of file systems, even in scripts of four bytes a character.
SLUG_LENGTH = 40
_NOT_WORD = re.compile(r"\W+")  # anything but letters, digits and `_`, in any script
#: Its one occurrence: `first` and `start` are when it was started.
_ONCE = "FREQ=DAILY;COUNT=1"
UTC = ZoneInfo("UTC")  # its date, in the notes file's name, is the UTC date it started


# --- which meeting ----------------------------------------------------------------------------


def meeting_in(shared: Shared, stream: str, topic: str) -> MeetingConfig | None:
    """The ad hoc meeting open in this topic, if any (Zulip compares names ignoring case)."""
    row = _open_in(shared, stream, topic)
    return _meeting_of(shared.config.adhoc, row) if row else None


def meeting_by_key(shared: Shared, key: str) -> MeetingConfig | None:
    """An ad hoc meeting, open or ended, by the key its items and action items are kept under."""
    row = shared.store.adhoc(key)
    return _meeting_of(shared.config.adhoc, row) if row else None


def _open_in(shared: Shared, stream: str, topic: str) -> AdhocRow | None:
    wanted = (stream.casefold(), topic.casefold())
    return next(
        (
            r
            for r in shared.store.open_adhoc()
            if (r.stream.casefold(), r.topic.casefold()) == wanted
        ),
        None,
    )


def _meeting_of(config: AdhocConfig, row: AdhocRow) -> MeetingConfig:
    began = _started(row)
    return MeetingConfig(
        key=row.key,
        title=row.title,
        stream=row.stream,
        topic=_literal(row.topic),
        notes_path=_literal(row.notes),
        template=config.template,
        organizers=(row.chair,),
        schedule=_ONCE,
        start=began.time(),
        first=began.date(),
        timezone=UTC,
        duration_minutes=int(config.limit.total_seconds() // 60),
        order_by_votes=False,  # its items are added as it runs, in the order they come up
        config_dir=config.notes_dir,
    )


def _started(row: AdhocRow) -> dt.datetime:
    return dt.datetime.fromisoformat(row.started_at).astimezone(UTC)


def _literal(text: str) -> str:
    """`topic` and `notes_path` are strftime patterns; an ad hoc meeting's are plain text."""
    return text.replace("%", "%%")


# --- starting one -----------------------------------------------------------------------------


def start(cmd: c.StartMeeting, shared: Shared, msg: Incoming, now: dt.datetime) -> list[Send]:
    """The sender chairs it; the notes draft is written at once, for the note-takers."""
    if msg.stream is None or not msg.topic:
        raise Refused(
            "`start meeting <title>` holds the meeting in the topic you send it in: send it "
            "in a stream's topic, not a direct message."
        )
    _may_start(shared, msg.sender)
    _topic_is_free(shared, msg.stream, msg.topic)
    config = shared.config.adhoc
    began = now.astimezone(UTC).replace(microsecond=0)
    try:
        config.notes_dir.mkdir(parents=True, exist_ok=True)
        name = notes_name(config.notes_dir, msg.stream, msg.topic, began.date())
    except OSError as error:
        raise Refused(f"I cannot make the notes folder {config.notes_dir}: {error}.") from None
    chair = msg.sender.email.casefold()
    row = shared.store.add_adhoc(msg.stream, msg.topic, cmd.title, chair, began.isoformat(), name)
    adhoc = _meeting_of(config, row)
    try:
        template = config.template.read_text(encoding="utf-8")
        values = {**adhoc.template_values(began.date()), "stream": msg.stream, "topic": msg.topic}
        doc = new_draft(template, began.date(), None, **values)
        path = adhoc.notes_path_for(began.date())
        person = shared.people.identify(msg.sender)
        live.begin(Context(shared, adhoc, began.date(), began, msg.sender, person, doc, path))
    except (OSError, NotesError) as error:  # NotesConflict too: a file took the name meanwhile
        raise Refused(
            f"I could not write the notes for {silenced(cmd.title)}: {error}. Nothing started."
        ) from None
    until = messages.time_tag(began + config.limit)
    return [
        reply(
            msg,
            f"**{silenced(cmd.title)}** has started here, and you chair it. `add item <text>` "
            "adds an item and `next` opens the next one; `here`, `note`, `decided`, `action` and "
            f"`poll` work as in any meeting, and `end` posts the summary. If nobody ends it by "
            f"{until}, I end it then. Notes: {where_notes(adhoc, began.date(), path)}.",
        )
    ]


def _may_start(shared: Shared, sender: Sender) -> None:
    """`[adhoc] allowed`: anyone, or the people listed by their Zulip email (where the realm
    hides emails, the runner matched them to user ids at start-up, as it does organizers)."""
    allowed = shared.config.adhoc.allowed
    if allowed is None or sender.email.casefold() in allowed:
        return
    if not allowed:
        raise Refused(
            "Ad hoc meetings are turned off in my configuration (`[adhoc] allowed = []`); "
            "the scheduled meetings work as usual."
        )
    names = [p.name for p in map(shared.config.roster.by_email, allowed) if p is not None]
    who = f" ({', '.join(names)})" if names else ""
    raise Refused(
        f"Only the people listed in my configuration under `[adhoc] allowed`{who} may start "
        "an ad hoc meeting: ask one of them to start it, or whoever runs me to add you."
    )


def _topic_is_free(shared: Shared, stream: str, topic: str) -> None:
    """Never two meetings in one topic: their items, votes and summaries would mix."""
    for scheduled in shared.config.meetings_in_stream(stream):
        if in_topic(scheduled, topic):
            raise Refused(
                f"#**{stream}>{topic}** is the topic of the scheduled {scheduled.title} "
                f"(`{scheduled.key}`), so I will not start another meeting in it: send "
                "`start meeting <title>` in a topic of its own."
            )
    running = _open_in(shared, stream, topic)
    if running is not None:
        raise Refused(
            f"**{running.title}** is already running in this topic (since "
            f"{messages.time_tag(_started(running))}): its chair ends it with `end`, or start "
            "yours in another topic."
        )


def slug(text: str, fallback: str) -> str:
    """A file-name part from chat text: letters and digits of any script, runs of anything
    else one `-`; never empty, never with a `/`, `.` or control character."""
    words = _NOT_WORD.sub("-", unicodedata.normalize("NFKC", text).casefold())
    return words.strip("-_")[:SLUG_LENGTH].strip("-_") or fallback


def notes_name(folder: Path, stream: str, topic: str, day: dt.date) -> str:
    """`2026-12-06_community_release-planning.md`, or `..._2.md` and on when that name is
    taken (by an earlier meeting in the topic that day, or by anything else, a link too)."""
    stem = f"{day.isoformat()}_{slug(stream, 'stream')}_{slug(topic, 'topic')}"
    for number in range(1, 1000):
        name = f"{stem}.md" if number == 1 else f"{stem}_{number}.md"
        if not any(os.path.lexists(folder / n) for n in (name, _transcript(name))):
            return name
    raise OSError(f"every name like {stem}.md is taken")


def _transcript(name: str) -> str:
    return name.removesuffix(".md") + ".transcript.txt"


# --- the limit --------------------------------------------------------------------------------


def tick(shared: Shared, now: dt.datetime) -> list[Effect]:
    """Ad hoc meetings open past the limit are ended and summarized, each in its own
    transaction; one that cannot be (a draft broken by hand) is reported once and tried again
    on later ticks. The others get the same ⏱️ lines on their items as scheduled meetings."""
    effects: list[Effect] = []
    limit = shared.config.adhoc.limit
    going = [row for row in shared.store.open_adhoc() if now < _started(row) + limit]
    with shared.store.transaction():
        meetings = [_meeting_of(shared.config.adhoc, row) for row in going]
        effects += timing.warnings(shared, now, meetings, open_ended=True)
    for row in shared.store.open_adhoc():
        if row in going:
            continue
        with shared.store.transaction():
            try:
                with shared.store.savepoint():
                    effects += _end(shared, row, now)
            except NotesConflict:
                continue  # saved by hand just now: the next tick ends it on their version
            except (Refused, NotesError) as error:
                effects += _failed(shared, row, str(error), now)
    return effects


def _end(shared: Shared, row: AdhocRow, now: dt.datetime) -> list[Effect]:
    if shared.store.status(row.key, _started(row).date().isoformat())[0] != "running":
        return []  # ended by hand since we looked
    meeting = _meeting_of(shared.config.adhoc, row)
    ctx = draft_context(shared, meeting, _started(row), shared.bot, shared.bot_person)
    summary = live.wrap_up(ctx, now)
    note = (
        f"_I ended this ad hoc meeting: it was still open "
        f"{format_duration(shared.config.adhoc.limit)} after it started, and nobody sent `end`._"
    )
    head, _, rest = summary[0].partition("\n")
    first = f"{head}\n{note}\n{rest}"
    texts = [first, *summary[1:]] if len(first) <= messages.MAX_MESSAGE else [note, *summary]
    return [Send(text, stream=row.stream, topic=row.topic) for text in texts]


def _failed(shared: Shared, row: AdhocRow, error: str, now: dt.datetime) -> list[Effect]:
    reported = f"{row.key}:end!reported"
    if reported in shared.store.jobs_done():
        return []
    shared.store.job_done(reported, now.isoformat())
    text = (
        f"{shared.people.mention_email(row.chair)}: **{silenced(row.title)}** is past its time "
        "limit, "
        f"but I could not end it: {error} I will try again; `end` ends it by hand."
    )
    return [Send(text, stream=row.stream, topic=row.topic)]
