"""How long one tick of the runner's schedule takes: `due_jobs` over many meetings, years in.

    python benchmarks/bench_schedule.py [--ticks N]

For 1, 10 and 50 weekly meetings (in several zones, first held in 2024) it times `due_jobs` ten
years on (and, for 10, in the first year), advancing a minute per tick with `done` fed back, and
prints p50, p99 and max per tick, and the first tick (which generates each meeting's timeline).
The goal: a tick under 1 ms per meeting, the same in the tenth year as in the first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from dataclasses import replace
from zoneinfo import ZoneInfo

from zulip_bot.config import MeetingConfig, default_config_path, load_config
from zulip_bot.schedule import JobKey, due_jobs

ZONES = ("UTC", "Europe/Madrid", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
DAYS = ("MO", "TU", "WE", "TH", "FR")


def meetings(count: int) -> list[MeetingConfig]:
    base = load_config(default_config_path()).meetings[0]
    return [
        replace(
            base,
            key=f"m{index}",
            schedule=f"FREQ=WEEKLY;BYDAY={DAYS[index % 5]}",
            first=dt.date(2024, 1, 1) + dt.timedelta(days=index % 5),
            timezone=ZoneInfo(ZONES[index % len(ZONES)]),
            skip=(),
            moved=(),
        )
        for index in range(count)
    ]


def run(count: int, ticks: int, year: int) -> None:
    group = meetings(count)
    now = dt.datetime(year, 1, 8, tzinfo=dt.UTC)
    done: set[JobKey] = set()
    start = time.perf_counter_ns()
    done.update(job.key for job in due_jobs(group, now, done))
    first = (time.perf_counter_ns() - start) / 1e6
    times = []
    for _ in range(ticks):
        now += dt.timedelta(minutes=1)
        start = time.perf_counter_ns()
        found = due_jobs(group, now, done)
        times.append((time.perf_counter_ns() - start) / 1e6)
        done.update(job.key for job in found)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    p50 = statistics.median(times)
    print(
        f"{year}, {count:2d} meetings: first tick {first:7.2f} ms; then p50 {p50:.3f} ms, "
        f"p99 {p99:.3f} ms, max {times[-1]:.3f} ms per tick "
        f"({p50 / count * 1000:.0f} us per meeting); {len(done)} jobs done"
    )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--ticks", type=int, default=2000)
    args = options.parse_args()
    run(10, args.ticks, 2024)  # the first year, to compare with the tenth
    for count in (1, 10, 50):
        run(count, args.ticks, 2034)


if __name__ == "__main__":
    main()
