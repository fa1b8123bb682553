"""One bot per store: a second `meetbot run` on the same config and store (a service manager
restarting it before the old one is gone) must not register a queue nor post anything."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.chat.test_e2e_schedule import Scene, scene
from zulip_bot.chat.client import StartupError
from zulip_bot.chat.process import lock_path, sole_writer
from zulip_bot.config import load_config

__all__ = ["scene"]  # the fixture, used by name


def test_a_second_bot_on_the_same_store_exits_naming_the_first(scene: Scene) -> None:
    scene.start_bot()
    assert scene.process is not None
    second = subprocess.run(
        [
            sys.executable, "-m", "zulip_bot.cli", "run",
            "--config", str(scene.folder / "meetbot.example.toml"),
            "--zuliprc", str(scene.folder / "zuliprc-bot"),
            "--clock", str(scene.folder / "clock.json"),
            "--tick-every", "0.1", "--store-wait", "0.5",
        ],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert second.returncode != 0
    assert f"another meetbot (pid {scene.process.pid} " in second.stderr
    assert "Stop that one first" in second.stderr

    scene.say("dashagurova@example.org", "add item Zulip CEP")
    scene.settle()
    added = [m for m in scene.bot_messages() if "Added item **1**" in m.content]
    assert len(added) == 1  # the first bot alone answered


def test_a_restart_waits_for_the_old_process_to_let_go(tmp_path: Path) -> None:
    store = tmp_path / "meetbot.sqlite3"
    held, release, got = threading.Event(), threading.Event(), threading.Event()

    def old_bot() -> None:
        with sole_writer(store, 0):
            held.set()
            release.wait(10)

    old = threading.Thread(target=old_bot)
    old.start()
    held.wait(10)
    threading.Timer(0.3, release.set).start()
    with sole_writer(store, 10):
        got.set()
    old.join()
    assert got.is_set()
    assert "pid" in lock_path(store).read_text(encoding="utf-8")


def test_waiting_gives_up_after_its_time(tmp_path: Path) -> None:
    store = tmp_path / "meetbot.sqlite3"
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with sole_writer(store, 0), pytest.raises(StartupError, match="waited 2 s"):  # noqa: SIM117
        with sole_writer(store, 2, sleep=sleep, clock=lambda: now[0]):
            pass
    assert 1.9 <= sum(slept) <= 2.2


def _bot(scene: Scene, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "zulip_bot.cli", "run",
            "--config", str(scene.folder / "meetbot.example.toml"),
            "--zuliprc", str(scene.folder / "zuliprc-bot"),
            "--clock", str(scene.folder / "clock.json"), "--tick-every", "0.1", *extra,
        ],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def _store(scene: Scene) -> Path:
    return load_config(scene.folder / "meetbot.example.toml").state_path


def test_a_bot_with_a_past_does_not_start_on_a_lost_store(scene: Scene) -> None:
    scene.at(-dt.timedelta(days=2))
    scene.start_bot()
    scene.wait(lambda: len(scene.agenda_posts()) == 1, "the agenda thread")
    scene.kill_bot()
    for leftover in _store(scene).parent.glob(f"{_store(scene).name}*"):
        if not leftover.name.endswith(".lock"):
            leftover.unlink()

    refused = _bot(scene)
    assert refused.returncode == 1
    assert "is missing or empty, but this bot has posted in #community before" in refused.stderr
    assert "--new-store" in refused.stderr
    assert not _store(scene).exists()  # nothing started over on top of the old one
    assert len(scene.agenda_posts()) == 1


def test_a_store_deleted_while_the_bot_runs_is_written_back(scene: Scene) -> None:
    scene.at(-dt.timedelta(days=2))
    scene.start_bot()
    scene.wait(lambda: len(scene.agenda_posts()) == 1, "the agenda thread")
    scene.say("dashagurova@example.org", "add item Zulip CEP")
    scene.settle()
    for part in _store(scene).parent.glob(f"{_store(scene).name}*"):
        if not part.name.endswith(".lock"):
            part.unlink()
    scene.wait(_store(scene).exists, "the store written back")
    scene.say("jakirkham@example.org", "add item Change the default format")
    scene.settle()
    assert any("Added item **2**" in m.content for m in scene.bot_messages())
    scene.kill_bot()
    scene.start_bot()  # on the written-back store: it has its past
    scene.say("ocefpaf@example.org", "add item A third thing")
    scene.settle()
    assert any("Added item **3**" in m.content for m in scene.bot_messages())
    assert len(scene.agenda_posts()) == 1
