"""HTTP for the sandbox: routing, basic auth with the login email, the per-user rate limit
(the events endpoint counted apart, as Tornado does), scripted faults, and Zulip's answers for
unknown paths (an HTML 404) and wrong methods (a 405 with a JSON body labelled text/html).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import socket
import threading
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from zulip_bot.sandbox import api, api_events
from zulip_bot.sandbox.errors import ApiError
from zulip_bot.sandbox.faults import API_PREFIX, Fault, Faults, api_path
from zulip_bot.sandbox.model import User
from zulip_bot.sandbox.params import Params
from zulip_bot.sandbox.ratelimit import Decision, SlidingWindowLimiter
from zulip_bot.sandbox.state import Realm

log = logging.getLogger(__name__)

_NOT_FOUND: Final = (
    '<!DOCTYPE html>\n<html lang="en"><head><title>Page not found</title></head>'
    "<body><h1>Page not found (404)</h1>"
    "<p>The Zulip sandbox has no page at {path}.</p></body></html>"
)
_SERVER_ERROR: Final = (
    "<html><body><h1>{status} Server Error</h1><p>Injected by the sandbox.</p></body></html>"
)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: api.Handler
    public: bool = False
    #: Tornado's endpoint: its own rate-limit counter.
    events: bool = False


def _route(method: str, path: str, handler: api.Handler, **kw: bool) -> Route:
    return Route(method, re.compile(path + r"\Z"), handler, **kw)


ROUTES: Final = (
    _route("GET", "/server_settings", api.server_settings, public=True),
    _route("GET", "/users/me", api.users_me),
    _route("GET", "/users", api.users),
    _route("GET", r"/users/([^/]+)", api.user),
    _route("DELETE", r"/users/(\d+)", api.deactivate_user),
    _route("POST", r"/users/(\d+)/reactivate", api.reactivate_user),
    _route("GET", "/realm/profile_fields", api.profile_fields),
    _route("PATCH", "/realm", api.update_realm),
    _route("GET", "/streams", api.streams),
    _route("GET", r"/streams/(\d+)", api.stream),
    _route("GET", r"/streams/(\d+)/members", api.stream_members),
    _route("GET", "/get_stream_id", api.stream_id),
    _route("GET", "/users/me/subscriptions", api.subscriptions),
    _route("GET", r"/users/([^/]+)/subscriptions/(\d+)", api.subscription_status),
    _route("GET", r"/users/me/(\d+)/topics", api.stream_topics),
    _route("POST", "/users/me/subscriptions", api.subscribe),
    _route("DELETE", "/users/me/subscriptions", api.unsubscribe),
    _route("POST", "/messages", api.send_message),
    _route("GET", "/messages", api.get_messages),
    _route("GET", r"/messages/(\d+)", api.get_message),
    _route("POST", "/messages/render", api.render_message),
    _route("PATCH", r"/messages/(\d+)", api.edit_message),
    _route("DELETE", r"/messages/(\d+)", api.delete_message),
    _route("POST", r"/messages/(\d+)/reactions", api.add_reaction),
    _route("DELETE", r"/messages/(\d+)/reactions", api.remove_reaction),
    _route("POST", "/submessage", api.submessage),
    _route("POST", "/register", api_events.register),
    _route("GET", "/events", api_events.get_events, events=True),
    _route("DELETE", "/events", api_events.delete_queue, events=True),
)


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] | None = None


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(body).encode(), headers=headers)


def _error(error: ApiError, headers: dict[str, str] | None = None) -> Answer:
    return _json(error.status, error.body(), headers)


def rate_limited(retry_after: float) -> ApiError:
    return ApiError(
        "API usage exceeded rate limit", "RATE_LIMIT_HIT", 429, {"retry-after": retry_after}
    )


class App:
    """Everything a request needs, shared by the handler threads."""

    def __init__(
        self,
        realm: Realm,
        faults: Faults,
        api_limiter: SlidingWindowLimiter,
        events_limiter: SlidingWindowLimiter,
    ) -> None:
        self.realm = realm
        self.faults = faults
        self.api_limiter = api_limiter
        self.events_limiter = events_limiter
        #: Set when the sandbox stops, so that scripted delays end at once.
        self.stopping = threading.Event()

    def authenticate(self, header: str | None) -> User:
        if not header:
            raise ApiError(
                "Not logged in: API authentication or user session required", "UNAUTHORIZED", 401
            )
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            raise ApiError("This endpoint requires HTTP basic authentication.")
        try:
            email, _, key = base64.b64decode(encoded.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError("Invalid authorization header for basic auth") from None
        with self.realm.condition:
            user = self.realm.user_by_login(email)
        if user is None or not key or user.api_key != key:
            raise ApiError("Invalid API key", "UNAUTHORIZED", 401)
        if not user.is_active:
            raise ApiError("Account is deactivated", "UNAUTHORIZED", 401)
        return user

    def answer(
        self,
        method: str,
        path: str,
        query: str,
        body: str,
        auth: str | None,
        agent: str,
        fault: Fault | None,
    ) -> Answer:
        route, args, allowed = self._match(method, path)
        if route is None:
            if allowed:
                return self._not_allowed(allowed)
            return Answer(
                404, _NOT_FOUND.format(path=API_PREFIX + path).encode(), "text/html; charset=utf-8"
            )
        user = None
        decision: Decision | None = None
        if not route.public:
            try:
                user = self.authenticate(auth)
            except ApiError as error:
                headers = (
                    {"WWW-Authenticate": 'Basic realm="zulip"'} if error.status == 401 else None
                )
                return _error(error, headers)
            limiter = self.events_limiter if route.events else self.api_limiter
            if fault is not None and fault.kind == "429":
                return self._scripted_429(limiter, fault.retry_after)
            decision = limiter.check(user.user_id)
            if not decision.allowed:
                return _error(rate_limited(decision.retry_after), decision.headers())
        rate_headers = decision.headers() if decision else None
        if fault is not None and fault.kind == "expire" and user is not None:
            self.realm.queues.expire(user.user_id)
        params = Params(
            {
                **dict(parse_qsl(query, keep_blank_values=True)),
                **dict(parse_qsl(body, keep_blank_values=True)),
            }
        )
        call = api.Call(self.realm, params, user, args, agent)
        try:
            result = route.handler(call)
        except ApiError as error:
            return _error(error, rate_headers)
        reply = result if isinstance(result, api.Reply) else api.Reply(result)
        payload = {"result": "success", "msg": "", **reply.payload}
        ignored = params.ignored()
        if ignored:
            payload["ignored_parameters_unsupported"] = ignored
        return _json(200, payload, rate_headers if reply.rate_headers else None)

    def _scripted_429(self, limiter: SlidingWindowLimiter, retry_after: float) -> Answer:
        """Refused like a real 429, so not counted against the window either."""
        reset = int(self.realm.clock.now() + retry_after)
        refused = Decision(False, limiter.rule.requests, 0, reset, retry_after)
        return _error(rate_limited(retry_after), refused.headers())

    def _match(self, method: str, path: str) -> tuple[Route | None, tuple[str, ...], list[str]]:
        allowed = []
        for route in ROUTES:
            found = route.pattern.match(path)
            if found:
                if route.method == method:
                    return route, found.groups(), []
                allowed.append(route.method)
        return None, (), allowed

    def _not_allowed(self, allowed: list[str]) -> Answer:
        methods = sorted(set(allowed) | ({"HEAD"} if "GET" in allowed else set()))
        body = {"result": "error", "msg": "Method Not Allowed", "allowed_methods": methods}
        return Answer(
            405,
            json.dumps(body).encode(),
            "text/html; charset=utf-8",
            {"Allow": ", ".join(methods)},
        )


class Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    server_version = "ZulipSandbox/1"
    #: A client that opens a connection and sends nothing must not keep `stop()` waiting.
    timeout = 30

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_GET

    def _dispatch(self) -> None:
        app = self.server.app
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        if not parts.path.startswith(API_PREFIX + "/"):
            page = _NOT_FOUND.format(path=parts.path).encode()
            self._send(Answer(404, page, "text/html; charset=utf-8"))
            return
        path = api_path(parts.path)
        fault = app.faults.take(self.command, path)
        if fault is not None and fault.kind == "drop":
            self._hang_up()
            return
        if fault is not None and fault.kind.isdigit() and fault.kind != "429":
            status = int(fault.kind)
            self._send(Answer(status, _SERVER_ERROR.format(status=status).encode(), "text/html"))
            return
        if fault is not None and fault.kind == "delay":
            app.stopping.wait(fault.seconds)
        try:
            answer = app.answer(
                self.command,
                path,
                parts.query,
                body,
                self.headers.get("Authorization"),
                self.headers.get("User-Agent", ""),
                fault,
            )
        except Exception:  # a bug in the sandbox must show, not hang the client
            log.error("sandbox error on %s %s\n%s", self.command, self.path, traceback.format_exc())
            answer = _json(500, {"result": "error", "msg": "Internal server error"})
        if fault is not None and fault.kind == "drop_after":
            self._hang_up()
            return
        self._send(answer)

    def _hang_up(self) -> None:
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, answer: Answer) -> None:
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in (answer.headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting; nothing is lost on our side

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class SandboxHTTPServer(ThreadingHTTPServer):
    """`server_close()` waits for every request thread, so a stopped sandbox leaves none."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, app: App, port: int = 0) -> None:
        self.app = app
        super().__init__(("127.0.0.1", port), Handler)


def serve(app: App, port: int = 0) -> tuple[SandboxHTTPServer, threading.Thread]:
    server = SandboxHTTPServer(app, port)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.01},
        name="zulip-sandbox",
        daemon=True,
    )
    thread.start()
    return server, thread
