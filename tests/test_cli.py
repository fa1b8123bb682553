"""The `meetbot` commands, run as a user runs them."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, REPO
from zulip_bot.cli import main
from zulip_bot.notes import NotesDocument


def test_show_bundled_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notes", "show"]) == 0
    out = capsys.readouterr().out
    assert "Title: 2026-12-02 Conda Community Meeting" in out
    assert "4.1 [x] DG: Move the community meeting notes to meetbot?  (line 37)" in out
    assert "  - DG: DG to set up the bot in the community stream  (line 40)" in out


def test_show_json(capsys: pytest.CaptureFixture[str], example_text: str) -> None:
    assert main(["notes", "show", str(EXAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["head_count"] == 15 and len(data["attendees"]) == 11
    assert [s["title"] for s in data["sections"]][-1] == "New Agenda Items"
    assert {"text": "call the vote", "owners": [], "line": 45, "item": 43} in data["action_items"]


def test_check_reports_problems_and_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.md"
    good.write_text("# T\n\n## A\n\n- [ ] x\n", encoding="utf-8")
    bad = tmp_path / "bad.md"
    bad.write_text("x---\ntags: []\n---\n# T\n", encoding="utf-8")
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"\xff\xfe")
    assert main(["notes", "check", str(good)]) == 0
    assert main(["notes", "check", str(good), str(bad), str(binary)]) == 1
    out = capsys.readouterr().out
    assert f"{good}: ok" in out
    assert f"{bad}:1: front matter must open with `---` alone; found `x---`" in out
    assert f"{binary}:1: not UTF-8 text" in out


def test_new_writes_a_draft_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "20241106.md"
    assert main(["notes", "new", "--date", "2024-11-06", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines()[3] == "# 2024-11-06 Conda Community Meeting"
    out.write_text("hand edits\n", encoding="utf-8")
    assert main(["notes", "new", "--date", "2024-11-06", str(out)]) == 1
    assert "exists and was not loaded" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "hand edits\n"


def test_new_for_a_meeting_is_headed_with_its_title(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "packaging.md"
    assert main(["notes", "new", "--date", "2024-11-12", "--meeting", "packaging", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[3] == "# 2024-11-12 Packaging Sync"
    assert "t=3pm" in lines[5]  # 16:00 in Berlin, winter time
    other = tmp_path / "other.md"
    assert main(["notes", "new", "--date", "2024-11-12", "--meeting", "nope", str(other)]) != 0
    assert "has no meeting 'nope'" in capsys.readouterr().err and not other.exists()


def test_new_rejects_a_bad_date(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["notes", "new", "--date", "6 Nov", str(tmp_path / "x.md")])
    assert "`6 Nov` is not a date like 2024-11-06" in capsys.readouterr().err


def _config_copy(directory: Path) -> Path:
    for name in ("meetbot.example.toml", "people.example.toml", "notes-template.md"):
        shutil.copy(REPO / "config" / name, directory / name)
    return directory / "meetbot.example.toml"


def test_shell_is_a_scriptable_chat_on_the_real_store_and_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config_copy(tmp_path)
    script = "add item Zulip CEP\n/as wolfv@example.org\n/like 1\nvote 1\n/as nobody\n/what\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    args = ["shell", "--as", "dashagurova@example.org", "--config", str(config)]
    assert main([*args, "--now", "2024-11-05T10:00Z"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Dasha Gurova> add item Zulip CEP",
        "meetbot> Added item **1** to New Agenda Items: DG: Zulip CEP",
        "    React with 👍 (or `vote 1`) to vote for it.",
        "Dasha Gurova> /as wolfv@example.org",
        "(you are Wolf Vollprecht <wolfv@example.org>)",
        "Wolf Vollprecht> /like 1",
        "Wolf Vollprecht> vote 1",
        "meetbot> You already voted for item 1.",
        "Wolf Vollprecht> /as nobody",
        "(you are Nobody <nobody>)",
        "Nobody> /what",
        "(I don't know `/what`; /help lists what works)",
    ]
    # a second session sees the first one's store and notes
    monkeypatch.setattr("sys.stdin", io.StringIO("/as wolfv@example.org\nagenda\n"))
    assert main([*args, "--now", "2024-11-05T11:00Z"]) == 0
    assert "| 1 | Zulip CEP | DG | 1 |" in capsys.readouterr().out
    draft = NotesDocument.load(tmp_path / "notes" / "20241106_agenda_and_minutes.md")
    assert [(i.owners, i.text) for i in draft.items("New Agenda Items")] == [(("DG",), "Zulip CEP")]


def test_shell_replays_the_demo_chat_from_chat_to_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`meetbot shell < config/demo-chat.txt`: a whole meeting with no server."""
    config = _config_copy(tmp_path)
    chat = (REPO / "config" / "demo-chat.txt").read_text(encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(chat))
    assert main(["shell", "--as", "jaimergp@example.org", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "meetbot> ## Summary: Conda Community Meeting 2024-11-06" in out
    assert "      - A1: announce the poll result on Discourse (from 2024-11-06)" in out
    doc = NotesDocument.load(tmp_path / "notes" / "20241106_agenda_and_minutes.md")
    assert [(a.owners, a.text) for a in doc.action_items()] == [
        (("JRG",), "JRG to announce the poll result on Discourse")
    ]
    assert [i.text for i in doc.items("New Agenda Items") if i.checked] == [
        "Change time of this meeting?", "Change default package format to `.conda`"
    ]  # fmt: skip


def test_check_config_shows_meetings_or_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config_copy(tmp_path)
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"{config}: ok, 12 people in the roster" in out
    assert "- community: Conda Community Meeting in #community, next " in out
    assert "    items: 10 min each unless planned, a ⏱️ line at 100% of an item's time\n" in out
    adhoc = tmp_path / "notes" / "adhoc"
    shown = (
        f"Ad hoc meetings: started by anyone; ended after 4 hours if left open; notes in {adhoc}"
    )
    assert f"{shown}\n" in out
    text = config.read_text(encoding="utf-8")
    text = text.replace('allowed = "anyone"', 'allowed = ["jaimergp@example.org"]')
    config.write_text(text.replace('limit = "4 hours"', 'limit = "2 hours"'), encoding="utf-8")
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Ad hoc meetings: started by jaimergp@example.org; ended after 2 hours if " in out
    config.write_text(config.read_text(encoding="utf-8").replace('"UTC"', '"Mars/Olympus"', 1))
    assert main(["check-config", str(config)]) == 1
    assert "meetings.community.timezone" in capsys.readouterr().err
