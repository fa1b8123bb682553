"""Property tests: any chat text changes the parsed notes by exactly the one intended item."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zulip_bot.notes import AgendaItem, NotesDocument, NotesError, inline_text

BASE = """---
tags: [meeting-notes]
---
# 2024-11-06 Conda Community Meeting

## Attendees

| Name       | Initials | Affiliation | GH Username |
| ---------- | -------- | ----------- | ----------- |
| Ann Bee    | AB       | Org         | annb        |

X people in total

## Announcements

- [X] AB: something shipped
    - https://example.org/release

## New Agenda Items

- [x] (JK) Download statistics?
    - CHL: will talk to the team
- [ ] WV: rattler-build release

## Deferred
"""

MARKDOWN_BITS = st.sampled_from(
    ["\n", "\r\n", "## ", "# ", "- ", "* ", "1. ", "2) ", "> ", "```", "~~~", "---", "===",
     "| a | b |", "|---|", "<div>", "<!--", "-->", "[x] ", "[ ] ", "[X]", "(AB) ", "AB: ",
     "JK - ", "[ref]: /url", "\\", "\t", "    ", "\u00a0", "\u2028", "\x00", "&lt;", "`", "**",
     "[link](x)", "<https://x>", "{{ date }}", "TODO: ", ":tada:", "é", "🎉"]
)  # fmt: skip
TEXT = st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=8)), max_size=12).map("".join)


def shape(item: AgendaItem) -> tuple[Any, ...]:
    return (item.text, item.owners, item.checked, tuple(shape(c) for c in item.children))


def structure(doc: NotesDocument) -> dict[str, Any]:
    return {
        "front_matter": doc.front_matter,
        "title": doc.title,
        "attendees": doc.attendees(),
        "head_count": doc.head_count,
        "sections": [(s.title, s.level, [shape(i) for i in s.items]) for s in doc.sections()],
    }


def reparsed(doc: NotesDocument) -> NotesDocument:
    again = NotesDocument.parse(doc.render())
    assert again.render() == doc.render()
    return again


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(text=TEXT, owners=st.sampled_from([(), ("ZZ",), ("BZ", "WV")]))
def test_add_item_adds_exactly_one_item(text: str, owners: tuple[str, ...]) -> None:
    doc = NotesDocument.parse(BASE)
    expected = structure(doc)
    if not inline_text(text):
        with pytest.raises(NotesError):
            doc.add_item("New Agenda Items", text, owners=owners)
        return
    doc.add_item("New Agenda Items", text, owners=owners)
    expected["sections"][2][2].append((inline_text(text), owners, False, ()))
    assert structure(reparsed(doc)) == expected


@SETTINGS
@given(text=TEXT, index=st.sampled_from([0, 1]))
def test_add_child_adds_exactly_one_child(text: str, index: int) -> None:
    doc = NotesDocument.parse(BASE)
    expected = structure(doc)
    parent = doc.items("New Agenda Items")[index]
    if not inline_text(text):
        with pytest.raises(NotesError):
            doc.add_child(parent, text)
        return
    doc.add_child(parent, text)
    text_, owners, checked, children = expected["sections"][2][2][index]
    new_children = (*children, (inline_text(text), (), None, ()))
    expected["sections"][2][2][index] = (text_, owners, checked, new_children)
    assert structure(reparsed(doc)) == expected


@SETTINGS
@given(text=TEXT, index=st.sampled_from([0, 1]))
def test_set_item_text_changes_only_that_text(text: str, index: int) -> None:
    doc = NotesDocument.parse(BASE)
    expected = structure(doc)
    item = doc.items("New Agenda Items")[index]
    if not inline_text(text):
        with pytest.raises(NotesError):
            doc.set_item_text(item, text)
        return
    doc.set_item_text(item, text)
    _, owners, checked, children = expected["sections"][2][2][index]
    expected["sections"][2][2][index] = (inline_text(text), owners, checked, children)
    assert structure(reparsed(doc)) == expected


@SETTINGS
@given(text=TEXT)
def test_any_text_survives_parse_and_render(text: str) -> None:
    assert NotesDocument.parse(text).render() == text
