"""The meetings as an iCalendar feed, so that people can subscribe to them.

One VEVENT series per meeting carries the rule as it is configured (RRULE, DTSTART in the
meeting's zone, with its VTIMEZONE), skips as EXDATE and each moved occurrence as an override
with RECURRENCE-ID; a one-off meeting added from chat is an event of its own. Calendar apps
then show the same starts `schedule.py` computes, DST included, and a later change updates the
subscribed series in place. Pass the config with chat's changes applied
(`overrides.Calendars.config`), as the bot schedules by it.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import icalendar

from zulip_bot.config import BotConfig, MeetingConfig

PRODID: Final = "-//meetbot//meeting schedule//EN"


def _uid(meeting: MeetingConfig, config: BotConfig) -> str:
    """Stable across exports, so a subscribed calendar updates the series instead of doubling it."""
    return f"{meeting.key}-{meeting.first:%Y%m%d}@{config.bot_name}.meetbot"


def _description(meeting: MeetingConfig, day: dt.date | None) -> str:
    """`day` is given for a single occurrence, whose topic and notes are known."""
    example = day or meeting.first
    topic = meeting.topic_for(example)
    where = (
        f"Zulip: #{meeting.stream} > {topic}"
        if day
        else f"Zulip: #{meeting.stream}, in the topic of the day, e.g. {topic}"
    )
    lines = [where]
    if meeting.video_link:
        lines.append(f"Video: {meeting.video_link}")
    if day and meeting.notes_url:
        lines.append(f"Notes: {meeting.notes_url_for(day)}")
    return "\n".join(lines)


def _event(
    meeting: MeetingConfig,
    uid: str,
    start: dt.datetime,
    stamp: dt.datetime,
    day: dt.date | None,
    title: str = "",
) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", title or meeting.title)
    event.add("dtstart", start)
    event.add("duration", dt.timedelta(minutes=meeting.duration_minutes))
    event.add("description", _description(meeting, day))
    if meeting.video_link:
        event.add("location", meeting.video_link)
        event.add("url", meeting.video_link)
    return event


def _local(meeting: MeetingConfig, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, meeting.start, tzinfo=meeting.timezone)


def meeting_events(
    meeting: MeetingConfig, config: BotConfig, stamp: dt.datetime
) -> list[icalendar.Event]:
    """The series, one override per moved occurrence, then one event per extra meeting."""
    uid = _uid(meeting, config)
    series = _event(meeting, uid, _local(meeting, meeting.first), stamp, None)
    series.add("rrule", icalendar.vRecur.from_ical(meeting.schedule.removeprefix("RRULE:")))
    if meeting.skip:
        series.add("exdate", [_local(meeting, day) for day in meeting.skip])
    events = [series]
    for move in meeting.moved:
        override = _event(meeting, uid, move.to, stamp, move.to.date())
        override.add("recurrence-id", _local(meeting, move.original))
        events.append(override)
    for extra in meeting.extra:
        # Named by when it was added, which stays while its time may change.
        added = extra.added or extra.at
        stamped = f"{added.astimezone(dt.UTC):%Y%m%dT%H%M%S%f}"
        extra_uid = f"{meeting.key}-extra-{stamped}@{config.bot_name}.meetbot"
        events.append(_event(meeting, extra_uid, extra.at, stamp, extra.at.date(), extra.title))
    return events


def calendar(config: BotConfig, stamp: dt.datetime) -> icalendar.Calendar:
    """`stamp` (DTSTAMP) is when the feed was made: an argument, as the clock is everywhere."""
    if stamp.tzinfo is None:
        raise ValueError(f"{stamp.isoformat()} has no time zone; pass an aware datetime")
    feed = icalendar.Calendar()
    feed.add("prodid", PRODID)
    feed.add("version", "2.0")
    feed.add("x-wr-calname", f"{config.bot_name} meetings")
    for meeting in config.meetings:
        for event in meeting_events(meeting, config, stamp.astimezone(dt.UTC)):
            feed.add_component(event)
    feed.add_missing_timezones()
    return feed
