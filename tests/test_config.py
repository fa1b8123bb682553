"""Loading config/*.toml: the bundled examples, roster lookups, and errors a person can act on."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import EXAMPLE, REPO
from zulip_bot.cli import parser as cli_parser
from zulip_bot.config import (
    ConfigError,
    Person,
    Roster,
    default_config_path,
    format_duration,
    load_config,
    load_roster,
    parse_duration,
)

BASE = """\
roster = "people.toml"

[meetings.community]
title = "Conda Community Meeting"
stream = "community"
topic = "%Y-%m-%d Conda Community Meeting"
notes_path = "notes/%Y%m%d_agenda_and_minutes.md"
template = "template.md"
organizers = ["jaimergp@example.org"]
schedule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"
first = 2024-11-06
start = "17:00"
timezone = "UTC"
"""

PEOPLE = """\
[[person]]
name = "Jaime Rodríguez-Guerra"
initials = "JRG"
email = "jaimergp@example.org"

[[person]]
name = "Dasha Gurova"
initials = "DG"
email = "dashagurova@example.org"

[groups]
steering-council = ["JRG", "DG"]
"""


def write(tmp_path: Path, config: str = BASE, people: str = PEOPLE) -> Path:
    (tmp_path / "people.toml").write_text(people, encoding="utf-8")
    (tmp_path / "template.md").write_text("# {{ date }}\n", encoding="utf-8")
    path = tmp_path / "meetbot.toml"
    path.write_text(config, encoding="utf-8")
    return path


def config_error(tmp_path: Path, old: str, new: str) -> str:
    """The message for BASE with one change; the change must apply, or the test proves nothing."""
    assert old in BASE
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, BASE.replace(old, new, 1)))
    return str(caught.value)


def roster_error(tmp_path: Path, people: str) -> str:
    path = tmp_path / "people.toml"
    path.write_text(people, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_roster(path)
    return str(caught.value)


# --- the bundled examples ---------------------------------------------------------------------


def test_default_config_is_the_bundled_example() -> None:
    assert default_config_path() == REPO / "config" / "meetbot.example.toml"


def test_example_community_meeting() -> None:
    config = load_config(default_config_path())
    community = config.meeting("community")
    assert community is not None
    assert community.title == "Conda Community Meeting"
    assert community.schedule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"
    assert (community.first, community.start) == (dt.date(2024, 11, 6), dt.time(17, 0))
    assert community.timezone == ZoneInfo("UTC")
    assert community.video_link == "https://zoom.us/j/9138593505"
    assert community.template == REPO / "config" / "notes-template.md"
    assert community.section("item") == "New Agenda Items"
    assert community.topic_for(dt.date(2024, 11, 6)) == "2024-11-06 Conda Community Meeting"
    assert community.notes_path_for(dt.date(2024, 11, 6)) == (
        REPO / "config" / "notes" / "20241106_agenda_and_minutes.md"
    )
    assert config.state_path == REPO / "config" / "meetbot.sqlite3"
    assert all("@" in email and email == email.lower() for email in community.organizers)


def test_example_has_a_second_meeting_in_another_zone() -> None:
    config = load_config(default_config_path())
    assert [m.key for m in config.meetings] == ["community", "packaging"]
    packaging = config.meeting_for_stream("Packaging")
    assert packaging is config.meeting("packaging")
    assert packaging is not None
    assert packaging.timezone == ZoneInfo("Europe/Berlin")
    assert config.meeting_for_stream("random") is None
    assert config.meeting("nope") is None


def test_example_roster() -> None:
    roster = load_config(default_config_path()).roster
    assert len(roster.people) == 12
    assert roster.by_initials("JL") == Person(
        "Jannis Leidel", "JL", "Anaconda", "jezdez", "jezdez@example.org"
    )
    council = roster.group("steering-council")
    assert council is not None
    assert council and all(roster.by_initials(i) is not None for i in council)
    assert len({p.email for p in roster.people}) == 12


def test_example_roster_matches_the_2024_11_06_attendee_table() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    rows = [
        tuple(cell.strip() for cell in line.strip("|").split("|"))
        for line in lines[lines.index("## Attendees") :]
        if line.startswith("| ") and not line.startswith("| Name") and line.strip("| ")
    ]
    rows = [row for row in rows if row[0] and not set(row[0]) <= {"-"}]
    roster = load_roster(REPO / "config" / "people.example.toml")
    assert len(rows) == 11
    assert [(p.name, p.initials, p.affiliation, p.github) for p in roster.people[:11]] == rows


# --- roster lookups ---------------------------------------------------------------------------


@pytest.fixture
def roster(tmp_path: Path) -> Roster:
    return load_config(write(tmp_path)).roster


def test_lookups_ignore_case(roster: Roster) -> None:
    jaime = roster.by_email("JaimeRGP@Example.ORG")
    assert jaime is not None and jaime.initials == "JRG"
    assert roster.by_initials("jrg") is jaime
    assert roster.by_initials("XYZ") is None
    assert roster.by_email("nobody@example.org") is None
    assert roster.by_email("") is None


def test_by_name_takes_full_names_and_unique_first_names(roster: Roster) -> None:
    assert roster.by_name("dasha gurova") == roster.by_initials("DG")
    assert roster.by_name("Jaime Rodriguez-Guerra") == roster.by_initials("JRG")
    assert roster.by_name("Dasha") == roster.by_initials("DG")
    assert roster.by_name("Gurova") is None
    crowded = roster.with_person(Person("Jaime Doe", "JD", email="jd@example.org"))
    assert crowded.by_name("Jaime") is None
    assert crowded.by_name("Jaime Doe") == Person("Jaime Doe", "JD", email="jd@example.org")


def test_groups(roster: Roster) -> None:
    assert roster.group("steering-council") == ("JRG", "DG")
    assert roster.group("Steering-Council") == ("JRG", "DG")
    assert roster.group("core") is None


def test_with_person_replaces_the_entry_with_that_email(roster: Roster) -> None:
    again = Person("Dasha G.", "DAG", "Anaconda", "dashagurova", "DashaGurova@example.org")
    updated = roster.with_person(again)
    assert [p.initials for p in updated.people] == ["JRG", "DAG"]
    assert updated.by_email("dashagurova@example.org") == Person(
        "Dasha G.", "DAG", "Anaconda", "dashagurova", "dashagurova@example.org"
    )
    assert [p.initials for p in roster.people] == ["JRG", "DG"]


def test_with_person_without_email_keeps_everyone(roster: Roster) -> None:
    updated = roster.with_person(Person("Sam Doe", "SD")).with_person(Person("Kim Roe", "KR"))
    assert [p.initials for p in updated.people] == ["JRG", "DG", "SD", "KR"]


def test_roster_is_optional_and_paths_are_relative_to_the_config(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace('roster = "people.toml"\n', ""))
    config = load_config(path)
    assert config.roster == Roster()
    assert config.path == path.resolve()
    assert config.state_path == tmp_path.resolve() / "meetbot.sqlite3"
    assert config.bot_name == "meetbot"


# --- errors in meetbot.toml: file, key and fix ------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "fix"),
    [
        pytest.param(
            'stream = "community"\n', "", "meetings.community.stream",
            'add it, e.g. stream = "community"', id="missing key",
        ),
        pytest.param(
            'stream = "community"', "stream = 42", "meetings.community.stream",
            'expected a string like "community"', id="wrong type",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nduration_minutes = true',
            "meetings.community.duration_minutes", "expected an integer like 60",
            id="boolean is not an integer",
        ),
        pytest.param(
            "first = 2024-11-06", "first = 2024-11-06T17:00:00", "meetings.community.first",
            "expected a date like 2024-11-06", id="date-time is not a date",
        ),
        pytest.param(
            'start = "17:00"', 'start = "5pm"', "meetings.community.start",
            'write it like "17:00"', id="bad time",
        ),
        pytest.param(
            "stream =", "steam =", "meetings.community.steam", 'did you mean "stream"?',
            id="unknown key with suggestion",
        ),
        pytest.param(
            "roster =", "rooster =", "rooster", 'did you mean "roster"?',
            id="unknown top-level key",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\ncolour = "blue"', "meetings.community.colour",
            'known keys are "title", "stream"', id="unknown key without a close match",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "Europe/Berln"', "meetings.community.timezone",
            'did you mean "Europe/Berlin"?', id="misspelt time zone",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "europe/berlin"', "meetings.community.timezone",
            'did you mean "Europe/Berlin"?', id="time zone in the wrong case",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "Mars/Olympus_Mons"', "meetings.community.timezone",
            'use an IANA name like "UTC"', id="unknown time zone",
        ),
        pytest.param(
            "FREQ=WEEKLY;INTERVAL=2", "FREQ=SOMETIMES;INTERVAL=2", "meetings.community.schedule",
            "write an RFC 5545 RRULE", id="bad rrule",
        ),
        pytest.param(
            "INTERVAL=2", "INTERVAL=0", "meetings.community.schedule", "use 1 or more",
            id="interval zero would never advance",
        ),
        pytest.param(
            "BYDAY=WE", "BYDAY=WE;UNTIL=20251231", "meetings.community.schedule",
            "write UNTIL in UTC", id="local UNTIL",
        ),
        pytest.param(
            "BYDAY=WE", "BYDAY=WE\\nDTSTART:20241106T170000Z", "meetings.community.schedule",
            "`first` and `start` set it", id="DTSTART in the rule",
        ),
        pytest.param(
            "first = 2024-11-06", "first = 2024-11-05", "meetings.community.first",
            "set it to the date of the first meeting", id="first is not an occurrence",
        ),
        pytest.param(
            'template = "template.md"', 'template = "missing.md"', "meetings.community.template",
            "create it or give a path relative to the config file", id="missing template",
        ),
        pytest.param(
            'topic = "%Y-%m-%d Conda Community Meeting"',
            'topic = "%Y-%m-%d Conda Community Meeting: conda, conda-forge, mamba, pixi"',
            "meetings.community.topic", "shorten it", id="topic too long",
        ),
        pytest.param(
            'notes_path = "notes/%Y%m%d_agenda_and_minutes.md"', 'notes_path = "notes/%Y%m.md"',
            "meetings.community.notes_path", 'put the date in it, e.g. "notes/%Y%m%d',
            id="two meetings would share a notes file",
        ),
        pytest.param(
            'organizers = ["jaimergp@example.org"]', 'organizers = ["jaimergp"]',
            "meetings.community.organizers[0]", "use the organizer's Zulip email",
            id="organizer is not an email",
        ),
        pytest.param(
            'stream = "community"', 'stream = "#community"', "meetings.community.stream",
            'write the bare stream name, e.g. "community"', id="stream with #",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nsections = { itme = "Items" }',
            "meetings.community.sections.itme", 'did you mean "item"?', id="unknown section kind",
        ),
        pytest.param(
            "[meetings.community]", '[meetings."community:main"]', "meetings.community:main",
            "rename the table", id="meeting name that breaks job keys",
        ),
        pytest.param(
            'roster = "people.toml"', 'roster = "nobody.toml"', "roster",
            "create it or give a path relative to the config file", id="missing roster",
        ),
        pytest.param(
            "BYDAY=WE", "BYMONTH=2;BYMONTHDAY=30", "meetings.community.schedule",
            "check BYMONTH, BYMONTHDAY, COUNT and UNTIL", id="rule that never meets",
        ),
        pytest.param(
            "BYDAY=WE", "BYDAY=WE;UNTIL=20241001T000000Z", "meetings.community.schedule",
            "never meets on or after 2024-11-06", id="rule that ends before the first",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nskip = [2024-11-13]',
            "meetings.community.skip[0]", "use the date of an occurrence: 2024-11-06 or 2024-11-20",
            id="skip on the off week",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nskip = [2024-11-20, "2024-11-21"]',
            "meetings.community.skip[1]", "2024-11-20 or 2024-12-04", id="skip as a string",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nskip = [2024-11-20T17:00:00]',
            "meetings.community.skip[0]", "expected a date like 2024-12-25",
            id="skip with a time",
        ),
        pytest.param(
            'BYDAY=WE"', 'BYDAY=WE;COUNT=2"\nskip = [2024-11-06, 2024-11-20]',
            "meetings.community.skip", "remove some dates",
            id="every occurrence skipped",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nagenda_lead = "two days"',
            "meetings.community.agenda_lead", "write whole numbers of weeks, days, hours",
            id="duration in words",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nreminder_lead = 15',
            "meetings.community.reminder_lead", 'expected a duration like "15 minutes"',
            id="duration without a unit",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nsummary_delay = "10 fortnights"',
            "meetings.community.summary_delay", "cannot read '10 fortnights'",
            id="unknown duration unit",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\npublish = "svn"',
            "meetings.community.publish", 'use "none" or "git"', id="unknown publish mode",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\npublish_remote = "origin"',
            "meetings.community.publish_remote", 'set publish = "git", or remove it',
            id="remote without publishing",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nnotes_url = "https://x.org/{file}"',
            "meetings.community.notes_url", "{path}, {name}, {date}, {meeting}",
            id="unknown notes_url placeholder",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nnotes_url = "https://x.org/{path"',
            "meetings.community.notes_url", "is not a pattern", id="unclosed notes_url brace",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nnotes_url = "notes/{path}"',
            "meetings.community.notes_url", "is not a web address", id="notes_url not a URL",
        ),
        pytest.param(
            'timezone = "UTC"',
            'timezone = "UTC"\n[[meetings.community.moved]]\nfrom = 2024-11-19\nto = 2024-11-18',
            "meetings.community.moved[0].from", "2024-11-06 or 2024-11-20",
            id="move of a day without a meeting",
        ),
        pytest.param(
            'timezone = "UTC"',
            'timezone = "UTC"\n[[meetings.community.moved]]\nfrom = 2024-11-20\n'
            "to = 2024-12-04T10:00:00",
            "meetings.community.moved[0].to", "each day's meeting has its own notes file",
            id="move onto another meeting's day",
        ),
        pytest.param(
            'timezone = "UTC"',
            'timezone = "UTC"\nskip = [2024-11-20]\n[[meetings.community.moved]]\n'
            "from = 2024-11-20\nto = 2024-11-21",
            "meetings.community.moved[0].from", "also given as meetings.community.skip[0]",
            id="skipped and moved",
        ),
        pytest.param(
            'timezone = "UTC"',
            'timezone = "UTC"\n[[meetings.community.moved]]\nfrom = 2024-11-20\n'
            'to = "2024-11-21T17:00:00+01:00"',
            "meetings.community.moved[0].to", "write the local time", id="move with an offset",
        ),
        pytest.param(
            'timezone = "UTC"',
            'timezone = "UTC"\n[[meetings.community.moved]]\nfrom = 2024-11-20\nwhen = 1',
            "meetings.community.moved[0].when", 'known keys are "from", "to"',
            id="unknown move key",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nitem_minutes = 90',
            "meetings.community.item_minutes",
            "use a length between 1 and the meeting's duration_minutes (60)",
            id="item longer than the meeting",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nitem_warn_at = [80, 0]',
            "meetings.community.item_warn_at[1]", "e.g. [80, 100], or [] for no warnings",
            id="a warning at 0%",
        ),
        pytest.param(
            'timezone = "UTC"', 'timezone = "UTC"\nitem_warn_at = 100',
            "meetings.community.item_warn_at", "expected an array of percents like [80, 100]",
            id="warnings not a list",
        ),
    ],
)  # fmt: skip
def test_config_errors_name_file_key_and_fix(
    tmp_path: Path, old: str, new: str, key: str, fix: str
) -> None:
    message = config_error(tmp_path, old, new)
    assert message.startswith(f"{tmp_path / 'meetbot.toml'}: {key}: ")
    assert fix in message


SECOND = """
[meetings.release]
title = "Release sync"
stream = "community"
topic = "%Y-%m-%d Conda Community Meeting"
notes_path = "notes/release/%Y%m%d.md"
template = "template.md"
schedule = "FREQ=WEEKLY;BYDAY=WE"
first = 2024-11-06
start = "17:30"
timezone = "Europe/Madrid"
duration_minutes = 30
"""


def test_two_meetings_in_one_topic_at_one_time_are_refused(tmp_path: Path) -> None:
    # 17:30 in Madrid is 16:30 UTC: the release sync runs 16:30-17:00 and the community meeting
    # 17:00-18:00, so on their shared topic they touch but do not overlap...
    assert load_config(write(tmp_path, BASE + SECOND)).meeting("release") is not None
    # ...until the sync is 31 minutes long.
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, BASE + SECOND.replace("= 30", "= 31")))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'meetbot.toml'}: meetings.release.topic: ")
    assert "meetings.community and meetings.release both meet in #community" in message
    assert "on 2024-11-06" in message
    assert "give one of them its own topic (or stream), or move one of them" in message


def test_two_meetings_in_one_stream_with_their_own_topics(tmp_path: Path) -> None:
    second = SECOND.replace("= 30", "= 90").replace("Conda Community Meeting", "release sync")
    config = load_config(write(tmp_path, BASE + second))
    assert [m.key for m in config.meetings_in_stream("Community")] == ["community", "release"]
    assert config.meeting_for_stream("community") is config.meeting("community")
    # In another stream the same topic at the same time is no clash either.
    other = SECOND.replace("= 30", "= 90").replace('stream = "community"', 'stream = "release"')
    assert load_config(write(tmp_path, BASE + other)).meetings_in_stream("release")


def test_overlap_found_on_the_one_date_that_clashes(tmp_path: Path) -> None:
    # A monthly meeting on the first Wednesday meets the biweekly one only on shared Wednesdays.
    second = SECOND.replace("FREQ=WEEKLY;BYDAY=WE", "FREQ=MONTHLY;BYDAY=1WE")
    second = second.replace("first = 2024-11-06", "first = 2024-12-04").replace("= 30", "= 60")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, BASE + second))
    assert "on 2024-12-04" in str(caught.value)


def test_cycle_settings_and_their_defaults(tmp_path: Path) -> None:
    default = load_config(write(tmp_path)).meetings[0]
    assert (default.agenda_lead, default.reminder_lead, default.summary_delay) == (
        dt.timedelta(days=2),
        dt.timedelta(minutes=15),
        dt.timedelta(minutes=15),
    )
    assert (default.skip, default.moved, default.notes_url, default.publish) == ((), (), "", "none")
    assert default.remind_owners is False
    assert default.notes_url_for(dt.date(2024, 11, 6)) == ""
    extra = """agenda_lead = "1 week 2 days"
reminder_lead = "1h 5m"
summary_delay = "0 minutes"
skip = [2024-12-18]
remind_owners = true
publish = "git"
publish_remote = "origin"
notes_url = "https://github.com/conda/communications/blob/main/{path}?d={date:%d.%m.}&m={meeting}"

[[meetings.community.moved]]
from = 2024-11-20
to = "2024-11-21T09:30"

[[meetings.community.moved]]
from = "2024-12-04"
to = 2024-12-03
"""
    meeting = load_config(write(tmp_path, BASE + extra)).meetings[0]
    assert meeting.agenda_lead == dt.timedelta(days=9)
    assert meeting.reminder_lead == dt.timedelta(minutes=65)
    assert meeting.summary_delay == dt.timedelta(0)
    assert meeting.skip == (dt.date(2024, 12, 18),)
    assert (meeting.publish, meeting.publish_remote, meeting.publish_branch) == (
        "git",
        "origin",
        "",
    )
    assert meeting.remind_owners is True
    utc = ZoneInfo("UTC")
    assert [(m.original, m.to) for m in meeting.moved] == [
        (dt.date(2024, 11, 20), dt.datetime(2024, 11, 21, 9, 30, tzinfo=utc)),
        (dt.date(2024, 12, 4), dt.datetime(2024, 12, 3, 17, 0, tzinfo=utc)),  # same start time
    ]
    assert meeting.notes_url_for(dt.date(2024, 11, 6)) == (
        "https://github.com/conda/communications/blob/main/notes/20241106_agenda_and_minutes.md"
        "?d=06.11.&m=community"
    )
    starts = meeting.recurrence().between(
        dt.datetime(2024, 11, 1, tzinfo=dt.UTC), dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
    )
    assert [s.isoformat() for s in starts] == [
        "2024-11-06T17:00:00+00:00",
        "2024-11-21T09:30:00+00:00",
        "2024-12-03T17:00:00+00:00",
        "2025-01-01T17:00:00+00:00",
    ]


def test_zuliprc_and_zulip_ids(tmp_path: Path) -> None:
    assert load_config(write(tmp_path)).zuliprc is None
    people = PEOPLE.replace('initials = "DG"', 'initials = "DG"\nzulip_id = 26')
    config = load_config(write(tmp_path, 'zuliprc = "bot/zuliprc"\n' + BASE, people))
    assert config.zuliprc == tmp_path.resolve() / "bot" / "zuliprc"
    assert config.roster.by_zulip_id(26) == config.roster.by_initials("DG")
    assert config.roster.by_zulip_id(27) is None
    assert config.roster.by_initials("JRG") == Person(
        "Jaime Rodríguez-Guerra", "JRG", email="jaimergp@example.org"
    )


@pytest.mark.parametrize(
    ("zulip_id", "fix"),
    [("0", "use the number in their Zulip profile link"), ('"26"', "expected an integer like 8")],
)
def test_bad_zulip_id(tmp_path: Path, zulip_id: str, fix: str) -> None:
    message = roster_error(
        tmp_path, PEOPLE.replace('initials = "DG"\n', f'initials = "DG"\nzulip_id = {zulip_id}\n')
    )
    assert message.startswith(f"{tmp_path / 'people.toml'}: person[1].zulip_id: ")
    assert fix in message


def test_duplicate_zulip_ids(tmp_path: Path) -> None:
    people = PEOPLE.replace('@example.org"\n', '@example.org"\nzulip_id = 8\n')
    message = roster_error(tmp_path, people)
    assert message.startswith(f"{tmp_path / 'people.toml'}: person[1].zulip_id: ")
    assert "the same zulip_id '8'" in message


def test_wrong_type_says_what_was_found(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'stream = "community"', "stream = 42")
    assert "got 42 (an integer)" in message


def test_topic_must_fit_on_every_date_not_only_the_first(tmp_path: Path) -> None:
    # 60 characters on 2024-11-06 ("Wednesday, 06 November 2024"), 61 in September.
    topic = "%A, %d %B %Y " + "x" * 32
    assert len(dt.date(2024, 11, 6).strftime(topic)) == 60
    message = config_error(tmp_path, '"%Y-%m-%d Conda Community Meeting"', f'"{topic}"')
    assert "meetings.community.topic" in message
    assert "61 characters" in message


def test_missing_meetings_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, 'roster = "people.toml"\n'))
    assert str(caught.value) == (
        f"{tmp_path / 'meetbot.toml'}: meetings: missing; add it, e.g. [meetings.community]"
    )


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'title = "Conda Community Meeting"', "title = Conda")
    assert message.startswith(f"{tmp_path / 'meetbot.toml'}: is not valid TOML")
    assert "line 4" in message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "meetbot.toml")
    assert str(caught.value) == (
        f"{tmp_path / 'meetbot.toml'}: the file does not exist; create it or fix the path"
    )


def test_roster_errors_are_about_the_roster_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, people=PEOPLE.replace('initials = "DG"', 'initials = "J1"')))
    assert str(caught.value).startswith(f"{tmp_path / 'people.toml'}: person[1].initials: ")
    assert 'use 2 or 3 capital letters, e.g. "JRG"' in str(caught.value)


# --- errors in the roster ---------------------------------------------------------------------


def test_duplicate_initials_name_both_people(tmp_path: Path) -> None:
    message = roster_error(tmp_path, PEOPLE.replace('initials = "DG"', 'initials = "jrg"'))
    assert message.startswith(f"{tmp_path / 'people.toml'}: person[1].initials: ")
    assert '"Dasha Gurova"' in message
    assert 'person[0] "Jaime Rodríguez-Guerra"' in message
    assert "give one of them a different initials" in message


def test_duplicate_emails_name_both_people(tmp_path: Path) -> None:
    message = roster_error(
        tmp_path, PEOPLE.replace("dashagurova@example.org", "JaimeRGP@example.org")
    )
    assert message.startswith(f"{tmp_path / 'people.toml'}: person[1].email: ")
    assert '"Dasha Gurova"' in message and '"Jaime Rodríguez-Guerra"' in message


@pytest.mark.parametrize("initials", ["ABCD", "J1", "", "J R", "J", "CI", "ÉZ"])
def test_initials_must_read_back_as_owners_in_the_notes(tmp_path: Path, initials: str) -> None:
    message = roster_error(tmp_path, PEOPLE.replace('"DG"', f'"{initials}"', 1))
    assert "person[1].initials" in message
    assert "would not read back as an owner in the notes" in message


def test_group_members_must_be_known(tmp_path: Path) -> None:
    message = roster_error(tmp_path, PEOPLE.replace('["JRG", "DG"]', '["JRG", "XX"]'))
    assert message.startswith(f"{tmp_path / 'people.toml'}: groups.steering-council[1]: ")
    assert "add a [[person]] with initials = 'XX', or use one of DG, JRG" in message


def test_single_person_table_asks_for_an_array(tmp_path: Path) -> None:
    message = roster_error(tmp_path, '[person]\nname = "Dasha Gurova"\ninitials = "DG"\n')
    assert message.startswith(f"{tmp_path / 'people.toml'}: person: ")
    assert "expected an array of tables like [[person]]" in message


def test_unknown_person_key(tmp_path: Path) -> None:
    message = roster_error(tmp_path, PEOPLE.replace("email =", "gihub = 'x'\nemail =", 1))
    assert "person[0].gihub: unknown key" in message
    assert 'did you mean "github"?' in message


def test_roster_normalises_what_people_type(tmp_path: Path) -> None:
    path = tmp_path / "people.toml"
    path.write_text(
        '[[person]]\nname = " Marius van Niekerk "\ninitials = "MvN"\n'
        'github = "@mariusvniekerk"\nemail = "Marius@Example.org"\n',
        encoding="utf-8",
    )
    assert load_roster(path).people == (
        Person("Marius van Niekerk", "MvN", github="mariusvniekerk", email="marius@example.org"),
    )


def test_loading_the_examples_from_a_copy(tmp_path: Path) -> None:
    for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
        shutil.copy(REPO / "config" / name, tmp_path / name)
    config = load_config(tmp_path / "meetbot.example.toml")
    assert {m.template for m in config.meetings} == {tmp_path.resolve() / "notes-template.md"}


# --- durations --------------------------------------------------------------------------------


@given(
    st.integers(0, 60), st.integers(0, 23), st.integers(0, 59),
    st.sampled_from([" ", "", ", "]), st.sampled_from(["long", "short"]),
)  # fmt: skip
def test_durations_read_back_what_they_say(
    days: int, hours: int, minutes: int, gap: str, style: str
) -> None:
    span = dt.timedelta(days=days, hours=hours, minutes=minutes)
    assert parse_duration(format_duration(span)) == span
    units = ("d", "h", "m") if style == "short" else ("days", "hours", "minutes")
    text = gap.join(f"{n}{u}" for n, u in zip((days, hours, minutes), units, strict=True))
    assert parse_duration(text) == span


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "is empty"), ("2", "cannot read '2'"), ("-5 minutes", "cannot read '-5 minutes'"),
     ("1.5 hours", "cannot read '1.5 hours'"), ("1 hour 2 hours", "names hours twice"),
     ("3 months", "cannot read '3 months'"), ("1 hour and 5 minutes", "cannot read 'and")],
)  # fmt: skip
def test_durations_that_cannot_be_read(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value).startswith(problem)


def test_duration_spelling() -> None:
    assert parse_duration("1 week") == dt.timedelta(days=7)
    assert parse_duration("1W 1D 1H 1MIN") == dt.timedelta(days=8, minutes=61)
    assert format_duration(dt.timedelta(days=1, minutes=1)) == "1 day 1 minute"
    assert format_duration(dt.timedelta(0)) == "0 minutes"


def test_example_sets_the_cycle() -> None:
    config = load_config(default_config_path())
    community, packaging = config.meetings
    assert community.agenda_lead == dt.timedelta(days=2) and community.remind_owners
    assert community.publish == "none"
    assert packaging.reminder_lead == dt.timedelta(minutes=10)
    assert [(m.original, m.to.isoformat()) for m in packaging.moved] == [
        (dt.date(2026, 12, 22), "2026-12-21T16:00:00+01:00")
    ]
    assert config.zuliprc is None


# --- the systemd unit -------------------------------------------------------------------------


def unit_settings(text: str) -> dict[str, list[str]]:
    """systemd's own syntax: repeated keys add up, so a dict of lists, not configparser."""
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_systemd_unit_runs_the_bot_as_the_cli_expects() -> None:
    unit = unit_settings((REPO / "config" / "meetbot.service").read_text(encoding="utf-8"))
    environment = dict(value.split("=", 1) for value in unit["Environment"])
    assert environment["MEETBOT_CONFIG"].endswith(".toml")
    state = f"/var/lib/{unit['StateDirectory'][0]}"
    assert unit["WorkingDirectory"] == [state] and environment["HOME"] == state
    (command,) = unit["ExecStart"]
    program, *args = command.replace("${MEETBOT_CONFIG}", environment["MEETBOT_CONFIG"]).split()
    assert program.endswith("/bin/meetbot")
    parsed = cli_parser().parse_args(args)
    assert parsed.command == "run"
    assert str(parsed.config) == environment["MEETBOT_CONFIG"]
    assert str(parsed.health).startswith(state + "/")
    assert unit["Restart"] == ["on-failure"]
    assert unit["User"] != ["root"] and unit["User"]
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]  # `systemctl reload`: SIGHUP


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_unit() -> None:
    done = subprocess.run(
        ["systemd-analyze", "verify", str(REPO / "config" / "meetbot.service")],
        capture_output=True,
        text=True,
        check=False,
    )
    complaints = [
        line for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "is not executable" not in line  # meetbot is not installed there
    ]  # fmt: skip
    assert complaints == []
