"""Property tests: any chat text changes the parsed notes by exactly the one intended item."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from zulip_bot.notes import AgendaItem, Attendee, NotesDocument, NotesError, inline_text
from zulip_bot.notes.escape import flat

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


# What the bot writes before the text on each line these tests add to: the BASE file's own style.
ITEM_HEADS = {(): "- [ ] ", ("ZZ",): "- [ ] (ZZ) ", ("BZ", "WV"): "- [ ] (BZ/WV) "}
CHILD_HEAD = "- "
ITEM_LINE_HEADS = ["- [x] (JK) ", "- [ ] WV: "]
_GFM = MarkdownIt("commonmark").enable("table")


def raw_html_and_rows(doc: NotesDocument) -> tuple[int, int]:
    """Raw HTML (block or inline) and table rows, as markdown-it-py sees the whole file."""
    tokens = _GFM.parse(doc.render())
    inline = [child for token in tokens for child in token.children or ()]
    html = sum(t.type in ("html_block", "html_inline") for t in [*tokens, *inline])
    return html, sum(t.type == "tr_open" for t in tokens)


def reparsed(doc: NotesDocument) -> NotesDocument:
    again = NotesDocument.parse(doc.render())
    assert again.render() == doc.render()
    assert raw_html_and_rows(again) == raw_html_and_rows(NotesDocument.parse(BASE))
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
    expected["sections"][2][2].append((inline_text(text, ITEM_HEADS[owners]), owners, False, ()))
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
    new_children = (*children, (inline_text(text, CHILD_HEAD), (), None, ()))
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
    written = inline_text(text, ITEM_LINE_HEADS[index])
    expected["sections"][2][2][index] = (written, owners, checked, children)
    assert structure(reparsed(doc)) == expected


@SETTINGS
@given(text=TEXT)
def test_any_text_survives_parse_and_render(text: str) -> None:
    assert NotesDocument.parse(text).render() == text


# Text with nothing structural where it would count: it starts with a lower-case letter (no
# marker, heading, quote, fence, checkbox, owner or HTML block can start so) and has no `<`
# (raw HTML) anywhere; links, emphasis, code, pipes, numbers and punctuation are all allowed.
HARMLESS = st.builds(
    lambda first, rest: " ".join((first + rest).split()),
    st.sampled_from("abcxyzéø"),
    st.text(
        st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"], exclude_characters="<"),
        max_size=40,
    ),
)


@SETTINGS
@given(text=HARMLESS, owners=st.sampled_from([(), ("ZZ",)]))
def test_harmless_text_is_written_byte_for_byte(text: str, owners: tuple[str, ...]) -> None:
    doc = NotesDocument.parse(BASE)
    doc.add_item("New Agenda Items", text, owners=owners)
    assert f"\n{ITEM_HEADS[owners]}{text}\n" in doc.render()
    line = doc.add_child(doc.items("New Agenda Items")[1], text)
    assert doc.render().splitlines()[line - 1] == f"    {CHILD_HEAD}{text}"
    assert inline_text(text) == text


ROSTERS = {
    "table": BASE,
    "names": "## Attendees\n\nJannis Leidel\nWolf Vollprecht\n\n## Agenda\n\n- [ ] JL: x\n",
    "list": "## Attendees\n\n- JL: Jannis Leidel (@jezdez), Anaconda\n\n## Agenda\n\n- [ ] x\n",
}


@SETTINGS
@given(
    name=TEXT,
    roster=st.sampled_from(sorted(ROSTERS)),
    initials=st.sampled_from(["", "ZZ"]),
    affiliation=TEXT,
)
def test_add_attendee_adds_one_line_and_nothing_else(
    name: str, roster: str, initials: str, affiliation: str
) -> None:
    doc = NotesDocument.parse(ROSTERS[roster])
    before = structure(doc)
    html, rows = raw_html_and_rows(doc)
    attendee = Attendee(name, initials, affiliation)
    if not flat(name):
        with pytest.raises(NotesError):
            doc.add_attendee(attendee)
        return
    doc.add_attendee(attendee)
    again = NotesDocument.parse(doc.render())
    after = structure(again)
    assert doc.render().count("\n") == ROSTERS[roster].count("\n") + 1
    assert [s[:2] for s in after["sections"]] == [s[:2] for s in before["sections"]]
    assert after["sections"][1:] == before["sections"][1:]  # only the attendees change
    assert raw_html_and_rows(again) == (html, rows + (roster == "table"))
    if roster == "table":
        assert len(again.attendees()) == len(doc.attendees()) == len(before["attendees"]) + 1
