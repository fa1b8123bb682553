"""Every real notes file reads, renders byte for byte, and takes the bot's edits surgically."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.conftest import CORPUS, corpus_files
from zulip_bot.notes import Attendee, NotesDocument, NotesError

FILES = corpus_files()
IDS = [str(f.relative_to(CORPUS)) for f in FILES]
AGENDA_TITLES = ("new agenda items", "your __new__() agenda items", "agenda", "items discussed")


def test_corpus_is_there_and_complete() -> None:
    assert len([f for f in FILES if "templates" in f.parts]) == 14
    assert len(FILES) == 245


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_loads_and_renders_byte_for_byte(path: Path) -> None:
    doc = NotesDocument.load(path)
    assert doc.render() == path.read_bytes().decode("utf-8")
    # every query runs on every file without an exception
    doc.sections(), doc.items(), doc.attendees(), doc.action_items(), doc.decisions()


def _agenda_section(doc: NotesDocument) -> str | None:
    for section in doc.sections():
        title = section.title.casefold().replace("`", "")
        if any(title.startswith(t) for t in AGENDA_TITLES) and section.items:
            return section.title
    return None


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


NOTES_WITH_AGENDA = [
    f for f in FILES if "templates" not in f.parts and _agenda_section(NotesDocument.load(f))
]


def test_most_notes_have_an_agenda_section() -> None:
    assert len(NOTES_WITH_AGENDA) > 150


@pytest.mark.parametrize(
    "path", NOTES_WITH_AGENDA, ids=[str(f.relative_to(CORPUS)) for f in NOTES_WITH_AGENDA]
)
def test_edits_touch_only_their_lines(path: Path) -> None:
    original = path.read_text(encoding="utf-8")
    doc = NotesDocument.parse(original)
    section = _agenda_section(doc)
    assert section is not None
    attendees_before = doc.attendees()
    target = doc.items(section)[0]

    doc.set_checked(target, True)
    target = doc.items(section)[0]
    doc.add_child(target, "Action item: ZZ to follow up on the corpus test")
    doc.add_item(section, "A brand-new topic from chat", owners=("ZZ",))
    has_roster = (
        doc.parsed.attendee_table or doc.parsed.attendee_list or doc.parsed.attendee_section
    )
    if has_roster:
        doc.add_attendee(Attendee("Zoe Zed", "ZZ", "Example Org", "zoezed"))

    after = NotesDocument.parse(doc.render())
    first = after.items(section)[0]
    assert first.checked is True
    assert first.children[-1].text == "Action item: ZZ to follow up on the corpus test"
    new = [i for i in after.items(section) if i.text == "A brand-new topic from chat"]
    assert [(i.owners, i.checked) for i in new] == [(("ZZ",), False)]
    actions = [a for a in after.action_items() if a.text == "ZZ to follow up on the corpus test"]
    assert [a.owners for a in actions] == [("ZZ",)]
    if has_roster:
        assert after.attendees()[len(attendees_before) :][:1] != []
        assert any(a.name == "Zoe Zed" for a in after.attendees())

    removed, added = _changed_lines(original, doc.render())
    # the checkbox line, and at most one placeholder or filler line, are the only lines replaced
    assert len(removed) <= 3, removed
    assert any("A brand-new topic from chat" in line for line in added)
    assert all(
        line.strip() == ""
        or "ZZ" in line
        or "Zoe Zed" in line
        or (line.lstrip().startswith(("-", "*", "+")) and "[" in line)
        or line[:1].isdigit()
        for line in added
    ), added
    untouched = [line for line in original.splitlines() if line not in removed]
    assert all(line in doc.render().splitlines() for line in untouched)


def test_reordering_moves_whole_items_and_back() -> None:
    """Reverse each agenda, check every item kept its owners, box and sub-items, then reverse
    back: the file must be byte-identical, so nothing was lost or restyled on the way."""
    reordered = refused = 0
    for path in NOTES_WITH_AGENDA:
        original = path.read_text(encoding="utf-8")
        doc = NotesDocument.parse(original)
        section = _agenda_section(doc)
        assert section is not None
        before = doc.items(section)
        try:
            doc.reorder_items(section, before[::-1])
        except NotesError as error:
            assert "by hand" in str(error)
            refused += 1
            continue
        after = doc.items(section)
        shape = [(i.text, i.owners, i.checked, [c.text for c in i.children]) for i in before]
        assert [(i.text, i.owners, i.checked, [c.text for c in i.children]) for i in after] == (
            shape[::-1]
        ), path
        doc.reorder_items(section, after[::-1])
        assert doc.render() == original, path
        reordered += 1
    assert reordered > 100 and refused < reordered / 4, (reordered, refused)
