"""The schedule end to end: a real `meetbot run` subprocess against the sandbox, on a simulated
clock it shares with the sandbox through `meetbot run --clock FILE`.

The test moves the clock from one moment that matters to the next and waits there until the
bot has done its part; nobody types `start` or `end`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import zulip

from zulip_bot import schedule
from zulip_bot.config import load_config
from zulip_bot.demo.clock import FileClock
from zulip_bot.demo.play import idle
from zulip_bot.meeting.store import Store
from zulip_bot.notes import NotesDocument
from zulip_bot.sandbox import Message, RateLimit, Sandbox
from zulip_bot.sandbox.cli import seed, write_zuliprcs

REPO = Path(__file__).resolve().parents[2]
DAY = dt.date(2024, 11, 6)
START = dt.datetime(2024, 11, 6, 17, tzinfo=dt.UTC)  # the example's community meeting
TOPIC = "2024-11-06 Conda Community Meeting"
MIN = dt.timedelta(minutes=1)
PATIENCE = 30.0  # real seconds


@dataclass
class Scene:
    folder: Path
    sandbox: Sandbox
    clock: FileClock
    bot_id: int
    people: dict[str, zulip.Client]
    hold: Path
    process: subprocess.Popen[str] | None = None

    def start_bot(self) -> None:
        command = [
            sys.executable, "-m", "zulip_bot.cli", "run",
            "--config", str(self.folder / "meetbot.example.toml"),
            "--zuliprc", str(self.folder / "zuliprc-bot"),
            "--clock", str(self.folder / "clock.json"),
            "--tick-every", "0.1", "--linger", "0.2", "--health", str(self.folder / "health"),
        ]  # fmt: skip
        log = (self.folder / "bot.log").open("a", encoding="utf-8")
        env = {**os.environ, "MEETBOT_TEST_HOLD_FILE": str(self.hold)}
        self.process = subprocess.Popen(command, stdout=log, stderr=log, text=True, env=env)
        self.settle()

    def kill_bot(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop_bot(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=20)
        self.process = None
        return code

    def log(self) -> str:
        return (self.folder / "bot.log").read_text(encoding="utf-8")

    def wait(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + PATIENCE
        while not done():
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"meetbot run exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"waited in vain for {what}; the bot's log:\n{self.log()[-3000:]}")
            time.sleep(0.03)

    def settle(self) -> None:
        """Until the bot has handled everything and posted its answers (twice idle in a row)."""
        for _ in range(2):
            self.wait(lambda: idle(self.sandbox, self.bot_id), "the bot to be idle")
            time.sleep(0.05)

    def ticked(self) -> None:
        """Until the bot has looked at the schedule at the clock's current time: two rounds
        (each ticks, at --tick-every 0.1) after this call, then idle."""
        since = time.time() + 0.6
        health = self.folder / "health"

        def later() -> bool:
            try:
                return float(json.loads(health.read_text(encoding="utf-8"))["last_loop"]) > since
            except (OSError, ValueError, KeyError):
                return False

        self.wait(later, "the bot's next rounds")
        self.settle()

    def at(self, offset: dt.timedelta) -> None:
        self.clock.set(START + offset, speed=1.0)

    def say(self, who: str, text: str) -> int:
        body = self.people[who].send_message(
            {"type": "stream", "to": "community", "topic": TOPIC, "content": f"@**meetbot** {text}"}
        )
        assert body["result"] == "success", body
        return int(body["id"])

    def like(self, who: str, message_id: int) -> None:
        body = self.people[who].add_reaction({"message_id": message_id, "emoji_name": "+1"})
        assert body["result"] == "success", body

    def bot_messages(self) -> list[Message]:
        return [
            m
            for m in self.sandbox.realm.messages_in("community", TOPIC)
            if m.sender_id == self.bot_id
        ]

    def agenda_posts(self) -> list[Message]:
        return [m for m in self.bot_messages() if "Add an item" in m.content]

    def reply_for_item(self, number: int) -> int:
        found = [m.id for m in self.bot_messages() if f"Added item **{number}**" in m.content]
        assert len(found) == 1, [m.content for m in self.bot_messages()]
        return found[0]

    def posted_at(self, message: Message) -> dt.datetime:
        return dt.datetime.fromtimestamp(message.timestamp, dt.UTC)


@contextmanager
def staged(
    folder: Path,
    now: dt.datetime = START - dt.timedelta(days=2, minutes=10),
    heartbeat: float = 0.25,
    changes: dict[str, str] | None = None,
) -> Iterator[Scene]:
    """The example config in `folder` (each of `changes` replaces a line of it), a sandbox
    seeded from it with Zulip's heartbeat after `heartbeat` real seconds, its people's clients,
    and the shared clock at `now`; the bot is started by the test."""
    for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
        shutil.copy(REPO / "config" / name, folder / name)
    example = folder / "meetbot.example.toml"
    text = example.read_text(encoding="utf-8")
    for old, new in (changes or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    example.write_text(text, encoding="utf-8")
    clock = FileClock(folder / "clock.json")
    clock.set(now, speed=1.0)
    unlimited = RateLimit(1_000_000, 60)
    sandbox = Sandbox.start(
        clock=clock,
        heartbeat_seconds=heartbeat,
        queue_timeout_seconds=10**9,
        rate_limit=unlimited,
        events_rate_limit=unlimited,
    )
    config = load_config(example)
    seeded = seed(sandbox, config)
    write_zuliprcs(sandbox, seeded, folder)
    people = {p.delivery_email: sandbox.client(p.delivery_email) for p in seeded.people}
    scene = Scene(folder, sandbox, clock, seeded.bot.user_id, people, folder / "hold")
    try:
        yield scene
    finally:
        if scene.process is not None:
            scene.kill_bot()
        sandbox.stop()


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    with staged(tmp_path) as staged_scene:
        yield staged_scene


def _votes(content: str, number: int) -> int:
    found = re.search(rf"^\| {number} \| .* \| (\d+) \| [^|]* \|$", content, re.MULTILINE)
    assert found is not None, content
    return int(found[1])


def test_a_cycle_on_its_own_schedule_survives_kill_9_mid_meeting(scene: Scene) -> None:
    scene.start_bot()
    scene.ticked()
    assert scene.agenda_posts() == []  # not before its lead time

    scene.at(-dt.timedelta(days=2))
    scene.wait(lambda: len(scene.agenda_posts()) == 1, "the agenda thread")
    agenda = scene.agenda_posts()[0]
    assert (
        START - dt.timedelta(days=2) <= scene.posted_at(agenda) < START - dt.timedelta(days=2) + MIN
    )

    scene.at(-dt.timedelta(days=2) + 2 * MIN)
    scene.say("dashagurova@example.org", "add item Zulip CEP")
    scene.say("jakirkham@example.org", "add item Change default package format to `.conda`")
    scene.settle()
    scene.like("baszalmstra@example.org", scene.reply_for_item(2))
    scene.like("marcoesters@example.org", scene.reply_for_item(2))
    scene.say("ocefpaf@example.org", "vote 1")
    scene.settle()
    agenda = scene.agenda_posts()[0]
    assert agenda.last_edit_timestamp is not None  # kept current by editing, not reposting
    assert (_votes(agenda.content, 1), _votes(agenda.content, 2)) == (1, 2)
    notes = NotesDocument.load(scene.folder / "notes" / "20241106_agenda_and_minutes.md")
    assert [(i.owners, i.text) for i in notes.items("New Agenda Items")] == [
        (("DG",), "Zulip CEP"),
        (("JK",), "Change default package format to `.conda`"),
    ]

    scene.at(-15 * MIN)
    scene.wait(
        lambda: any(m.content.startswith("⏰") for m in scene.bot_messages()), "the reminder"
    )
    reminder = next(m for m in scene.bot_messages() if m.content.startswith("⏰"))
    assert START - 15 * MIN <= scene.posted_at(reminder) < START - 14 * MIN
    assert "@**Jaime Rodríguez-Guerra" in reminder.content  # the organizers, mentioned

    scene.at(dt.timedelta(0))
    scene.wait(lambda: any("has started" in m.content for m in scene.bot_messages()), "the start")
    scene.at(3 * MIN)
    scene.say("jaimergp@example.org", "next")
    scene.settle()

    # kill -9 mid-meeting; meanwhile people go on, and the queue expires as Zulip's would
    scene.kill_bot()
    scene.at(10 * MIN)
    decided = scene.say("jaimergp@example.org", "decided Adopt the .conda format")
    scene.like("chenghlee@example.org", scene.reply_for_item(1))
    asked = scene.say("wolfv@example.org", "agenda")
    scene.sandbox.expire_queues()
    scene.at(12 * MIN)
    scene.start_bot()

    answers = [m for m in scene.bot_messages() if m.id > asked]
    assert any(_votes(m.content, 1) == 2 for m in answers if "| 1 |" in m.content), answers
    assert any(m.id > decided and "Decision recorded under item 2" in m.content for m in answers), (
        answers
    )
    assert len(scene.agenda_posts()) == 1
    assert sum(m.content.startswith("⏰") for m in scene.bot_messages()) == 1
    assert sum("has started" in m.content for m in scene.bot_messages()) == 1

    # nobody types `end`: it ends at start + 60 min + the 15-minute summary delay
    scene.at(74 * MIN)
    scene.ticked()
    assert not any("## Summary" in m.content for m in scene.bot_messages())
    scene.at(75 * MIN)
    scene.wait(lambda: any("## Summary" in m.content for m in scene.bot_messages()), "the summary")
    summary = next(m for m in scene.bot_messages() if "## Summary" in m.content)
    assert START + 75 * MIN <= scene.posted_at(summary) < START + 76 * MIN
    assert "Decision: Adopt the .conda format" in summary.content
    draft = scene.folder / "notes" / "20241106_agenda_and_minutes.md"
    assert "Adopt the .conda format" in draft.read_text(encoding="utf-8")
    assert scene.stop_bot() == 0
    store = Store(scene.folder / "meetbot.sqlite3")
    meeting = load_config(scene.folder / "meetbot.example.toml").meeting("community")
    assert meeting is not None
    keys = {str(j.key) for j in schedule.jobs_for(meeting, START)}
    done = store.jobs_done()
    assert keys and all(key in done for key in keys)


def _outbox_rows(scene: Scene) -> int:
    store = Store(scene.folder / "meetbot.sqlite3")
    try:
        return len(store.outbox())
    finally:
        store.close()


def test_two_days_ahead_a_stale_agenda_is_posted_afresh_at_most_hourly(scene: Scene) -> None:
    """Zulip refuses an edit that comes too late (here: held back until past the limit): the
    runner drops it once and goes on; while the meeting is days away, later changes are
    re-posted at most once an hour."""
    scene.start_bot()
    scene.at(-dt.timedelta(days=2))
    scene.wait(lambda: len(scene.agenda_posts()) == 1, "the agenda thread")
    posted = scene.agenda_posts()[0].timestamp
    opened = -dt.timedelta(days=2)

    scene.at(opened + MIN)
    scene.say("dashagurova@example.org", "add item Zulip CEP")
    scene.settle()
    assert "Zulip CEP" in scene.agenda_posts()[0].content

    # an edit decided inside the limit but sent after it
    scene.at(opened + 9 * MIN)
    scene.hold.touch()
    scene.say("jakirkham@example.org", "add item Sharded repodata")
    scene.wait(lambda: _outbox_rows(scene) >= 2, "the reply and the edit, held")
    scene.at(opened + 12 * MIN)
    scene.hold.unlink()
    scene.settle()
    assert any("Added item **2**" in m.content for m in scene.bot_messages())
    first = scene.agenda_posts()[0]
    assert "Sharded repodata" not in first.content  # the server said no
    assert scene.sandbox.clock.now() - posted > 620
    refused = "Zulip refused an edit of the agenda message"
    assert scene.log().count(refused) == 1
    assert _outbox_rows(scene) == 0

    # later changes: stale, and posted afresh only an hour after the last post
    scene.at(opened + 20 * MIN)
    scene.say("wolfv@example.org", "add item Drop Python 3.8")
    scene.ticked()
    assert len(scene.agenda_posts()) == 1
    scene.at(opened + 61 * MIN)
    scene.wait(lambda: len(scene.agenda_posts()) == 2, "the agenda posted afresh")
    second = scene.agenda_posts()[1]
    assert second.content.startswith("**The agenda, updated**: this replaces my agenda message")
    assert all(t in second.content for t in ("Zulip CEP", "Sharded repodata", "Python 3.8"))
    assert second.timestamp - posted >= 3600

    scene.at(opened + 62 * MIN)
    scene.say("ocefpaf@example.org", "add item conda-forge infra")
    scene.settle()
    assert "conda-forge infra" in scene.agenda_posts()[1].content  # editable again: edited
    scene.at(opened + 80 * MIN)
    scene.say("marcoesters@example.org", "add item Menuinst v2")
    scene.settle()
    scene.at(opened + 110 * MIN)
    scene.ticked()
    assert len(scene.agenda_posts()) == 2  # not within the hour
    scene.at(opened + 122 * MIN)
    scene.wait(lambda: len(scene.agenda_posts()) == 3, "the next hourly post")
    assert "Menuinst v2" in scene.agenda_posts()[2].content
    assert scene.log().count(refused) == 1  # never retried
    assert scene.stop_bot() == 0


def test_what_people_type_pings_only_once_and_the_bot_repeats_it_silently(scene: Scene) -> None:
    """`@**all**` or `@**Name**` in an item, an action or a decision pings once, in the
    person's own message; the bot's replies, agenda posts and re-posts, `next`, the summary,
    the next meeting's agenda and the owners' reminders repeat it without pinging anyone. Only
    the bot's own mentions notify: the organizers in the reminder, an action's owner in the
    summary."""
    realm = scene.sandbox.realm
    ids = {email: scene.sandbox.user(email).user_id for email in scene.people}
    dasha, organizers = (
        ids["dashagurova@example.org"],
        {
            ids["jaimergp@example.org"],
            ids["jezdez@example.org"],
        },
    )
    scene.start_bot()
    opened = -dt.timedelta(days=2)
    scene.at(opened)
    scene.wait(lambda: len(scene.agenda_posts()) == 1, "the agenda thread")

    scene.at(opened + MIN)
    typed = scene.say("dashagurova@example.org", "add item @**all** please come")
    scene.say("jakirkham@example.org", "add item ask @**Katherine Kinnaman**")
    scene.settle()
    assert realm.messages[typed].wildcard  # the person's own message pings, as it should
    scene.at(opened + 20 * MIN)  # past the edit limit: the agenda is posted afresh later
    scene.say("wolfv@example.org", "add item tell @**everyone**, @*team* and @**topic**")
    scene.at(opened + 61 * MIN)
    scene.wait(lambda: len(scene.agenda_posts()) == 2, "the agenda posted afresh")
    scene.say("ocefpaf@example.org", "agenda")
    scene.settle()

    scene.at(-15 * MIN)
    scene.wait(lambda: any(m.content.startswith("⏰") for m in scene.bot_messages()), "reminder")
    reminder = next(m for m in scene.bot_messages() if m.content.startswith("⏰"))
    assert reminder.notified == organizers

    scene.at(dt.timedelta(0))
    scene.wait(lambda: any("has started" in m.content for m in scene.bot_messages()), "the start")
    scene.at(3 * MIN)
    scene.say("jaimergp@example.org", "next")
    scene.say("jaimergp@example.org", "action @**Dasha Gurova** ask @**channel** for dates")
    scene.say("jaimergp@example.org", "decided ask @**Katherine Kinnaman** and @**all**")
    scene.say("jaimergp@example.org", "end")
    scene.settle()
    summary = next(m for m in scene.bot_messages() if "## Summary" in m.content)
    assert "ask @_**Katherine Kinnaman**" in summary.content  # carried over, shown silently
    assert summary.notified == {dasha}  # the action's owner, mentioned by the bot

    following = START + dt.timedelta(days=14)
    scene.at(following - START - dt.timedelta(days=2))
    next_topic = f"{following:%Y-%m-%d} Conda Community Meeting"
    scene.wait(lambda: realm.messages_in("community", next_topic), "the next agenda")
    scene.wait(lambda: _direct_to(scene, dasha), "the owner's reminder")
    scene.settle()

    carried = realm.messages_in("community", next_topic)
    assert any("ask @_**Katherine Kinnaman**" in m.content for m in carried)
    to_owner = _direct_to(scene, dasha)
    assert "@_**channel**" in to_owner[0].content
    said = [*scene.bot_messages(), *carried, *to_owner]
    pinging = [
        m.content
        for m in said
        if m.id not in (reminder.id, summary.id) and (m.notified or m.wildcard)
    ]
    assert pinging == []


def _direct_to(scene: Scene, user_id: int) -> list[Message]:
    return [
        m
        for m in scene.sandbox.realm.messages.values()
        if m.sender_id == scene.bot_id and m.dm_user_ids == tuple(sorted((scene.bot_id, user_id)))
    ]


#: A meeting squeezed into three simulated minutes: reminded one minute before, one minute
#: long, ended and summarized when that minute is over.
SHORT = {
    "duration_minutes = 60\n": "duration_minutes = 1\n",
    'reminder_lead = "15 minutes"': 'reminder_lead = "1 minute"',
    'summary_delay = "15 minutes"': 'summary_delay = "0 minutes"',
}
SPEED = 6.0  # simulated seconds per real second
ON_TIME = dt.timedelta(seconds=20)  # three real seconds at SPEED


def test_on_a_quiet_stream_every_job_is_posted_on_time_not_at_the_heartbeat(
    tmp_path: Path,
) -> None:
    """Zulip holds a long-poll on a quiet stream for its heartbeat (50 s here, as on a real
    server); nobody types anything. The agenda thread, due at start-up, is posted before the
    bot first waits for events, and the reminder, the start and the end each within a few
    seconds of their time, not when a heartbeat happens to end the wait."""
    with staged(tmp_path, heartbeat=50.0, changes=SHORT) as scene:
        scene.clock.set(START - dt.timedelta(seconds=110), speed=SPEED)
        scene.start_bot()  # returns once the bot waits on its queue with nothing to do
        assert len(scene.agenda_posts()) == 1  # posted before the first long-poll
        due = {
            "⏰": START - MIN,  # the reminder
            "has started": START,
            "## Summary": START + MIN,  # duration 1 minute, summary delay 0
        }
        for text, moment in due.items():
            scene.wait(
                lambda text=text: any(text in m.content for m in scene.bot_messages()),
                f"the message with {text!r}",
            )
            posted = next(m for m in scene.bot_messages() if text in m.content)
            assert moment <= scene.posted_at(posted) <= moment + ON_TIME, (text, posted)
        assert scene.stop_bot() == 0


# --- the agenda in the topic, kept current past Zulip's edit limit -----------------------------

SOON = {'agenda_lead = "2 days"': 'agenda_lead = "30 minutes"'}
LAG = 4 * MIN  # how far behind the real agenda the topic's may be: "a few minutes"
ROW = re.compile(r"^\| (\d+) \| .*\|$", re.MULTILINE)


def _now(scene: Scene) -> dt.datetime:
    return dt.datetime.fromtimestamp(scene.clock.now(), dt.UTC)


def _rows(content: str) -> list[str]:
    """The agenda's table rows (not its header), in order."""
    return [m[0] for m in ROW.finditer(content)]


@dataclass
class Real:
    """The real agenda, as `agenda` answers it in a direct message, each time it changed."""

    scene: Scene
    asker: str = "kathatherine@example.org"
    seen: list[tuple[dt.datetime, list[str]]] = field(default_factory=list)

    def changed(self) -> None:
        scene = self.scene
        scene.settle()
        body = scene.people[self.asker].send_message(
            {"type": "private", "to": [scene.bot_id], "content": "community agenda"}
        )
        assert body["result"] == "success", body
        asked = int(body["id"])
        scene.settle()
        answer = [m for m in scene.sandbox.realm.messages.values() if m.id > asked]
        answer = [m for m in answer if m.sender_id == scene.bot_id and m.stream_id is None]
        assert len(answer) == 1, answer
        self.seen.append((_now(scene), _rows(answer[0].content)))

    def check_topic(self) -> None:
        """The latest agenda message in the topic shows the agenda as it was at some moment
        of the last `LAG`."""
        now = _now(self.scene)
        shown = _rows(self.scene.agenda_posts()[-1].content)
        recent = [
            rows
            for (_, rows), later in zip(self.seen, [*self.seen[1:], None], strict=True)
            if later is None or later[0] > now - LAG
        ]
        assert shown in recent, (now, shown, self.seen[-1])


#: Every few minutes until the start someone adds an item or votes (minutes before the start).
CHANGES: dict[int, tuple[str, str]] = {
    28: ("dashagurova@example.org", "add item Zulip CEP"),
    25: ("jakirkham@example.org", "add item Sharded repodata"),
    22: ("baszalmstra@example.org", "vote 2"),
    19: ("wolfv@example.org", "add item Drop Python 3.8"),
    16: ("marcoesters@example.org", "vote 3"),
    13: ("ocefpaf@example.org", "vote 3"),
    10: ("chenghlee@example.org", "add item Menuinst v2"),
    7: ("dashagurova@example.org", "vote 4"),
    5: ("jezdez@example.org", "vote 4"),
    4: ("ruben-arts@example.org", "vote 4"),
    2: ("jakirkham@example.org", "vote 1"),
}


def _until_the_start(scene: Scene, real: Real, raise_limit_at: int | None = None) -> None:
    """Minute by minute from 29 minutes before the start: the changes, and after each minute
    the topic's agenda checked against the real one. At `raise_limit_at` (minutes before) an
    admin raises the edit limit back to Zulip's default."""
    for before in range(29, 0, -1):
        scene.at(-before * MIN)
        if before == raise_limit_at:
            scene.sandbox.set_edit_limit(600)
            scene.wait(lambda: "edit limit: 600 s (changed)" in scene.log(), "the new limit")
        if before in CHANGES:
            who, text = CHANGES[before]
            scene.say(who, text)
            real.changed()
        scene.ticked()
        real.check_topic()


def _the_start_shows_the_order_of_discussion(scene: Scene, real: Real) -> None:
    scene.at(dt.timedelta(0))
    scene.wait(lambda: any("has started" in m.content for m in scene.bot_messages()), "the start")
    started = next(m for m in scene.bot_messages() if "has started" in m.content)
    assert "In the order we take it" in started.content
    order = _rows(started.content)
    assert order == real.seen[-1][1]  # by votes, as `agenda` said last
    numbers = [int(row.split(" | ")[0].removeprefix("| ")) for row in order]
    assert numbers[:2] == [4, 3]  # the late votes count
    for number in numbers:
        scene.say("jaimergp@example.org", "next")
        scene.settle()
        assert f"Now on item {number}:" in scene.bot_messages()[-1].content


@contextmanager
def opened_half_an_hour_ahead(folder: Path) -> Iterator[tuple[Scene, Real]]:
    """The bot running with Zulip's edit limit at 60 s, the agenda thread just opened."""
    with staged(folder, heartbeat=0.25, changes=SOON) as scene:
        scene.sandbox.set_edit_limit(60)
        scene.start_bot()
        scene.at(-30 * MIN)
        scene.wait(lambda: len(scene.agenda_posts()) == 1, "the agenda thread")
        real = Real(scene)
        real.changed()
        yield scene, real


def test_an_agenda_opened_half_an_hour_ahead_never_falls_far_behind(tmp_path: Path) -> None:
    """Zulip lets the bot edit the agenda message for 60 s here: past that, every change is in
    the topic within a few minutes, in posts at least two minutes apart, and the start lists
    the items in the order `next` takes them."""
    with opened_half_an_hour_ahead(tmp_path) as (scene, real):
        _until_the_start(scene, real)
        posts = scene.agenda_posts()
        replaces = "**The agenda, updated**: this replaces"
        assert all(p.content.startswith(replaces) for p in posts[1:]), "\n".join(
            p.content[:40].replace("\n", " ") for p in posts
        )
        gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(posts)]
        assert len(posts) > 3 and min(gaps) >= 120, gaps  # readable: no post per vote
        assert "past Zulip's edit limit for its message; it will be posted afresh" in scene.log()
        _the_start_shows_the_order_of_discussion(scene, real)
        assert scene.stop_bot() == 0


def test_with_the_limit_raised_while_it_runs_the_bot_edits_again(tmp_path: Path) -> None:
    with opened_half_an_hour_ahead(tmp_path) as (scene, real):
        _until_the_start(scene, real, raise_limit_at=15)
        posts = scene.agenda_posts()
        raised = START - 15 * MIN
        after = [scene.posted_at(p) for p in posts if scene.posted_at(p) >= raised]
        # editable for ten minutes again: edited, and posted afresh only once the latest
        # post is ten minutes old (or never)
        assert len(posts) > 2 and len(after) <= 1, [scene.posted_at(p) for p in posts]
        assert all(moment >= START - 8 * MIN for moment in after), after
        latest = posts[-1]
        assert latest.last_edit_timestamp is not None
        assert latest.last_edit_timestamp >= (START - 2 * MIN).timestamp()  # edited to the end
        assert _rows(latest.content) == real.seen[-1][1]
        _the_start_shows_the_order_of_discussion(scene, real)
        assert scene.stop_bot() == 0


def test_on_a_quiet_stream_a_stale_agenda_is_posted_afresh_when_due_not_at_the_heartbeat(
    tmp_path: Path,
) -> None:
    """The re-post of a stale agenda has its own moment, which the runner's long-poll gives
    way to as it does to the schedule's jobs (Zulip's heartbeat is 50 s here)."""
    with staged(tmp_path, heartbeat=50.0, changes=SOON) as scene:
        scene.sandbox.set_edit_limit(60)
        scene.clock.set(START - 30 * MIN, speed=SPEED)
        scene.start_bot()
        (opened,) = scene.agenda_posts()
        scene.clock.set(START - 28 * MIN, speed=SPEED)
        scene.say("dashagurova@example.org", "add item Zulip CEP")  # past 60 s: stale
        scene.settle()
        assert len(scene.agenda_posts()) == 1
        posted = scene.posted_at(opened)
        # about 27 minutes before; Zulip's timestamps are whole seconds
        due = posted + max((START - posted) / 10, 2 * MIN) - dt.timedelta(seconds=1)
        scene.wait(lambda: len(scene.agenda_posts()) == 2, "the agenda posted afresh")
        repost = scene.agenda_posts()[1]
        assert due <= scene.posted_at(repost) <= due + ON_TIME, (due, scene.posted_at(repost))
        assert "Zulip CEP" in repost.content
        assert scene.stop_bot() == 0
