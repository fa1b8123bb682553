"""The runner against the sandbox over real HTTP, in a realm that hides emails as the recordings'
does. People act on the sandbox's realm directly, so that failures scripted on its sockets hit
the bot alone; the bot talks HTTP only. `Meeting` is shared by the other runner tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from zulip_bot.chat.client import RetryPolicy, ZulipApi
from zulip_bot.chat.roster import Wanted, ZulipUser, match
from zulip_bot.chat.runner import Runner, strip_mention
from zulip_bot.config import BotConfig, load_config
from zulip_bot.meeting.effects import Send
from zulip_bot.meeting.store import Store
from zulip_bot.sandbox import Sandbox
from zulip_bot.sandbox.model import Message, User
from zulip_bot.sandbox.state import Outgoing

TOPIC = "2024-11-06 Conda Community Meeting"
DURING = dt.datetime(2024, 11, 6, 17, 5, tzinfo=dt.UTC)
FAST = RetryPolicy(attempts=6, base=0.01, cap=0.1, max_retry_after=1.0)
#: Roster people as the sandbox's users (full name, login email, how they are found).
PEOPLE = {
    "JRG": ("Jaime Rodríguez-Guerra", "jaimergp@example.org", {"github": "jaimergp"}),
    "JL": ("Jannis Leidel", "jezdez@example.org", {}),  # found by full name
    "DG": ("Dasha Gurova", "dashagurova@example.org", {}),
    "BZ": ("Bas Zalmstra", "baszalmstra@example.org", {"github": "baszalmstra"}),
    "WV": ("Wolf Vollprecht", "wolfv@example.org", {}),
    "KK": ("Katherine Kinnaman", "kathatherine@example.org", {}),
    "SD": ("Sam Doe", "sam@example.net", {}),  # not in the roster
    "ADMIN": ("Ada Admin", "ada@example.org", {"role": "admin"}),  # an organizer by role
}


def copy_config(directory: Path) -> Path:
    for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
        shutil.copy(REPO / "config" / name, directory / name)
    return directory / "meetbot.example.toml"


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Meeting:
    sandbox: Sandbox
    config: BotConfig
    bot: User
    users: dict[str, User]
    zuliprc: Path
    runner: Runner | None = None
    thread: threading.Thread | None = None
    failure: list[BaseException] = field(default_factory=list)
    linger: float = 0.2
    busy_wait: float = 30.0

    # --- the bot ------------------------------------------------------------------------------

    def start(self, **options: Any) -> Runner:
        """The runner in a thread of its own; its store is opened there, as SQLite wants.
        The schedule's clock jobs stay off unless a test asks (`tick_every`): at the pinned
        time they would start the meeting on their own."""
        ready = threading.Event()
        options.setdefault("tick_every", float("inf"))

        def main() -> None:
            try:
                client = self.sandbox.client(self.bot.delivery_email)
                api = ZulipApi(client, policy=FAST)
                me = api.call("GET", "users/me")
                store = Store(self.config.state_path, busy_wait=self.busy_wait)
                self.runner = Runner(
                    self.config, api, me, store, linger=self.linger, now=lambda: DURING, **options
                )
                ready.set()
                self.runner.run()
                store.close()
            except BaseException as error:
                self.failure.append(error)
                ready.set()

        self.thread = threading.Thread(target=main, name="meetbot-runner", daemon=True)
        self.thread.start()
        ready.wait(10)
        assert self.runner is not None, self.failure
        wait_for("the runner to start", lambda: self.runner is not None and self.runner.ready)
        return self.runner

    def stop(self) -> None:
        if self.runner is not None and self.thread is not None:
            self.runner.stop()
            self.thread.join(15)
            assert not self.thread.is_alive(), "the runner did not stop"
        self.runner = None
        assert not self.failure, self.failure

    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive() and not self.failure

    def db(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """Read the bot's store from the test's own connection (WAL lets it)."""
        with sqlite3.connect(self.config.state_path) as connection:
            return connection.execute(sql, args).fetchall()

    def idle(self) -> bool:
        newest = max(self.sandbox.realm.messages, default=0)
        cursor = self.db("SELECT value FROM runner_state WHERE key='cursor'")
        pending = self.db("SELECT COUNT(*) FROM outbox")[0][0]
        return bool(cursor) and int(cursor[0][0]) >= newest and pending == 0

    def settle(self, timeout: float = 60.0) -> None:
        """Until everything sent so far is handled and every reply is posted."""
        wait_for("the bot to catch up", lambda: self.idle() and self.idle(), timeout)
        assert self.alive(), self.failure

    # --- the people ---------------------------------------------------------------------------

    def say(self, who: str, text: str, topic: str = TOPIC, mention: bool = True) -> Message:
        realm = self.sandbox.realm
        stream = realm.stream_by_name("community")
        content = f"@**meetbot** {text}" if mention else text
        return realm.send(self.users[who], Outgoing(stream=stream, topic=topic), content)

    def dm(self, who: str, text: str) -> Message:
        target = Outgoing(dm_user_ids=tuple(sorted((self.users[who].user_id, self.bot.user_id))))
        return self.sandbox.realm.send(self.users[who], target, text)

    def react(self, who: str, message_id: int, add: bool = True, emoji: str = "+1") -> None:
        self.sandbox.realm.react(self.users[who], message_id, emoji, None, None, add=add)

    def ballot(self, who: str, poll_message_id: int, option: int) -> None:
        vote = json.dumps({"type": "vote", "key": f"canned,{option}", "vote": 1})
        self.sandbox.realm.add_submessage(self.users[who], poll_message_id, "widget", vote)

    def edit(self, who: str, message_id: int, text: str) -> None:
        self.sandbox.realm.edit(
            self.users[who], message_id, content=f"@**meetbot** {text}", topic=None
        )

    def delete(self, who: str, message_id: int) -> None:
        self.sandbox.realm.delete(self.users[who], message_id)

    def bot_messages(self, topic: str | None = TOPIC) -> list[Message]:
        return [
            m
            for m in self.sandbox.realm.messages_in("community", topic)
            if m.sender_id == self.bot.user_id
        ]

    def bot_dms(self) -> list[Message]:
        return [
            m
            for m in sorted(self.sandbox.realm.messages.values(), key=lambda m: m.id)
            if m.sender_id == self.bot.user_id and m.stream_id is None
        ]

    def acks(self, message: Message) -> list[str]:
        return [r.emoji_name for r in message.reactions if r.user_id == self.bot.user_id]

    def reply_to_add(self, number: int) -> Message:
        found = [m for m in self.bot_messages() if m.content.startswith(f"Added item **{number}**")]
        assert len(found) == 1, [m.content for m in found]
        return found[0]


@contextmanager
def seeded(tmp_path: Path, queue_timeout: float) -> Iterator[World]:
    """A sandbox with the people, the bot and the two meetings' streams, and the bot's zuliprc."""
    config = load_config(copy_config(tmp_path))
    with Sandbox.start(heartbeat_seconds=0.3, queue_timeout_seconds=queue_timeout) as sandbox:
        users = {
            key: sandbox.add_user(name, email, **options)  # type: ignore[arg-type]
            for key, (name, email, options) in PEOPLE.items()
        }
        bot = sandbox.add_bot("meetbot", owner=users["JRG"])
        everyone = [bot, *users.values()]
        sandbox.add_stream("community", subscribers=everyone)
        sandbox.add_stream("packaging", subscribers=everyone)
        zuliprc = sandbox.zuliprc(tmp_path / "zuliprc-bot", bot.delivery_email)
        yield World(sandbox, config, bot, users, zuliprc)


@dataclass(frozen=True)
class World:
    sandbox: Sandbox
    config: BotConfig
    bot: User
    users: dict[str, User]
    zuliprc: Path


@pytest.fixture
def meeting(tmp_path: Path) -> Iterator[Meeting]:
    with seeded(tmp_path, queue_timeout=30) as world:
        running = Meeting(world.sandbox, world.config, world.bot, world.users, world.zuliprc)
        try:
            yield running
        finally:
            if running.runner is not None:
                running.stop()


# --- pure parts -------------------------------------------------------------------------------


def test_strip_mention_only_of_the_bot() -> None:
    names = {"meetbot"}
    assert strip_mention("@**meetbot** add item x", names, 44) == ("add item x", True)
    assert strip_mention("@**Meetbot|44**  vote 2", names, 44) == ("vote 2", True)
    assert strip_mention("@**Other|44** vote 2", names, 44) == ("vote 2", True)  # the id counts
    assert strip_mention("@**Alice** vote 2", names, 44) == ("@**Alice** vote 2", False)
    assert strip_mention("vote 2", names, 44) == ("vote 2", False)


def _user(user_id: int, name: str, email: str = "", github: str = "", **rest: Any) -> ZulipUser:
    return ZulipUser(
        user_id, name, email or f"user{user_id}@zulipdev.com", None, github=github, **rest
    )


def test_matching_prefers_what_is_explicit_and_refuses_to_guess() -> None:
    users = {
        u.user_id: u
        for u in (
            _user(1, "Jaime R", "jaimergp@example.org"),
            _user(2, "Bas Zalmstra", github="baszalmstra"),
            _user(3, "Dasha Gurova"),
            _user(4, "Sam Doe"),
            _user(5, "Sam Doe"),
            _user(6, "Dasha Gurova", is_active=False),
            _user(7, "Wolf", is_bot=True, github="wolfv"),
        )
    }
    found = {
        w.email: (m.user_id, m.how.split(" ")[0])
        for w in (
            Wanted("jaimergp@example.org", "Jaime Rodríguez-Guerra"),
            Wanted("bas@example.org", "Bas Z.", github="BasZalmstra"),
            Wanted("dasha@example.org", "dasha  GUROVA"),
            Wanted("sam@example.org", "Sam Doe"),
            Wanted("wolf@example.org", "Wolf", github="wolfv"),
            Wanted("kk@example.org", "Katherine", zulip_id=4),
            Wanted("nobody@example.org", "Nobody", zulip_id=99),
        )
        for m in [match(w, users)]
    }
    assert found == {
        "jaimergp@example.org": (1, "email"),
        "bas@example.org": (2, "github"),
        "dasha@example.org": (3, "full"),  # the deactivated namesake does not count
        "sam@example.org": (None, "2"),  # two Sam Does: ambiguous, not guessed
        "wolf@example.org": (None, "no"),  # bots are never roster people
        "kk@example.org": (4, "zulip_id"),
        "nobody@example.org": (None, "zulip_id"),
    }


# --- over HTTP --------------------------------------------------------------------------------


def test_a_meeting_in_a_realm_that_hides_emails(meeting: Meeting) -> None:
    runner = meeting.start()
    how = {m.wanted.email: m.how for m in runner.directory.matches if m.user_id}
    assert how["jaimergp@example.org"] == "github" and how["jezdez@example.org"] == "full name"
    stranger = meeting.say("SD", "start")
    meeting.settle()
    assert "Only organizers" in meeting.bot_messages()[-1].content
    meeting.say("JL", "start")  # an organizer, though Zulip shows him as userNN@zulipdev.com
    meeting.say("DG", "add item Zulip CEP")
    meeting.settle()
    assert "has started" in meeting.bot_messages()[-2].content
    added = meeting.reply_to_add(1)
    assert "DG: Zulip CEP" in added.content  # Dasha is DG from the roster, found by name
    meeting.react("BZ", added.id)
    vote = meeting.say("KK", "vote 1")
    meeting.settle()
    assert meeting.acks(vote) == ["check"]  # a lone vote is acknowledged with ✅, no message
    assert meeting.db("SELECT voter FROM vote ORDER BY voter") == [
        ("baszalmstra@example.org",),
        ("kathatherine@example.org",),
    ]
    meeting.say("ADMIN", "next")  # the organization's admin may run any meeting
    meeting.settle()
    assert meeting.bot_messages()[-1].content.startswith("Now on item 1")
    assert meeting.acks(stranger) == []


def test_replies_waiting_for_one_topic_go_out_as_one_message(
    meeting: Meeting, tmp_path: Path
) -> None:
    runner = meeting.start()
    meeting.say("DG", "add item one")
    meeting.settle()
    runner.hold_file = tmp_path / "hold"
    runner.hold_file.touch()
    votes = [meeting.say(who, "vote 1") for who in ("BZ", "WV", "KK", "JL")]
    wait_for("the votes to be handled", lambda: len(meeting.db("SELECT * FROM vote")) == 4)
    before = len(meeting.bot_messages())
    runner.hold_file.unlink()
    meeting.settle()
    (batch,) = meeting.bot_messages()[before:]
    lines = batch.content.split("\n\n")
    assert [line.split("** ")[0] for line in lines] == [
        f"@_**{meeting.users[who].full_name}|{meeting.users[who].user_id}"
        for who in ("BZ", "WV", "KK", "JL")
    ]
    assert lines[-1].endswith("Voted for item 1; it has 4 votes.")
    assert all(meeting.acks(v) == [] for v in votes)


def test_an_edited_add_edits_its_item_and_a_deleted_one_is_answered(meeting: Meeting) -> None:
    meeting.start()
    first = meeting.say("DG", "add item Zulip CEPP")
    second = meeting.say("BZ", "add item pixi docs")
    meeting.settle()
    meeting.edit("DG", first.id, "add item Zulip CEP")
    meeting.edit("BZ", second.id, "vote 1")
    meeting.delete("BZ", second.id)

    def answers() -> str:  # posted alone or together, as they came
        return "\n\n".join(m.content for m in meeting.bot_messages()[2:])

    wait_for("three answers", lambda: answers().count("item 2") >= 2 and "Item 1" in answers())
    meeting.settle()
    said = answers()
    assert said.count("Item 1 now reads: Zulip CEP") == 1
    assert said.count("no longer reads as `add ...`, so item 2 stays as it was") == 1
    assert said.count("The message that added item 2 was deleted; the item stays") == 1
    assert meeting.db("SELECT number, text FROM item ORDER BY number") == [
        (1, "Zulip CEP"),
        (2, "pixi docs"),
    ]


def test_an_expired_queue_is_replaced_and_what_it_missed_read_back_in_order(
    meeting: Meeting,
) -> None:
    runner = meeting.start()
    meeting.say("DG", "add item first")
    meeting.settle()
    first_queue = runner.queue_id
    added = meeting.reply_to_add(1)
    # the new queue comes late: what is said meanwhile reaches no queue at all
    meeting.sandbox.faults.next("/register", "delay", seconds=1.5)
    meeting.sandbox.expire_queues()
    time.sleep(0.3)
    missed = [meeting.say("BZ", f"add item missed {n}") for n in range(3)]
    meeting.react("KK", added.id)
    meeting.settle()
    assert runner.queue_id != first_queue
    numbers = [int(m.content.split("**")[1]) for m in meeting.bot_messages()[1:]]
    assert numbers == [2, 3, 4]  # once each, in the order they were said
    assert [t for (t,) in meeting.db("SELECT text FROM item ORDER BY number")][1:] == [
        f"missed {n}" for n in range(3)
    ]
    assert meeting.db("SELECT voter FROM vote") == [("kathatherine@example.org",)]
    assert len(missed) == 3


def test_a_stream_the_bot_is_not_in_is_reported_once(meeting: Meeting) -> None:
    stream = meeting.sandbox.realm.stream_by_name("packaging")
    assert stream is not None
    meeting.sandbox.realm.unsubscribe(meeting.bot, stream)
    meeting.start()
    meeting.settle()
    meeting.stop()
    meeting.start()  # a restart does not say it again
    meeting.settle()
    reports = meeting.bot_dms()
    organizers = {meeting.users["WV"].user_id}  # packaging's organizers: wolfv, baszalmstra
    organizers.add(meeting.users["BZ"].user_id)
    assert {uid for m in reports for uid in m.dm_user_ids} - {meeting.bot.user_id} >= organizers
    assert all("not subscribed to #**packaging**" in m.content for m in reports)
    assert len(reports) == len(
        {uid for m in reports for uid in m.dm_user_ids} - {meeting.bot.user_id}
    )


def test_malformed_and_unknown_events_are_skipped(meeting: Meeting) -> None:
    runner = meeting.start()
    meeting.stop()
    client = meeting.sandbox.client(meeting.bot.delivery_email)
    api = ZulipApi(client, policy=FAST)
    local = Runner(
        meeting.config, api, api.call("GET", "users/me"), Store(meeting.config.state_path)
    )
    local.load_people()
    for event in (
        {"type": "message", "id": 1},
        {"type": "message", "message": {"id": "x"}, "id": 2},
        {"type": "reaction", "op": "add", "id": 3},
        {"type": "submessage", "message_id": 5, "id": 4},
        {"type": "presence", "id": 5},
        {"type": "delete_message", "id": 6},
    ):
        local.handle(event)  # logged, not raised
    assert local.health.events == 0
    assert runner.ready


def local_runner(meeting: Meeting) -> Runner:
    """A runner in the test's own thread, registered, that the test drives step by step."""
    api = ZulipApi(meeting.sandbox.client(meeting.bot.delivery_email), policy=FAST)
    store = Store(meeting.config.state_path)
    me = api.call("GET", "users/me")
    runner = Runner(meeting.config, api, me, store, linger=0, tick_every=float("inf"))
    runner.load_people()
    runner._register()
    return runner


def test_a_reply_too_long_for_one_message_is_split_not_truncated(meeting: Meeting) -> None:
    runner = local_runner(meeting)
    text = "\n\n".join(f"paragraph {i} " + " ".join(["word"] * 400) for i in range(12))
    with runner.store.transaction():
        runner.outbox.add("test", [Send(text, stream="community", topic=TOPIC)])
    assert runner.outbox.flush(runner.api, runner.queue_id)
    posted = [m.content for m in meeting.bot_messages()]
    assert len(posted) == 3 and all(len(p) <= 10_000 for p in posted)
    assert "\n\n".join(p.strip() for p in posted) == text.strip()
    runner.store.close()


def test_a_post_whose_answer_was_lost_is_found_not_repeated(meeting: Meeting) -> None:
    """The gap the outbox cannot close by itself: Zulip took the post, the answer never came
    back (a dropped connection, or `kill -9` right after the send)."""
    runner = local_runner(meeting)
    api, store, outbox = runner.api, runner.store, runner.outbox

    def queue(text: str) -> int:
        with store.transaction():
            outbox.add("test", [Send(text, stream="community", topic=TOPIC)])
        (row,) = [r for r in store.outbox() if r.content == text]
        assert row.id is not None
        return row.id

    # 1. posted, answer lost: found by reading the bot's messages back
    lost = queue("posted once")
    api.send("posted once", stream="community", topic=TOPIC)
    outbox.uncertain = {lost}
    assert outbox.flush(api, runner.queue_id)
    # 2. never reached Zulip: posted now, once
    never = queue("posted late")
    outbox.uncertain = {never}
    assert outbox.flush(api, runner.queue_id)
    # 3. posted, answer lost, but its echo in the bot's own queue tells
    echoed = queue("echoed")
    api.send(
        "echoed", stream="community", topic=TOPIC, local_id=str(echoed), queue_id=runner.queue_id
    )
    outbox.uncertain = {echoed}
    lookups = api.stats.by_endpoint["messages"]
    runner.step()  # the echo arrives as a message event
    assert store.outbox() == [] and outbox.uncertain == set()
    assert api.stats.by_endpoint["messages"] == lookups  # no look-up was needed
    assert [m.content for m in meeting.bot_messages()] == ["posted once", "posted late", "echoed"]
    store.close()


def test_someone_who_joined_after_start_up_is_looked_up(meeting: Meeting) -> None:
    meeting.start()
    newcomer = meeting.sandbox.add_user("Nora Newcomer", "nora@example.net")
    meeting.sandbox.subscribe(newcomer, "community")
    meeting.users["NN"] = newcomer
    meeting.say("NN", "add item first time here")
    meeting.settle()
    assert "NN: first time here" in meeting.reply_to_add(1).content


def test_check_config_lists_whom_it_matched_and_how(
    meeting: Meeting, capsys: pytest.CaptureFixture[str]
) -> None:
    from zulip_bot import cli

    assert (
        cli.main(["check-config", str(meeting.config.path), "--zuliprc", str(meeting.zuliprc)]) == 0
    )
    out = capsys.readouterr().out
    jaime, jannis = meeting.users["JRG"].user_id, meeting.users["JL"].user_id
    assert f"Jaime Rodríguez-Guerra <jaimergp@example.org>: Zulip user {jaime}, by github" in out
    assert f"Jannis Leidel <jezdez@example.org>: Zulip user {jannis}, by full name" in out
    assert "Cheng H. Lee <chenghlee@example.org>: not found (no visible email" in out


def test_check_config_says_which_streams_will_not_work(
    meeting: Meeting, capsys: pytest.CaptureFixture[str]
) -> None:
    from zulip_bot import cli

    meeting.sandbox.add_stream("lonely", subscribers=[meeting.users["JRG"]])  # not the bot
    text = meeting.config.path.read_text(encoding="utf-8")
    meeting.config.path.write_text(
        text.replace('stream = "community"', 'stream = "lonely"').replace(
            'stream = "packaging"', 'stream = "nowhere"'
        ),
        encoding="utf-8",
    )
    assert (
        cli.main(["check-config", str(meeting.config.path), "--zuliprc", str(meeting.zuliprc)]) == 1
    )
    out = capsys.readouterr().out
    assert "#lonely (community): the bot is not subscribed" in out
    assert "#nowhere (packaging): no such stream that the bot can see" in out
    assert "ok, the bot is subscribed" not in out

    meeting.config.path.write_text(text, encoding="utf-8")
    assert (
        cli.main(["check-config", str(meeting.config.path), "--zuliprc", str(meeting.zuliprc)]) == 0
    )
    out = capsys.readouterr().out
    assert "#community (community): ok, the bot is subscribed" in out
    assert "#packaging (packaging): ok, the bot is subscribed" in out


def test_run_stops_at_start_up_naming_the_file(
    meeting: Meeting,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from zulip_bot import cli
    from zulip_bot.chat.runner import config_path

    wrong = tmp_path / "zuliprc-wrong"
    wrong.write_text(meeting.zuliprc.read_text().replace(meeting.bot.api_key, "y" * 32))
    assert cli.main(["run", "--config", str(meeting.config.path), "--zuliprc", str(wrong)]) == 1
    said = capsys.readouterr().err
    assert f"{wrong}: Zulip refused the bot's email and API key" in said
    assert "download the bot's zuliprc" in said
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEETBOT_CONFIG", raising=False)
    assert config_path(None) == Path("meetbot.toml")
    monkeypatch.setenv("MEETBOT_CONFIG", "/etc/meetbot/meetbot.toml")
    assert config_path(None) == Path("/etc/meetbot/meetbot.toml")
    assert config_path(Path("given.toml")) == Path("given.toml")


def test_the_schedule_posts_the_agenda_and_edits_to_it_are_coalesced(
    meeting: Meeting, tmp_path: Path
) -> None:
    realm = meeting.sandbox.realm
    realm.settings = dataclasses.replace(realm.settings, edit_limit_seconds=300)
    runner = meeting.start(tick_every=0.0)
    assert runner.service.edit_limit == dt.timedelta(seconds=300)  # the realm's, from /register
    posted = "SELECT message_id FROM agenda_post WHERE message_id IS NOT NULL"
    wait_for("the agenda thread", lambda: bool(meeting.db(posted)))
    ((agenda_id,),) = meeting.db(posted)
    meeting.settle()
    runner.hold_file = tmp_path / "hold"
    runner.hold_file.touch()
    for who, text in (("DG", "conda 25"), ("BZ", "pixi 1.0"), ("WV", "rattler")):
        meeting.say(who, f"add item {text}")
    wait_for("three items", lambda: len(meeting.db("SELECT * FROM item")) == 3)
    waiting = [r for (r,) in meeting.db("SELECT ref FROM outbox") if r.startswith("edit:")]
    runner.hold_file.unlink()
    meeting.settle()
    agenda = meeting.sandbox.realm.messages[agenda_id]
    assert all(text in agenda.content for text in ("conda 25", "pixi 1.0", "rattler"))
    assert len(waiting) >= 2  # each add asked for an edit of the agenda ...
    assert runner.api.stats.by_endpoint[f"messages/{agenda_id}"] == 1  # ... one was sent


def test_the_realm_edit_limit_is_followed_live_and_kept_for_a_resumed_queue(
    meeting: Meeting,
) -> None:
    """What decides whether the agenda message can still be edited hears every change an
    admin makes while the bot runs, and a restart that resumes the queue keeps the last one."""
    runner = meeting.start()
    assert runner.service.edit_limit == dt.timedelta(seconds=600)  # from /register
    meeting.sandbox.set_edit_limit(60)
    wait_for("the lowered limit", lambda: runner.service.edit_limit == dt.timedelta(seconds=60))
    meeting.sandbox.set_edit_limit(None)
    wait_for("no limit", lambda: runner.service.edit_limit is None)
    queue = runner.queue_id
    meeting.stop()
    runner = meeting.start()
    assert runner.queue_id == queue  # resumed, so /register's state was not read again
    assert runner.service.edit_limit is None
    meeting.sandbox.set_edit_limit(900)
    wait_for("the raised limit", lambda: runner.service.edit_limit == dt.timedelta(seconds=900))


def test_the_outbox_plans_reactions_batches_and_lone_posts(tmp_path: Path) -> None:
    from zulip_bot.chat.outbox import Outbox
    from zulip_bot.meeting.effects import Edit, Sender
    from zulip_bot.meeting.service import MeetingService

    config = load_config(copy_config(tmp_path))
    store = Store(":memory:")
    outbox = Outbox(store, MeetingService(config, store), bot_user_id=1, organizers=list)
    ada, bob = Sender("ada@x.org", "Ada", 7), Sender("bob@x.org", "Bob", 8)
    here = {"stream": "community", "topic": "t"}
    with store.transaction():
        outbox.add(
            "e1", [Send("Added item **1**", ref="item:community:2024-11-06:1", **here)], (101, ada)
        )  # type: ignore[arg-type]
        outbox.add("e2", [Send("Voted for item 1.", ack_only=True, **here)], (102, ada))  # type: ignore[arg-type]
        outbox.add("e3", [Send("Voted for item 1.", ack_only=True, **here)], (103, bob))  # type: ignore[arg-type]
        outbox.add(
            "e4", [Send("Welcome, Bob!", ack_only=True, stream="packaging", topic="t")], (104, bob)
        )
        outbox.add("e5", [Send("Your actions: none", to="bob@x.org")], (105, bob))
        outbox.add("e6", [Edit(55, "agenda v1"), Edit(56, "other"), Edit(55, "agenda v2")])
    plans = outbox.plan(store.outbox())
    shown = [(p.react, p.row.ref, p.row.content, p.row.recipient_id) for p in plans]
    assert shown == [
        (False, "item:community:2024-11-06:1", "Added item **1**", None),  # alone: its id matters
        (True, None, "Welcome, Bob!", None),  # a lone acknowledgment: ✅ on message 104
        (False, None, "Your actions: none", 8),  # a direct message, to Bob's id
        (False, "edit:56", "other", None),
        (False, "edit:55", "agenda v2", None),  # v1 is superseded, never sent
        (False, None, "@_**Ada|7** Voted for item 1.\n\n@_**Bob|8** Voted for item 1.", None),
    ]
    assert plans[1].row.source_message == 104
    assert len(store.outbox()) == 6  # the batch replaced its two rows; v1 is gone


def test_a_store_locked_by_another_process_delays_a_command_but_loses_none(
    meeting: Meeting,
) -> None:
    meeting.busy_wait = 0.2
    meeting.start()
    meeting.say("DG", "add item before")
    meeting.settle()
    with sqlite3.connect(meeting.config.state_path, isolation_level=None) as other:
        other.execute("BEGIN IMMEDIATE")  # e.g. a `meetbot` command run by hand, stuck
        meeting.say("BZ", "add item while locked")
        time.sleep(1.5)
        other.execute("COMMIT")
    meeting.settle()
    assert meeting.alive()
    assert [m.content.split("**")[1] for m in meeting.bot_messages()] == ["1", "2"]


def test_senders_carry_the_configured_email_else_the_real_one_where_shown() -> None:
    from zulip_bot.chat.roster import Directory, Match

    users = {
        1: ZulipUser(1, "Jaime R", "user1@zulipdev.com", None, role=200),
        2: ZulipUser(2, "Vera Visible", "vera@example.org", "vera@example.org"),
        3: ZulipUser(3, "Hidden Hal", "user3@zulipdev.com", None, role=100),
        4: ZulipUser(4, "Some Bot", "some-bot@zulipdev.com", None, is_bot=True),
    }
    directory = Directory(users, [Match(Wanted("jaimergp@example.org"), 1, "github")])
    jaime, vera, hal, bot = (directory.sender(i) for i in (1, 2, 3, 4))
    assert (jaime.email, jaime.is_admin) == ("jaimergp@example.org", True)  # admin: organizer
    assert (vera.email, vera.is_admin) == ("vera@example.org", False)
    assert (hal.email, hal.is_admin) == ("user3@zulipdev.com", True)  # an owner
    assert bot.is_bot and not jaime.is_bot
    notification = directory.sender(99, "Notification Bot", "notif@zulip.com", "zulipinternal")
    assert notification.is_bot and notification.full_name == "Notification Bot"
    assert directory.user_id_for("JAIMERGP@example.org") == 1
    assert directory.user_id_for("vera@example.org") == 2


def test_a_transaction_inside_a_transaction_is_a_savepoint(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite3")
    with store.transaction():
        store.set_runner_value("outer", "kept")
        with pytest.raises(RuntimeError), store.transaction():
            store.set_runner_value("inner", "undone")
            raise RuntimeError("the inner part fails")
        with store.transaction():
            store.set_runner_value("second", "kept too")
    assert store.runner_value("outer") == "kept" and store.runner_value("second") == "kept too"
    assert store.runner_value("inner") is None
    with pytest.raises(RuntimeError), store.transaction():
        store.set_runner_value("outer", "changed")
        with store.transaction():
            store.set_runner_value("inner", "committed with its outer one only")
        raise RuntimeError("the outer part fails")
    assert store.runner_value("outer") == "kept" and store.runner_value("inner") is None
