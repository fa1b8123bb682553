"""Replacing a notes file without losing a save that someone else made at the same moment.

Checking that the file is unchanged and then renaming a new version over it leaves a gap: a
save that lands between the check and the rename would be silently replaced. Two things close
it. Writers that cooperate take `locked(folder)` (an advisory `flock` on the folder, so that no
lock file lands among the notes) around their check and replace, as the bot does. And for
writers that do not, such as an editor, the new version is swapped in with Linux's atomic
`renameat2(RENAME_EXCHANGE)`: what it swapped out is the file as it was at that instant, so a
save the check missed is seen, put back, and reported as a conflict for the caller to redo its
edit on. Where the exchange is not available the rename under the lock is what is left.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class Changed(Exception):
    """The file changed after it was read; it is as the other writer left it."""


class Linked(Exception):
    """The path is a symbolic link. The bot never made one, so someone else did: following it
    would write the bot's notes (and, with publishing on, commit them) wherever it points, and
    replacing it would copy the target's content into the notes."""


def _renameat2() -> Callable[..., int] | None:
    try:
        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    return function


_EXCHANGE = _renameat2()


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically; False where the system or file system cannot."""
    if _EXCHANGE is None:
        return False
    done = _EXCHANGE(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the folder's advisory lock: the bot's writers, and any tool that edits the notes
    and wants never to race the bot, take it around their read-check-write."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _temp(target: Path, data: bytes) -> Path:
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(name, mode)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _sync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def replace(target: Path, data: bytes, expected: str | None) -> None:
    """Write `data` to `target` if the file still has the digest `expected` (None: if there is
    no file yet); else raise `Changed` and leave the other writer's version in place."""
    with locked(target.parent):
        if target.is_symlink():
            raise Linked(str(target))
        try:
            current = target.read_bytes()
        except FileNotFoundError:
            current = None
        if (None if current is None else _digest(current)) != expected:
            raise Changed(str(target))
        temp = _temp(target, data)
        try:
            if current is None:
                try:
                    os.link(temp, target)  # fails, rather than replaces, if a file appeared
                except FileExistsError:
                    raise Changed(str(target)) from None
            elif _exchange(temp, target):
                _check_swapped(temp, target, data, expected)
            else:
                os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        _sync_folder(target.parent)


def _check_swapped(temp: Path, target: Path, data: bytes, expected: str | None) -> None:
    """`temp` now holds what `target` held at the swap: a save that landed after the check is
    put back (and one that lands during that, kept), and reported."""
    if _digest(temp.read_bytes()) == expected:
        return
    _exchange(temp, target)  # theirs back in place; ours, normally, in temp
    if temp.read_bytes() != data:  # yet another save came in meanwhile: it is the newest
        _exchange(temp, target)
    raise Changed(str(target))
