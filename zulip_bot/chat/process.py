"""Settings for the long-running bot process, shared by every edge that starts one."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import gc
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from zulip_bot.chat.client import StartupError

log = logging.getLogger(__name__)


def settle_heap() -> None:
    """Everything made while the bot starts (libraries, config, the open store) lives as long
    as the process does, which is weeks. Frozen, it is no longer rescanned by each full
    garbage collection: measured with `benchmarks/bench_service.py`, those rescans otherwise
    add about 10 ms to roughly one command in a hundred."""
    gc.collect()
    gc.freeze()


def lock_path(store: Path) -> Path:
    return store.with_name(f"{store.name}.lock")


@contextlib.contextmanager
def sole_writer(
    store: Path,
    wait: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    """Two bots on one store would share its event queue and both answer every message, both
    post every reminder. A service manager that restarts the bot before the old process has
    flushed its outbox (SIGTERM) starts exactly that, so the second one waits `wait` seconds
    for the first to go, then gives up naming it. The lock is an advisory `flock` on a file
    beside the store, released by the kernel however the holder dies (even `kill -9`); the
    file itself stays, as deleting it would let a third process lock a fresh one."""
    lock = lock_path(store)
    lock.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        deadline = clock() + wait
        told = False
        while not _try_lock(handle):
            holder = _holder(handle)
            if clock() >= deadline:
                raise StartupError(
                    f"another meetbot ({holder}) is running on the store {store}; two would "
                    f"both answer every message. Stop that one first (waited {wait:g} s for it "
                    "to exit)"
                )
            if not told:
                log.warning("waiting up to %g s for another meetbot (%s) to exit", wait, holder)
                told = True
            sleep(0.2)
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"pid {os.getpid()} on {socket.gethostname()} since {stamp}".encode(), 0)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _try_lock(handle: int) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(handle: int) -> str:
    said = os.pread(handle, 200, 0).decode("utf-8", "replace").strip()
    return said or "a process that has not said which"
