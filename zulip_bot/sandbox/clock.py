"""The sandbox's sense of time, injectable so that tests need not wait ten minutes for an edit
limit, a rate-limit window or a queue's expiry."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch, like `time.time()`."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """Stands still until a test moves it, so every timing rule can be crossed exactly."""

    def __init__(self, start: float = 1_795_584_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s); give a positive number")
        with self._lock:
            self._now += seconds


class FastClock:
    """Real time sped up `factor` times from the moment it is made, for demos of long waits."""

    def __init__(self, factor: float) -> None:
        if factor <= 0:
            raise ValueError(f"factor {factor} must be positive, e.g. 60 for a minute per second")
        self.factor = factor
        self._origin = time.time()
        self._start = time.monotonic()

    def now(self) -> float:
        return self._origin + (time.monotonic() - self._start) * self.factor
