"""Chat's changes to the calendar on top of the config: what they do to the schedule the bot
keeps, what they refuse and why, across DST, a restart (rows read back) and an edited config."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import REPO
from zulip_bot import schedule
from zulip_bot.cli import main
from zulip_bot.config import BotConfig, load_config
from zulip_bot.meeting.store import Store
from zulip_bot.overrides import CalendarError, Calendars, Change, Kind, Occurrence, describe

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ANA = "ana@example.org"

# A second meeting in #community, in the same topics as the community meeting on Thursdays.
SHARED = """
[meetings.thursday]
title = "Thursday triage"
stream = "community"
topic = "%Y-%m-%d Conda Community Meeting"
notes_path = "notes/thursday/%Y%m%d.md"
template = "notes-template.md"
schedule = "FREQ=WEEKLY;BYDAY=TH"
first = 2026-01-01
start = "15:00"
timezone = "UTC"
"""


@pytest.fixture
def config(tmp_path: Path) -> BotConfig:
    for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
        shutil.copy(REPO / "config" / name, tmp_path / name)
    path = tmp_path / "meetbot.example.toml"
    path.write_text(path.read_text(encoding="utf-8") + SHARED, encoding="utf-8")
    return load_config(path)


def starts(calendars: Calendars, key: str, after: dt.datetime, count: int) -> list[str]:
    meeting = calendars.config.meeting(key)
    assert meeting is not None
    return [f"{s:%Y-%m-%d %H:%M}" for s in schedule.occurrences(meeting, after, count)]


def keep(calendars: Calendars, made: tuple[Change, Occurrence]) -> Calendars:
    """What the service does with a checked change: store it, and read the calendar back."""
    return calendars.with_change(made[0])


def test_skip_unskip_move_extra_change_the_schedule_the_bot_keeps(config: BotConfig) -> None:
    calendars = Calendars(config)
    assert starts(calendars, "community", NOW, 3) == [
        "2026-12-02 17:00", "2026-12-16 17:00", "2027-01-13 17:00",  # 12-30: the config skips
    ]  # fmt: skip
    change, skipped = calendars.skip("community", dt.date(2026, 12, 16), "conference", ANA, NOW)
    assert (change.kind, change.day, change.text, change.by) == (
        Kind.SKIP, dt.date(2026, 12, 16), "conference", ANA,
    )  # fmt: skip
    assert skipped.start == dt.datetime(2026, 12, 16, 17, tzinfo=UTC)
    calendars = calendars.with_change(change)
    assert starts(calendars, "community", NOW, 2) == ["2026-12-02 17:00", "2027-01-13 17:00"]
    calendars = keep(calendars, calendars.unskip("community", dt.date(2026, 12, 30), ANA, NOW))
    assert starts(calendars, "community", NOW, 2) == ["2026-12-02 17:00", "2026-12-30 17:00"]
    move = calendars.move(
        "community", dt.date(2026, 12, 2), dt.date(2026, 12, 3), dt.time(11), None, ANA, NOW
    )
    calendars = keep(calendars, move)
    assert starts(calendars, "community", NOW, 2) == ["2026-12-03 11:00", "2026-12-30 17:00"]
    extra = calendars.extra(
        "community", dt.date(2026, 12, 20), dt.time(17), None, "Vote on the CEP", ANA, NOW
    )
    calendars = keep(calendars, extra)
    assert starts(calendars, "community", NOW, 3) == [
        "2026-12-03 11:00", "2026-12-20 17:00", "2026-12-30 17:00",
    ]  # fmt: skip
    # The jobs follow: the agenda of the moved meeting is due 2 days before its new time.
    meeting = calendars.config.meeting("community")
    assert meeting is not None
    moved_start = dt.datetime(2026, 12, 3, 11, tzinfo=UTC)
    (agenda,) = [j for j in schedule.jobs_for(meeting, moved_start) if j.key.kind == "agenda"]
    assert agenda.due == moved_start - dt.timedelta(days=2)
    due = schedule.due_jobs([meeting], dt.datetime(2026, 12, 18, 17, 30, tzinfo=UTC), ())
    assert [str(j.key) for j in due] == [
        "community/2026-12-20T17:00:00/agenda", "community/2026-12-20T17:00:00/owners",
    ]  # fmt: skip


def test_what_schedule_shows_and_by_whom(config: BotConfig) -> None:
    calendars = Calendars(config)
    calendars = keep(calendars, calendars.skip("community", None, "holidays", ANA, NOW))
    calendars = keep(
        calendars,
        calendars.move(
            "community", dt.date(2026, 12, 16), None, dt.time(18, 30), "Europe/Berlin", ANA, NOW
        ),
    )
    calendars = keep(
        calendars,
        calendars.extra("community", dt.date(2026, 12, 20), dt.time(9), None, "", ANA, NOW),
    )
    shown = [
        (f"{o.start:%m-%d %H:%M}", describe(o, lambda email: email.split("@")[0], str))
        for o in calendars.of("community").upcoming(NOW, 3)
    ]
    assert shown == [
        ("12-02 17:00", "skipped by ana: holidays"),  # `skip next`
        ("12-16 17:30", "moved from 2026-12-16 17:00:00+00:00 by ana"),  # 18:30 Berlin
        ("12-20 09:00", "added by ana"),
        ("12-30 17:00", "skipped by the config"),
        ("01-13 17:00", ""),
    ]


def test_changes_survive_a_restart_through_the_store(config: BotConfig, tmp_path: Path) -> None:
    calendars = Calendars(config)
    made = [
        calendars.skip("community", dt.date(2026, 12, 16), "", ANA, NOW)[0],
        calendars.move(
            "packaging", dt.date(2026, 12, 8), None, dt.time(9), "America/New_York", ANA, NOW
        )[0],
        calendars.extra("packaging", dt.date(2026, 12, 12), dt.time(9), None, "Extra", ANA, NOW)[0],
    ]
    store = Store(tmp_path / "state.sqlite3")
    with store.transaction():
        for change in made:
            store.add_calendar_change(change.row())
    store.close()
    store = Store(tmp_path / "state.sqlite3")
    again = Calendars.from_rows(config, store.calendar_changes())
    assert again.changes == tuple(made)
    assert again.config == Calendars(config, made).config
    assert starts(again, "packaging", NOW, 4) == [
        "2026-12-01 16:00",
        "2026-12-08 15:00",  # 09:00 in New York is 15:00 in Berlin
        "2026-12-12 09:00",
        "2026-12-15 16:00",
    ]


def test_the_config_stays_the_base_when_it_is_edited(config: BotConfig, tmp_path: Path) -> None:
    """A change keeps its meaning when the config changes under it, and one that no longer
    names an occurrence (the rule moved to Thursdays) is set aside, not misapplied."""
    chat = [Calendars(config).skip("community", dt.date(2026, 12, 16), "", ANA, NOW)[0]]
    text = config.path.read_text(encoding="utf-8")
    config.path.write_text(text.replace("skip = [2026-12-30]", "skip = [2027-01-13]"), "utf-8")
    edited = Calendars(load_config(config.path), chat)
    assert starts(edited, "community", NOW, 3) == [
        "2026-12-02 17:00", "2026-12-30 17:00", "2027-01-27 17:00",
    ]  # fmt: skip
    config.path.write_text(text.replace("INTERVAL=2;BYDAY=WE", "INTERVAL=2;BYDAY=TH")
                           .replace("first = 2024-11-06", "first = 2024-11-07")
                           .replace("skip = [2026-12-30]", ""), "utf-8")  # fmt: skip
    moved = Calendars(load_config(config.path), chat)
    assert moved.of("community").stale == tuple(chat)
    assert starts(moved, "community", NOW, 1) == ["2026-12-03 17:00"]


def test_moving_back_to_its_own_time_undoes_the_move(config: BotConfig) -> None:
    calendars = Calendars(config)
    day = dt.date(2026, 12, 16)
    calendars = keep(calendars, calendars.move("community", day, None, dt.time(9), None, ANA, NOW))
    assert calendars.config.meeting("community").moved  # type: ignore[union-attr]
    back = calendars.move("community", day, None, dt.time(17), None, ANA, NOW)
    assert back[0].day == day  # named by the date it has, recorded by its ident
    calendars = keep(calendars, back)
    assert calendars.config.meeting("community").moved == ()  # type: ignore[union-attr]


def test_a_moved_meeting_is_named_by_its_new_date(config: BotConfig) -> None:
    calendars = Calendars(config)
    first = calendars.move(
        "community", dt.date(2026, 12, 16), dt.date(2026, 12, 17), None, None, ANA, NOW
    )
    calendars = keep(calendars, first)
    again = calendars.move(
        "community", dt.date(2026, 12, 17), dt.date(2026, 12, 18), dt.time(8), None, ANA, NOW
    )
    assert (again[0].day, again[1].planned) == (
        dt.date(2026, 12, 16), dt.datetime(2026, 12, 16, 17, tzinfo=UTC),
    )  # fmt: skip
    later = keep(calendars, again)
    skip, found = later.skip("community", dt.date(2026, 12, 18), "", ANA, NOW)
    assert skip.day == dt.date(2026, 12, 16)
    assert later.skip("community", dt.date(2026, 12, 16), "", ANA, NOW) == (skip, found)
    with pytest.raises(CalendarError, match="2026-12-17 is not a day the Conda Community"):
        later.skip("community", dt.date(2026, 12, 17), "", ANA, NOW)


def test_dst_a_move_keeps_the_wall_clock_time_asked_for(config: BotConfig) -> None:
    """Berlin's clocks go back on 2026-10-25: the packaging sync stays at 16:00 local either
    side, a move to 16:00 New York time lands at 21:00 Berlin, and 02:30 on the night the
    clocks go forward does not exist."""
    before = dt.datetime(2026, 10, 1, tzinfo=UTC)
    calendars = Calendars(config)
    calendars = keep(
        calendars,
        calendars.move(
            "packaging", dt.date(2026, 10, 27), None, dt.time(16), "America/New_York", ANA, before
        ),
    )
    meeting = calendars.config.meeting("packaging")
    assert meeting is not None
    found = schedule.occurrences(meeting, dt.datetime(2026, 10, 19, tzinfo=UTC), 3)
    assert [(f"{s:%m-%d %H:%M}", s.utcoffset()) for s in found] == [
        ("10-20 16:00", dt.timedelta(hours=2)),
        ("10-27 21:00", dt.timedelta(hours=1)),  # New York is still on summer time
        ("11-03 16:00", dt.timedelta(hours=1)),
    ]
    with pytest.raises(CalendarError, match="2027-03-28 02:30 does not exist in Europe/Berlin"):
        calendars.extra("packaging", dt.date(2027, 3, 28), dt.time(2, 30), None, "", ANA, before)


@pytest.mark.parametrize(
    ("attempt", "reason"),
    [
        (lambda c: c.skip("community", dt.date(2026, 12, 9), "", ANA, NOW),
         "2026-12-09 is not a day the Conda Community Meeting meets; the nearest are "
         "2026-12-02 or 2026-12-16. Send `schedule` to see the next ones."),
        (lambda c: c.skip("community", dt.date(2026, 12, 30), "", ANA, NOW),
         "The 2026-12-30 Conda Community Meeting is already skipped in the config."),
        (lambda c: c.unskip("community", dt.date(2026, 12, 16), ANA, NOW),
         "The 2026-12-16 Conda Community Meeting is not skipped."),
        (lambda c: c.skip("community", dt.date(2026, 11, 18), "", ANA, NOW),
         "The 2026-11-18 Conda Community Meeting has begun already; only meetings still to "
         "come can be changed."),
        (lambda c: c.move("community", dt.date(2026, 12, 2), dt.date(2026, 11, 30), None, None,
                          ANA, NOW),
         "2026-11-30 17:00 UTC is in the past; pick a time still to come."),
        (lambda c: c.move("community", dt.date(2026, 12, 2), dt.date(2026, 12, 16), None, None,
                          ANA, NOW),
         "2026-12-16 already has a Conda Community Meeting at 2026-12-16 17:00 UTC: each day's "
         "meeting has its own notes and topic, so pick another day."),
        (lambda c: c.move("community", dt.date(2026, 12, 2), dt.date(2026, 12, 30), None, None,
                          ANA, NOW),
         "2026-12-30 already has a Conda Community Meeting (skipped) at 2026-12-30 17:00 UTC: "
         "each day's meeting has its own notes and topic, so pick another day."),
        (lambda c: c.move("community", dt.date(2026, 12, 2), None, dt.time(17), None, ANA, NOW),
         "The 2026-12-02 meeting is already at 2026-12-02 17:00 UTC; nothing changed."),
        # Thursday triage meets in the community meeting's topics, at 15:00 for an hour.
        (lambda c: c.extra("community", dt.date(2026, 12, 10), dt.time(15, 30), None, "", ANA,
                           NOW),
         "2026-12-10 15:30 UTC would hold the Conda Community Meeting in #community > "
         "2026-12-10 Conda Community Meeting while the Thursday triage meets there; pick "
         "another time."),
        (lambda c: c.move("thursday", dt.date(2026, 12, 3), dt.date(2026, 12, 2), dt.time(16, 30),
                          None, ANA, NOW),
         "2026-12-02 16:30 UTC would hold the Thursday triage in #community > 2026-12-02 Conda "
         "Community Meeting while the Conda Community Meeting meets there; pick another time."),
    ],
)  # fmt: skip
def test_refusals_say_why(config: BotConfig, attempt: object, reason: str) -> None:
    with pytest.raises(CalendarError) as refused:
        attempt(Calendars(config))  # type: ignore[operator]
    assert str(refused.value) == reason


def test_an_extra_after_the_other_meeting_ends_is_fine(config: BotConfig) -> None:
    change, added = Calendars(config).extra(
        "community", dt.date(2026, 12, 10), dt.time(16), None, "Vote", ANA, NOW
    )
    assert (added.title, added.start) == ("Vote", dt.datetime(2026, 12, 10, 16, tzinfo=UTC))
    assert change.row().moment == "2026-12-10T16:00:00" and change.row().zone == "UTC"


def test_a_skipped_extra_is_gone_and_unskip_brings_it_back(config: BotConfig) -> None:
    calendars = Calendars(config)
    day = dt.date(2026, 12, 12)
    calendars = keep(calendars, calendars.extra("community", day, dt.time(9), None, "", ANA, NOW))
    skipped = keep(calendars, calendars.skip("community", day, "", ANA, NOW))
    assert skipped.config.meeting("community").extra == ()  # type: ignore[union-attr]
    back = keep(skipped, skipped.unskip("community", day, ANA, NOW))
    assert back.config == calendars.config
    moved = keep(back, back.move("community", day, dt.date(2026, 12, 13), None, None, ANA, NOW))
    (extra,) = moved.config.meeting("community").extra  # type: ignore[union-attr]
    assert extra.at == dt.datetime(2026, 12, 13, 17, tzinfo=UTC)


def test_check_config_shows_the_calendar_chat_changed(
    config: BotConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    calendars = Calendars(config)
    made = calendars.skip("community", dt.date(2026, 12, 16), "conference", ANA, NOW)[0]
    store = Store(config.state_path)
    with store.transaction():
        store.add_calendar_change(made.row())
        stale = Change("community", Kind.SKIP, dt.date(2026, 12, 17), by=ANA, made=NOW)
        store.add_calendar_change(stale.row())
    store.close()
    assert main(["check-config", str(config.path), "--now", "2026-12-10T00:00Z"]) == 0
    out = capsys.readouterr().out
    community = out[out.index("- community:") : out.index("- packaging:")].splitlines()
    assert community[2:] == [
        "    Wed 2026-12-16 17:00 UTC = Wed 2026-12-16 17:00 UTC  > 2026-12-16 Conda Community "
        "Meeting  (skipped by ana@example.org: conference)",
        "    Wed 2026-12-30 17:00 UTC = Wed 2026-12-30 17:00 UTC  > 2026-12-30 Conda Community "
        "Meeting  (skipped by the config)",
    ] + [
        f"    Wed {day} 17:00 UTC = Wed {day} 17:00 UTC  > {day} Conda Community Meeting"
        for day in ("2027-01-13", "2027-01-27", "2027-02-10")
    ] + ["    ignored: chat's skip of 2026-12-17 names no meeting any more"]
    assert "next 2027-01-13T17:00:00+00:00" in community[0]
