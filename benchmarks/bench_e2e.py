"""End to end through the sandbox: 50 people send 300 commands within 60 s to the real runner.

    python benchmarks/bench_e2e.py [--seconds 60] [--people 50] [--commands 300] [--linger 2.0]

A sandbox on 127.0.0.1 with Zulip's default rate limits (200 requests per sliding 60 s per
user, the events endpoint counted apart) and hidden emails; the bot is `chat.runner.Runner` in
a thread of this process, talking HTTP through `chat.client.ZulipApi`. The people are zulip
clients of their own, over HTTP too: they add items, vote by command and by 👍, say `here` and
take live notes, at random moments (seeded) of the window, in a running meeting.

Printed: from each command's send to its acknowledgment as the people see it (the bot's reply,
a reply line naming them in a batched message, or the bot's ✅ on their message), p50 / p99 /
max; for 👍 votes, which get no reply by design, from the reaction to the vote being stored;
the bot's API calls per command (all of them, and without the start-up calls); and the 429s the
bot met. Goal: every command acknowledged, no 429, p99 under 10 s, at most 0.7 calls a command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zulip_bot.chat.client import ZulipApi
from zulip_bot.chat.runner import Runner
from zulip_bot.config import load_config
from zulip_bot.meeting.store import Store
from zulip_bot.sandbox import Sandbox
from zulip_bot.sandbox.model import User

REPO = Path(__file__).resolve().parents[1]
DURING = dt.datetime(2024, 11, 6, 17, 5, tzinfo=dt.UTC)
TOPIC = "2024-11-06 Conda Community Meeting"
MIX = (("add", 0.25), ("vote", 0.2), ("thumb", 0.2), ("note", 0.2), ("here", 0.15))


@dataclass
class Command:
    at: float  # seconds into the window
    who: int
    kind: str
    text: str = ""
    sent: float | None = None
    message_id: int | None = None
    acked: float | None = None
    target: int | None = None  # item number voted for


@dataclass
class World:
    sandbox: Sandbox
    bot: User
    people: list[User]
    config_path: Path
    runner: Runner | None = None
    clients: dict[int, Any] = field(default_factory=dict)


def build(folder: Path, people: int) -> World:
    for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
        shutil.copy(REPO / "config" / name, folder / name)
    sandbox = Sandbox.start()  # Zulip's defaults: 200 / 60 s, heartbeats after 50 s
    jaime = sandbox.add_user("Jaime Rodríguez-Guerra", "jaimergp@example.org", github="jaimergp")
    crowd = [sandbox.add_user(f"Person {i:02d}", f"person{i}@example.net") for i in range(people)]
    bot = sandbox.add_bot("meetbot", owner=jaime)
    sandbox.add_stream("community", subscribers=[bot, jaime, *crowd])
    sandbox.add_stream("packaging", subscribers=[bot, jaime])
    return World(sandbox, bot, [jaime, *crowd], folder / "meetbot.example.toml")


def run_bot(world: World, linger: float, ready: threading.Event) -> None:
    config = load_config(world.config_path)
    api = ZulipApi(world.sandbox.client(world.bot.delivery_email))
    me = api.call("GET", "users/me")
    store = Store(config.state_path)
    world.runner = Runner(config, api, me, store, linger=linger, now=lambda: DURING)
    world.runner.start()
    ready.set()
    world.runner.run()
    store.close()


def plan(rng: random.Random, commands: int, people: int, seconds: float) -> list[Command]:
    kinds = [kind for kind, share in MIX for _ in range(round(share * commands))]
    kinds = (kinds + ["note"] * commands)[:commands]
    rng.shuffle(kinds)
    planned: list[Command] = []
    here_left = list(range(1, people + 1))
    rng.shuffle(here_left)
    for index, kind in enumerate(kinds):
        if kind == "here" and not here_left:
            kind = "note"
        # adds come a little earlier, so that there is something to vote for
        at = rng.uniform(0, seconds * (0.7 if kind == "add" else 0.97))
        if kind in ("vote", "thumb"):
            at = max(at, 3.0)
        who = here_left.pop() if kind == "here" else rng.randrange(1, people + 1)
        planned.append(Command(at, who, kind, text=f"topic {index}"))
    return sorted(planned, key=lambda c: c.at)


def items(world: World) -> dict[int, int]:
    """Item number -> the bot's reply id, from the bot's store."""
    assert world.runner is not None
    path = world.runner.config.state_path
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT number, message_id FROM item WHERE message_id IS NOT NULL")
        return {int(n): int(m) for n, m in rows}


def stored_votes(world: World) -> set[tuple[int, str]]:
    assert world.runner is not None
    with sqlite3.connect(world.runner.config.state_path) as db:
        return {(int(n), str(v)) for n, v in db.execute("SELECT number, voter FROM vote")}


def send(world: World, command: Command, start: float, rng: random.Random, voted: set[Any]) -> None:
    person = world.people[command.who]
    client = world.clients[person.user_id]
    known = items(world)
    if command.kind in ("vote", "thumb"):
        choices = [n for n in known if (command.who, n) not in voted]
        if not choices:
            command.kind = "note"
        else:
            command.target = rng.choice(choices)
            voted.add((command.who, command.target))
    content = {
        "add": f"add item {command.text}",
        "vote": f"vote {command.target}",
        "note": f"note {command.text}",
        "here": "here",
        "thumb": "",
    }[command.kind]
    command.sent = time.monotonic() - start
    if command.kind == "thumb":
        assert command.target is not None
        client.add_reaction({"message_id": known[command.target], "emoji_name": "+1"})
        return
    body = client.send_message(
        {"type": "stream", "to": "community", "topic": TOPIC, "content": f"@**meetbot** {content}"}
    )
    command.message_id = int(body["id"])


def watch(world: World, commands: list[Command], start: float, stop: threading.Event) -> None:
    """Marks each command acknowledged when the people could see it was."""
    realm = world.sandbox.realm
    bot = world.bot.user_id
    # the email the bot keys them by: Zulip's userNN@... for people outside the roster
    emails = {p.user_id: realm.api_email(p) for p in world.people}
    while not stop.is_set():
        now = time.monotonic() - start
        with realm.condition:
            posted = [m.content for m in realm.messages.values() if m.sender_id == bot]
            reacted = {
                m.id for m in realm.messages.values() if any(r.user_id == bot for r in m.reactions)
            }
        text = "\n\n".join(posted)
        votes = stored_votes(world) if any(c.kind == "thumb" for c in commands) else set()
        seen: dict[tuple[int, str], int] = {}
        for command in commands:
            if command.sent is None or command.acked is not None:
                continue
            person = world.people[command.who]
            line = f"@_**{person.full_name}|{person.user_id}** "
            if command.kind == "add":
                done = f": {command.text}\n" in text
            elif command.kind == "thumb":
                done = (command.target, emails[person.user_id]) in votes
            elif command.message_id in reacted:
                done = True
            else:
                # a batch line naming them; the n-th such line answers their n-th such command
                key = (command.who, command.kind)
                seen[key] = seen.get(key, 0) + 1
                wanted = {"vote": f"Voted for item {command.target};", "note": "Noted under",
                          "here": "Welcome,"}[command.kind]  # fmt: skip
                done = text.count(line + wanted) >= seen[key]
            if done:
                command.acked = now
        time.sleep(0.02)


def by_kind(counts: dict[str, int]) -> dict[str, int]:
    """`messages/123/reactions` and its like counted together."""
    merged: dict[str, int] = {}
    for endpoint, count in counts.items():
        parts = endpoint.split("/")
        key = "/".join("{id}" if part.isdigit() else part for part in parts)
        merged[key] = merged.get(key, 0) + count
    return merged


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--linger", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="meetbot-e2e-") as scratch:
        world = build(Path(scratch), args.people)
        for person in world.people:
            world.clients[person.user_id] = world.sandbox.client(person.delivery_email)
        ready = threading.Event()
        bot = threading.Thread(target=run_bot, args=(world, args.linger, ready), daemon=True)
        bot.start()
        ready.wait(30)
        assert world.runner is not None
        jaime = world.clients[world.people[0].user_id]
        for text in ("start", "add item warm-up", "next"):  # a running meeting, item 1 open
            jaime.send_message({"type": "stream", "to": "community", "topic": TOPIC,
                                "content": f"@**meetbot** {text}"})  # fmt: skip
        time.sleep(3)
        stats = world.runner.api.stats
        before = stats.requests
        commands = plan(rng, args.commands, args.people, args.seconds)
        start = time.monotonic()
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(world, commands, start, stop), daemon=True)
        watcher.start()
        voted: set[Any] = set()
        for command in commands:
            time.sleep(max(0.0, command.at - (time.monotonic() - start)))
            send(world, command, start, rng, voted)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(c.acked is None for c in commands):
            time.sleep(0.2)
        stop.set()
        watcher.join()
        calls = stats.requests - before
        world.runner.stop()
        bot.join(10)
        world.sandbox.stop()

    sent_in = max(c.sent or 0 for c in commands)
    acked = [c for c in commands if c.acked is not None and c.sent is not None]
    print(f"{len(commands)} commands from {args.people} people in {sent_in:.1f} s "
          f"(linger {args.linger} s), at Zulip's default rate limit")  # fmt: skip
    kinds = sorted({c.kind for c in commands})
    print("mix: " + ", ".join(f"{k} {sum(c.kind == k for c in commands)}" for k in kinds))
    print(f"acknowledged: {len(acked)} of {len(commands)}")
    for label, group in (
        ("replied or ✅ (send -> ack)", [c for c in acked if c.kind != "thumb"]),
        ("👍 (reaction -> vote stored)", [c for c in acked if c.kind == "thumb"]),
    ):
        if group:
            waits = [(c.acked or 0) - (c.sent or 0) for c in group]
            print(
                f"{label}: n={len(group)} p50 {statistics.median(waits):.2f} s, "
                f"p99 {percentile(waits, 0.99):.2f} s, max {max(waits):.2f} s"
            )
    print(
        f"bot API calls: {calls} during the window = {calls / len(commands):.2f} per command "
        f"({stats.requests} with start-up and warm-up); by endpoint: "
        + ", ".join(f"{k} {v}" for k, v in sorted(by_kind(stats.by_endpoint).items()))
    )
    print(f"429s met by the bot: {stats.rate_limited}; retries: {stats.retries}")
    print(f"messages posted: {world.runner.outbox.sent_messages}, "
          f"✅ reactions: {world.runner.outbox.sent_reactions}")  # fmt: skip


if __name__ == "__main__":
    main()
