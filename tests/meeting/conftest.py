"""A chat with the meeting service: roster people, a stranger, an admin and another bot talk
to it in the meeting's topic, and the runner's part (reporting ids of posted messages) is done
the way the real runner will do it."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO
from zulip_bot.config import BotConfig, load_config
from zulip_bot.meeting.effects import Effect, Incoming, Send, Sender
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store
from zulip_bot.notes import NotesDocument

DAY = dt.date(2024, 11, 6)
TOPIC = "2024-11-06 Conda Community Meeting"
BEFORE = dt.datetime(2024, 11, 5, 9, 0, tzinfo=dt.UTC)
DURING = dt.datetime(2024, 11, 6, 17, 5, tzinfo=dt.UTC)
OUTSIDERS = {
    "SD": Sender("sam@example.net", "Sam Doe", 900),  # not in the roster
    "ADMIN": Sender("admin@example.org", "Ada Admin", 901, is_admin=True),
    "BOT": Sender("other-bot@example.org", "Other Bot", 902, is_bot=True),
}


@dataclass
class Chat:
    service: MeetingService
    senders: dict[str, Sender]
    sent: dict[str, int] = field(default_factory=dict)  # ref -> the id "Zulip" gave it
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))

    @property
    def config(self) -> BotConfig:
        return self.service.config

    def say(
        self, who: str, text: str, now: dt.datetime = DURING, topic: str = TOPIC
    ) -> list[Effect]:
        number = next(self._ids)
        message = Incoming(f"m{number}", number, self.senders[who], text, "community", topic)
        replies = self.service.handle_message(message, now)
        for reply in replies:
            if isinstance(reply, Send) and reply.ref is not None:  # what the runner does
                self.sent[reply.ref] = next(self._ids)
                self.service.message_sent(reply.ref, self.sent[reply.ref])
        return replies

    def text(self, who: str, text: str, now: dt.datetime = DURING, topic: str = TOPIC) -> str:
        replies = self.say(who, text, now, topic)
        return "\n".join(r.content for r in replies if isinstance(r, Send))

    def react(self, who: str, message_id: int, added: bool = True) -> None:
        event = f"r{next(self._ids)}"
        self.service.handle_reaction(event, self.senders[who], message_id, "+1", added, BEFORE)

    def ballot(self, who: str, poll_message: int, option: int, vote: int = 1) -> None:
        content = json.dumps({"type": "vote", "key": f"canned,{option}", "vote": vote})
        self.service.handle_submessage(
            f"s{next(self._ids)}", self.senders[who], poll_message, content
        )

    def notes_path(self, day: dt.date = DAY) -> Path:
        return self.config.meetings[0].notes_path_for(day)

    def draft(self, day: dt.date = DAY) -> NotesDocument:
        return NotesDocument.load(self.notes_path(day))


def make_chat(directory: Path, edit_config: tuple[str, str] | None = None) -> Chat:
    """A service on a copy of the example config; `edit_config` replaces one line of it."""
    for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
        shutil.copy(REPO / "config" / name, directory / name)
    path = directory / "meetbot.example.toml"
    if edit_config is not None:
        text = path.read_text(encoding="utf-8")
        assert edit_config[0] in text
        path.write_text(text.replace(edit_config[0], edit_config[1], 1), encoding="utf-8")
    return chat_on(path)


def chat_on(path: Path) -> Chat:
    """A service on the config at `path`, with the roster's people and some outsiders."""
    config = load_config(path)
    senders = {
        p.initials: Sender(p.email, p.name, 100 + n) for n, p in enumerate(config.roster.people)
    }
    return Chat(MeetingService(config, Store(config.state_path)), {**senders, **OUTSIDERS})


def store_dump(chat: Chat) -> list[tuple[object, ...]]:
    """Every row of every table but the log of processed events: what a refused command must
    not change."""
    db = sqlite3.connect(chat.config.state_path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [
            (table, *row)
            for table in sorted(tables)
            if table != "processed"
            for row in sorted(db.execute(f"SELECT * FROM {table}"), key=repr)
        ]
    finally:
        db.close()


def unchanged(chat: Chat, who: str, text: str, reply: str) -> None:
    """`text` gets exactly `reply`, and neither the notes nor the store change; the one row
    allowed to appear is the sender's entry in the directory of people who have spoken."""
    path = chat.notes_path()
    notes, rows = path.read_bytes() if path.exists() else None, set(store_dump(chat))
    assert chat.text(who, text) == reply
    assert (path.read_bytes() if path.exists() else None) == notes
    after = set(store_dump(chat))
    assert rows <= after
    email = chat.senders[who].email
    assert all(row[:2] == ("person", email) and row[-1] == 0 for row in after - rows), after - rows


@pytest.fixture
def chat(tmp_path: Path) -> Chat:
    return make_chat(tmp_path)
