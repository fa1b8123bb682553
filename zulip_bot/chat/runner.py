"""`meetbot run`: the long-running bot on its own event queue.

`zulip-run-bot` registers for messages only, drops a queue's lost events and exits on its own
rate limiter; this loop registers for messages, reactions, poll ballots, edits and deletions,
hands each to the Zulip-free `MeetingService` with a full `Sender`, and keeps what it must
remember in the service's SQLite store: the last message it processed (so that after an
expired queue or a restart it reads what it missed with `GET /messages`, in order, before new
events), the 👍 reactions it applied, and the outbox (`chat/outbox.py`).

It is single-threaded on purpose: an event's state change, its replies and the id Zulip gives
a reply are all recorded before the next event is read, so a 👍 on a reply always finds the
item it votes for; only this thread touches the store and the service. Under load at most one
flush per `linger` seconds is made, and whatever arrived meanwhile is answered in the same
flush (one message per topic).

The schedule does not wait for Zulip. On a quiet stream Zulip holds `GET /events` until its
heartbeat, 45-55 s later (recordings README #43: a loop that ticked only between long-polls
posted the agenda, reminder, start and end up to a minute late). A timer thread beside the loop
would have to hand its work to this thread anyway, or break the single-writer rule; so instead
the loop never waits longer than until the next job falls due (`schedule.next_due`, or a stale
agenda's re-post, `service.next_repost`, if sooner): a long-poll
is given up at that moment (nothing is lost: events are acknowledged only by the next poll, and
Zulip ends a poll that a newer one replaces), the tick runs, and polling goes on. What is due at
start-up is done before the first long-poll. On a quiet stream that costs one long-poll per
heartbeat plus one per job, not a poll every few seconds; the tick every `tick_every` seconds
(at most once a round) still catches the rest (jobs that failed, an agenda edit held back).

The realm's message edit limit, which decides whether the agenda message can still be edited,
is read at registration, followed through `realm` events while the bot runs and kept in the
store, so a resumed queue starts with the limit it last heard.

Test-only hook: with `MEETBOT_TEST_HOLD_FILE=<path>` set, nothing is posted while that file
exists, so a test can kill the process between an event's commit and its reply.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import re
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Final

from zulip_bot import schedule
from zulip_bot.chat import access, reload
from zulip_bot.chat.client import (
    LONGPOLL_WAIT,
    ApiError,
    StartupError,
    Unavailable,
    ZulipApi,
    ZulipFailure,
    connect,
)
from zulip_bot.chat.outbox import Outbox
from zulip_bot.chat.process import settle_heap, sole_writer
from zulip_bot.chat.readback import ReadBack
from zulip_bot.chat.roster import (
    Directory,
    Match,
    ZulipUser,
    github_field,
    match,
    wanted_people,
    zulip_user,
)
from zulip_bot.chat.streams import StreamFollower
from zulip_bot.config import BotConfig
from zulip_bot.meeting import commands as c
from zulip_bot.meeting.effects import Effect, Incoming, Send, Sender
from zulip_bot.meeting.service import THUMBS_UP, MeetingService
from zulip_bot.meeting.store import Busy, Store

log = logging.getLogger("meetbot.runner")

EVENT_TYPES: Final = [
    "message",
    "reaction",
    "submessage",
    "update_message",
    "delete_message",
    "realm",
]
CURSOR: Final = "cursor"  # the last message id processed
QUEUE: Final = "queue"  # {"queue_id": ..., "last_event_id": ...}, to resume after a restart
EDIT_LIMIT: Final = "edit_limit"  # the realm's message edit limit last heard, JSON (null: none)
#: Zulip's name for it, in /register's state and in realm events.
EDIT_LIMIT_SETTING: Final = "message_content_edit_limit_seconds"
#: A job due sooner than this is waited for with a sleep and a look at the queue, not a
#: long-poll that would have to be given up before it has even connected.
MIN_POLL: Final = 1.0
BACKFILL_BATCH: Final = 1000
HOLD_ENV: Final = "MEETBOT_TEST_HOLD_FILE"
_MENTION: Final = re.compile(r"\s*@\*\*(?P<name>[^*|]*)(?:\|(?P<id>\d+))?\*\*")


class _Stop(BaseException):
    """Raised by the signal handler only while the loop waits, so no event is cut short."""


def strip_mention(content: str, names: set[str], user_id: int) -> tuple[str, bool]:
    """The text after a leading mention of the bot, and whether there was one."""
    found = _MENTION.match(content)
    if found is None:
        return content.strip(), False
    if found["name"].strip().casefold() in names or found["id"] == str(user_id):
        return content[found.end() :].strip(), True
    return content.strip(), False


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Health:
    """`--health FILE`: when the last event was handled, rewritten atomically. The count of
    events is of this process only (`events_handled_since_start`): a restart starts it at 0,
    which says how long the new process has been busy, not how much the bot ever did."""

    path: Path | None
    started: float = field(default_factory=time.time)
    events: int = 0
    last_event: float | None = None

    def write(self, pending: int, wall: float) -> None:
        if self.path is None:
            return
        state = {
            "started": self.started,
            "events_handled_since_start": self.events,
            "last_event_handled": self.last_event,
            "last_loop": wall,
            "outbox_pending": pending,
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(state) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)


class Runner:
    def __init__(
        self,
        config: BotConfig,
        api: ZulipApi,
        me: Mapping[str, Any],
        store: Store,
        *,
        linger: float = 2.0,
        tick_every: float = 30.0,
        health: Path | None = None,
        now: Callable[[], dt.datetime] = _utc_now,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        seconds_until: Callable[[dt.datetime], float | None] | None = None,
    ) -> None:
        """`seconds_until(moment)` is how many real seconds remain until a moment of `now`'s
        time (None: it never comes by waiting); by default `now` runs at real speed."""
        self.config, self.api, self.store = config, api, store
        self.directory = Directory({}, [])
        self.readers = access.StreamReaders(
            api, self._role_of, stream_id_of=lambda name: self.streams.stream_id(name)
        )
        self.service = MeetingService(config, store, self.readers)
        self.bot_id = int(me["user_id"])
        self.names = {config.bot_name.casefold(), str(me.get("full_name", "")).casefold()}
        self.linger, self.now, self.clock, self.sleep = linger, now, clock, sleep
        self.tick_every = tick_every
        self.seconds_until = seconds_until or self._real_seconds_until
        self._last_tick = float("-inf")
        #: When the next scheduled job falls due, as of the last tick.
        self.next_job: dt.datetime | None = None
        #: `clock()` when a tick last finished (its effects are in the outbox), for demos.
        self.ticked_at = float("-inf")
        self.health = Health(health)
        self.outbox = Outbox(store, self.service, self.bot_id, self._organizer_ids)
        self.readback = ReadBack(
            api, store, lambda: self.service, self.outbox, self._read_back,
            self._backfill_live_messages, self.now,
            self._cursor,
            lambda stream_id, name: self.streams.configured(stream_id, name),
        )  # fmt: skip
        self.reloader = reload.Reloader(self.outbox.report)
        self.streams = self._follow(config)
        self.queue_id: str | None = None
        self.last_event_id = -1
        self.stopping = False
        self.reload_wanted = False  # SIGHUP: `reload` before the next wait
        self.ready = False  # start-up done: people loaded, outbox sent, queue, backfill
        self._waiting = False
        self._last_flush = float("-inf")
        hold = os.environ.get(HOLD_ENV)
        self.hold_file = Path(hold) if hold else None

    # --- start-up -----------------------------------------------------------------------------

    def load_people(self) -> list[Match]:
        """The organisation's users, and the configured people matched to them."""
        fields = self.api.call("GET", "realm/profile_fields").get("custom_fields", [])
        github = github_field(fields)
        body = self.api.call("GET", "users", {"include_custom_profile_fields": True})
        users = {u.user_id: u for u in (zulip_user(m, github) for m in body.get("members", []))}
        matches = [match(w, users) for w in wanted_people(self.config)]
        self.directory = Directory(users, matches)
        with self.store.transaction():
            for found in matches:
                log.info("people: %s", found.describe())
                if found.user_id is not None and found.wanted.email:
                    self.service.people.resolved(found.wanted.email, found.user_id)
        return matches

    def _role_of(self, user_id: int) -> int | None:
        user = self.directory.users.get(user_id)
        return user.role if user else None

    def _organizer_ids(self) -> list[int]:
        emails = {e for m in self.config.meetings for e in m.organizers}
        ids = {self.directory.user_id_for(e) for e in emails}
        return sorted(i for i in ids if i is not None)

    def check_subscriptions(self) -> None:
        """A meeting stream the bot is not in sends it nothing: said once, not every loop."""
        body = self.api.call("GET", "users/me/subscriptions")
        mine = {str(s.get("name", "")).casefold() for s in body.get("subscriptions", [])}
        for meeting in self.config.meetings:
            if self.streams.current(meeting.stream).casefold() in mine:
                continue
            key = f"reported:unsubscribed:{meeting.stream.casefold()}"
            log.error("the bot is not subscribed to #%s: it sees nothing there", meeting.stream)
            if self.store.runner_value(key) is not None:
                continue
            with self.store.transaction():  # the mark and the report, both or neither
                self.store.set_runner_value(key, str(time.time()))
                self.outbox.report(
                    f"I am not subscribed to #**{meeting.stream}**, so I cannot see "
                    f"{meeting.title}'s messages there. Subscribe me to it (stream settings > "
                    "Subscribers)."
                )

    def start(self) -> None:
        self.load_people()
        self.streams.resolve(self.api)
        self.check_subscriptions()
        # What a crash left unconfirmed may have been posted: look before posting it again.
        self.outbox.uncertain = {r.id for r in self.store.outbox() if r.id is not None}
        self._flush()
        self._resume_or_register()
        if self._tick_due():  # what is due at start-up does not wait for the first long-poll
            self._tick()
            self._flush()
        self.ready = True

    def _resume_or_register(self) -> None:
        saved = self.store.runner_value(QUEUE)
        if saved is not None and self.queue_id is None:
            state = json.loads(saved)
            self.queue_id, self.last_event_id = state["queue_id"], int(state["last_event_id"])
            try:
                self.api.events(self.queue_id or "", self.last_event_id, dont_block=True)
            except ApiError as error:
                log.info("the saved event queue is gone (%s): registering anew", error.code)
                self.queue_id = None
            else:
                log.info("resumed event queue %s after event %s", self.queue_id, self.last_event_id)
                known = self.store.runner_value(EDIT_LIMIT)
                if known is not None:
                    self._follow_edit_limit(json.loads(known), "as last heard")
        if self.queue_id is None:
            self._register()
        self.backfill()

    def _register(self) -> None:
        body = self.api.register([*EVENT_TYPES, *access.EVENTS], fetch_event_types=EVENT_TYPES)
        if f"realm_{EDIT_LIMIT_SETTING}" in body:  # null: no limit (#128)
            self._follow_edit_limit(body[f"realm_{EDIT_LIMIT_SETTING}"], "at registration")
        self.queue_id, self.last_event_id = str(body["queue_id"]), int(body["last_event_id"])
        newest = max(0, int(body.get("max_message_id", 0)))  # -1 in an empty realm
        self.outbox.set_watermark(newest)
        with self.store.transaction():
            if self.store.runner_value(CURSOR) is None:  # a first start answers nothing old
                self.store.set_runner_value(CURSOR, str(newest))
            self._save_queue()
        log.info("registered event queue %s", self.queue_id)

    def _follow_edit_limit(self, seconds: int | None, how: str) -> None:
        """The service decides whether the agenda message can still be edited by this."""
        limit = None if seconds is None else dt.timedelta(seconds=int(seconds))
        if limit != self.service.edit_limit:
            said = "none" if seconds is None else f"{seconds} s"
            log.info("the realm's message edit limit: %s (%s)", said, how)
        self.service.edit_limit = limit
        with self.store.transaction():
            self.store.set_runner_value(EDIT_LIMIT, json.dumps(seconds))

    def _realm_event(self, event: Mapping[str, Any]) -> None:
        """Zulip announces a new edit limit as `update_dict` with the value in `data`; the
        plain `update` form is read too, for servers that send it so."""
        if event.get("op") == "update_dict" and EDIT_LIMIT_SETTING in event.get("data", {}):
            self._follow_edit_limit(event["data"][EDIT_LIMIT_SETTING], "changed")
        elif event.get("op") == "update" and event.get("property") == EDIT_LIMIT_SETTING:
            self._follow_edit_limit(event["value"], "changed")

    def _cursor(self) -> int:
        """The last message id handled in order (a read-back does not move it)."""
        return int(self.store.runner_value(CURSOR) or 0)

    def _save_queue(self) -> None:
        state = {"queue_id": self.queue_id, "last_event_id": self.last_event_id}
        self.store.set_runner_value(QUEUE, json.dumps(state))

    # --- backfill -----------------------------------------------------------------------------

    def backfill(self) -> None:
        """What happened while no queue was listening: votes and ballots on the bot's live
        item and poll messages first (they were posted before), then every message after the
        cursor in order, each with the reactions and ballots it carries."""
        self._backfill_live_messages()
        self.readback.catch_up()  # what a meeting stream said while the bot was out of it
        cursor = self._cursor()
        count = 0
        while True:
            body = self.api.messages(cursor, num_after=BACKFILL_BATCH)
            messages = [m for m in body.get("messages", []) if int(m["id"]) > cursor]
            for message in messages:
                self._guarded(
                    "backfill message", message, self._message, message, message.get("flags", [])
                )
                self._derive(message)
                cursor = max(cursor, int(message["id"]))
                count += 1
            if not messages or body.get("found_newest", True):
                break
        if count:
            log.info("backfill: %s message(s) after the cursor", count)

    def _backfill_live_messages(self) -> None:
        wanted = set(self.store.live_message_ids())
        if not wanted:
            return
        narrow = [{"operator": "sender", "operand": self.bot_id}]
        anchor: int = min(wanted)
        include = True
        while wanted:
            body = self.api.messages(
                anchor, num_after=BACKFILL_BATCH, narrow=narrow, include_anchor=include
            )
            messages = body.get("messages", [])
            for message in messages:
                if int(message["id"]) in wanted:
                    wanted.discard(int(message["id"]))
                    self._derive(message)
            if not messages or body.get("found_newest", True):
                break
            anchor, include = max(int(m["id"]) for m in messages), False

    def _derive(self, message: Mapping[str, Any]) -> None:
        """The reaction and submessage events a message's current state implies, applied
        idempotently: 👍 against those already applied, ballots by their submessage id."""
        message_id = int(message["id"])
        if self.store.item_by_message(message_id) is not None:
            now = {
                (int(r.get("user_id") or r["user"]["id"]), str(r["emoji_name"]))
                for r in message.get("reactions", [])
                if r.get("emoji_name") in THUMBS_UP
            }
            applied = self.store.reactions_applied(message_id)
            tag = f"backfill:{self.queue_id}"
            for user_id, emoji in sorted(now - applied):
                self._reaction(
                    f"{tag}:{message_id}:{user_id}:{emoji}:add", message_id, user_id, emoji, True
                )
            for user_id, emoji in sorted(applied - now):
                self._reaction(
                    f"{tag}:{message_id}:{user_id}:{emoji}:remove",
                    message_id,
                    user_id,
                    emoji,
                    False,
                )
        for sub in sorted(message.get("submessages", []), key=lambda s: int(s["id"])):
            self._submessage(message_id, int(sub["id"]), int(sub["sender_id"]), str(sub["content"]))

    # --- events -------------------------------------------------------------------------------

    def _guarded(self, what: str, raw: object, handler: Callable[..., None], *args: Any) -> None:
        """A malformed event is logged and skipped; the loop goes on. So is one the service
        fails on, rather than stopping the bot on it at every restart. Zulip and SQLite
        trouble passes, so it goes up to the loop, which reads the event again later."""
        started = self.clock()
        try:
            handler(*args)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            log.warning(
                "skipped a malformed %s (%s: %s): %.300r", what, type(error).__name__, error, raw
            )
            return
        except (ZulipFailure, Busy, sqlite3.OperationalError):
            raise
        except Exception:
            log.exception("skipped a %s that could not be handled: %.300r", what, raw)
            return
        self.health.events += 1
        self.health.last_event = time.time()
        described = self._describe(raw)
        log.info(
            "%s %s handled in %.1f ms",
            what,
            " ".join(f"{k}={v}" for k, v in described.items()),
            (self.clock() - started) * 1000,
            extra={"event": described},
        )

    @staticmethod
    def _describe(raw: object) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            return {}
        keys = ("type", "id", "op", "message_id", "sender_id", "user_id", "submessage_id")
        inner = raw.get("message") if isinstance(raw.get("message"), Mapping) else {}
        described = {k: raw[k] for k in keys if k in raw}
        if inner:
            described["message_id"] = inner.get("id")
            described["sender_id"] = inner.get("sender_id")
        return described

    def handle(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == "heartbeat":
            return
        if kind == "message":
            self._guarded("message", event, self._message_event, event)
        elif kind == "reaction":
            self._guarded("reaction", event, self._reaction_event, event)
        elif kind == "submessage":
            self._guarded("submessage", event, self._submessage_event, event)
        elif kind == "update_message":
            self._guarded("update_message", event, self._edited, event)
        elif kind == "delete_message":
            self._guarded("delete_message", event, self._deleted, event)
        elif kind == "realm":
            self._guarded("realm", event, self._realm_event, event)
        elif kind in access.EVENTS:
            self._guarded(str(kind), event, self._access_event, event)
            if kind == "subscription":  # after the readers: the stream is readable again
                self._guarded("subscription", event, self.readback.apply, event)
        else:
            log.info("ignored an event of type %r", kind)

    def _access_event(self, event: Mapping[str, Any]) -> None:
        """Who reads a stream, and what the stream is called now."""
        self.readers.apply(event)
        if self.streams.apply(event):
            self.outbox.retry_held()

    def _message_event(self, event: Mapping[str, Any]) -> None:
        message = event["message"]
        if int(message["sender_id"]) == self.bot_id and event.get("local_message_id"):
            self.outbox.echo(str(event["local_message_id"]), int(message["id"]))
        self._message(message, event.get("flags", []))

    def _sender(
        self, user_id: int, full_name: str = "", email: str = "", realm: str = ""
    ) -> Sender:
        if user_id not in self.directory.users and user_id != self.bot_id:
            self._learn(user_id)
        return self.directory.sender(user_id, full_name, email, realm)

    def _learn(self, user_id: int) -> None:
        """Someone the bot has not seen since it started (a new member)."""
        try:
            body = self.api.call("GET", f"users/{user_id}", {"include_custom_profile_fields": True})
        except ZulipFailure as error:
            log.warning(
                "cannot look up user %s (%s); using the message's own fields", user_id, error
            )
            return
        user: ZulipUser = zulip_user(body["user"], None)
        self.directory.users[user_id] = user

    def _read_back(self, message: Mapping[str, Any]) -> None:
        """A message of a stream the bot was out of (`chat/readback.py`), past the cursor."""
        flags = message.get("flags", [])
        self._guarded("read-back message", message, self._message, message, flags, True)
        self._derive(message)

    def _message(
        self, message: Mapping[str, Any], flags: list[str], read_back: bool = False
    ) -> None:
        """`read_back`: the service's processed mark is the only dedup, the cursor stays."""
        message_id = int(message["id"])
        if not read_back and message_id <= self._cursor():
            return  # read already, by the backfill
        self.readers.fresh()
        sender = self._sender(
            int(message["sender_id"]),
            str(message.get("sender_full_name", "")),
            str(message.get("sender_email", "")),
            str(message.get("sender_realm_str", "")),
        )
        if int(message["sender_id"]) == self.bot_id:
            sender = Sender(sender.email, sender.full_name, self.bot_id, is_bot=True)
        content, leading = strip_mention(str(message["content"]), self.names, self.bot_id)
        stream: str | None = None
        topic: str | None = None
        if message["type"] == "stream":
            stream, topic = self.streams.incoming(message), str(message["subject"])
            # a message the bot never received carries no mention flag of its own
            addressed = leading and ("mentioned" in flags or "historical" in flags)
        else:
            others = {int(r["id"]) for r in message["display_recipient"]} - {self.bot_id}
            addressed = len(others) == 1 or (leading and "mentioned" in flags)
        incoming = Incoming(
            f"message:{message_id}", message_id, sender, content, stream, topic, addressed
        )
        with self.store.transaction():
            effects = self.service.handle_message(incoming, self.now())
            self._store_replies(incoming.event_id, effects, message_id, sender)
            if not read_back:
                self.store.set_runner_value(CURSOR, str(message_id))

    def _store_replies(
        self, event: str, effects: list[Effect], message_id: int, sender: Sender
    ) -> None:
        self.outbox.add(event, effects, (message_id, sender), self.directory.user_id_for)
        for send in effects:
            if isinstance(send, Send) and (send.ref or "").startswith("item:"):
                self.store.remember_command(message_id, send.ref or "", send.stream, send.topic)

    def _reaction_event(self, event: Mapping[str, Any]) -> None:
        user_id = int(event.get("user_id") or event["user"]["user_id"])
        emoji = str(event["emoji_name"])
        event_id = f"reaction:{self.queue_id}:{event['id']}"
        self._reaction(event_id, int(event["message_id"]), user_id, emoji, event["op"] == "add")

    def _reaction(self, event_id: str, message_id: int, user_id: int, emoji: str, on: bool) -> None:
        if user_id == self.bot_id or emoji not in THUMBS_UP:
            return
        if self.store.item_by_message(message_id) is None or self.readback.holds(message_id):
            return
        self.readers.fresh()
        sender = self._sender(user_id)
        with self.store.transaction():
            if not self.store.reaction_applied(message_id, user_id, emoji, on):
                return  # applied already: live and read back from the message alike
            effects = self.service.handle_reaction(
                event_id, sender, message_id, emoji, on, self.now()
            )
            self.outbox.add(event_id, effects, None, self.directory.user_id_for)

    def _submessage_event(self, event: Mapping[str, Any]) -> None:
        self._submessage(
            int(event["message_id"]),
            int(event["submessage_id"]),
            int(event["sender_id"]),
            str(event["content"]),
        )

    def _submessage(
        self, message_id: int, submessage_id: int, sender_id: int, content: str
    ) -> None:
        if sender_id == self.bot_id:
            return  # the poll's own definition
        if self.readback.holds(message_id):
            return
        self.readers.fresh()
        sender = self._sender(sender_id)
        self.service.handle_submessage(f"submessage:{submessage_id}", sender, message_id, content)

    def _edited(self, event: Mapping[str, Any]) -> None:
        """An edited `add` edits its item; other edits (and topic moves) change nothing."""
        if event.get("rendering_only") or "content" not in event:
            return
        message_id = int(event["message_id"])
        known = self.store.command(message_id)
        if known is None:
            return
        ref, stream, topic = known
        number = int(ref.rsplit(":", 1)[1])
        sender = self._sender(int(event["user_id"]))
        content, _ = strip_mention(str(event["content"]), self.names, self.bot_id)
        try:
            command = c.parse(content)
        except c.CommandError:
            command = None
        event_id = f"edit:{message_id}:{event.get('edit_timestamp', '')}"
        if isinstance(command, c.Add):
            incoming = Incoming(
                event_id, message_id, sender, f"edit {number} {command.text}", stream, topic
            )
            with self.store.transaction():
                effects = self.service.handle_message(incoming, self.now())
                self.outbox.add(event_id, effects, (message_id, sender), self.directory.user_id_for)
            return
        self._answer(
            event_id, message_id, sender, stream, topic,
            f"Your edited message no longer reads as `add ...`, so item {number} stays as it "
            f"was; `edit {number} <text>` changes it and `withdraw {number}` removes it.",
        )  # fmt: skip

    def _deleted(self, event: Mapping[str, Any]) -> None:
        ids = event.get("message_ids") or [event["message_id"]]
        for message_id in (int(i) for i in ids):
            known = self.store.command(message_id)
            if known is None:
                continue
            ref, stream, topic = known
            number = int(ref.rsplit(":", 1)[1])
            self._answer(
                f"delete:{message_id}", None, None, stream, topic,
                f"The message that added item {number} was deleted; the item stays on the "
                f"agenda. `withdraw {number}` takes it off.",
            )  # fmt: skip

    def _answer(
        self, event_id: str, message_id: int | None, sender: Sender | None,
        stream: str | None, topic: str | None, text: str,
    ) -> None:  # fmt: skip
        if stream is None:
            return
        with self.store.transaction():
            if self.store.seen(event_id):
                return
            source = (message_id, sender) if message_id is not None and sender else None
            self.outbox.add(event_id, [Send(text, stream=stream, topic=topic)], source)

    # --- the loop -----------------------------------------------------------------------------

    @contextmanager
    def _interruptible(self) -> Iterator[None]:
        self._waiting = True
        try:
            if self.stopping or self.reload_wanted:
                raise _Stop
            yield
        finally:
            self._waiting = False

    def _on_signal(self, number: int, frame: FrameType | None) -> None:
        log.info("signal %s: finishing the current event, then stopping", number)
        self.stopping = True
        if self._waiting:
            raise _Stop

    def _on_hangup(self, number: int, frame: FrameType | None) -> None:
        log.info("SIGHUP: reloading the config after the current event")
        self.reload_wanted = True
        if self._waiting:
            raise _Stop

    def install_signals(self) -> None:
        """Only the main thread may; a runner in a test's thread is stopped with `stop()`."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
            signal.signal(signal.SIGHUP, self._on_hangup)

    def reload(self) -> None:
        """The config file and its roster read again (`chat/reload.py`): a new service on
        the same store, then start-up again on the running queue, which matches the people to
        Zulip users, checks the streams and does what the new schedule has due."""
        self.reload_wanted = False
        config = self.reloader.reread(self.config)
        if config is None:
            return
        self.config = config
        self.service = self.outbox.service = reload.service_for(config, self.service)
        self.streams = self._follow(config)  # a meeting's new stream, from the start-up on
        self.next_job, self._last_tick, self.ready = None, float("-inf"), False

    def _follow(self, config: BotConfig) -> StreamFollower:
        """The meetings' streams followed by id, posts routed by them."""
        streams = StreamFollower(config.meetings, self.store, self.outbox.report)
        self.outbox.routes = streams
        return streams

    def stop(self) -> None:
        """From another thread: the loop ends after its current wait (a heartbeat at most)."""
        self.stopping = True

    def _held(self) -> bool:
        return self.hold_file is not None and self.hold_file.exists()

    def _flush(self, quiet: bool = False) -> None:
        if self._held():
            return
        self.outbox.flush(self.api, self.queue_id, quiet)
        self._last_flush = self.clock()

    def _poll(self) -> list[Any]:
        """Long-polls when nothing waits to be sent. With replies waiting, waits until the
        next flush is due instead: what arrives meanwhile stays in the queue and comes with
        the next poll, so a busy minute costs one poll and one flush per `linger`."""
        assert self.queue_id is not None
        due = self._last_flush + self.linger - self.clock()
        with self._interruptible():
            if self.outbox.uncertain or self._held():
                # a post that may have got through is likelier confirmed by its echo than by
                # a look-up: read what the queue holds first
                self.sleep(max(due, 0.0) if not self._held() else self.linger)
                return self.api.events(self.queue_id, self.last_event_id, dont_block=True)
            if self.outbox.due():
                if due > 0:
                    self.sleep(due)
                return []
            if self.outbox.pending():  # only edits held back: are commands still coming?
                events = self.api.events(self.queue_id, self.last_event_id, dont_block=True)
                if not events:
                    self._flush(quiet=True)
                return events
            return self._wait_for_events()

    def _wait_for_events(self) -> list[Any]:
        """A long-poll, given up when the next job falls due (see the module's docstring)."""
        assert self.queue_id is not None
        due = self._next_due()
        wait = None if due is None else self.seconds_until(due)
        if wait is None or wait > LONGPOLL_WAIT:
            return self.api.events(self.queue_id, self.last_event_id)
        if wait < MIN_POLL:
            self.sleep(max(wait, 0.0))
            return self.api.events(self.queue_id, self.last_event_id, dont_block=True)
        return self.api.events(self.queue_id, self.last_event_id, wait=wait)

    def _real_seconds_until(self, moment: dt.datetime) -> float:
        return (moment - self.now()).total_seconds()

    def _tick_due(self) -> bool:
        """A job falls due, or `tick_every` passed; `tick_every=inf` keeps the schedule off
        (tests of what people type, at a pinned time)."""
        if math.isinf(self.tick_every):
            return False
        due = self._next_due()
        if due is not None and self.now() >= due:
            return True
        return self.clock() >= self._last_tick + self.tick_every

    def _next_due(self) -> dt.datetime | None:
        """The next scheduled job or agenda re-post, whichever comes first."""
        moments = [m for m in (self.next_job, self.service.next_repost()) if m is not None]
        return min(moments, default=None)

    def step(self) -> None:
        """One round: read events, handle each, post what is due."""
        try:
            events = self._poll()
        except ApiError as error:
            if error.code != "BAD_EVENT_QUEUE_ID":
                raise
            log.warning("event queue %s expired: registering anew and reading back", self.queue_id)
            self.queue_id = None
            self._register()
            self.backfill()
            return
        for event in events:
            self.handle(event)
            self.last_event_id = max(self.last_event_id, int(event.get("id", -1)))
            if self.stopping:
                break
        if events:
            with self.store.transaction():
                self._save_queue()
        if self._tick_due():
            self._tick()
        if self.clock() >= self._last_flush + self.linger and self.outbox.due():
            self._flush()
        self.health.write(len(self.store.outbox()), time.time())

    def _tick(self) -> None:
        """The schedule's jobs (agenda thread, reminders, start, end, summary) that are due."""
        self._last_tick = self.clock()
        if self.store.rescue():
            log.error("the store %s was deleted while the bot ran: written back", self.store.path)
        now = self.now()
        try:
            with self.store.transaction():
                effects = self.service.tick(now)
                event = f"tick:{now.isoformat()}"
                self.outbox.add(event, effects, None, self.directory.user_id_for)
        except (Busy, sqlite3.OperationalError):
            raise
        except Exception:
            log.exception("the schedule failed; trying again at the next tick")
            return
        done = self.store.jobs_done()
        self.next_job = schedule.next_due(self.config.meetings, now, done)
        self.ticked_at = self.clock()
        if effects:
            log.info("schedule: %s effect(s) due", len(effects))

    def run(self) -> int:
        """Until SIGTERM or SIGINT: then the current event is finished, the outbox flushed.
        SIGHUP reloads the config between events."""
        self.install_signals()
        while True:
            try:
                if self.reload_wanted:
                    self.reload()
                if not self.ready:
                    self.start()
                self.step()
            except _Stop:
                pass
            except Unavailable as error:
                log.warning("Zulip is unreachable (%s); trying again", error)
                self._pause(5.0)
            except ApiError as error:
                log.error("Zulip refused a request (%s); trying again", error)
                self._pause(5.0)
            except (Busy, sqlite3.OperationalError) as error:
                log.warning("the store is busy (%s); reading the event again shortly", error)
                self._pause(1.0)
            except Exception:  # a bug must not stop a bot people rely on: say it, go on
                log.exception("unexpected failure in the loop; going on in 5 s")
                self._pause(5.0)
            if self.stopping:
                break
        self._final_flush()
        log.info("stopped")
        return 0

    def _pause(self, seconds: float) -> None:
        try:
            with self._interruptible():
                self.sleep(seconds)
        except _Stop:
            pass

    def _final_flush(self) -> None:
        if not self.outbox.pending() or self._held():
            return
        try:
            self.outbox.flush(self.api, self.queue_id, quiet=True)
        except ZulipFailure as error:
            log.warning("could not post everything before stopping (%s); it waits", error)


# --- the command ------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """`--log-json`: one JSON object a line, the handled event's fields included."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        event = getattr(record, "event", None)
        if event:
            line["event"] = event
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def setup_logging(as_json: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if as_json else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def config_path(given: Path | None) -> Path:
    """`--config`, else `$MEETBOT_CONFIG`, else `./meetbot.toml`."""
    if given is not None:
        return given
    from_env = os.environ.get("MEETBOT_CONFIG")
    return Path(from_env) if from_env else Path("meetbot.toml")


def zuliprc_for(config: BotConfig, given: Path | None) -> Path:
    if given is not None:
        return given
    if config.zuliprc is not None:
        return config.zuliprc
    raise StartupError(
        f'{config.path}: no zuliprc: pass --zuliprc FILE, or add zuliprc = "zuliprc" to the '
        "config (the file Zulip gives you for the bot, Settings > Personal > Bots)"
    )


def resolve_people(config: BotConfig, zuliprc: Path) -> list[Match]:
    """For `check-config --zuliprc`: whom the bot would recognise, and how."""
    api, me = connect(zuliprc)
    runner = Runner(config, api, me, Store(":memory:"))
    return runner.load_people()


def check_streams(config: BotConfig, zuliprc: Path) -> list[tuple[str, bool]]:
    """For `check-config --zuliprc`: each meeting's stream as the bot sees it, and whether
    that is enough to run the meeting (it exists for the bot, and the bot is in it)."""
    api, _me = connect(zuliprc)
    visible = api.call("GET", "streams").get("streams", [])
    mine = api.call("GET", "users/me/subscriptions").get("subscriptions", [])
    known = {str(s.get("name", "")).casefold() for s in visible}
    joined = {str(s.get("name", "")).casefold() for s in mine}
    said = []
    for meeting in config.meetings:
        name, where = meeting.stream.casefold(), f"#{meeting.stream} ({meeting.key})"
        if name in joined:
            said.append((f"{where}: ok, the bot is subscribed", True))
            continue
        problem = (
            "the bot is not subscribed, so it sees nothing there: subscribe it (stream "
            "settings > Subscribers)"
            if name in known
            else "no such stream that the bot can see: create it and subscribe the bot, or fix "
            f"`stream` in [meetings.{meeting.key}]"
        )
        said.append((f"{where}: {problem}", False))
    return said


def refuse_to_forget(config: BotConfig, api: ZulipApi, bot_id: int) -> None:
    """A store that is gone (deleted, or a new path) would make the bot start afresh in
    silence: agenda threads posted again, every vote zeroed, items renumbered. A bot that has
    posted in its meetings' streams before has a past, so it does not start on an empty store
    unless told to (`--new-store`): the old store is worth putting back first."""
    if config.state_path.exists() and config.state_path.stat().st_size > 0:
        return
    for stream in sorted({m.stream for m in config.meetings}):
        narrow: list[dict[str, Any]] = [
            {"operator": "sender", "operand": bot_id},
            {"operator": "stream", "operand": stream},
        ]
        try:
            found = api.messages("newest", num_before=1, narrow=narrow).get("messages", [])
        except ApiError:  # a stream it cannot read: the subscription check says so later
            continue
        if found:
            when = dt.datetime.fromtimestamp(int(found[-1]["timestamp"]), dt.UTC)
            raise StartupError(
                f"the store {config.state_path} is missing or empty, but this bot has posted "
                f"in #{stream} before (last on {when:%Y-%m-%d %H:%M} UTC): on an empty store it "
                "would post its agenda threads again and forget every vote and item number. Put "
                "the old store back (with its -wal file), or start afresh on purpose with "
                "`meetbot run --new-store`"
            )


def serve(
    config: BotConfig,
    zuliprc: Path,
    *,
    health: Path | None = None,
    linger: float = 2.0,
    now: Callable[[], dt.datetime] = _utc_now,
    seconds_until: Callable[[dt.datetime], float | None] | None = None,
    tick_every: float = 30.0,
    store_wait: float = 30.0,
    new_store: bool = False,
) -> int:
    """`now`, `seconds_until` and `tick_every` are for `meetbot run --clock` (demos and tests
    of the schedule). The store is held before Zulip is asked for anything: a second bot must
    not even register an event queue (Zulip would hand it the first one's events)."""
    with sole_writer(config.state_path, store_wait):
        api, me = connect(zuliprc)
        if not new_store:
            refuse_to_forget(config, api, int(me["user_id"]))
        store = Store(config.state_path)
        runner = Runner(
            config,
            api,
            me,
            store,
            linger=linger,
            health=health,
            now=now,
            seconds_until=seconds_until,
            tick_every=tick_every,
        )
        settle_heap()
        log.info(
            "meetbot runs as %s (user %s) on %s",
            me.get("full_name"),
            me.get("user_id"),
            api.client.base_url,
        )
        try:
            return runner.run()
        finally:
            store.close()
