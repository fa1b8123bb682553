"""A terminal chat with the bot: the real service, store and notes, and no Zulip server.

Every line is a message to the bot in the meeting's topic, as if it began with `@**meetbot**`.
Lines that start with `/` steer the chat instead (switch person, set the clock, react, vote in
a poll), so that a whole meeting can be scripted in a text file and piped in. `feed` reads the
lines for this shell and for the one that goes through the sandbox (`demo.network_shell`):
what a line means is the same in both, only how it reaches the bot differs.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shlex
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from zulip_bot.config import BotConfig, MeetingConfig
from zulip_bot.meeting.effects import Edit, Effect, Incoming, Sender
from zulip_bot.meeting.service import MeetingService

DIRECTIVES = """\
/as EMAIL [Full Name]   speak as someone else (roster people need only their email)
/at 2024-11-06T17:05Z   set the clock (default: the real time)
/say TEXT               say something in the topic without mentioning the bot
/like N                 react 👍 to the bot's reply that added item N (a vote)
/unlike N               take that 👍 back
/ballot N               vote for option N (1, 2, ...) of the latest poll
/help                   this list
# ...                   a comment, for scripts"""


def sender_for(config: BotConfig, email: str, name: str = "") -> Sender:
    """Roster people by email; anyone else gets a name from the email, or the one given. The
    user id is derived from the email so that it is the same in every session."""
    known = config.roster.by_email(email)
    full_name = name or (known.name if known else email.split("@")[0].replace(".", " ").title())
    return Sender(email.casefold(), full_name, zlib.crc32(email.casefold().encode()) % 10**6)


def moment(text: str) -> dt.datetime | None:
    """`/at`'s time: ISO 8601, `Z` for UTC, and UTC when it names no zone; None if not one."""
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _strip_mention(line: str, bot_name: str) -> str:
    for mention in (f"@**{bot_name}**", f"@{bot_name}"):
        if line.casefold().startswith(mention.casefold()):
            return line[len(mention) :].strip()
    return line


class Chat(Protocol):
    """How a shell's lines reach the bot: each method returns what to print."""

    sender: Sender

    @property
    def config(self) -> BotConfig: ...

    def say(self, text: str, addressed: bool) -> list[str]:
        """Say `text` in the meeting's topic; `addressed`: to the bot (no mention in `text`)."""
        ...

    def set_clock(self, when: dt.datetime) -> list[str]: ...

    def react(self, item: str, added: bool) -> list[str]:
        """Add (or take back) a 👍 on the bot's reply that added item number `item`."""
        ...

    def ballot(self, option: int) -> list[str]:
        """Vote for option `option` (1, 2, ...) of the latest poll."""
        ...


def feed(chat: Chat, line: str) -> list[str]:
    """One line in, what to print out."""
    line = line.strip()
    if not line or line.startswith("#"):
        return []
    if not line.startswith("/"):
        return chat.say(_strip_mention(line, chat.config.bot_name), addressed=True)
    name, _, rest = line.partition(" ")
    rest = rest.strip()
    if name == "/as" and rest:
        email, _, full_name = rest.partition(" ")
        chat.sender = sender_for(chat.config, email, full_name.strip())
        return [f"(you are {chat.sender.full_name} <{chat.sender.email}>)"]
    if name == "/at" and rest:
        when = moment(rest)
        if when is None:
            return [f"(`{rest}` is not a time like 2024-11-06T17:05Z)"]
        return chat.set_clock(when)
    if name == "/say" and rest:
        return chat.say(rest, addressed=False)
    if name in ("/like", "/unlike") and rest.isdigit():
        return chat.react(rest, name == "/like")
    if name == "/ballot" and rest.isdigit() and int(rest) >= 1:
        return chat.ballot(int(rest))
    if name == "/help":
        return DIRECTIVES.splitlines()
    return [f"(I don't know `{shlex.quote(line)}`; /help lists what works)"]


@dataclass
class Shell:
    service: MeetingService
    sender: Sender
    meeting: MeetingConfig
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    pinned: dt.datetime | None = None
    posted: dict[str, int] = field(default_factory=dict)  # ref -> the id the "server" gave it
    _ids: Iterator[int] = field(
        default_factory=lambda: itertools.count(dt.datetime.now(dt.UTC).microsecond * 1000)
    )

    @property
    def config(self) -> BotConfig:
        return self.service.config

    def now(self) -> dt.datetime:
        return self.pinned or self.clock()

    def topic(self) -> str:
        start = self.service.occurrence(self.meeting, self.now())
        return self.meeting.topic_for(start.date()) if start else "meetbot"

    def _event(self, kind: str) -> tuple[str, int]:
        number = next(self._ids)
        return f"shell-{kind}-{self.now().timestamp():.0f}-{number}", number

    def say(self, text: str, addressed: bool) -> list[str]:
        event, number = self._event("message")
        message = Incoming(
            event, number, self.sender, text, self.meeting.stream, self.topic(), addressed=addressed
        )
        return [self._show(reply) for reply in self.service.handle_message(message, self.now())]

    def _show(self, reply: Effect) -> str:
        if isinstance(reply, Edit):
            first, *rest = reply.content.splitlines() or [""]
            shown = [f"{self.service.config.bot_name}> (edits message {reply.message_id}) {first}"]
            return "\n".join(shown + [f"    {line}" for line in rest])
        if reply.ref is not None:
            self.posted[reply.ref] = next(self._ids)
            self.service.message_sent(reply.ref, self.posted[reply.ref])
        where = f"(to {reply.to}) " if reply.to else ""
        first, *rest = reply.content.splitlines() or [""]
        return "\n".join(
            [f"{self.service.config.bot_name}> {where}{first}"] + [f"    {line}" for line in rest]
        )

    def _posted(self, kind: str, number: str = "") -> int | None:
        found = [
            mid
            for ref, mid in self.posted.items()
            if ref.startswith(kind + ":") and ref.endswith(f":{number}" if number else "")
        ]
        return found[-1] if found else None

    def set_clock(self, when: dt.datetime) -> list[str]:
        self.pinned = when
        return [f"(the clock says {self.pinned.isoformat()})"]

    def react(self, item: str, added: bool) -> list[str]:
        message_id = self._posted("item", item)
        if message_id is None:
            return [f"(I posted no reply for item {item} in this session)"]
        event, _ = self._event("reaction")
        self.service.handle_reaction(event, self.sender, message_id, "+1", added, self.now())
        return []

    def ballot(self, option: int) -> list[str]:
        poll = self._posted("poll")
        if poll is None:
            return ["(no poll was posted in this session)"]
        event, _ = self._event("ballot")
        vote = {"type": "vote", "key": f"canned,{option - 1}", "vote": 1}
        self.service.handle_submessage(event, self.sender, poll, json.dumps(vote))
        return []


def run(shell: Chat, lines: Iterable[str], echo: bool) -> Iterator[str]:
    """Output for each input line; with `echo`, the line itself first (for piped scripts)."""
    for line in lines:
        if echo and line.strip() and not line.startswith("#"):
            yield f"{shell.sender.full_name}> {line.rstrip()}"
        yield from feed(shell, line)
