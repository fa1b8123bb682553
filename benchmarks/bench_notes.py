"""How long the notes model takes, beside markdown-it-py's bare parse of the same text.

    python benchmarks/bench_notes.py [--repeat N]

Prints three figures: parse + render of the whole corpus, reading the action items and decisions
of the whole corpus once parsed (the prose reader, which `meetbot import` runs on every file of
an archive), and parse + one edit + render of a synthetic 1,000-item notes file. The goal is
at most 3x markdown-it-py's bare `parse`. Every
round of the 1,000-item figure parses a text it has not seen (its title names the round), so
the document's cache of recent parses cannot answer it: the figure is a real parse.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from markdown_it import MarkdownIt

from zulip_bot.notes import NotesDocument

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "corpus"
BARE = MarkdownIt("commonmark").enable("table")


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The median of `repeat` runs, in seconds: steadier than the mean on a shared machine."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def synthetic(items: int, round_: int = 0) -> str:
    lines = ["---", "tags: [meeting-notes]", "---",
             f"# 2024-11-06 Conda Community Meeting, round {round_}", "",
             "## Attendees", "", "| Name | Initials | Affiliation | GH Username |",
             "| ---- | -------- | ----------- | ----------- |", "| Ann Bee | AB | Org | annb |",
             "", "X people in total", "", "## New Agenda Items", ""]  # fmt: skip
    for number in range(items):
        lines.append(f"- [x] AB: topic {number} with a [link](https://example.org/{number})")
        lines.append(f"    - CD: discussion of topic {number}, see `code` and **bold**")
    return "\n".join(lines) + "\n"


def report(name: str, ours: float, bare: float) -> None:
    print(f"{name}: {ours * 1000:.1f} ms; markdown-it-py parse {bare * 1000:.1f} ms; "
          f"ratio {ours / bare:.2f}x (goal <= 3x)")  # fmt: skip


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--repeat", type=int, default=7)
    repeat = options.parse_args().repeat

    texts = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.rglob("*.md"))]
    if texts:

        def corpus_ours() -> None:
            for text in texts:
                doc = NotesDocument.parse(text)
                doc.items()
                doc.render()

        def corpus_bare() -> None:
            for text in texts:
                BARE.parse(text)

        bare = best_of(repeat, corpus_bare)
        report(f"corpus parse+render ({len(texts)} files)", best_of(repeat, corpus_ours),
               bare)  # fmt: skip
        docs = [NotesDocument.parse(text) for text in texts]
        for doc in docs:
            doc.items()  # parsed before the clock starts: this figure is the reader alone

        def corpus_read() -> None:
            for doc in docs:
                doc.action_items()
                doc.decisions()

        report("corpus action items + decisions, once parsed", best_of(repeat, corpus_read), bare)
    else:
        print(f"corpus parse+render: skipped, {CORPUS} is absent")

    texts = [synthetic(1000, n) for n in range(2 * repeat)]
    ours, bare = iter(texts[0::2]), iter(texts[1::2])

    def edit_ours() -> None:
        doc = NotesDocument.parse(next(ours))
        doc.add_item("New Agenda Items", "one more topic", owners=("ZZ",))
        doc.render()

    report("1,000-item file parse+edit+render, a new text each round",
           best_of(repeat, edit_ours), best_of(repeat, lambda: BARE.parse(next(bare))))  # fmt: skip


if __name__ == "__main__":
    main()
