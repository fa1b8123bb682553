"""The parse an edit brings up to date must equal a parse of the whole edited file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import CORPUS, EXAMPLE, corpus_files
from zulip_bot.notes import Attendee, NotesDocument, NotesError, incremental, inline_text
from zulip_bot.notes.model import AgendaItem, Parsed
from zulip_bot.notes.parse import parse_lines, split_lines

FILES = [EXAMPLE, *(f for f in corpus_files() if "templates" not in f.parts)]


@pytest.fixture
def outcomes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often an edit updated the parse in place rather than leaving a full parse to do."""
    counts: Counter[str] = Counter()
    real: Callable[..., Parsed | None] = incremental.update

    def counting(*args: object) -> Parsed | None:
        result = real(*args)
        counts["updated" if result is not None else "reparsed"] += 1
        return result

    monkeypatch.setattr(incremental, "update", counting)
    return counts


def _agenda(doc: NotesDocument) -> str | None:
    sections = [s for s in doc.sections() if s.items and not s.title.casefold().startswith("att")]
    return max(sections, key=lambda s: len(s.items)).title if sections else None


def _edits(doc: NotesDocument, section: str) -> list[Callable[[], object]]:
    def first() -> object:
        return doc.items(section)[0]

    def last() -> object:
        return doc.items(section)[-1]

    edits: list[Callable[[], object]] = [
        lambda: doc.set_checked(first(), True),
        lambda: doc.add_child(first(), "Action item: ZZ to follow up"),
        lambda: doc.add_item(section, "A brand-new topic", owners=("ZZ",)),
        lambda: doc.add_child(last(), "a note on the new topic"),
        lambda: doc.add_child(doc.items(section)[-1].children[-1], "nested deeper"),
        lambda: doc.set_item_text(first(), "Reworded by chat"),
        lambda: doc.set_checked(last(), None),
        lambda: doc.remove_item(doc.items(section)[len(doc.items(section)) // 2]),
        lambda: doc.add_item(section, "Another one | with a pipe"),
    ]
    if doc.parsed.attendee_table is not None or doc.parsed.attendee_list is not None:
        edits.insert(1, lambda: doc.add_attendee(Attendee("Zoe Zed", "ZZ", "Org", "zoezed")))
    if doc.head_count is not None:
        edits.insert(2, lambda: doc.set_head_count(42))
    return edits


EDITABLE = [f for f in FILES if _agenda(NotesDocument.parse(f.read_text(encoding="utf-8")))]
IDS = [f.name if f == EXAMPLE else str(f.relative_to(CORPUS)) for f in EDITABLE]


def test_most_files_have_items_to_edit() -> None:
    assert len(EDITABLE) > 0.8 * len(FILES)


@pytest.mark.parametrize("path", EDITABLE, ids=IDS)
def test_every_edit_leaves_the_parse_a_full_parse_would_give(path: Path) -> None:
    doc = NotesDocument.parse(path.read_text(encoding="utf-8"))
    section = _agenda(doc)
    assert section is not None
    for edit in _edits(doc, section):
        doc.parsed  # noqa: B018 - the edit then starts from a parse, as in the service
        try:
            edit()
        except NotesError:
            continue  # items in blockquotes and the like are refused; covered elsewhere
        assert doc.parsed == parse_lines(split_lines(doc.render())), edit


def test_most_edits_are_applied_in_place(outcomes: Counter[str]) -> None:
    for path in FILES:
        doc = NotesDocument.parse(path.read_text(encoding="utf-8"))
        section = _agenda(doc)
        for edit in _edits(doc, section) if section else []:
            doc.parsed  # noqa: B018
            try:
                edit()
            except NotesError:
                continue
    assert outcomes["updated"] > 4 * outcomes["reparsed"], outcomes


_PIECES = st.sampled_from([*"ab -*#>|`[]():1.\\\n\t<!", "JRG: ", "- [ ] ", "    ", "```"])
_TEXTS = (
    st.lists(_PIECES, min_size=1, max_size=12)
    .map("".join)
    .filter(lambda text: inline_text(text) != "")
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), _TEXTS, st.integers(0, 50)), max_size=8))
def test_random_edits_with_hostile_text(steps: list[tuple[int, str, int]]) -> None:
    doc = NotesDocument.parse(EXAMPLE.read_text(encoding="utf-8"))
    for operation, text, pick in steps:
        items = [i for i in doc.parsed.items_at.values() if doc.parsed.layouts[i.line - 1].editable]
        _edit(doc, operation, text, items[pick % len(items)], pick % 2 == 0)
        assert doc.parsed == parse_lines(split_lines(doc.render()))


def _edit(doc: NotesDocument, operation: int, text: str, item: AgendaItem, tick: bool) -> None:
    if operation == 0:
        doc.add_item("New Agenda Items", text, owners=("ZZ",))
    elif operation == 1:
        doc.add_child(item, text)
    elif operation == 2:
        doc.set_item_text(item, text)
    elif operation == 3:
        doc.set_checked(item, tick)
    elif operation == 4:
        doc.remove_item(item)
    else:
        doc.add_item("Announcements", text)


@pytest.mark.parametrize(
    ("before", "start", "end", "new"),
    [
        # the blank line between an item and a paragraph goes: the paragraph joins the item
        ("## S\n\n- a\n\ntext\n", 3, 4, []),
        # an item inserted right above a paragraph would take it in as a lazy continuation
        ("## S\n\ntext\n", 2, 2, ["- [ ] new\n"]),
        # a heading line is replaced: the sections themselves change
        ("## S\n\n- a\n\n## T\n", 4, 5, ["not a heading any more\n"]),
        # front matter is touched
        ("---\ntags: []\n---\n## S\n", 1, 2, ["tags: [x]\n"]),
    ],
)
def test_update_leaves_unsafe_splices_to_a_full_parse(
    before: str, start: int, end: int, new: list[str]
) -> None:
    lines = split_lines(before)
    old = parse_lines(lines)
    lines[start:end] = new
    assert incremental.update(old, lines, start, end, len(new)) is None


def test_update_agrees_with_a_full_parse_on_a_sub_item_added_to_a_loose_list() -> None:
    lines = split_lines("## S\n\n- [ ] a\n\n- [ ] b\n    - b's note\n\nProse after.\n")
    old = parse_lines(lines)
    lines[6:6] = ["    - another note\n"]
    assert incremental.update(old, lines, 6, 6, 1) == parse_lines(lines)
