"""Queries on the reference notes, edits in the file's own style, bad input, atomic saves."""

from __future__ import annotations

import datetime as dt
import errno
import os
from pathlib import Path

import pytest

from zulip_bot.notes import Attendee, NotesConflict, NotesDocument, NotesError, NotesUnsaved

# --- the 2024-11-06 Conda Community Meeting ---------------------------------------------------


def test_example_attendees_and_head_count(example_text: str) -> None:
    doc = NotesDocument.parse(example_text)
    attendees = doc.attendees()
    assert len(attendees) == 11
    assert attendees[0] == Attendee("Ruben Arts", "RA", "prefix.dev", "ruben-arts")
    assert attendees[6] == Attendee("Jaime Rodríguez-Guerra", "JRG", "Quansight/cf", "jaimergp")
    assert [a.initials for a in attendees] == [
        "RA", "BZ", "FF", "ME", "WV", "CHL", "JRG", "KK", "KZ", "JK", "DG",
    ]  # fmt: skip
    assert doc.head_count == 15


def test_example_title_date_front_matter(example_text: str) -> None:
    doc = NotesDocument.parse(example_text)
    assert doc.title == "2024-11-06 Conda Community Meeting"
    assert doc.date == dt.date(2024, 11, 6)
    assert doc.front_matter == {"tags": ["meeting-notes"]}
    assert doc.warnings == []


def test_example_sections_and_owners(example_text: str) -> None:
    doc = NotesDocument.parse(example_text)
    assert [(s.title, s.level) for s in doc.sections()] == [
        ("Attendees", 2),
        ("Introductions", 2),
        ("Announcements", 2),
        ("New Agenda Items", 2),
    ]
    items = doc.items("New Agenda Items")
    # The issue text lists three WV items; the file has four (solver, 0.29, sharded, publishers).
    assert [i.owners[0] for i in items] == [
        "JRG", "JRG", "DG", "WV", "WV", "WV", "WV", "JK", "JK", "DG", "JRG",
    ]  # fmt: skip
    assert all(i.checked is True for i in items)
    announcement = doc.items("announcements")[0]
    assert announcement.owners == ("BZ", "WV")
    assert announcement.text.startswith("CEP17 (python site-packages)")
    assert [c.checked for c in announcement.children] == [False, False]
    assert announcement.children[1].owners == ("JL",)
    intro = doc.items("Introductions")[0]
    assert (intro.text, intro.checked, intro.line) == ("", False, 30)


def test_example_nested_items(example_text: str) -> None:
    doc = NotesDocument.parse(example_text)
    last = doc.items("New Agenda Items")[-1]
    assert last.text == "Change time of this meeting?"
    assert [c.owners for c in last.children] == [(), ("JK",), ("JRG",)]
    assert last.children[2].children[0].text.startswith("Consensus: give it a try")


def test_example_action_items(example_text: str) -> None:
    doc = NotesDocument.parse(example_text)
    actions = {a.text: a for a in doc.action_items()}
    vote = actions["call the vote"]
    assert vote.owners == ()
    assert vote.item is not None and vote.item.text.startswith("Zulip CEP")
    proposal = actions["JRG to create proposal PR in conda-build"]
    assert proposal.owners == ("JRG",)
    assert proposal.item is not None and proposal.item.text.startswith("Change default package")
    assert proposal.line == 58


def test_example_decisions(example_text: str) -> None:
    doc = NotesDocument.parse(example_text)
    texts = [d.text for d in doc.decisions()]
    assert "Consensus: give it a try in next call after asking for consensus." in texts
    assert "General feeling: yes, let's run a poll." in texts
    assert all(d.item is not None and d.item.text == "Change time of this meeting?"
               for d in doc.decisions())  # fmt: skip


# --- edits in the file's style ------------------------------------------------------------


def test_add_item_replaces_the_empty_placeholder(example_text: str) -> None:
    doc = NotesDocument.parse(example_text)
    line = doc.add_item("Introductions", "Hi, I am new", owners=("ZZ",))
    assert doc.render().splitlines()[line - 1] == "- [ ] ZZ: Hi, I am new"
    assert doc.render().count("\n") == example_text.count("\n")
    assert [i.text for i in doc.items("Introductions")] == ["Hi, I am new"]


def test_add_item_follows_checkbox_case_and_bullets() -> None:
    text = "# T\n\n## Agenda\n\n* [X] (AB) one\n* [X] (CD) two\n"
    doc = NotesDocument.parse(text)
    doc.add_item("Agenda", "three", owners=("EF",), checked=True)
    assert doc.render() == text + "* [X] (EF) three\n"


def test_add_item_into_an_empty_section_keeps_blank_lines() -> None:
    doc = NotesDocument.parse("# T\n\n## Agenda\n## Next\n")
    doc.add_item("agenda", "first")
    assert doc.render() == "# T\n\n## Agenda\n\n- [ ] first\n\n## Next\n"


def test_add_item_to_file_without_final_newline() -> None:
    doc = NotesDocument.parse("## Agenda\n\n- [ ] a")
    doc.add_item("Agenda", "b")
    assert doc.render() == "## Agenda\n\n- [ ] a\n- [ ] b"


def test_add_item_numbers_ordered_lists() -> None:
    doc = NotesDocument.parse("## A\n\n1. one\n2. two\n")
    doc.add_item("A", "three", checked=None)
    assert doc.render().endswith("2. two\n3. three\n")
    same = NotesDocument.parse("## A\n\n1. one\n1. two\n")
    same.add_item("A", "three", checked=None)
    assert same.render().endswith("1. two\n1. three\n")


def test_add_child_uses_sibling_indent_and_bullet() -> None:
    text = "## A\n\n* [x] topic\n  * first note\n* [ ] other\n"
    doc = NotesDocument.parse(text)
    doc.add_child(doc.items("A")[0], "second note", owners=("JK",))
    assert doc.render() == "## A\n\n* [x] topic\n  * first note\n  * JK: second note\n* [ ] other\n"


def test_add_child_without_siblings_uses_the_file_indent_step(example_text: str) -> None:
    doc = NotesDocument.parse(example_text)
    item = doc.items("New Agenda Items")[1]
    line = doc.add_child(item, "a note")
    assert doc.render().splitlines()[line - 1] == "    - a note"


def test_set_checked_keeps_case_and_adds_boxes() -> None:
    doc = NotesDocument.parse("## A\n\n- [X] one\n- [ ] two\n- three\n")
    doc.set_checked(doc.items("A")[1], True)
    doc.set_checked(doc.items("A")[2], False)
    doc.set_checked(doc.items("A")[0], None)
    assert doc.render() == "## A\n\n- one\n- [X] two\n- [ ] three\n"


def test_set_item_text_keeps_marker_box_owner_and_trailing_space() -> None:
    doc = NotesDocument.parse("## A\n\n- [x] (WV) old text  \n    - child\n")
    doc.set_item_text(doc.items("A")[0], "new text")
    assert doc.render() == "## A\n\n- [x] (WV) new text  \n    - child\n"


def test_set_item_text_replaces_a_wrapped_paragraph() -> None:
    doc = NotesDocument.parse("## A\n\n- JK: old\n  wrapped\n- next\n")
    doc.set_item_text(doc.items("A")[0], "new")
    assert doc.render() == "## A\n\n- JK: new\n- next\n"


def test_remove_item_takes_its_children() -> None:
    doc = NotesDocument.parse("## A\n\n- one\n    - sub\n- two\n")
    doc.remove_item(doc.items("A")[0])
    assert doc.render() == "## A\n\n- two\n"


def test_add_attendee_fills_filler_row_with_column_padding() -> None:
    text = (
        "## Attendees\n\n| Name       | Initials | Affiliation | GH Username |\n"
        "| ---------- | -------- | ----------- | ----------- |\n"
        "|            |          |             |             |\n\nX people in total\n"
    )
    doc = NotesDocument.parse(text)
    doc.add_attendee(Attendee("Ann Bee", "AB", "Org", "annb"))
    doc.set_head_count(1)
    assert doc.render() == text.replace(
        "|            |          |             |             |",
        "| Ann Bee    | AB       | Org         | annb        |",
    ).replace("X people", "1 people")
    doc.add_attendee(Attendee("Cy | Dee", "CD", "", ""))
    assert "| Cy \\| Dee  | CD       |             |             |\n" in doc.render()
    assert NotesDocument.parse(doc.render()).attendees()[1] == Attendee("Cy \\| Dee", "CD")


def test_add_attendee_to_a_table_follows_column_order(example_text: str) -> None:
    text = example_text.replace("GH Username", "GitHub ID  ")
    text = text.replace("Affiliation  | GitHub ID  ", "GitHub ID    | Affiliation")
    doc = NotesDocument.parse(text)
    doc.add_attendee(Attendee("Zoe Zed", "ZZ", "Org", "zz"))
    rows = [line for line in doc.render().splitlines() if line.startswith("| Zoe Zed")]
    assert doc.render().splitlines().index(rows[0]) == 24  # right after the last row
    row = rows[0]
    assert row.split("|")[3].strip() == "zz" and row.split("|")[4].strip() == "Org"


def test_add_attendee_to_a_numbered_list() -> None:
    text = "## Attendees\n\n1. WV: Wolf Vollprecht (@wolfv), prefix.dev\n1. ...\n"
    doc = NotesDocument.parse(text)
    doc.add_attendee(Attendee("Jaime Rodríguez-Guerra", "JRG", "Quansight", "jaimergp"))
    assert doc.render().splitlines()[3] == "1. JRG: Jaime Rodríguez-Guerra (@jaimergp), Quansight"
    assert doc.attendees()[-1] == Attendee("Jaime Rodríguez-Guerra", "JRG", "Quansight", "jaimergp")


def test_set_head_count_writes_the_line_when_missing() -> None:
    doc = NotesDocument.parse("## Attendees\n\n- AB: Ann Bee (@ab), Org\n\n## Next\n")
    doc.set_head_count(7)
    assert doc.head_count == 7
    assert "- AB: Ann Bee (@ab), Org\n\n7 people in total\n\n## Next\n" in doc.render()


def test_add_section_after_a_section() -> None:
    doc = NotesDocument.parse("# T\n\n## A\n\n- a\n\n## B\n\n- b\n")
    doc.add_section("From previous meetings", after="A")
    assert doc.render() == "# T\n\n## A\n\n- a\n\n## From previous meetings\n\n## B\n\n- b\n"
    assert [s.title for s in doc.sections()] == ["A", "From previous meetings", "B"]


def test_edit_of_a_stale_item_is_refused() -> None:
    doc = NotesDocument.parse("## A\n\n- one\n- two\n")
    two = doc.items("A")[1]
    doc.remove_item(doc.items("A")[0])
    with pytest.raises(NotesError, match="line 4 no longer holds the item `two`"):
        doc.set_checked(two, True)


def test_unknown_section_names_the_known_ones() -> None:
    doc = NotesDocument.parse("## Agenda\n")
    with pytest.raises(NotesError, match="no section `Votes` \\(sections: `Agenda`\\)"):
        doc.add_item("Votes", "x")


# --- untrusted text -------------------------------------------------------------------------


def test_chat_text_cannot_create_structure(example_text: str) -> None:
    doc = NotesDocument.parse(example_text)
    before = [s.title for s in doc.sections()]
    doc.add_item("New Agenda Items", "foo\n## Announcements\n- [x] bar", owners=("ZZ",))
    doc.add_item("New Agenda Items", "<script>alert(1)</script> | a | b |")
    doc.add_item("New Agenda Items", "[x] AB: not an owner")
    after = NotesDocument.parse(doc.render())
    assert [s.title for s in after.sections()] == before
    new = after.items("New Agenda Items")[-3:]
    assert new[0].text == "foo ## Announcements - [x] bar"
    assert new[1].text == "\\<script>alert(1)\\</script> | a | b |"  # no table in an item
    assert (new[2].text, new[2].owners, new[2].checked) == ("\\[x] AB: not an owner", (), False)
    assert after.render().count("\n") == example_text.count("\n") + 3


def test_empty_text_is_refused() -> None:
    doc = NotesDocument.parse("## A\n")
    with pytest.raises(NotesError, match="the text is empty"):
        doc.add_item("A", " \n\t ")


# --- bad input ------------------------------------------------------------------------------


def test_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_bytes(b"# T\n\n- caf\xe9\n")
    with pytest.raises(NotesError, match=r"notes\.md:3: not UTF-8 text \(byte 0xe9 at column 6\)"):
        NotesDocument.load(path)


def test_empty_file_loads_with_a_warning() -> None:
    doc = NotesDocument.parse("")
    assert [str(w) for w in doc.warnings] == ["line 1: the file is empty"]
    assert doc.items() == [] and doc.render() == ""


def test_broken_front_matter_is_a_warning_and_kept() -> None:
    text = "x---\ntags: [meeting-notes]\n---\n# 2025-02-12 Conda Community Meeting\n"
    doc = NotesDocument.parse(text)
    assert [str(w) for w in doc.warnings] == [
        "line 1: front matter must open with `---` alone; found `x---`"
    ]
    assert doc.front_matter == {} and doc.render() == text


def test_front_matter_that_is_not_yaml() -> None:
    doc = NotesDocument.parse("---\ntags: [unclosed\n---\n# T\n")
    assert doc.warnings[0].message.startswith("front matter is not valid YAML")
    assert doc.title == "T"


def test_unclosed_front_matter() -> None:
    doc = NotesDocument.parse("---\ntags: x\n# T\n")
    assert [str(w) for w in doc.warnings] == [
        "line 1: front matter opened with `---` is never closed"
    ]


def test_truncated_table_rows_are_warnings() -> None:
    text = "## Attendees\n\n| Name | Initials | Affiliation | GH |\n| - | - | - | - |\n| Ann | AB\n"
    doc = NotesDocument.parse(text)
    assert [str(w) for w in doc.warnings] == [
        "line 5: attendee table row has 2 cells; the header has 4"
    ]
    assert doc.attendees() == [Attendee("Ann", "AB")]


def test_table_without_delimiter_row_is_a_warning() -> None:
    doc = NotesDocument.parse("## Attendees\n\n| Name | Initials |\n| Ann | AB |\n")
    assert [str(w) for w in doc.warnings] == [
        "line 3: attendee table has no `| --- |` delimiter row"
    ]


# --- saving ---------------------------------------------------------------------------------


def test_save_is_atomic_and_keeps_mode(tmp_path: Path, example_text: str) -> None:
    path = tmp_path / "notes.md"
    path.write_text(example_text, encoding="utf-8")
    path.chmod(0o640)
    doc = NotesDocument.load(path)
    doc.add_item("Introductions", "hello")
    doc.save()
    assert path.read_text(encoding="utf-8") == doc.render()
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["notes.md"]


def test_save_refuses_to_overwrite_a_hand_edit(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("## A\n\n- one\n", encoding="utf-8")
    doc = NotesDocument.load(path)
    doc.add_item("A", "from the bot")
    path.write_text("## A\n\n- one\n- typed by hand\n", encoding="utf-8")
    with pytest.raises(NotesConflict, match="changed on disk since it was loaded"):
        doc.save()
    assert path.read_text(encoding="utf-8") == "## A\n\n- one\n- typed by hand\n"


def test_save_twice_after_own_save(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("## A\n", encoding="utf-8")
    doc = NotesDocument.load(path)
    doc.add_item("A", "one")
    doc.save()
    doc.add_item("A", "two")
    doc.save()
    assert [i.text for i in NotesDocument.load(path).items("A")] == ["one", "two"]


def test_save_will_not_clobber_a_file_it_did_not_load(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("precious\n", encoding="utf-8")
    with pytest.raises(NotesConflict, match="exists and was not loaded"):
        NotesDocument.parse("## A\n").save(path)
    assert path.read_text(encoding="utf-8") == "precious\n"


def test_reorder_keeps_each_positions_marker_and_blank_lines() -> None:
    doc = NotesDocument.parse(
        "# T\n\n## New Agenda Items\n\n1. [ ] a\n    - about a\n2. [ ] b\n\n3. [x] c\n"
    )
    a, b, c = doc.items("New Agenda Items")
    doc.reorder_items("New Agenda Items", [c, a, b])
    assert doc.render() == (
        "# T\n\n## New Agenda Items\n\n1. [x] c\n2. [ ] a\n    - about a\n\n3. [ ] b\n"
    )


def test_reorder_refuses_what_it_would_lose() -> None:
    doc = NotesDocument.parse("## New Agenda Items\n\n- [ ] a\n\nA remark.\n\n- [ ] b\n")
    a, b = doc.items("New Agenda Items")
    with pytest.raises(NotesError, match="text between its items"):
        doc.reorder_items("New Agenda Items", [b, a])
    with pytest.raises(NotesError, match="each item"):
        doc.reorder_items("New Agenda Items", [a, a])
    assert doc.render() == "## New Agenda Items\n\n- [ ] a\n\nA remark.\n\n- [ ] b\n"


def test_a_symlinked_notes_file_is_neither_read_nor_replaced(tmp_path: Path) -> None:
    """A link the bot did not make could point anywhere: reading it would show that file's
    content in chat, and saving over it would copy the target into the notes (and publish it)."""
    secret = tmp_path / "secret.md"
    secret.write_text("# 2024-11-06 Secret\n\nnot for the meeting\n", encoding="utf-8")
    notes = tmp_path / "notes"
    notes.mkdir()
    link = notes / "20241106_agenda_and_minutes.md"
    link.symlink_to(secret)
    with pytest.raises(NotesError, match="symbolic link"):
        NotesDocument.load(link)
    draft = NotesDocument.parse("# 2024-11-06 Meeting\n\n## Agenda\n\n- [ ] item\n")
    with pytest.raises(NotesError, match="symbolic link"):
        draft.save(link)
    assert link.is_symlink()
    assert secret.read_text(encoding="utf-8") == "# 2024-11-06 Secret\n\nnot for the meeting\n"
    dangling = notes / "20241120_agenda_and_minutes.md"
    dangling.symlink_to(tmp_path / "nowhere.md")
    with pytest.raises(NotesError, match="symbolic link"):
        draft.save(dangling)
    assert not (tmp_path / "nowhere.md").exists()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "disk is full"),
        (errno.EACCES, "may not write to the notes folder"),
        (errno.EROFS, "may not write to the notes folder"),
    ],
)
def test_a_refused_write_leaves_the_file_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str
) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# 2024-11-06 Meeting\n\n## Agenda\n\n- [ ] item\n", encoding="utf-8")
    doc = NotesDocument.load(path)
    doc.add_item("Agenda", "a second item")

    def refused(handle: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", refused)  # where a full disk shows on a real one
    with pytest.raises(NotesUnsaved, match=words):
        doc.save()
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == "# 2024-11-06 Meeting\n\n## Agenda\n\n- [ ] item\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.md"]  # no half-written copy
    doc.save()  # the fault gone, the same edit goes through
    assert "a second item" in path.read_text(encoding="utf-8")
