"""Publishing notes with git: a real working copy and a local bare repository as the remote."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from zulip_bot.config import MeetingConfig, default_config_path, load_config
from zulip_bot.publish import FALLBACK_EMAIL, publish


@pytest.fixture(autouse=True)
def no_personal_git_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The tests see git as a fresh service account does: no identity, no global settings."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(where: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(where), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "notes.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(path)], check=True)
    return path


@pytest.fixture
def work(tmp_path: Path, remote: Path) -> Path:
    path = tmp_path / "work"
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(path)], check=True)
    git(path, "remote", "add", "origin", str(remote))
    return path


@pytest.fixture
def meeting(work: Path) -> MeetingConfig:
    community = load_config(default_config_path()).meeting("community")
    assert community is not None
    return replace(community, config_dir=work, publish="git", publish_remote="origin")


def notes(meeting: MeetingConfig, text: str) -> Path:
    path = meeting.config_dir / "notes" / "20241106_agenda_and_minutes.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def remote_log(remote: Path) -> list[str]:
    return git(remote, "log", "--format=%s", "main").splitlines()


def test_commit_and_push(meeting: MeetingConfig, work: Path, remote: Path) -> None:
    path = notes(meeting, "# agenda\n")
    result = publish(meeting, "agenda opened", path)
    assert result is not None and result.ok and result.pushed
    assert result.commit == git(work, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
    assert remote_log(remote) == [
        "Conda Community Meeting: agenda opened (notes/20241106_agenda_and_minutes.md)"
    ]
    assert git(remote, "show", "main:notes/20241106_agenda_and_minutes.md") == "# agenda"
    assert git(remote, "log", "--format=%ae", "main") == FALLBACK_EMAIL


def test_nothing_changed_makes_no_commit(meeting: MeetingConfig, remote: Path) -> None:
    path = notes(meeting, "# agenda\n")
    assert publish(meeting, "agenda opened", path) is not None
    again = publish(meeting, "agenda opened", path)
    assert again is not None and again.ok and again.pushed and again.commit == ""
    assert len(remote_log(remote)) == 1


def test_a_failed_push_is_reported_kept_and_retried(
    meeting: MeetingConfig, work: Path, remote: Path
) -> None:
    path = notes(meeting, "# agenda\n")
    assert publish(meeting, "agenda opened", path) is not None
    away = remote.rename(remote.with_name("moved.git"))  # the remote is unreachable
    notes(meeting, "# agenda\n\n- [ ] JRG: an item\n")
    failed = publish(meeting, "meeting started", path)
    assert failed is not None and not failed.ok and not failed.pushed
    assert failed.commit == git(work, "rev-parse", "HEAD")  # committed all the same
    assert failed.problem.startswith(
        "Publishing 20241106_agenda_and_minutes.md failed: the notes are committed but not "
        "pushed to origin"
    )
    assert "check that 'origin' is reachable" in failed.problem
    assert f"push by hand: `git -C {work} push origin HEAD:refs/heads/main`" in failed.problem
    assert failed.problem.endswith("the next publish pushes them.")
    notes(meeting, "# minutes\n")
    assert publish(meeting, "meeting ended", path) is not None
    away.rename(remote)  # back again: the next call pushes both commits made meanwhile
    retried = publish(meeting, "meeting ended", path)
    assert retried is not None and retried.ok and retried.pushed and retried.commit == ""
    assert [line.split(":")[1].strip() for line in remote_log(remote)] == [
        "meeting ended (notes/20241106_agenda_and_minutes.md)",
        "meeting started (notes/20241106_agenda_and_minutes.md)",
        "agenda opened (notes/20241106_agenda_and_minutes.md)",
    ]
    assert git(remote, "show", "main:notes/20241106_agenda_and_minutes.md") == "# minutes"


def test_a_rejected_push_asks_for_a_pull(
    meeting: MeetingConfig, work: Path, remote: Path, tmp_path: Path
) -> None:
    path = notes(meeting, "# agenda\n")
    assert publish(meeting, "agenda opened", path) is not None
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "--quiet", str(remote), str(other)], check=True)
    (other / "README.md").write_text("notes\n", encoding="utf-8")
    git(other, "add", "README.md")
    git(other, "-c", "user.name=A", "-c", "user.email=a@example.org", "commit", "-qm", "readme")
    git(other, "push", "--quiet", "origin", "main")
    notes(meeting, "# minutes\n")
    rejected = publish(meeting, "meeting ended", path)
    assert rejected is not None and not rejected.pushed
    assert f"run `git -C {work} pull --rebase origin main`" in rejected.problem
    git(
        work,
        "-c",
        "user.name=A",
        "-c",
        "user.email=a@example.org",
        "pull",
        "-q",
        "--rebase",
        "origin",
        "main",
    )
    after = publish(meeting, "meeting ended", path)
    assert after is not None and after.ok and after.pushed
    assert remote_log(remote)[0].startswith("Conda Community Meeting: meeting ended")


def test_only_the_notes_file_is_committed(meeting: MeetingConfig, work: Path) -> None:
    (work / "other.txt").write_text("someone's work in progress\n", encoding="utf-8")
    git(work, "add", "other.txt")
    result = publish(meeting, "agenda opened", notes(meeting, "# agenda\n"))
    assert result is not None and result.ok
    assert git(work, "show", "--name-only", "--format=", "HEAD") == (
        "notes/20241106_agenda_and_minutes.md"
    )
    assert git(work, "diff", "--cached", "--name-only") == "other.txt"  # still staged, not ours


def test_without_a_remote_it_only_commits(meeting: MeetingConfig, work: Path) -> None:
    local = replace(meeting, publish_remote="")
    result = publish(local, "agenda opened", notes(local, "# agenda\n"))
    assert result is not None and result.ok and not result.pushed
    assert result.commit == git(work, "rev-parse", "HEAD")


def test_the_configured_branch_and_identity(
    meeting: MeetingConfig, work: Path, remote: Path
) -> None:
    git(work, "config", "user.name", "Notes Keeper")
    git(work, "config", "user.email", "notes@example.org")
    on_branch = replace(meeting, publish_branch="minutes")
    result = publish(on_branch, "agenda opened", notes(on_branch, "# agenda\n"))
    assert result is not None and result.pushed
    assert git(remote, "log", "--format=%an <%ae>", "minutes") == "Notes Keeper <notes@example.org>"
    assert git(remote, "branch", "--list", "main") == ""


def test_not_publishing_touches_nothing(meeting: MeetingConfig, work: Path) -> None:
    path = notes(meeting, "# agenda\n")
    assert publish(replace(meeting, publish="none"), "agenda opened", path) is None
    assert git(work, "status", "--porcelain") == "?? notes/"


def test_notes_outside_a_working_copy(meeting: MeetingConfig, tmp_path: Path) -> None:
    elsewhere = replace(meeting, config_dir=tmp_path / "plain")
    result = publish(elsewhere, "agenda opened", notes(elsewhere, "# agenda\n"))
    assert result is not None and not result.ok and result.commit == ""
    assert "is not inside a git working copy; run `git init`" in result.problem
    assert 'or set publish = "none"' in result.problem


def test_a_missing_file_is_a_problem_not_a_crash(meeting: MeetingConfig, work: Path) -> None:
    result = publish(meeting, "agenda opened", work / "notes" / "nope.md")
    assert result is not None and not result.ok
    assert "nope.md does not exist" in result.problem
