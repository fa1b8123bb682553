"""Meeting occurrences and the jobs due on them: the rule in the meeting's zone, time passed in."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zulip_bot.cli import main
from zulip_bot.config import MeetingConfig, Move, default_config_path, load_config
from zulip_bot.schedule import (
    Job,
    JobKey,
    JobKind,
    StoredKeys,
    current_occurrence,
    due_jobs,
    jobs_for,
    next_due,
    next_occurrence,
    occurrence_on,
    occurrences,
)

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def community() -> MeetingConfig:
    meeting = load_config(default_config_path()).meeting("community")
    assert meeting is not None
    return meeting


@pytest.fixture(scope="module")
def berlin(community: MeetingConfig) -> MeetingConfig:
    """Weekly on Wednesdays at 17:00 Berlin time, from before the end of summer time 2024."""
    return replace(
        community, schedule="FREQ=WEEKLY;BYDAY=WE", first=dt.date(2024, 10, 16), timezone=BERLIN
    )


def test_every_other_wednesday_from_the_first(community: MeetingConfig) -> None:
    found = occurrences(community, dt.datetime(2024, 11, 1, tzinfo=UTC), count=4)
    assert found == [
        dt.datetime(2024, 11, 6, 17, 0, tzinfo=UTC),
        dt.datetime(2024, 11, 20, 17, 0, tzinfo=UTC),
        dt.datetime(2024, 12, 4, 17, 0, tzinfo=UTC),
        dt.datetime(2024, 12, 18, 17, 0, tzinfo=UTC),
    ]
    assert all(start.tzinfo == ZoneInfo("UTC") for start in found)


def test_strictly_after(community: MeetingConfig) -> None:
    start = dt.datetime(2024, 11, 6, 17, 0, tzinfo=UTC)
    assert next_occurrence(community, start) == dt.datetime(2024, 11, 20, 17, 0, tzinfo=UTC)
    just_before = start - dt.timedelta(microseconds=1)
    assert next_occurrence(community, just_before) == start


def test_after_compares_instants_whatever_its_zone(community: MeetingConfig) -> None:
    # 08:59 in Los Angeles is 16:59 UTC: the 17:00 UTC meeting is still ahead.
    morning = dt.datetime(2024, 11, 6, 8, 59, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert next_occurrence(community, morning) == dt.datetime(2024, 11, 6, 17, 0, tzinfo=UTC)
    # 18:01 in Berlin is 17:01 UTC: it has started.
    evening = dt.datetime(2024, 11, 6, 18, 1, tzinfo=BERLIN)
    assert next_occurrence(community, evening) == dt.datetime(2024, 11, 20, 17, 0, tzinfo=UTC)


def test_local_time_holds_across_the_end_of_summer_time(berlin: MeetingConfig) -> None:
    found = occurrences(berlin, dt.datetime(2024, 10, 20, tzinfo=UTC), count=2)
    assert [(s.date(), s.time(), s.tzinfo) for s in found] == [
        (dt.date(2024, 10, 23), dt.time(17, 0), BERLIN),
        (dt.date(2024, 10, 30), dt.time(17, 0), BERLIN),
    ]
    assert [s.utcoffset() for s in found] == [dt.timedelta(hours=2), dt.timedelta(hours=1)]
    assert [s.astimezone(UTC).hour for s in found] == [15, 16]


def test_local_time_holds_across_the_start_of_summer_time(berlin: MeetingConfig) -> None:
    found = occurrences(berlin, dt.datetime(2025, 3, 20, tzinfo=UTC), count=2)
    assert [s.astimezone(UTC) for s in found] == [
        dt.datetime(2025, 3, 26, 16, 0, tzinfo=UTC),
        dt.datetime(2025, 4, 2, 15, 0, tzinfo=UTC),
    ]
    assert {s.time() for s in found} == {dt.time(17, 0)}


def test_example_packaging_meeting_keeps_berlin_time() -> None:
    packaging = load_config(default_config_path()).meeting("packaging")
    assert packaging is not None
    found = occurrences(packaging, dt.datetime(2025, 3, 24, tzinfo=UTC), count=2)
    assert [s.isoformat() for s in found] == [
        "2025-03-25T16:00:00+01:00",
        "2025-04-01T16:00:00+02:00",
    ]


def test_no_occurrence_before_the_first(community: MeetingConfig) -> None:
    found = next_occurrence(community, dt.datetime(2020, 1, 1, tzinfo=UTC))
    assert found == dt.datetime(2024, 11, 6, 17, 0, tzinfo=UTC)


def test_a_finished_series_has_no_next(community: MeetingConfig) -> None:
    short = replace(community, schedule="FREQ=WEEKLY;INTERVAL=2;BYDAY=WE;COUNT=2")
    after_last = dt.datetime(2024, 11, 20, 17, 0, tzinfo=UTC)
    assert next_occurrence(short, after_last) is None
    assert occurrences(short, dt.datetime(2024, 11, 1, tzinfo=UTC), count=5) == [
        dt.datetime(2024, 11, 6, 17, 0, tzinfo=UTC),
        dt.datetime(2024, 11, 20, 17, 0, tzinfo=UTC),
    ]


def test_count_zero_and_negative(community: MeetingConfig) -> None:
    assert occurrences(community, dt.datetime(2024, 11, 1, tzinfo=UTC), count=0) == []
    with pytest.raises(ValueError, match="count"):
        occurrences(community, dt.datetime(2024, 11, 1, tzinfo=UTC), count=-1)


def test_occurrence_on_a_meeting_day(community: MeetingConfig) -> None:
    assert occurrence_on(community, dt.date(2024, 11, 20)) == dt.datetime(
        2024, 11, 20, 17, 0, tzinfo=UTC
    )
    assert occurrence_on(community, dt.date(2024, 11, 13)) is None  # the off-week Wednesday
    assert occurrence_on(community, dt.date(2024, 11, 19)) is None
    assert occurrence_on(community, dt.date(2024, 10, 23)) is None  # before the first


def test_occurrence_on_uses_the_local_date(berlin: MeetingConfig) -> None:
    # 00:30 on a Wednesday in Berlin is still Tuesday in UTC.
    early = replace(berlin, start=dt.time(0, 30))
    found = occurrence_on(early, dt.date(2024, 11, 6))
    assert found == dt.datetime(2024, 11, 5, 23, 30, tzinfo=UTC)
    assert occurrence_on(early, dt.date(2024, 11, 5)) is None


def test_current_occurrence_covers_the_meeting_until_it_ends(community: MeetingConfig) -> None:
    start = dt.datetime(2024, 11, 6, 17, 0, tzinfo=UTC)
    during = dt.datetime(2024, 11, 6, 17, 59, tzinfo=UTC)
    after = dt.datetime(2024, 11, 6, 18, 0, tzinfo=UTC)
    assert current_occurrence(community, during) == start
    assert current_occurrence(community, after) == dt.datetime(2024, 11, 20, 17, 0, tzinfo=UTC)
    assert current_occurrence(community, dt.datetime(2024, 11, 1, tzinfo=UTC)) == start


@pytest.mark.parametrize("call", [occurrences, next_occurrence, current_occurrence])
def test_naive_time_is_refused(community: MeetingConfig, call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match="no time zone"):
        call(community, dt.datetime(2024, 11, 1, 12, 0))


# --- skips and moves --------------------------------------------------------------------------


def test_skips_and_moves_are_honoured_everywhere(community: MeetingConfig) -> None:
    moved_to = dt.datetime(2024, 12, 3, 9, 30, tzinfo=ZoneInfo("UTC"))
    changed = replace(
        community, skip=(dt.date(2024, 11, 20),), moved=(Move(dt.date(2024, 12, 4), moved_to),)
    )
    start = dt.datetime(2024, 11, 6, 17, 0, tzinfo=UTC)
    assert next_occurrence(changed, start) == moved_to
    assert occurrences(changed, start, count=2) == [
        moved_to,
        dt.datetime(2024, 12, 18, 17, 0, tzinfo=UTC),
    ]
    assert occurrence_on(changed, dt.date(2024, 11, 20)) is None
    assert occurrence_on(changed, dt.date(2024, 12, 4)) is None
    assert occurrence_on(changed, dt.date(2024, 12, 3)) == moved_to
    # The unchanged meeting's cached timeline is not the changed one's.
    assert next_occurrence(community, start) == dt.datetime(2024, 11, 20, 17, 0, tzinfo=UTC)


# --- DST --------------------------------------------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")
MADRID = ZoneInfo("Europe/Madrid")


def weekly(
    tmp_path: Path, zone: str, day: str, first: str, start: str, extra: str = ""
) -> MeetingConfig:
    """A meeting loaded through the config, so that what the schedule gets passed its checks."""
    (tmp_path / "template.md").write_text("# {{ date }}\n", encoding="utf-8")
    path = tmp_path / "meetbot.toml"
    path.write_text(
        f"""[meetings.sync]
title = "Sync"
stream = "sync"
topic = "%Y-%m-%d sync"
notes_path = "notes/%Y-%m-%d.md"
template = "template.md"
schedule = "FREQ=WEEKLY;BYDAY={day}"
first = {first}
start = "{start}"
timezone = "{zone}"
{extra}""",
        encoding="utf-8",
    )
    return load_config(path).meetings[0]


def utc_hours(starts: list[dt.datetime]) -> list[str]:
    return [s.astimezone(UTC).strftime("%Y-%m-%d %H:%M") for s in starts]


@pytest.mark.parametrize(
    ("zone", "day", "first", "after", "local", "in_utc"),
    [
        # New York springs forward on 2026-03-08 and falls back on 2026-11-01.
        ("America/New_York", "MO", "2026-01-05", "2026-03-01", "09:00",
         ["2026-03-02 14:00", "2026-03-09 13:00", "2026-03-16 13:00"]),
        ("America/New_York", "MO", "2026-01-05", "2026-10-25", "09:00",
         ["2026-10-26 13:00", "2026-11-02 14:00", "2026-11-09 14:00"]),
        # Madrid on 2026-03-29 and 2026-10-25, weeks after New York in spring, one before in fall.
        ("Europe/Madrid", "TH", "2026-01-01", "2026-03-20", "17:00",
         ["2026-03-26 16:00", "2026-04-02 15:00", "2026-04-09 15:00"]),
        ("Europe/Madrid", "TH", "2026-01-01", "2026-10-16", "17:00",
         ["2026-10-22 15:00", "2026-10-29 16:00", "2026-11-05 16:00"]),
    ],
)  # fmt: skip
def test_wall_clock_kept_across_both_transitions(
    tmp_path: Path, zone: str, day: str, first: str, after: str, local: str, in_utc: list[str]
) -> None:
    meeting = weekly(tmp_path, zone, day, first, local)
    found = occurrences(meeting, dt.datetime.fromisoformat(after).replace(tzinfo=UTC), count=3)
    assert utc_hours(found) == in_utc
    assert {s.strftime("%H:%M") for s in found} == {local}
    assert all(s.tzinfo == ZoneInfo(zone) for s in found)


def test_leads_are_exact_lengths_of_time_across_a_transition(tmp_path: Path) -> None:
    meeting = weekly(tmp_path, "America/New_York", "MO", "2026-01-05", "09:00")
    start = dt.datetime(2026, 3, 9, 9, 0, tzinfo=NEW_YORK)  # the Monday after springing forward
    due = {job.key.kind: job.due for job in jobs_for(meeting, start)}
    # 48 hours before 09:00 EDT is 08:00 EST on the Saturday: the documented choice.
    assert due[JobKind.AGENDA] == dt.datetime(2026, 3, 7, 13, 0, tzinfo=UTC)
    assert due[JobKind.AGENDA].astimezone(NEW_YORK).hour == 8
    assert due[JobKind.REMIND] == dt.datetime(2026, 3, 9, 12, 45, tzinfo=UTC)
    assert due[JobKind.START] == dt.datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    assert due[JobKind.END] == dt.datetime(2026, 3, 9, 14, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "first", "start", "in_utc", "local"),
    [
        # 02:30 does not exist on 2026-03-08 in New York: read with EST, it is 03:30 EDT.
        ("America/New_York", "2026-03-08", "02:30",
         ["2026-03-08 07:30", "2026-03-15 06:30"], ["03:30-04:00", "02:30-04:00"]),
        # 01:30 happens twice on 2026-11-01: the first, in EDT, is the meeting.
        ("America/New_York", "2026-11-01", "01:30",
         ["2026-11-01 05:30", "2026-11-08 06:30"], ["01:30-04:00", "01:30-05:00"]),
        ("Europe/Madrid", "2026-03-29", "02:30",
         ["2026-03-29 01:30", "2026-04-05 00:30"], ["03:30+02:00", "02:30+02:00"]),
        ("Europe/Madrid", "2026-10-25", "02:30",
         ["2026-10-25 00:30", "2026-11-01 01:30"], ["02:30+02:00", "02:30+01:00"]),
    ],
)  # fmt: skip
def test_first_in_a_skipped_or_repeated_hour(
    tmp_path: Path, zone: str, first: str, start: str, in_utc: list[str], local: list[str]
) -> None:
    meeting = weekly(tmp_path, zone, "SU", first, start)
    found = occurrences(meeting, dt.datetime.fromisoformat(first).replace(tzinfo=UTC), count=2)
    assert utc_hours(found) == in_utc
    assert [s.strftime("%H:%M%z")[:5] + s.isoformat()[-6:] for s in found] == local
    assert occurrence_on(meeting, dt.date.fromisoformat(first)) == found[0]
    # The job key keeps the configured wall-clock time, so it reads the same in every zone file.
    keys = {job.key for job in jobs_for(meeting, found[0])}
    assert {key.occurrence.strftime("%H:%M") for key in keys} == {start}


# --- jobs -------------------------------------------------------------------------------------

CYCLE = """\
[meetings.community]
title = "Conda Community Meeting"
stream = "community"
topic = "%Y-%m-%d community"
notes_path = "notes/community/%Y%m%d.md"
template = "template.md"
schedule = "FREQ=WEEKLY;BYDAY=WE"
first = 2026-01-07
start = "17:00"
timezone = "UTC"
agenda_lead = "2 days"
reminder_lead = "15 minutes"
summary_delay = "15 minutes"
remind_owners = true
skip = [2026-03-18]

[meetings.release]
title = "Release sync"
stream = "community"
topic = "%Y-%m-%d release sync"
notes_path = "notes/release/%Y%m%d.md"
template = "template.md"
schedule = "FREQ=WEEKLY;BYDAY=WE"
first = 2026-01-07
start = "18:00"
timezone = "Europe/Madrid"
duration_minutes = 30
agenda_lead = "1 day"
reminder_lead = "10 minutes"
summary_delay = "0 minutes"

[[meetings.release.moved]]
from = 2026-03-25
to = 2026-03-26T12:00:00

[meetings.packaging]
title = "Packaging Sync"
stream = "packaging"
topic = "%Y-%m-%d packaging sync"
notes_path = "notes/packaging/%Y%m%d.md"
template = "template.md"
schedule = "FREQ=WEEKLY;BYDAY=TU"
first = 2026-01-06
start = "16:00"
timezone = "America/New_York"
duration_minutes = 30
"""


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> tuple[MeetingConfig, ...]:
    folder = tmp_path_factory.mktemp("cycle")
    (folder / "template.md").write_text("# {{ date }}\n", encoding="utf-8")
    (folder / "meetbot.toml").write_text(CYCLE, encoding="utf-8")
    return load_config(folder / "meetbot.toml").meetings


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def keys(jobs: list[Job]) -> list[str]:
    return [str(job.key) for job in jobs]


def test_each_job_is_due_exactly_once_as_time_goes_by(cycle: tuple[MeetingConfig, ...]) -> None:
    step = dt.timedelta(minutes=10)
    now, end = at("2026-02-28T00:00"), at("2026-04-20T00:00")
    done: set[JobKey] = set()
    seen: dict[JobKey, tuple[dt.datetime, Job]] = {}
    while now < end:
        for job in due_jobs(cycle, now, done):
            assert job.key not in seen, f"{job.key} due again at {now}"
            assert job.due <= now < job.until
            seen[job.key] = (now, job)
            done.add(job.key)
        now += step
    # Every job of every occurrence well inside the span, each on time (within one tick).
    for meeting in cycle:
        starts = meeting.recurrence().between(at("2026-03-04T00:00"), at("2026-04-08T00:00"))
        kinds = set(JobKind) if meeting.remind_owners else set(JobKind) - {JobKind.OWNERS}
        for start in starts:
            for kind in kinds:
                key = JobKey(meeting.key, start.replace(tzinfo=None), kind)
                ran, job = seen[key]
                assert job.meeting is meeting and job.start == start
                assert dt.timedelta(0) <= ran - job.due < step
    on_day = {(key.meeting, key.day) for key in seen}
    assert ("community", dt.date(2026, 3, 18)) not in on_day  # skipped
    assert ("community", dt.date(2026, 3, 25)) in on_day
    assert ("release", dt.date(2026, 3, 25)) not in on_day  # moved to the Thursday
    ran, job = seen[JobKey("release", dt.datetime(2026, 3, 26, 12, 0), JobKind.START)]
    assert ran == at("2026-03-26T11:00")  # 12:00 in Madrid, still winter time
    # After Madrid's change on 2026-03-29, 18:00 there is 16:00 UTC, and New York's 16:00 is
    # 20:00 UTC from 2026-03-08 on.
    assert seen[JobKey("release", dt.datetime(2026, 4, 1, 18, 0), JobKind.START)][0] == at(
        "2026-04-01T16:00"
    )
    assert seen[JobKey("packaging", dt.datetime(2026, 3, 10, 16, 0), JobKind.START)][0] == at(
        "2026-03-10T20:00"
    )
    assert seen[JobKey("packaging", dt.datetime(2026, 3, 3, 16, 0), JobKind.START)][0] == at(
        "2026-03-03T21:00"
    )


def test_two_meetings_in_one_stream_in_due_order(cycle: tuple[MeetingConfig, ...]) -> None:
    # Wednesday 2026-03-04: community at 17:00 UTC, release at 18:00 Madrid = 17:00 UTC.
    stream = cycle[:2]
    done = {job.key for job in due_jobs(stream, at("2026-03-02T00:00"), set())}
    assert keys(due_jobs(stream, at("2026-03-04T16:50"), done)) == [
        "community/2026-03-04T17:00:00/agenda",
        "community/2026-03-04T17:00:00/owners",
        "release/2026-03-04T18:00:00/agenda",
        "community/2026-03-04T17:00:00/remind",
        "release/2026-03-04T18:00:00/remind",
    ]
    assert keys(due_jobs(stream, at("2026-03-04T17:40"), done)) == [
        "community/2026-03-04T17:00:00/agenda",
        "community/2026-03-04T17:00:00/start",
        "release/2026-03-04T18:00:00/end",  # 30 minutes, no delay
    ]


def test_owners_are_reminded_after_the_previous_summary(tmp_path: Path) -> None:
    # Daily meetings with a 2-day agenda lead: the DM waits for yesterday's summary.
    extra = 'remind_owners = true\nagenda_lead = "2 days"\nsummary_delay = "30 minutes"'
    meeting = replace(weekly(tmp_path, "UTC", "MO", "2026-03-02", "09:00", extra),
                      schedule="FREQ=DAILY")  # fmt: skip
    jobs = {job.key.kind: job for job in jobs_for(meeting, at("2026-03-04T09:00"))}
    assert jobs[JobKind.OWNERS].due == at("2026-03-03T10:30")
    assert jobs[JobKind.OWNERS].until == at("2026-03-04T09:00")
    assert jobs[JobKind.AGENDA].due == at("2026-03-02T09:00")
    first = {job.key.kind: job for job in jobs_for(meeting, at("2026-03-02T09:00"))}
    assert first[JobKind.OWNERS].due == at("2026-02-28T09:00")


@pytest.fixture(scope="module")
def community_only(cycle: tuple[MeetingConfig, ...]) -> tuple[MeetingConfig, ...]:
    return cycle[:1]


@pytest.mark.parametrize(
    ("back", "late"),
    [
        # Down from Sunday until 20 minutes into Wednesday's meeting: the agenda is still worth
        # opening and the meeting starting; the reminder and the owners' DMs are not.
        ("2026-03-04T17:20", ["agenda", "start"]),
        # Back after the meeting: only the summary.
        ("2026-03-04T18:20", ["end"]),
        ("2026-03-11T16:00", ["end", "agenda", "owners"]),  # and the next one's agenda
        # Past the next start the old summary is dropped: the new meeting has begun.
        ("2026-03-11T17:05", ["agenda", "start"]),
    ],
)
def test_missed_jobs_after_downtime(
    community_only: tuple[MeetingConfig, ...], back: str, late: list[str]
) -> None:
    done = {job.key for job in due_jobs(community_only, at("2026-03-01T00:00"), set())}
    found = due_jobs(community_only, at(back), done)
    assert [job.key.kind for job in found] == late
    assert all(job.due < at(back) for job in found)


def test_a_summary_is_not_posted_weeks_late(cycle: tuple[MeetingConfig, ...]) -> None:
    # The 2026-03-18 community meeting is skipped, so 2026-03-11's summary waits 7 days at most.
    community = cycle[0]
    later = due_jobs([community], at("2026-03-18T18:14"), set())
    assert "community/2026-03-11T17:00:00/end" in keys(later)
    assert "community/2026-03-11T17:00:00/end" not in keys(
        due_jobs([community], at("2026-03-18T18:15"), set())
    )


def test_done_jobs_stay_done(cycle: tuple[MeetingConfig, ...]) -> None:
    now = at("2026-03-04T17:40")
    first = due_jobs(cycle, now, set())
    done = {first[0].key}
    assert keys(due_jobs(cycle, now, done)) == keys(first)[1:]
    assert due_jobs(cycle, now, {job.key for job in first}) == []


def test_a_finished_series_has_no_jobs(community: MeetingConfig) -> None:
    short = replace(community, schedule="FREQ=WEEKLY;INTERVAL=2;BYDAY=WE;COUNT=2")
    assert due_jobs([short], dt.datetime(2030, 1, 1, tzinfo=UTC), set()) == []
    assert keys(due_jobs([short], dt.datetime(2024, 11, 20, 18, 30, tzinfo=UTC), set())) == [
        "community/2024-11-20T17:00:00/end"
    ]


def test_jobs_for_needs_a_start(cycle: tuple[MeetingConfig, ...]) -> None:
    with pytest.raises(ValueError, match=r"is not a start of meetings\.community"):
        jobs_for(cycle[0], at("2026-03-04T17:01"))
    with pytest.raises(ValueError, match="no time zone"):
        due_jobs(cycle, dt.datetime(2026, 3, 4), set())


@pytest.mark.parametrize(
    "key",
    [
        JobKey("community", dt.datetime(2026, 3, 4, 17, 0), JobKind.AGENDA),
        JobKey("release-2", dt.datetime(2026, 12, 31, 23, 59, 30), JobKind.END),
    ],
)
def test_job_keys_round_trip_through_text(key: JobKey) -> None:
    assert JobKey.parse(str(key)) == key
    assert str(JobKey.parse(str(key))) == str(key)


@pytest.mark.parametrize(
    "text",
    ["community/2026-03-04T17:00:00", "community/2026-03-04T17:00:00/lunch",
     "community/tomorrow/agenda", "a/b/2026-03-04T17:00:00/end",
     "community/2026-03-04T17:00:00+00:00/end"],
)  # fmt: skip
def test_bad_job_keys_are_refused_clearly(text: str) -> None:
    with pytest.raises(ValueError, match="is not a job key like 'community/2024-11-06T17:00:00"):
        JobKey.parse(text)


# --- meetbot check-config ---------------------------------------------------------------------


def test_check_config_lists_occurrences_in_both_zones_and_due_jobs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check-config", str(default_config_path()), "--now", "2026-12-14T16:00Z"]) == 0
    out = capsys.readouterr().out
    packaging = out[out.index("- packaging:") : out.index("Jobs due")].splitlines()
    # The next three held, the moved occurrence on Monday the 21st, the 29th shown skipped.
    line = "    {0} 15:00 UTC = {0} 16:00 Europe/Berlin  > {1} packaging sync"
    assert packaging[2:-1] == [
        line.format("Tue 2026-12-15", "2026-12-15"),
        line.format("Mon 2026-12-21", "2026-12-21")
        + "  (moved from Tue 2026-12-22 16:00 Europe/Berlin by the config)",
        line.format("Tue 2026-12-29", "2026-12-29") + "  (skipped by the config)",
        line.format("Tue 2027-01-05", "2027-01-05"),
    ]
    community = out[out.index("- community:") : out.index("- packaging:")].splitlines()
    assert community[2].startswith("    Wed 2026-12-16 17:00 UTC = Wed 2026-12-16 17:00 UTC  > ")
    assert community[3].endswith("2026-12-30 Conda Community Meeting  (skipped by the config)")
    assert community[4].startswith("    Wed 2027-01-13 17:00 UTC")
    berlin = "= Tue 2026-12-08 16:35 Europe/Berlin"
    assert out[out.index("Jobs due") :].splitlines() == [
        "Jobs due at 2026-12-14T16:00:00+00:00 unless the runner has done them:",
        f"    packaging/2026-12-08T16:00:00/end  due Tue 2026-12-08 15:35 UTC {berlin}",
        "    packaging/2026-12-15T16:00:00/agenda  due Mon 2026-12-14 15:00 UTC"
        " = Mon 2026-12-14 16:00 Europe/Berlin",
    ]
    assert main(["check-config", str(default_config_path()), "--now", "2024-01-01T00:00Z"]) == 0
    assert "unless the runner has done them: none" in capsys.readouterr().out


# --- property: whatever the rule, zone and leads, each job is done once and none is missed ----


#: A meeting's zone, rule, start, leads (agenda, reminder, summary delay) and duration.
Shape = tuple[str, str, dt.time, tuple[int, int, int], int]
SHAPES = st.tuples(
    st.sampled_from(["UTC", "America/New_York", "Europe/Madrid", "Australia/Lord_Howe"]),
    st.sampled_from(["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=SU", "FREQ=WEEKLY;BYDAY=MO,TH",
                     "FREQ=MONTHLY;BYDAY=-1SU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA"]),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.tuples(st.integers(0, 3 * 24 * 60), st.integers(0, 120), st.integers(0, 90)),
    st.integers(15, 120),
)  # fmt: skip
#: Around Madrid's and Lord Howe's DST changes.
BEGIN, END = at("2026-03-27T00:00"), at("2026-04-07T00:00")


def _varied(community: MeetingConfig, shape: Shape) -> MeetingConfig:
    zone, rule, start, leads, duration = shape
    agenda, reminder, delay = (dt.timedelta(minutes=m) for m in leads)
    return replace(
        community, schedule=rule, first=dt.date(2026, 3, 1), start=start,
        timezone=ZoneInfo(zone), agenda_lead=agenda, reminder_lead=reminder,
        summary_delay=delay, duration_minutes=duration, remind_owners=True, skip=(), moved=(),
    )  # fmt: skip


@settings(max_examples=15, deadline=None)
@given(shape=SHAPES, step=st.integers(15, 120))
def test_every_job_once_whatever_the_schedule(
    community: MeetingConfig, shape: Shape, step: int
) -> None:
    meeting = _varied(community, shape)
    tick = dt.timedelta(minutes=step)
    now, done, seen = BEGIN, set[JobKey](), dict[JobKey, dt.datetime]()
    while now < END:
        for job in due_jobs([meeting], now, done):
            assert job.key not in done and job.due <= now < job.until
            seen[job.key] = now
            done.add(job.key)
        now += tick
    # Every job whose span lies inside the walk and is longer than a tick was seen.
    for first_start in meeting.recurrence().between(BEGIN, END):
        for job in jobs_for(meeting, first_start):
            if job.due >= BEGIN and job.until <= END and job.until - job.due > tick:
                assert job.key in seen, job.key
                assert seen[job.key] - job.due < tick


@settings(max_examples=15, deadline=None)
@given(shape=SHAPES)
def test_waking_only_when_the_next_job_falls_due_does_each_at_its_moment(
    community: MeetingConfig, shape: Shape
) -> None:
    """The runner waits for events no longer than `next_due`: a walk that wakes only then
    meets every job exactly when it falls due, none passed over, none early."""
    meeting = _varied(community, shape)
    done = {job.key for job in due_jobs([meeting], BEGIN, set())}
    seen: dict[JobKey, dt.datetime] = {}
    now = BEGIN
    while (wake := next_due([meeting], now, done)) is not None and wake < END:
        assert wake > now
        jobs = due_jobs([meeting], wake, done)
        assert jobs and all(job.due == wake for job in jobs), (wake, jobs)
        seen |= {job.key: wake for job in jobs}
        done |= {job.key for job in jobs}
        now = wake
    for first_start in meeting.recurrence().between(BEGIN - dt.timedelta(days=4), END):
        for job in jobs_for(meeting, first_start):
            if BEGIN < job.due < END and job.until > job.due:
                assert seen.get(job.key) == job.due, job.key


def test_the_next_job_due_skips_what_is_done_and_what_failed(community: MeetingConfig) -> None:
    before = at("2024-11-06T16:40")
    assert next_due([community], before, set()) == at("2024-11-06T16:45")  # the reminder
    remind = JobKey("community", dt.datetime(2024, 11, 6, 17, 0), JobKind.REMIND)
    assert next_due([community], before, {remind}) == at("2024-11-06T17:00")
    # due now but not done (it failed): the next regular tick retries it, not a tight loop
    assert next_due([community], at("2024-11-06T16:45"), set()) == at("2024-11-06T17:00")
    stored = StoredKeys({str(remind), f"{remind}!reported"})
    assert remind in stored and JobKey("community", remind.occurrence, JobKind.END) not in stored
