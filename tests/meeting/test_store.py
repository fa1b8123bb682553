"""The SQLite store: migrations, one transaction per event, processed events skipped."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from zulip_bot.meeting.store import MIGRATIONS, Store
from zulip_bot.schedule import JobKey, JobKind


def test_a_new_store_is_in_wal_mode_at_the_latest_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite3")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_an_older_store_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0] + "; PRAGMA user_version=1;")
    old.execute(
        "INSERT INTO item (meeting, day, number, section, text, owners) "
        "VALUES ('community', '2024-11-06', 1, 'New Agenda Items', 'kept', '[\"DG\"]')"
    )
    old.commit()
    old.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert [r.text for r in store.items("community", "2024-11-06")] == ["kept"]
    poll = store.add_poll("community", "2024-11-06", "Q", ("a", "b"), None, None, None)
    store.add_poll_option(poll, "28,1", "c")  # the table migration 2 adds
    found = store.poll_by_id(poll)
    assert found is not None and store.poll_options(found)[-1] == ("28,1", "c")


def test_an_event_is_processed_once_even_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = Store(path)
    with store.transaction():
        assert not store.seen("message:1")
        store.vote("community", "2024-11-06", 1, "dg@example.org", True)
    store.close()
    again = Store(path)
    with again.transaction():
        assert again.seen("message:1")
    assert again.vote_counts("community", "2024-11-06") == {1: 1}


def test_a_failed_event_leaves_nothing_behind(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite3")
    with pytest.raises(RuntimeError), store.transaction():
        store.seen("message:2")
        store.vote("community", "2024-11-06", 1, "dg@example.org", True)
        raise RuntimeError("crash in the middle of the event")
    with store.transaction():
        assert not store.seen("message:2")  # it will be processed when redelivered
    assert store.vote_counts("community", "2024-11-06") == {}


def test_a_refused_command_is_rolled_back_but_the_event_stays_processed(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite3")
    with store.transaction():
        store.seen("message:3")
        with pytest.raises(ValueError), store.savepoint():
            store.vote("community", "2024-11-06", 1, "dg@example.org", True)
            raise ValueError("refused")
    with store.transaction():
        assert store.seen("message:3")
    assert store.vote_counts("community", "2024-11-06") == {}


def test_a_store_deleted_while_open_is_written_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "meetbot.sqlite3"
    store = Store(path)
    store.set_runner_value("cursor", "41")
    assert not store.rescue()  # nothing to do while the file is there
    for part in tmp_path.iterdir():
        part.unlink()
    assert store.rescue()
    store.set_runner_value("after", "yes")  # lands in the file at the path, not the lost one
    store.close()
    again = Store(path)
    assert (again.runner_value("cursor"), again.runner_value("after")) == ("41", "yes")
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "meetbot.sqlite3"
    ]


def test_jobs_done_are_found_by_their_key_and_only_them(tmp_path: Path) -> None:
    """`schedule` asks with a `JobKey`, the store keeps its text; the `!reported` mark of a
    failed job is not the job done."""
    store = Store(tmp_path / "state.sqlite3")
    remind = JobKey("community", dt.datetime(2024, 11, 6, 17, 0), JobKind.REMIND)
    with store.transaction():
        store.job_done(f"{remind}!reported", "2024-11-06T16:45:00+00:00")
    assert remind not in store.jobs_done()
    with store.transaction():
        store.job_done(str(remind), "2024-11-06T16:46:00+00:00")
    done = store.jobs_done()
    assert remind in done and str(remind) in done
    assert JobKey("community", remind.occurrence, JobKind.END) not in done
