"""The bot's idle cost: its API calls per hour on a quiet stream, nobody typing.

    python benchmarks/bench_idle.py [--hours 2] [--speed 200]

Zulip holds a long-poll on a quiet queue until its heartbeat, 50 s (45-55 on a real server), so
a bot that only waits for events makes about 3600 / 50 = 72 calls an hour. The bot here is the
real `chat.runner.Runner` in a thread, over HTTP, against the sandbox with its default 50 s
heartbeat, on simulated time: the sandbox's heartbeat comes after 50 / speed real seconds and
the bot's clock (a `FileClock` shared with the sandbox) runs `speed` times faster, so a
simulated hour takes 3600 / speed real seconds and holds as many heartbeats as a real one. The
window starts 30 minutes before the community meeting and holds its reminder, start and end
(with the summary), so the polls the schedule's own jobs cost are counted too.

Printed: the calls per simulated hour after start-up, by endpoint; the heartbeat floor; and how
late each scheduled post came, in simulated seconds. Goal: near the floor, every post on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import threading
import time
from pathlib import Path

from zulip_bot.chat.client import ZulipApi
from zulip_bot.chat.runner import Runner
from zulip_bot.config import load_config
from zulip_bot.demo.clock import FileClock
from zulip_bot.meeting.store import Store
from zulip_bot.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
START = dt.datetime(2024, 11, 6, 17, tzinfo=dt.UTC)  # the example's community meeting
TOPIC = "2024-11-06 Conda Community Meeting"
HEARTBEAT = 50.0  # simulated seconds, as the sandbox's default and a real server's
#: What each scheduled post starts with, and when it falls due.
DUE = {
    "⏰": START - dt.timedelta(minutes=15),
    "has started": START,
    "## Summary": START + dt.timedelta(minutes=75),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=2.0, help="simulated hours measured")
    parser.add_argument("--speed", type=float, default=200.0, help="simulated s per real s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meetbot-idle-") as scratch:
        folder = Path(scratch)
        for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
            shutil.copy(REPO / "config" / name, folder / name)
        config = load_config(folder / "meetbot.example.toml")
        clock = FileClock(folder / "clock.json")
        clock.set(START - dt.timedelta(minutes=30), speed=args.speed)
        sandbox = Sandbox.start(clock=clock, heartbeat_seconds=HEARTBEAT / args.speed)
        owner = sandbox.add_user("Jaime Rodríguez-Guerra", "jaimergp@example.org")
        bot = sandbox.add_bot("meetbot", owner=owner)
        for stream in ("community", "packaging"):
            sandbox.add_stream(stream, subscribers=[bot, owner])
        api = ZulipApi(sandbox.client(bot.delivery_email))
        me = api.call("GET", "users/me")
        ready = threading.Event()
        runners: list[Runner] = []

        def serve() -> None:  # the store belongs to the runner's thread, as SQLite wants
            store = Store(config.state_path)
            runner = Runner(
                config, api, me, store, now=clock.utc, seconds_until=clock.seconds_until,
                tick_every=30.0 / args.speed,
            )  # fmt: skip
            runners.append(runner)
            runner.start()
            ready.set()
            runner.run()
            store.close()

        loop = threading.Thread(target=serve, daemon=True)
        loop.start()
        ready.wait(30)
        begun, calls_before = clock.now(), api.stats.requests
        by_endpoint_before = dict(api.stats.by_endpoint)
        time.sleep(args.hours * 3600 / args.speed)
        hours = (clock.now() - begun) / 3600
        calls = api.stats.requests - calls_before
        by_endpoint = {
            k: v - by_endpoint_before.get(k, 0)
            for k, v in api.stats.by_endpoint.items()
            if v > by_endpoint_before.get(k, 0)
        }
        runners[0].stop()
        loop.join(HEARTBEAT / args.speed + 10)
        topic = sandbox.realm.messages_in("community", TOPIC)
        posted = [m for m in topic if m.sender_id == bot.user_id]
        sandbox.stop()

    print(
        f"{hours:.2f} simulated hours on a quiet stream, heartbeat {HEARTBEAT:.0f} s, "
        f"time {args.speed:.0f}x"
    )
    print(
        f"bot API calls after start-up: {calls} = {calls / hours:.1f} per hour "
        f"(heartbeat floor {3600 / HEARTBEAT:.0f} long-polls an hour); by endpoint: "
        + ", ".join(f"{k} {v}" for k, v in sorted(by_endpoint.items()))
    )
    for start, due in DUE.items():
        found = [m for m in posted if start in m.content]
        late = f"{found[0].timestamp - due.timestamp():+.0f} s" if found else "never posted"
        print(f"{start!r} due {due:%H:%M:%S}: {late}")
    print(f"429s met by the bot: {api.stats.rate_limited}")


if __name__ == "__main__":
    main()
