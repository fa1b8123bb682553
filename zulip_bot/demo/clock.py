"""A simulated clock shared through a file, for `meetbot demo` and the end-to-end tests only.

A meeting's cycle spans days (the agenda thread opens two days before, the summary comes after
the meeting), so a demo or a test that must see it in seconds needs every party to agree on a
simulated time: the sandbox (message timestamps, the edit limit), the runner's ticks and the
service's `now`. Several processes read one small JSON file, `{"at": T, "wall": W, "speed": S}`:
the simulated time is `T + (time.time() - W) * S` seconds since the epoch. Whoever directs the
scene rewrites it (atomically) to jump ahead or to change speed; readers see the change at their
next reading. `meetbot run --clock FILE` reads it; nothing else in meetbot does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    at: float  # simulated seconds since the epoch at the wall time `wall`
    wall: float
    speed: float  # simulated seconds per real second; 0 stands still

    def now(self, wall: float) -> float:
        return self.at + (wall - self.wall) * self.speed


class FileClock:
    """`now()` like `time.time()`, so that it is also a sandbox `Clock`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._setting: Setting | None = None

    def _read(self) -> Setting:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            raise ValueError(
                f"{self.path}: no clock file; write one with FileClock.set (meetbot demo does)"
            ) from None
        seen = (stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if self._setting is None or seen != self._seen:
                try:
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                    self._setting = Setting(
                        float(data["at"]), float(data["wall"]), float(data["speed"])
                    )
                except (ValueError, KeyError, TypeError) as error:
                    raise ValueError(
                        f'{self.path}: not a clock file like {{"at": 1730739600, "wall": '
                        f'1764600000.5, "speed": 1}} ({error})'
                    ) from None
                self._seen = seen
            return self._setting

    def now(self) -> float:
        return self._read().now(time.time())

    def utc(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now(), dt.UTC)

    def seconds_until(self, moment: dt.datetime) -> float | None:
        """Real seconds until the simulated `moment` at the current speed; None while the
        clock stands still (only a rewrite of the file moves it)."""
        setting = self._read()
        if setting.speed == 0:
            return None
        return (moment.timestamp() - setting.now(time.time())) / setting.speed

    def set(self, at: dt.datetime | float, speed: float = 0.0) -> None:
        """From now on the simulated time runs from `at` at `speed`. Time never goes back:
        an `at` earlier than the current time keeps the current time."""
        if speed < 0:
            raise ValueError(f"speed {speed} must be 0 or more")
        moment = at.timestamp() if isinstance(at, dt.datetime) else float(at)
        if self.path.exists():
            moment = max(moment, self.now())
        setting = {"at": moment, "wall": time.time(), "speed": speed}
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(setting), encoding="utf-8")
        os.replace(temporary, self.path)
        with self._lock:
            self._setting, self._seen = None, None
