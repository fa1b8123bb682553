"""`meetbot sandbox` as a person starts it: a real subprocess, talked to with zuliprc files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import zulip

from zulip_bot.config import default_config_path, load_config

STARTED = "Stop with Ctrl-C."


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], list[str], Path]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "zulip_bot.cli", "sandbox", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines: list[str] = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(STARTED):
                break
        assert lines and lines[-1] == STARTED, (lines, process.stderr and process.stderr.read())
        yield process, lines, tmp_path
    finally:
        process.kill()
        process.wait(timeout=10)


def test_it_seeds_the_config_and_writes_a_zuliprc_per_account(
    running: tuple[subprocess.Popen[str], list[str], Path],
) -> None:
    process, lines, folder = running
    config = load_config(default_config_path())
    url = lines[0].removeprefix("Zulip sandbox running at ")
    assert url.startswith("http://127.0.0.1:")
    people = [p.email for p in config.roster.people if p.email]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["zuliprc-bot", *(f"zuliprc-{email}" for email in people)]
    )
    bot = zulip.Client(config_file=str(folder / "zuliprc-bot"))
    me = bot.get_profile()
    assert (me["email"], me["is_bot"], me["full_name"]) == (
        "meetbot-bot@zulipdev.com",
        True,
        "meetbot",
    )
    streams = {s["name"] for s in bot.get_subscriptions()["subscriptions"]}
    assert streams == {m.stream for m in config.meetings}
    organizer = config.meetings[0].organizers[0]
    person = zulip.Client(config_file=str(folder / f"zuliprc-{organizer}"))
    sent = person.send_message(
        {
            "type": "stream",
            "to": config.meetings[0].stream,
            "topic": "hello",
            "content": "@**meetbot** help",
        }
    )
    assert sent["result"] == "success"
    seen = bot.get_raw_message(sent["id"])["message"]
    assert seen["sender_email"].endswith("@zulipdev.com")  # hidden, as in most organizations
    assert seen["flags"] == ["mentioned"]
    members = {m["full_name"]: m for m in bot.get_members()["members"]}
    assert (
        members[next(p.name for p in config.roster.people if p.email == organizer)]["role"] == 200
    )
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_a_config_that_cannot_be_read_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "meetbot.toml"
    broken.write_text("bot_name = [", encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "zulip_bot.cli",
            "sandbox",
            "--config",
            str(broken),
            "--dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert str(broken) in done.stderr and "not valid TOML" in done.stderr
    assert not list(tmp_path.glob("zuliprc-*"))
