"""Failures a test can script, so the bot's retry and recovery paths run against real sockets.

`faults.next("/messages", "drop")` makes the next request whose path starts with `/messages`
(after `/api/v1`) fail; `count` repeats it, `method` narrows it to one HTTP method. Kinds:

- `"drop"`: the socket is closed without an answer (what a crashed proxy or a network blip does);
- `"drop_after"`: the request is carried out, then the socket is closed without an answer, so
  the client cannot know that its message was posted (the case that makes bots post twice);
- `"500"`, `"502"`, `"503"`, `"504"`: that status with an HTML body, as a failing proxy sends;
- `"delay"`: the request waits `seconds` of real time, then is answered normally;
- `"429"`: a RATE_LIMIT_HIT answer exactly like the real one, with `retry_after` seconds;
- `"expire"`: the requesting user's event queues are garbage-collected first, as after an idle
  spell, so a GET /events answers BAD_EVENT_QUEUE_ID.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

KINDS: Final = ("drop", "drop_after", "500", "502", "503", "504", "delay", "429", "expire")
API_PREFIX: Final = "/api/v1"


def api_path(path: str) -> str:
    """`/api/v1/messages`, `/messages` and `messages` all name the same endpoint."""
    path = path.split("?", 1)[0]
    path = path.removeprefix(API_PREFIX)
    return path if path.startswith("/") else "/" + path


@dataclass
class Fault:
    path_prefix: str
    kind: str
    remaining: int
    method: str | None = None
    seconds: float = 1.0
    retry_after: float = 1.0

    def matches(self, method: str, path: str) -> bool:
        wrong_method = self.method is not None and self.method != method
        return not wrong_method and api_path(path).startswith(self.path_prefix)


@dataclass(frozen=True)
class Fired:
    method: str
    path: str
    kind: str


class Faults:
    def __init__(self) -> None:
        self._scripted: list[Fault] = []
        self._lock = threading.Lock()
        #: Every fault that was applied, in order, for tests to check what the client met.
        self.fired: list[Fired] = []

    def next(
        self,
        path_prefix: str,
        kind: str,
        count: int = 1,
        *,
        method: str | None = None,
        seconds: float = 1.0,
        retry_after: float = 1.0,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(KINDS)}")
        if count < 1:
            raise ValueError(f"count {count} must be at least 1")
        fault = Fault(
            api_path(path_prefix),
            kind,
            count,
            method.upper() if method else None,
            seconds,
            retry_after,
        )
        with self._lock:
            self._scripted.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first scripted fault for this request, used up by one."""
        with self._lock:
            for fault in self._scripted:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._scripted.remove(fault)
                    self.fired.append(Fired(method, api_path(path), fault.kind))
                    return fault
        return None

    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._scripted)

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()
