"""What was said in a meeting stream while the bot was not subscribed to it, read back.

Zulip delivers a stream's messages only to its subscribers at the time they are sent, so the
bot's event queue and its home view (`GET /messages` without a narrow, which the backfill
reads) never hold what was typed while it was out of the stream. A `stream` narrow does, for
a public stream or a private one with shared history: there those messages come flagged
`historical` (the bot has no copy of its own). A private stream with protected history keeps
them from it for good; then the organizers and the meeting's topic are told what could not be
read, and what to do.

When the bot loses a meeting stream (its own `subscription` `remove`, or found out at start-up)
the last message it had handled is kept in the store, by stream id (the runner value `away`).
When the stream comes back (`subscription` `add`, or found at the next start-up, or after an
expired queue), its messages after that point are read with the narrow and handed, in order,
to the runner's handling. At start-up and after an expired queue, when no queue heard the bot
leave and come back, every subscribed meeting stream is read after the runner's cursor the
same way: a message there flagged `historical` is one the bot missed. That costs one
`GET /users/me/subscriptions` and one narrowed read per meeting stream (more pages only after
a long absence) each time; a 👍 or ballot given on the bot's messages in a stream it is out of
waits, since nobody can be said to read that stream meanwhile, and is read off the messages
on its return.

Not caught: a private stream the bot was out of and back in while it was down with its event
queue expired; with protected history nothing of the gap is visible to it, not even that
there was one.

The global cursor cannot tell a missed message from a handled one (a missed message's id is
often below it), so the runner hands these messages past it and the dedup is the service's
own: every message it handles is marked processed in the transaction of its effects, so one
read back twice (a crash in between, a gap seen both at start-up and by a stale event) is
answered once. Each missed message is counted in a notice once (`readback:<message_id>`,
marked with the notice), and a protected stream's notice goes with its `away` record.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from zulip_bot.chat.client import ApiError, ZulipApi
from zulip_bot.chat.outbox import Outbox
from zulip_bot.chat.roster import SYSTEM_REALM
from zulip_bot.meeting.effects import Effect, Send
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store

log = logging.getLogger("meetbot.readback")

READ_BATCH: Final = 1000
#: The runner value that keeps the meeting streams the bot is out of, by stream id.
AWAY: Final = "away"


@dataclass(frozen=True)
class Away:
    """A meeting stream the bot is not in: since when (None: found so at start-up), and the
    last message id it had handled then."""

    stream_id: int
    name: str
    after: int
    left: dt.datetime | None

    def dump(self) -> dict[str, Any]:
        left = None if self.left is None else self.left.isoformat()
        return {"name": self.name, "after": self.after, "left": left}

    @classmethod
    def load(cls, stream_id: int, raw: Mapping[str, Any]) -> Away:
        left = None if raw["left"] is None else dt.datetime.fromisoformat(raw["left"])
        return cls(stream_id, str(raw["name"]), int(raw["after"]), left)


def _utc(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def span(left: dt.datetime | None, back: dt.datetime, first_missed: dt.datetime | None) -> str:
    """From when to when the bot was away, as well as it knows."""
    if left is not None:
        return f"from {_utc(left)} to {_utc(back)}"
    if first_missed is not None:
        return f"until {_utc(back)} (the first message I missed was sent at {_utc(first_missed)})"
    return f"until {_utc(back)}"


def protected(subscription: Mapping[str, Any]) -> bool:
    """Zulip shows a newcomer a private stream's earlier messages only with shared history."""
    return bool(subscription.get("invite_only")) and not subscription.get(
        "history_public_to_subscribers", False
    )


def missed(messages: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The messages the bot never received (Zulip flags those `historical`) that people sent:
    Notification Bot's notes (a rename, a topic moved) ask nothing of the bot, and a notice in
    their topic would be noise."""
    return [
        m
        for m in messages
        if "historical" in m.get("flags", []) and m.get("sender_realm_str") != SYSTEM_REALM
    ]


class ReadBack:
    def __init__(
        self,
        api: ZulipApi,
        store: Store,
        service: Callable[[], MeetingService],
        outbox: Outbox,
        handle: Callable[[Mapping[str, Any]], None],
        derive: Callable[[], None],
        now: Callable[[], dt.datetime],
        cursor: Callable[[], int],
        configured: Callable[[int, str], str],
    ) -> None:
        """`service` is the runner's current one (a reloaded config makes a new one);
        `handle` is the runner's handling of a message read back (past its cursor), with
        the reactions and ballots it carries; `derive` reads the 👍 and ballots on the bot's
        live item and poll messages; `cursor` is the last message id the runner handled;
        `configured(stream_id, name)` the name the config gives a stream (`chat/streams.py`:
        a renamed stream is still its meetings'), which is what is kept and posted to."""
        self.api, self.store, self.service, self.outbox = api, store, service, outbox
        self.handle, self.derive, self.now, self.cursor = handle, derive, now, cursor
        self.configured = configured

    def _meeting_stream(self, name: str) -> bool:
        return bool(self.service().config.meetings_in_stream(name))

    # --- what starts it -------------------------------------------------------------------

    def apply(self, event: Mapping[str, Any]) -> None:
        """The bot's own `subscription` `remove` and `add`; the peer ones concern others."""
        op = event.get("op")
        for sub in event.get("subscriptions", []) if op in ("add", "remove") else []:
            if op == "remove":
                stream_id = int(sub["stream_id"])
                self.left(stream_id, self.configured(stream_id, str(sub["name"])), self.now())
            else:
                self.returned(sub, None)

    def catch_up(self) -> None:
        """When no queue was listening (start-up, an expired queue): each meeting stream is
        compared with the store, by stream id. A subscribed one is read after the cursor for
        what the bot missed; one it is not in is remembered as left."""
        cursor = self.cursor()
        body = self.api.call("GET", "users/me/subscriptions")
        subscribed = body.get("subscriptions", [])
        mine = {
            self.configured(int(s["stream_id"]), str(s["name"])).casefold(): s for s in subscribed
        }
        names = {m.stream.casefold(): m.stream for m in self.service().config.meetings}
        for folded, name in sorted(names.items()):
            if folded in mine:
                self.returned(mine[folded], cursor)
                continue
            try:
                found = self.api.call("GET", "get_stream_id", {"stream": name})
            except ApiError:  # no such stream for the bot: the subscription check says so
                continue
            self.left(int(found["stream_id"]), name, None)

    # --- leaving and coming back ----------------------------------------------------------

    def _all(self) -> dict[int, Away]:
        saved = json.loads(self.store.runner_value(AWAY) or "{}")
        return {int(k): Away.load(int(k), v) for k, v in saved.items()}

    def _save(self, away: dict[int, Away]) -> None:
        self.store.set_runner_value(AWAY, json.dumps({k: a.dump() for k, a in away.items()}))

    def _away(self, stream_id: int) -> Away | None:
        return self._all().get(stream_id)

    def _back(self, stream_id: int) -> bool:
        """Forgets that the bot was out of the stream (in the caller's transaction); False
        when it was not (any more)."""
        away = self._all()
        if away.pop(stream_id, None) is None:
            return False
        self._save(away)
        return True

    def holds(self, message_id: int) -> bool:
        """A 👍 or a ballot on the bot's item or poll message in a stream it is out of waits
        for its return (then `derive` reads it from the message): meanwhile `chat/access.py`
        cannot say who reads that stream, and would refuse it."""
        away = {a.name.casefold() for a in self._all().values()}
        if not away:
            return False
        item, poll = self.store.item_by_message(message_id), self.store.poll_by_message(message_id)
        key = item[0] if item else poll.meeting if poll else None
        meeting = self.service().config.meeting(key) if key else None
        return meeting is not None and meeting.stream.casefold() in away

    def left(self, stream_id: int, name: str, when: dt.datetime | None) -> None:
        """Remembered once, from the first sign; the organizers hear of a removal while the
        bot runs (at start-up the subscription check tells them)."""
        if not self._meeting_stream(name) or self._away(stream_id) is not None:
            return
        away = Away(stream_id, name, self.cursor(), when)
        with self.store.transaction():
            self._save({**self._all(), stream_id: away})
            if when is not None:
                self.outbox.report(
                    f"I was unsubscribed from #**{name}**, so I see nothing said there. "
                    "Subscribe me again (stream settings > Subscribers): I will then read back "
                    "what was said meanwhile, where Zulip lets me."
                )
        log.info("left #%s (stream %s) after message %s", name, stream_id, away.after)

    def returned(self, subscription: Mapping[str, Any], cursor: int | None) -> None:
        """`cursor` is given when no queue heard the bot leave: the gap, if any, lies after it."""
        stream_id = int(subscription["stream_id"])
        name = self.configured(stream_id, str(subscription["name"]))
        if not self._meeting_stream(name):
            return
        away = self._away(stream_id)
        bounds = [b for b in (cursor, away.after if away else None) if b is not None]
        if not bounds:
            return  # subscribed for the first time: there is nothing of the bot's to catch up
        if protected(subscription):
            if away is not None:
                self._unreadable(away)
        else:
            messages = self._read(stream_id, min(bounds))
            gap = missed(messages)
            if not gap and away is None:
                return  # never away: the backfill reads the rest
            for message in messages:  # in order; the ones received come again, answered once
                self.handle(message)
            self._read_back(stream_id, name, away, gap)
        if away is not None:
            self.derive()  # the 👍 and ballots held meanwhile

    def _read(self, stream_id: int, after: int) -> list[Mapping[str, Any]]:
        narrow = [{"operator": "stream", "operand": stream_id}]
        found: list[Mapping[str, Any]] = []
        anchor = after
        while True:
            body = self.api.messages(anchor, num_after=READ_BATCH, narrow=narrow)
            batch = [m for m in body.get("messages", []) if int(m["id"]) > anchor]
            found += batch
            if not batch or body.get("found_newest", True):
                return found
            anchor = max(int(m["id"]) for m in batch)

    # --- what is said -----------------------------------------------------------------------

    def _read_back(
        self, stream_id: int, name: str, away: Away | None, gap: list[Mapping[str, Any]]
    ) -> None:
        with self.store.transaction():  # the notice, its marks and the record: all or none
            self._back(stream_id)
            new = [m for m in gap if not self.store.seen(f"readback:{m['id']}")]
            if not new:
                return
            back = self.now()
            first = dt.datetime.fromtimestamp(int(new[0]["timestamp"]), dt.UTC)
            when = span(away.left if away else None, back, first)
            topics: dict[str, int] = {}
            for message in new:
                topics[str(message["subject"])] = topics.get(str(message["subject"]), 0) + 1
            effects: list[Effect] = [
                Send(
                    f"I was not subscribed to this stream {when}, so I did not see what was "
                    f"said here meanwhile. I have now read back the {_count(n)} sent in this "
                    "topic in that time and handled them in order.",
                    stream=name,
                    topic=topic,
                )
                for topic, n in topics.items()
            ]
            self.outbox.add(f"readback:{stream_id}:{new[0]['id']}", effects)
            self.outbox.report(
                f"I was not subscribed to #**{name}** {when}. I have read back the "
                f"{_count(len(new))} sent there meanwhile ({len(topics)} topic(s)) and "
                "handled them in order."
            )
        log.info("read back %s missed message(s) in #%s", len(new), name)

    def _unreadable(self, away: Away) -> None:
        back = self.now()
        when = span(away.left, back, None)
        with self.store.transaction():
            if not self._back(away.stream_id):
                return
            effects: list[Effect] = [
                Send(
                    f"I was not subscribed to this stream {when}, and Zulip does not let me "
                    "read what was sent here meanwhile: the stream's history is protected. "
                    "Anything you asked me in that time (`add`, `vote`, notes, `end`, ...) was "
                    "not done: please send it again.",
                    stream=away.name,
                    topic=topic,
                )
                for topic in self._meeting_topics(away.name, back)
            ]
            self.outbox.add(f"readback:{away.stream_id}:protected:{away.after}", effects)
            self.outbox.report(
                f"I was not subscribed to #**{away.name}** {when}, and its history is "
                "protected, so Zulip does not let me read what was said there meanwhile: "
                "commands sent then were not done. I have asked in the meeting's topic for "
                "them to be sent again; an administrator can instead give the stream shared "
                "history (stream settings), so that I can read back such gaps myself."
            )
        log.warning("could not read back #%s: its history is protected", away.name)

    def _meeting_topics(self, stream: str, now: dt.datetime) -> list[str]:
        """The topic of each meeting in the stream that chat is about now."""
        topics = []
        for meeting in self.service().config.meetings_in_stream(stream):
            when = self.service().occurrence(meeting, now)
            if when is not None:
                topics.append(meeting.topic_for(when.date()))
        return sorted(set(topics))


def _count(n: int) -> str:
    return f"{n} message" if n == 1 else f"{n} messages"
