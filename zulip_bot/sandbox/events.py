"""Event queues as Tornado keeps them: per-queue event ids from 0, pruning by `last_event_id`,
long-polls that a heartbeat ends, garbage collection after an idle spell, and
BAD_EVENT_QUEUE_ID for a queue that is gone or someone else's.

A long-poll is held until an event comes or the queue has been quiet for `heartbeat_seconds`
(50 by default, as Zulip's 45-55 s): then a heartbeat event is queued with a real id, which the
next poll must acknowledge like any other (recording #221). A bot that waits for its long-poll
to return before doing anything else is late by that much on a quiet stream, as on a real
server. A new poll on a queue ends the one still waiting on it with no events and no heartbeat,
as Tornado's `finish_current_handler` does, so a client that gave up on a poll loses nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zulip_bot.sandbox.clock import Clock
from zulip_bot.sandbox.errors import ApiError
from zulip_bot.sandbox.narrow import Narrow

Event = dict[str, Any]
#: Builds one queue's copy of an event, or None when that queue must not see it.
EventBuilder = Callable[["EventQueue"], Event | None]


def bad_queue(queue_id: str) -> ApiError:
    return ApiError(
        f"Bad event queue ID: {queue_id}", "BAD_EVENT_QUEUE_ID", extra={"queue_id": queue_id}
    )


@dataclass
class EventQueue:
    queue_id: str
    user_id: int
    #: None means every type.
    event_types: frozenset[str] | None
    narrow: Narrow | None
    all_public_streams: bool
    apply_markdown: bool
    client_gravatar: bool
    bulk_message_deletion: bool
    last_touched: float
    events: list[Event] = field(default_factory=list)
    next_id: int = 0
    newest_pruned_id: int | None = None
    waiters: int = 0
    #: Bumped by each poll: an older poll still waiting is over (Tornado keeps one handler).
    handler: int = 0
    gone: bool = False

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types

    def push(self, event: Event) -> None:
        self.events.append({**event, "id": self.next_id})
        self.next_id += 1

    def acknowledge(self, last_event_id: int) -> None:
        if self.newest_pruned_id is not None and last_event_id < self.newest_pruned_id:
            raise ApiError(f"An event newer than {last_event_id} has already been pruned!")
        if last_event_id >= self.next_id:
            raise ApiError(f"Event {last_event_id} was not in this queue")
        pruned = [e for e in self.events if e["id"] <= last_event_id]
        if pruned:
            self.newest_pruned_id = pruned[-1]["id"]
            self.events = self.events[len(pruned) :]


@dataclass(frozen=True)
class QueueSettings:
    #: Real seconds a GET /events waits before it answers with a heartbeat.
    heartbeat_seconds: float = 50.0
    #: Clock seconds after which a queue that no client is polling is garbage-collected.
    timeout_seconds: float = 600.0


class Queues:
    """All state changes happen under `condition`, the realm's one lock."""

    def __init__(
        self, condition: threading.Condition, clock: Clock, settings: QueueSettings
    ) -> None:
        self.condition = condition
        self.clock = clock
        self.settings = settings
        self._queues: dict[str, EventQueue] = {}
        self.closing = False

    def register(self, user_id: int, **options: Any) -> EventQueue:
        with self.condition:
            self.collect_garbage()
            queue = EventQueue(str(uuid.uuid4()), user_id, last_touched=self.clock.now(), **options)
            self._queues[queue.queue_id] = queue
            return queue

    def find(self, queue_id: str, user_id: int) -> EventQueue:
        with self.condition:
            self.collect_garbage()
            queue = self._queues.get(queue_id)
            if queue is None or queue.user_id != user_id:
                raise bad_queue(queue_id)
            return queue

    def delete(self, queue_id: str, user_id: int) -> None:
        with self.condition:
            self._drop(self.find(queue_id, user_id))

    def expire(self, user_id: int | None = None) -> int:
        """Garbage-collects queues now, as a long idle spell would; returns how many."""
        with self.condition:
            doomed = [q for q in self._queues.values() if user_id in (None, q.user_id)]
            for queue in doomed:
                self._drop(queue)
            return len(doomed)

    def _drop(self, queue: EventQueue) -> None:
        queue.gone = True
        del self._queues[queue.queue_id]
        self.condition.notify_all()

    def collect_garbage(self) -> None:
        deadline = self.clock.now() - self.settings.timeout_seconds
        for queue in list(self._queues.values()):
            if queue.waiters == 0 and queue.last_touched < deadline:
                self._drop(queue)

    def publish(self, build: EventBuilder) -> None:
        with self.condition:
            self.collect_garbage()
            for queue in self._queues.values():
                event = build(queue)
                if event is not None:
                    queue.push(event)
            self.condition.notify_all()

    def all_queues(self) -> list[EventQueue]:
        with self.condition:
            return list(self._queues.values())

    def poll(
        self, queue: EventQueue, last_event_id: int, dont_block: bool
    ) -> tuple[list[Event], bool]:
        """The events after `last_event_id`, and whether the poll had to wait for them: it
        blocks until there are some, a heartbeat is due, the queue goes or the server stops."""
        with self.condition:
            queue.acknowledge(last_event_id)
            queue.last_touched = self.clock.now()
            queue.handler += 1
            self.condition.notify_all()  # the poll this one replaces answers []
            if queue.events or dont_block:
                return list(queue.events), False
            mine = queue.handler
            queue.waiters += 1
            try:
                self.condition.wait_for(
                    lambda: (
                        bool(queue.events) or queue.gone or self.closing or queue.handler != mine
                    ),
                    timeout=self.settings.heartbeat_seconds,
                )
            finally:
                queue.waiters -= 1
                queue.last_touched = self.clock.now()
            if queue.gone or self.closing or queue.handler != mine:
                return [], True
            if not queue.events:
                queue.push({"type": "heartbeat"})
            return list(queue.events), True

    def close(self) -> None:
        with self.condition:
            self.closing = True
            self.condition.notify_all()
