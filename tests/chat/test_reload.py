"""SIGHUP on a real `meetbot run` process: the config and roster are read again between events
and the bot goes on; a file that no longer loads keeps the old config and is told to the
organizers once. The pure parts of `chat/reload.py` are tested on files, without a server."""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path

import pytest

from tests.chat.test_e2e_schedule import staged
from tests.chat.test_runner import copy_config, wait_for
from tests.chat.test_runner_restart import Process, bot_process
from zulip_bot.chat import reload
from zulip_bot.config import load_config
from zulip_bot.sandbox.model import Message
from zulip_bot.sandbox.state import Outgoing

__all__ = ["bot_process"]  # the fixture, used by name

INFRA = """
[meetings.infra]
title = "Infra Sync"
stream = "infra"
topic = "%Y-%m-%d infra sync"
notes_path = "notes/infra/%Y-%m-%d.md"
template = "notes-template.md"
organizers = ["dashagurova@example.org"]
schedule = "FREQ=WEEKLY;BYDAY=TH"
first = 2024-11-07
start = "15:00"
timezone = "UTC"
"""
SAM = """
[[person]]
name = "Sam Doe"
initials = "SAM"
email = "sam@example.net"
"""
ORGANIZERS = ("JRG", "JL", "WV", "BZ")  # of the example config's two meetings


def log_lines(process: Process) -> list[str]:
    lines = (process.folder / "bot.log").read_text(encoding="utf-8").splitlines()
    return [str(json.loads(line)["msg"]) for line in lines if line.startswith("{")]


def hang_up(process: Process, after: str) -> None:
    """SIGHUP, then wait until the log has one more line starting with `after`."""
    assert process.popen is not None
    before = sum(line.startswith(after) for line in log_lines(process))
    process.popen.send_signal(signal.SIGHUP)
    wait_for(after, lambda: sum(m.startswith(after) for m in log_lines(process)) > before)


def alive(process: Process) -> bool:
    return process.popen is not None and process.popen.poll() is None


def dms_to(process: Process, who: str) -> list[Message]:
    pair = tuple(sorted((process.bot.user_id, process.users[who].user_id)))
    return [
        m
        for m in process.sandbox.realm.messages.values()
        if m.sender_id == process.bot.user_id and m.stream_id is None and m.dm_user_ids == pair
    ]


def test_a_meeting_added_to_the_config_is_answered_after_sighup(bot_process: Process) -> None:
    process, realm = bot_process, bot_process.sandbox.realm
    everyone = [process.bot, *process.users.values()]
    process.sandbox.add_stream("infra", subscribers=everyone)
    infra = Outgoing(stream=realm.stream_by_name("infra"), topic="infra")
    process.start()
    process.say("DG", "add item before")
    wait_for("item 1", lambda: len(process.replies("Added item **1**")) == 1)

    process.hold.touch()  # a reply committed, not yet posted, when the signal comes
    process.say("BZ", "add item during")
    wait_for("item 2 committed", lambda: process.replies_waiting() == 1)
    with process.config.path.open("a", encoding="utf-8") as config:
        config.write(INFRA)
    hang_up(process, "reload: ")
    assert alive(process)
    process.hold.unlink()
    assert "added infra" in [m for m in log_lines(process) if m.startswith("reload: ")][-1]

    realm.send(process.users["DG"], infra, "@**meetbot** agenda")
    process.say("WV", "add item after")
    wait_for("the bot to catch up", lambda: process.idle() and process.idle())
    answers = [m for m in realm.messages_in("infra", "infra") if m.sender_id == process.bot.user_id]
    assert len(answers) == 1 and "Infra Sync" in answers[0].content, answers
    added = process.replies("Added item")
    assert [m.content.split("**")[1] for m in added] == ["1", "2", "3"]  # once each, none lost
    assert alive(process)


def test_a_broken_config_keeps_the_old_one_and_is_told_once(bot_process: Process) -> None:
    process = bot_process
    process.start()
    good = process.config.path.read_text(encoding="utf-8")
    process.config.path.write_text(good + "\n[meetings.broken\n", encoding="utf-8")
    hang_up(process, "reload refused")
    assert alive(process)
    refused = [m for m in log_lines(process) if m.startswith("reload refused")][-1]
    assert "is not valid TOML" in refused

    process.say("DG", "add item still here")  # the old meetings still work
    wait_for("item 1", lambda: len(process.replies("Added item **1**")) == 1)
    wait_for("the organizers told", lambda: all(dms_to(process, o) for o in ORGANIZERS))
    told = dms_to(process, "JRG")[0].content
    assert "could not reload" in told and "is not valid TOML" in told
    assert "meetbot check-config" in told
    assert str(process.folder) not in told  # the config by its name, not its place

    hang_up(process, "reload refused")  # the same broken file: not told again
    process.say("DG", "add item again")
    wait_for("item 2", lambda: len(process.replies("Added item **2**")) == 1)
    wait_for("the bot to catch up", lambda: process.idle() and process.idle())
    assert [len(dms_to(process, o)) for o in ORGANIZERS] == [1, 1, 1, 1]
    assert dms_to(process, "DG") == []  # not an organizer

    process.config.path.write_text(good, encoding="utf-8")  # fixed: a later error is news
    hang_up(process, "reload: ")
    process.config.path.write_text(good.replace('stream = "packaging"', "stream = 7"), "utf-8")
    hang_up(process, "reload refused")
    wait_for("told anew", lambda: len(dms_to(process, "WV")) == 2)
    assert "meetings.packaging.stream: got 7" in dms_to(process, "WV")[-1].content
    assert alive(process)


def test_a_person_added_to_the_roster_is_recognised_after_sighup(bot_process: Process) -> None:
    process = bot_process
    process.start()
    process.say("SD", "add item before")  # Sam Doe, not in the roster: initials made up
    wait_for("item 1", lambda: len(process.replies("Added item **1**")) == 1)
    assert "SD: before" in process.replies("Added item **1**")[0].content

    roster = process.config.path.parent / "people.example.toml"
    with roster.open("a", encoding="utf-8") as people:  # the realm hides emails: by full name
        people.write(SAM)
    hang_up(process, "people: Sam Doe <sam@example.net>")
    found = [m for m in log_lines(process) if m.startswith("people: Sam Doe")]
    assert found[-1].endswith(f"Zulip user {process.users['SD'].user_id}, by full name")
    process.say("SD", "add item after")
    wait_for("item 2", lambda: len(process.replies("Added item **2**")) == 1)
    assert "SAM: after" in process.replies("Added item **2**")[0].content
    assert alive(process)


def test_a_changed_schedule_takes_effect_after_sighup(tmp_path: Path) -> None:
    with staged(tmp_path) as scene:  # the clock at two days and ten minutes before the meeting
        scene.start_bot()
        scene.ticked()
        assert scene.agenda_posts() == []  # not before its lead time
        config = tmp_path / "meetbot.example.toml"
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace('agenda_lead = "2 days"', 'agenda_lead = "3 days"'), "utf-8")
        assert scene.process is not None
        scene.process.send_signal(signal.SIGHUP)
        scene.wait(lambda: len(scene.agenda_posts()) == 1, "the agenda thread, due now")
        scene.ticked()
        assert len(scene.agenda_posts()) == 1 and scene.process.poll() is None


# --- without a server -------------------------------------------------------------------------


def test_restart_only_settings_are_kept_and_the_rest_applied(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = copy_config(tmp_path)
    running = load_config(path)
    text = path.read_text(encoding="utf-8")
    text = text.replace('state_path = "meetbot.sqlite3"', 'state_path = "elsewhere.sqlite3"')
    path.write_text(text.replace("duration_minutes = 30", "duration_minutes = 45"), "utf-8")
    told: list[str] = []
    with caplog.at_level(logging.INFO, "meetbot.reload"):
        config = reload.Reloader(told.append).reread(running)
    assert config is not None and told == []
    assert config.state_path == running.state_path  # the open, locked store stays
    packaging = config.meeting("packaging")
    assert packaging is not None and packaging.duration_minutes == 45  # the rest applies
    said = caplog.text
    assert "state_path changed" in said and "until a restart" in said
    assert "elsewhere.sqlite3" in said
    assert "changed packaging" in said
