"""The `meetbot notes` commands, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE
from zulip_bot.cli import main


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


def test_new_rejects_a_bad_date(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["notes", "new", "--date", "6 Nov", str(tmp_path / "x.md")])
    assert "`6 Nov` is not a date like 2024-11-06" in capsys.readouterr().err
