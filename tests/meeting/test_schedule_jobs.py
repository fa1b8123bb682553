"""The cycle nobody has to type: `tick` opens the agenda thread, keeps its message current,
reminds, starts, ends and summarizes, and reminds owners; each job once, with a clock that is
an argument."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.meeting.conftest import TOPIC, Chat, chat_on, make_chat
from zulip_bot.meeting.effects import Edit, Effect, Send
from zulip_bot.meeting.store import AgendaPost
from zulip_bot.meeting.thread import REPLACES, repost_after

UTC = dt.UTC
START = dt.datetime(2024, 11, 6, 17, 0, tzinfo=UTC)
LEAD = START - dt.timedelta(days=2)  # the example config's agenda_lead
NEXT_DAY = dt.date(2024, 11, 20)


def _community(effects: list[Effect]) -> list[Effect]:
    """The community meeting's effects (the packaging sync has its own, elsewhere)."""
    return [e for e in effects if isinstance(e, Edit) or e.stream in ("community", None)]


def _tick(chat: Chat, when: dt.datetime) -> list[Effect]:
    """What the runner does: post, and report the ids of what it posted."""
    effects = chat.service.tick(when)
    for effect in effects:
        if isinstance(effect, Send) and effect.ref is not None:
            chat.sent[effect.ref] = next(chat._ids)
            chat.service.message_sent(effect.ref, chat.sent[effect.ref])
    return _community(effects)


def _opened(chat: Chat) -> Send:
    (post,) = _tick(chat, LEAD + dt.timedelta(minutes=1))
    assert isinstance(post, Send)
    return post


def test_the_agenda_thread_opens_at_lead_time_once(chat: Chat) -> None:
    assert _tick(chat, LEAD - dt.timedelta(minutes=1)) == []
    post = _opened(chat)
    assert (post.stream, post.topic, post.ref) == (
        "community",
        TOPIC,
        "agenda:community:2024-11-06",
    )
    assert post.content.startswith(
        "<time:2024-11-06T17:00:00Z> · [video call](https://zoom.us/j/9138593505)\n\n"
        "**Conda Community Meeting**: the agenda is empty so far.\n\n"
    )
    assert "`@**meetbot** add item <text>`" in post.content
    assert chat.notes_path().exists()  # the draft is made with it
    assert _tick(chat, LEAD + dt.timedelta(minutes=2)) == []
    assert _tick(chat, LEAD + dt.timedelta(hours=5)) == []


def test_two_days_ahead_a_stale_agenda_is_reposted_hourly(chat: Chat) -> None:
    _opened(chat)
    message = chat.sent["agenda:community:2024-11-06"]
    soon = LEAD + dt.timedelta(minutes=3)
    replies = chat.say("DG", "add item Zulip CEP", soon)
    edits = [e for e in replies if isinstance(e, Edit)]
    assert len(edits) == 1 and edits[0].message_id == message
    assert "| 1 | Zulip CEP | DG | 0 | (10) |" in edits[0].content
    assert [e for e in chat.say("DG", "agenda", soon) if isinstance(e, Edit)] == []  # unchanged

    late = LEAD + dt.timedelta(minutes=20)  # past the 600 s edit limit
    replies = chat.say("JK", "vote 1", late)
    assert [e for e in replies if isinstance(e, Edit)] == []
    assert _tick(chat, late) == []  # posted less than an hour ago: no flood
    chat.say("WV", "vote 1", late + dt.timedelta(minutes=5))
    (repost,) = _tick(chat, LEAD + dt.timedelta(minutes=62))
    assert isinstance(repost, Send)
    assert repost.content.startswith(REPLACES)
    assert "| 1 | Zulip CEP | DG | 2 | (10) |" in repost.content
    assert _tick(chat, LEAD + dt.timedelta(minutes=130)) == []  # nothing changed since


def test_a_thumbs_up_edits_the_agenda_message(chat: Chat) -> None:
    _opened(chat)
    soon = LEAD + dt.timedelta(minutes=3)
    chat.say("DG", "add item Zulip CEP", soon)
    reply = chat.sent["item:community:2024-11-06:1"]
    effects = chat.service.handle_reaction("r1", chat.senders["WV"], reply, "+1", True, soon)
    assert [
        e.content.count("| 1 | Zulip CEP | DG | 1 |") for e in effects if isinstance(e, Edit)
    ] == [1]


def test_reminder_start_and_end_come_on_time_without_commands(chat: Chat) -> None:
    _opened(chat)
    chat.say("DG", "add item Zulip CEP", LEAD + dt.timedelta(minutes=5))  # the post is edited
    (remind,) = _tick(chat, START - dt.timedelta(minutes=14))
    assert isinstance(remind, Send) and remind.topic == TOPIC
    assert remind.content.startswith("⏰ @**Jaime Rodríguez-Guerra**, @**Jannis Leidel**:")
    assert "<time:2024-11-06T17:00:00Z>" in remind.content
    started = [e for e in _tick(chat, START + dt.timedelta(minutes=1)) if isinstance(e, Send)]
    assert started[0].content.startswith("Conda Community Meeting has started.")
    assert (
        chat.text("JRG", "next", START + dt.timedelta(minutes=2)) == "Now on item 1: DG: Zulip CEP"
    )
    (warned,) = _tick(chat, START + dt.timedelta(minutes=70))  # the summary waits 15 minutes
    assert isinstance(warned, Send) and warned.content.startswith("⏱️ Item 1 (Zulip CEP)")
    summary = _tick(chat, START + dt.timedelta(minutes=76))
    assert isinstance(summary[0], Send)
    assert summary[0].content.startswith("## Summary: Conda Community Meeting 2024-11-06")
    assert chat.notes_path(NEXT_DAY).exists()
    assert _tick(chat, START + dt.timedelta(minutes=90)) == []


def test_what_organizers_did_by_hand_is_not_done_again(chat: Chat) -> None:
    _opened(chat)
    chat.say("DG", "add item Zulip CEP", LEAD + dt.timedelta(hours=1))
    chat.say("JRG", "start", START - dt.timedelta(minutes=5))
    _tick(chat, START - dt.timedelta(minutes=4))  # the reminder
    assert _tick(chat, START + dt.timedelta(minutes=1)) == []  # started already
    chat.say("JRG", "end", START + dt.timedelta(minutes=50))
    assert _tick(chat, START + dt.timedelta(minutes=80)) == []  # ended already


def test_owners_of_open_action_items_get_one_direct_message(chat: Chat) -> None:
    _opened(chat)
    chat.say("DG", "add item Zulip CEP", LEAD + dt.timedelta(hours=1))
    chat.say("JRG", "start", START)
    chat.say("JRG", "next", START)
    chat.say("JRG", "action WV check the mirrors", START)
    chat.say("JRG", "end", START + dt.timedelta(minutes=50))
    before_next = dt.datetime(2024, 11, 18, 17, 1, tzinfo=UTC)  # agenda_lead before the next
    effects = _tick(chat, before_next)
    dms = [e for e in effects if isinstance(e, Send) and e.to is not None]
    assert [(dm.to, dm.content.splitlines()[-1]) for dm in dms] == [
        (chat.senders["WV"].email, "- A1: check the mirrors (from 2024-11-06)")
    ]
    assert _tick(chat, before_next + dt.timedelta(hours=1)) == []


def test_a_broken_draft_is_reported_once_and_the_other_meetings_go_on(tmp_path: Path) -> None:
    chat = make_chat(tmp_path)
    chat.notes_path().parent.mkdir(parents=True, exist_ok=True)
    chat.notes_path().write_bytes(b"---\nbroken: [\n---\n# hand-made\n")
    when = LEAD + dt.timedelta(minutes=1)
    effects = chat.service.tick(when)
    reports = [e for e in effects if isinstance(e, Send) and e.stream == "community"]
    assert len(reports) == 1 and "could not do the scheduled agenda" in reports[0].content
    assert chat.notes_path().read_bytes() == b"---\nbroken: [\n---\n# hand-made\n"
    packaging = [e for e in effects if isinstance(e, Send) and e.stream == "packaging"]
    assert packaging  # its own jobs were done meanwhile
    assert [
        e
        for e in chat.service.tick(when + dt.timedelta(minutes=1))
        if isinstance(e, Send) and e.stream == "community"
    ] == []
    chat.notes_path().unlink()  # fixed: the next tick opens the agenda after all
    assert [
        e.ref
        for e in _community(chat.service.tick(when + dt.timedelta(minutes=2)))
        if isinstance(e, Send)
    ] == ["agenda:community:2024-11-06"]


TRIAGE = """
[meetings.triage]
title = "Issue Triage"
stream = "triage"
topic = "triage %Y-%m-%d"
notes_path = "notes/triage/%Y-%m-%d.md"
template = "notes-template.md"
organizers = ["jaimergp@example.org"]
schedule = "FREQ=WEEKLY;BYDAY=WE"
first = 2024-11-06
start = "17:00"
timezone = "UTC"
duration_minutes = 30
"""


def test_meetings_sharing_a_stream_and_one_elsewhere_never_mix(tmp_path: Path) -> None:
    make_chat(tmp_path, ('stream = "packaging"', 'stream = "community"'))
    config_file = tmp_path / "meetbot.example.toml"
    config_file.write_text(config_file.read_text(encoding="utf-8") + TRIAGE, encoding="utf-8")
    chat = chat_on(config_file)
    monday = dt.datetime(2024, 11, 4, 12, 0, tzinfo=UTC)  # both agendas are open
    packaging_topic = "2024-11-05 packaging sync"
    assert chat.text("DG", "add item Zulip CEP", monday).startswith("Added item **1** to New")
    assert chat.text("WV", "add item rattler-build 0.29", monday, packaging_topic).startswith(
        "Added item **1** to New"
    )
    assert chat.text("WV", "vote 1", monday, packaging_topic).startswith("Voted for item 1")
    assert "| 1 | Zulip CEP | DG | 0 | (10) |" in chat.text("DG", "agenda", monday)
    assert "| 1 | rattler-build 0.29 | WV | 1 |" in chat.text(
        "DG", "agenda", monday, packaging_topic
    )
    assert chat.text("DG", "agenda", monday, "general").startswith(
        "`agenda` belongs to a meeting, and #**community** has several"
    )
    assert "rattler" in chat.text("WV", "packaging agenda", monday, "general")

    effects = chat.service.tick(dt.datetime(2024, 11, 5, 14, 55, tzinfo=UTC))  # 15:55 Berlin
    reminders = [e for e in effects if isinstance(e, Send) and e.content.startswith("⏰")]
    assert [(r.stream, r.topic) for r in reminders] == [("community", packaging_topic)]
    assert "Packaging Sync" in reminders[0].content

    chat.service.tick(dt.datetime(2024, 11, 5, 15, 1, tzinfo=UTC))  # started on time
    effects = chat.service.tick(dt.datetime(2024, 11, 5, 15, 40, tzinfo=UTC))  # after 16:30
    summaries = [e for e in effects if isinstance(e, Send) and e.content.startswith("## Summary")]
    assert [(s.stream, s.topic) for s in summaries] == [("community", packaging_topic)]
    assert "Zulip CEP" not in summaries[0].content
    assert "rattler-build" in summaries[0].content
    triage = [e for e in chat.service.tick(dt.datetime(2024, 11, 6, 16, 50, tzinfo=UTC))
              if isinstance(e, Send) and e.stream == "triage"]  # fmt: skip
    assert [t.topic for t in triage] == ["triage 2024-11-06"]
    assert "Zulip CEP" not in triage[0].content


def test_notes_are_published_with_git_when_the_agenda_opens_and_the_meeting_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    remote = tmp_path / "notes.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", str(remote)], check=True)
    chat = make_chat(tmp_path, ('publish = "none"', 'publish = "git"\npublish_remote = "origin"'))
    _opened(chat)

    def log() -> list[str]:
        done = subprocess.run(["git", "-C", str(remote), "log", "--format=%s", "main"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        return done.stdout.splitlines()

    assert len(log()) == 1 and "agenda opened" in log()[0]
    chat.say("DG", "add item Zulip CEP", LEAD + dt.timedelta(minutes=5))
    chat.say("JRG", "start", START)
    _tick(chat, START + dt.timedelta(minutes=76))  # ended on schedule
    assert len(log()) == 2 and "meeting ended" in log()[0]
    shown = subprocess.run(
        ["git", "-C", str(remote), "show", "main:notes/20241106_agenda_and_minutes.md"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "- [ ] DG: Zulip CEP" in shown


def test_a_failed_push_tells_the_organizers_without_the_server_s_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Organizers are members, not the server's operator: the log keeps the full path."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    missing = tmp_path / "gone.git"
    origin = ["git", "-C", str(tmp_path), "remote", "add", "origin", str(missing)]
    subprocess.run(origin, check=True)
    chat = make_chat(tmp_path, ('publish = "none"', 'publish = "git"\npublish_remote = "origin"'))
    effects = chat.service.tick(LEAD + dt.timedelta(minutes=1))
    told = [e for e in effects if isinstance(e, Send) and e.to is not None]
    assert {e.to for e in told} == set(chat.service.config.meetings[0].organizers)
    for dm in told:
        assert dm.content.startswith("Publishing 20241106_agenda_and_minutes.md failed")
        assert "push by hand" in dm.content
        assert str(tmp_path) not in dm.content


def test_people_the_runner_resolved_are_mentioned_with_their_id(chat: Chat) -> None:
    """Zulip notifies `@**Name|id**`; the runner finds organizers' ids at start-up, before
    they have said anything to the bot."""
    chat.service.people.resolved("jezdez@example.org", 77)
    _opened(chat)
    (remind,) = _tick(chat, START - dt.timedelta(minutes=14))
    assert isinstance(remind, Send) and "@**Jannis Leidel|77**" in remind.content
    assert chat.service.people.mention("JL") == "@**Jannis Leidel|77**"


def test_an_edit_zulip_refused_is_made_good_by_a_repost_never_by_editing_again(
    chat: Chat,
) -> None:
    _opened(chat)
    message = chat.sent["agenda:community:2024-11-06"]
    replies = chat.say("DG", "add item Zulip CEP", LEAD + dt.timedelta(minutes=9))
    assert [e.message_id for e in replies if isinstance(e, Edit)] == [message]
    chat.service.edit_refused(message)  # it reached Zulip after the 10 minutes
    # by the bot's own clock the message is young enough, but Zulip said no: never again
    assert [
        e for e in chat.say("JK", "vote 1", LEAD + dt.timedelta(minutes=9)) if isinstance(e, Edit)
    ] == []
    assert _tick(chat, LEAD + dt.timedelta(minutes=30)) == []  # within the hour: no flood
    (repost,) = _tick(chat, LEAD + dt.timedelta(minutes=62))
    assert isinstance(repost, Send) and "| 1 | Zulip CEP | DG | 1 |" in repost.content


# --- the pace of re-posts ----------------------------------------------------------------------

MIN = dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("ahead", "wait"),
    [
        (dt.timedelta(days=2), 60 * MIN),  # at most hourly while the meeting is far
        (5 * 60 * MIN, 30 * MIN),
        (30 * MIN, 3 * MIN),  # a tenth of the time left
        (20 * MIN, 2 * MIN),
        (5 * MIN, 2 * MIN),  # never more than one post per two minutes
        (-5 * MIN, 2 * MIN),
    ],
)
def test_a_repost_waits_a_tenth_of_the_time_its_last_post_had_left(
    ahead: dt.timedelta, wait: dt.timedelta
) -> None:
    posted = START - ahead
    post = AgendaPost("community", "2024-11-06", 7, posted.isoformat(), "x", True)
    assert repost_after(post, START) == posted + wait


@given(st.integers(0, 4 * 24 * 60), st.integers(0, 4 * 24 * 60))
def test_reposts_come_no_less_often_as_the_meeting_nears(earlier: int, later: int) -> None:
    def wait(minutes_ahead: int) -> dt.timedelta:
        posted = START - minutes_ahead * MIN
        post = AgendaPost("community", "2024-11-06", 7, posted.isoformat(), "x", True)
        return repost_after(post, START) - posted

    far, near = max(earlier, later), min(earlier, later)
    assert 2 * MIN <= wait(near) <= wait(far) <= 60 * MIN


def _agenda_sends(effects: list[Effect]) -> list[Send]:
    return [e for e in effects if isinstance(e, Send) and e.ref == "agenda:community:2024-11-06"]


def _rows(content: str) -> list[str]:
    return [line for line in content.splitlines() if line.startswith("| ") and "---" not in line][
        1:
    ]


@pytest.fixture
def soon(tmp_path: Path) -> Chat:
    """The agenda thread opens 30 minutes before the meeting; Zulip's limit is 60 s."""
    chat = make_chat(tmp_path, ('agenda_lead = "2 days"', 'agenda_lead = "30 minutes"'))
    chat.service.edit_limit = MIN
    assert len(_agenda_sends(_tick(chat, START - 30 * MIN))) == 1
    return chat


def test_close_to_the_meeting_a_changed_agenda_is_reposted_at_a_quickening_pace(
    soon: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    chat = soon
    first = chat.sent["agenda:community:2024-11-06"]
    edits = chat.say("DG", "add item Zulip CEP", START - 29.5 * MIN)
    assert [e.message_id for e in edits if isinstance(e, Edit)] == [first]  # young: edited

    # past the limit, and 3 minutes (a tenth of 30) after the post: posted afresh at once
    (repost,) = _agenda_sends(chat.say("JK", "add item Sharded repodata", START - 27 * MIN))
    assert repost.content.startswith(REPLACES)
    assert _rows(repost.content) == [
        "| 1 | Zulip CEP | DG | 0 | (10) |",
        "| 2 | Sharded repodata | JK | 0 | (10) |",
    ]
    second = chat.sent["agenda:community:2024-11-06"]
    assert second != first

    edits = chat.say("WV", "vote 2", START - 26.5 * MIN)  # the new post is young: edited
    assert [e.message_id for e in edits if isinstance(e, Edit)] == [second]
    assert all(e.content.startswith(REPLACES) for e in edits if isinstance(e, Edit))

    # stale again; 27 minutes ahead the next post waits 2.7 minutes, until 24:18 before
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="zulip_bot.meeting.thread"):
        assert _agenda_sends(chat.say("BZ", "vote 1", START - 25 * MIN)) == []
        assert _agenda_sends(chat.say("ME", "vote 1", START - 24.5 * MIN)) == []
    due = START - 27 * MIN + dt.timedelta(minutes=2.7)
    assert chat.service.next_repost() == due
    assert [r.levelname for r in caplog.records] == ["WARNING"]  # once, saying when
    assert "posted afresh at 2024-11-06 16:35" in caplog.records[0].getMessage()
    assert _tick(chat, due - dt.timedelta(seconds=1)) == []
    (repost,) = _agenda_sends(_tick(chat, due))
    assert _rows(repost.content)[0] == "| 1 | Zulip CEP | DG | 2 | (10) |"
    assert chat.service.next_repost() is None
    assert _tick(chat, due + 5 * MIN) == []  # nothing changed since: nothing posted

    # five minutes ahead, two minutes between posts at most
    assert len(_agenda_sends(chat.say("JK", "vote 2", START - 5 * MIN))) == 1
    chat.say("DG", "vote 2", START - 4 * MIN)
    assert chat.service.next_repost() == START - 3 * MIN


def test_once_the_meeting_runs_the_start_lists_the_order_and_nothing_is_reposted(
    soon: Chat,
) -> None:
    chat = soon
    chat.say("DG", "add item fewer votes", START - 20 * MIN)
    chat.say("JK", "add item more votes", START - 20 * MIN)
    chat.say("WV", "vote 2", START - 10 * MIN)
    started = [e for e in _tick(chat, START) if isinstance(e, Send)]
    assert started[0].content.startswith(
        "Conda Community Meeting has started. The agenda is now ordered by votes. "
        "`next` opens the first item. In the order we take it:"
    )
    assert _rows(started[0].content) == [
        "| 2 | more votes | JK | 1 | (10) |",
        "| 1 | fewer votes | DG | 0 | (10) |",
    ]
    assert chat.service.next_repost() is None
    chat.say("BZ", "vote 1", START + 2 * MIN)
    assert chat.service.next_repost() is None
    assert _agenda_sends(_tick(chat, START + 30 * MIN)) == []


def test_a_raised_edit_limit_makes_a_stale_agenda_edited_not_reposted(soon: Chat) -> None:
    chat = soon
    message = chat.sent["agenda:community:2024-11-06"]
    chat.say("DG", "add item Zulip CEP", START - 29 * MIN)  # stale: due 27 minutes ahead
    assert chat.service.next_repost() == START - 27 * MIN
    chat.service.edit_limit = 10 * MIN  # an admin raised it; the runner heard of it
    effects = _tick(chat, START - 28 * MIN)
    assert [(e.message_id, _rows(e.content)) for e in effects if isinstance(e, Edit)] == [
        (message, ["| 1 | Zulip CEP | DG | 0 | (10) |"])
    ]
    assert _agenda_sends(effects) == [] and chat.service.next_repost() is None
