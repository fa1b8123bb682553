"""Downtime across a meeting end to end: a real `meetbot run` against the sandbox on the
simulated clock, stopped before the meeting and started again during it. The topic gets one
notice of when the bot was away and what it did late, before the late start; a second restart
does not repeat it."""

from __future__ import annotations

import datetime as dt

from tests.chat.test_e2e_schedule import MIN, START, Scene, scene  # noqa: F401  (the fixture)
from zulip_bot.sandbox import Message

AWAY = "**I was away**"


def _notices(seen: Scene) -> list[Message]:
    """The bot's messages with the notice (the outbox may join it with the start message)."""
    return [m for m in seen.bot_messages() if AWAY in m.content]


def test_stopped_before_the_meeting_and_back_during_it_it_says_so_once(
    scene: Scene,  # noqa: F811
) -> None:
    scene.start_bot()
    scene.at(-dt.timedelta(days=2))
    scene.wait(lambda: len(scene.agenda_posts()) == 1, "the agenda thread")
    scene.at(-15 * MIN)
    scene.wait(lambda: any(m.content.startswith("⏰") for m in scene.bot_messages()), "reminder")
    scene.at(-10 * MIN)
    scene.ticked()
    assert scene.stop_bot() == 0
    assert _notices(scene) == []

    scene.at(12 * MIN)
    scene.start_bot()
    scene.wait(lambda: any("has started" in m.content for m in scene.bot_messages()), "start")
    scene.ticked()
    (notice,) = _notices(scene)
    assert notice.content.count(AWAY) == 1
    said, started = notice.content.split("\n\n", 1)  # the reason first, then the late start
    assert said == (
        "**I was away** (not running) from <time:2024-11-06T16:50:00Z> (2024-11-06 16:50 UTC) "
        "to <time:2024-11-06T17:12:00Z> (2024-11-06 17:12 UTC). For this meeting, I:\n"
        "- started the meeting late, at 17:12 UTC"
    )
    assert started.startswith("Conda Community Meeting has started.")
    assert START + 12 * MIN <= scene.posted_at(notice) < START + 13 * MIN
    assert "@**" not in notice.content  # nobody is notified
    assert not any("mentioned" in flags for flags in notice.user_flags.values())

    assert scene.stop_bot() == 0  # a second restart says nothing again
    scene.at(20 * MIN)
    scene.start_bot()
    scene.ticked()
    assert len(_notices(scene)) == 1
    assert sum("has started" in m.content for m in scene.bot_messages()) == 1
    assert scene.stop_bot() == 0


def test_back_after_the_meeting_its_notice_says_how_to_hold_it_and_that_works(
    scene: Scene,  # noqa: F811
) -> None:
    scene.start_bot()
    scene.at(-dt.timedelta(days=2))
    scene.wait(lambda: len(scene.agenda_posts()) == 1, "the agenda thread")
    scene.at(-dt.timedelta(days=2) + 2 * MIN)
    scene.say("dashagurova@example.org", "add item Zulip CEP")
    scene.settle()
    scene.at(-dt.timedelta(hours=1))
    scene.ticked()
    assert scene.stop_bot() == 0

    scene.at(2 * dt.timedelta(hours=1))  # the meeting's hour and its summary's time passed
    scene.start_bot()
    scene.wait(lambda: len(_notices(scene)) == 1, "the notice")
    (notice,) = _notices(scene)
    assert notice.content.splitlines()[1:] == [
        "- did not post the reminder (due 16:45 UTC)",
        "- did not start the meeting (due 17:00 UTC): it was over when I came back",
        "",
        "An organizer can still hold it late: `@**meetbot** start` here. Otherwise its agenda "
        "(1 item) moves to the next meeting, <time:2024-11-20T17:00:00Z>, an hour before it "
        "starts.",
    ]
    asked = scene.say("jaimergp@example.org", "start")
    scene.settle()
    answers = [m.content for m in scene.bot_messages() if m.id > asked]
    assert answers and answers[0].startswith("Conda Community Meeting has started."), answers
    assert "| 1 | Zulip CEP |" in answers[0]
    assert scene.stop_bot() == 0
