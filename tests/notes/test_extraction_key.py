"""The reader scored against a hand-labelled key of corpus files (both repositories, 2016 on).

`extraction_key.json` was made by reading each file, not by running the reader: for each file
the action items (line of their paragraph, task, owners as written and the people they map to),
the decisions, the owners of list items and the number of attendees listed. Files marked
`untuned` were labelled before the reader learnt named owners and were never used to tune it:
their figures are the honest estimate of how the reader does on notes it has not seen, so they
are scored apart from the rest. The figures are printed whatever the outcome.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS
from zulip_bot.notes import NotesDocument

KEY = json.loads((Path(__file__).parent / "extraction_key.json").read_text(encoding="utf-8"))


def norm(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(" .,:;")


@dataclass
class Score:
    found: int = 0
    expected: int = 0
    matched: int = 0
    misses: list[str] = field(default_factory=list)

    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0


@dataclass
class Totals:
    actions: Score = field(default_factory=Score)
    decisions: Score = field(default_factory=Score)
    owners_right: int = 0
    owners_checked: int = 0
    people_right: int = 0
    people_checked: int = 0
    owner_misses: list[str] = field(default_factory=list)
    attendees_right: int = 0
    files: int = 0
    attendee_misses: list[str] = field(default_factory=list)


def _actions(name: str, doc: NotesDocument, key: list[dict[str, Any]], totals: Totals) -> None:
    found = [(a.line, norm(a.task), tuple(a.owners), tuple(a.people)) for a in doc.action_items()]
    totals.actions.found += len(found)
    totals.actions.expected += len(key)
    left = list(found)
    for expected in key:
        hit = next(
            (f for f in left if f[0] == expected["line"] and f[1] == norm(expected["task"])), None
        )
        if hit is None:
            totals.actions.misses.append(f"{name}:{expected['line']}: missed {expected['task']!r}")
            continue
        left.remove(hit)
        totals.actions.matched += 1
        totals.owners_checked += 1
        if list(hit[2]) == expected["owners"]:
            totals.owners_right += 1
        else:
            totals.owner_misses.append(f"{name}:{hit[0]}: action owners {hit[2]}")
        totals.people_checked += 1
        if list(hit[3]) == expected.get("people", expected["owners"]):
            totals.people_right += 1
        else:
            totals.owner_misses.append(f"{name}:{hit[0]}: action people {hit[3]}")
    totals.actions.misses += [f"{name}:{f[0]}: extra {f[1]!r} {f[2]}" for f in left]


def _decisions(name: str, doc: NotesDocument, key: list[dict[str, Any]], totals: Totals) -> None:
    found = [(d.line, norm(d.text)) for d in doc.decisions()]
    totals.decisions.found += len(found)
    totals.decisions.expected += len(key)
    left = list(found)
    for expected in key:
        wanted = (expected["line"], norm(expected["text"]))
        if wanted in left:
            left.remove(wanted)
            totals.decisions.matched += 1
        else:
            totals.decisions.misses.append(f"{name}:{wanted[0]}: missed {expected['text']!r}")
    totals.decisions.misses += [f"{name}:{f[0]}: extra {f[1]!r}" for f in left]


def _owners(name: str, doc: NotesDocument, key: dict[str, list[str]], totals: Totals) -> None:
    for line, owners in key.items():
        item = doc.item_at(int(line))
        totals.owners_checked += 1
        if item is not None and list(item.owners) == owners:
            totals.owners_right += 1
        else:
            got = item.owners if item is not None else "no item"
            totals.owner_misses.append(f"{name}:{line}: item owners {got}, want {owners}")


def score(batch: int) -> Totals:
    """The figures on one batch of files never tuned on, or with 0 on those tuned on."""
    totals = Totals()
    for name, key in KEY["files"].items():
        if key.get("untuned", 0) != batch:
            continue
        doc = NotesDocument.load(CORPUS / name)
        _actions(name, doc, key["actions"], totals)
        _decisions(name, doc, key["decisions"], totals)
        _owners(name, doc, key["owners"], totals)
        totals.files += 1
        count = len(doc.attendees())
        if count == key["attendees"]:
            totals.attendees_right += 1
        else:
            totals.attendee_misses.append(f"{name}: {count} attendees, want {key['attendees']}")
    return totals


def test_the_key_covers_both_repositories_and_every_era() -> None:
    names = list(KEY["files"])
    assert len(names) >= 30
    years = {re.search(r"(20\d\d)", n)[1] for n in names}  # type: ignore[index]
    assert {n.split("/")[0] for n in names} == {"governance", "conda-forge.github.io"}
    assert {"2016", "2018", "2020", "2022", "2024", "2026"} <= years


def report(title: str, totals: Totals, *, misses: bool) -> list[str]:
    figures = [
        f"{title}: {totals.files} files",
        f"action items: precision {totals.actions.precision():.3f} recall "
        f"{totals.actions.recall():.3f} ({totals.actions.matched} of {totals.actions.expected}, "
        f"{totals.actions.found} found)",
        f"decisions: precision {totals.decisions.precision():.3f} recall "
        f"{totals.decisions.recall():.3f} ({totals.decisions.matched} of "
        f"{totals.decisions.expected}, {totals.decisions.found} found)",
        f"owners right: {owners(totals):.3f} ({totals.owners_right} of {totals.owners_checked})",
        f"action owners mapped to people right: {people(totals):.3f} ({totals.people_right} of "
        f"{totals.people_checked})",
        f"attendee counts right: {totals.attendees_right / totals.files:.3f} "
        f"({totals.attendees_right} of {totals.files})",
    ]
    if not misses:
        return figures
    return [
        *figures,
        *totals.actions.misses,
        *totals.decisions.misses,
        *totals.owner_misses,
        *totals.attendee_misses,
    ]


def owners(totals: Totals) -> float:
    return totals.owners_right / totals.owners_checked


def people(totals: Totals) -> float:
    return totals.people_right / totals.people_checked if totals.people_checked else 1.0


def test_reader_against_the_hand_labelled_key(capsys: pytest.CaptureFixture[str]) -> None:
    """Floors on the files the reader was tuned on."""
    totals = score(0)
    with capsys.disabled():
        print("\n" + "\n".join(report("tuned on", totals, misses=True)))
    assert totals.actions.precision() >= 0.97 and totals.actions.recall() >= 0.97
    assert totals.decisions.precision() >= 0.95 and totals.decisions.recall() >= 0.94
    assert owners(totals) >= 0.99 and people(totals) >= 0.98
    assert totals.attendees_right / totals.files >= 0.98


# What each batch of never-tuned files gave the reader the first time it was scored on them.
FLOORS = {
    2: {"precision": 0.95, "recall": 0.62, "owners": 0.97, "people": 0.97},
    3: {"precision": 0.95, "recall": 0.95, "owners": 0.99, "people": 0.91},
}


@pytest.mark.parametrize("batch", sorted(FLOORS))
def test_reader_on_files_it_was_never_tuned_on(
    batch: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """Printed for the record, without the misses: whoever reads those and fixes the reader
    has tuned it on these files. The floors are the figures each batch gave the reader the
    first time it was scored on it, so they only catch a reader that got worse on unseen
    notes (batch 1 gave precision 0.92, recall 0.64 before the reader learnt named owners)."""
    totals = score(batch)
    with capsys.disabled():
        print("\n" + "\n".join(report(f"never tuned on, batch {batch}", totals, misses=False)))
    floor = FLOORS[batch]
    assert totals.files >= 10
    assert totals.actions.precision() >= floor["precision"]
    assert totals.actions.recall() >= floor["recall"]
    assert owners(totals) >= floor["owners"] and people(totals) >= floor["people"]
