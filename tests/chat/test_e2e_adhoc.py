"""Ad hoc meetings end to end: a real `meetbot run` subprocess against the sandbox, people
typing with their own `zulip.Client`s, on the simulated clock the schedule tests use.

One meeting goes from `start meeting` to its summary (across a kill -9), and its action item
is then listed and closed; one left open is ended by the limit; and the refusals."""

from __future__ import annotations

import datetime as dt

from tests.chat.test_e2e_schedule import MIN, TOPIC, Scene, scene
from zulip_bot.meeting.store import Store
from zulip_bot.notes import NotesDocument
from zulip_bot.sandbox import Message

__all__ = ["scene"]  # the fixture, used by name

STREAM, HERE = "packaging", "rattler release"
OPENED = -dt.timedelta(days=2)  # from the scene's START: no scheduled meeting in this topic
NAME = "2024-11-04_packaging_rattler-release.md"


def say(scene: Scene, who: str, text: str, stream: str = STREAM, topic: str = HERE) -> int:
    body = scene.people[who].send_message(
        {"type": "stream", "to": stream, "topic": topic, "content": f"@**meetbot** {text}"}
    )
    assert body["result"] == "success", body
    return int(body["id"])


def bot_says(scene: Scene, stream: str = STREAM, topic: str = HERE) -> list[Message]:
    return [
        m for m in scene.sandbox.realm.messages_in(stream, topic) if m.sender_id == scene.bot_id
    ]


def answer(scene: Scene, who: str, text: str, stream: str = STREAM, topic: str = HERE) -> str:
    """The bot's answer in the topic to one message (waiting for it)."""
    asked = say(scene, who, text, stream, topic)
    scene.wait(lambda: any(m.id > asked for m in bot_says(scene, stream, topic)), f"`{text}`")
    scene.settle()
    return "\n".join(m.content for m in bot_says(scene, stream, topic) if m.id > asked)


def test_an_ad_hoc_meeting_from_start_to_summary_across_a_restart(scene: Scene) -> None:
    scene.start_bot()
    scene.at(OPENED)
    started = answer(scene, "wolfv@example.org", "start meeting Rattler release")
    assert started.startswith("**Rattler release** has started here, and you chair it.")
    path = scene.folder / "notes" / "adhoc" / NAME
    assert path.read_text(encoding="utf-8").startswith(
        "---\ntags: [meeting-notes]\n---\n# 2024-11-04 Rattler release\n"
    )
    assert answer(scene, "wolfv@example.org", "add item Version 1.0 blockers").startswith(
        "Added item **1** to New Agenda Items: WV: Version 1.0 blockers"
    )
    assert answer(scene, "wolfv@example.org", "next") == "Now on item 1: WV: Version 1.0 blockers"

    # kill -9 mid-meeting: the meeting is in the store, and what was said meanwhile is read
    scene.kill_bot()
    scene.at(OPENED + 10 * MIN)
    say(scene, "wolfv@example.org", "decided Release 1.0 next week")
    say(scene, "wolfv@example.org", "action @**Bas Zalmstra** write the changelog")
    scene.sandbox.expire_queues()
    scene.start_bot()
    replies = "\n".join(m.content for m in bot_says(scene))
    assert "Decision recorded under item 1." in replies
    assert "Action item A1 recorded under item 1." in replies

    scene.at(OPENED + 20 * MIN)
    summary = answer(scene, "wolfv@example.org", "end")
    assert summary.startswith("## Summary: Rattler release 2024-11-04\n")
    assert "- WV: Version 1.0 blockers\n  - Decision: Release 1.0 next week" in summary
    assert "A1: write the changelog" in summary
    assert "I ended this ad hoc meeting" not in summary
    items = NotesDocument.load(path).items("New Agenda Items")
    assert [(i.text, [ch.text for ch in i.children]) for i in items] == [
        (
            "Version 1.0 blockers",
            [
                "Decision: Release 1.0 next week",
                "Action item: BZ to write the changelog",
                "time: 20 min (planned 10)",  # what it took, as `end` records it
            ],
        )
    ]

    # the action item is in the registry: Bas lists it and closes it
    mine = answer(scene, "baszalmstra@example.org", "actions mine")
    assert "A1: write the changelog" in mine
    closed = answer(scene, "baszalmstra@example.org", "done A1")
    assert closed == "Closed A1: write the changelog"
    assert "A1" not in answer(scene, "baszalmstra@example.org", "actions mine")
    assert sum("## Summary" in m.content for m in bot_says(scene)) == 1
    assert scene.stop_bot() == 0


def test_one_left_open_is_ended_by_the_limit(scene: Scene) -> None:
    scene.start_bot()
    scene.at(OPENED)
    answer(scene, "wolfv@example.org", "start meeting Rattler release")
    answer(scene, "wolfv@example.org", "add item Version 1.0 blockers")
    answer(scene, "baszalmstra@example.org", "action #1 BZ write the changelog")

    scene.at(OPENED + 4 * dt.timedelta(hours=1) - MIN)  # the example's limit is 4 hours
    scene.ticked()
    assert not any("## Summary" in m.content for m in bot_says(scene))
    scene.at(OPENED + 4 * dt.timedelta(hours=1) + MIN)
    scene.wait(lambda: any("## Summary" in m.content for m in bot_says(scene)), "the summary")
    scene.ticked()
    summaries = [m.content for m in bot_says(scene) if "## Summary" in m.content]
    assert len(summaries) == 1
    assert summaries[0].startswith(
        "## Summary: Rattler release 2024-11-04\n_I ended this ad hoc meeting: it was still "
        "open 4 hours after it started, and nobody sent `end`._\n"
    )
    assert "A1: write the changelog" in summaries[0]
    assert scene.stop_bot() == 0
    store = Store(scene.folder / "meetbot.sqlite3")
    try:
        assert store.open_adhoc() == []
        assert [a.text for a in store.open_actions("BZ")] == ["write the changelog"]
    finally:
        store.close()


def test_refused_in_a_scheduled_topic_by_the_config_and_twice_in_one_topic(scene: Scene) -> None:
    config = scene.folder / "meetbot.example.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('allowed = "anyone"', 'allowed = ["wolfv@example.org"]', 1), encoding="utf-8"
    )
    scene.start_bot()
    scene.at(OPENED)

    assert answer(scene, "jaimergp@example.org", "start meeting Rattler release") == (
        "Only the people listed in my configuration under `[adhoc] allowed` (Wolf Vollprecht) "
        "may start an ad hoc meeting: ask one of them to start it, or whoever runs me to add you."
    )
    assert answer(scene, "wolfv@example.org", "start meeting Triage", "community", TOPIC) == (
        f"#**community>{TOPIC}** is the topic of the scheduled Conda Community Meeting "
        "(`community`), so I will not start another meeting in it: send `start meeting "
        "<title>` in a topic of its own."
    )
    assert answer(scene, "wolfv@example.org", "start meeting Rattler release").startswith(
        "**Rattler release** has started here"
    )
    assert answer(scene, "wolfv@example.org", "start meeting Something else").startswith(
        "**Rattler release** is already running in this topic (since <time:"
    )
    assert answer(scene, "wolfv@example.org", "start meeting") == (
        "`start meeting` needs a title, like `start meeting Release planning`."
    )
    assert sorted(p.name for p in (scene.folder / "notes" / "adhoc").iterdir()) == [
        NAME,
        NAME.replace(".md", ".transcript.txt"),
    ]
    assert scene.stop_bot() == 0
