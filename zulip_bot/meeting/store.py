"""SQLite: what the notes file cannot hold.

Votes, poll ballots, item numbers and authors, the ids of the bot's messages, processed event
ids, the undo log, self-registered people and the registry of action items across meetings.
One file in WAL mode; the service runs each event in one transaction (`Store.transaction`), so
a crash leaves either all of an event's changes or none, and a redelivered event is skipped.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from zulip_bot.overrides import CalendarRow

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE occurrence (
        meeting TEXT NOT NULL, day TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'planned',
        current_item INTEGER, PRIMARY KEY (meeting, day));
    CREATE TABLE item (
        meeting TEXT NOT NULL, day TEXT NOT NULL, number INTEGER NOT NULL, section TEXT NOT NULL,
        text TEXT NOT NULL, owners TEXT NOT NULL, author TEXT, withdrawn INTEGER NOT NULL DEFAULT 0,
        message_id INTEGER, PRIMARY KEY (meeting, day, number));
    CREATE INDEX item_message ON item (message_id);
    CREATE TABLE vote (
        meeting TEXT NOT NULL, day TEXT NOT NULL, number INTEGER NOT NULL, voter TEXT NOT NULL,
        PRIMARY KEY (meeting, day, number, voter));
    CREATE TABLE poll (
        id INTEGER PRIMARY KEY, meeting TEXT NOT NULL, day TEXT NOT NULL, question TEXT NOT NULL,
        options TEXT NOT NULL, quorum INTEGER, voters TEXT, item INTEGER, message_id INTEGER,
        closed INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX poll_message ON poll (message_id);
    CREATE TABLE ballot (
        poll INTEGER NOT NULL, voter_id INTEGER NOT NULL, key TEXT NOT NULL,
        PRIMARY KEY (poll, voter_id, key));
    CREATE TABLE action (
        id INTEGER PRIMARY KEY AUTOINCREMENT, meeting TEXT NOT NULL, day TEXT NOT NULL,
        item TEXT NOT NULL, owner TEXT NOT NULL, text TEXT NOT NULL,
        done INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX action_open ON action (done, owner);
    CREATE TABLE person (
        email TEXT PRIMARY KEY, user_id INTEGER, name TEXT NOT NULL, initials TEXT NOT NULL,
        affiliation TEXT NOT NULL DEFAULT '', github TEXT NOT NULL DEFAULT '',
        registered INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE chair (meeting TEXT NOT NULL, email TEXT NOT NULL, PRIMARY KEY (meeting, email));
    CREATE TABLE undo (
        id INTEGER PRIMARY KEY, meeting TEXT NOT NULL, day TEXT NOT NULL, sender TEXT NOT NULL,
        kind TEXT NOT NULL, payload TEXT NOT NULL);
    CREATE TABLE processed (event TEXT PRIMARY KEY);
    """,
    # 2: options that people add to a native poll while it runs ("<sender_id>,<idx>" keys).
    """
    CREATE TABLE poll_option (
        poll INTEGER NOT NULL, key TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (poll, key));
    """,
    # 3: when an occurrence ended, so that chat after it can say so and point to its summary.
    """
    ALTER TABLE occurrence ADD COLUMN ended_at TEXT;
    """,
    # 4 (runner): replies not yet confirmed by Zulip, the runner's cursor and queue, the 👍
    # reactions already applied and the `add` commands behind items (for edits and deletions).
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL, created REAL NOT NULL,
        stream TEXT, topic TEXT, recipient TEXT, recipient_id INTEGER, content TEXT NOT NULL,
        ref TEXT, ack TEXT, source_message INTEGER, source_user INTEGER, source_name TEXT);
    CREATE TABLE runner_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE runner_reaction (
        message_id INTEGER NOT NULL, user_id INTEGER NOT NULL, emoji TEXT NOT NULL,
        PRIMARY KEY (message_id, user_id, emoji));
    CREATE TABLE runner_command (
        message_id INTEGER PRIMARY KEY, ref TEXT NOT NULL, stream TEXT, topic TEXT);
    """,
    # 5 (schedule): the jobs done, never to be done again, and each occurrence's agenda post,
    # kept current by edits until Zulip's edit limit, then posted afresh at most hourly.
    """
    CREATE TABLE job_done (key TEXT PRIMARY KEY, at TEXT NOT NULL);
    CREATE TABLE agenda_post (
        meeting TEXT NOT NULL, day TEXT NOT NULL, message_id INTEGER, posted_at TEXT NOT NULL,
        content TEXT NOT NULL, stale INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (meeting, day));
    """,
    # 6 (import): the notes line an action item was read from, and whether it was read from
    # prose (inferred) rather than labelled, so that a person confirms it.
    """
    ALTER TABLE action ADD COLUMN line INTEGER;
    ALTER TABLE action ADD COLUMN to_confirm INTEGER NOT NULL DEFAULT 0;
    """,
    # 7 (calendar): changes to the schedule made from chat, replayed in order on top of the
    # config (`zulip_bot/overrides.py`): skip, unskip, move, extra. `moment` is a local time in
    # `zone`, so that a tzdata update keeps the wall-clock time people asked for.
    """
    CREATE TABLE calendar_change (
        id INTEGER PRIMARY KEY AUTOINCREMENT, meeting TEXT NOT NULL, kind TEXT NOT NULL,
        day TEXT NOT NULL, moment TEXT, zone TEXT, text TEXT NOT NULL DEFAULT '',
        by TEXT NOT NULL, made TEXT NOT NULL);
    """,
    # 8 (ad hoc): meetings nobody configured, started in a topic with `start meeting`; whether
    # one is still open is its occurrence's status, under the meeting key `adhoc.<id>`.
    """
    CREATE TABLE adhoc (
        id INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, topic TEXT NOT NULL,
        title TEXT NOT NULL, chair TEXT NOT NULL, started_at TEXT NOT NULL, notes TEXT NOT NULL);
    CREATE INDEX occurrence_status ON occurrence (status);
    """,
    # 9 (item time): each item's clock in a meeting: the time it had while open, since when it
    # is open, what it was planned for, and the highest share of that the topic was told of.
    """
    CREATE TABLE item_clock (
        meeting TEXT NOT NULL, day TEXT NOT NULL, number INTEGER NOT NULL,
        planned INTEGER NOT NULL, spent REAL NOT NULL DEFAULT 0, opened_at TEXT,
        warned INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (meeting, day, number));
    """,
)


@functools.lru_cache(maxsize=256)
def _owners(stored: str) -> tuple[str, ...]:
    """Owners are stored as JSON; the same few lists come back on every event."""
    return tuple(json.loads(stored))


@dataclass(frozen=True)
class ItemRow:
    number: int
    section: str
    text: str
    owners: tuple[str, ...]
    author: str | None
    withdrawn: bool
    message_id: int | None


@dataclass(frozen=True)
class PollRow:
    id: int
    question: str
    options: tuple[str, ...]
    quorum: int | None
    voters: str | None
    item: int | None
    message_id: int | None
    closed: bool
    meeting: str  # its key


@dataclass(frozen=True)
class ActionRow:
    id: int
    meeting: str
    day: str
    item: str
    owner: str
    text: str
    done: bool
    line: int | None = None  # in the meeting's notes, when it was read from them
    to_confirm: bool = False


@dataclass(frozen=True)
class AgendaPost:
    """The agenda message of one occurrence: `content` is what it shows now; `stale` means
    the agenda changed after Zulip stopped letting us edit it."""

    meeting: str
    day: str
    message_id: int | None
    posted_at: str
    content: str
    stale: bool


@dataclass(frozen=True)
class ItemClock:
    """One item's time in a meeting: `spent` seconds while it was open before, `opened_at`
    while it is open now, `warned` the highest percent of `planned` minutes already said."""

    number: int
    planned: int
    spent: float
    opened_at: str | None
    warned: int


@dataclass(frozen=True)
class PersonRow:
    email: str
    user_id: int | None
    name: str
    initials: str
    affiliation: str
    github: str
    registered: bool


@dataclass(frozen=True)
class AdhocRow:
    """An ad hoc meeting: `chair` is its starter's email, `notes` its file's name."""

    id: int
    stream: str
    topic: str
    title: str
    chair: str
    started_at: str
    notes: str

    @property
    def key(self) -> str:
        """A `.` never appears in a configured meeting's key, so the two cannot clash."""
        return f"adhoc.{self.id}"


class Busy(RuntimeError):
    """Another process kept the database locked longer than we wait; nothing was changed."""


BUSY_WAIT = 30.0  # seconds to wait for another process's write lock before giving up


class Store:
    def __init__(self, path: str | Path, busy_wait: float = BUSY_WAIT) -> None:
        self.path = None if str(path) == ":memory:" else Path(path)
        self._busy_wait = busy_wait
        self.db = self._connect(str(path))
        self._migrate()

    def _connect(self, path: str) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None, timeout=self._busy_wait)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def rescue(self) -> bool:
        """A store file deleted while the bot runs is still open here, whole: written back to
        its path (a copy under another name, then renamed in) and reopened there, so that a
        restart finds every vote and item number rather than an empty store. True if it was."""
        if self.path is None or self.path.exists():
            return False
        copy = self.path.with_name(f".{self.path.name}.rescued")
        copy.unlink(missing_ok=True)
        target = sqlite3.connect(str(copy))
        try:
            self.db.backup(target)
        finally:
            target.close()
        copy.replace(self.path)
        self.db.close()
        self.db = self._connect(str(self.path))
        return True

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in filter(str.strip, script.split(";")):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version={number}")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Re-entrant: inside another transaction it is a savepoint, so that the runner can
        store an event's replies in the transaction that the service's changes are made in."""
        if self.db.in_transaction:
            with self.savepoint():
                yield
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise Busy(str(error)) from None
            raise
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Part of a transaction that is undone alone if it fails: a refused command leaves
        the store as it found it, while the event is still marked processed."""
        self.db.execute("SAVEPOINT part")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK TO part")
            self.db.execute("RELEASE part")
            raise
        self.db.execute("RELEASE part")

    # --- events -----------------------------------------------------------------------------

    def seen(self, event: str) -> bool:
        """Mark `event` processed; True if it already was (inside the event's transaction)."""
        cursor = self.db.execute("INSERT OR IGNORE INTO processed VALUES (?)", (event,))
        return cursor.rowcount == 0

    # --- occurrences ------------------------------------------------------------------------

    def status(self, meeting: str, day: str) -> tuple[str, int | None]:
        row = self.db.execute(
            "SELECT status, current_item FROM occurrence WHERE meeting=? AND day=?", (meeting, day)
        ).fetchone()
        return (row[0], row[1]) if row else ("planned", None)

    def set_status(
        self, meeting: str, day: str, status: str, current: int | None, at: str | None = None
    ) -> None:
        """`at` is when the status was reached, kept for an occurrence that ended."""
        self.db.execute(
            "INSERT INTO occurrence (meeting, day, status, current_item, ended_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (meeting, day) DO UPDATE SET "
            "status=excluded.status, current_item=excluded.current_item, "
            "ended_at=excluded.ended_at",
            (meeting, day, status, current, at),
        )

    def last_ended(self, meeting: str) -> tuple[str, str | None] | None:
        """The day and end time of the meeting's latest ended occurrence."""
        row = self.db.execute(
            "SELECT day, ended_at FROM occurrence WHERE meeting=? AND status='ended' "
            "ORDER BY day DESC LIMIT 1",
            (meeting,),
        ).fetchone()
        return (str(row[0]), row[1]) if row else None

    def overdue_days(self, meeting: str, before: str) -> list[str]:
        """Days before `before` whose occurrence was neither held nor skipped and still has
        items: their agenda must not vanish just because the meeting was not started."""
        # Only the days after the last one held or skipped: a long history costs nothing.
        rows = self.db.execute(
            "SELECT DISTINCT i.day FROM item i LEFT JOIN occurrence o "
            "ON o.meeting = i.meeting AND o.day = i.day WHERE i.meeting=? AND i.day<? "
            "AND i.day > (SELECT COALESCE(MAX(day), '') FROM occurrence WHERE meeting=? "
            "AND status IN ('ended', 'skipped')) "
            "AND NOT i.withdrawn AND COALESCE(o.status, 'planned') = 'planned' ORDER BY i.day",
            (meeting, before, meeting),
        )
        return [str(row[0]) for row in rows]

    def voters(self, meeting: str, day: str, number: int) -> list[str]:
        rows = self.db.execute(
            "SELECT voter FROM vote WHERE meeting=? AND day=? AND number=?", (meeting, day, number)
        )
        return [str(row[0]) for row in rows]

    def running(self, meeting: str) -> str | None:
        row = self.db.execute(
            "SELECT day FROM occurrence WHERE meeting=? AND status='running'", (meeting,)
        ).fetchone()
        return str(row[0]) if row else None

    # --- items ------------------------------------------------------------------------------

    def items(self, meeting: str, day: str) -> list[ItemRow]:
        rows = self.db.execute(
            "SELECT number, section, text, owners, author, withdrawn, message_id FROM item "
            "WHERE meeting=? AND day=? ORDER BY number",
            (meeting, day),
        )
        return [ItemRow(n, s, t, _owners(o), a, bool(w), m) for n, s, t, o, a, w, m in rows]

    def add_item(
        self, meeting: str, day: str, section: str, text: str, owners: tuple[str, ...],
        author: str | None, message_id: int | None = None,
    ) -> int:  # fmt: skip
        row = self.db.execute(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM item WHERE meeting=? AND day=?",
            (meeting, day),
        ).fetchone()
        number = int(row[0])
        self.db.execute(
            "INSERT INTO item (meeting, day, number, section, text, owners, author, message_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (meeting, day, number, section, text, json.dumps(list(owners)), author, message_id),
        )
        return number

    def update_item(
        self, meeting: str, day: str, number: int, *, text: str | None = None,
        withdrawn: bool | None = None, message_id: int | None = None,
        owners: tuple[str, ...] | None = None,
    ) -> None:  # fmt: skip
        listed = json.dumps(list(owners)) if owners is not None else None
        changes = (("text", text), ("withdrawn", withdrawn), ("message_id", message_id),
                   ("owners", listed))  # fmt: skip
        for column, value in changes:
            if value is not None:
                self.db.execute(
                    f"UPDATE item SET {column}=? WHERE meeting=? AND day=? AND number=?",
                    (value, meeting, day, number),
                )

    def item_clocks(self, meeting: str, day: str) -> dict[int, ItemClock]:
        rows = self.db.execute(
            "SELECT number, planned, spent, opened_at, warned FROM item_clock "
            "WHERE meeting=? AND day=?",
            (meeting, day),
        )
        return {row[0]: ItemClock(*row) for row in rows}

    def save_item_clock(self, meeting: str, day: str, clock: ItemClock) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO item_clock (meeting, day, number, planned, spent, opened_at, "
            "warned) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (meeting, day, clock.number, clock.planned, clock.spent, clock.opened_at,
             clock.warned),
        )  # fmt: skip

    def item_by_message(self, message_id: int) -> tuple[str, str, int] | None:
        """The live item whose `add` reply this is; a withdrawn item takes no more votes."""
        row = self.db.execute(
            "SELECT meeting, day, number FROM item WHERE message_id=? AND NOT withdrawn",
            (message_id,),
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    # --- votes ------------------------------------------------------------------------------

    def vote(self, meeting: str, day: str, number: int, voter: str, on: bool) -> bool:
        """Add or remove one vote; False when there was nothing to change."""
        if on:
            sql = "INSERT OR IGNORE INTO vote VALUES (?, ?, ?, ?)"
        else:
            sql = "DELETE FROM vote WHERE meeting=? AND day=? AND number=? AND voter=?"
        return self.db.execute(sql, (meeting, day, number, voter)).rowcount == 1

    def vote_counts(self, meeting: str, day: str) -> dict[int, int]:
        rows = self.db.execute(
            "SELECT number, COUNT(*) FROM vote WHERE meeting=? AND day=? GROUP BY number",
            (meeting, day),
        )
        return {int(n): int(c) for n, c in rows}

    # --- polls ------------------------------------------------------------------------------

    def add_poll(
        self, meeting: str, day: str, question: str, options: tuple[str, ...],
        quorum: int | None, voters: str | None, item: int | None,
    ) -> int:  # fmt: skip
        cursor = self.db.execute(
            "INSERT INTO poll (meeting, day, question, options, quorum, voters, item) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (meeting, day, question, json.dumps(list(options)), quorum, voters, item),
        )
        return int(cursor.lastrowid or 0)

    def _poll(self, where: str, args: tuple[object, ...]) -> PollRow | None:
        row = self.db.execute(
            "SELECT id, question, options, quorum, voters, item, message_id, closed, meeting "
            "FROM poll "
            f"WHERE {where} ORDER BY id DESC LIMIT 1",
            args,
        ).fetchone()
        if row is None:
            return None
        poll_id, question, options, quorum, voters, item, message_id, closed, meeting = row
        options = tuple(json.loads(options))
        return PollRow(
            poll_id, question, options, quorum, voters, item, message_id, bool(closed), meeting
        )

    def open_poll(self, meeting: str, day: str) -> PollRow | None:
        return self._poll("meeting=? AND day=? AND closed=0", (meeting, day))

    def poll_by_message(self, message_id: int) -> PollRow | None:
        return self._poll("message_id=?", (message_id,))

    def poll_by_id(self, poll: int) -> PollRow | None:
        return self._poll("id=?", (poll,))

    def set_poll(self, poll: int, *, message_id: int | None = None, closed: bool = False) -> None:
        if message_id is not None:
            self.db.execute("UPDATE poll SET message_id=? WHERE id=?", (message_id, poll))
        if closed:
            self.db.execute("UPDATE poll SET closed=1 WHERE id=?", (poll,))

    def ballot(self, poll: int, voter_id: int, key: str, on: bool) -> None:
        if on:
            self.db.execute("INSERT OR IGNORE INTO ballot VALUES (?, ?, ?)", (poll, voter_id, key))
        else:
            self.db.execute(
                "DELETE FROM ballot WHERE poll=? AND voter_id=? AND key=?", (poll, voter_id, key)
            )

    def add_poll_option(self, poll: int, key: str, text: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO poll_option VALUES (?, ?, ?)", (poll, key, text))

    def poll_options(self, poll: PollRow) -> list[tuple[str, str]]:
        """(key, text) of every option: the poll's own (`canned,<i>`), then those added."""
        added = self.db.execute(
            "SELECT key, text FROM poll_option WHERE poll=? ORDER BY rowid", (poll.id,)
        )
        canned = [(f"canned,{i}", text) for i, text in enumerate(poll.options)]
        return canned + [(str(k), str(t)) for k, t in added]

    def ballots(self, poll: int) -> list[tuple[int, str]]:
        rows = self.db.execute(
            "SELECT voter_id, key FROM ballot WHERE poll=? ORDER BY rowid", (poll,)
        )
        return [(int(v), str(k)) for v, k in rows]

    # --- action items -----------------------------------------------------------------------

    def add_action(
        self, meeting: str, day: str, item: str, owner: str, text: str,
        line: int | None = None, to_confirm: bool = False,
    ) -> int:  # fmt: skip
        cursor = self.db.execute(
            "INSERT INTO action (meeting, day, item, owner, text, line, to_confirm) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (meeting, day, item, owner, text, line, int(to_confirm)),
        )
        return int(cursor.lastrowid or 0)

    def _actions(self, where: str, args: tuple[object, ...]) -> list[ActionRow]:
        rows = self.db.execute(
            "SELECT id, meeting, day, item, owner, text, done, line, to_confirm FROM action "
            f"WHERE {where} ORDER BY id",
            args,
        )
        return [
            ActionRow(i, m, d, it, o, t, bool(x), n, bool(c)) for i, m, d, it, o, t, x, n, c in rows
        ]

    def all_actions(self, meeting: str | None = None) -> list[ActionRow]:
        """Open and done: an import must not bring back an item that was closed since."""
        return self._actions("meeting=?", (meeting,)) if meeting else self._actions("1", ())

    def open_actions(self, owner: str | None = None, meeting: str | None = None) -> list[ActionRow]:
        """Open action items, of one owner and of one recurring meeting when given."""
        where, args = ["done=0"], []
        if owner is not None:
            where.append("owner=?")
            args.append(owner)
        if meeting is not None:
            where.append("meeting=?")
            args.append(meeting)
        return self._actions(" AND ".join(where), tuple(args))

    def actions_of(self, meeting: str, day: str) -> list[ActionRow]:
        return self._actions("meeting=? AND day=?", (meeting, day))

    def action(self, action_id: int) -> ActionRow | None:
        found = self._actions("id=?", (action_id,))
        return found[0] if found else None

    def set_action(self, action_id: int, *, done: bool) -> None:
        self.db.execute("UPDATE action SET done=? WHERE id=?", (int(done), action_id))

    def delete_action(self, action_id: int) -> None:
        self.db.execute("DELETE FROM action WHERE id=?", (action_id,))

    # --- people -----------------------------------------------------------------------------

    def person(self, email: str) -> PersonRow | None:
        return self._person("email=?", (email.casefold(),))

    def person_by_id(self, user_id: int) -> PersonRow | None:
        return self._person("user_id=?", (user_id,))

    def person_by_initials(self, initials: str) -> PersonRow | None:
        return self._person("initials=? COLLATE NOCASE", (initials,))

    def person_by_name(self, name: str) -> PersonRow | None:
        return self._person("name=? COLLATE NOCASE", (name.strip(),))

    def person_by_github(self, login: str) -> PersonRow | None:
        return self._person("github = ? COLLATE NOCASE AND github != ''", (login,))

    def _person(self, where: str, args: tuple[object, ...]) -> PersonRow | None:
        row = self.db.execute(
            "SELECT email, user_id, name, initials, affiliation, github, registered FROM person "
            f"WHERE {where}",
            args,
        ).fetchone()
        if row is None:
            return None
        email, user_id, name, initials, affiliation, github, registered = row
        return PersonRow(email, user_id, name, initials, affiliation, github, bool(registered))

    def claimed(self, field: str, value: str, email: str, *, any_row: bool) -> bool:
        """Whether a person other than `email` holds `value` in `field` (initials, github or
        name): registered with `iam`, or, with `any_row`, as the bot met them."""
        if field not in ("initials", "github", "name"):
            raise ValueError(f"people are not claimed by {field!r}")
        registered = "" if any_row else " AND registered=1"
        found = self.db.execute(
            f"SELECT 1 FROM person WHERE {field}=? COLLATE NOCASE AND email!=?{registered}",
            (value.strip(), email.casefold()),
        ).fetchone()
        return found is not None

    def people_initials(self) -> set[str]:
        return {str(r[0]).upper() for r in self.db.execute("SELECT initials FROM person")}

    def save_person(self, person: PersonRow) -> None:
        self.db.execute(
            "INSERT INTO person VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET "
            "user_id=COALESCE(excluded.user_id, person.user_id), name=excluded.name, "
            "initials=excluded.initials, affiliation=excluded.affiliation, "
            "github=excluded.github, registered=excluded.registered",
            (
                person.email.casefold(), person.user_id, person.name, person.initials,
                person.affiliation, person.github, int(person.registered),
            ),
        )  # fmt: skip

    # --- chairs and undo --------------------------------------------------------------------

    def chairs(self, meeting: str) -> set[str]:
        rows = self.db.execute("SELECT email FROM chair WHERE meeting=?", (meeting,))
        return {str(r[0]) for r in rows}

    def add_chair(self, meeting: str, email: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO chair VALUES (?, ?)", (meeting, email.casefold()))

    def push_undo(self, meeting: str, day: str, sender: str, kind: str, payload: object) -> None:
        self.db.execute(
            "INSERT INTO undo (meeting, day, sender, kind, payload) VALUES (?, ?, ?, ?, ?)",
            (meeting, day, sender, kind, json.dumps(payload)),
        )

    # --- the schedule -----------------------------------------------------------------------

    def jobs_done(self) -> JobsDone:
        return JobsDone(self)

    def is_job_done(self, key: str) -> bool:
        found = self.db.execute("SELECT 1 FROM job_done WHERE key = ?", (key,)).fetchone()
        return found is not None

    def job_done(self, key: str, at: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO job_done VALUES (?, ?)", (key, at))

    def calendar_changes(self) -> list[CalendarRow]:
        """Every change to the schedule made from chat, oldest first: the order they apply in."""
        rows = self.db.execute(
            "SELECT meeting, kind, day, moment, zone, text, by, made FROM calendar_change "
            "ORDER BY id"
        )
        return [CalendarRow(*row) for row in rows]

    def add_calendar_change(self, row: CalendarRow) -> None:
        self.db.execute(
            "INSERT INTO calendar_change (meeting, kind, day, moment, zone, text, by, made) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (row.meeting, row.kind, row.day, row.moment, row.zone, row.text, row.by, row.made),
        )

    def agenda_post(self, meeting: str, day: str) -> AgendaPost | None:
        row = self.db.execute(
            "SELECT message_id, posted_at, content, stale FROM agenda_post "
            "WHERE meeting=? AND day=?",
            (meeting, day),
        ).fetchone()
        return AgendaPost(meeting, day, row[0], row[1], row[2], bool(row[3])) if row else None

    def agenda_post_by_message(self, message_id: int) -> AgendaPost | None:
        row = self.db.execute(
            "SELECT meeting, day, message_id, posted_at, content, stale FROM agenda_post "
            "WHERE message_id=?",
            (message_id,),
        ).fetchone()
        return AgendaPost(row[0], row[1], row[2], row[3], row[4], bool(row[5])) if row else None

    def stale_agenda_posts(self) -> list[AgendaPost]:
        rows = self.db.execute(
            "SELECT meeting, day, message_id, posted_at, content, stale FROM agenda_post "
            "WHERE stale"
        )
        return [AgendaPost(m, d, i, p, c, bool(s)) for m, d, i, p, c, s in rows]

    def save_agenda_post(self, post: AgendaPost) -> None:
        self.db.execute(
            "INSERT INTO agenda_post VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (meeting, day) DO "
            "UPDATE SET message_id=excluded.message_id, posted_at=excluded.posted_at, "
            "content=excluded.content, stale=excluded.stale",
            (post.meeting, post.day, post.message_id, post.posted_at, post.content, post.stale),
        )

    def agenda_posted(self, meeting: str, day: str, message_id: int) -> None:
        self.db.execute(
            "UPDATE agenda_post SET message_id=? WHERE meeting=? AND day=?",
            (message_id, meeting, day),
        )

    def details(self, meeting: str, day: str, item: int) -> set[str]:
        """The sub-bullets that an item's own owners wrote under it (`note #n`), as written."""
        rows = self.db.execute(
            "SELECT payload FROM undo WHERE meeting=? AND day=? AND kind='detail'", (meeting, day)
        )
        payloads = (json.loads(row[0]) for row in rows)
        return {p["text"] for p in payloads if p["item"] == item}

    def pop_undo(self, meeting: str, day: str, sender: str) -> tuple[str, object] | None:
        row = self.db.execute(
            "SELECT id, kind, payload FROM undo WHERE meeting=? AND day=? AND sender=? "
            "ORDER BY id DESC LIMIT 1",
            (meeting, day, sender),
        ).fetchone()
        if row is None:
            return None
        self.db.execute("DELETE FROM undo WHERE id=?", (row[0],))
        return str(row[1]), json.loads(row[2])

    # --- runner: outbox and cursor ------------------------------------------------------------
    # Written by `chat/runner.py` only; the service never reads these tables.

    def outbox_add(self, row: OutboxRow) -> int:
        cursor = self.db.execute(
            "INSERT INTO outbox (event, created, stream, topic, recipient, recipient_id, "
            "content, ref, ack, source_message, source_user, source_name) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.event, row.created, row.stream, row.topic, row.recipient, row.recipient_id,
                row.content, row.ref, row.ack, row.source_message, row.source_user,
                row.source_name,
            ),
        )  # fmt: skip
        return int(cursor.lastrowid or 0)

    def outbox(self) -> list[OutboxRow]:
        rows = self.db.execute(
            "SELECT event, created, stream, topic, recipient, recipient_id, content, ref, ack, "
            "source_message, source_user, source_name, id FROM outbox ORDER BY id"
        )
        return [OutboxRow(*row) for row in rows]

    def outbox_delete(self, row_id: int) -> None:
        self.db.execute("DELETE FROM outbox WHERE id=?", (row_id,))

    def runner_value(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM runner_state WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_runner_value(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO runner_state VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
            "value=excluded.value",
            (key, value),
        )

    def forget_runner_value(self, key: str) -> bool:
        """False when there was nothing to forget."""
        return self.db.execute("DELETE FROM runner_state WHERE key=?", (key,)).rowcount == 1

    def reaction_applied(self, message_id: int, user_id: int, emoji: str, on: bool) -> bool:
        """Record a reaction as applied (or taken back); False when that was already so."""
        if on:
            sql = "INSERT OR IGNORE INTO runner_reaction VALUES (?, ?, ?)"
        else:
            sql = "DELETE FROM runner_reaction WHERE message_id=? AND user_id=? AND emoji=?"
        return self.db.execute(sql, (message_id, user_id, emoji)).rowcount == 1

    def reactions_applied(self, message_id: int) -> set[tuple[int, str]]:
        rows = self.db.execute(
            "SELECT user_id, emoji FROM runner_reaction WHERE message_id=?", (message_id,)
        )
        return {(int(u), str(e)) for u, e in rows}

    def remember_command(
        self, message_id: int, ref: str, stream: str | None, topic: str | None
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO runner_command VALUES (?, ?, ?, ?)",
            (message_id, ref, stream, topic),
        )

    def command(self, message_id: int) -> tuple[str, str | None, str | None] | None:
        row = self.db.execute(
            "SELECT ref, stream, topic FROM runner_command WHERE message_id=?", (message_id,)
        ).fetchone()
        return (str(row[0]), row[1], row[2]) if row else None

    def live_message_ids(self) -> list[int]:
        """The bot's item and poll messages of meetings that have not ended: reactions and
        ballots given on them while the bot was away are read back from them."""
        rows = self.db.execute(
            "SELECT item.message_id FROM item LEFT JOIN occurrence USING (meeting, day) "
            "WHERE item.message_id IS NOT NULL AND NOT item.withdrawn "
            "AND COALESCE(occurrence.status, 'planned') != 'ended' "
            "UNION SELECT message_id FROM poll WHERE message_id IS NOT NULL AND closed=0 "
            "ORDER BY 1"
        )
        return [int(r[0]) for r in rows]

    # --- ad hoc meetings --------------------------------------------------------------------

    def add_adhoc(
        self, stream: str, topic: str, title: str, chair: str, started_at: str, notes: str
    ) -> AdhocRow:
        cursor = self.db.execute(
            "INSERT INTO adhoc (stream, topic, title, chair, started_at, notes) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (stream, topic, title, chair, started_at, notes),
        )
        assert cursor.lastrowid is not None
        return AdhocRow(cursor.lastrowid, stream, topic, title, chair, started_at, notes)

    def open_adhoc(self) -> list[AdhocRow]:
        """The ad hoc meetings still running, oldest first: asked on every message and tick, so
        it starts from the few running occurrences (by their index), never from every ad hoc
        meeting ever held."""
        rows = self.db.execute(
            "SELECT a.id, a.stream, a.topic, a.title, a.chair, a.started_at, a.notes "
            "FROM occurrence o JOIN adhoc a ON a.id = CAST(substr(o.meeting, 7) AS INTEGER) "
            "WHERE o.status = 'running' AND o.meeting LIKE 'adhoc.%' ORDER BY a.id"
        )
        return [AdhocRow(*row) for row in rows]

    def adhoc(self, key: str) -> AdhocRow | None:
        """The ad hoc meeting with this meeting key, open or ended."""
        number = key.removeprefix("adhoc.")
        row = self.db.execute(
            "SELECT id, stream, topic, title, chair, started_at, notes FROM adhoc WHERE id=?",
            (int(number) if number.isdigit() and number != key else -1,),
        ).fetchone()
        return AdhocRow(*row) if row else None


@dataclass(frozen=True)
class OutboxRow:
    """One reply the service asked for, kept until Zulip confirms it. `ack` is the emoji
    that may stand for it on the message it answers (`source_message`)."""

    event: str
    created: float
    stream: str | None
    topic: str | None
    recipient: str | None
    recipient_id: int | None
    content: str
    ref: str | None = None
    ack: str | None = None
    source_message: int | None = None
    source_user: int | None = None
    source_name: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class JobsDone:
    """The jobs done, as `schedule` asks of them (`key in done`, by the key's text): each key
    is looked up by the table's primary key, so a tick costs the same in a series' tenth year
    as in its first; loading every key done made it grow with the history."""

    store: Store

    def __contains__(self, key: object) -> bool:
        return self.store.is_job_done(str(key))
