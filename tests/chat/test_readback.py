"""A meeting stream the bot was taken out of and put back in, on the network path: an
administrator changes its subscription through the API, people talk meanwhile on their own
`zulip.Client`s, and the runner reads back what it missed, in order and once; or, where the
stream's history is protected, says what it could not read."""

from __future__ import annotations

import json

import pytest

from tests.chat.test_access import People
from tests.chat.test_runner import Meeting
from tests.chat.test_runner import meeting as meeting  # the fixture
from tests.chat.test_streams import answered, bot_says, rename, say
from zulip_bot.chat.readback import AWAY


class Admin(People):
    """Ada, an administrator, moves the bot in and out of #community."""

    def remove_bot(self) -> None:
        bot = [self.meeting.bot.user_id]
        answer = self.ok(self.client("ADMIN").remove_subscriptions(["community"], principals=bot))
        assert answer["removed"] == ["community"]

    def add_bot(self) -> None:
        bot = [self.meeting.bot.user_id]
        self.ok(self.client("ADMIN").add_subscriptions([{"name": "community"}], principals=bot))


def _away(meeting: Meeting) -> list[str]:
    """The streams the bot keeps as left."""
    saved = meeting.db("SELECT value FROM runner_state WHERE key=?", AWAY)
    return sorted(json.loads(saved[0][0])) if saved else []


def _said(meeting: Meeting) -> str:
    """All the bot said in the topic (replies waiting together go out as one message)."""
    return "\n\n".join(m.content for m in meeting.bot_messages())


def _reports(meeting: Meeting, text: str) -> list[frozenset[int]]:
    """To whom each direct message of the bot's that says `text` went."""
    bot = meeting.bot.user_id
    return [frozenset(m.dm_user_ids) - {bot} for m in meeting.bot_dms() if text in m.content]


def _said_in_the_gap(admin: Admin) -> None:
    admin.say("BZ", "add item said while it was away")
    admin.say("JL", "vote 1")
    admin.say("KK", "add item")  # mistyped: answered too


def _applied_once(meeting: Meeting) -> None:
    items = meeting.db("SELECT number, text FROM item ORDER BY number")
    assert items[:2] == [(1, "first"), (2, "said while it was away")]
    voters = {v for (v,) in meeting.db("SELECT voter FROM vote WHERE number=1")}
    assert "jezdez@example.org" in voters
    said = _said(meeting)
    assert said.count("Added item **2**") == 1 and said.count("Voted for item 1;") == 1
    assert said.count("`add item` needs some text") == 1
    assert said.count("I was not subscribed to this stream") == 1, said
    assert "read back the 3 messages sent in this topic" in said
    reports = _reports(meeting, "I have read back the 3 messages sent there")
    assert reports and len(reports) == len(set(reports))  # once to each organizer
    assert _away(meeting) == []


def test_what_was_said_while_unsubscribed_is_read_back_once_in_order(meeting: Meeting) -> None:
    admin = Admin(meeting)
    meeting.start()
    admin.say("DG", "add item first")
    meeting.settle()
    first = meeting.reply_to_add(1)
    admin.say("DG", 'poll "Which day?" "Monday" "Friday"')
    meeting.settle()
    (poll,) = [m for m in meeting.bot_messages() if m.content.startswith("/poll")]
    admin.remove_bot()
    _said_in_the_gap(admin)
    meeting.react("WV", first.id)  # on the bot's own messages: these reach it, and wait
    meeting.ballot("KK", poll.id, 1)
    admin.add_bot()
    admin.say("WV", "add item after it came back")
    meeting.settle()
    _applied_once(meeting)
    voters = {v for (v,) in meeting.db("SELECT voter FROM vote WHERE number=1")}
    assert voters == {"jezdez@example.org", "wolfv@example.org"}
    assert meeting.db("SELECT voter_id, key FROM ballot") == [
        (meeting.users["KK"].user_id, "canned,1")
    ]
    assert "this stream from 2024-11-06 17:05 UTC to 2024-11-06 17:05 UTC" in _said(meeting)
    everything = _said(meeting) + "".join(m.content for m in meeting.bot_dms())
    assert "is for the members of its stream" not in everything  # nobody was turned away
    left = _reports(meeting, "I was unsubscribed from #**community**")
    assert left and len(left) == len(set(left))

    admin.remove_bot()  # out and back with nothing said: nothing more to say
    admin.add_bot()
    admin.say("DG", "add item later")
    meeting.settle()
    _applied_once(meeting)
    texts = [t for (t,) in meeting.db("SELECT text FROM item ORDER BY number")]
    assert texts == ["first", "said while it was away", "after it came back", "later"]


@pytest.mark.parametrize("queue", ["resumed", "expired"])
def test_out_and_back_while_the_bot_is_down_is_read_back_at_start_up(
    meeting: Meeting, queue: str
) -> None:
    """With its queue resumed the bot hears the subscription events after the backfill; with
    it expired, nothing says it was away but the stream's own history."""
    admin = Admin(meeting)
    meeting.start()
    admin.say("DG", "add item first")
    meeting.settle()
    meeting.stop()
    admin.remove_bot()
    _said_in_the_gap(admin)
    admin.add_bot()
    admin.say("WV", "add item after it came back")  # received: the backfill's
    if queue == "expired":
        meeting.sandbox.expire_queues()
    meeting.start()
    meeting.settle()
    _applied_once(meeting)
    texts = [t for (t,) in meeting.db("SELECT text FROM item ORDER BY number")]
    assert texts == ["first", "said while it was away", "after it came back"]
    assert "this stream until 2024-11-06 17:05 UTC (the first message I missed" in _said(meeting)
    meeting.stop()
    meeting.start()  # a restart reads nothing twice
    meeting.settle()
    _applied_once(meeting)


def test_a_stream_with_protected_history_is_said_to_have_gone_unread(meeting: Meeting) -> None:
    admin = Admin(meeting)
    admin.private(True)  # private, protected history: Zulip's default
    meeting.start()
    admin.say("DG", "add item first")
    meeting.settle()
    admin.remove_bot()
    admin.say("BZ", "add item lost to the bot")
    admin.add_bot()
    admin.say("DG", "add item after it came back")
    meeting.settle()
    assert meeting.db("SELECT text FROM item") == [("first",), ("after it came back",)]
    said = _said(meeting)
    assert said.count("I was not subscribed to this stream") == 1, said
    assert "the stream's history is protected" in said and "please send it again" in said
    reports = _reports(meeting, "its history is protected")
    assert reports and len(reports) == len(set(reports))
    assert _away(meeting) == []


def test_a_stream_renamed_while_the_bot_was_out_of_it_is_read_back_under_its_new_name(
    meeting: Meeting,
) -> None:
    """The read-back and the stream's id go together: the meeting is the configured name's,
    whatever the stream is called when the bot comes back."""
    admin = Admin(meeting)
    meeting.start()
    admin.say("DG", "add item first")
    meeting.settle()
    admin.remove_bot()
    rename(meeting, "community", "Community calls")
    say(meeting, "BZ", "Community calls", "add item said while it was away")
    admin.ok(
        admin.client("ADMIN").add_subscriptions(
            [{"name": "Community calls"}], principals=[meeting.bot.user_id]
        )
    )
    answered(meeting, "Community calls", "Added item **2**")
    meeting.settle()
    items = meeting.db("SELECT number, text FROM item ORDER BY number")
    assert items == [(1, "first"), (2, "said while it was away")]
    said = "\n".join(bot_says(meeting, "Community calls"))
    assert said.count("Added item **2**") == 1
    assert said.count("I was not subscribed to this stream") == 1, said
    assert _away(meeting) == []
