"""The sandbox as tests and `meetbot sandbox` use it: start, seed, hand out zuliprc files, stop."""

from __future__ import annotations

import configparser
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import zulip

from zulip_bot.sandbox.clock import Clock, SystemClock
from zulip_bot.sandbox.events import QueueSettings
from zulip_bot.sandbox.faults import Faults
from zulip_bot.sandbox.model import Stream, User, UserGroup
from zulip_bot.sandbox.ratelimit import RateLimit, SlidingWindowLimiter
from zulip_bot.sandbox.server import App, SandboxHTTPServer, serve
from zulip_bot.sandbox.state import Realm, RealmSettings


@dataclass(frozen=True)
class SandboxSettings:
    rate_limit: RateLimit = field(default_factory=RateLimit)
    events_rate_limit: RateLimit = field(default_factory=RateLimit)
    heartbeat_seconds: float = 50.0
    queue_timeout_seconds: float = 600.0
    edit_limit_seconds: int | None = 600
    hide_emails: bool = True
    fake_email_domain: str = "zulipdev.com"
    realm_name: str = "Zulip Sandbox"
    port: int = 0


class Sandbox:
    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.realm = Realm(
            clock,
            RealmSettings(
                name=settings.realm_name,
                fake_email_domain=settings.fake_email_domain,
                hide_emails=settings.hide_emails,
                edit_limit_seconds=settings.edit_limit_seconds,
            ),
            QueueSettings(settings.heartbeat_seconds, settings.queue_timeout_seconds),
        )
        self.faults = Faults()
        self.api_limiter = SlidingWindowLimiter(settings.rate_limit, clock)
        self.events_limiter = SlidingWindowLimiter(settings.events_rate_limit, clock)
        self._app: App | None = None
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def start(cls, *, clock: Clock | None = None, **settings: Any) -> Sandbox:
        """`settings` are `SandboxSettings` fields, e.g. `heartbeat_seconds=0.5`."""
        sandbox = cls(SandboxSettings(**settings), clock or SystemClock())
        sandbox._app = App(
            sandbox.realm, sandbox.faults, sandbox.api_limiter, sandbox.events_limiter
        )
        sandbox._server, sandbox._thread = serve(sandbox._app, sandbox.settings.port)
        sandbox.realm.url = sandbox.url
        return sandbox

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; use Sandbox.start()")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_user(self, full_name: str, email: str, **options: Any) -> User:
        """Options: role, github, email_visible, user_id, api_key (see `Realm.add_user`)."""
        return self.realm.add_user(full_name, email, **options)

    def add_bot(
        self,
        full_name: str,
        *,
        short_name: str | None = None,
        owner: User | None = None,
        **options: Any,
    ) -> User:
        """A generic bot, `<short_name>-bot@<fake domain>` as Zulip names them."""
        short = short_name or full_name.casefold().replace(" ", "-")
        email = f"{short}-bot@{self.settings.fake_email_domain}"
        owner_id = owner.user_id if owner else None
        return self.realm.add_user(full_name, email, is_bot=True, bot_owner_id=owner_id, **options)

    def add_stream(self, name: str, *, subscribers: Iterable[User] = (), **options: Any) -> Stream:
        return self.realm.add_stream(name, subscribers=subscribers, **options)

    def add_user_group(
        self, name: str, members: Iterable[User] = (), *, description: str = ""
    ) -> UserGroup:
        """A group people mention as `@*name*` (mentioning notifies its active members)."""
        return self.realm.add_user_group(name, members, description=description)

    def subscribe(self, user: User, stream_name: str) -> None:
        stream = self.realm.stream_by_name(stream_name)
        if stream is None:
            raise ValueError(f"no stream named {stream_name!r}; add it with add_stream")
        self.realm.subscribe(user, stream)

    def user(self, email: str) -> User:
        found = self.realm.user_by_login(email)
        if found is None:
            raise ValueError(f"no user logs in as {email}")
        return found

    def deactivate(self, email: str, *, active: bool = False) -> None:
        """As an admin deactivating someone: they can no longer log in, be messaged or mentioned.
        `active=True` brings them back."""
        self.realm.set_active(self.user(email).user_id, active)

    def set_edit_limit(self, seconds: int | None) -> None:
        """As an admin changing the realm's message edit limit (None: no limit); queues
        registered for `realm` events hear of it as Zulip tells them."""
        self.realm.set_message_limits({"message_content_edit_limit_seconds": seconds})

    def rename_stream(self, old: str, new: str, *, by: User) -> None:
        """As an administrator renaming it (PATCH /streams/{id} `new_name`): messages keep
        their stream and show its new name from now on; the `stream` event and Notification
        Bot's note go out as Zulip sends them."""
        stream = self.realm.stream_by_name(old)
        if stream is None:
            raise ValueError(f"no stream named {old!r}")
        self.realm.rename_stream(by, stream, new)

    def zuliprc(self, path: Path | str, email: str) -> Path:
        user = self.user(email)
        config = configparser.ConfigParser(interpolation=None)
        config["api"] = {"email": user.delivery_email, "key": user.api_key, "site": self.url}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            config.write(handle)
        return path

    def client(self, email: str, **options: Any) -> zulip.Client:
        """A `zulip.Client` logged in as that user."""
        user = self.user(email)
        return zulip.Client(
            email=user.delivery_email, api_key=user.api_key, site=self.url, **options
        )

    def expire_queues(self, email: str | None = None) -> int:
        """Garbage-collects every event queue (or one user's), as a long idle spell would."""
        user_id = self.user(email).user_id if email else None
        return self.realm.queues.expire(user_id)

    def stop(self) -> None:
        if self._server is None:
            return
        self.realm.queues.close()
        if self._app is not None:
            self._app.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
