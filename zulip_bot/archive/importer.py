"""`meetbot import`: plan what an archive of past notes adds, apply the plan, say what it did.

`plan` only reads (the archive, the roster file, the store, the next drafts); `apply` writes the
roster (appending people, atomically), the action registry (one transaction) and the next
drafts (through `wrapup.write_draft`, as `end` writes them). A plan made right after an import
finds nothing left to do, which is what makes the import safe to run twice, and `--dry-run` is
`plan` and `report` without `apply`. The archive's own files are never written.

Which action items count as recent: those of the meetings in the three months before the
archive's newest meeting, not before today, because an archive is often imported long after its
last meeting, and its last meetings' open items are the ones people still owe.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from dateutil.relativedelta import relativedelta

from zulip_bot import schedule
from zulip_bot.archive.actions import OpenAction, open_actions
from zulip_bot.archive.people import Mention, RosterPlan, plan_roster
from zulip_bot.archive.read import Archive, Record
from zulip_bot.archive.roster_file import with_people, write_roster
from zulip_bot.config import BotConfig, MeetingConfig, Roster
from zulip_bot.meeting import messages, wrapup
from zulip_bot.meeting.store import Store
from zulip_bot.notes import AgendaItem, NotesError

#: How far back from the archive's newest meeting open action items are imported by default.
RECENT = relativedelta(months=3)

Entry = tuple[str, str, tuple[str, ...]]  # (section, text, owners) added to a draft


@dataclass(frozen=True)
class Carry:
    """The next draft of one meeting, with what its latest notes left undiscussed."""

    meeting: MeetingConfig
    latest: Record
    items: tuple[AgendaItem, ...]
    day: dt.date | None = None
    path: Path | None = None
    entries: tuple[Entry, ...] = ()  # what it lacks now, open action items already registered
    problem: str = ""  # why it is not written


@dataclass(frozen=True)
class Plan:
    archive: Archive
    since: dt.date
    roster_path: Path | None
    roster_bytes: bytes
    roster: RosterPlan
    actions: tuple[OpenAction, ...]  # open, not registered yet
    registered: int  # open ones of the period that the registry already has
    done: int  # marked done in the notes
    unassigned: int  # notes files that no meeting's `notes_path` names
    carries: tuple[Carry, ...]

    @property
    def changes(self) -> int:
        carried = sum(len(c.entries) for c in self.carries if not c.problem)
        people = len(self.roster.new) if self.roster_path is not None else 0
        return people + len(self.actions) + carried


def roster_path(config: BotConfig) -> Path | None:
    """The roster file the config names (the config keeps only the people it loaded)."""
    with config.path.open("rb") as handle:
        name = tomllib.load(handle).get("roster", "")
    return config.path.parent / name if isinstance(name, str) and name.strip() else None


@contextmanager
def snapshot(state_path: Path) -> Iterator[Store]:
    """A scratch copy of the store, for a dry run: planning opens (and so migrates) a store,
    which must not touch the real one. A store nobody has open (no `-wal` file beside it) is
    read as immutable, so that not even SQLite's lock files appear beside it."""
    with tempfile.TemporaryDirectory(prefix="meetbot-import-") as scratch:
        copy = Path(scratch) / "snapshot.sqlite3"
        if state_path.exists():
            wal = state_path.with_name(state_path.name + "-wal")
            uri = f"{state_path.resolve().as_uri()}?mode=ro{'' if wal.exists() else '&immutable=1'}"
            with (
                closing(sqlite3.connect(uri, uri=True)) as source,
                closing(sqlite3.connect(copy)) as target,
            ):
                source.backup(target)
        store = Store(copy)
        try:
            yield store
        finally:
            store.close()


def default_since(archive: Archive) -> dt.date | None:
    return archive.records[-1].day - RECENT if archive.records else None


def _open_listed(store: Store, meeting: str) -> list[messages.OpenAction]:
    """The registry's open items of a meeting, as a draft lists them (mentions are chat's)."""
    rows = store.open_actions(meeting=meeting)
    return [messages.OpenAction(r.id, r.owner, r.owner, r.text, r.day) for r in rows]


def _carry(
    meeting: MeetingConfig, latest: Record, archive: Archive, store: Store, now: dt.datetime
) -> Carry:
    items = tuple(wrapup.undiscussed(meeting, latest.doc))
    held = dt.datetime.combine(latest.day, meeting.start, tzinfo=meeting.timezone)
    upcoming = schedule.next_occurrence(meeting, max(held, now))
    if upcoming is None:
        return Carry(meeting, latest, items, problem=f"{meeting.key} has no more meetings")
    day = upcoming.date()
    path = meeting.notes_path_for(day)
    carry = Carry(meeting, latest, items, day, path)
    if any(path.resolve() == r.path.resolve() for r in archive.records):
        return replace(carry, problem=f"{path} is a file of the archive, which is never edited")
    try:
        draft = wrapup.load_draft(meeting, path, day)
    except NotesError as error:
        return replace(carry, problem=str(error))
    entries = wrapup.missing_entries(meeting, draft, list(items), _open_listed(store, meeting.key))
    return replace(carry, entries=tuple(entries))


def plan(
    config: BotConfig,
    archive: Archive,
    store: Store,
    now: dt.datetime,
    since: dt.date | None = None,
) -> Plan:
    path = roster_path(config)
    old = path.read_bytes() if path is not None and path.is_file() else b""
    mentions = [Mention(a, r.day, r.path) for r in archive.records for a in r.doc.attendees()]
    people = plan_roster(mentions, config.roster)
    since = since or default_since(archive) or now.date()
    meetings = {m.key: m for m in config.meetings}
    recent = [
        (meetings[r.meeting], r.day, r.path, r.doc)
        for r in archive.records
        if r.day >= since and r.meeting in meetings
    ]
    everyone = Roster((*config.roster.people, *(people.new if path is not None else ())))
    found = open_actions(recent, everyone)
    have = {(a.meeting, a.day, a.owner, a.text) for a in store.all_actions()}
    new = [a for a in found.open if (a.meeting, a.day.isoformat(), a.owner, a.text) not in have]
    held = [r for r in archive.records if r.day <= now.date() and r.meeting in meetings]
    latest = {r.meeting: r for r in held if r.meeting is not None}
    return Plan(
        archive=archive,
        since=since,
        roster_path=path,
        roster_bytes=old,
        roster=people,
        actions=tuple(new),
        registered=len(found.open) - len(new),
        done=found.done,
        unassigned=sum(r.meeting not in meetings for r in archive.records),
        carries=tuple(
            _carry(meetings[key], record, archive, store, now) for key, record in latest.items()
        ),
    )


@dataclass(frozen=True)
class Done:
    people: int
    actions: tuple[int, ...]  # registry ids
    drafts: tuple[Path, ...]

    def __str__(self) -> str:
        ids = f" (A{self.actions[0]} to A{self.actions[-1]})" if self.actions else ""
        drafts = ", ".join(str(path) for path in self.drafts) or "none"
        return (
            f"Written: {_count(self.people, 'person', 'people')} to the roster, "
            f"{_count(len(self.actions), 'action item')} to the registry{ids}, drafts: {drafts}."
        )


def apply(plan: Plan, store: Store) -> Done:
    """Write what `plan` found missing: the roster first (it fails loudly on a clash the plan
    missed, before anything else is written), then the registry, then the drafts."""
    if plan.roster.new and plan.roster_path is not None:
        text = with_people(plan.roster_bytes.decode("utf-8"), plan.roster.new)
        write_roster(plan.roster_path, plan.roster_bytes, text)
    with store.transaction():
        ids = tuple(
            store.add_action(
                a.meeting, a.day.isoformat(), a.item, a.owner, a.text, a.line, a.inferred
            )
            for a in plan.actions
        )
    drafts = []
    for carry in plan.carries:
        if carry.problem or carry.day is None:
            continue
        listed = _open_listed(store, carry.meeting.key)
        draft = wrapup.load_draft(carry.meeting, carry.path or Path(), carry.day)
        if wrapup.missing_entries(carry.meeting, draft, list(carry.items), listed):
            drafts.append(wrapup.write_draft(carry.meeting, carry.day, list(carry.items), listed))
    return Done(len(plan.roster.new) if plan.roster_path else 0, ids, tuple(drafts))


# --- what it says ---------------------------------------------------------------------------


def _count(n: int, what: str, many: str = "") -> str:
    return f"{n} {what if n == 1 else many or what + 's'}"


def _shown(path: Path, archive: Archive) -> str:
    return (
        str(path.relative_to(archive.folder)) if path.is_relative_to(archive.folder) else str(path)
    )


def report(plan: Plan, dry_run: bool) -> list[str]:
    """What the import does (or, dry, would do), grouped, with counts."""
    archive, will = plan.archive, "would be " if dry_run else ""
    newest = f", the newest {archive.records[-1].day}" if archive.records else ""
    lines = [
        f"Read {_count(len(archive.records), 'meeting')} in {archive.folder}{newest}; "
        f"{len(archive.unreadable)} unreadable, {len(archive.undated)} without a date (not notes)."
    ]
    if archive.unreadable:
        lines += [f"Unreadable ({len(archive.unreadable)}), skipped:"]
        lines += [f"  {problem}" for problem in archive.unreadable]
    lines += _roster_lines(plan, will)
    lines += _action_lines(plan, will)
    lines += _carry_lines(plan, will)
    if not plan.changes:
        lines += ["Nothing to change: meetbot already has everything this archive gives."]
    elif dry_run:
        lines += [f"Dry run: {_count(plan.changes, 'change')}, nothing written."]
    return lines


def _roster_lines(plan: Plan, will: str) -> list[str]:
    people, where = plan.roster, plan.roster_path or "no roster file"
    lines = [
        f"Roster ({where}): {_count(len(people.new), 'new person', 'new people')} {will}added, "
        f"{people.known} already there, {len(people.clashes)} initials clashes and "
        f"{len(people.spellings)} spelling variants reported."
    ]
    if plan.roster_path is None and people.new:
        lines += ['  The config names no roster: add `roster = "people.toml"` to keep them.']
    made = set(people.made_initials)
    for person in people.new:
        how = " (initials made from the name)" if person.name in made else ""
        extra = ", ".join(
            x for x in (person.affiliation, person.github and "@" + person.github) if x
        )
        lines += [f"  + {person.initials}: {person.name}{', ' + extra if extra else ''}{how}"]
    if people.differences:
        lines += [
            f"  The roster keeps its lines where the archive differs ({len(people.differences)}):"
        ]
        for diff in people.differences:
            lines += [
                f"    {diff.person.name}: {diff.field} {diff.roster!r} in the roster, "
                f"{diff.archive!r} in {_shown(diff.seen.path, plan.archive)}"
            ]
    if people.clashes:
        lines += [f"  Initials claimed by several people, not added ({len(people.clashes)}):"]
        lines += [f"    {c.initials}: {', '.join(c.names)}" for c in people.clashes]
    if people.spellings:
        lines += [f"  One person, several spellings, not added ({len(people.spellings)}):"]
        for variant in people.spellings:
            kept = " (the roster's line is kept)" if variant.in_roster else ""
            lines += [f"    {' / '.join(variant.names)}{kept}"]
    if people.no_initials:
        lines += [
            f"  No initials written or to be made, not added: {', '.join(people.no_initials)}"
        ]
    if people.nameless:
        lines += [f"  {_count(people.nameless, 'attendee mention')} with no full name or handle."]
    return lines


def _action_lines(plan: Plan, will: str) -> list[str]:
    confirm = sum(a.inferred for a in plan.actions)
    lines = [
        f"Action items of the meetings since {plan.since}: {len(plan.actions)} open {will}"
        f"registered ({confirm} read from prose, to confirm), {plan.registered} registered "
        f"before, {plan.done} done in the notes."
    ]
    if plan.unassigned:
        lines += [
            f"  {_count(plan.unassigned, 'file')} that no meeting's notes_path names: their "
            "attendees count, their action items do not (`--meeting KEY` names the meeting)."
        ]
    for action in plan.actions:
        owner = (
            action.owner if action.owner == action.written else f"{action.owner} ({action.written})"
        )
        mark = " [to confirm]" if action.inferred else ""
        lines += [
            f"  + {action.meeting} {action.day} {_shown(action.path, plan.archive)}:{action.line} "
            f"{owner or '(no owner)'}: {action.text}{mark}"
        ]
    return lines


def _carry_lines(plan: Plan, will: str) -> list[str]:
    lines = []
    for carry in plan.carries:
        source = _shown(carry.latest.path, plan.archive)
        head = f"Carry-over of {carry.meeting.key} from {source} ({carry.latest.day})"
        if carry.problem:
            lines += [f"{head}: not written, because {carry.problem}."]
            continue
        fresh = sum(a.meeting == carry.meeting.key for a in plan.actions)
        also = f", and the {_count(fresh, 'action item')} registered now" if fresh else ""
        entries = _count(len(carry.entries), "entry", "entries")
        lines += [
            f"{head} to {carry.path} ({carry.day}): {entries} {will}added "
            f"({_count(len(carry.items), 'undiscussed item')}{also})."
        ]
        lines += [f"  + {section}: {text}" for section, text, _ in carry.entries]
    if not plan.carries:
        lines += ["Carry-over: no notes of a configured meeting to carry from."]
    return lines
