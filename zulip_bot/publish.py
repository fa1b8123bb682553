"""Publish a notes draft by committing it to the git working copy it lives in, and pushing.

People in chat cannot open a file on the bot's machine, but they can read a repository, and
conda keeps its meeting notes in one. A commit is made locally first, so a push that fails (the
network, credentials, someone else's commit) loses nothing: the commit stays, the failure is
returned for the organizers, and the next call pushes everything that is still unpushed.

Only the `git` command is used, never a library: it reads the user's git config, credential
helpers and SSH keys exactly as `git push` at a terminal would.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from zulip_bot.config import MeetingConfig

#: A push to an unreachable host must not hold the runner for long; it is retried next time.
PUSH_TIMEOUT: Final = 60.0
LOCAL_TIMEOUT: Final = 30.0
#: Who commits when the machine has no git identity (a fresh service account usually has none).
FALLBACK_NAME: Final = "meetbot"
FALLBACK_EMAIL: Final = "meetbot@localhost"


@dataclass(frozen=True)
class Published:
    """What `publish` did. `problem` is empty when all went well, else a sentence for the
    organizers that says what failed and what would fix it."""

    path: Path
    #: The commit made for this change, or "" when the file had not changed since the last one.
    commit: str = ""
    #: The remote has every local commit (False too when no remote is set).
    pushed: bool = False
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


class _GitError(Exception):
    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        #: All that git said, for telling one failure from another.
        self.output = output


def _environment() -> dict[str, str]:
    """A service has no terminal: a prompt for a password or host key would hang, not ask."""
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    env["LC_ALL"] = "C"  # the error text we pass on is git's own English
    return env


def _git(top: Path, *args: str, timeout: float = LOCAL_TIMEOUT, check: bool = True) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(top), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_environment(),
            check=False,
        )
    except FileNotFoundError:
        raise _GitError('git is not installed; install it, or set publish = "none"') from None
    except subprocess.TimeoutExpired:
        raise _GitError(f"`git {args[0]}` took more than {timeout:.0f} s") from None
    if check and done.returncode != 0:
        output = (done.stderr or done.stdout).strip()
        lines = [line.strip() for line in output.splitlines() if not line.startswith("hint:")]
        lines = [line for line in lines if line]
        detail = " / ".join(lines[-3:]) or f"exit {done.returncode}"
        raise _GitError(f"`git {args[0]}` failed: {detail}", output)
    return done.stdout.strip() if done.returncode == 0 else ""


def _working_copy(path: Path) -> Path:
    try:
        return Path(_git(path.parent, "rev-parse", "--show-toplevel"))
    except _GitError:
        raise _GitError(
            f"{path.parent} is not inside a git working copy; run `git init` (and `git remote "
            'add`) there, or set publish = "none"'
        ) from None


def _identity(top: Path) -> list[str]:
    """The machine's git identity if it has one, else the bot's, for this command only."""
    if _git(top, "config", "user.email", check=False):
        return []
    return ["-c", f"user.name={FALLBACK_NAME}", "-c", f"user.email={FALLBACK_EMAIL}"]


def _commit(top: Path, relative: str, message: str) -> str:
    """Commits this one file only: whatever else is staged in the working copy is not ours."""
    _git(top, "add", "--", relative)
    changed = subprocess.run(
        ["git", "-C", str(top), "diff", "--cached", "--quiet", "--", relative],
        env=_environment(),
        timeout=LOCAL_TIMEOUT,
        check=False,
    )
    if changed.returncode == 0:
        return ""
    _git(top, *_identity(top), "commit", "--quiet", "-m", message, "--", relative)
    return _git(top, "rev-parse", "HEAD")


def _push(top: Path, meeting: MeetingConfig) -> None:
    branch = meeting.publish_branch or _git(top, "symbolic-ref", "--quiet", "--short", "HEAD")
    if not branch:
        raise _GitError(
            f"{top} is not on a branch; check one out, or set publish_branch in the config"
        )
    remote, target = meeting.publish_remote, f"HEAD:refs/heads/{branch}"
    try:
        _git(top, "push", "--quiet", remote, target, timeout=PUSH_TIMEOUT)
    except _GitError as error:
        if "[rejected]" in error.output:
            pull = f"git -C {top} pull --rebase {remote} {branch}"
            fix = f"the remote has commits this copy lacks: run `{pull}`"
        else:
            by_hand = f"git -C {top} push {remote} {target}"
            fix = f"check that {remote!r} is reachable, or push by hand: `{by_hand}`"
        raise _GitError(
            f"the notes are committed but not pushed to {remote} ({error}); {fix}; "
            "the next publish pushes them"
        ) from None


def publish(meeting: MeetingConfig, phase: str, path: Path) -> Published | None:
    """Commit `path` (the notes draft) after `phase` ("agenda opened", "meeting ended", ...)
    and push if the meeting sets a remote. None when the meeting does not publish."""
    if meeting.publish != "git":
        return None
    path = Path(path).resolve()
    commit = ""
    try:
        if not path.is_file():
            raise _GitError(f"{path} does not exist")
        top = _working_copy(path)
        relative = path.relative_to(top).as_posix()
        commit = _commit(top, relative, f"{meeting.title}: {phase} ({relative})")
        if not meeting.publish_remote:
            return Published(path, commit)
        _push(top, meeting)
    except _GitError as error:
        return Published(path, commit, problem=f"Publishing {path.name} failed: {error}.")
    return Published(path, commit, pushed=True)
