"""Who can read each meeting's stream, as Zulip has it: the service's `Readers` port.

Zulip's rule: a private (invite-only) stream is read by its subscribers; a public one by
every member who is not a guest, and by a guest only while subscribed. The subscribers of the
bot's streams come from one `GET /users/me/subscriptions?include_subscribers=true`, asked
again once the answer is `ttl` seconds old; between two answers the event queue keeps it
current (`subscription` `peer_add`/`peer_remove`, `add`/`remove` for the bot itself, `stream`
`update` of `invite_only` or `name`), so a change is seen at once without asking again.
Roles come from the runner's directory of users, and `realm_user` updates of a role. A
stream the bot is not in cannot be looked into, so nobody reads a meeting there until it is.

The runner calls `fresh()` before it hands an event to the service, so the service's question
is answered from memory, never by a request made inside its store transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from zulip_bot.config import MeetingConfig
from zulip_bot.meeting.effects import Sender

#: The event types that change who reads a stream.
EVENTS: Final = ["subscription", "stream", "realm_user"]
#: Zulip's role code for guests (recordings #008, zulip.yaml `role`).
GUEST: Final = 600
#: How long an answer from Zulip is trusted without events to keep it current.
TTL: Final = 300.0


class Asks(Protocol):
    """What is asked of Zulip: `ZulipApi` under `meetbot run`, the zulip_bots client under
    `zulip-run-bot` (see `chat/handler.py`)."""

    def call(
        self, method: str, endpoint: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]: ...


@dataclass
class _Stream:
    name: str
    invite_only: bool
    subscribers: set[int] = field(default_factory=set)


def _stream(sub: Mapping[str, Any]) -> _Stream:
    subscribers = {int(i) for i in sub.get("subscribers", [])}
    return _Stream(str(sub["name"]), bool(sub.get("invite_only", False)), subscribers)


class StreamReaders:
    def __init__(
        self,
        api: Asks,
        role_of: Callable[[int], int | None],
        *,
        ttl: float = TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api, self.role_of, self.ttl, self.clock = api, role_of, ttl, clock
        self.streams: dict[int, _Stream] = {}
        self.roles: dict[int, int] = {}  # changed since the directory was read
        self._asked: float | None = None

    def __call__(self, meeting: MeetingConfig, sender: Sender) -> bool:
        wanted = meeting.stream.casefold()
        stream = next((s for s in self.streams.values() if s.name.casefold() == wanted), None)
        if stream is None:
            return False
        if sender.user_id in stream.subscribers:
            return True
        role = self.roles.get(sender.user_id) or self.role_of(sender.user_id)
        return not stream.invite_only and role not in (GUEST, None)

    def fresh(self) -> None:
        """Asks Zulip again when the last answer is older than `ttl`."""
        if self._asked is not None and self.clock() < self._asked + self.ttl:
            return
        body = self.api.call("GET", "users/me/subscriptions", {"include_subscribers": True})
        self.streams = {int(s["stream_id"]): _stream(s) for s in body.get("subscriptions", [])}
        self._asked = self.clock()

    def apply(self, event: Mapping[str, Any]) -> None:
        """A `subscription`, `stream` or `realm_user` event; the ones about other matters
        (notification settings, names, avatars) change nothing."""
        op = event.get("op")
        if event.get("type") == "stream" and op == "update":
            self._updated(event)
        elif event.get("type") == "realm_user":
            person = event.get("person", {})
            if op == "update" and "role" in person:  # a member made a guest, or back
                self.roles[int(person["user_id"])] = int(person["role"])
        elif op in ("peer_add", "peer_remove"):
            for stream_id in event.get("stream_ids", []):
                stream = self.streams.get(int(stream_id))
                if stream is None:
                    continue
                users = {int(u) for u in event.get("user_ids", [])}
                if op == "peer_add":
                    stream.subscribers |= users
                else:
                    stream.subscribers -= users
        elif op == "add":
            for sub in event.get("subscriptions", []):
                self.streams[int(sub["stream_id"])] = _stream(sub)
                if "subscribers" not in sub:  # a server that leaves them out: ask it
                    self._asked = None
        elif op == "remove":
            for sub in event.get("subscriptions", []):
                self.streams.pop(int(sub["stream_id"]), None)

    def _updated(self, event: Mapping[str, Any]) -> None:
        stream = self.streams.get(int(event["stream_id"]))
        if stream is None:
            return
        if event.get("property") == "invite_only":
            stream.invite_only = bool(event["value"])
        elif event.get("property") == "name":
            stream.name = str(event["value"])
