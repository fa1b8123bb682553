"""`meetbot demo` as a newcomer runs it: a subprocess, its output, and the files it leaves."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zulip_bot.cli import main
from zulip_bot.demo import script
from zulip_bot.demo.clock import FileClock
from zulip_bot.notes import NotesDocument

REPO = Path(__file__).resolve().parents[1]


def test_demo_lives_a_whole_meeting_cycle_on_the_network_path(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zulip_bot.cli", "demo", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "MISSING" not in out
    assert "sandbox: http://127.0.0.1:" in out
    assert "#community > 2024-11-06 Conda Community Meeting" in out
    # the agenda thread opens two days before, and is edited as votes come in
    assert "[Mon 17:00] meetbot: <time:2024-11-06T17:00:00Z>" in out
    assert (
        "(meetbot edits its agenda message: | 3 | Change time of this meeting? | JRG | 3 | (10) |)"
        in out
    )
    assert "Bas Zalmstra reacts 👍 to “Added item **3**" in out
    assert "[Tue 10:00] meetbot: **The agenda, updated**: this replaces my agenda message" in out
    assert "[Wed 16:45] meetbot: ⏰" in out
    assert "[Wed 17:00] meetbot: Conda Community Meeting has started." in out
    assert "Poll: Which time suits you? Keep 17:00 UTC: 1 (WV); 15:00 UTC: 2 (JRG, DG)" in out
    # nobody typed `end`: 60 minutes plus the 15-minute summary delay
    assert "[Wed 18:15] meetbot: ## Summary: Conda Community Meeting 2024-11-06" in out
    assert "A1: announce the poll result on Discourse" in out
    assert "@**meetbot** end" not in out

    notes = tmp_path / "notes" / "20241106_agenda_and_minutes.md"
    assert f"notes draft: {notes}" in out
    assert f"transcript:  {notes.with_suffix('.transcript.txt')}" in out
    doc = NotesDocument.load(notes)
    texts = [item.text for item in doc.items()]
    for wanted in script.ITEMS:
        assert any(wanted in text for text in texts), (wanted, texts)
    assert [(a.owners, a.text) for a in doc.action_items()] == [
        (("JRG",), "JRG to announce the poll result on Discourse")
    ]
    said = notes.with_suffix(".transcript.txt").read_text(encoding="utf-8")
    assert "John Kirkham: conda-forge moved to .conda already" in said


def test_the_clock_file_is_shared_and_never_goes_back(tmp_path: Path) -> None:
    director, reader = FileClock(tmp_path / "clock.json"), FileClock(tmp_path / "clock.json")
    director.set(dt.datetime(2024, 11, 4, 16, 30, tzinfo=dt.UTC), speed=0.0)
    assert reader.utc() == dt.datetime(2024, 11, 4, 16, 30, tzinfo=dt.UTC)
    director.set(dt.datetime(2024, 11, 1, tzinfo=dt.UTC))  # back in time: kept where it was
    assert reader.utc() == dt.datetime(2024, 11, 4, 16, 30, tzinfo=dt.UTC)
    director.set(dt.datetime(2024, 11, 6, 17, tzinfo=dt.UTC), speed=1000.0)
    first = reader.now()
    time.sleep(0.01)
    assert reader.now() > first >= dt.datetime(2024, 11, 6, 17, tzinfo=dt.UTC).timestamp()


def test_meetbot_run_says_what_is_wrong_with_its_clock_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = REPO / "config" / "meetbot.example.toml"
    args = ["run", "--config", str(config), "--zuliprc", str(tmp_path / "rc")]
    assert main([*args, "--clock", str(tmp_path / "missing.json")]) == 1
    assert "no clock file" in capsys.readouterr().err
    (tmp_path / "clock.json").write_text('{"at": "soon"}', encoding="utf-8")
    assert main([*args, "--clock", str(tmp_path / "clock.json")]) == 1
    assert 'not a clock file like {"at": ' in capsys.readouterr().err
