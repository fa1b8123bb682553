"""The zulip_bots handler driven with message dicts shaped like Zulip 9's, on a tmp config."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from zulip_bots.test_lib import BotTestCase, DefaultTests, StubBotHandler

from tests.conftest import REPO
from zulip_bot.chat import handler as handler_module
from zulip_bot.chat.client import StartupError
from zulip_bot.chat.handler import MeetbotHandler, handler_class
from zulip_bot.config import ConfigError
from zulip_bot.meeting import commands
from zulip_bot.meeting.effects import Sender
from zulip_bot.notes import NotesDocument

NOW = dt.datetime(2024, 11, 4, 12, 0, tzinfo=dt.UTC)
DAY = dt.date(2024, 11, 6)  # the meeting that is next at NOW
TOPIC = "2024-11-06 Conda Community Meeting"
DASHA = ("dashagurova@example.org", "Dasha Gurova", 11)
JAIME = Sender("jaimergp@example.org", "Jaime Rodríguez-Guerra", 10)
ADDED = "Added item **1** to New Agenda Items: DG: {}\nReact with 👍 (or `vote 1`) to vote for it."

_ids = itertools.count(1000)


def fixed_now() -> dt.datetime:
    return NOW


def copy_config(directory: Path) -> Path:
    for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
        shutil.copy(REPO / "config" / name, directory / name)
    return directory / "meetbot.example.toml"


class Stub(StubBotHandler):
    """Points the bot at a config, the way `--bot-config-file` with a [meetbot] section does."""

    def __init__(self, config_path: Path) -> None:
        super().__init__()
        self.config_path = config_path
        # Zulip's ids are not the incoming message's: a mix-up must not go unnoticed.
        self.message_server.message_id = 500

    def get_config_info(self, bot_name: str, optional: bool = False) -> dict[str, str]:
        return {"config": str(self.config_path)} if bot_name == "meetbot" else {}


def stream_message(
    content: str,
    sender: tuple[str, str, int] = DASHA,
    message_id: int | None = None,
    realm: str = "zulip",
) -> dict[str, Any]:
    """Shaped like recordings/exchanges/062-mention-bot-name.json, with markdown content."""
    email, name, user_id = sender
    return {
        "id": next(_ids) if message_id is None else message_id,
        "type": "stream",
        "sender_id": user_id,
        "sender_email": email,
        "sender_full_name": name,
        "sender_realm_str": realm,
        "display_recipient": "community",
        "stream_id": 30,
        "subject": TOPIC,
        "content": content,
        "content_type": "text/x-markdown",
    }


def direct_message(content: str, bot: StubBotHandler) -> dict[str, Any]:
    """Shaped like recordings/exchanges/055-dm-group.json, but 1:1 with the bot."""
    email, name, user_id = DASHA
    return {
        "id": next(_ids),
        "type": "private",
        "sender_id": user_id,
        "sender_email": email,
        "sender_full_name": name,
        "sender_realm_str": "zulip",
        "display_recipient": [
            {"id": bot.user_id, "email": bot.email, "full_name": bot.full_name},
            {"id": user_id, "email": email, "full_name": name},
        ],
        "subject": "",
        "content": content,
        "content_type": "text/x-markdown",
    }


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return copy_config(tmp_path)


@pytest.fixture
def stub(config_path: Path) -> Stub:
    return Stub(config_path)


@pytest.fixture
def bot(stub: Stub) -> MeetbotHandler:
    bot = MeetbotHandler(now=fixed_now)
    bot.initialize(stub)
    return bot


def sent(stub: StubBotHandler) -> list[dict[str, Any]]:
    """What the bot sent, without the id the stub server stamps on each message."""
    return [{k: v for k, v in m.items() if k != "id"} for _, m in stub.transcript]


def draft_items(bot: MeetbotHandler) -> list[tuple[tuple[str, ...], str]]:
    path = bot.service.config.meetings[0].notes_path_for(DAY)
    if not path.exists():
        return []
    return [(i.owners, i.text) for i in NotesDocument.load(path).items("New Agenda Items")]


def test_handler_class_is_the_handler() -> None:
    assert handler_class is MeetbotHandler


def test_usage_lists_the_commands() -> None:
    usage = MeetbotHandler().usage()
    assert usage.endswith("\n\n" + commands.usage())
    assert "`add item <text>`" in usage
    assert usage.startswith("meetbot runs open community meetings")


@pytest.mark.parametrize(
    "content",
    [
        "@**meetbot** add item Zulip CEP",  # the name in the config
        "@**Meetbot**   add item Zulip CEP",  # names are matched case-blind
        "@**test-bot** add item Zulip CEP",  # the bot's Zulip full name
        "@**Whatever|0** add item Zulip CEP",  # the id form, for the bot's user id
        "add item Zulip CEP",  # zulip-run-bot already stripped the mention
    ],
)
def test_stream_add_replies_in_topic_and_writes_draft(
    bot: MeetbotHandler, stub: Stub, content: str
) -> None:
    bot.handle_message(stream_message(content), stub)
    assert sent(stub) == [
        {
            "type": "stream",
            "to": "community",
            "topic": TOPIC,
            "content": ADDED.format("Zulip CEP"),
        }
    ]
    assert draft_items(bot) == [(("DG",), "Zulip CEP")]


def test_someone_elses_mention_is_not_stripped(bot: MeetbotHandler, stub: Stub) -> None:
    bot.handle_message(stream_message("@**Jaime Rodríguez-Guerra** add item Zulip CEP"), stub)
    [reply] = sent(stub)
    assert not reply["content"].startswith("Added")
    assert draft_items(bot) == []


def test_direct_message_gets_a_direct_reply(bot: MeetbotHandler, stub: Stub) -> None:
    bot.handle_message(direct_message("add item Zulip CEP", stub), stub)
    assert sent(stub) == [
        {
            "type": "private",
            "to": ["dashagurova@example.org"],
            "content": "`add` belongs to a meeting: send it in the meeting's stream "
            "(#**community**, #**packaging**), or name the meeting first in a direct "
            "message, like `community add`.",
        }
    ]
    assert draft_items(bot) == []
    bot.handle_message(direct_message("actions", stub), stub)
    assert sent(stub)[-1]["type"] == "private"
    assert sent(stub)[-1]["content"] == "Open action items: none open. 🎉"


@pytest.mark.parametrize(
    ("sender", "realm"),
    [
        (("test-bot@example.com", "test-bot", 0), "zulip"),  # its own echoed message
        (("TEST-BOT@example.com", "Meetbot", 77), "zulip"),  # its own, by email alone
        (("meetbot-bot@zulipdev.com", "Meetbot", 44), "zulip"),  # another bot
        (("emailgateway@zulip.com", "Email Gateway", 21), "zulipinternal"),  # a system bot
    ],
)
def test_bots_get_no_reply_and_change_nothing(
    bot: MeetbotHandler, stub: Stub, sender: tuple[str, str, int], realm: str
) -> None:
    bot.handle_message(stream_message("add item spam", sender=sender, realm=realm), stub)
    assert stub.transcript == []
    assert draft_items(bot) == []
    assert bot.service.store.items("community", DAY.isoformat()) == []


@pytest.mark.parametrize(
    "sender",
    [
        ("User44@zulipdev.com", "Meetings", 77),  # its own email, in another case
        ("renamed@example.org", "Meetings", 44),  # its own id, after an email change
    ],
)
def test_own_messages_are_ignored_without_a_bot_email(
    config_path: Path, sender: tuple[str, str, int]
) -> None:
    """zulip-run-bot may run on an ordinary account, whose email does not end in -bot@."""
    stub = Stub(config_path)
    stub.email, stub.full_name, stub.user_id = "user44@zulipdev.com", "Meetings", 44
    bot = MeetbotHandler(now=fixed_now)
    bot.initialize(stub)
    bot.handle_message(stream_message("add item spam", sender=sender), stub)
    assert stub.transcript == []
    assert bot.service.store.items("community", DAY.isoformat()) == []


def test_reaction_on_the_add_reply_is_a_vote(bot: MeetbotHandler, stub: Stub) -> None:
    bot.handle_message(stream_message("@**meetbot** add item Zulip CEP", message_id=157), stub)
    reply_id = stub.transcript[0][1]["id"]
    assert reply_id == 501
    bot.service.handle_reaction("reaction:1", JAIME, reply_id, "+1", True, NOW)
    assert bot.service.store.vote_counts("community", DAY.isoformat()) == {1: 1}
    stub.reset_transcript()
    bot.handle_message(stream_message("agenda"), stub)
    assert "| 1 | Zulip CEP | DG | 1 |" in stub.transcript[0][1]["content"]


def test_redelivered_message_is_answered_once(bot: MeetbotHandler, stub: Stub) -> None:
    message = stream_message("@**meetbot** add item Zulip CEP")
    bot.handle_message(dict(message), stub)
    bot.handle_message(dict(message), stub)
    assert len(stub.transcript) == 1
    assert draft_items(bot) == [(("DG",), "Zulip CEP")]


def test_bad_config_quits_with_the_config_error(config_path: Path) -> None:
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(text.replace('"Europe/Berlin"', '"Europe/Berln"'), encoding="utf-8")

    class Returning(Stub):
        """A handler whose quit() returns must still not leave the bot without a service."""

        quit_message = ""

        def quit(self, message: str = "") -> None:
            self.quit_message = message

    stub = Returning(config_path)
    with pytest.raises(ConfigError):
        MeetbotHandler().initialize(stub)
    assert stub.quit_message.startswith("meetbot cannot start: ")
    assert "meetings.packaging.timezone" in stub.quit_message
    assert 'did you mean "Europe/Berlin"?' in stub.quit_message


def test_without_bot_config_the_default_config_is_used(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handler_module, "default_config_path", lambda: config_path)
    bot = MeetbotHandler()
    bot.initialize(StubBotHandler())
    assert bot.service.config.path == config_path.resolve()
    assert bot.service.store.db.execute("PRAGMA database_list").fetchone()[2] == str(
        config_path.parent / "meetbot.sqlite3"
    )


class TestWithBotTestCase(BotTestCase, DefaultTests):
    """zulip_bots' own conformance tests, wired to a bot that lives outside its package."""

    bot_name = "meetbot"

    def setUp(self) -> None:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.config_path = copy_config(Path(directory.name))

    def _get_handlers(self) -> tuple[MeetbotHandler, StubBotHandler]:
        bot, stub = MeetbotHandler(now=fixed_now), Stub(self.config_path)
        bot.initialize(stub)
        return bot, stub

    def make_request_message(self, content: str) -> dict[str, Any]:
        return stream_message(content)

    def test_bot_usage(self) -> None:
        assert "`vote <n>`" in MeetbotHandler().usage()

    def test_bot_responds_to_empty_message(self) -> None:
        response = self.get_response(self.make_request_message(""))
        assert response["content"] == "You sent an empty message. Try `help` to see what I can do."

    def test_dialog(self) -> None:
        self.verify_dialog(
            [
                ("add item Zulip CEP", ADDED.format("Zulip CEP")),
                ("vote 1", "Voted for item 1; it has 1 vote."),
                ("vote 1", "You already voted for item 1."),
            ]
        )


def test_a_second_bot_on_the_same_store_quits_naming_the_first(config_path: Path) -> None:
    """`zulip-run-bot` started beside a running bot would answer every message a second time."""

    class Returning(Stub):
        quit_message = ""

        def quit(self, message: str = "") -> None:
            self.quit_message = message

    first = MeetbotHandler(now=fixed_now)
    first.initialize(Stub(config_path))
    stub = Returning(config_path)
    with pytest.raises(StartupError):
        MeetbotHandler(now=fixed_now, store_wait=0).initialize(stub)
    assert stub.quit_message.startswith("meetbot cannot start: another meetbot (pid ")
    first.held.close()
    again = MeetbotHandler(now=fixed_now, store_wait=0)
    again.initialize(Stub(config_path))  # the store is free once the first one is gone
    assert again.service.config.meetings
