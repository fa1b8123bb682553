"""The zulip_bots face of meetbot: Zulip message dicts in, `MeetingService` effects out.

Everything that knows what a meeting is lives in the Zulip-free service; this module only knows
what Zulip's dicts look like, so that the service can be tested without a server and this file
stays small enough to check against recorded Zulip 9 messages by eye.

Who reads a meeting is asked of Zulip as under `meetbot run` (`chat/access.py`), through the
zulip_bots handler's own client. zulip-run-bot hears no subscription events, so the answer is
trusted for `READERS_TTL` seconds only; a member removed from a private stream reads its
meeting no longer than that. When Zulip cannot be asked, the last answer stands (none yet:
nobody reads), never everyone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import zulip
from zulip_bots.lib import AbstractBotHandler

from zulip_bot.chat.access import StreamReaders
from zulip_bot.chat.client import ApiError, StartupError
from zulip_bot.chat.process import settle_heap, sole_writer
from zulip_bot.chat.roster import SYSTEM_REALM
from zulip_bot.config import ConfigError, default_config_path, load_config
from zulip_bot.meeting import commands
from zulip_bot.meeting.effects import Edit, Effect, Incoming, Sender
from zulip_bot.meeting.readers import Readers, everyone
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store

log = logging.getLogger(__name__)

#: The section of the `--bot-config-file` ini that may name the meetbot TOML config.
CONFIG_SECTION: Final = "meetbot"

#: `@**Name**` or `@**Name|id**` at the very start. zulip-run-bot strips the bot's own mention
#: already, but only for the full name it knows; a DM or another runner may still carry one.
_LEADING_MENTION: Final = re.compile(r"\s*@\*\*(?P<name>[^*|]*)(?:\|(?P<id>\d+))?\*\*")

#: How long an answer on who reads a stream, or on someone's role, is trusted without events.
READERS_TTL: Final = 30.0


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Asked:
    """The zulip_bots client, asked as `access.Asks`: a refusal raises, as `ZulipApi`'s does."""

    def __init__(self, client: zulip.Client) -> None:
        self.client = client

    def call(
        self, method: str, endpoint: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        body = self.client.call_endpoint(endpoint, method=method, request=dict(params or {}))
        if body.get("result") != "success":
            raise ApiError(0, str(body.get("code", "")), str(body.get("msg", "")), body)
        return body


class _Roles:
    """Roles asked one person at a time and kept `ttl` seconds (guests read public streams
    only once subscribed); unknown when Zulip cannot say, which reads as not a member."""

    def __init__(self, asked: _Asked, ttl: float, clock: Callable[[], float]) -> None:
        self.asked, self.ttl, self.clock = asked, ttl, clock
        self.known: dict[int, tuple[int | None, float]] = {}

    def __call__(self, user_id: int) -> int | None:
        role, at = self.known.get(user_id, (None, float("-inf")))
        if self.clock() < at + self.ttl:
            return role
        try:
            role = int(self.asked.call("GET", f"users/{user_id}")["user"]["role"])
        except (ApiError, zulip.ZulipError, OSError, KeyError, ValueError) as error:
            log.warning("cannot look up the role of user %s (%s)", user_id, error)
            return role
        self.known[user_id] = (role, self.clock())
        return role


class MeetbotHandler:
    service: MeetingService  # built in initialize(), once the bot config is known

    def __init__(
        self,
        now: Callable[[], dt.datetime] = _utc_now,
        store_wait: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        #: Injectable so that tests pin the meeting a message belongs to.
        self.now = now
        self.store_wait = store_wait
        self.clock = clock
        #: Zulip's answer on who reads each stream; None under a test's stub, which has no
        #: server to ask (the zulip_bots handler always has one).
        self.readers: StreamReaders | None = None
        #: The store's lock, held as long as the process runs (see `sole_writer`).
        self.held = contextlib.ExitStack()

    def usage(self) -> str:
        return (
            "meetbot runs open community meetings in their Zulip streams: the agenda, votes, "
            "polls, live notes and action items, all kept in the meeting's notes file.\n\n"
            + commands.usage()
        )

    def initialize(self, bot_handler: AbstractBotHandler) -> None:
        info = bot_handler.get_config_info(CONFIG_SECTION, optional=True)
        path = Path(info["config"]) if info.get("config") else default_config_path()
        try:
            config = load_config(path)
            # `zulip-run-bot` beside `meetbot run` on one store would answer everything twice.
            self.held.enter_context(sole_writer(config.state_path, self.store_wait))
        except (ConfigError, StartupError) as error:
            bot_handler.quit(f"meetbot cannot start: {error}")
            # quit() exits under zulip-run-bot; a handler whose quit() returns must not go on
            # without a service.
            raise
        self.service = MeetingService(config, Store(config.state_path), self._readers(bot_handler))
        settle_heap()

    def _readers(self, bot_handler: AbstractBotHandler) -> Readers:
        client = getattr(bot_handler, "_client", None)
        if not isinstance(client, zulip.Client):
            return everyone
        asked = _Asked(client)
        roles = _Roles(asked, READERS_TTL, self.clock)
        self.readers = StreamReaders(asked, roles, ttl=READERS_TTL, clock=self.clock)
        return self.readers

    def _fresh_readers(self) -> None:
        if self.readers is None:
            return
        try:
            self.readers.fresh()
        except (ApiError, zulip.ZulipError, OSError) as error:
            log.warning("cannot ask Zulip who reads the meetings' streams (%s)", error)

    def handle_message(self, message: dict[str, Any], bot_handler: AbstractBotHandler) -> None:
        self._fresh_readers()
        for send in self.service.handle_message(self._incoming(message, bot_handler), self.now()):
            self._send(send, bot_handler)

    def _incoming(self, message: dict[str, Any], bot_handler: AbstractBotHandler) -> Incoming:
        recipient = message["display_recipient"]
        is_stream = isinstance(recipient, str)  # a DM's recipient is a list of users
        return Incoming(
            event_id=f"message:{message['id']}",
            message_id=int(message["id"]),
            sender=self._sender(message, bot_handler),
            content=self._without_mention(message["content"], bot_handler),
            stream=recipient if is_stream else None,
            topic=message.get("subject") if is_stream else None,
        )

    def _sender(self, message: dict[str, Any], bot_handler: AbstractBotHandler) -> Sender:
        """Message dicts carry no is_bot flag, so bots are told apart by their email.

        Zulip gives every bot an email `<name>-bot@<domain>`, and bot emails stay visible even
        where the realm hides human ones. The bot's own echoed replies must never be commands.
        """
        email = str(message["sender_email"])
        user_id = int(message["sender_id"])
        is_own = user_id == bot_handler.user_id or email.casefold() == bot_handler.email.casefold()
        is_bot = (
            is_own
            or email.partition("@")[0].casefold().endswith("-bot")
            or message.get("sender_realm_str") == SYSTEM_REALM
        )
        return Sender(email, str(message["sender_full_name"]), user_id, is_bot=is_bot)

    def _without_mention(self, content: str, bot_handler: AbstractBotHandler) -> str:
        match = _LEADING_MENTION.match(content)
        if match is None:
            return content.strip()
        names = {self.service.config.bot_name.casefold(), bot_handler.full_name.casefold()}
        if match["name"].strip().casefold() in names or match["id"] == str(bot_handler.user_id):
            return content[match.end() :].strip()
        return content.strip()

    def _send(self, send: Effect, bot_handler: AbstractBotHandler) -> None:
        request: dict[str, Any]
        if isinstance(send, Edit):
            bot_handler.update_message({"message_id": send.message_id, "content": send.content})
            return
        if send.stream is None:
            request = {"type": "private", "to": [send.to], "content": send.content}
        else:
            request = {
                "type": "stream",
                "to": send.stream,
                "topic": send.topic,
                "content": send.content,
            }
        result = bot_handler.send_message(request)
        # A failed send has no id; the item then simply cannot be voted on with a reaction.
        if send.ref is not None and result is not None and "id" in result:
            self.service.message_sent(send.ref, int(result["id"]))


handler_class = MeetbotHandler
