"""Each meeting's stream followed by its id, so that a renamed stream loses nothing.

The `meeting/` layer knows a stream by the name in the config; Zulip knows it by an id whose
name an administrator may change at any time: while the bot runs, or while it is down. The
translation happens here, at the edge: a message from the stream under any name reaches the
service under the configured name, and what the service says to the configured name is
posted to the stream's current name (its `#**stream>topic**` links rewritten to match).

The id is found at start-up among the streams the bot can see (the configured name first; if
that name is gone, the id kept in the store from the last run, under whatever name it has
now), kept in the store, and followed through `stream` `update` events of `name`. A rename is
told to the organizers once, with the edit that brings the config up to date: the bot keeps
working either way, but a config that names a stream nobody can find is a trap for later.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from zulip_bot.chat.client import ZulipApi
from zulip_bot.config import MeetingConfig
from zulip_bot.meeting.store import OutboxRow, Store

log = logging.getLogger(__name__)

#: Runner state key: {configured name, casefolded: [stream id, name last heard]}.
FOLLOWED: Final = "followed_streams"


@dataclass
class Followed:
    configured: str
    meetings: tuple[MeetingConfig, ...]
    stream_id: int | None = None
    name: str = ""

    @property
    def renamed(self) -> bool:
        return self.name.casefold() != self.configured.casefold()


def _followed(meetings: Iterable[MeetingConfig]) -> dict[str, Followed]:
    found: dict[str, Followed] = {}
    for meeting in meetings:
        key = meeting.stream.casefold()
        known = found.get(key)
        together = (*known.meetings, meeting) if known else (meeting,)
        found[key] = Followed(meeting.stream, together, name=meeting.stream)
    return found


def _link(name: str) -> re.Pattern[str]:
    """`#**name**` and `#**name>topic**`, as Zulip matches them (ignoring case)."""
    return re.compile(r"#\*\*" + re.escape(name) + r"(?=\*\*|>)", re.IGNORECASE)


class StreamFollower:
    def __init__(
        self, meetings: Iterable[MeetingConfig], store: Store, report: Callable[[str], None]
    ) -> None:
        self.store, self.report = store, report
        self.followed = _followed(meetings)
        saved = json.loads(store.runner_value(FOLLOWED) or "{}")
        for key, (stream_id, name) in saved.items():
            if key in self.followed:
                self.followed[key].stream_id, self.followed[key].name = int(stream_id), str(name)

    # --- finding and following ----------------------------------------------------------------

    def resolve(self, api: ZulipApi) -> None:
        """At start-up: each configured name among the streams the bot can see, else the id
        kept from the last run under its name now (renamed while the bot was down)."""
        visible = api.call("GET", "streams").get("streams", [])
        by_name = {str(s["name"]).casefold(): s for s in visible}
        by_id = {int(s["stream_id"]): s for s in visible}
        for key, followed in self.followed.items():
            stream = by_name.get(key) or by_id.get(followed.stream_id or -1)
            if stream is None:
                log.warning("stream #%s: not found; it may come back", followed.name)
                continue
            followed.stream_id, followed.name = int(stream["stream_id"]), str(stream["name"])
        self._save()
        for followed in self.followed.values():
            self._tell(followed)

    def apply(self, event: Mapping[str, Any]) -> bool:
        """A `stream` or `subscription` event; True when it may let a held post through (a
        stream renamed, the bot or anyone subscribed)."""
        if event.get("type") == "stream" and event.get("op") == "update":
            if event.get("property") != "name":
                return False
            self._renamed(int(event["stream_id"]), str(event["value"]))
            return True
        if event.get("type") == "subscription" and event.get("op") == "add":
            for sub in event.get("subscriptions", []):
                self._appeared(sub)
            return True
        return event.get("type") == "subscription" and event.get("op") == "peer_add"

    def _renamed(self, stream_id: int, name: str) -> None:
        for followed in self.followed.values():
            if followed.stream_id == stream_id:
                log.info("stream %s: #%s is now #%s", stream_id, followed.name, name)
                followed.name = name
                with self.store.transaction():
                    self._save()
                    self._tell(followed)

    def _appeared(self, stream: Mapping[str, Any]) -> None:
        """A stream of a configured name that the bot did not know of: followed from now on."""
        followed = self.followed.get(str(stream.get("name", "")).casefold())
        if followed is None or followed.stream_id is not None:
            return
        followed.stream_id, followed.name = int(stream["stream_id"]), str(stream["name"])
        self._save()

    def _save(self) -> None:
        known = {k: [f.stream_id, f.name] for k, f in self.followed.items() if f.stream_id}
        with self.store.transaction():
            self.store.set_runner_value(FOLLOWED, json.dumps(known, sort_keys=True))

    def _tell(self, followed: Followed) -> None:
        """Once for each name a followed stream is given, unless it is the configured one."""
        if not followed.renamed:
            return
        key = f"reported:renamed:{followed.stream_id}:{followed.name.casefold()}"
        with self.store.transaction():
            if self.store.runner_value(key) is not None:
                return
            self.store.set_runner_value(key, "1")
            edits = ", ".join(f"[meetings.{m.key}]" for m in followed.meetings)
            self.report(
                f"The stream `{followed.configured}` is now called #**{followed.name}**. I "
                f"follow it there: nothing changes for {_titles(followed.meetings)}. The "
                f'config still says `stream = "{followed.configured}"` in {edits}: change '
                f'it to `stream = "{followed.name}"`.'
            )

    # --- translating --------------------------------------------------------------------------

    def stream_id(self, configured: str) -> int | None:
        followed = self.followed.get(configured.casefold())
        return followed.stream_id if followed else None

    def current(self, configured: str) -> str:
        """The name to post to for a configured one."""
        followed = self.followed.get(configured.casefold())
        return followed.name if followed else configured

    def address(self, configured: str) -> int | str:
        """A stream's id when known: a post by id lands in the stream even if it was renamed a
        moment ago and the event has not come yet."""
        followed = self.followed.get(configured.casefold())
        if followed is None or followed.stream_id is None:
            return self.current(configured)
        return followed.stream_id

    def missing(self, configured: str) -> None:
        """Zulip says the stream is gone (archived): a stream made under the configured name
        later is followed instead."""
        followed = self.followed.get(configured.casefold())
        if followed is None or followed.stream_id is None:
            return
        log.warning("stream %s (#%s) is gone", followed.stream_id, followed.name)
        followed.stream_id, followed.name = None, followed.configured
        self._save()

    def configured(self, stream_id: int, name: str) -> str:
        """The name the service knows a stream by: the configured one for a followed stream,
        whatever Zulip calls it now; `name` for any other."""
        for followed in self.followed.values():
            if followed.stream_id == stream_id:
                return followed.configured
        return name

    def incoming(self, message: Mapping[str, Any]) -> str:
        """The name the service knows a stream message's stream by."""
        return self.configured(int(message["stream_id"]), str(message["display_recipient"]))

    def route(self, row: OutboxRow) -> OutboxRow:
        """A row as it is posted now: to the stream's current name, its links to renamed
        streams pointing at their current names."""
        content = row.content
        for followed in self.followed.values():
            if followed.renamed:
                content = _link(followed.configured).sub(f"#**{followed.name}", content)
        stream = self.current(row.stream) if row.stream is not None else None
        return replace(row, stream=stream, content=content)


def _titles(meetings: tuple[MeetingConfig, ...]) -> str:
    return " and ".join(m.title for m in meetings)
