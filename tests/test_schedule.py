"""Meeting occurrences: the recurrence rule in the meeting's zone, with time passed in."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from zulip_bot.config import MeetingConfig, default_config_path, load_config
from zulip_bot.schedule import current_occurrence, next_occurrence, occurrence_on, occurrences

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
