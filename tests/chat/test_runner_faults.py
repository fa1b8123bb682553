"""Must show 2: a 500-command meeting while the sandbox expires the bot's queue, answers with
429 storms and 500s and drops connections; every command is applied once, every reply posted
once, and the runner never stops."""

from __future__ import annotations

import errno
import os
import random
import stat
import threading
import time
from collections import Counter

import pytest

from tests.chat.test_runner import DURING, Meeting, wait_for
from tests.chat.test_runner import meeting as meeting  # the fixture
from zulip_bot.sandbox.model import Message
from zulip_bot.sandbox.ratelimit import RateLimit

VOTERS = ("JRG", "JL", "DG", "BZ", "WV", "KK", "RA", "FF", "ME", "KZ")
MORE = {
    "RA": ("Ruben Arts", "ruben-arts@example.org"),
    "FF": ("Filipe Fernandes", "ocefpaf@example.org"),
    "ME": ("Marco Esters", "marcoesters@example.org"),
    "KZ": ("Klaus Zimmermann", "zklaus@example.org"),
}


def lines(chat: Meeting) -> list[str]:
    """Every reply line the bot posted: a batched message holds several, one per person."""
    found: list[str] = []
    for message in chat.bot_messages():
        found += message.content.split("\n\n")  # no single reply here has a blank line
    return found


def answers_per_sender(chat: Meeting, messages: list[Message], text: str) -> Counter[int]:
    """How often each sender's `messages` were answered: a ✅ on one, or a reply line that
    names the sender (a batch answers everyone who spoke meanwhile, one line each)."""
    counted: Counter[int] = Counter()
    said = lines(chat)
    for sender_id in {m.sender_id for m in messages}:
        who = chat.sandbox.realm.users[sender_id]
        prefix = f"@_**{who.full_name}|{who.user_id}** {text}"
        counted[sender_id] = sum(x.startswith(prefix) for x in said) + sum(
            chat.acks(m).count("check") for m in messages if m.sender_id == sender_id
        )
    return counted


def test_500_commands_through_faults_are_each_applied_and_answered_once(meeting: Meeting) -> None:
    sandbox = meeting.sandbox
    for key, (name, email) in MORE.items():
        meeting.users[key] = sandbox.add_user(name, email)
        sandbox.subscribe(meeting.users[key], "community")
    # a generous limit keeps the test short; the scripted 429s are the storms (the default
    # limit is measured in benchmarks/bench_e2e.py)
    sandbox.api_limiter.rule = sandbox.events_limiter.rule = RateLimit(5000, 60.0)
    meeting.start()
    faults = sandbox.faults
    count = 0

    # 100 adds, while posts meet a 429 storm, 500s and dropped connections
    faults.next("/messages", "429", count=4, retry_after=0.1, method="POST")
    faults.next("/messages", "500", count=3, method="POST")
    faults.next("/messages", "drop", count=3, method="POST")
    faults.next("/events", "500", count=3)
    faults.next("/events", "drop", count=2)
    adds: dict[tuple[str, int], Message] = {}
    for k in range(10):
        for who in VOTERS:
            adds[who, k] = meeting.say(who, f"add item {who} topic {k}")
            count += 1
        time.sleep(0.05)
    wait_for("100 items", lambda: len(meeting.db("SELECT * FROM item WHERE message_id")) == 100, 90)
    numbers = {text: number for number, text in meeting.db("SELECT number, text FROM item")}
    number_of = {key: numbers[f"{key[0]} topic {key[1]}"] for key in adds}

    meeting.say("JRG", "start")
    meeting.say("JRG", "next")
    count += 2

    # 150 votes as commands and 110 as 👍, while the queue expires twice
    rng = random.Random(9)
    expected_votes: set[tuple[int, str]] = set()
    vote_messages: list[tuple[Message, int]] = []
    thumbs: list[tuple[str, int]] = []
    for who in VOTERS:
        chosen = rng.sample(range(1, 101), 26)
        email = meeting.config.roster.by_initials(who)
        assert email is not None
        for number in chosen[:15]:
            vote_messages.append((meeting.say(who, f"vote {number}"), number))
        thumbs += [(who, number) for number in chosen[15:]]
        expected_votes |= {(number, email.email) for number in chosen}
    faults.next("/events", "expire")
    faults.next("/messages", "429", count=3, retry_after=0.1)
    count += len(vote_messages)
    for index, (who, number) in enumerate(thumbs):
        meeting.react(who, meeting.reply_to_add(number).id)
        if index == 50:
            sandbox.expire_queues()
    count += len(thumbs)

    # 60 live notes and 10 `here`
    notes = [meeting.say(VOTERS[k % 10], f"note point {k}") for k in range(60)]
    heres = [meeting.say(who, "here") for who in VOTERS]
    count += len(notes) + len(heres)

    # 3 polls with 10 ballots each
    for round_ in range(3):
        meeting.say("JRG", f'poll "Q{round_}?" "yes" "no"')
        question = f"/poll Q{round_}?"
        wait_for(
            "the poll",
            lambda q=question: any(m.content.startswith(q) for m in meeting.bot_messages()),
        )  # type: ignore[misc]
        (poll,) = [m for m in meeting.bot_messages() if m.content.startswith(question)]
        for index, who in enumerate(VOTERS):
            meeting.ballot(who, poll.id, 0 if index < 6 else 1)
        if round_ == 1:
            faults.next("/events", "drop")
        meeting.say("JRG", "close poll")
        wait_for("the poll closed", lambda r=round_: f"Poll: Q{r}?" in "\n".join(lines(meeting)))  # type: ignore[misc]
        count += 2 + len(VOTERS)

    # 20 edited and 12 deleted `add` commands
    edited = list(adds.items())[:20]
    for (who, k), message in edited:
        meeting.edit(who, message.id, f"add item {who} topic {k} (edited)")
    deleted = list(adds.items())[40:52]
    for (who, _), message in deleted:
        meeting.delete(who, message.id)
    count += len(edited) + len(deleted)
    assert count == 500

    wait_for(
        "every deletion answered",
        lambda: sum("was deleted" in x for x in lines(meeting)) >= 12 and meeting.idle(),
        120,
    )
    meeting.settle()
    assert meeting.alive()
    assert faults.pending() == 0
    assert {f.kind for f in faults.fired} >= {"429", "500", "drop", "expire"}

    # every command applied once
    assert [n for (n,) in meeting.db("SELECT number FROM item ORDER BY number")] == list(
        range(1, 101)
    )
    assert set(meeting.db("SELECT number, voter FROM vote")) == expected_votes
    for (who, k), _ in edited:
        (text,) = meeting.db("SELECT text FROM item WHERE number=?", number_of[who, k])[0]
        assert text == f"{who} topic {k} (edited)"
    draft = meeting.config.meetings[0].notes_path_for(DURING.date()).read_text(encoding="utf-8")
    for k in range(60):
        assert draft.count(f"point {k}\n") == 1, k

    # every reply posted once
    said = lines(meeting)
    for number in range(1, 101):
        assert sum(x.startswith(f"Added item **{number}**") for x in said) == 1, number
    for message, number in vote_messages:  # each vote is one (person, item) pair
        assert answers_per_sender(meeting, [message], f"Voted for item {number};") == {
            message.sender_id: 1
        }, message.content
    for group in (notes, heres):
        expected = Counter(m.sender_id for m in group)
        text = "Noted under item" if group is notes else "Welcome,"
        assert answers_per_sender(meeting, group, text) == expected
    assert Counter(x.split(" ", 1)[0] for x in said if x.startswith("/poll")) == {"/poll": 3}
    for round_ in range(3):
        assert sum(f"Poll: Q{round_}? yes: 6" in x and "no: 4" in x for x in said) == 1
    for (who, k), _ in edited:
        assert sum(x.endswith(f"now reads: {who} topic {k} (edited)") for x in said) == 1
    for (who, k), _ in deleted:
        number = number_of[who, k]
        assert sum(f"added item {number} was deleted" in x for x in said) == 1


def test_a_full_disk_is_said_to_the_person_and_once_to_the_organizers(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up under a running bot: the runner is in-process, so `os.fsync` of the
    draft's new copy is made to fail as a full disk does (root writes through `chmod`)."""
    full = threading.Event()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if full.is_set() and stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    meeting.start()
    meeting.say("DG", "add item before")
    meeting.settle()
    draft = meeting.config.meetings[0].notes_path_for(DURING.date())
    before = draft.read_bytes()
    organizers = {meeting.users[k].user_id for k in ("JRG", "JL")}

    def told() -> list[Message]:
        return [m for m in meeting.bot_dms() if "disk is full" in m.content]

    full.set()
    meeting.say("DG", "add item lost?")
    meeting.say("BZ", "add item also lost")
    meeting.settle()
    refused = [x for x in lines(meeting) if "Not saved" in x]
    assert len(refused) == 2
    assert "the server's disk is full" in refused[0] and "send `add item lost?` again" in refused[0]
    assert all(str(draft.parent) not in x for x in refused)  # no path on the server
    assert draft.read_bytes() == before  # nothing half-written, no copy left beside it
    assert sorted(p.name for p in draft.parent.iterdir()) == [draft.name]
    assert {u for m in told() for u in m.dm_user_ids} - {meeting.bot.user_id} == organizers
    assert len(told()) == len(organizers)  # once each for the episode, not once per command

    full.clear()
    meeting.say("DG", "add item lost?")  # sent again once it is fixed: applied once
    meeting.settle()
    assert [t for (t,) in meeting.db("SELECT text FROM item ORDER BY number")] == [
        "before",
        "lost?",
    ]
    assert draft.read_text(encoding="utf-8").count("lost?") == 1
    full.set()  # a new episode after a save worked: told again
    meeting.say("BZ", "add item also lost")
    meeting.settle()
    assert len(told()) == 2 * len(organizers)
