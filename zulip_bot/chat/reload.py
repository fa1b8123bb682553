"""SIGHUP: the running bot reads its config file, and the roster it names, again.

A reload does what a restart would do with the file, without dropping the event queue or the
outbox: the runner makes a new `MeetingService` on the same store (so every cache of the config,
the people, the calendars, goes with the old one), matches the people to Zulip users again and
recomputes the schedule's next job (`Runner.reload`). It happens between events, never inside
one, so nothing is half handled under two configs.

Two kinds of change are not applied:
- a file that no longer loads (bad TOML, an invalid meeting, a roster that fails): the running
  config stays whole, the log says why, and the organizers hear it once by direct message for
  each distinct error, not at every SIGHUP that meets the same broken file (`Reloader.told`).
- settings a running process cannot take (`RESTART_ONLY`: the store it holds locked, the
  zuliprc it is connected with, the name Zulip knows it by): each is kept as it runs, the log
  says so, and the rest of the file is applied, as a restart would apply it too. Refusing the
  whole file for one of them would hold back a new meeting for a setting that only waits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final

from zulip_bot.config import BotConfig, ConfigError, load_config
from zulip_bot.meeting.context import without_paths
from zulip_bot.meeting.service import MeetingService

log = logging.getLogger("meetbot.reload")

#: Settings kept as they are while the bot runs, and why: a restart applies them.
RESTART_ONLY: Final = {
    "state_path": "the bot holds its store open and locked",
    "zuliprc": "the bot is connected to Zulip with it",
    "bot_name": "the bot answers to the name it started with",
}


@dataclass
class Reloader:
    """Reads the running config's file again. `told` is the error the organizers last heard
    of from this process: a reload that works, or a restart (which needs a file that loads),
    ends that episode, so the same error later is news again."""

    report: Callable[[str], None]
    told: str | None = None

    def reread(self, running: BotConfig) -> BotConfig | None:
        """The config to run from now on, or None when the file no longer loads (said in the
        log, and to the organizers unless this very error was the last one they heard of)."""
        try:
            loaded = load_config(running.path)
        except (ConfigError, OSError) as error:
            self._refused(str(error))
            return None
        self.told = None
        config = keep_restart_only(running, loaded)
        log.info("reload: %s", changes(running, config))
        return config

    def _refused(self, error: str) -> None:
        log.error("reload refused, the running config stays as it was: %s", error)
        if error == self.told:
            return
        self.told = error
        self.report(
            "I could not reload my config, so I keep running with the one I had: "
            f"{without_paths(error)}. Fix the file, check it with `meetbot check-config`, then "
            "reload me again (`systemctl reload meetbot`, or `kill -HUP` the process)."
        )


def keep_restart_only(running: BotConfig, loaded: BotConfig) -> BotConfig:
    """`loaded` with each `RESTART_ONLY` setting as `running` has it, each change logged."""
    kept: dict[str, Any] = {}
    for name, why in RESTART_ONLY.items():
        now, wanted = getattr(running, name), getattr(loaded, name)
        if now != wanted:
            log.warning(
                "reload: %s changed from %s to %s: kept as it is until a restart (%s)",
                name, now, wanted, why,
            )  # fmt: skip
            kept[name] = now
    return replace(loaded, **kept)


def changes(old: BotConfig, new: BotConfig) -> str:
    """What the reload changed, for the log: meetings by key, and the roster's size."""
    before = {m.key: m for m in old.meetings}
    after = {m.key: m for m in new.meetings}
    parts = [
        f"{what} {', '.join(keys)}"
        for what, keys in (
            ("added", sorted(after.keys() - before.keys())),
            ("removed", sorted(before.keys() - after.keys())),
            ("changed", sorted(k for k in before.keys() & after.keys() if before[k] != after[k])),
        )
        if keys
    ]
    people = f"{len(old.roster.people)} -> {len(new.roster.people)} people in the roster"
    return f"{new.path} read again: meetings {'; '.join(parts) or 'unchanged'}; {people}"


def service_for(config: BotConfig, running: MeetingService) -> MeetingService:
    """A service on the new config, as a restart makes it, with what the runner learnt from
    Zulip meanwhile (who reads which stream, the realm's edit limit)."""
    service = MeetingService(config, running.store, running.shared.readers)
    service.edit_limit = running.edit_limit
    return service
