"""The iCalendar feed, read back with icalendar and expanded as a calendar app would."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from dateutil.rrule import rruleset, rrulestr

from tests.conftest import REPO
from zulip_bot.cli import main
from zulip_bot.config import BotConfig, MeetingConfig, load_config
from zulip_bot.ics import calendar
from zulip_bot.meeting.store import Store
from zulip_bot.overrides import Calendars
from zulip_bot.schedule import occurrences

STAMP = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
SINCE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

EXTRA = """
[meetings.newyork]
title = "Americas sync"
stream = "americas"
topic = "%Y-%m-%d americas"
notes_path = "notes/americas/%Y%m%d.md"
template = "notes-template.md"
schedule = "FREQ=WEEKLY;BYDAY=SU;COUNT=40"
first = 2026-03-08
start = "02:30"
timezone = "America/New_York"
video_link = "https://meet.example.org/americas"
notes_url = "https://github.com/conda/notes/blob/main/{path}"
skip = [2026-03-15, 2026-11-01]

[[meetings.newyork.moved]]
from = 2026-04-05
to = 2026-04-06T18:00:00

[meetings.madrid]
title = "Madrid sync"
stream = "madrid"
topic = "%Y-%m-%d madrid"
notes_path = "notes/madrid/%Y%m%d.md"
template = "notes-template.md"
schedule = "FREQ=MONTHLY;BYDAY=-1SU;UNTIL=20281231T235959Z"
first = 2026-03-29
start = "02:30"
timezone = "Europe/Madrid"
"""


@pytest.fixture
def config(tmp_path: Path) -> BotConfig:
    for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
        shutil.copy(REPO / "config" / name, tmp_path / name)
    path = tmp_path / "meetbot.example.toml"
    path.write_text(path.read_text(encoding="utf-8") + EXTRA, encoding="utf-8")
    return load_config(path)


def expand(feed: icalendar.Calendar, uid: str, until: dt.datetime) -> list[dt.datetime]:
    """What a calendar app shows for one UID: the series' rule less EXDATE, with overrides."""
    events = [e for e in feed.walk("VEVENT") if str(e["UID"]) == uid]
    (series,) = [e for e in events if "RECURRENCE-ID" not in e]
    start = series.decoded("DTSTART")
    starts = rruleset()
    starts.rrule(rrulestr(series["RRULE"].to_ical().decode(), dtstart=start))
    exdates = series.get("EXDATE")
    for group in exdates if isinstance(exdates, list) else [exdates] if exdates else []:
        for value in group.dts:
            starts.exdate(value.dt)
    for override in events:
        if "RECURRENCE-ID" in override:
            starts.exdate(override.decoded("RECURRENCE-ID"))
            starts.rdate(override.decoded("DTSTART"))
    return [s.astimezone(dt.UTC) for s in starts.between(SINCE, until)]


def schedule_starts(meeting: MeetingConfig, until: dt.datetime) -> list[dt.datetime]:
    found = occurrences(meeting, SINCE, count=500)
    return [s.astimezone(dt.UTC) for s in found if s < until]


def test_the_feed_shows_what_the_schedule_computes(config: BotConfig) -> None:
    feed = icalendar.Calendar.from_ical(calendar(config, STAMP).to_ical())
    until = dt.datetime(2029, 1, 1, tzinfo=dt.UTC)
    masters = [e for e in feed.walk("VEVENT") if "RECURRENCE-ID" not in e]
    assert [str(e["SUMMARY"]) for e in masters] == [m.title for m in config.meetings]
    for meeting, event in zip(config.meetings, masters, strict=True):
        expected = schedule_starts(meeting, until)
        assert len(expected) > 20
        assert expand(feed, str(event["UID"]), until) == expected, meeting.key
        assert event.decoded("DURATION") == dt.timedelta(minutes=meeting.duration_minutes)
        assert event.decoded("DTSTART").tzinfo.key == meeting.timezone.key
    zones = {str(tz["TZID"]) for tz in feed.walk("VTIMEZONE")}
    assert zones >= {"Europe/Berlin", "America/New_York", "Europe/Madrid"}


def test_skips_moves_and_dst_in_the_feed(config: BotConfig) -> None:
    feed = icalendar.Calendar.from_ical(calendar(config, STAMP).to_ical())
    uid = "newyork-20260308@meetbot.meetbot"
    starts = expand(feed, uid, dt.datetime(2026, 4, 13, tzinfo=dt.UTC))
    assert [s.strftime("%m-%d %H:%M") for s in starts] == [
        "03-08 07:30",  # 02:30 does not exist that night: read with EST, as schedule.py does
        # 03-15 skipped
        "03-22 06:30",
        "03-29 06:30",
        "04-06 22:00",  # moved to Monday 18:00 EDT
        "04-12 06:30",
    ]
    (override,) = [e for e in feed.walk("VEVENT") if "RECURRENCE-ID" in e and e["UID"] == uid]
    assert "Zulip: #americas > 2026-04-06 americas" in override["DESCRIPTION"]
    assert (
        "Notes: https://github.com/conda/notes/blob/main/notes/americas/20260406.md"
        in override["DESCRIPTION"]
    )
    (series,) = [e for e in feed.walk("VEVENT") if e["UID"] == uid and "RECURRENCE-ID" not in e]
    assert "Video: https://meet.example.org/americas" in series["DESCRIPTION"]
    assert "#americas" in series["DESCRIPTION"]
    assert str(series["LOCATION"]) == "https://meet.example.org/americas"
    assert series.decoded("DTSTAMP") == STAMP


def test_uids_are_stable_and_distinct(config: BotConfig) -> None:
    first = calendar(config, STAMP).to_ical()
    again = calendar(config, STAMP + dt.timedelta(days=1))
    uids = [str(e["UID"]) for e in again.walk("VEVENT") if "RECURRENCE-ID" not in e]
    assert len(set(uids)) == len(config.meetings)
    assert all(uid.encode() in first for uid in uids)


def test_naive_stamp_is_refused(config: BotConfig) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        calendar(config, dt.datetime(2026, 12, 1))


def test_meetbot_ics_writes_the_file(
    config: BotConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "meetings.ics"
    assert main(["ics", "--config", str(config.path), str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}: 4 meetings\n"
    feed = icalendar.Calendar.from_ical(out.read_bytes())
    assert len([e for e in feed.walk("VEVENT") if "RECURRENCE-ID" not in e]) == 4
    assert [p.name for p in tmp_path.glob(".ics-*")] == []  # no temporary file left behind


def test_meetbot_ics_config_from_the_environment(
    config: BotConfig, monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.setenv("MEETBOT_CONFIG", os.fspath(config.path))
    assert main(["ics"]) == 0
    feed = icalendar.Calendar.from_ical(capfdbinary.readouterr().out)
    assert str(feed["X-WR-CALNAME"]) == "meetbot meetings"


def test_meetbot_ics_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ics", "--config", str(tmp_path / "nope.toml")]) == 1
    assert "nope.toml: the file does not exist" in capsys.readouterr().err


def test_the_written_feed_is_readable_by_others(config: BotConfig, tmp_path: Path) -> None:
    out = tmp_path / "meetings.ics"
    assert main(["ics", "--config", str(config.path), str(out)]) == 0
    assert out.stat().st_mode & 0o444 == 0o444


def test_the_feed_shows_chat_changes_from_the_store(config: BotConfig, tmp_path: Path) -> None:
    """`meetbot ics` reads the changes the bot keeps: a skip is an EXDATE, a move an override
    with RECURRENCE-ID, an extra meeting an event of its own; expanded, the feed has the
    starts the bot schedules by."""
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    calendars = Calendars(config)
    for change in (
        lambda c: c.skip("community", dt.date(2026, 12, 16), "conference", "a@example.org", now),
        lambda c: c.move("packaging", dt.date(2026, 12, 8), dt.date(2026, 12, 9), dt.time(9),
                         "UTC", "a@example.org", now),
        lambda c: c.extra("community", dt.date(2026, 12, 20), dt.time(17), None, "CEP vote",
                          "a@example.org", now),
    ):  # fmt: skip
        calendars = calendars.with_change(change(calendars)[0])
    store = Store(config.state_path)
    with store.transaction():
        for made in calendars.changes:
            store.add_calendar_change(made.row())
    store.close()
    out = tmp_path / "meetings.ics"
    assert main(["ics", "--config", str(config.path), str(out)]) == 0
    feed = icalendar.Calendar.from_ical(out.read_bytes())
    until = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
    for meeting in calendars.config.meetings:
        uid = f"{meeting.key}-{meeting.first:%Y%m%d}@meetbot.meetbot"
        shown = expand(feed, uid, until) + [
            e.decoded("DTSTART").astimezone(dt.UTC)
            for e in feed.walk("VEVENT")
            if str(e["UID"]).startswith(f"{meeting.key}-extra-")
        ]
        assert sorted(shown) == schedule_starts(meeting, until), meeting.key
    community = expand(feed, "community-20241106@meetbot.meetbot", until)
    assert dt.datetime(2026, 12, 16, 17, tzinfo=dt.UTC) not in community
    (extra,) = [e for e in feed.walk("VEVENT") if "-extra-" in str(e["UID"])]
    assert str(extra["SUMMARY"]) == "CEP vote"
    assert "Zulip: #community > 2026-12-20 Conda Community Meeting" in extra["DESCRIPTION"]
    (moved,) = [e for e in feed.walk("VEVENT") if "RECURRENCE-ID" in e
                and str(e["UID"]).startswith("packaging-")
                and e.decoded("RECURRENCE-ID").date() == dt.date(2026, 12, 8)]  # fmt: skip
    assert moved.decoded("DTSTART") == dt.datetime(
        2026, 12, 9, 10, tzinfo=ZoneInfo("Europe/Berlin")
    )
