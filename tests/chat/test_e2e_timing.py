"""Time on each item end to end: a real `meetbot run` against the sandbox on the simulated
clock, people typing through their own `zulip.Client`s. Planned times go into the agenda
thread with the total against the meeting's hour, the open item is warned once at its time
(by the schedule's tick, across a restart), `next` says what it took, and the summary and the
notes record planned against actual minutes."""

from __future__ import annotations

import datetime as dt

from tests.chat.test_e2e_schedule import MIN, START, Scene, scene  # noqa: F401  (the fixture)
from zulip_bot.notes import NotesDocument
from zulip_bot.notes.timing import Spent, spent

OPENED = -dt.timedelta(days=2)


def _warnings(seen: Scene) -> list[str]:
    return [m.content for m in seen.bot_messages() if m.content.startswith("⏱️")]


def test_planned_times_one_warning_per_item_and_the_minutes_in_the_summary(
    scene: Scene,  # noqa: F811
) -> None:
    scene.start_bot()
    scene.at(OPENED)
    scene.wait(lambda: len(scene.agenda_posts()) == 1, "the agenda thread")
    scene.at(OPENED + 2 * MIN)
    scene.say("dashagurova@example.org", "add item Zulip CEP (10 min)")
    scene.say("jakirkham@example.org", "add item Sharded repodata (1h)")
    scene.settle()
    agenda = scene.agenda_posts()[0].content
    assert "| 1 | Zulip CEP | DG | 0 | 10 |" in agenda
    assert "| 2 | Sharded repodata | JK | 0 | 60 |" in agenda
    assert "⚠️ Planned: 70 min for a 60-minute meeting: the agenda will not fit, by 10 min." in (
        agenda
    )
    draft = scene.folder / "notes" / "20241106_agenda_and_minutes.md"
    assert "- [ ] DG: Zulip CEP (10 min)\n" in draft.read_text(encoding="utf-8")

    scene.at(dt.timedelta(0))
    scene.wait(lambda: any("has started" in m.content for m in scene.bot_messages()), "the start")
    scene.at(MIN)
    scene.say("jaimergp@example.org", "next")
    scene.settle()
    scene.at(10 * MIN)
    scene.ticked()
    assert _warnings(scene) == []  # 9 minutes of its 10
    scene.at(11 * MIN)
    scene.wait(lambda: len(_warnings(scene)) == 1, "the warning at the item's time")
    warning = next(m for m in scene.bot_messages() if m.content.startswith("⏱️"))
    assert START + 11 * MIN <= scene.posted_at(warning) < START + 12 * MIN
    assert warning.content == (
        "⏱️ Item 1 (Zulip CEP) has had its 10 min: 49 min of the meeting left, "
        "1 item to go (60 min planned)."
    )

    assert scene.stop_bot() == 0  # a restart: the warning is not said again
    scene.at(12 * MIN)
    scene.start_bot()
    scene.ticked()
    assert len(_warnings(scene)) == 1

    scene.at(14 * MIN)
    moved_on = scene.say("jaimergp@example.org", "next")
    scene.settle()
    reply = [m.content for m in scene.bot_messages() if m.id > moved_on]
    assert reply[0] == (
        "Item 1 took 13 min (planned 10, 3 over). Now on item 2: JK: Sharded repodata (1h)"
    )

    scene.at(20 * MIN)
    ended = scene.say("jaimergp@example.org", "end")
    scene.settle()
    summary = next(m.content for m in scene.bot_messages() if m.id > ended)
    assert (
        "**Time** (actual of planned minutes)\n"
        "- Zulip CEP: 13 of 10, 3 over\n"
        "- Sharded repodata: 6 of 60, 54 under\n"
        "- in all: 19 of 70, 51 under"
    ) in summary
    items = NotesDocument.load(draft).items("New Agenda Items")
    assert [spent(item) for item in items] == [Spent(13, 10), Spent(6, 60)]
    assert len(_warnings(scene)) == 1
    assert scene.stop_bot() == 0
