"""A meeting's stream renamed (while the bot runs, or while it is down) or closed to the bot,
on the network path: the sandbox renames it as Zulip does, the runner follows it by id, and
what Zulip refuses for a reason that may pass is held, told once and posted once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chat.test_runner import TOPIC, Meeting, local_runner, wait_for
from tests.chat.test_runner import meeting as meeting  # the fixture
from zulip_bot.chat import outbox
from zulip_bot.chat.streams import FOLLOWED
from zulip_bot.meeting.effects import Send
from zulip_bot.meeting.store import Store
from zulip_bot.sandbox.model import Message
from zulip_bot.sandbox.state import Outgoing

ORGANIZERS = ("JRG", "JL")  # the community meeting's organizers in the example config


def say(meeting: Meeting, who: str, stream: str, text: str) -> Message:
    realm = meeting.sandbox.realm
    where = Outgoing(stream=realm.stream_by_name(stream), topic=TOPIC)
    return realm.send(meeting.users[who], where, f"@**meetbot** {text}")


def rename(meeting: Meeting, old: str, new: str) -> None:
    """As an administrator does it: PATCH /streams/{id} on their own client."""
    admin = meeting.sandbox.client(meeting.users["ADMIN"].delivery_email)
    stream_id = admin.get_stream_id(old)["stream_id"]
    answer = admin.call_endpoint(f"streams/{stream_id}", method="PATCH", request={"new_name": new})
    assert answer["result"] == "success", answer


def bot_says(meeting: Meeting, stream: str) -> list[str]:
    bot = meeting.bot.user_id
    return [m.content for m in meeting.sandbox.realm.messages_in(stream) if m.sender_id == bot]


def dms_to(meeting: Meeting, who: str, words: str) -> list[str]:
    user = meeting.users[who].user_id
    return [m.content for m in meeting.bot_dms() if user in m.dm_user_ids and words in m.content]


def summaries_waiting(meeting: Meeting) -> int:
    count: int = meeting.db("SELECT COUNT(*) FROM outbox WHERE content LIKE '%## Summary%'")[0][0]
    return count


def answered(meeting: Meeting, stream: str, words: str) -> None:
    wait_for(f"{words!r} in #{stream}", lambda: any(words in t for t in bot_says(meeting, stream)))


def test_a_stream_renamed_mid_meeting_is_followed_and_the_config_edit_suggested_once(
    meeting: Meeting,
) -> None:
    meeting.start()
    say(meeting, "DG", "community", "add item before the rename")
    answered(meeting, "community", "Added item **1**")
    rename(meeting, "community", "Community calls")

    say(meeting, "JL", "Community calls", "start")
    say(meeting, "BZ", "Community calls", "add item after the rename")
    answered(meeting, "Community calls", "Added item **2**")
    say(meeting, "JL", "Community calls", "end")
    answered(meeting, "Community calls", "## Summary")
    say(meeting, "JL", "Community calls", "next")
    answered(meeting, "Community calls", "its summary is in")
    meeting.settle()

    said = "\n".join(bot_says(meeting, "Community calls"))
    assert "before the rename" in said and "after the rename" in said
    assert said.count("## Summary") == 1
    assert f"its summary is in #**Community calls>{TOPIC}**" in said  # the link follows too
    assert meeting.db("SELECT COUNT(*) FROM item") == [(2,)]  # both items in the one meeting
    for who in ORGANIZERS:
        (told,) = dms_to(meeting, who, "is now called")
        assert "#**Community calls**" in told
        assert 'change it to `stream = "Community calls"`' in told
        assert "[meetings.community]" in told


def test_a_stream_renamed_while_the_bot_was_down_is_found_by_its_id(meeting: Meeting) -> None:
    meeting.start()
    say(meeting, "DG", "community", "add item first")
    meeting.settle()
    meeting.stop()
    rename(meeting, "community", "calls")

    meeting.start()
    say(meeting, "BZ", "calls", "add item second")
    answered(meeting, "calls", "Added item **2**")
    meeting.settle()
    assert all(len(dms_to(meeting, who, "is now called #**calls**")) == 1 for who in ORGANIZERS)
    meeting.stop()

    meeting.start()  # a second restart tells nobody again
    say(meeting, "KK", "calls", "agenda")
    answered(meeting, "calls", "second")
    meeting.settle()
    assert all(len(dms_to(meeting, who, "is now called")) == 1 for who in ORGANIZERS)


def test_a_summary_refused_is_held_told_once_and_posted_once_when_the_bot_may_post(
    meeting: Meeting, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A private stream that neither the bot nor its owner is in any more refuses the bot's
    posts ("Not authorized to send", recording #089). The summary waits; only the
    re-subscription (its event) lets it out: the timed retry is put out of reach here."""
    monkeypatch.setattr(outbox, "RETRY_FIRST", 3600.0)
    admin = meeting.sandbox.client(meeting.users["ADMIN"].delivery_email)
    stream_id = admin.get_stream_id("community")["stream_id"]
    admin.call_endpoint(f"streams/{stream_id}", method="PATCH", request={"is_private": True})
    runner = meeting.start()
    say(meeting, "JL", "community", "start")
    say(meeting, "DG", "community", "add item kept for later")
    meeting.settle()

    runner.hold_file = tmp_path / "hold"  # the summary is stored, not yet posted, when...
    runner.hold_file.touch()
    say(meeting, "JL", "community", "end")
    wait_for("the summary to be stored", lambda: summaries_waiting(meeting) == 1)
    bot, owner = meeting.bot.user_id, meeting.users["JRG"].user_id
    gone = admin.remove_subscriptions(["community"], principals=[bot, owner])  # ...this happens
    assert gone["result"] == "success", gone
    runner.hold_file.unlink()

    wait_for(
        "the organizers to be told",
        lambda: all(dms_to(meeting, who, "cannot post") for who in ORGANIZERS),
    )
    say(meeting, "WV", "packaging", "add item other meetings go on")  # not held up
    answered(meeting, "packaging", "Added item **1**")
    assert summaries_waiting(meeting) == 1  # the summary waits, it is not dropped

    meeting.sandbox.subscribe(meeting.bot, "community")
    answered(meeting, "community", "## Summary")
    meeting.settle()
    summaries = [t for t in bot_says(meeting, "community") if "## Summary" in t]
    assert len(summaries) == 1 and "kept for later" in summaries[0]
    for who in ORGANIZERS:
        (said,) = dms_to(meeting, who, "cannot post")
        assert "#**community**" in said and "Not authorized to send" in said


def test_a_held_stream_is_retried_ever_less_often_and_holds_nothing_else_up(
    meeting: Meeting,
) -> None:
    """Retries of a stream that refuses wait 10 s, 20 s, 40 s... up to 5 minutes; meanwhile
    other posts go out and the loop is not asked to flush for it. A post that goes through
    ends the episode: a later refusal is told again."""
    runner = local_runner(meeting)
    box, api, clock = runner.outbox, runner.api, [1000.0]
    box.wall = lambda: clock[0]
    secret = meeting.sandbox.add_stream(
        "secret", invite_only=True, subscribers=[meeting.users["ADMIN"]]
    )

    def queue(stream: str | None, text: str) -> None:
        to = None if stream else meeting.users["DG"].delivery_email
        with runner.store.transaction():
            box.add("test", [Send(text, stream=stream, topic=TOPIC, to=to)], None, lambda e: None)

    def attempts_at(moment: float) -> int:
        clock[0] = 1000.0 + moment
        before = api.stats.by_endpoint.get("messages", 0)
        if box.due():
            box.flush(api, runner.queue_id)
        return api.stats.by_endpoint.get("messages", 0) - before

    queue("secret", "held one")
    queue("secret", "held two")
    assert attempts_at(0) == 1  # refused
    assert attempts_at(0.5) == len(box.organizers())  # the organizers told
    assert not box.due() and not box.pending()  # the loop may long-poll meanwhile
    queue("community", "not held up")
    assert attempts_at(1) == 1
    waits = [10, 20, 40, 80, 160, 300, 300]
    moment = 1.0
    for wait in waits:
        assert attempts_at(moment + wait - 2) == 0
        moment += wait
        assert attempts_at(moment) == 1  # the first held row only; the second waits with it
    assert all(len(dms_to(meeting, who, "cannot post in #**secret**")) == 1 for who in ORGANIZERS)

    meeting.sandbox.subscribe(meeting.bot, "secret")
    box.retry_held()
    assert attempts_at(moment + 1) == 1  # both, as one message to the topic
    (posted,) = bot_says(meeting, "secret")
    assert "held one" in posted and "held two" in posted
    assert len(runner.store.outbox()) == 0

    meeting.sandbox.realm.unsubscribe(meeting.bot, secret)
    queue("secret", "a new episode")
    assert attempts_at(moment + 2) == 1
    assert attempts_at(moment + 3) == len(box.organizers())
    assert all(len(dms_to(meeting, who, "cannot post in #**secret**")) == 2 for who in ORGANIZERS)
    runner.store.close()


@pytest.mark.parametrize("known_id", [None, 9999])
def test_a_post_to_a_missing_stream_waits_until_the_stream_is_created(
    meeting: Meeting, known_id: int | None
) -> None:
    """Zulip says STREAM_DOES_NOT_EXIST (recording #083): the post is held, and goes out
    once when someone creates the stream with the bot in it (its `subscription` event). With
    an id kept from an earlier run whose stream is gone, the post by that id is refused the
    same way, and the new stream of the configured name is followed instead."""
    meeting.sandbox.rename_stream("packaging", "old packaging", by=meeting.users["ADMIN"])
    if known_id is not None:
        earlier = Store(meeting.config.state_path)  # an earlier run's, whose stream is gone
        with earlier.transaction():
            earlier.set_runner_value(FOLLOWED, json.dumps({"packaging": [known_id, "packaging"]}))
        earlier.close()
    runner = local_runner(meeting)
    runner.streams.resolve(runner.api)
    assert runner.streams.stream_id("packaging") == known_id
    with runner.store.transaction():
        runner.outbox.add("test", [Send("the agenda", stream="packaging", topic=TOPIC)])
    runner.outbox.flush(runner.api, runner.queue_id)
    assert [r.content for r in runner.store.outbox() if r.stream] == ["the agenda"]

    admin = meeting.sandbox.client(meeting.users["ADMIN"].delivery_email)
    made = admin.add_subscriptions([{"name": "packaging"}], principals=[meeting.bot.user_id])
    assert made["result"] == "success", made

    def posted() -> bool:
        runner.step()  # the subscription event, then the flush
        return bool(bot_says(meeting, "packaging"))

    wait_for("the post", posted)
    runner.step()
    assert bot_says(meeting, "packaging") == ["the agenda"]
    assert bot_says(meeting, "old packaging") == []
    assert runner.streams.stream_id("packaging") == admin.get_stream_id("packaging")["stream_id"]
    assert len(dms_to(meeting, "WV", "cannot post in #**packaging**")) == 1
    runner.store.close()


def test_a_post_right_after_a_rename_lands_before_the_bot_hears_of_it(meeting: Meeting) -> None:
    """Posts name the stream by its id, so one made between the rename and its event is not
    refused (nor the organizers told the stream is gone)."""
    runner = local_runner(meeting)
    runner.streams.resolve(runner.api)
    rename(meeting, "community", "calls")  # its event waits in the queue, unread
    with runner.store.transaction():
        runner.outbox.add("test", [Send("the agenda", stream="community", topic=TOPIC)])
    assert runner.outbox.flush(runner.api, runner.queue_id)
    assert bot_says(meeting, "calls") == ["the agenda"] and runner.store.outbox() == []
    assert runner.outbox.holds == {}
    runner.store.close()
