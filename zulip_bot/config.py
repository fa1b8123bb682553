"""Load `config/*.toml` into frozen dataclasses.

A bot that starts with a wrong setting fails hours later, in the middle of a meeting, so loading
checks everything up front, and every error names the file, the key and what to write instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import functools
import itertools
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrulebase, rruleset, rrulestr

from zulip_bot.notes.extract import is_initials

#: Where `add item`, `add announcement`, ... land in the notes, unless a meeting says otherwise.
DEFAULT_SECTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("item", "New Agenda Items"),
    ("announcement", "Announcements"),
    ("intro", "Introductions"),
    ("carried", "From previous meetings"),
    ("actions", "Open action items"),
)

#: Zulip silently truncates longer topics, which would split one meeting over two threads;
#: stream names have the same limit.
MAX_NAME_LENGTH: Final = 60
#: A Wednesday in September: `%A` and `%B` give their longest names, so a topic that fits here fits
#: on every date.
_LONGEST_DAY: Final = dt.date(2024, 9, 25)

_TOP_KEYS: Final = ("bot_name", "roster", "state_path", "zuliprc", "meetings", "adhoc")
_ADHOC_KEYS: Final = ("allowed", "notes_dir", "template", "limit")
ADHOC_TEMPLATE: Final = Path(str(resources.files("zulip_bot") / "data" / "adhoc-notes-template.md"))
#: Who may start an ad hoc meeting when `[adhoc] allowed` is a word rather than a list.
ANYONE: Final = "anyone"
_MEETING_KEYS: Final = (
    "title", "stream", "topic", "notes_path", "template", "organizers", "schedule", "start",
    "first", "timezone", "duration_minutes", "video_link", "order_by_votes", "auto_attendance",
    "sections", "agenda_lead", "reminder_lead", "summary_delay", "skip", "moved", "notes_url",
    "publish", "publish_remote", "publish_branch", "remind_owners", "item_minutes", "item_warn_at",
)  # fmt: skip
_MOVED_KEYS: Final = ("from", "to")
_ROSTER_KEYS: Final = ("person", "groups")
_PERSON_KEYS: Final = ("name", "initials", "affiliation", "github", "email", "zulip_id")
_MEETING_KEY = re.compile(r"[A-Za-z0-9_-]+")
#: What `notes_url` may name: `{date:%Y%m%d}` takes any strftime format.
NOTES_URL_FIELDS: Final = ("path", "name", "date", "meeting")
PUBLISH_MODES: Final = ("none", "git")
#: How far ahead `load_config` looks for two meetings sharing a topic at the same time.
OVERLAP_HORIZON: Final = dt.timedelta(days=3 * 366)

_DURATION_UNITS: Final = {
    "w": "weeks", "week": "weeks", "weeks": "weeks",
    "d": "days", "day": "days", "days": "days",
    "h": "hours", "hour": "hours", "hours": "hours",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
}  # fmt: skip
_DURATION_PART = re.compile(r"\s*(\d+)\s*([a-z]+)\s*,?", re.I)


def _twelve_hour(moment: dt.time) -> str:
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"


def parse_duration(text: str) -> dt.timedelta:
    """`2 days`, `1 hour 30 minutes`, `15m`: one or more `<whole number> <unit>` parts.

    A grammar this small fits in an error message, which an ISO 8601 `PT15M` would not; units are
    weeks, days, hours and minutes (singular, plural or w/d/h/m)."""
    rest, parts = text.strip(), {}
    if not rest:
        raise ValueError("is empty")
    while rest:
        found = _DURATION_PART.match(rest)
        unit = _DURATION_UNITS.get(found[2].casefold()) if found else None
        if found is None or unit is None:
            raise ValueError(f"cannot read {rest!r}")
        if unit in parts:
            raise ValueError(f"names {unit} twice")
        parts[unit] = int(found[1])
        rest = rest[found.end() :]
    return dt.timedelta(**parts)


def format_duration(span: dt.timedelta) -> str:
    """The inverse of `parse_duration`, for check-config and error messages."""
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    text = " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n)
    return text or "0 minutes"


class ConfigError(Exception):
    """A setting that cannot work, with enough context to fix it without reading the code."""

    def __init__(self, file: Path, key: str, problem: str, fix: str) -> None:
        self.file, self.key, self.problem, self.fix = file, key, problem, fix
        where = f"{file}: {key}" if key else str(file)
        super().__init__(f"{where}: {problem}; {fix}")


# --- the model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    initials: str
    affiliation: str = ""
    github: str = ""
    email: str = ""
    #: Where emails are hidden, the one sure way to know a sender (see issue 9).
    zulip_id: int | None = None


def fold_name(text: str) -> str:
    """Zulip names and roster names differ in case, accents and spacing more often than not."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


@dataclass(frozen=True)
class Roster:
    people: tuple[Person, ...] = ()
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def by_email(self, email: str) -> Person | None:
        wanted = email.strip().casefold()
        if not wanted:
            return None
        return next((p for p in self.people if p.email.casefold() == wanted), None)

    def by_zulip_id(self, zulip_id: int) -> Person | None:
        return next((p for p in self.people if p.zulip_id == zulip_id), None)

    def by_initials(self, initials: str) -> Person | None:
        wanted = initials.strip().casefold()
        return next((p for p in self.people if p.initials.casefold() == wanted), None)

    def by_name(self, name: str) -> Person | None:
        """A first name only counts when it is unique: a wrong owner is worse than none."""
        wanted = fold_name(name)
        if not wanted:
            return None
        full = [p for p in self.people if fold_name(p.name) == wanted]
        first = [p for p in self.people if fold_name(p.name).split(" ")[0] == wanted]
        found = full or first
        return found[0] if len(found) == 1 else None

    def group(self, name: str) -> tuple[str, ...] | None:
        wanted = name.strip().casefold()
        return next((members for key, members in self.groups if key.casefold() == wanted), None)

    def with_person(self, person: Person) -> Roster:
        """Self-registration replaces the sender's own entry in place, so order stays stable."""
        person = replace(person, email=person.email.strip().casefold())
        if self.by_email(person.email) is None:
            return replace(self, people=(*self.people, person))
        people = tuple(person if p.email.casefold() == person.email else p for p in self.people)
        return replace(self, people=people)


@dataclass(frozen=True)
class Move:
    """One occurrence held at another time: the rule's `original` date gives way to `to`."""

    original: dt.date
    #: Aware, in the meeting's zone.
    to: dt.datetime


@dataclass(frozen=True)
class Extra:
    """A one-off occurrence besides the rule's, added from chat (`zulip_bot/overrides.py`)."""

    #: Aware, in the meeting's zone.
    at: dt.datetime
    title: str = ""
    #: When it was added (UTC): what names it in the iCalendar feed while its time may change.
    added: dt.datetime | None = None


@dataclass(frozen=True)
class MeetingConfig:
    key: str
    title: str
    stream: str
    topic: str
    notes_path: str
    template: Path
    organizers: tuple[str, ...]
    schedule: str
    start: dt.time
    first: dt.date
    timezone: ZoneInfo
    duration_minutes: int = 60
    video_link: str = ""
    order_by_votes: bool = True
    auto_attendance: bool = False
    #: (kind, section title) pairs; pairs rather than a dict keep the config hashable.
    sections: tuple[tuple[str, str], ...] = DEFAULT_SECTIONS
    #: What a relative `notes_path` is relative to: the directory of the config file.
    config_dir: Path = Path()
    #: The agenda thread opens this long before the start; the reminder comes at `reminder_lead`.
    agenda_lead: dt.timedelta = dt.timedelta(days=2)
    reminder_lead: dt.timedelta = dt.timedelta(minutes=15)
    #: A meeting nobody ends is ended and summarized this long after its planned end.
    summary_delay: dt.timedelta = dt.timedelta(minutes=15)
    #: Local dates of occurrences that do not take place.
    skip: tuple[dt.date, ...] = ()
    moved: tuple[Move, ...] = ()
    #: Never from the TOML: chat adds them on top of the config (`overrides.effective`).
    extra: tuple[Extra, ...] = ()
    #: A `str.format` pattern over NOTES_URL_FIELDS; empty: chat shows the file path.
    notes_url: str = ""
    publish: str = "none"
    #: A git remote name or URL; empty: commit without pushing.
    publish_remote: str = ""
    #: The remote branch to push to; empty: the working copy's current branch.
    publish_branch: str = ""
    remind_owners: bool = False
    #: What an agenda item without a planned time of its own, like `(10 min)`, counts for.
    item_minutes: int = 10
    #: Percents of an open item's planned time at which its topic is told, e.g. (80, 100).
    item_warn_at: tuple[int, ...] = (100,)

    def topic_for(self, date: dt.date) -> str:
        return date.strftime(self.topic)

    def notes_path_for(self, date: dt.date) -> Path:
        return self.config_dir / date.strftime(self.notes_path)

    def notes_url_for(self, date: dt.date) -> str:
        """Where people in chat can read the notes, or "" when the meeting sets no `notes_url`.

        `{path}` is `notes_path` as written (relative, `/`-separated): in a notes repository whose
        root is the config's folder, that is the path on the forge."""
        if not self.notes_url:
            return ""
        path = Path(date.strftime(self.notes_path))
        fields = {"path": path.as_posix(), "name": path.name, "date": date, "meeting": self.key}
        return self.notes_url.format(**fields)

    def template_values(self, day: dt.date) -> dict[str, str]:
        """What a notes template names of this meeting besides `date`: `title`, `video_link` and
        `utc_start`, the start on `day` in UTC as a time-zone converter link takes it ("5pm",
        "3:30pm"). The default template falls back to the conda community meeting's own values
        where a draft is made without a meeting (`meetbot notes new`)."""
        local = dt.datetime.combine(day, self.start, tzinfo=self.timezone)
        return {
            "title": self.title,
            "video_link": self.video_link,
            "utc_start": _twelve_hour(local.astimezone(dt.UTC).time()),
        }

    def recurrence(self) -> rruleset:
        """Every start, as aware datetimes in the meeting's zone, skips and moves applied."""
        return _recurrence(self)

    def section(self, kind: str) -> str:
        """Raises KeyError for a kind that is not configured: that is a bug in the caller."""
        return dict(self.sections)[kind]


@dataclass(frozen=True)
class AdhocConfig:
    """Meetings nobody configured, started with `start meeting <title>` in any topic."""

    #: Where their notes go, one file per meeting.
    notes_dir: Path
    template: Path
    #: Zulip emails (casefolded) of who may start one; None: anyone.
    allowed: tuple[str, ...] | None = None
    #: One left open this long is ended and summarized by the schedule.
    limit: dt.timedelta = dt.timedelta(hours=4)


@dataclass(frozen=True)
class BotConfig:
    path: Path
    state_path: Path
    meetings: tuple[MeetingConfig, ...]
    roster: Roster = field(default_factory=Roster)
    bot_name: str = "meetbot"
    #: The bot's zuliprc when the config names one (relative to the config file); `--zuliprc`
    #: wins over it. Not checked here: `meetbot shell` and `demo` need none.
    zuliprc: Path | None = None
    adhoc: AdhocConfig = field(kw_only=True)

    def meeting(self, key: str) -> MeetingConfig | None:
        return next((m for m in self.meetings if m.key == key), None)

    def meeting_for_stream(self, stream: str) -> MeetingConfig | None:
        found = self.meetings_in_stream(stream)
        return found[0] if found else None

    def meetings_in_stream(self, stream: str) -> tuple[MeetingConfig, ...]:
        """Two meetings may share a stream (never a topic at one time: `load_config` checks)."""
        wanted = stream.strip().casefold()
        return tuple(m for m in self.meetings if m.stream.casefold() == wanted)


@functools.lru_cache(maxsize=128)
def _recurrence(meeting: MeetingConfig) -> rruleset:
    """Cached per meeting, with dateutil's own cache on: the runner asks every few seconds, and
    an uncached rule walks from `first` each time."""
    start = dt.datetime.combine(meeting.first, meeting.start, tzinfo=meeting.timezone)
    rules = rrulestr(meeting.schedule, dtstart=start, forceset=True, cache=True)
    assert isinstance(rules, rruleset)  # forceset
    for day in (*meeting.skip, *(move.original for move in meeting.moved)):
        rules.exdate(dt.datetime.combine(day, meeting.start, tzinfo=meeting.timezone))
    for move in meeting.moved:
        rules.rdate(move.to)
    for extra in meeting.extra:
        rules.rdate(extra.at)
    return rules


def default_config_path() -> Path:
    return Path(__file__).resolve().parents[1] / "config" / "meetbot.example.toml"


# --- reading TOML -----------------------------------------------------------------------------

_REQUIRED: Final[Any] = object()


def _toml_type(value: object) -> str:
    """Users wrote TOML, so wrong types are described in TOML's words, not Python's."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dt.datetime):
        return "a date-time"
    names = {str: "a string", int: "an integer", float: "a float", list: "an array",
             dict: "a table", dt.date: "a date", dt.time: "a time"}  # fmt: skip
    return next((n for kind, n in names.items() if isinstance(value, kind)), type(value).__name__)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f'did you mean "{close[0]}"?'
    return "known keys are " + ", ".join(f'"{k}"' for k in known)


@dataclass(frozen=True)
class _Table:
    """One TOML table, with the file and dotted key that errors about it must name."""

    file: Path
    key: str
    data: Mapping[str, Any]

    def at(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(self.file, self.at(name), problem, fix)

    def check_keys(self, known: tuple[str, ...]) -> None:
        for name in self.data:
            if name not in known:
                raise self.error(name, "unknown key", _did_you_mean(name, known))

    def value(
        self, name: str, kinds: tuple[type, ...], want: str, example: str, default: Any
    ) -> Any:
        """`example` is TOML text, so the fix for a missing key can be pasted as it is."""
        if name not in self.data:
            if default is _REQUIRED:
                # A table header like [meetings.community] is pasted as it is.
                line = example if example.startswith("[") else f"{name} = {example}"
                raise self.error(name, "missing", f"add it, e.g. {line}")
            return default
        value = self.data[name]
        wrong_bool = isinstance(value, bool) and bool not in kinds
        wrong_datetime = isinstance(value, dt.datetime) and dt.datetime not in kinds
        if wrong_bool or wrong_datetime or not isinstance(value, kinds):
            got = f"got {_shown(value)} ({_toml_type(value)})"
            raise self.error(name, got, f"expected {want} like {example}")
        return value

    def text(self, name: str, example: str, default: Any = _REQUIRED) -> str:
        value: str = self.value(name, (str,), "a string", f'"{example}"', default)
        return value.strip()

    def integer(self, name: str, example: int, default: Any = _REQUIRED) -> int:
        value: int = self.value(name, (int,), "an integer", str(example), default)
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value: bool = self.value(name, (bool,), "a boolean", "true", default)
        return value

    def texts(self, name: str, example: str, default: Any = _REQUIRED) -> tuple[str, ...]:
        values: list[Any] = list(
            self.value(name, (list,), "an array of strings", f'["{example}"]', default)
        )
        for index, item in enumerate(values):
            if not isinstance(item, str):
                got = f"got {_shown(item)} ({_toml_type(item)})"
                raise self.error(f"{name}[{index}]", got, f'expected a string like "{example}"')
        return tuple(v.strip() for v in values)

    def table(self, name: str, example: str, default: Any = _REQUIRED) -> _Table:
        data: Mapping[str, Any] = self.value(name, (dict,), "a table", example, default)
        return _Table(self.file, self.at(name), data)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            path, "", "the file does not exist", "create it or fix the path"
        ) from None
    except IsADirectoryError:
        raise ConfigError(path, "", "is a directory", "give the path of a .toml file") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "", "is not UTF-8 text", "save it as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            path, "", f"is not valid TOML ({error})", "fix the syntax there"
        ) from None


# --- the roster -------------------------------------------------------------------------------


def _person(entry: _Table) -> Person:
    entry.check_keys(_PERSON_KEYS)
    name = entry.text("name", "Jaime Rodríguez-Guerra")
    initials = entry.text("initials", "JRG")
    email = entry.text("email", "jaimergp@example.org", "").casefold()
    if not name:
        raise entry.error("name", "is empty", 'write the full name, e.g. "Jaime Rodríguez-Guerra"')
    if not is_initials(initials) and is_initials(initials.upper()):
        initials = initials.upper()  # `jrg` is JRG; `MvN` keeps its own case
    if not is_initials(initials):
        raise entry.error(
            "initials",
            f"{initials!r} would not read back as an owner in the notes",
            'use 2 or 3 capital letters, e.g. "JRG" (or "MvN"), and not a label like "CI"',
        )
    if email and "@" not in email:
        raise entry.error("email", f"{email!r} is not an email address", "use their Zulip email")
    zulip_id: int | None = entry.integer("zulip_id", 8, None)
    if zulip_id is not None and zulip_id <= 0:
        raise entry.error("zulip_id", f"{zulip_id} is not a Zulip user id",
                          "use the number in their Zulip profile link (/#user/<id>)")  # fmt: skip
    return Person(
        name=name,
        initials=initials,
        affiliation=entry.text("affiliation", "Quansight", ""),
        github=entry.text("github", "jaimergp", "").removeprefix("@"),
        email=email,
        zulip_id=zulip_id,
    )


def _check_unique(file: Path, people: list[Person]) -> None:
    """Initials own agenda items, emails and ids identify senders: a clash misattributes."""
    seen: dict[tuple[str, str], int] = {}
    for index, person in enumerate(people):
        zulip_id = "" if person.zulip_id is None else str(person.zulip_id)
        for attribute, value in (
            ("initials", person.initials), ("email", person.email), ("zulip_id", zulip_id)
        ):  # fmt: skip
            earlier = seen.setdefault((attribute, value.casefold()), index) if value else index
            if earlier != index:
                raise ConfigError(
                    file,
                    f"person[{index}].{attribute}",
                    f'"{person.name}" has the same {attribute} {value!r} '
                    f'as person[{earlier}] "{people[earlier].name}"',
                    f"give one of them a different {attribute}",
                )


def _groups(table: _Table, people: list[Person]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    canonical = {p.initials.casefold(): p.initials for p in people}
    groups: list[tuple[str, tuple[str, ...]]] = []
    for name in table.data:
        members = table.texts(name, "JRG")
        for index, member in enumerate(members):
            if member.casefold() not in canonical:
                raise table.error(
                    f"{name}[{index}]",
                    f"{member!r} is not the initials of anyone in the roster",
                    f"add a [[person]] with initials = {member!r}, or use one of "
                    + ", ".join(sorted(canonical.values())),
                )
        groups.append((name, tuple(canonical[m.casefold()] for m in members)))
    return tuple(groups)


def load_roster(path: Path) -> Roster:
    path = Path(path)
    top = _Table(path, "", _read_toml(path))
    top.check_keys(_ROSTER_KEYS)
    want = "an array of tables"
    entries: list[Any] = list(top.value("person", (list,), want, "[[person]]", []))
    people: list[Person] = []
    for index, raw in enumerate(entries):
        if not isinstance(raw, dict):
            raise top.error(f"person[{index}]", f"got {_toml_type(raw)}",
                            "expected a table: write each entry as [[person]]")  # fmt: skip
        people.append(_person(_Table(path, f"person[{index}]", raw)))
    _check_unique(path, people)
    groups = _groups(top.table("groups", '[groups] steering-council = ["JRG"]', {}), people)
    return Roster(tuple(people), groups)


# --- meetings ---------------------------------------------------------------------------------


def _timezone(table: _Table) -> ZoneInfo:
    name = table.text("timezone", "Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    zones = sorted(available_timezones())
    by_folded = {z.casefold(): z for z in zones}
    close = by_folded.get(name.casefold()) or next(
        iter(difflib.get_close_matches(name, zones, n=1)), None
    )
    hint = f'did you mean "{close}"?' if close else 'use an IANA name like "UTC" or "Europe/Berlin"'
    raise table.error("timezone", f"{name!r} is not a known time zone", hint)


def _start(table: _Table) -> dt.time:
    value = table.value("start", (str, dt.time), "a local time", '"17:00"', _REQUIRED)
    try:
        start = value if isinstance(value, dt.time) else dt.time.fromisoformat(value)
    except ValueError:
        raise table.error("start", f"{value!r} is not a time", 'write it like "17:00"') from None
    if start.tzinfo is not None:
        raise table.error("start", "has a UTC offset", "write the local time and set `timezone`")
    return start


def _first(table: _Table) -> dt.date:
    value = table.value("first", (str, dt.date), "a date", "2024-11-06", _REQUIRED)
    try:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
    except ValueError:
        raise table.error("first", f"{value!r} is not a date", "write it like 2024-11-06") from None


def _rule(table: _Table, first: dt.date, start: dt.time, zone: ZoneInfo) -> tuple[str, rrulebase]:
    """Builds the rule the way `schedule.py` will, and refuses what dateutil lets through."""
    text = table.text("schedule", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE")
    if "DTSTART" in text.upper():
        raise table.error("schedule", "sets DTSTART", "remove it; `first` and `start` set it")
    if len(text.splitlines()) > 1:
        raise table.error("schedule", "has more than one line",
                          "write one RRULE; list exceptions in `skip` and `moved`")  # fmt: skip
    if any(v.lstrip("0") == "" for v in re.findall(r"INTERVAL=(\w*)", text, re.I)):
        raise table.error("schedule", "has INTERVAL=0, which never advances", "use 1 or more")
    dtstart = dt.datetime.combine(first, start, tzinfo=zone)
    try:
        rule = rrulestr(text, dtstart=dtstart)
        found = rule.after(dtstart, inc=True)
    except (ValueError, TypeError) as error:
        if "UNTIL" in str(error):
            fix = "write UNTIL in UTC, e.g. UNTIL=20251231T235959Z"
        else:
            fix = 'write an RFC 5545 RRULE, e.g. "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"'
        raise table.error("schedule", f"{text!r} is not a valid rule ({error})", fix) from None
    if found is None:
        raise table.error(
            "schedule",
            f"{text!r} never meets on or after {first}",
            "check BYMONTH, BYMONTHDAY, COUNT and UNTIL against `first`",
        )
    if found != dtstart:
        raise table.error(
            "first",
            f"{first} is not a day on which the schedule {text!r} meets",
            "set it to the date of the first meeting of the series",
        )
    return text, rule


def _duration(table: _Table, name: str, example: str, default: dt.timedelta) -> dt.timedelta:
    text: str | None = table.value(name, (str,), "a duration", f'"{example}"', None)
    if text is None:
        return default
    try:
        return parse_duration(text)
    except ValueError as error:
        raise table.error(
            name,
            f"{text!r} is not a duration: it {error}",
            f'write whole numbers of weeks, days, hours or minutes, e.g. "{example}" '
            'or "1 hour 30 minutes"',
        ) from None


def _date_value(table: _Table, name: str, value: object) -> dt.date:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value.strip())
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise table.error(name, f"got {_shown(value)} ({_toml_type(value)})",
                      "expected a date like 2024-12-25")  # fmt: skip


def _skip(table: _Table) -> tuple[dt.date, ...]:
    values: list[Any] = list(table.value("skip", (list,), "an array of dates",
                                         "[2024-12-25, 2025-01-01]", []))  # fmt: skip
    return tuple(_date_value(table, f"skip[{i}]", value) for i, value in enumerate(values))


def _warn_at(table: _Table) -> tuple[int, ...]:
    """Percents of an item's planned time, each said once: `[80, 100]` warns ahead and at it."""
    values: list[Any] = list(table.value("item_warn_at", (list,), "an array of percents",
                                         "[80, 100]", [100]))  # fmt: skip
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 500:
            raise table.error(f"item_warn_at[{index}]", f"got {_shown(value)}",
                              "use whole percents of an item's planned time from 1 to 500, "
                              "e.g. [80, 100], or [] for no warnings")  # fmt: skip
    return tuple(sorted(set(values)))


def _moved(table: _Table, start: dt.time, zone: ZoneInfo) -> tuple[Move, ...]:
    """`to` is a local date-time, or a date to keep the usual start time."""
    example = "[[meetings.<name>.moved]] from = 2024-12-25, to = 2024-12-23T17:00:00"
    entries: list[Any] = list(table.value("moved", (list,), "an array of tables", example, []))
    moves = []
    for index, raw in enumerate(entries):
        if not isinstance(raw, dict):
            raise table.error(f"moved[{index}]", f"got {_toml_type(raw)}",
                              f"expected a table: write each as {example}")  # fmt: skip
        entry = _Table(table.file, table.at(f"moved[{index}]"), raw)
        entry.check_keys(_MOVED_KEYS)
        original = _date_value(entry, "from", entry.value("from", (str, dt.date), "a date",
                                                          "2024-12-25", _REQUIRED))  # fmt: skip
        to = entry.value("to", (str, dt.date, dt.datetime), "a local date-time",
                         "2024-12-23T17:00:00", _REQUIRED)  # fmt: skip
        if isinstance(to, str):
            try:
                to = dt.datetime.fromisoformat(to.strip())
            except ValueError:
                raise entry.error("to", f"{to!r} is not a date-time",
                                  "write it like 2024-12-23T17:00:00") from None  # fmt: skip
        if not isinstance(to, dt.datetime):
            to = dt.datetime.combine(to, start)
        if to.tzinfo is not None:
            raise entry.error("to", "has a UTC offset", "write the local time and set `timezone`")
        moves.append(Move(original, to.replace(tzinfo=zone)))
    return tuple(moves)


def _notes_url(table: _Table) -> str:
    url = table.text("notes_url", "https://github.com/conda/communications/blob/main/{path}", "")
    if not url:
        return url
    fix = "use " + ", ".join(f"{{{name}}}" for name in NOTES_URL_FIELDS) + ", e.g. {date:%Y%m%d}"
    sample = {"path": "notes/a.md", "name": "a.md", "date": _LONGEST_DAY, "meeting": "a"}
    try:
        url.format(**sample)  # the one way to know that every placeholder will render
    except KeyError as error:
        raise table.error("notes_url", f"has an unknown placeholder {{{error.args[0]}}}",
                          fix) from None  # fmt: skip
    except (ValueError, IndexError, AttributeError) as error:
        raise table.error("notes_url", f"is not a pattern ({error})", fix) from None
    if not url.startswith(("https://", "http://")):
        raise table.error(
            "notes_url",
            f"{url!r} is not a web address",
            'use e.g. "https://github.com/conda/communications/blob/main/{path}"',
        )
    return url


def _publish(table: _Table) -> tuple[str, str, str]:
    mode = table.text("publish", "git", "none")
    if mode not in PUBLISH_MODES:
        raise table.error("publish", f"{mode!r} is not a way to publish",
                          'use "none" or "git"')  # fmt: skip
    remote = table.text("publish_remote", "origin", "")
    branch = table.text("publish_branch", "main", "")
    if mode == "none":
        for name, value in (("publish_remote", remote), ("publish_branch", branch)):
            if value:
                raise table.error(name, 'is set but publish is "none"',
                                  'set publish = "git", or remove it')  # fmt: skip
    return mode, remote, branch


def _sections(table: _Table) -> tuple[tuple[str, str], ...]:
    sections = dict(DEFAULT_SECTIONS)
    given = table.table("sections", '{ item = "New Agenda Items" }', {})
    given.check_keys(tuple(sections))
    for kind, default in DEFAULT_SECTIONS:
        title = given.text(kind, default, default)
        if not title:
            raise given.error(kind, "is empty", f'name the notes section, e.g. "{default}"')
        sections[kind] = title
    return tuple(sections.items())


def _validate(table: _Table, meeting: MeetingConfig) -> None:
    """Checks that need the whole meeting: rendered names and the files they point at."""
    if not meeting.title:
        raise table.error("title", "is empty", 'name the meeting, e.g. "Conda Community Meeting"')
    if not meeting.stream or meeting.stream.startswith("#"):
        problem = "starts with #" if meeting.stream else "is empty"
        raise table.error("stream", problem, 'write the bare stream name, e.g. "community"')
    if len(meeting.stream) > MAX_NAME_LENGTH:
        raise table.error("stream", f"is longer than {MAX_NAME_LENGTH} characters",
                          "use the stream's name as Zulip shows it")  # fmt: skip
    longest = meeting.topic_for(_LONGEST_DAY)
    if not longest.strip():
        raise table.error("topic", "renders empty", 'use e.g. "%Y-%m-%d meeting"')
    if len(longest) > MAX_NAME_LENGTH:
        raise table.error(
            "topic",
            f"renders to {len(longest)} characters ({longest!r}) but Zulip cuts topics at "
            f"{MAX_NAME_LENGTH}",
            "shorten it",
        )
    if not meeting.template.is_file():
        raise table.error(
            "template",
            f"{meeting.template} does not exist",
            "create it or give a path relative to the config file",
        )
    for index, email in enumerate(meeting.organizers):
        if "@" not in email:
            raise table.error(f"organizers[{index}]", f"{email!r} is not an email address",
                              "use the organizer's Zulip email")  # fmt: skip
    if meeting.duration_minutes <= 0 or meeting.duration_minutes > 24 * 60:
        raise table.error("duration_minutes", f"{meeting.duration_minutes} minutes",
                          "use a length between 1 and 1440")  # fmt: skip
    if not 0 < meeting.item_minutes <= meeting.duration_minutes:
        raise table.error("item_minutes", f"{meeting.item_minutes} minutes",
                          f"use a length between 1 and the meeting's duration_minutes "
                          f"({meeting.duration_minutes})")  # fmt: skip
    if meeting.video_link and not meeting.video_link.startswith(("https://", "http://")):
        raise table.error("video_link", f"{meeting.video_link!r} is not a web address",
                          'use e.g. "https://zoom.us/j/9138593505"')  # fmt: skip


def _notes_path_is_dated(table: _Table, meeting: MeetingConfig, rule: rrulebase) -> None:
    """Two meetings writing one notes file would overwrite each other's minutes."""
    days = sorted({start.date() for start in itertools.islice(rule, 2)})
    if len(days) == 2 and meeting.notes_path_for(days[0]) == meeting.notes_path_for(days[1]):
        raise table.error(
            "notes_path",
            f"is the same for the meetings on {days[0]} and {days[1]}, which would share one file",
            'put the date in it, e.g. "notes/%Y%m%d_agenda_and_minutes.md"',
        )


def near_dates(rule: rrulebase, moment: dt.datetime) -> str:
    """The occurrences either side of a date that is not one, so the fix can be picked."""
    around = [rule.before(moment), rule.after(moment)]
    days = [found.date().isoformat() for found in around if found is not None]
    return " or ".join(days) if days else "none"


def _exceptions_are_occurrences(table: _Table, meeting: MeetingConfig, rule: rrulebase) -> None:
    """A skip or move that matches no occurrence is a typo that would let the meeting happen."""
    seen: dict[dt.date, str] = {}
    named = [(f"skip[{i}]", day) for i, day in enumerate(meeting.skip)]
    named += [(f"moved[{i}].from", move.original) for i, move in enumerate(meeting.moved)]
    for name, day in named:
        moment = dt.datetime.combine(day, meeting.start, tzinfo=meeting.timezone)
        if rule.after(moment, inc=True) != moment:
            near = near_dates(rule, moment)
            raise table.error(name, f"{day} is not a day the meeting meets",
                              f"use the date of an occurrence: {near}")  # fmt: skip
        if day in seen:
            raise table.error(name, f"{day} is also given as {table.at(seen[day])}",
                              "keep only one of them")  # fmt: skip
        seen[day] = name
    starts = meeting.recurrence()
    for index, move in enumerate(meeting.moved):
        midnight = dt.datetime.combine(move.to.date(), dt.time.min, tzinfo=meeting.timezone)
        same_day = [s for s in starts.between(midnight, midnight + dt.timedelta(days=1))
                    if s.date() == move.to.date()]  # fmt: skip
        if len(same_day) > 1:
            raise table.error(
                f"moved[{index}].to",
                f"{move.to.date()} already has a meeting",
                "pick another day: each day's meeting has its own notes file",
            )
    if next(iter(starts), None) is None:
        raise table.error(
            "skip",
            "skips every occurrence of the schedule",
            "remove some dates, or end the series by removing the meeting",
        )


def _meeting(file: Path, key: str, raw: object) -> MeetingConfig:
    where = f"meetings.{key}"
    if not isinstance(raw, dict):
        raise ConfigError(file, where, f"got {_toml_type(raw)}",
                          f"expected a table: write it as [meetings.{key}]")  # fmt: skip
    if not _MEETING_KEY.fullmatch(key):
        raise ConfigError(file, where, "the name may only have letters, digits, - and _",
                          "rename the table, e.g. [meetings.community]")  # fmt: skip
    table = _Table(file, where, raw)
    table.check_keys(_MEETING_KEYS)
    config_dir = file.resolve().parent
    first, start, zone = _first(table), _start(table), _timezone(table)
    schedule, rule = _rule(table, first, start, zone)
    publish, remote, branch = _publish(table)
    duration = table.integer("duration_minutes", 60, 60)
    meeting = MeetingConfig(
        key=key,
        title=table.text("title", "Conda Community Meeting"),
        stream=table.text("stream", "community"),
        topic=table.text("topic", "%Y-%m-%d Conda Community Meeting"),
        notes_path=table.text("notes_path", "notes/%Y%m%d_agenda_and_minutes.md"),
        template=config_dir / table.text("template", "notes-template.md"),
        organizers=tuple(e.casefold() for e in table.texts("organizers", "you@example.org", ())),
        schedule=schedule,
        start=start,
        first=first,
        timezone=zone,
        duration_minutes=duration,
        video_link=table.text("video_link", "https://zoom.us/j/9138593505", ""),
        order_by_votes=table.boolean("order_by_votes", True),
        auto_attendance=table.boolean("auto_attendance", False),
        sections=_sections(table),
        config_dir=config_dir,
        agenda_lead=_duration(table, "agenda_lead", "2 days", dt.timedelta(days=2)),
        reminder_lead=_duration(table, "reminder_lead", "15 minutes", dt.timedelta(minutes=15)),
        summary_delay=_duration(table, "summary_delay", "15 minutes", dt.timedelta(minutes=15)),
        skip=_skip(table),
        moved=_moved(table, start, zone),
        notes_url=_notes_url(table),
        publish=publish,
        publish_remote=remote,
        publish_branch=branch,
        remind_owners=table.boolean("remind_owners", False),
        # a meeting shorter than the usual default item is its own default
        item_minutes=table.integer("item_minutes", 10, max(1, min(10, duration))),
        item_warn_at=_warn_at(table),
    )
    _validate(table, meeting)
    _notes_path_is_dated(table, meeting, rule)
    _exceptions_are_occurrences(table, meeting, rule)
    return meeting


def _slots(
    meeting: MeetingConfig, since: dt.datetime, until: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    length = dt.timedelta(minutes=meeting.duration_minutes)
    starts = meeting.recurrence().between(since, until, inc=True)
    return [(start, start + length) for start in starts]


@dataclass(frozen=True)
class Clash:
    """Two meetings in one thread at one time, which would mix their items, votes and
    summaries."""

    earlier: MeetingConfig
    later: MeetingConfig
    topic: str
    day: dt.date


def topic_clash(
    meetings: Sequence[MeetingConfig], span: dt.timedelta, since: dt.datetime | None = None
) -> Clash | None:
    """The first two meetings of one stream that meet in the same topic at overlapping times,
    looking `span` ahead from `since` (or from when both have begun), if any: the config
    checks years ahead, a change from chat around the time it makes."""
    for earlier, later in itertools.combinations(meetings, 2):
        if earlier.stream.casefold() != later.stream.casefold():
            continue
        begun = max(dt.datetime.combine(m.first, dt.time.min, m.timezone) for m in (earlier, later))
        start_at = begun if since is None else max(since, begun)
        taken: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
        for start, end in _slots(earlier, start_at, start_at + span):
            taken.setdefault(earlier.topic_for(start.date()), []).append((start, end))
        for start, end in _slots(later, start_at, start_at + span):
            topic = later.topic_for(start.date())
            if any(s < end and start < e for s, e in taken.get(topic, ())):
                return Clash(earlier, later, topic, start.date())
    return None


def _no_shared_topic_at_one_time(file: Path, meetings: tuple[MeetingConfig, ...]) -> None:
    clash = topic_clash(meetings, OVERLAP_HORIZON)
    if clash is not None:
        raise ConfigError(
            file,
            f"meetings.{clash.later.key}.topic",
            f"meetings.{clash.earlier.key} and meetings.{clash.later.key} both meet in "
            f"#{clash.later.stream} > {clash.topic} on {clash.day}",
            "give one of them its own topic (or stream), or move one of them",
        )


def _adhoc(table: _Table, state_path: Path) -> AdhocConfig:
    """Defaults: anyone may start one, the bundled template (whose heading is the meeting's
    title), notes in `adhoc-notes` beside the state file, ended after 4 hours."""
    table.check_keys(_ADHOC_KEYS)
    config_dir = table.file.resolve().parent
    allowed = table.value("allowed", (str, list), f'"{ANYONE}" or a list of Zulip emails',
                          '["you@example.org"]', ANYONE)  # fmt: skip
    emails: tuple[str, ...] | None = None
    if isinstance(allowed, str) and allowed.strip().casefold() != ANYONE:
        raise table.error("allowed", f"{allowed!r} is neither {ANYONE!r} nor a list",
                          f'write "{ANYONE}", or list Zulip emails like ["you@example.org"] '
                          "([] lets nobody)")  # fmt: skip
    if isinstance(allowed, list):
        emails = tuple(e.casefold() for e in table.texts("allowed", "you@example.org"))
        for index, email in enumerate(emails):
            if "@" not in email:
                raise table.error(f"allowed[{index}]", f"{email!r} is not an email address",
                                  "use the person's Zulip email")  # fmt: skip
    named = table.text("template", "adhoc-notes-template.md", "")
    template = config_dir / named if named else ADHOC_TEMPLATE
    if not template.is_file():
        raise table.error("template", f"{template} does not exist",
                          "create it or give a path relative to the config file")  # fmt: skip
    notes_dir = table.text("notes_dir", "notes/adhoc", "")
    folder = config_dir / notes_dir if notes_dir else state_path.parent / "adhoc-notes"
    if folder.exists() and not folder.is_dir():
        raise table.error("notes_dir", f"{folder} is not a folder",
                          "name a folder (made when the first one starts)")  # fmt: skip
    limit = _duration(table, "limit", "4 hours", dt.timedelta(hours=4))
    if not dt.timedelta(minutes=1) <= limit <= dt.timedelta(days=1):
        raise table.error("limit", f"{format_duration(limit)} is not between a minute and a day",
                          'write e.g. "4 hours"')  # fmt: skip
    return AdhocConfig(folder, template, emails, limit)


def load_config(path: Path) -> BotConfig:
    path = Path(path)
    top = _Table(path, "", _read_toml(path))
    top.check_keys(_TOP_KEYS)
    config_dir = path.resolve().parent
    bot_name = top.text("bot_name", "meetbot", "meetbot")
    if not bot_name:
        raise top.error("bot_name", "is empty", 'name the bot as Zulip knows it, e.g. "meetbot"')
    meetings_table = top.table("meetings", "[meetings.community]")
    meetings = tuple(_meeting(path, key, raw) for key, raw in meetings_table.data.items())
    if not meetings:
        raise top.error("meetings", "has no meetings", "add a [meetings.<name>] table")
    _no_shared_topic_at_one_time(path, meetings)
    zuliprc = top.text("zuliprc", "zuliprc-bot", "")
    roster = Roster()
    roster_name = top.text("roster", "people.example.toml", "")
    if roster_name:
        roster_path = config_dir / roster_name
        if not roster_path.is_file():
            raise top.error("roster", f"{roster_path} does not exist",
                            "create it or give a path relative to the config file")  # fmt: skip
        roster = load_roster(roster_path)
    state_path = config_dir / top.text("state_path", "meetbot.sqlite3", "meetbot.sqlite3")
    return BotConfig(
        path=path.resolve(),
        state_path=state_path,
        meetings=meetings,
        roster=roster,
        bot_name=bot_name,
        zuliprc=config_dir / zuliprc if zuliprc else None,
        adhoc=_adhoc(top.table("adhoc", "[adhoc]", {}), state_path),
    )
