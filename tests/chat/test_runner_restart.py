"""Must show 3: a real `meetbot run` process, killed with `kill -9` between an event's commit and
its reply, then restarted: the pending reply is posted once, and what people said, voted and
balloted while it was down is applied after the backfill, in order. And SIGTERM stops it
cleanly, its last reply posted."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.chat.test_runner import seeded, wait_for
from zulip_bot.config import BotConfig
from zulip_bot.sandbox import Sandbox
from zulip_bot.sandbox.model import Message, User
from zulip_bot.sandbox.state import Outgoing

TOPIC = "restart"


@dataclass
class Process:
    sandbox: Sandbox
    config: BotConfig
    bot: User
    users: dict[str, User]
    zuliprc: Path
    folder: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def hold(self) -> Path:
        return self.folder / "hold"

    @property
    def health(self) -> Path:
        return self.folder / "health.json"

    def start(self) -> None:
        self.health.unlink(missing_ok=True)
        env = {**os.environ, "MEETBOT_TEST_HOLD_FILE": str(self.hold)}
        command = [
            sys.executable, "-m", "zulip_bot.cli", "run", "--config", str(self.config.path),
            "--zuliprc", str(self.zuliprc), "--health", str(self.health), "--linger", "0.1",
            "--log-json",
        ]  # fmt: skip
        log = (self.folder / "bot.log").open("ab")
        self.popen = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for("the bot to be up", self.health.exists, 60)

    def kill(self, how: int = signal.SIGKILL) -> int:
        assert self.popen is not None
        self.popen.send_signal(how)
        code = self.popen.wait(30)
        self.popen = None
        return code

    def db(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.config.state_path) as connection:
            return connection.execute(sql, args).fetchall()

    def say(self, who: str, text: str) -> Message:
        stream = self.sandbox.realm.stream_by_name("community")
        target = Outgoing(stream=stream, topic=TOPIC)
        return self.sandbox.realm.send(self.users[who], target, f"@**meetbot** {text}")

    def bot_messages(self) -> list[Message]:
        return [
            m
            for m in self.sandbox.realm.messages_in("community", TOPIC)
            if m.sender_id == self.bot.user_id
        ]

    def replies(self, start: str) -> list[Message]:
        return [m for m in self.bot_messages() if m.content.startswith(start)]

    def replies_waiting(self) -> int:
        """Replies to `add` waiting; not the agenda edits they cause, nor what the schedule
        posts on its own (the process runs on the real clock)."""
        sql = "SELECT COUNT(*) FROM outbox WHERE ref LIKE 'item:%'"
        return int(self.db(sql)[0][0])

    def idle(self) -> bool:
        cursor = self.db("SELECT value FROM runner_state WHERE key='cursor'")
        pending = self.db("SELECT COUNT(*) FROM outbox")[0][0]
        newest = max(self.sandbox.realm.messages)
        return bool(cursor) and int(cursor[0][0]) >= newest and pending == 0


@pytest.fixture
def bot_process(tmp_path: Path) -> Iterator[Process]:
    with seeded(tmp_path, queue_timeout=2) as world:
        process = Process(
            world.sandbox, world.config, world.bot, world.users, world.zuliprc, tmp_path
        )
        try:
            yield process
        finally:
            if process.popen is not None:
                process.kill()


def ballot(process: Process, who: str, poll: Message, option: int) -> None:
    vote = json.dumps({"type": "vote", "key": f"canned,{option}", "vote": 1})
    process.sandbox.realm.add_submessage(process.users[who], poll.id, "widget", vote)


def test_kill_9_between_commit_and_post_then_restart(bot_process: Process) -> None:
    process = bot_process
    realm = process.sandbox.realm
    process.start()
    process.say("DG", "add item first")
    wait_for("item 1", lambda: len(process.replies("Added item **1**")) == 1)
    first = process.replies("Added item **1**")[0]
    process.say("DG", 'poll "Which day?" "Monday" "Friday"')
    wait_for("the poll", lambda: len(process.replies("/poll")) == 1)
    (poll,) = process.replies("/poll")
    wait_for("the poll's id stored", lambda: process.db("SELECT message_id FROM poll")[0][0])
    realm.react(process.users["BZ"], first.id, "+1", None, None, add=True)  # live
    wait_for("BZ's vote", lambda: len(process.db("SELECT * FROM vote")) == 1)
    health = json.loads(process.health.read_text())
    assert health["events_handled_since_start"] >= 3 and health["last_event_handled"] is not None

    process.hold.touch()  # the bot commits but posts nothing while this file exists
    process.say("BZ", "add item second")
    wait_for("item 2 committed", lambda: process.replies_waiting() == 1)
    assert process.kill() == -signal.SIGKILL
    assert process.replies("Added item **2**") == []

    # while it is down, in this order
    process.say("KK", "add item third")
    realm.react(process.users["WV"], first.id, "+1", None, None, add=True)
    realm.react(process.users["BZ"], first.id, "+1", None, None, add=False)  # taken back
    ballot(process, "BZ", poll, 1)
    process.say("JL", "vote 1")
    ballot(process, "KK", poll, 0)
    realm.react(process.users["KK"], first.id, "thumbs_up", None, None, add=True)
    process.say("WV", "add item fourth")

    process.sandbox.expire_queues()  # down long enough for its queue to be collected
    process.hold.unlink()
    process.start()
    wait_for("the bot to catch up", lambda: process.idle() and len(process.replies("Added")) == 4)
    assert process.popen is not None and process.popen.poll() is None

    added = process.replies("Added item")
    assert [m.content.split("**")[1] for m in added] == ["1", "2", "3", "4"]  # once each
    assert "BZ: second" in added[1].content and "KK: third" in added[2].content
    assert process.db("SELECT number, text FROM item ORDER BY number") == [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (4, "fourth"),
    ]
    voters = {v for (v,) in process.db("SELECT voter FROM vote WHERE number=1")}
    assert voters == {"wolfv@example.org", "jezdez@example.org", "kathatherine@example.org"}
    ballots = process.db("SELECT voter_id, key FROM ballot ORDER BY voter_id")
    assert ballots == sorted(
        [(process.users["BZ"].user_id, "canned,1"), (process.users["KK"].user_id, "canned,0")]
    )
    # the vote sent while it was down is acknowledged once
    (vote,) = [m for m in realm.messages_in("community", TOPIC) if m.content.endswith("vote 1")]
    said = "\n\n".join(m.content for m in process.bot_messages())
    acks = [r for r in vote.reactions if r.user_id == process.bot.user_id]
    assert len(acks) + said.count("Voted for item 1;") == 1

    # SIGTERM: the current event is finished, its reply posted, and the exit is clean
    process.hold.touch()
    process.say("DG", "add item fifth")
    wait_for("item 5 committed", lambda: process.replies_waiting() == 1)
    process.hold.unlink()
    assert process.kill(signal.SIGTERM) == 0
    assert len(process.replies("Added item **5**")) == 1
    assert process.db("SELECT COUNT(*) FROM outbox") == [(0,)]
    log = (process.folder / "bot.log").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in log if line.startswith("{")]
    assert any(e.get("event", {}).get("type") == "reaction" for e in events)
    assert events[-1]["msg"] == "stopped"
    messages = [e["msg"] for e in events]
    backfilled = [m for m in messages if m.startswith("backfill: ")]
    assert backfilled and int(backfilled[0].split()[1]) >= 3  # the 3 commands (and bot posts)
    assert any(m.startswith("the saved event queue is gone") for m in messages)
