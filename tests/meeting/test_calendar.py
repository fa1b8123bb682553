"""The calendar from chat, through the service: what `schedule`, `skip`, `unskip`, `move` and
`extra` reply, what they do to a meeting people already prepare (its agenda thread, items and
votes) and to what the schedule does next; all of it kept across a restart."""

from __future__ import annotations

import datetime as dt

from tests.meeting.conftest import TOPIC, Chat, chat_on
from tests.meeting.test_schedule_jobs import LEAD, START, _tick
from zulip_bot.meeting.effects import Edit, Effect, Incoming, Send
from zulip_bot.meeting.store import Store

UTC = dt.UTC
DM = "community"  # a direct message names the meeting first
NEXT_TOPIC = "2024-11-20 Conda Community Meeting"
JAIME = "@_**Jaime Rodríguez-Guerra**"


def dm(chat: Chat, who: str, text: str, now: dt.datetime) -> list[Effect]:
    number = next(chat._ids)
    message = Incoming(f"dm{number}", number, chat.senders[who], f"{DM} {text}")
    return chat.service.handle_message(message, now)


def texts(effects: list[Effect]) -> list[tuple[str | None, str]]:
    return [(e.topic, e.content) for e in effects if isinstance(e, Send)]


def opened_with_items(chat: Chat) -> dt.datetime:
    """The agenda thread of 2024-11-06 is open with item 1 (one vote) and item 2."""
    _tick(chat, LEAD + dt.timedelta(minutes=1))
    chat.say("DG", "add item Zulip CEP", LEAD + dt.timedelta(minutes=2))
    chat.say("JK", "add item Sharded repodata", LEAD + dt.timedelta(minutes=3))
    chat.say("WV", "vote 1", LEAD + dt.timedelta(minutes=4))
    return LEAD + dt.timedelta(hours=1)


def test_skip_tells_the_open_thread_and_moves_items_and_votes_on(chat: Chat) -> None:
    now = opened_with_items(chat)
    effects = dm(chat, "JRG", "skip 2024-11-06 conference week", now)
    told = (
        f"The Conda Community Meeting of <time:2024-11-06T17:00:00Z> is cancelled by {JAIME} "
        "(conference week). Its 2 items, with their votes, go to the next one, "
        f"<time:2024-11-20T17:00:00Z>: #**community>{NEXT_TOPIC}**. `unskip 2024-11-06` "
        "brings it back."
    )
    assert texts(effects) == [(None, told), (TOPIC, told)]
    moved = chat.draft(dt.date(2024, 11, 20)).items("New Agenda Items")
    assert [(i.owners, i.text) for i in moved] == [(("DG",), "Zulip CEP"),
                                                   (("JK",), "Sharded repodata")]  # fmt: skip
    # Nothing more happens in the skipped meeting's topic: no reminder, start or summary.
    for when in (START - dt.timedelta(minutes=15), START, START + dt.timedelta(minutes=75)):
        assert _tick(chat, when) == []
    # The next one opens with the items, the vote kept.
    (post,) = _tick(chat, dt.datetime(2024, 11, 18, 17, 1, tzinfo=UTC))
    assert isinstance(post, Send) and post.topic == NEXT_TOPIC
    assert "| 1 | Zulip CEP | DG | 1 |" in post.content


def test_a_bare_cancel_is_the_meeting_of_the_topic_it_is_sent_in(chat: Chat) -> None:
    now = opened_with_items(chat)
    assert texts(dm(chat, "JRG", "cancel", now)) == [(None, (
        "Which meeting? Here I cannot tell: write `skip next` or its date, like "
        "`skip 2026-12-30 holidays`."
    ))]  # fmt: skip
    (reply,) = texts(chat.say("JRG", "cancel", now))
    assert reply[0] == TOPIC  # said in the thread: the reply is the notice
    assert reply[1].startswith("The Conda Community Meeting of <time:2024-11-06T17:00:00Z> is ")


def test_others_are_told_who_may_and_nothing_changes(chat: Chat) -> None:
    now = opened_with_items(chat)
    (reply,) = texts(dm(chat, "DG", "skip next", now))
    assert reply[1] == (
        "Only its organizers (@_**Jaime Rodríguez-Guerra**, @_**Jannis Leidel**) and co-chairs "
        "can change when the Conda Community Meeting meets."
    )
    chat.say("JRG", "chair @**Dasha Gurova**", now)
    (reply, notice) = texts(dm(chat, "DG", "skip next", now))
    assert "is cancelled by @_**Dasha Gurova|110**" in reply[1] and notice[0] == TOPIC


def test_refusals_from_the_calendar_reach_the_person(chat: Chat) -> None:
    now = opened_with_items(chat)
    assert texts(dm(chat, "JRG", "move 2024-11-06 to 2024-11-20 12:00", now))[0][1] == (
        "2024-11-20 already has a Conda Community Meeting at 2024-11-20 17:00 UTC: each day's "
        "meeting has its own notes and topic, so pick another day."
    )
    chat.say("JRG", "start", START)
    assert texts(dm(chat, "JRG", "skip 2024-11-06", START + dt.timedelta(minutes=1)))[0][1] == (
        "The 2024-11-06 Conda Community Meeting has begun already; only meetings still to come "
        "can be changed."
    )


def test_a_move_on_the_same_day_edits_the_agenda_and_the_jobs_follow(chat: Chat) -> None:
    now = opened_with_items(chat) - dt.timedelta(minutes=55)  # Zulip still takes edits
    effects = dm(chat, "JRG", "move 2024-11-06 to 19:30 Europe/Berlin", now)
    told = (
        f"The Conda Community Meeting of <time:2024-11-06T17:00:00Z> is moved to "
        f"<time:2024-11-06T18:30:00Z> by {JAIME}. Its items and votes stay, in this topic."
    )
    assert texts(effects) == [(None, told), (TOPIC, told)]
    (edit,) = [e for e in effects if isinstance(e, Edit)]
    assert edit.content.startswith("<time:2024-11-06T18:30:00Z>")
    assert _tick(chat, START - dt.timedelta(minutes=15)) == []  # not at the old time
    (reminder,) = _tick(chat, START + dt.timedelta(minutes=75))
    assert isinstance(reminder, Send) and reminder.content.startswith("⏰")
    (started,) = [e for e in _tick(chat, START + dt.timedelta(minutes=90)) if isinstance(e, Send)]
    assert "has started" in started.content and started.topic == TOPIC


def test_a_move_to_another_day_takes_items_and_votes_there(chat: Chat) -> None:
    now = opened_with_items(chat)
    effects = dm(chat, "JRG", "move 2024-11-06 to 2024-11-07", now)
    new_topic = "2024-11-07 Conda Community Meeting"
    told = (
        f"The Conda Community Meeting of <time:2024-11-06T17:00:00Z> is moved to "
        f"<time:2024-11-07T17:00:00Z> by {JAIME}. Its agenda moves to "
        f"#**community>{new_topic}**, with its items and votes."
    )
    assert texts(effects) == [(None, told), (TOPIC, told)]
    assert _tick(chat, now + dt.timedelta(hours=1)) == []
    (post,) = _tick(chat, START - dt.timedelta(days=1))  # two days before its new time
    assert isinstance(post, Send) and post.topic == new_topic
    assert "| 1 | Zulip CEP | DG | 1 |" in post.content
    assert _tick(chat, START) == []
    _tick(chat, START + dt.timedelta(days=1, minutes=-15))  # its reminder: the bot runs on
    started = _tick(chat, START + dt.timedelta(days=1))
    assert [e.topic for e in started if isinstance(e, Send)] == [new_topic]
    assert chat.text("DG", "agenda", START + dt.timedelta(days=1, minutes=1), new_topic)


def test_extra_unskip_and_schedule_survive_a_restart(chat: Chat) -> None:
    now = dt.datetime(2024, 11, 1, tzinfo=UTC)
    assert texts(dm(chat, "JRG", "extra 2024-11-13 18:00 CEP vote", now))[0][1] == (
        f"Added a CEP vote: <time:2024-11-13T18:00:00Z>, by {JAIME}, in "
        "#**community>2024-11-13 Conda Community Meeting**; its agenda opens there "
        "<time:2024-11-11T18:00:00Z>."
    )
    dm(chat, "JRG", "skip 2024-11-20", now)
    dm(chat, "JRG", "skip 2024-12-04 holidays", now)
    dm(chat, "JRG", "unskip 2024-11-20", now)
    again = chat_on(chat.config.path)  # a restart: a new service on the same store
    again._ids = chat._ids  # new events, not ones already handled
    (listing,) = texts(dm(again, "DG", "schedule", now))
    assert listing[1] == "\n".join([
        "**Conda Community Meeting**, the next meetings:",
        "- <time:2024-11-06T17:00:00Z>",
        f"- <time:2024-11-13T18:00:00Z> **CEP vote** (added by {JAIME})",
        "- <time:2024-11-20T17:00:00Z>",
        f"- ~~<time:2024-12-04T17:00:00Z>~~ (skipped by {JAIME}: holidays)",
        "- <time:2024-12-18T17:00:00Z>",
        "- <time:2025-01-01T17:00:00Z>",
    ])  # fmt: skip
    (post,) = _tick(again, dt.datetime(2024, 11, 11, 18, 0, tzinfo=UTC))
    assert isinstance(post, Send) and post.topic == "2024-11-13 Conda Community Meeting"
    rows = Store(chat.config.state_path).calendar_changes()
    assert [(r.kind, r.day) for r in rows] == [
        ("extra", "2024-11-13"), ("skip", "2024-11-20"), ("skip", "2024-12-04"),
        ("unskip", "2024-11-20"),
    ]  # fmt: skip
