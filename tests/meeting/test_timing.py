"""Time on each item through the service: planned times as typed, the agenda's total against
the meeting's length, one warning per item from the schedule's tick, `next` saying what the
last item took, and the summary and the notes recording planned against actual minutes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.meeting.conftest import BEFORE, TOPIC, Chat, make_chat
from zulip_bot.meeting.effects import Effect, Send
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store
from zulip_bot.notes.timing import Spent, spent

START = dt.datetime(2024, 11, 6, 17, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def _sends(effects: list[Effect]) -> list[str]:
    return [e.content for e in effects if isinstance(e, Send) and e.topic == TOPIC]


def _warnings(effects: list[Effect]) -> list[str]:
    """What a tick says about time (at these moments it may also open the agenda thread)."""
    return [text for text in _sends(effects) if text.startswith("⏱️")]


def _running(chat: Chat) -> None:
    """Item 1 (10 min) and item 2 (no time of its own) on the agenda; item 1 open at START."""
    chat.say("DG", "add item Zulip CEP (10 min)", BEFORE)
    chat.say("JK", "add item Sharded repodata", BEFORE)
    chat.say("JRG", "start", START)
    assert chat.text("JRG", "next", START) == "Now on item 1: DG: Zulip CEP (10 min)"


def test_a_planned_time_is_kept_as_typed_and_shown_in_its_column(chat: Chat) -> None:
    assert chat.text("DG", "add item Zulip CEP (10 min)", BEFORE).startswith(
        "Added item **1** to New Agenda Items: DG: Zulip CEP (10 min)\n"
    )
    chat.say("JK", "add item Sharded repodata (1h30)", BEFORE)
    chat.say("WV", "add item Drop Python 3.8", BEFORE)
    chat.say("DG", "add announcement conda 24.11 is out", BEFORE)
    chat.say("JRG", "add announcement Talk at PyCon (5m)", BEFORE)
    text = chat.notes_path().read_text(encoding="utf-8")
    assert "- [ ] DG: Zulip CEP (10 min)\n" in text
    assert "- [ ] JK: Sharded repodata (1h30)\n" in text
    agenda = chat.text("DG", "agenda", BEFORE)
    assert "| 1 | Zulip CEP | DG | 0 | 10 |" in agenda
    assert "| 2 | Sharded repodata | JK | 0 | 90 |" in agenda
    assert "| 3 | Drop Python 3.8 | WV | 0 | (10) |" in agenda  # the meeting's default
    assert "| 4 | conda 24.11 is out | DG | 0 |  |" in agenda  # news takes no default time
    assert "| 5 | Talk at PyCon | JRG | 0 | 5 |" in agenda
    assert (
        "⚠️ Planned: 115 min for a 60-minute meeting (in brackets: no time given, so the "
        "meeting's default): the agenda will not fit, by 55 min." in agenda
    )


def test_an_agenda_that_fits_says_so_and_the_default_comes_from_the_config(
    tmp_path: Path,
) -> None:
    chat = make_chat(tmp_path, ("# item_minutes = 10", "item_minutes = 15"))
    chat.say("DG", "add item Zulip CEP (20 min)", BEFORE)
    chat.say("JK", "add item Sharded repodata", BEFORE)
    agenda = chat.text("DG", "agenda", BEFORE)
    assert "| 2 | Sharded repodata | JK | 0 | (15) |" in agenda
    assert "Planned: 35 of the meeting's 60 min" in agenda
    assert "will not fit" not in agenda


def test_edit_changes_the_time_alone_or_with_the_words(chat: Chat) -> None:
    chat.say("DG", "add item Zulip CEP (10 min)", BEFORE)
    assert chat.text("DG", "edit 1 (1h)", BEFORE) == "Item 1 now reads: Zulip CEP (1h)"
    assert "| 1 | Zulip CEP | DG | 0 | 60 |" in chat.text("DG", "agenda", BEFORE)
    assert chat.text("DG", "edit 1 Zulip CEP vote", BEFORE) == "Item 1 now reads: Zulip CEP vote"
    assert "| 1 | Zulip CEP vote | DG | 0 | (10) |" in chat.text("DG", "agenda", BEFORE)
    assert "- [ ] DG: Zulip CEP vote\n" in chat.notes_path().read_text(encoding="utf-8")


def test_a_time_meant_but_not_read_gets_a_hint(chat: Chat) -> None:
    reply = chat.text("DG", "add item Zulip CEP (10 mn)", BEFORE)
    assert "I did not read `(10 mn)` as a planned time; write it like `(10 min)`" in reply
    assert "(10 mn)" in chat.notes_path().read_text(encoding="utf-8")  # the words as typed
    assert "planned time" not in chat.text("DG", "add item Release (2024)", BEFORE)
    assert "planned time" not in chat.text("DG", "add item Release 2025", BEFORE)


def test_the_open_item_is_warned_once_at_its_time_across_a_restart(chat: Chat) -> None:
    _running(chat)
    assert _warnings(chat.service.tick(START + 9 * MIN)) == []
    (warning,) = _warnings(chat.service.tick(START + 10 * MIN))
    assert warning == (
        "⏱️ Item 1 (Zulip CEP) has had its 10 min: 50 min of the meeting left, "
        "1 item to go (10 min planned)."
    )
    assert _warnings(chat.service.tick(START + 11 * MIN)) == []
    config = chat.service.config
    again = MeetingService(config, Store(config.state_path))  # a restart: the store remembers
    assert _warnings(again.tick(START + 12 * MIN)) == []


def test_warnings_ahead_and_past_the_end_of_the_meeting(tmp_path: Path) -> None:
    chat = make_chat(tmp_path, ("item_warn_at = [100]", "item_warn_at = [80, 100]"))
    _running(chat)
    (ahead,) = _warnings(chat.service.tick(START + 8 * MIN))
    assert ahead.startswith("⏱️ Item 1 (Zulip CEP) has 2 of its 10 min left: 52 min of")
    (at_time,) = _warnings(chat.service.tick(START + 10 * MIN))
    assert at_time.startswith("⏱️ Item 1 (Zulip CEP) has had its 10 min")
    chat.say("JRG", "next", START + 12 * MIN)
    (late,) = _warnings(chat.service.tick(START + 70 * MIN))  # both shares at once: one line
    assert late == (
        "⏱️ Item 2 (Sharded repodata) has had its 10 min: the meeting is 10 min over, "
        "no items to go."
    )
    assert _warnings(chat.service.tick(START + 71 * MIN)) == []


def test_next_says_what_the_last_item_took(chat: Chat) -> None:
    _running(chat)
    assert chat.text("JRG", "next", START + 12 * MIN) == (
        "Item 1 took 12 min (planned 10, 2 over). Now on item 2: JK: Sharded repodata"
    )
    assert chat.text("JRG", "item 1", START + 15 * MIN).startswith(
        "Item 2 took 3 min (planned 10, 7 under). Now on item 1"
    )


def test_end_records_actual_minutes_in_the_notes_and_the_summary(chat: Chat) -> None:
    _running(chat)
    chat.say("DG", "decided we vote", START + 5 * MIN)
    chat.say("JRG", "next", START + 12 * MIN)
    chat.say("JRG", "item 1", START + 15 * MIN)  # back to item 1 for 5 more minutes
    (summary,) = _sends(chat.say("JRG", "end", START + 20 * MIN))
    assert (
        "**Time** (actual of planned minutes)\n"
        "- Zulip CEP: 17 of 10, 7 over\n"
        "- Sharded repodata: 3 of 10, 7 under\n"
        "- in all: 20 of 20, on time"
    ) in summary
    text = chat.notes_path().read_text(encoding="utf-8")
    assert (
        "- [x] DG: Zulip CEP (10 min)\n"
        "    - Decision: we vote\n"
        "    - time: 17 min (planned 10)\n"
        "- [x] JK: Sharded repodata\n"
        "    - time: 3 min (planned 10)\n"
    ) in text
    items = chat.draft().items("New Agenda Items")
    assert [spent(item) for item in items] == [Spent(17, 10), Spent(3, 10)]


def test_an_item_passed_over_in_a_moment_is_not_timed(chat: Chat) -> None:
    _running(chat)
    assert chat.text("JRG", "next", START) == "Now on item 2: JK: Sharded repodata"
    (summary,) = _sends(chat.say("JRG", "end", START + 4 * MIN))
    assert "- Sharded repodata: 4 of 10, 6 under\n- in all: 4 of 10, 6 under" in summary
    assert "time: 0 min" not in chat.notes_path().read_text(encoding="utf-8")


def test_the_time_settings_and_their_defaults(tmp_path: Path) -> None:
    (default,) = [m for m in make_chat(tmp_path).config.meetings if m.key == "community"]
    assert (default.item_minutes, default.item_warn_at) == (10, (100,))
    chosen = make_chat(tmp_path, ("item_warn_at = [100]", "item_warn_at = [100, 80, 100]"))
    meeting = chosen.config.meeting("community")
    assert meeting is not None and meeting.item_warn_at == (80, 100)
    (tmp_path / "short").mkdir()
    edit = ("duration_minutes = 60", "duration_minutes = 5")
    short = make_chat(tmp_path / "short", edit)
    five = short.config.meeting("community")
    assert five is not None and five.item_minutes == 5  # no key, and shorter than 10 minutes
