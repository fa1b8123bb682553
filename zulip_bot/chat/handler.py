"""The zulip_bots face of meetbot: Zulip message dicts in, `MeetingService` effects out.

Everything that knows what a meeting is lives in the Zulip-free service; this module only knows
what Zulip's dicts look like, so that the service can be tested without a server and this file
stays small enough to check against recorded Zulip 9 messages by eye.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from zulip_bots.lib import AbstractBotHandler

from zulip_bot.chat.client import StartupError
from zulip_bot.chat.process import settle_heap, sole_writer
from zulip_bot.config import ConfigError, default_config_path, load_config
from zulip_bot.meeting import commands
from zulip_bot.meeting.effects import Edit, Effect, Incoming, Sender
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store

#: The section of the `--bot-config-file` ini that may name the meetbot TOML config.
CONFIG_SECTION: Final = "meetbot"

#: `@**Name**` or `@**Name|id**` at the very start. zulip-run-bot strips the bot's own mention
#: already, but only for the full name it knows; a DM or another runner may still carry one.
_LEADING_MENTION: Final = re.compile(r"\s*@\*\*(?P<name>[^*|]*)(?:\|(?P<id>\d+))?\*\*")

#: Cross-realm system bots (Notification Bot, Welcome Bot) post from this realm, e.g. the
#: "moved here from" notices that arrive as ordinary messages.
_SYSTEM_REALM: Final = "zulipinternal"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MeetbotHandler:
    service: MeetingService  # built in initialize(), once the bot config is known

    def __init__(self, now: Callable[[], dt.datetime] = _utc_now, store_wait: float = 30.0) -> None:
        #: Injectable so that tests pin the meeting a message belongs to.
        self.now = now
        self.store_wait = store_wait
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
        self.service = MeetingService(config, Store(config.state_path))
        settle_heap()

    def handle_message(self, message: dict[str, Any], bot_handler: AbstractBotHandler) -> None:
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
            or message.get("sender_realm_str") == _SYSTEM_REALM
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
