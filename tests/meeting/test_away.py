"""After the bot was away across a meeting's time: one notice in that meeting's topic, saying
when it was away, what it did late or not at all, and what organizers can do now; nothing when
the time away touched no meeting or cost nothing worth saying, and never twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.meeting.conftest import TOPIC, Chat, chat_on, make_chat
from tests.meeting.test_schedule_jobs import LEAD, START, _tick
from zulip_bot.meeting.away import LATE, outcomes
from zulip_bot.meeting.effects import Effect, Send
from zulip_bot.schedule import JobKind, jobs_for

MIN = dt.timedelta(minutes=1)
NEXT = START + dt.timedelta(days=14)
NEXT_TOPIC = "2024-11-20 Conda Community Meeting"
AWAY = "**I was away**"


def _notices(effects: list[Effect]) -> list[Send]:
    return [e for e in effects if isinstance(e, Send) and e.content.startswith(AWAY)]


def _restarted(chat: Chat) -> Chat:
    """A new service on the same store, as after a restart."""
    again = chat_on(chat.config.path)
    again._ids = chat._ids
    return again


def test_down_through_the_start_it_says_so_once_before_starting_late(chat: Chat) -> None:
    _tick(chat, LEAD + MIN)
    _tick(chat, START - 14 * MIN)  # the reminder; then the bot stops
    back = _tick(chat, START + 12 * MIN)
    (notice,) = _notices(back)
    assert notice.topic == TOPIC
    assert notice.content == (
        "**I was away** (not running) from <time:2024-11-06T16:46:00Z> (2024-11-06 16:46 UTC) "
        "to <time:2024-11-06T17:12:00Z> (2024-11-06 17:12 UTC). For this meeting, I:\n"
        "- started the meeting late, at 17:12 UTC"
    )
    started = [e for e in back if isinstance(e, Send) and "has started" in e.content]
    assert back.index(notice) < back.index(started[0])  # the why comes before the late start
    assert "@**" not in notice.content  # nobody is pinged
    assert _notices(_tick(chat, START + 13 * MIN)) == []
    again = _restarted(chat)  # a restart right after: said once
    assert _notices(_tick(again, START + 20 * MIN)) == []


def test_a_missed_reminder_and_a_late_agenda_in_the_meetings_own_zone(tmp_path: Path) -> None:
    chat = make_chat(tmp_path, ('timezone = "UTC"', 'timezone = "America/New_York"'))
    start = dt.datetime(2024, 11, 6, 22, 0, tzinfo=dt.UTC)  # 17:00 in New York
    _tick(chat, start - dt.timedelta(days=3))  # running, then down before the agenda's time
    back = _tick(chat, start + 2 * MIN)
    (notice,) = _notices(back)
    assert notice.content.startswith(
        "**I was away** (not running) from <time:2024-11-03T22:00:00Z> (2024-11-03 22:00 UTC, "
        "2024-11-03 17:00 EST) to <time:2024-11-06T22:02:00Z> (2024-11-06 22:02 UTC, "
        "2024-11-06 17:02 EST)"
    )
    lines = notice.content.splitlines()[1:]
    assert lines == [
        "- posted the agenda late, at 17:02 EST / 22:02 UTC",
        "- did not post the reminder (due 16:45 EST / 21:45 UTC)",
    ]  # the start, 2 minutes late, is no news; no open action items: no owners to remind


def test_a_whole_meeting_missed_an_organizer_can_still_hold_it(chat: Chat) -> None:
    _tick(chat, LEAD + MIN)
    chat.say("DG", "add item Zulip CEP", LEAD + 2 * MIN)
    _tick(chat, START - 20 * MIN)  # then down until after the meeting and its summary's time
    back = _tick(chat, START + 3 * dt.timedelta(hours=1))
    (notice,) = _notices(back)
    assert notice.content.splitlines()[1:] == [
        "- did not post the reminder (due 16:45 UTC)",
        "- did not start the meeting (due 17:00 UTC): it was over when I came back",
        "",
        "An organizer can still hold it late: `@**meetbot** start` here. Otherwise its agenda "
        "(1 item) moves to the next meeting, <time:2024-11-20T17:00:00Z>, an hour before it "
        "starts.",
    ]  # the summary's time passed too, but there was no meeting to end
    later = START + dt.timedelta(hours=3, minutes=5)
    assert chat.text("JRG", "start", later).startswith("Conda Community Meeting has started.")


def test_missed_for_good_past_the_next_meeting_its_items_move_on(chat: Chat) -> None:
    _tick(chat, LEAD + MIN)
    chat.say("DG", "add item Zulip CEP", LEAD + 2 * MIN)
    _tick(chat, LEAD + 3 * MIN)
    back = _tick(chat, NEXT - 30 * MIN)  # two weeks away: the next agenda is open already
    notice, following = _notices(back)
    assert (notice.topic, following.topic) == (TOPIC, NEXT_TOPIC)  # its agenda came late
    assert notice.content.endswith(
        "\n\nIts agenda items moved to the next meeting, <time:2024-11-20T17:00:00Z>."
    )
    assert "| 1 | Zulip CEP | DG |" in chat.text("DG", "agenda", NEXT - 29 * MIN, NEXT_TOPIC)


def test_down_through_the_summary_it_ends_late_or_says_end_is_left_to_do(chat: Chat) -> None:
    _tick(chat, LEAD + MIN)
    _tick(chat, START - 14 * MIN)
    _tick(chat, START)  # started on time; then down
    (late,) = _notices(_tick(chat, START + 2 * dt.timedelta(hours=1)))
    assert late.content.splitlines()[1:] == [
        "- ended the meeting and posted its summary late, at 19:00 UTC"
    ]


def test_a_meeting_left_open_past_its_summarys_grace_is_for_end(chat: Chat) -> None:
    _tick(chat, LEAD + MIN)
    _tick(chat, START - 14 * MIN)
    _tick(chat, START)  # started on time; then down for eight days
    back = START + dt.timedelta(days=8)
    (notice,) = _notices(_tick(chat, back))
    assert notice.content.splitlines()[1:] == [
        "- did not end the meeting nor post its summary (due 18:15 UTC)",
        "",
        "The meeting is still open: an organizer can send `@**meetbot** end` here to end it "
        "and post the summary.",
    ]
    assert chat.text("JRG", "end", back + MIN).startswith("## Summary: Conda Community Meeting")


def test_a_long_outage_says_so_in_each_missed_meetings_topic(chat: Chat) -> None:
    _tick(chat, LEAD - MIN)
    back = _tick(chat, NEXT + dt.timedelta(days=1))
    notices = _notices(back)
    assert [n.topic for n in notices] == [TOPIC, NEXT_TOPIC]
    for notice, opened in zip(
        notices, ("2024-11-04 17:00 UTC", "2024-11-18 17:00 UTC"), strict=True
    ):
        assert notice.content.splitlines()[1:4] == [
            f"- did not post the agenda (due {opened})",
            "- did not post the reminder (due 16:45 UTC)",
            "- did not start the meeting (due 17:00 UTC): it was over when I came back",
        ]
        assert "did not end" not in notice.content  # never started: nothing to end
    assert _notices(_tick(_restarted(chat), NEXT + dt.timedelta(days=1, minutes=1))) == []


def test_nothing_is_said_when_the_time_away_touched_no_meeting_or_cost_nothing(
    chat: Chat,
) -> None:
    assert _tick(chat, LEAD - dt.timedelta(days=5)) == []
    assert _tick(chat, LEAD - MIN) == []  # five days away, no job due
    _tick(chat, LEAD + MIN)
    _tick(chat, START - 16 * MIN)
    effects = _tick(chat, START - 16 * MIN + LATE - dt.timedelta(seconds=1))  # a brief restart
    assert [e.content[:1] for e in effects if isinstance(e, Send)] == ["⏰"]  # just the reminder


def test_what_organizers_did_by_hand_is_not_reported_as_late(chat: Chat) -> None:
    _tick(chat, LEAD + MIN)
    chat.say("JRG", "start", START - 40 * MIN)  # early, by hand; then the bot stops
    effects = _tick(chat, START + 20 * MIN)
    assert [line for n in _notices(effects) for line in n.content.splitlines()[1:]] == [
        "- did not post the reminder (due 16:45 UTC)"
    ]  # not "started late": it was running
    chat.say("JRG", "end", START + 30 * MIN)  # ended by hand; the bot stops again
    assert _notices(_tick(chat, START + 3 * dt.timedelta(hours=1))) == []


def test_a_skipped_meeting_missed_nothing(chat: Chat) -> None:
    _tick(chat, LEAD + MIN)
    chat.say("JRG", "skip 2024-11-06", LEAD + 2 * MIN)
    _tick(chat, LEAD + 3 * MIN)
    assert _notices(_tick(chat, START + dt.timedelta(hours=3))) == []


@pytest.mark.parametrize(
    ("kind", "back", "done", "said"),
    [
        (JobKind.START, START + LATE, True, [True]),  # done late
        (JobKind.START, START + LATE - MIN, True, []),  # on time, near enough
        (JobKind.START, START + dt.timedelta(hours=1), False, [False]),  # past its span
        (JobKind.START, START + 30 * MIN, False, []),  # due, not done: it failed, tried again
    ],
)
def test_outcomes_are_late_missed_or_no_news(
    chat: Chat, kind: JobKind, back: dt.datetime, done: bool, said: list[bool]
) -> None:
    (job,) = [j for j in jobs_for(chat.config.meetings[0], START) if j.key.kind is kind]
    found = outcomes((job,), {str(job.key)} if done else set(), back)
    assert [o.late for o in found] == said
