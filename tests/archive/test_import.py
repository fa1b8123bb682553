"""`meetbot import` on the real notes archives of `tests/data/corpus`, run as a user runs it."""

from __future__ import annotations

import difflib
import hashlib
import shutil
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO
from zulip_bot.chat.shell import Shell, sender_for
from zulip_bot.chat.shell import run as talk
from zulip_bot.cli import main
from zulip_bot.config import Person, load_config, load_roster
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import ActionRow, Store
from zulip_bot.notes import NotesDocument

GOVERNANCE = CORPUS / "governance"
CONDA_FORGE = CORPUS / "conda-forge.github.io"
NOW = "2026-08-14T12:00Z"  # two days after the newest governance meeting

CONFIG = Path(__file__).with_name("meetbot.toml")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A bot's folder: the config, the example roster (with its comments), the template."""
    shutil.copy(REPO / "config" / "people.example.toml", tmp_path / "people.toml")
    shutil.copy(REPO / "config" / "notes-template.md", tmp_path / "notes-template.md")
    shutil.copy(CONFIG, tmp_path / "meetbot.toml")
    return tmp_path


def imported(site: Path, folder: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """What `meetbot import` prints."""
    capsys.readouterr()
    args = ["import", str(folder), "--config", str(site / "meetbot.toml"), "--now", NOW, *extra]
    assert main(args) == 0
    return capsys.readouterr().out


def rows(site: Path) -> list[ActionRow]:
    store = Store(site / "meetbot.sqlite3")
    try:
        return store.all_actions()
    finally:
        store.close()


def digests(folder: Path) -> dict[Path, str]:
    return {
        p: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_whole_corpus(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (site / "people.toml").read_text(encoding="utf-8")
    out = imported(site, CORPUS, capsys)

    # The roster: the example's 12 people and 81 from the attendee sections, every line of the
    # file as it was (only insertions), and the latest mention winning field by field.
    after = (site / "people.toml").read_text(encoding="utf-8")
    opcodes = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines()).get_opcodes()
    assert {tag for tag, *_ in opcodes} == {"equal", "insert"}
    assert after.rstrip().endswith('[groups]\nsteering-council = ["JRG", "CHL", "JK", "JL", "FF"]')
    roster = load_roster(site / "people.toml")
    assert len(roster.people) == 12 + 81
    assert "Roster (" in out and "81 new people added, 12 already there" in out
    assert "\nWritten: 81 people to the roster, " in out
    isuru = roster.by_initials("IF")
    assert isuru is not None and isuru.github == "isuruf"
    # 2023-09-20 has him at "Quansight/cf"; 2026-08-12 has "IF: ... (@isuruf), OpenTeams, C/SC".
    assert isuru.affiliation == "OpenTeams, C/SC"
    # Initials no note wrote are made from the name (2016's plain lists: "Travis Oliphant").
    assert roster.by_name("Travis Oliphant") == Person("Travis Oliphant", "TO")
    # A person already in the roster keeps their line; the difference is told.
    jaime = roster.by_initials("JRG")
    assert jaime is not None and (jaime.name, jaime.affiliation) == (
        "Jaime Rodríguez-Guerra",
        "Quansight/cf",
    )
    assert (
        "Jaime Rodríguez-Guerra: affiliation 'Quansight/cf' in the roster, "
        "'Quansight, CF/C, C/SC' in governance/20260812-conda-ecosystem.md" in out
    )

    # Reported, not guessed: "JK" is John Kirkham (the roster) and Johannes Koster (2016-06-09,
    # initials made from his name); Jakov Smolic (20260128) is Jakov Smolić on 20260701;
    # `Jaime Rodriguez-Guerra` (2020-11-11, 2021-10-20) is the roster's Jaime unaccented.
    assert "20 initials clashes and 3 spelling variants reported" in out
    assert "    JK: John Kirkham, Johannes Koster" in out
    assert "    Jakov Smolic / Jakov Smolić" in out
    assert "    Jaime Rodriguez-Guerra / Jaime Rodríguez-Guerra (the roster's line is kept)" in out
    names = {p.name for p in roster.people}
    assert not {"Johannes Koster", "Jakov Smolic", "Jakov Smolić", "Jaime Rodriguez-Guerra"} & names
    assert len(names) == len(roster.people)

    # The open action items of the three months before the newest meeting (2026-08-12), with
    # their owners (as the roster names them), meeting date and line; read from prose, so to
    # confirm. (The reader may learn to find more; these three must stay.)
    assert "Action items of the meetings since 2026-05-12" in out
    registered = rows(site)
    assert all(
        r.day >= "2026-05-12" and r.meeting == "ecosystem" and not r.done for r in registered
    )
    found = {(r.day, r.line, r.owner, r.text, r.to_confirm) for r in registered}
    assert {
        (
            "2026-07-15",
            35,
            "JRG",
            "look into making win-arm64 runners use ci-setup for win-64.",
            True,
        ),
        ("2026-08-05", 63, "JRG", "do some asynch review of the technical plan", True),
        ("2026-08-05", 63, "LW", "follow up", True),
    } <= found

    # The unreadable file is listed with its line; the rest went on.
    assert (
        f"{GOVERNANCE}/20250212_agenda_and_minutes.md:1: front matter must open with `---` "
        "alone; found `x---`" in out
    )

    # Carry-over: what 2026-08-12 deferred opens the next Wednesday's draft, with the open items.
    draft = NotesDocument.load(site / "notes" / "20260819-conda-ecosystem.md")
    carried = [i.text for i in draft.items("Deferred to next meeting")]
    assert carried == [
        "Continue talking about [virtual packages proposal](https://hackmd.io/Rwig0llBQiunHx2l2qISxQ)"
    ]
    listed = [i.text for i in draft.items("Open action items")]
    assert len(listed) == len(registered)
    assert f"A{registered[0].id}: JRG to look into making win-arm64" in listed[0]


def test_the_service_sees_imported_actions(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`actions` reads the registry the import fills; `done` closes an imported item."""
    imported(site, GOVERNANCE, capsys)
    config = load_config(site / "meetbot.toml")
    store = Store(config.state_path)
    try:
        shell = Shell(MeetingService(config, store), sender_for(config, "jaimergp@example.org"),
                      config.meetings[0])  # fmt: skip
        said = "\n".join(talk(shell, ["@**meetbot** actions mine", "@**meetbot** done A1"], False))
        assert "look into making win-arm64 runners" in said
        assert "Closed A1" in said
        assert [row.id for row in store.open_actions("JRG")] == [2]
    finally:
        store.close()


def test_second_run_changes_nothing(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    imported(site, CORPUS, capsys)
    roster, registry = (site / "people.toml").read_bytes(), rows(site)
    drafts = digests(site / "notes")
    out = imported(site, CORPUS, capsys)
    assert (site / "people.toml").read_bytes() == roster
    assert rows(site) == registry
    assert digests(site / "notes") == drafts
    assert "0 new people added, 93 already there" in out
    assert "0 open registered" in out and f"{len(registry)} registered before" in out
    assert "Nothing to change: meetbot already has everything this archive gives." in out


def test_dry_run_writes_nothing_and_says_what_a_run_does(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Store(site / "meetbot.sqlite3").close()  # an existing, older-looking store stays as it is
    state = {p.name: p.read_bytes() for p in site.iterdir() if p.is_file()}
    dry = imported(site, CORPUS, capsys, "--dry-run")
    assert {p.name: p.read_bytes() for p in site.iterdir() if p.is_file()} == state
    assert not (site / "notes").exists()
    assert "81 new people would be added" in dry
    assert "would be registered" in dry and "Dry run: " in dry and "nothing written." in dry
    real = imported(site, CORPUS, capsys)
    # Every person, action and draft entry the dry run listed is what the real run did.
    assert [x for x in dry.splitlines() if x.startswith("  + ")] == [
        x for x in real.splitlines() if x.startswith("  + ")
    ]


def test_a_meetings_folder_and_an_unreadable_file(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The meeting's own notes folder: its files are never written, the next draft is a new
    file beside them, and a file that is not UTF-8 is listed with its line."""
    notes = site / "notes"
    notes.mkdir()
    for path in GOVERNANCE.glob("2026*-conda-ecosystem.md"):
        shutil.copy(path, notes / path.name)
    (notes / "20260610-conda-ecosystem.md").write_bytes(b"# 2026-06-10\n\nCaf\xe9 notes\n")
    archive = digests(notes)
    out = imported(site, notes, capsys)
    assert f"{notes}/20260610-conda-ecosystem.md:3: not UTF-8 text (byte 0xe9" in out
    assert {p: d for p, d in digests(notes).items() if p in archive} == archive
    assert set(digests(notes)) - set(archive) == {notes / "20260819-conda-ecosystem.md"}
    assert len(rows(site)) >= 3


def test_one_repository_with_since(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """conda-forge's minutes alone: its newest is 2025-01-08, and in the three months before
    it the notes record no action item; `--since` reaches further back."""
    out = imported(site, CONDA_FORGE, capsys, "--dry-run")
    assert "Read 132 meetings" in out and "since 2024-10-08: 0 open would be registered" in out
    out = imported(site, CONDA_FORGE, capsys, "--since", "2024-05-01")
    registered = {(r.meeting, r.day, r.line, r.owner) for r in rows(site)}
    assert ("core", "2024-05-01", 70, "JRG") in registered  # "Jaime to compile a list ..."
    assert ("core", "2024-10-02", 72, "") in registered  # "measure how long it takes", no owner


def test_done_items_are_not_imported(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = site / "archive"
    notes.mkdir()
    (notes / "20260701-conda-ecosystem.md").write_text(
        "# 2026-07-01 Conda Ecosystem Meeting\n\n## New agenda items\n\n"
        "- [x] Releases\n"
        "    - [x] JRG to tag the release\n"
        "    - [ ] KK to write the announcement\n"
        "    - ~~JL to update the website~~\n"
        "    - Action item: WV to open the CEP (done)\n"
        "    - Action item: FF to review the recipe\n",
        encoding="utf-8",
    )
    (notes / "20260708-conda-ecosystem.md").write_text(
        "# 2026-07-08 Conda Ecosystem Meeting\n\n## New agenda items\n\n"
        "- [x] Follow-ups\n"
        "    - Action item: FF to review the recipe\n"
        "    - [ ] Do the thing nobody owns\n",
        encoding="utf-8",
    )
    out = imported(site, notes, capsys)
    found = {(r.day, r.owner, r.text, r.to_confirm) for r in rows(site)}
    assert ("2026-07-01", "KK", "write the announcement", True) in found  # prose: to confirm
    assert ("2026-07-01", "FF", "review the recipe", False) in found  # once, from where it began
    assert not {owner for _, owner, _, _ in found} & {"JRG", "JL", "WV"}
    assert "done in the notes" in out


def test_mistakes_say_what_would_work(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(site / "meetbot.toml")
    assert main(["import", str(CORPUS), "--config", config, "--meeting", "comunity"]) == 1
    assert "has no meeting 'comunity'; pick one of: ecosystem, core" in capsys.readouterr().err
    assert main(["import", str(site / "nowhere"), "--config", config]) == 2
    assert "is not a folder; give a notes checkout" in capsys.readouterr().err
    assert not (site / "meetbot.sqlite3").exists()


def test_a_config_without_a_roster(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The people found are listed with how to keep them; the rest is imported, and a second
    run finds nothing to change."""
    config = site / "meetbot.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('roster = "people.toml"\n', ""))
    out = imported(site, GOVERNANCE, capsys)
    assert 'The config names no roster: add `roster = "people.toml"` to keep them.' in out
    assert "Written: 0 people to the roster, " in out
    assert "Nothing to change" in imported(site, GOVERNANCE, capsys)
