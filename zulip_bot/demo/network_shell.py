"""`meetbot shell --sandbox`: the shell's lines, typed by a person into the sandbox, answered by
the real runner and client over HTTP.

The plain shell calls the service directly; this one goes the whole way a message goes on
Zulip, so a script that works here works on a server. The config's own templates and roster
are used; its store and notes go to a scratch folder, because a fresh sandbox numbers its
messages from the start and would collide with a store from another session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import zulip

from zulip_bot import schedule
from zulip_bot.chat.shell import sender_for
from zulip_bot.config import BotConfig, MeetingConfig
from zulip_bot.demo.clock import FileClock
from zulip_bot.demo.play import PATIENCE, Bot, Viewer, idle, live_sandbox
from zulip_bot.meeting.effects import Sender
from zulip_bot.sandbox import Sandbox

VIEWER = "shell-viewer@example.org"


def scratch_config(config: BotConfig, folder: Path) -> BotConfig:
    """The same meetings and roster, with the store and the notes drafts in `folder`."""
    meetings = tuple(
        dataclasses.replace(m, notes_path=str(folder / m.key / m.notes_path))
        for m in config.meetings
    )
    return dataclasses.replace(config, state_path=folder / "meetbot.sqlite3", meetings=meetings)


@dataclasses.dataclass
class NetworkShell:
    """A `chat.shell.Chat` over the sandbox: what it prints is what a viewer of the topic sees
    once the bot has answered."""

    config: BotConfig
    meeting: MeetingConfig
    sandbox: Sandbox
    clock: FileClock
    bot: Bot
    bot_id: int
    viewer: Viewer
    screen: io.StringIO
    sender: Sender
    clients: dict[str, zulip.Client] = dataclasses.field(default_factory=dict)

    def topic(self) -> str:
        start = schedule.current_occurrence(self.meeting, self.clock.utc())
        return self.meeting.topic_for(start.date()) if start else "meetbot"

    def _client(self) -> zulip.Client:
        email = self.sender.email
        if email not in self.clients:
            if self.sandbox.realm.user_by_login(email) is None:
                user = self.sandbox.add_user(self.sender.full_name, email)
                for stream in {m.stream for m in self.config.meetings}:
                    self.sandbox.subscribe(user, stream)
            self.clients[email] = self.sandbox.client(email)
        return self.clients[email]

    def say(self, text: str, addressed: bool) -> list[str]:
        content = f"@**{self.config.bot_name}** {text}" if addressed else text
        where = {"type": "stream", "to": self.meeting.stream, "topic": self.topic()}
        _ok(self._client().send_message({**where, "content": content}))
        return self._settle()

    def set_clock(self, when: dt.datetime) -> list[str]:
        self.clock.set(when, speed=1.0)
        return [f"(the clock says {self.clock.utc().isoformat()})", *self._settle()]

    def react(self, item: str, added: bool) -> list[str]:
        message = self._bot_message(f"Added item **{item}**")
        if message is None:
            return [f"(the bot posted no reply for item {item} in this topic)"]
        change = self._client().add_reaction if added else self._client().remove_reaction
        _ok(change({"message_id": message, "emoji_name": "+1"}))
        return self._settle()

    def ballot(self, option: int) -> list[str]:
        poll = self._bot_message("/poll")
        if poll is None:
            return ["(the bot posted no poll in this topic)"]
        vote = {"type": "vote", "key": f"canned,{option - 1}", "vote": 1}
        request = {"message_id": poll, "msg_type": "widget", "content": json.dumps(vote)}
        _ok(self._client().call_endpoint("submessage", method="POST", request=request))
        return self._settle()

    def _bot_message(self, starts: str) -> int | None:
        """The newest of the bot's messages in the topic that starts with `starts`."""
        narrow = [
            {"operator": "stream", "operand": self.meeting.stream},
            {"operator": "topic", "operand": self.topic()},
            {"operator": "sender", "operand": self.bot_id},
        ]
        found = self._client().get_messages(
            {"anchor": "newest", "num_before": 100, "num_after": 0, "narrow": narrow,
             "apply_markdown": False}
        )  # fmt: skip
        ids = [int(m["id"]) for m in found.get("messages", []) if m["content"].startswith(starts)]
        return ids[-1] if ids else None

    def _settle(self) -> list[str]:
        """Wait until the bot has handled everything and posted it, then show what came."""
        deadline = time.monotonic() + PATIENCE
        quiet = 0
        while quiet < 3 and time.monotonic() < deadline and self.bot.is_alive():
            quiet = quiet + 1 if idle(self.sandbox, self.bot_id) else 0
            time.sleep(0.05)
        self.viewer.show_new()
        shown = self.screen.getvalue().splitlines()
        self.screen.seek(0)
        self.screen.truncate()
        return [line for line in shown if line.strip()] or ["(no answer yet)"]


def _ok(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("result") != "success":
        raise RuntimeError(f"the sandbox said: {body.get('msg', body)}")
    return body


@contextmanager
def network_shell(
    config: BotConfig, meeting: MeetingConfig, email: str, now: dt.datetime | None
) -> Iterator[NetworkShell]:
    """The sandbox seeded from `config`, the real bot in a thread, and a shell for `email`."""
    folder = Path(tempfile.mkdtemp(prefix="meetbot-shell-"))
    config = scratch_config(config, folder)
    meeting = next(m for m in config.meetings if m.key == meeting.key)
    clock = FileClock(folder / "clock.json")
    clock.set(now or dt.datetime.now(dt.UTC), speed=1.0)
    screen = io.StringIO()
    with live_sandbox(config, folder, clock, screen, VIEWER) as live:
        bot_id = live.seeded.bot.user_id
        deadline = time.monotonic() + PATIENCE
        while not idle(live.sandbox, bot_id) and time.monotonic() < deadline:
            time.sleep(0.05)  # registered and caught up: what is typed now reaches it
        yield NetworkShell(
            config, meeting, live.sandbox, clock, live.bot, bot_id, live.viewer, screen,
            sender_for(config, email),
        )  # fmt: skip
