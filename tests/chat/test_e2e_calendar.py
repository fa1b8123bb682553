"""The calendar from chat end to end: a real `meetbot run` subprocess against the sandbox, on a
simulated clock it shares with it; organizers skip, unskip, move and add meetings from their own
Zulip clients, and the test watches what the bot posts and when, across a restart and across
the start of summer time in Berlin (2025-03-30)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chat.test_e2e_schedule import MIN, START, Scene, staged
from zulip_bot.sandbox import Message

NEXT_TOPIC = "2024-11-20 Conda Community Meeting"
JAIME, DASHA, WOLF = "jaimergp@example.org", "dashagurova@example.org", "wolfv@example.org"


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Scene]:
    with staged(tmp_path, START - dt.timedelta(days=2, minutes=10)) as scene:
        yield scene


@pytest.fixture
def packaging(tmp_path: Path) -> Iterator[Scene]:
    """The packaging sync: Tuesdays 16:00 in Berlin, whose summer time starts on 2025-03-30."""
    with staged(tmp_path, utc("2025-03-26T12:00")) as scene:
        yield scene


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def at(scene: Scene, moment: dt.datetime) -> None:
    scene.clock.set(moment, speed=1.0)


def dm(scene: Scene, who: str, text: str) -> int:
    body = scene.people[who].send_message({"type": "private", "to": [scene.bot_id],
                                           "content": text})  # fmt: skip
    assert body["result"] == "success", body
    scene.settle()
    return int(body["id"])


def said(scene: Scene, stream: str, topic: str) -> list[Message]:
    return [
        m for m in scene.sandbox.realm.messages_in(stream, topic) if m.sender_id == scene.bot_id
    ]


def told(scene: Scene, who: str, after: int) -> list[str]:
    """What the bot said to `who` in direct messages after message `after`."""
    person = scene.sandbox.realm.user_by_login(who)
    assert person is not None
    with scene.sandbox.realm.condition:
        found = sorted(scene.sandbox.realm.messages.values(), key=lambda m: m.id)
    return [m.content for m in found if m.id > after and m.sender_id == scene.bot_id
            and m.stream_id is None and person.user_id in m.dm_user_ids]  # fmt: skip


def silent(scene: Scene, email: str) -> str:
    """How the bot names a person it has matched to their Zulip user, without notifying."""
    user = scene.sandbox.realm.user_by_login(email)
    assert user is not None
    return f"@_**{user.full_name}|{user.user_id}**"


def when(scene: Scene, message: Message) -> dt.datetime:
    return scene.posted_at(message)


def test_skip_and_unskip_from_chat_hold_across_a_restart(community: Scene) -> None:
    scene = community
    scene.start_bot()
    at(scene, START - dt.timedelta(days=2))
    scene.wait(lambda: len(scene.agenda_posts()) == 1, "the agenda thread")
    at(scene, START - dt.timedelta(days=2) + 2 * MIN)
    scene.say(DASHA, "add item Zulip CEP")
    scene.settle()
    item = scene.reply_for_item(1)
    scene.like("baszalmstra@example.org", item)
    scene.settle()

    at(scene, START - dt.timedelta(days=1))
    asked = dm(scene, DASHA, "community skip next")
    assert told(scene, DASHA, asked) == [
        f"Only its organizers ({silent(scene, JAIME)}, {silent(scene, 'jezdez@example.org')}) "
        "and co-chairs can change when the Conda Community Meeting meets."
    ]
    before = len(scene.bot_messages())
    asked = dm(scene, JAIME, "community skip 2024-11-06 conference week")
    notice = (
        "The Conda Community Meeting of <time:2024-11-06T17:00:00Z> is cancelled by "
        f"{silent(scene, JAIME)} (conference week). Its 1 item, with their votes, go to the "
        "next one, "
        f"<time:2024-11-20T17:00:00Z>: #**community>{NEXT_TOPIC}**. `unskip 2024-11-06` "
        "brings it back."
    )
    assert told(scene, JAIME, asked) == [notice]
    assert [m.content for m in scene.bot_messages()[before:]] == [notice]  # the open thread
    dm(scene, JAIME, "community skip 2024-12-04 holidays")

    # a restart: what chat changed is in the store
    scene.kill_bot()
    at(scene, START - 15 * MIN)
    scene.start_bot()
    scene.ticked()
    for moment in (START, START + 75 * MIN):
        at(scene, moment)
        scene.ticked()
    assert len(scene.bot_messages()) == before + 1  # no reminder, start or summary
    scene.like("ocefpaf@example.org", item)  # the 👍 message still votes for the item

    asked = dm(scene, JAIME, "community unskip 2024-12-04")
    assert told(scene, JAIME, asked)[0].startswith(
        "The Conda Community Meeting of <time:2024-12-04T17:00:00Z> is back on the calendar"
    )
    opens = utc("2024-11-18T17:00")
    at(scene, opens)
    scene.wait(lambda: len(said(scene, "community", NEXT_TOPIC)) == 1, "the next agenda")
    (agenda,) = said(scene, "community", NEXT_TOPIC)
    assert opens <= when(scene, agenda) < opens + MIN
    assert "| 1 | Zulip CEP | DG | 2 |" in agenda.content  # carried with both votes
    at(scene, utc("2024-12-02T17:00"))
    topic = "2024-12-04 Conda Community Meeting"
    scene.wait(lambda: len(said(scene, "community", topic)) == 1, "the unskipped meeting's agenda")
    assert scene.stop_bot() == 0


def test_move_and_extra_follow_the_new_times_across_dst_and_a_restart(packaging: Scene) -> None:
    scene = packaging
    scene.start_bot()
    asked = dm(scene, WOLF, "packaging extra 2025-03-29 10:00 Release sync")
    assert told(scene, WOLF, asked)[0].startswith(
        "Added a Release sync: <time:2025-03-29T09:00:00Z>"  # 10:00 winter time
    )
    asked = dm(scene, WOLF, "packaging move 2025-04-01 to 2025-03-31 16:00")
    assert "is moved to <time:2025-03-31T14:00:00Z>" in told(scene, WOLF, asked)[0]  # summer
    scene.kill_bot()
    scene.start_bot()

    extra = "2025-03-29 packaging sync"
    steps = [("2025-03-28T09:00", "Add an item"), ("2025-03-29T08:50", "⏰"),
             ("2025-03-29T09:00", "has started"), ("2025-03-29T09:35", "## Summary")]  # fmt: skip
    for moment, sign in steps:
        at(scene, utc(moment))
        scene.wait(lambda s=sign: any(s in m.content for m in said(scene, "packaging", extra)),
                   f"{sign} in {extra}")  # fmt: skip
        (posted,) = [m for m in said(scene, "packaging", extra) if sign in m.content]
        assert utc(moment) <= when(scene, posted) < utc(moment) + MIN

    moved = "2025-03-31 packaging sync"
    at(scene, utc("2025-03-30T14:00"))  # a day before 16:00 summer time
    scene.wait(lambda: len(said(scene, "packaging", moved)) == 1, "the moved meeting's agenda")
    at(scene, utc("2025-03-30T14:02"))
    asked = dm(scene, WOLF, "packaging move 2025-03-31 to 17:30")
    assert "is moved to <time:2025-03-31T15:30:00Z>" in told(scene, WOLF, asked)[0]
    (agenda, notice) = said(scene, "packaging", moved)
    assert agenda.content.startswith("<time:2025-03-31T15:30:00Z>")  # edited, not posted again
    assert notice.content.endswith("Its items and votes stay, in this topic.")
    at(scene, utc("2025-03-31T14:00"))
    scene.ticked()
    assert len(said(scene, "packaging", moved)) == 2  # nothing at the old time
    at(scene, utc("2025-03-31T15:30"))
    scene.wait(lambda: any("has started" in m.content for m in said(scene, "packaging", moved)),
               "the start at the new time")  # fmt: skip
    at(scene, utc("2025-04-01T14:00"))
    scene.ticked()
    assert said(scene, "packaging", "2025-04-01 packaging sync") == []
    assert scene.stop_bot() == 0
