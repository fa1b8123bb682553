"""How long `meetbot import` takes on the whole corpus (both repositories, 245 files).

    python benchmarks/bench_import.py [--repeat N]

Prints the median time of each phase of a first import (reading and parsing the archive,
planning against the roster and the store, applying: roster, registry, next draft) and of a
second one, which finds nothing to do. Every round imports a fresh copy of the corpus in which
each file carries a comment naming the round, so that no parse cache can answer for it, into a
fresh roster and store.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from zulip_bot.archive import importer
from zulip_bot.archive.read import notes_files, read_archive
from zulip_bot.config import load_config
from zulip_bot.meeting.store import Store

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "data" / "corpus"
NOW = dt.datetime(2026, 8, 14, 12, tzinfo=dt.UTC)
CONFIG = REPO / "tests" / "archive" / "meetbot.toml"  # the one the tests import with


class Stopwatch:
    """Seconds since the last `lap`."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        seconds, self.start = now - self.start, now
        return seconds


def fresh(root: Path, round_: int) -> tuple[Path, Path]:
    """A copy of the corpus whose every file is new to the parser, and a bot folder."""
    archive = root / f"corpus-{round_}"
    shutil.copytree(CORPUS, archive)
    for path in notes_files(archive):
        with path.open("ab") as handle:
            handle.write(f"\n<!-- benchmark round {round_} -->\n".encode())
    site = root / f"site-{round_}"
    site.mkdir()
    shutil.copy(REPO / "config" / "people.example.toml", site / "people.toml")
    shutil.copy(REPO / "config" / "notes-template.md", site / "notes-template.md")
    shutil.copy(CONFIG, site / "meetbot.toml")
    return archive, site


def one_round(folder: Path, site: Path) -> tuple[importer.Plan, dict[str, float]]:
    """A first import, timed phase by phase, and a second one that must find nothing to do."""
    config = load_config(site / "meetbot.toml")
    store = Store(config.state_path)
    watch = Stopwatch()
    archive = read_archive(folder, config.meetings)
    read = watch.lap()
    plan = importer.plan(config, archive, store, NOW)
    planned = watch.lap()
    importer.apply(plan, store)
    applied = watch.lap()
    config = load_config(site / "meetbot.toml")  # with the people it added
    watch.lap()
    again = importer.plan(config, read_archive(folder, config.meetings), store, NOW)
    second = watch.lap()
    store.close()
    assert plan.changes and not again.changes, "the second import found work to do"
    phases = {"read": read, "plan": planned, "apply": applied}
    return plan, {**phases, "second import (read + plan)": second}


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--repeat", type=int, default=5)
    repeat = options.parse_args().repeat
    phases: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
        for round_ in range(repeat):
            plan, times = one_round(*fresh(Path(scratch), round_))
            for name, seconds in times.items():
                phases.setdefault(name, []).append(seconds)
    archive = plan.archive
    files = len(archive.records) + len(archive.unreadable) + len(archive.undated)
    print(
        f"meetbot import of the whole corpus: {files} files, {len(plan.roster.new)} people "
        f"added, {len(plan.actions)} action items, median of {repeat} rounds"
    )
    for name, times_ in phases.items():
        median = statistics.median(times_)
        print(f"  {name}: {median * 1000:.0f} ms ({median / files * 1000:.2f} ms a file)")
    total = sum(statistics.median(phases[p]) for p in ("read", "plan", "apply"))
    print(f"  first import in all: {total * 1000:.0f} ms")


if __name__ == "__main__":
    main()
