"""Who reads a meeting, on the network path: the sandbox says who can read the stream (private
or public, guests, subscriptions changing), the runner asks it and hears its events, and
people talk to the bot on their own `zulip.Client`s."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import zulip
from zulip_bots.lib import ExternalBotHandler

from tests.chat.test_runner import DURING, Meeting
from tests.chat.test_runner import meeting as meeting  # the fixture
from zulip_bot.chat.handler import READERS_TTL, MeetbotHandler
from zulip_bot.meeting.readers import members_only

DAY = dt.date(2024, 11, 6)
TOPIC = "2024-11-06 Conda Community Meeting"
COMMANDS = (
    "community agenda",
    "community actions",
    "actions",
    "community notes",
    "community add item x",
    "community vote 1",
)


class People:
    """Each person on their own client, as in a real organization."""

    def __init__(self, meeting: Meeting) -> None:
        self.meeting = meeting
        self.clients: dict[str, zulip.Client] = {}

    def client(self, who: str) -> zulip.Client:
        if who not in self.clients:
            email = self.meeting.users[who].delivery_email
            self.clients[who] = self.meeting.sandbox.client(email)
        return self.clients[who]

    def ok(self, answer: dict[str, Any]) -> dict[str, Any]:
        assert answer["result"] == "success", answer
        return answer

    def dm(self, who: str, text: str) -> str:
        """The bot's answer to a direct message (after everything before it is answered)."""
        bot = self.meeting.bot.user_id
        before = {m.id for m in self._dms_to(who)}
        self.ok(self.client(who).send_message({"type": "private", "to": [bot], "content": text}))
        self.meeting.settle()
        return "\n".join(m.content for m in self._dms_to(who) if m.id not in before)

    def _dms_to(self, who: str) -> list[Any]:
        user = self.meeting.users[who].user_id
        return [m for m in self.meeting.bot_dms() if user in m.dm_user_ids]

    def say(self, who: str, text: str) -> None:
        self.ok(
            self.client(who).send_message(
                {
                    "type": "stream",
                    "to": "community",
                    "topic": TOPIC,
                    "content": f"@**meetbot** {text}",
                }
            )
        )

    def stream_id(self) -> int:
        return int(self.ok(self.client("ADMIN").get_stream_id("community"))["stream_id"])

    def private(self, private: bool) -> None:
        path = f"streams/{self.stream_id()}"
        self.ok(
            self.client("ADMIN").call_endpoint(
                path, method="PATCH", request={"is_private": private}
            )
        )

    def subscribe(self, who: str) -> None:
        user = self.meeting.users[who].user_id
        self.ok(self.client("ADMIN").add_subscriptions([{"name": "community"}], principals=[user]))

    def role(self, who: str, role: int) -> None:
        user = self.meeting.users[who].user_id
        self.ok(
            self.client("ADMIN").call_endpoint(
                f"users/{user}", method="PATCH", request={"role": role}
            )
        )

    def unsubscribe(self, who: str) -> None:
        user = self.meeting.users[who].user_id
        self.ok(self.client("ADMIN").remove_subscriptions(["community"], principals=[user]))


def _state(meeting: Meeting) -> tuple[bytes, list[Any]]:
    notes = meeting.config.meetings[0].notes_path_for(DAY).read_bytes()
    rows = meeting.db("SELECT * FROM item") + meeting.db("SELECT * FROM vote")
    return notes, rows + meeting.db("SELECT * FROM action")


def test_only_who_reads_the_stream_reads_the_meeting(meeting: Meeting) -> None:
    guest = meeting.sandbox.add_user("Gus Guest", "gus@example.org", role="guest")
    meeting.users["GUEST"] = guest
    people = People(meeting)
    people.private(True)
    people.ok(people.client("SD").remove_subscriptions(["community"]))  # Sam leaves it himself
    runner = meeting.start()
    runner.readers.ttl = math.inf  # from here on only the events tell the bot of changes
    people.say("DG", "add item Zulip CEP")
    people.say("JL", "start")
    people.say("JL", "next")
    people.say("DG", "action WV check the mirrors")
    meeting.settle()
    shut = members_only(meeting.config.meetings[0])
    before = _state(meeting)

    for outsider in ("SD", "GUEST"):  # a member outside the private stream, and a guest
        for text in COMMANDS:
            answer = people.dm(outsider, text)
            if text == "actions":
                assert "check the mirrors" not in answer and "A1" not in answer, answer
            else:
                assert answer == shut, (outsider, text, answer)
    assert _state(meeting) == before
    agenda = people.dm("DG", "community agenda")  # a subscriber gets the real answers
    assert "Zulip CEP" in agenda
    assert "A1: check the mirrors" in people.dm("DG", "actions")
    assert "(1 agenda item)" in people.dm("DG", "community notes")

    people.subscribe("SD")  # seen without a restart: the subscription event
    assert people.dm("SD", "community agenda") == agenda
    assert "A1: check the mirrors" in people.dm("SD", "actions")
    people.unsubscribe("DG")
    assert people.dm("DG", "community agenda") == shut

    people.private(False)  # public: every member reads it, a guest only once subscribed
    assert people.dm("DG", "community agenda") == agenda
    people.role("DG", 600)  # made a guest: outside the stream, shut out again
    assert people.dm("DG", "community agenda") == shut
    assert people.dm("GUEST", "community agenda") == shut
    people.subscribe("GUEST")
    assert people.dm("GUEST", "community agenda") == agenda
    people.dm("GUEST", "community vote 1")
    assert meeting.db("SELECT voter FROM vote") == [(f"user{guest.user_id}@zulipdev.com",)]


def test_the_zulip_run_bot_handler_asks_zulip_too(meeting: Meeting, tmp_path: Path) -> None:
    """The zulip_bots handler, on its own client as zulip-run-bot gives it: no events, so it
    asks again once its answer is `READERS_TTL` old."""
    people = People(meeting)
    people.private(True)
    people.ok(people.client("SD").remove_subscriptions(["community"]))
    ini = tmp_path / "meetbot.conf"
    ini.write_text(f"[meetbot]\nconfig = {meeting.config.path}\n", encoding="utf-8")
    client = meeting.sandbox.client(meeting.bot.delivery_email)
    bot_handler = ExternalBotHandler(client, str(tmp_path), None, str(ini))
    clock = [0.0]
    handler = MeetbotHandler(now=lambda: DURING, clock=lambda: clock[0])
    handler.initialize(bot_handler)
    shut = members_only(meeting.config.meetings[0])

    def ask(who: str, text: str) -> str:
        """As zulip-run-bot hands the bot a direct message, and what the bot answers."""
        me = meeting.users[who].user_id
        people.ok(
            people.client(who).send_message(
                {"type": "private", "to": [meeting.bot.user_id], "content": text}
            )
        )
        newest = client.get_messages(
            {"anchor": "newest", "num_before": 1, "num_after": 0, "apply_markdown": False}
        )
        handler.handle_message(newest["messages"][-1], bot_handler)
        (answer,) = [m for m in meeting.bot_dms() if me in m.dm_user_ids][-1:]
        return answer.content

    ask("DG", "community add item Zulip CEP")
    assert "Zulip CEP" in ask("DG", "community agenda")
    assert ask("SD", "community agenda") == shut
    assert ask("SD", "community vote 1") == shut
    assert meeting.db("SELECT COUNT(*) FROM vote") == [(0,)]
    people.subscribe("SD")
    assert ask("SD", "community agenda") == shut  # the answer is kept READERS_TTL seconds
    clock[0] += READERS_TTL
    assert "Zulip CEP" in ask("SD", "community agenda")
    handler.held.close()
