"""Load `config/*.toml` into frozen dataclasses; every error names the file, the key and the fix."""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

T = TypeVar("T")
DEFAULT_SECTIONS = (
    ("item", "New Agenda Items"),
    ("announcement", "Announcements"),
    ("intro", "Introductions"),
    ("carried", "From previous meetings"),
)
SAMPLE_DAY = dt.date(2024, 11, 6)


class ConfigError(Exception):
    def __init__(self, file: Path, key: str, fix: str) -> None:
        super().__init__(f"{file}: `{key}`: {fix}")


@dataclass(frozen=True)
class Person:
    name: str
    initials: str
    affiliation: str = ""
    github: str = ""
    email: str = ""


@dataclass(frozen=True)
class Roster:
    people: tuple[Person, ...] = ()
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def by_email(self, email: str) -> Person | None:
        return next((p for p in self.people if p.email == email.casefold()), None)

    def by_initials(self, initials: str) -> Person | None:
        return next((p for p in self.people if p.initials.upper() == initials.upper()), None)

    def by_name(self, name: str) -> Person | None:
        wanted = name.casefold().strip()
        exact = [p for p in self.people if p.name.casefold() == wanted]
        first = [p for p in self.people if p.name.split()[0].casefold() == wanted]
        found = exact or first
        return found[0] if len(found) == 1 else None

    def group(self, name: str) -> tuple[str, ...] | None:
        return next((members for key, members in self.groups if key == name), None)

    def with_person(self, person: Person) -> Roster:
        kept = tuple(p for p in self.people if p.email != person.email)
        return replace(self, people=(*kept, person))


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
    base: Path
    duration_minutes: int = 60
    video_link: str = ""
    order_by_votes: bool = True
    auto_attendance: bool = False
    sections: tuple[tuple[str, str], ...] = DEFAULT_SECTIONS

    def topic_for(self, day: dt.date) -> str:
        return day.strftime(self.topic)

    def notes_path_for(self, day: dt.date) -> Path:
        return self.base / day.strftime(self.notes_path)

    def section(self, kind: str) -> str:
        return dict(self.sections)[kind]


@dataclass(frozen=True)
class BotConfig:
    path: Path
    state_path: Path
    meetings: tuple[MeetingConfig, ...]
    roster: Roster = field(default_factory=Roster)
    bot_name: str = "meetbot"

    def meeting(self, key: str) -> MeetingConfig | None:
        return next((m for m in self.meetings if m.key == key), None)

    def meeting_for_stream(self, stream: str) -> MeetingConfig | None:
        return next((m for m in self.meetings if m.stream.casefold() == stream.casefold()), None)


def default_config_path() -> Path:
    return Path(__file__).resolve().parents[1] / "config" / "meetbot.example.toml"


# --- reading ----------------------------------------------------------------------------------


class _Table:
    """A TOML table that remembers its file and dotted key, to word errors."""

    def __init__(self, file: Path, key: str, data: Mapping[str, Any], known: tuple[str, ...]):
        self.file, self.key, self.data = file, key, data
        for name in data:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(known)}"
                raise ConfigError(file, self._at(name), f"unknown key; {hint}")

    def _at(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def get(self, name: str, kind: type[T], default: T | None = None, example: str = "") -> T:
        if name not in self.data:
            if default is None:
                raise ConfigError(self.file, self._at(name), f"missing; add it, e.g. {example}")
            return default
        value = self.data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(
                self.file, self._at(name), f"expected a {kind.__name__} like {example}"
            )
        return value


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, "(file)", "the file does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, "(syntax)", f"not valid TOML: {error}") from None


PERSON_KEYS = ("name", "initials", "affiliation", "github", "email")


def load_roster(path: Path) -> Roster:
    data = _Table(path, "", _load(path), ("person", "groups"))
    people: list[Person] = []
    for index, raw in enumerate(data.get("person", list, [], "[[person]] tables")):
        entry = _Table(path, f"person[{index}]", raw, PERSON_KEYS)
        person = Person(
            name=entry.get("name", str, example='"Jaime Rodríguez-Guerra"'),
            initials=entry.get("initials", str, example='"JRG"').upper(),
            affiliation=entry.get("affiliation", str, ""),
            github=entry.get("github", str, "").lstrip("@"),
            email=entry.get("email", str, "").casefold(),
        )
        if not (person.initials.isalpha() and 1 <= len(person.initials) <= 4):
            raise ConfigError(path, f"person[{index}].initials", 'use 1 to 4 letters, e.g. "JRG"')
        for other in people:
            if other.initials == person.initials or (person.email and other.email == person.email):
                raise ConfigError(
                    path, f"person[{index}]",
                    f"{person.name} has the same initials or email as {other.name}; "
                    "make them unique",
                )  # fmt: skip
        people.append(person)
    known = {p.initials for p in people}
    groups = []
    for name, members in data.get("groups", dict, {}, "[groups]").items():
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ConfigError(path, f"groups.{name}", 'expected a list of initials like ["JRG"]')
        unknown = [m for m in members if m.upper() not in known]
        if unknown:
            raise ConfigError(path, f"groups.{name}", f"unknown initials {unknown}; add them")
        groups.append((name, tuple(m.upper() for m in members)))
    return Roster(tuple(people), tuple(groups))


MEETING_KEYS = (
    "title", "stream", "topic", "notes_path", "template", "organizers", "schedule", "start",
    "first", "timezone", "duration_minutes", "video_link", "order_by_votes", "auto_attendance",
    "sections",
)  # fmt: skip


def _meeting(path: Path, key: str, raw: Mapping[str, Any]) -> MeetingConfig:
    table = _Table(path, f"meetings.{key}", raw, MEETING_KEYS)
    base = path.parent
    template = base / table.get("template", str, example='"notes-template.md"')
    if not template.is_file():
        raise ConfigError(path, f"meetings.{key}.template", f"{template} does not exist")
    zone_name = table.get("timezone", str, "UTC")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            path, f"meetings.{key}.timezone", 'not a time zone; use one like "Europe/Berlin"'
        ) from None
    start = table.get("start", dt.time, example="17:00:00")
    first = table.get("first", dt.date, example="2024-11-06")
    schedule = table.get("schedule", str, example='"FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"')
    try:
        rrulestr(schedule, dtstart=dt.datetime.combine(first, start))
    except (ValueError, TypeError) as error:
        raise ConfigError(
            path, f"meetings.{key}.schedule", f"not an RRULE ({error}); e.g. FREQ=WEEKLY;BYDAY=WE"
        ) from None
    sections = dict(DEFAULT_SECTIONS)
    for kind, title in table.get("sections", dict, {}).items():
        if kind not in sections or not isinstance(title, str):
            raise ConfigError(path, f"meetings.{key}.sections.{kind}",
                              f"use one of {sorted(sections)} with a section title")  # fmt: skip
        sections[kind] = title
    meeting = MeetingConfig(
        key=key,
        title=table.get("title", str, example='"Conda Community Meeting"'),
        stream=table.get("stream", str, example='"community"'),
        topic=table.get("topic", str, "%Y-%m-%d meeting"),
        notes_path=table.get("notes_path", str, example='"notes/%Y%m%d_agenda_and_minutes.md"'),
        template=template,
        organizers=tuple(o.casefold() for o in table.get("organizers", list, [])),
        schedule=schedule,
        start=start,
        first=first,
        timezone=zone,
        base=base,
        duration_minutes=table.get("duration_minutes", int, 60),
        video_link=table.get("video_link", str, ""),
        order_by_votes=table.get("order_by_votes", bool, True),
        auto_attendance=table.get("auto_attendance", bool, False),
        sections=tuple(sections.items()),
    )
    if len(meeting.topic_for(SAMPLE_DAY)) > 60:
        raise ConfigError(path, f"meetings.{key}.topic", "Zulip topics stop at 60 characters")
    return meeting


def load_config(path: Path) -> BotConfig:
    path = Path(path)
    data = _Table(path, "", _load(path), ("bot_name", "state", "roster", "meetings"))
    roster_path = path.parent / data.get("roster", str, example='"people.example.toml"')
    meetings = tuple(
        _meeting(path, key, raw)
        for key, raw in data.get("meetings", dict, example="[meetings.x]").items()
    )
    return BotConfig(
        path=path,
        state_path=path.parent / data.get("state", str, "meetbot.sqlite3"),
        meetings=meetings,
        roster=load_roster(roster_path),
        bot_name=data.get("bot_name", str, "meetbot"),
    )
