"""The one wrapper over `zulip.Client`: every request meetbot makes goes through `ZulipApi.call`.

The official client returns errors as dicts, knows nothing of HTTP 429, retries 5xx and dropped
connections on its own fixed 1 s schedule and never says whether a failed POST reached the
server. Here it is built with `retry_on_errors=False`, so that this module alone decides, in one
deterministic place, what is retried and how: a 429 waits `Retry-After`; 5xx, timeouts and
dropped connections back off exponentially with jitter; any other 4xx is raised at once as
`ApiError`. A request that is not idempotent (sending a message) is never retried blindly
after an answer that may hide a success: it raises `Uncertain`, and the caller checks what
reached Zulip before sending again. A client-side budget keeps the bot under the server's rate
limit, so that normal use never meets a 429. Clock, sleep and jitter are injectable for tests.
"""

from __future__ import annotations

import configparser
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import requests
import zulip

log = logging.getLogger(__name__)

#: Zulip's `MAX_MESSAGE_LENGTH`: longer content is silently cut to this with
#: "[message truncated]" (recordings #078, #079), so the bot splits before sending.
MAX_MESSAGE_LENGTH: Final = 10_000
#: Zulip's `MAX_TOPIC_NAME_LENGTH`; longer topics become the first 57 characters + "...".
MAX_TOPIC_LENGTH: Final = 60
#: Zulip's default `api_by_user` rule: 200 accepted requests in any sliding 60 s.
DEFAULT_LIMIT: Final = 200
DEFAULT_WINDOW: Final = 60.0
#: The long-poll endpoint, which Tornado rate-limits with a counter of its own.
EVENTS: Final = "events"
#: How long a long-poll is waited for at most: the official client's own 90 s, past Zulip's
#: heartbeat, so only a connection that died in silence meets it.
LONGPOLL_WAIT: Final = 90.0


class ZulipFailure(Exception):
    """Anything the wrapper gives up on."""


class ApiError(ZulipFailure):
    """The server refused the request and sending it again would not change that."""

    def __init__(self, status: int, code: str, msg: str, body: Mapping[str, Any]) -> None:
        self.status, self.code, self.msg, self.body = status, code, msg, dict(body)
        super().__init__(f"HTTP {status} {code}: {msg}")


class Unavailable(ZulipFailure):
    """The server could not be reached or kept failing; the request had no effect."""


class Uncertain(Unavailable):
    """A request that is not idempotent failed in a way that may hide a success: the
    connection dropped or the server erred after it may have acted on it."""


class StartupError(Exception):
    """meetbot cannot start; the message names the file and the fix."""


# --- content limits ---------------------------------------------------------------------------


def fit_topic(topic: str) -> str:
    """The topic Zulip will file the message under: stripped and, past 60 characters, cut the
    way the server cuts it, so that what the bot remembers matches what Zulip shows."""
    topic = topic.strip()
    if len(topic) <= MAX_TOPIC_LENGTH:
        return topic
    return topic[: MAX_TOPIC_LENGTH - 3] + "..."


def _pieces(text: str, separator: str) -> list[str]:
    parts = text.split(separator)
    return [part + separator for part in parts[:-1]] + [parts[-1]]


def split_content(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Parts of at most `limit` characters that joined give `text` back: cut between
    paragraphs where possible, else between lines, and only a line longer than a whole
    message is cut inside. Zulip would truncate the rest silently."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for paragraph in _pieces(text, "\n\n"):
        units = [paragraph] if len(paragraph) <= limit else _pieces(paragraph, "\n")
        for unit in units:
            chunks = [unit[i : i + limit] for i in range(0, len(unit), limit)] or [""]
            for chunk in chunks:
                if len(current) + len(chunk) > limit:
                    parts.append(current)
                    current = ""
                current += chunk
    parts.append(current)
    return [part for part in parts if part]


# --- the budget -------------------------------------------------------------------------------


@dataclass
class RateBudget:
    """A sliding log of this client's own requests, as the server keeps one per user, with a
    margin; and what the server's `X-RateLimit-*` headers say, which also counts requests
    other processes made with the same key."""

    limit: int = DEFAULT_LIMIT
    window: float = DEFAULT_WINDOW
    margin: float = 0.1  # keep this share of the limit unused
    sent: deque[float] = field(default_factory=deque)
    remaining: int | None = None  # from the last response's headers
    reset_at: float | None = None  # monotonic time when the server's window frees up

    def allowance(self) -> int:
        return max(1, int(self.limit * (1 - self.margin)))

    def delay(self, now: float) -> float:
        """How long to wait before the next request may go out."""
        while self.sent and self.sent[0] <= now - self.window:
            self.sent.popleft()
        wait = 0.0
        if len(self.sent) >= self.allowance():
            wait = self.sent[len(self.sent) - self.allowance()] + self.window - now
        reserve = self.limit - self.allowance()
        if self.remaining is not None and self.reset_at is not None and self.remaining <= reserve:
            wait = max(wait, self.reset_at - now)
        return max(0.0, wait)

    def record(self, now: float) -> None:
        self.sent.append(now)
        if self.remaining is not None:
            self.remaining -= 1

    def observe(self, headers: Mapping[str, str], now: float, wall: float) -> None:
        try:
            limit = int(headers["X-RateLimit-Limit"])
            remaining = int(headers["X-RateLimit-Remaining"])
            reset = float(headers["X-RateLimit-Reset"])
        except (KeyError, ValueError):
            return
        self.limit = max(1, limit)
        self.remaining = remaining
        self.reset_at = now + max(0.0, reset - wall)
        if self.reset_at <= now:
            self.remaining = None


# --- retries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff, jittered over its upper half, for trouble that passes; `attempts`
    bounds one call, after which the caller decides (the runner keeps its outbox and tries
    again later, so a long outage is never fatal)."""

    attempts: int = 8
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0

    def backoff(self, failures: int, jitter: float) -> float:
        delay: float = min(self.cap, self.base * 2.0 ** (failures - 1))
        return delay * (0.5 + jitter / 2)


@dataclass
class CallStats:
    requests: int = 0  # HTTP requests sent, retries included
    rate_limited: int = 0  # 429s met
    retries: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)


@dataclass
class _Answer:
    status: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)


def _retry_after(answer: _Answer, body: Mapping[str, Any]) -> float:
    """Zulip sends `Retry-After` as a float string and `retry-after` in the body (#252)."""
    for value in (answer.headers.get("Retry-After"), body.get("retry-after")):
        try:
            return max(0.0, float(value))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return 1.0


class ZulipApi:
    def __init__(
        self,
        client: zulip.Client,
        *,
        policy: RetryPolicy = RetryPolicy(),
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.policy = policy
        self.clock, self.wall, self.sleep, self.jitter = clock, wall, sleep, jitter
        self.stats = CallStats()
        self.budgets = {"api": RateBudget(), EVENTS: RateBudget()}
        self._answer = _Answer()
        client.retry_on_errors = False
        client.ensure_session()
        session = client.session
        assert isinstance(session, requests.Session)
        session.hooks["response"].append(self._observe)

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """The zulip client returns only the JSON body; status and headers come from here."""
        self._answer = _Answer(response.status_code, response.headers)

    def call(
        self,
        method: str,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotent: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """The JSON body of a successful answer. Raises `ApiError` for a refusal,
        `Unavailable` after `policy.attempts` failures, `Uncertain` (at once) when a request
        that is not idempotent may have reached the server."""
        budget = self.budgets[EVENTS if endpoint == EVENTS else "api"]
        failures = 0
        while True:
            wait = budget.delay(self.clock())
            if wait > 0:
                log.debug("rate budget: waiting %.2f s before %s %s", wait, method, endpoint)
                self.sleep(wait)
            budget.record(self.clock())
            self.stats.requests += 1
            self.stats.by_endpoint[endpoint] = self.stats.by_endpoint.get(endpoint, 0) + 1
            self._answer = _Answer()
            try:
                body = self.client.call_endpoint(
                    url=endpoint,
                    method=method,
                    request=dict(params or {}),
                    timeout=timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                polled = (method, endpoint) == ("GET", EVENTS)
                if polled and isinstance(error, requests.ReadTimeout):
                    raise  # a long-poll's wait is over: `events` says so
                problem = f"{type(error).__name__}: {error}"
                if not idempotent:
                    raise Uncertain(f"{method} {endpoint}: {problem}") from error
                failures = self._back_off(failures, method, endpoint, problem)
                continue
            answer = self._answer
            budget.observe(answer.headers, self.clock(), self.wall())
            status = answer.status or int(body.get("status_code", 0) or 0)
            if body.get("result") == "success" and status < 400:
                return body
            if status == 429 or body.get("code") == "RATE_LIMIT_HIT":
                self.stats.rate_limited += 1
                wait = min(_retry_after(answer, body), self.policy.max_retry_after)
                log.warning(
                    "429 on %s %s: waiting %.1f s as the server asks", method, endpoint, wait
                )
                self.sleep(wait)
                continue
            if status >= 500 or status == 0:
                problem = f"HTTP {status or '?'}: {body.get('msg', '')}"
                if not idempotent:
                    raise Uncertain(f"{method} {endpoint}: {problem}")
                failures = self._back_off(failures, method, endpoint, problem)
                continue
            raise ApiError(status, str(body.get("code", "")), str(body.get("msg", "")), body)

    def _back_off(self, failures: int, method: str, endpoint: str, problem: str) -> int:
        failures += 1
        if failures >= self.policy.attempts:
            raise Unavailable(f"{method} {endpoint} failed {failures} times, last: {problem}")
        wait = self.policy.backoff(failures, self.jitter())
        self.stats.retries += 1
        log.warning("%s %s: %s; retrying in %.2f s", method, endpoint, problem, wait)
        self.sleep(wait)
        return failures

    # --- the calls meetbot makes ------------------------------------------------------------

    def send(
        self,
        content: str,
        *,
        stream: str | int | None = None,
        topic: str | None = None,
        to: list[int | str] | None = None,
        local_id: str | None = None,
        queue_id: str | None = None,
    ) -> int:
        """Post one message of at most 10,000 characters (callers split with
        `split_content`); returns its id. `local_id` and `queue_id` make Zulip echo the id
        in that queue's message event, which tells a lost answer from a lost post."""
        if len(content) > MAX_MESSAGE_LENGTH:
            raise ValueError(f"{len(content)} characters: split the content first")
        params: dict[str, Any] = {"content": content}
        if stream is not None:
            params.update(type="stream", to=stream, topic=fit_topic(topic or ""))
        else:
            params.update(type="private", to=list(to or []))
        if local_id is not None and queue_id is not None:
            params.update(local_id=local_id, queue_id=queue_id)
        body = self.call("POST", "messages", params, idempotent=False)
        return int(body["id"])

    def edit(self, message_id: int, content: str) -> None:
        """Editing to the same content twice changes nothing, so a retry is safe."""
        if len(content) > MAX_MESSAGE_LENGTH:
            raise ValueError(f"{len(content)} characters: an edit cannot be split")
        self.call("PATCH", f"messages/{message_id}", {"content": content})

    def react(self, message_id: int, emoji: str) -> None:
        """Adding a reaction twice is refused as REACTION_ALREADY_EXISTS: that is a success
        for a retry whose first try reached the server."""
        try:
            self.call("POST", f"messages/{message_id}/reactions", {"emoji_name": emoji})
        except ApiError as error:
            if error.code != "REACTION_ALREADY_EXISTS":
                raise

    def messages(
        self,
        anchor: int | str,
        *,
        num_after: int = 0,
        num_before: int = 0,
        narrow: list[dict[str, Any]] | None = None,
        include_anchor: bool = False,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "anchor": anchor,
            "num_before": num_before,
            "num_after": num_after,
            "include_anchor": include_anchor,
            "apply_markdown": False,
            "narrow": narrow or [],
        }
        return self.call("GET", "messages", params)

    def register(self, event_types: list[str], **options: Any) -> dict[str, Any]:
        return self.call(
            "POST", "register", {"event_types": event_types, "apply_markdown": False, **options}
        )

    def events(
        self,
        queue_id: str,
        last_event_id: int,
        dont_block: bool = False,
        *,
        wait: float = LONGPOLL_WAIT,
    ) -> list[Any]:
        """The queue's events after `last_event_id`. Unless `dont_block`, Zulip holds the
        request until there are some or its heartbeat (45-55 s on a quiet queue); here it is
        given up after `wait` seconds, which is no loss: nothing is acknowledged until the next
        poll names it, and Zulip ends a poll that a newer one replaces. So a caller with
        something to do at a given moment never waits for a heartbeat."""
        params = {"queue_id": queue_id, "last_event_id": last_event_id, "dont_block": dont_block}
        try:
            body = self.call("GET", EVENTS, params, timeout=None if dont_block else wait)
        except requests.ReadTimeout:
            return []
        events: list[Any] = body.get("events", [])
        return events


# --- start-up ---------------------------------------------------------------------------------

_ZULIPRC_FIX: Final = (
    "download the bot's zuliprc from Zulip (Settings > Personal > Bots, the bot's download "
    "icon) and name it with --zuliprc or `zuliprc` in the config"
)


def connect(
    zuliprc: Path, client_name: str = "meetbot", **options: Any
) -> tuple[ZulipApi, dict[str, Any]]:
    """A checked connection: the file read, the server reached, the key accepted. Every
    failure says which file and what to do, since the bot cannot run without it."""
    if not zuliprc.is_file():
        raise StartupError(f"{zuliprc}: the zuliprc does not exist; {_ZULIPRC_FIX}")
    try:
        # retry_on_errors=False here too: its own 1 s x 10 retries would hide a bad `site=`
        client = zulip.Client(config_file=str(zuliprc), client=client_name, retry_on_errors=False)
    except (configparser.Error, zulip.ZulipError, KeyError, UnicodeDecodeError) as error:
        if isinstance(error, zulip.UnrecoverableNetworkError):
            raise StartupError(
                f"{zuliprc}: cannot reach the Zulip server it names ({error}); check `site=` "
                "in that file and that the server is up"
            ) from None
        said = " ".join(str(error).split())  # configparser's messages span lines
        raise StartupError(
            f"{zuliprc}: not a usable zuliprc ({type(error).__name__}: {said}); it needs an "
            f"[api] section with email, key and site; {_ZULIPRC_FIX}"
        ) from None
    except (requests.RequestException, AssertionError, ValueError) as error:
        raise StartupError(
            f"{zuliprc}: the server named by `site=` did not answer like Zulip ({error}); "
            "check the address in that file"
        ) from None
    api = ZulipApi(client, **options)
    try:
        me = api.call("GET", "users/me")
    except ApiError as error:
        if error.status == 401:
            raise StartupError(
                f"{zuliprc}: Zulip refused the bot's email and API key ({error.msg}); "
                f"the key may have been regenerated or the bot deactivated; {_ZULIPRC_FIX}"
            ) from None
        raise StartupError(f"{zuliprc}: GET /users/me was refused: {error}") from None
    except Unavailable as error:
        raise StartupError(
            f"{zuliprc}: the Zulip server stopped answering at start-up ({error}); check "
            "`site=` in that file and that the server is up"
        ) from None
    return api, me
