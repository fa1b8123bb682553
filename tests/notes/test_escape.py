"""Each escape the bot adds to chat text, shown to be needed: the text written as typed would
change the notes' structure in that place, and the escaped text keeps the structure and still
shows exactly what was typed. Text that breaks nothing is written as typed."""

from __future__ import annotations

import html

import pytest
from markdown_it import MarkdownIt

from zulip_bot.notes import Attendee, NotesDocument, inline_text
from zulip_bot.notes.edit import heading_text

MD = MarkdownIt("commonmark").enable("table")

CHILD = "- "  # a note under an item: the text is the first thing in the list item
ITEM = "- [ ] "  # an agenda item without an owner
OWNED = "- [ ] JL: "  # an agenda item with its owner
READ_AS = {CHILD: ((), None), ITEM: ((), False), OWNED: (("JL",), False)}

Read = list[tuple[str, tuple[str, ...], bool | None, int]]


def read(head: str, text: str) -> Read:
    """What the project's reader sees in `head + text` written as an item of a section."""
    doc = NotesDocument.parse(f"## S\n\n{head}{text}\n")
    return [(i.text, i.owners, i.checked, len(i.children)) for i in doc.items("S")]


def meant(head: str, text: str) -> Read:
    owners, checked = READ_AS[head]
    return [(text, owners, checked, 0)]


def shows(source: str) -> str:
    """The text a reader of the rendered notes sees."""
    return html.unescape(MD.renderInline(source))


RULES = [
    # (rule, head, typed, written)
    ("bullet marker", CHILD, "- not a sub-list", "\\- not a sub-list"),
    ("bullet marker", CHILD, "* starred", "\\* starred"),
    ("bullet marker", CHILD, "+ plus", "\\+ plus"),
    ("ordered marker", CHILD, "1. first", "1\\. first"),
    ("ordered marker", CHILD, "2) second", "2\\) second"),
    ("ordered marker", CHILD, "2024. A year", "2024\\. A year"),
    ("heading", CHILD, "# Big", "\\# Big"),
    ("heading", CHILD, "###### small", "\\###### small"),
    ("thematic break", CHILD, "---", "\\---"),
    ("thematic break", CHILD, "* * *", "\\* * *"),
    ("thematic break", CHILD, "___", "\\___"),
    ("fenced code", CHILD, "```python", "\\```python"),
    ("fenced code", CHILD, "~~~", "\\~~~"),
    ("blockquote", CHILD, "> quoted", "\\> quoted"),
    ("html block 1", CHILD, "<script>alert(1)</script>", "\\<script>alert(1)\\</script>"),
    ("html block 1", CHILD, "<pre>", "\\<pre>"),
    ("html block 2", CHILD, "<!-- hidden", "\\<!-- hidden"),
    ("html block 3", CHILD, "<?php echo 1", "\\<?php echo 1"),
    ("html block 4", CHILD, "<!DOCTYPE html>", "\\<!DOCTYPE html>"),
    ("html block 5", CHILD, "<![CDATA[x]]>", "\\<![CDATA[x]]>"),
    ("html block 6", CHILD, "<div>", "\\<div>"),
    ("html block 6", CHILD, "</p> closed", "\\</p> closed"),
    ("html block 7", CHILD, "<custom-tag>", "\\<custom-tag>"),
    ("checkbox", CHILD, "[ ] todo", "\\[ ] todo"),
    ("checkbox", CHILD, "[x] done", "\\[x] done"),
    ("link definition", CHILD, "[ref]: https://example.org", "\\[ref]: https://example.org"),
    ("owner prefix", ITEM, "JRG: not the owner", "JRG\\: not the owner"),
    ("owner prefix", ITEM, "JRG:", "JRG\\:"),
    ("owner prefix", ITEM, "(AB) not the owner", "\\(AB) not the owner"),
    ("owner prefix", ITEM, "[AB] not the owner", "\\[AB] not the owner"),
    ("owner prefix", ITEM, "AB - not the owner", "AB \\- not the owner"),
    ("owner prefix", CHILD, "WV: not the speaker", "WV\\: not the speaker"),
    ("checkbox read as owner", ITEM, "[x] AB: text", "\\[x] AB: text"),
]


@pytest.mark.parametrize(("rule", "head", "typed", "written"), RULES)
def test_each_escape_is_needed_and_enough(rule: str, head: str, typed: str, written: str) -> None:
    assert read(head, typed) != meant(head, typed), f"{rule}: harmless as typed"
    assert inline_text(typed, head) == written
    assert read(head, written) == meant(head, written), rule
    assert shows(written) == typed
    assert inline_text(written, head) == written  # escaping twice changes nothing


HARMLESS = [
    "[CEP 10](https://github.com/conda/ceps/pull/10) passed",
    "[nushell support](https://github.com/conda/conda/pull/1)",
    "11.2 is going away",
    "(https://github.com/prefix-dev/pixi/pull/1) initial integration",
    "ruby <3.0 | and more",
    "3 people agreed",
    "-1 from me",
    "#123 fixed",
    "a < b and c > d",
    "<https://conda.org> is up",
    "*emphasis* first and **bold**",
    "`code` first",
    "C# and F#",
    "x | y | z",
    "a \\* literal star",
    "Consensus: give it a try",
    "NB: a label, not initials",
    "jaimergp: lower case is no owner",
]


@pytest.mark.parametrize("head", [CHILD, ITEM, OWNED])
@pytest.mark.parametrize("typed", HARMLESS)
def test_harmless_text_is_written_as_typed(typed: str, head: str) -> None:
    assert inline_text(typed, head) == typed
    assert read(head, typed) == meant(head, typed)


@pytest.mark.parametrize(
    "typed", ["JRG: after its owner", "[ ] not a box here", "(AB) still text", "- a dash", "1. one"]
)
def test_after_the_bots_own_owner_prefix_nothing_needs_escaping(typed: str) -> None:
    assert read(OWNED, typed) == meant(OWNED, typed)
    assert inline_text(typed, OWNED) == typed


def test_inline_raw_html_is_escaped_but_not_its_lookalikes() -> None:
    typed = "see <b>this</b> <!-- and --> <3.0"
    assert "<b>" in MD.renderInline(typed)  # as typed it is HTML in the rendered notes
    written = inline_text(typed, OWNED)
    assert written == "see \\<b>this\\</b> \\<!-- and --> <3.0"
    assert shows(written) == typed
    assert inline_text("`<b>` in code", OWNED) == "`<b>` in code"  # a code span is not HTML


def test_a_heading_loses_no_closing_hash() -> None:
    assert NotesDocument.parse("## Learn C #\n").sections()[0].title == "Learn C"
    assert heading_text("Learn C #") == "Learn C \\#"
    assert NotesDocument.parse("## Learn C \\#\n").sections()[0].title == "Learn C \\#"
    assert heading_text("C# and F#") == "C# and F#"
    assert heading_text("# nested") == "# nested"  # after `## ` it is text


def test_a_table_pipe_is_escaped_only_in_a_table() -> None:
    table = "## Attendees\n\n| Name | Initials |\n| ---- | -------- |\n"
    as_typed = NotesDocument.parse(table + "| Cy | Dee | CD |\n").attendees()[0]
    assert (as_typed.name, as_typed.initials) == ("Cy", "Dee")
    doc = NotesDocument.parse(table)
    doc.add_attendee(Attendee("Cy | Dee", "CD"))
    assert "| Cy \\| Dee | CD       |\n" in doc.render()
    assert shows("Cy \\| Dee") == "Cy | Dee"
    listed = NotesDocument.parse("## Attendees\n\n- JL: Jannis\n")
    listed.add_attendee(Attendee("Cy | Dee", "CD"))
    assert "- CD: Cy | Dee\n" in listed.render()


def test_a_name_line_is_not_turned_into_a_setext_underline() -> None:
    text = "## Attendees\n\nJannis Leidel\nWolf Vollprecht\n\n## Agenda\n"
    assert [s.title for s in NotesDocument.parse(text.replace("cht\n", "cht\n---\n")).sections()][
        1
    ] == "Jannis Leidel\nWolf Vollprecht"
    doc = NotesDocument.parse(text)
    doc.add_attendee(Attendee("---"))
    assert "Wolf Vollprecht\n\\---\n" in doc.render()
    assert [s.title for s in NotesDocument.parse(doc.render()).sections()] == [
        "Attendees",
        "Agenda",
    ]
    plain = NotesDocument.parse(text)
    plain.add_attendee(Attendee("Ana 11.2"))
    assert "Wolf Vollprecht\nAna 11.2\n" in plain.render()


def test_the_issues_lines_are_written_as_typed_through_the_document() -> None:
    doc = NotesDocument.parse("## Agenda\n\n- [ ] (JL) Governance\n")
    link = "[CEP 10](https://github.com/conda/ceps/pull/10) passed"
    doc.add_item("Agenda", link, owners=("JRG",))
    doc.add_child(doc.items("Agenda")[0], "(https://github.com/x/y/pull/1) initial integration")
    doc.add_child(doc.items("Agenda")[0], "ruby <3.0 | and more")
    assert doc.render() == (
        "## Agenda\n\n- [ ] (JL) Governance\n"
        "    - (https://github.com/x/y/pull/1) initial integration\n"
        "    - ruby <3.0 | and more\n"
        f"- [ ] (JRG) {link}\n"
    )
