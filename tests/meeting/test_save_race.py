"""Two bot processes write 300 notes into one draft while a person saves it by hand in a tight
loop: no hand save and no acknowledged note may be lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.meeting.conftest import BEFORE, DURING, TOPIC, Chat, make_chat
from zulip_bot.config import load_config
from zulip_bot.meeting.effects import Incoming, Send, Sender
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store
from zulip_bot.notes import replace

NOTES_EACH = 150
KEPT_CHANGING = (
    "The notes draft kept changing while I was saving it; nothing was changed. Send the "
    "command again."
)
HAND_SAVES = 1000  # the file grows by a line a save: bounded, so that parsing it stays quick


def write_notes(config_path: str, writer: int, count: int) -> None:
    """One bot process: `count` notes from the organizer; prints the acknowledged ones."""
    config = load_config(Path(config_path))
    service = MeetingService(config, Store(config.state_path))
    organizer = next(p for p in config.roster.people if p.initials == "JRG")
    sender = Sender(organizer.email, organizer.name, 7)
    acknowledged, refused = [], []
    for number in range(count):
        text = f"bot {writer} note {number}"
        message = Incoming(f"w{writer}-{number}", 0, sender, f"note {text}", "community", TOPIC)
        (reply,) = service.handle_message(message, DURING)
        assert isinstance(reply, Send)
        if reply.content.startswith("Noted under item"):
            acknowledged.append(text)
        else:
            refused.append(reply.content)
    print(json.dumps({"acknowledged": acknowledged, "refused": refused}))


def _hand_saver(path: Path, stop: threading.Event, cooperating: bool, saved: list[str]) -> None:
    """An editor that saves a whole new version, atomically, as fast as it can; cooperating,
    it takes the notes folder's lock around its read and write as the bot does."""
    number = 0
    while not stop.is_set() and number < HAND_SAVES:
        line = f"hand line {number}"
        temp = path.with_name(f".hand-{number}")
        lock = replace.locked(path.parent) if cooperating else _no_lock()
        with lock:
            text = path.read_text(encoding="utf-8")
            temp.write_text(f"{text}\n{line}\n", encoding="utf-8")
            os.replace(temp, path)
        saved.append(line)
        number += 1
        time.sleep(0.01)  # ~100 saves a second: a bot save rarely has a quiet moment


class _no_lock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _race(tmp_path: Path, cooperating: bool) -> tuple[Chat, list[str], list[str]]:
    chat = make_chat(tmp_path)
    chat.say("DG", "add item Zulip CEP", BEFORE)
    chat.say("JRG", "start")
    assert chat.text("JRG", "next").startswith("Now on item 1")
    path = chat.notes_path()
    stop = threading.Event()
    saved: list[str] = []
    saver = threading.Thread(target=_hand_saver, args=(path, stop, cooperating, saved))
    code = "import sys; from tests.meeting.test_save_race import write_notes; " \
           "write_notes(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))"  # fmt: skip
    config = str(tmp_path / "meetbot.example.toml")
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", code, config, str(n), str(NOTES_EACH)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    saver.start()
    try:
        outputs = [w.communicate(timeout=300)[0] for w in writers]
    finally:
        stop.set()
        saver.join()
    assert all(w.returncode == 0 for w in writers)
    results = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    # A note not acknowledged was answered, never dropped: the sender knows to send it again.
    assert {reply for r in results for reply in r["refused"]} <= {KEPT_CHANGING}
    acknowledged = [text for r in results for text in r["acknowledged"]]
    return chat, saved, acknowledged


def test_a_hand_save_and_two_bots_lose_nothing(tmp_path: Path) -> None:
    chat, saved, acknowledged = _race(tmp_path, cooperating=True)
    final = chat.notes_path().read_text(encoding="utf-8")
    lost_hand = [line for line in saved if line not in final]
    lost_notes = [text for text in acknowledged if f"- {text}\n" not in final]
    print(f"\n{len(saved)} hand saves, {len(acknowledged)} of {2 * NOTES_EACH} notes acknowledged")
    assert saved and acknowledged  # the race really ran
    assert lost_hand == [] and lost_notes == []
    notes = [c.text for c in chat.draft().items("New Agenda Items")[0].children]
    assert sorted(notes) == sorted(acknowledged)  # each once, and nothing unacknowledged


@pytest.mark.skipif(sys.platform != "linux", reason="the exchange that catches it is Linux's")
def test_an_editor_that_takes_no_lock_never_loses_its_save(tmp_path: Path) -> None:
    """The editor can still drop a bot note it had not read (that is its own race), but the bot
    never drops the editor's save: it sees what it swapped out, puts it back, and redoes."""
    chat, saved, acknowledged = _race(tmp_path, cooperating=False)
    final = chat.notes_path().read_text(encoding="utf-8")
    lost_notes = [text for text in acknowledged if f"- {text}\n" not in final]
    print(
        f"\n{len(saved)} hand saves; {len(lost_notes)} acknowledged notes overwritten by the editor"
    )
    assert saved and acknowledged
    assert [line for line in saved if line not in final] == []
