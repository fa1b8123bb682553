"""How long one tick of the runner's schedule takes: `due_jobs` over many meetings, years in.

    python benchmarks/bench_schedule.py [--ticks N]

For 1, 10 and 50 weekly meetings (in several zones, first held in 2024) it times `due_jobs` ten
years on (and, for 10, in the first year), advancing a minute per tick with `done` fed back, and
prints p50, p99 and max per tick, and the first tick (which generates each meeting's timeline).
Then the same for 10 meetings asking the SQLite store what is done (`Store.jobs_done`, as the
runner does), with no history and with every job of the ten years before in the table.
The goal: a tick under 1 ms per meeting, the same in the tenth year as in the first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable, Container
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from zulip_bot.config import MeetingConfig, default_config_path, load_config
from zulip_bot.meeting.store import Store
from zulip_bot.schedule import JobKey, due_jobs, jobs_for, occurrences

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


def ticking(
    group: list[MeetingConfig],
    now: dt.datetime,
    ticks: int,
    done: Callable[[], Container[JobKey]],
    mark: Callable[[list[JobKey]], None],
) -> tuple[float, list[float]]:
    """The first tick's milliseconds and each later one's, sorted; `done()` is asked anew at
    each tick, as the runner asks the store, and `mark` records what a tick did."""
    start = time.perf_counter_ns()
    mark([job.key for job in due_jobs(group, now, done())])
    first = (time.perf_counter_ns() - start) / 1e6
    times = []
    for _ in range(ticks):
        now += dt.timedelta(minutes=1)
        start = time.perf_counter_ns()
        found = due_jobs(group, now, done())
        times.append((time.perf_counter_ns() - start) / 1e6)
        mark([job.key for job in found])
    return first, sorted(times)


def show(label: str, count: int, first: float, times: list[float], done: int) -> None:
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    p50 = statistics.median(times)
    print(
        f"{label}, {count:2d} meetings: first tick {first:7.2f} ms; then p50 {p50:.3f} ms, "
        f"p99 {p99:.3f} ms, max {times[-1]:.3f} ms per tick "
        f"({p50 / count * 1000:.0f} us per meeting); {done} jobs done"
    )


def run(count: int, ticks: int, year: int) -> None:
    done: set[JobKey] = set()
    first, times = ticking(
        meetings(count), dt.datetime(year, 1, 8, tzinfo=dt.UTC), ticks, lambda: done, done.update
    )
    show(str(year), count, first, times, len(done))


def run_on_store(count: int, ticks: int, history: bool) -> None:
    """Ten years on, the store holding (with `history`) every job done before then."""
    group = meetings(count)
    now = dt.datetime(2034, 1, 8, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "state.sqlite3")
        with store.transaction():
            for meeting in group if history else []:
                moment = dt.datetime(2023, 12, 31, tzinfo=dt.UTC)
                while starts := occurrences(meeting, moment):
                    if starts[0] >= now - dt.timedelta(days=7):
                        break
                    for job in jobs_for(meeting, starts[0]):
                        store.job_done(str(job.key), moment.isoformat())
                    moment = starts[0]
        before = store.db.execute("SELECT COUNT(*) FROM job_done").fetchone()[0]

        def mark(keys: list[JobKey]) -> None:
            with store.transaction():
                for key in keys:
                    store.job_done(str(key), now.isoformat())

        first, times = ticking(group, now, ticks, store.jobs_done, mark)
        label = f"2034 on the store, {before:5d} done before"
        show(
            label,
            count,
            first,
            times,
            store.db.execute("SELECT COUNT(*) FROM job_done").fetchone()[0],
        )
        store.close()


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--ticks", type=int, default=2000)
    args = options.parse_args()
    run(10, args.ticks, 2024)  # the first year, to compare with the tenth
    for count in (1, 10, 50):
        run(count, args.ticks, 2034)
    for history in (False, True):
        run_on_store(10, args.ticks, history)


if __name__ == "__main__":
    main()
