"""`meetbot demo`: a whole meeting cycle on the real network path, in a few seconds.

The sandbox runs on a free loopback port, seeded from a scratch copy of the example config; the
real runner and client run against it in a thread; the people of `script.SCENE` talk through
their own `zulip.Client`s. One simulated clock (`clock.FileClock`) is shared by the sandbox, the
runner's ticks and the service's `now`. The director moves it from one moment that matters to
the next (a scripted message, or a job of the schedule), holding it there until the bot has
done its part, so the days before a meeting pass in a second and nothing the bot does is
skipped. What happens is printed as a viewer's client sees it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, Final, TextIO

import zulip

from zulip_bot import schedule
from zulip_bot.chat.client import connect
from zulip_bot.chat.runner import Runner
from zulip_bot.config import BotConfig, MeetingConfig, load_config
from zulip_bot.demo import script
from zulip_bot.demo.clock import FileClock
from zulip_bot.meeting import thread, transcript
from zulip_bot.meeting.store import Store
from zulip_bot.notes import NotesDocument, NotesError
from zulip_bot.sandbox import RateLimit, Sandbox
from zulip_bot.sandbox.cli import Seeded, seed, write_zuliprcs

FILES: Final = ("meetbot.example.toml", "people.example.toml", "notes-template.md")
CONFIG: Final = "meetbot.example.toml"
#: Real seconds: how often the bot's long-poll returns when idle, and so how often it ticks.
HEARTBEAT: Final = 0.25
#: Real seconds the bot may take to do its part before the demo says what is missing.
PATIENCE: Final = 20.0
VIEWER: Final = "viewer@example.org"
#: The demo starts this long before the agenda thread is due.
LEAD_IN: Final = dt.timedelta(minutes=30)
_ITEM_REPLY: Final = re.compile(r"Added item \*\*(\d+)\*\*")
_ROW: Final = re.compile(r"\| \d+ \|")


class Stuck(Exception):
    """The bot did not do what was due within PATIENCE."""


class Bot(threading.Thread):
    """The real runner in a thread of its own: its SQLite store belongs to that thread."""

    def __init__(self, config: BotConfig, zuliprc: Path, clock: FileClock) -> None:
        super().__init__(name="meetbot-runner", daemon=True)
        self.config, self.zuliprc, self.clock = config, zuliprc, clock
        self.runner: Runner | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        api, me = connect(self.zuliprc)
        store = Store(self.config.state_path)
        try:
            self.runner = Runner(
                self.config, api, me, store, linger=0.2, tick_every=0.1, now=self.clock.utc
            )
            self.ready.set()
            self.runner.run()
        finally:
            self.ready.set()
            store.close()

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
        self.join(timeout=5)


@dataclass
class Viewer:
    """Prints what a person watching the streams sees: messages by topic, edits (briefly),
    reactions and poll ballots."""

    client: zulip.Client
    names: dict[int, str]
    bot_id: int
    clock: FileClock
    out: TextIO
    queue_id: str = ""
    last_event_id: int = -1
    contents: dict[int, str] = field(default_factory=dict)
    place: tuple[str, str] | None = None
    posted: list[dict[str, Any]] = field(default_factory=list)

    def register(self) -> None:
        body = self.client.register(
            event_types=["message", "reaction", "update_message", "submessage"],
            all_public_streams=True,
            apply_markdown=False,
        )
        self.queue_id, self.last_event_id = body["queue_id"], body["last_event_id"]

    def show_new(self) -> None:
        body = self.client.get_events(
            queue_id=self.queue_id, last_event_id=self.last_event_id, dont_block=True
        )
        for event in body.get("events", []):
            self.last_event_id = max(self.last_event_id, int(event["id"]))
            self._show(event)

    def _stamp(self, when: dt.datetime | None = None) -> str:
        """When it happened: a message's own time; else (edits, reactions) the clock's now."""
        return f"{when or self.clock.utc():%a %H:%M}"

    def _show(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "message":
            self._message(event["message"])
        elif kind == "update_message" and "content" in event:
            self._edit(int(event["message_id"]), str(event["content"]))
        elif kind == "reaction" and event.get("op") == "add":
            who = self.names.get(int(event["user_id"]), "someone")
            of = self.contents.get(int(event["message_id"]), "").splitlines()
            emoji = {"+1": "👍", "thumbs_up": "👍", "check": "✅"}.get(event["emoji_name"], "")
            self._line(f"{who} reacts {emoji or ':' + event['emoji_name'] + ':'} to “{_cut(of)}”")
        elif kind == "submessage" and int(event["sender_id"]) != self.bot_id:
            content = json.loads(event["content"])
            if content.get("type") == "vote":
                option = int(str(content["key"]).rsplit(",", 1)[1]) + 1
                who = self.names.get(int(event["sender_id"]), "someone")
                self._line(f"{who} votes for option {option} of the poll")

    def _message(self, message: dict[str, Any]) -> None:
        self.contents[int(message["id"])] = str(message["content"])
        self.posted.append(message)
        if message["type"] == "stream":
            place = (str(message["display_recipient"]), str(message["subject"]))
            if place != self.place:
                self.place = place
                print(f"\n  #{place[0]} > {place[1]}", file=self.out)
        lines = str(message["content"]).splitlines() or [""]
        who = "meetbot" if int(message["sender_id"]) == self.bot_id else message["sender_full_name"]
        sent = dt.datetime.fromtimestamp(int(message["timestamp"]), dt.UTC)
        self._line(f"{who}: {lines[0]}", sent)
        for line in lines[1:]:
            print(f"{'':18}{line}", file=self.out)

    def _edit(self, message_id: int, content: str) -> None:
        before = set(self.contents.get(message_id, "").splitlines())
        self.contents[message_id] = content
        changed = [line for line in content.splitlines() if line not in before and line.strip()]
        rows = [line for line in changed if _ROW.match(line)]  # the agenda's items
        shown = "; ".join(rows or changed) or "no change"
        self._line(f"(meetbot edits its agenda message: {shown})")

    def _line(self, text: str, when: dt.datetime | None = None) -> None:
        print(f"  [{self._stamp(when)}] {text}", file=self.out, flush=True)


def _cut(lines: list[str], width: int = 50) -> str:
    first = lines[0] if lines else ""
    return first if len(first) <= width else first[: width - 1] + "…"


def idle(sandbox: Sandbox, user_id: int) -> bool:
    """The bot is long-polling an empty queue: it has handled every event and posted
    everything, since the runner only long-polls with nothing left to send. (A tick may still
    be due: wait for its job as well.)"""
    realm = sandbox.realm
    with realm.condition:
        return any(
            q.waiters > 0 and not q.events
            for q in realm.queues.all_queues()
            if q.user_id == user_id
        )


@dataclass
class Stage:
    """The running pieces: sandbox, bot thread, people's clients, viewer, clock, store."""

    config: BotConfig
    meeting: MeetingConfig
    sandbox: Sandbox
    clock: FileClock
    bot: Bot
    bot_id: int
    store: Store
    people: dict[str, zulip.Client]
    viewer: Viewer
    out: TextIO

    @property
    def topic(self) -> str:
        return self.meeting.topic_for(script.DAY)

    def bot_is_idle(self) -> bool:
        return idle(self.sandbox, self.bot_id)

    def settle(
        self, done: Callable[[], bool] = lambda: True, what: str = "", tick: bool = False
    ) -> None:
        """Wait until `done` and the bot is idle; with `tick`, also until one of its schedule
        ticks ran after now, so that what the action made due (a re-post) happens now."""
        started = time.monotonic()
        deadline = started + PATIENCE
        quiet = 0
        while quiet < 2:
            if time.monotonic() > deadline:
                raise Stuck(what or "the bot did not answer")
            if not self.bot.is_alive():
                raise Stuck("the bot stopped; see bot.log")
            ticked = not tick or (
                self.bot.runner is not None and self.bot.runner.ticked_at > started
            )
            quiet = quiet + 1 if done() and ticked and self.bot_is_idle() else 0
            time.sleep(0.03)
        self.viewer.show_new()

    def move_to(self, moment: dt.datetime) -> None:
        """Simulated time jumps ahead to `moment`, shown as a progress bar when it is far."""
        start = self.clock.utc()
        if moment - start > dt.timedelta(hours=2):
            steps = 24
            for step in range(1, steps + 1):
                at = start + (moment - start) * step / steps
                self.clock.set(at, speed=0.0)
                if self.out.isatty():
                    bar = "#" * step + "-" * (steps - step)
                    shown = f"\r  ⏩ {at:%a %d %b %H:%M} UTC [{bar}]"
                    print(shown, end="", file=self.out, flush=True)
                time.sleep(0.02)
            if self.out.isatty():
                print("\r" + " " * 60 + "\r", end="", file=self.out)
            later = f"{_span(moment - start)} later: {moment:%a %d %b %H:%M} UTC"
            print(f"\n  ⏩ {later}", file=self.out)
        self.clock.set(moment, speed=1.0)

    def act(self, action: script.Action) -> None:
        client = self.people[action.who]
        if isinstance(action, script.Say):
            content = f"@**{self.config.bot_name}** {action.text}" if action.to_bot else action.text
            where = {"type": "stream", "to": self.meeting.stream, "topic": self.topic}
            _ok(client.send_message({**where, "content": content}))
        elif isinstance(action, script.Like):
            _ok(client.add_reaction(
                {"message_id": self._bot_message(_item_reply(action.item)), "emoji_name": "+1"}
            ))  # fmt: skip
        else:
            vote = {"type": "vote", "key": f"canned,{action.option - 1}", "vote": 1}
            _ok(client.call_endpoint(
                "submessage", method="POST",
                request={"message_id": self._bot_message(lambda c: c.startswith("/poll")),
                         "msg_type": "widget", "content": json.dumps(vote)},
            ))  # fmt: skip

    def _bot_message(self, wanted: Callable[[str], bool]) -> int:
        """The newest of the bot's messages in the topic that `wanted` picks, as a person's
        client finds it."""
        narrow = [
            {"operator": "stream", "operand": self.meeting.stream},
            {"operator": "topic", "operand": self.topic},
            {"operator": "sender", "operand": self.bot_id},
        ]
        body = self.people[script.JAIME].get_messages(
            {"anchor": "newest", "num_before": 200, "num_after": 0, "narrow": narrow,
             "apply_markdown": False}
        )  # fmt: skip
        found = [int(m["id"]) for m in _ok(body)["messages"] if wanted(str(m["content"]))]
        if not found:
            raise Stuck("the bot's message to react to is not in the topic")
        return found[-1]


def _item_reply(number: int) -> Callable[[str], bool]:
    def wanted(content: str) -> bool:
        found = _ITEM_REPLY.search(content)
        return found is not None and int(found[1]) == number

    return wanted


def _ok(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("result") != "success":
        raise Stuck(f"the sandbox refused a person's request: {body.get('msg')}")
    return body


def _span(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 36 else f"{hours:.0f} hours"


def _timeline(stage: Stage) -> list[tuple[dt.datetime, script.Action | schedule.Job]]:
    """The scene's actions and every job of the schedule between the demo's start and the
    meeting's summary, in order of time (a job before an action at the same moment)."""
    start = schedule.occurrence_on(stage.meeting, script.DAY)
    assert start is not None, "the demo's day is an occurrence of the example meeting"
    first = start - stage.meeting.agenda_lead - LEAD_IN
    last = schedule.jobs_for(stage.meeting, start)[-1].due
    jobs = {
        j.key: j
        for meeting in stage.config.meetings
        for begin in schedule.occurrences(meeting, first - dt.timedelta(days=7), count=10)
        for j in schedule.jobs_for(meeting, begin)
        if first <= j.due <= last
    }
    timed: list[tuple[dt.datetime, int, script.Action | schedule.Job]] = [
        (job.due, 0, job) for job in jobs.values()
    ]
    timed += [(start + offset, 1, action) for offset, action in script.SCENE]
    return [(when, item) for when, _, item in sorted(timed, key=lambda t: (t[0], t[1]))]


def _done(store: Store, key: str) -> bool:
    return key in store.jobs_done()


def _play(stage: Stage) -> None:
    for when, item in _timeline(stage):
        stage.move_to(when)
        if isinstance(item, schedule.Job):
            key = str(item.key)
            stage.settle(partial(_done, stage.store, key), f"the schedule's job {key}")
        else:
            stage.act(item)
            stage.settle(what=f"the bot did not answer {item}", tick=True)


@contextmanager
def _stage(folder: Path, out: TextIO) -> Iterator[Stage]:
    config = load_config(folder / CONFIG)
    meeting = config.meeting(script.MEETING)
    assert meeting is not None
    start = schedule.occurrence_on(meeting, script.DAY)
    assert start is not None
    clock = FileClock(folder / "clock.json")
    clock.set(start - meeting.agenda_lead - LEAD_IN, speed=1.0)
    with live_sandbox(config, folder, clock, out, VIEWER) as live:
        sandbox, seeded = live.sandbox, live.seeded
        people = {p.delivery_email: sandbox.client(p.delivery_email) for p in seeded.people}
        reader = Store(config.state_path)
        yield Stage(
            config, meeting, sandbox, clock, live.bot, seeded.bot.user_id, reader, people,
            live.viewer, out,
        )  # fmt: skip


@dataclass(frozen=True)
class Live:
    sandbox: Sandbox
    seeded: Seeded
    viewer: Viewer
    bot: Bot


@contextmanager
def live_sandbox(
    config: BotConfig, folder: Path, clock: FileClock, out: TextIO, viewer: str
) -> Iterator[Live]:
    """The sandbox seeded from `config` on `clock` (zuliprc files in `folder`), a viewer that
    prints to `out`, and the real bot in a thread; all stopped on the way out."""
    unlimited = RateLimit(1_000_000, 60)
    sandbox = Sandbox.start(
        clock=clock,
        heartbeat_seconds=HEARTBEAT,
        queue_timeout_seconds=10**9,  # days pass in seconds: no queue is idle that long
        rate_limit=unlimited,
        events_rate_limit=unlimited,
    )
    bot: Bot | None = None
    try:
        seeded = seed(sandbox, config)
        viewer_user = sandbox.add_user("Viewer", viewer)
        for stream in {m.stream for m in config.meetings}:
            sandbox.subscribe(viewer_user, stream)
        write_zuliprcs(sandbox, seeded, folder)
        names = {p.user_id: p.full_name for p in (*seeded.people, seeded.bot)}
        watching = Viewer(sandbox.client(viewer), names, seeded.bot.user_id, clock, out)
        watching.register()
        bot = Bot(config, folder / "zuliprc-bot", clock)
        bot.start()
        bot.ready.wait(PATIENCE)
        yield Live(sandbox, seeded, watching, bot)
    finally:
        if bot is not None:
            bot.stop()
        sandbox.stop()


def _checks(stage: Stage) -> list[tuple[bool, str]]:
    """What the cycle must have produced, each with what it means."""
    bot = [m for m in stage.viewer.posted if int(m["sender_id"]) == stage.bot_id]
    here = [str(m["content"]) for m in bot if m.get("subject") == stage.topic]
    path = stage.meeting.notes_path_for(script.DAY)
    try:
        doc = NotesDocument.load(path)
        items = {i.text for i in doc.items()}
    except (NotesError, OSError):
        items = set()
    wanted = set(script.ITEMS)
    found = {text for text in wanted if any(text in i for i in items)}
    return [
        (any("Add an item" in c for c in here[:1]), "the agenda thread opened two days before"),
        (any(c.startswith(thread.REPLACES) for c in here), "the agenda re-posted"),
        (found == wanted, f"the five items in the notes file ({len(found)} of {len(wanted)})"),
        (any(c.startswith("⏰") for c in here), "the reminder"),
        (any("has started" in c for c in here), "the meeting started on schedule"),
        (any("Poll closed" in c for c in here), "the poll closed with its ballots"),
        (any(c.startswith("## Summary") for c in here), "the summary posted after the meeting"),
    ]  # fmt: skip


def run_demo(folder: Path, out: TextIO = sys.stdout) -> int:
    """Plays the cycle in `folder`; 0 only if every check passed."""
    began = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(_bundled(name), folder / name)
    logging.basicConfig(
        filename=folder / "bot.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        force=True,
    )
    print(
        "meetbot demo: a Zulip sandbox on 127.0.0.1, the real bot (runner and client) against it,"
        "\nand people scripted in zulip_bot/demo/script.py. Simulated time: days pass in seconds.",
        file=out,
    )
    problem = ""
    with _stage(folder, out) as stage:
        print(f"  sandbox: {stage.sandbox.url}  scratch folder: {folder}", file=out)
        try:
            _play(stage)
        except Stuck as error:
            problem = str(error)
        checks = _checks(stage)
        notes = stage.meeting.notes_path_for(script.DAY)
    wall = time.monotonic() - began
    print(f"\n--- what the demo checked ({wall:.1f} s) ---", file=out)
    for ok, what in checks:
        print(f"  {'ok  ' if ok else 'MISSING'} {what}", file=out)
    if problem:
        print(f"  MISSING {problem}", file=out)
    print(f"notes draft: {notes}\ntranscript:  {transcript.path_for(notes)}", file=out)
    print(f"bot log:     {folder / 'bot.log'}", file=out)
    return 0 if all(ok for ok, _ in checks) and not problem else 1


def _bundled(name: str) -> Path:
    return Path(str(resources.files("zulip_bot") / "data" / name))
