"""Zulip's default rule, `api_by_user = [(60, 200)]`: a sliding log of accepted requests per
user; rejected requests are not logged, so a client that keeps hammering is not punished more."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from zulip_bot.sandbox.clock import Clock


@dataclass(frozen=True)
class RateLimit:
    requests: int = 200
    seconds: float = 60.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    #: Unix time (an integer, as the real `X-RateLimit-Reset`) when the window is empty again.
    reset: int
    #: Seconds until one more request is accepted; 0 when allowed.
    retry_after: float

    def headers(self) -> dict[str, str]:
        found = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            found["Retry-After"] = repr(self.retry_after)
        return found


class SlidingWindowLimiter:
    def __init__(self, rule: RateLimit, clock: Clock) -> None:
        self.rule = rule
        self._clock = clock
        self._log: dict[object, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: object) -> Decision:
        """Counts the request if it is allowed."""
        now = self._clock.now()
        with self._lock:
            log = self._log.setdefault(key, deque())
            while log and log[0] <= now - self.rule.seconds:
                log.popleft()
            allowed = len(log) < self.rule.requests
            if allowed:
                log.append(now)
            oldest = log[0] if log else now
            retry_after = 0.0 if allowed else max(0.0, oldest + self.rule.seconds - now)
            return Decision(
                allowed=allowed,
                limit=self.rule.requests,
                remaining=max(0, self.rule.requests - len(log)),
                reset=int(oldest + self.rule.seconds),
                retry_after=retry_after,
            )

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
