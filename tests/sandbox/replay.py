"""Replaying a recorded exchange against the sandbox: a realm with the recorded users and
streams (same ids and emails), the recorded request sent as it was (same form strings), and the
answer compared by shape: the same keys, recursively, and the same JSON types."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import requests

from tests.conftest import ZULIP_EXCHANGES
from zulip_bot.sandbox import ManualClock, Sandbox, User
from zulip_bot.sandbox.model import ProfileField

EXCHANGES: Final = ZULIP_EXCHANGES
BOT: Final = "meetbot-bot@zulipdev.com"
#: Dicts whose keys are data (ids, emails), not field names: compared by their values.
MAPS: Final = frozenset({"profile_data", "subscribed", "already_subscribed"})
#: Fields that are null or a value depending on the data, in the real server too.
NULLABLE: Final = frozenset({"creator_id", "first_message_id"})
#: Keys present or not depending on the realm's history: a human's send that starts a topic
#: has `automatic_new_visibility_policy`.
OPTIONAL: Final = frozenset({"automatic_new_visibility_policy"})
#: Lists that are empty or not depending on how the server is set up.
MAY_BE_EMPTY: Final = frozenset({"external_authentication_methods"})
#: Event types the sandbox produces; the recordings also show realm_user, subscription, ...
EVENT_TYPES: Final = (
    "message",
    "reaction",
    "submessage",
    "update_message",
    "delete_message",
    "realm_user",
)

# (user id, full name, login email, role, timezone)
PEOPLE: Final = (
    (26, "Cordelia, Lear's daughter", "cordelia@zulip.com", "member", "Etc/UTC"),
    (27, "Desdemona", "desdemona@zulip.com", "owner", "America/St_Johns"),
    (28, "King Hamlet", "hamlet@zulip.com", "member", ""),
    (29, "Iago", "iago@zulip.com", "admin", "America/New_York"),
    (30, "Othello, the Moor of Venice", "othello@zulip.com", "member", "America/Los_Angeles"),
    (31, "Polonius", "polonius@zulip.com", "guest", "Asia/Shanghai"),
    (32, "Prospero from The Tempest", "prospero@zulip.com", "member", ""),
    (42, "Alice Example", "alice@zulip.com", "member", ""),
    (43, "Bob Example", "bob@zulip.com", "member", ""),
)
GITHUB: Final = {28: "zulipbot", 42: "alice-gh"}


def load(number: int) -> dict[str, Any]:
    path = next(EXCHANGES.glob(f"{number:03d}-*.json"))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def dev_realm(sandbox: Sandbox) -> dict[str, User]:
    """The recorded realm's people and streams, by login email."""
    realm = sandbox.realm
    realm.profile_fields = [ProfileField(17, "GitHub username", 7, '{"subtype":"github"}')]
    people: dict[str, User] = {}
    for user_id, name, email, role, zone in PEOPLE:
        user = realm.add_user(name, email, role=role, user_id=user_id, github=GITHUB.get(user_id))
        user.timezone = zone
        people[email] = user
    iago, hamlet, othello = (
        people["iago@zulip.com"],
        people["hamlet@zulip.com"],
        people["othello@zulip.com"],
    )
    people[BOT] = realm.add_user("Meetbot", BOT, user_id=44, is_bot=True, bot_owner_id=29)
    in_meetings = [
        people[BOT],
        iago,
        hamlet,
        othello,
        people["cordelia@zulip.com"],
        people["alice@zulip.com"],
        people["bob@zulip.com"],
        people["prospero@zulip.com"],
    ]
    realm.add_stream("sandbox", stream_id=10, subscribers=[iago, hamlet])
    realm.add_stream(
        "Denmark",
        stream_id=12,
        subscribers=[iago, hamlet, othello],
        description="A Scandinavian country",
    )
    realm.add_stream(
        "meetings",
        stream_id=30,
        creator=iago,
        subscribers=in_meetings,
        description="Where meetbot runs meetings",
    )
    realm.add_stream(
        "leadership",
        stream_id=31,
        creator=iago,
        invite_only=True,
        subscribers=[iago, othello],
        description="Private stream the bot is NOT in",
    )
    realm.add_stream(
        "hamlet private", stream_id=32, creator=hamlet, invite_only=True, subscribers=[hamlet]
    )
    return people


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Replay:
    """One replay: the sandbox, its people, and recorded id -> sandbox id substitutions."""

    sandbox: Sandbox
    clock: ManualClock
    people: dict[str, User]
    ids: dict[str, str] = field(default_factory=dict)

    def http(
        self,
        method: str,
        path: str,
        values: dict[str, str] | None = None,
        as_user: str | None = BOT,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Answer:
        if auth is None and as_user is not None:
            user = self.people[as_user]
            auth = (user.delivery_email, user.api_key)
        values = {k: self.substitute(str(v)) for k, v in (values or {}).items()}
        where = "params" if method == "GET" else "data"
        response = requests.request(
            method,
            self.sandbox.url + self.substitute(path),
            auth=auth,
            headers=headers,
            timeout=10,
            **{where: values},
        )
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        return Answer(response.status_code, dict(response.headers), body)

    def substitute(self, text: str) -> str:
        def swap(found: re.Match[str]) -> str:
            return self.ids.get(found.group(0), found.group(0))

        return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\b\d+\b", swap, text)

    def send(
        self,
        as_user: str,
        content: str,
        topic: str = "standup",
        to: str = "meetings",
        kind: str = "stream",
        **extra: str,
    ) -> int:
        values = {"type": kind, "to": to, "content": content, **extra}
        if kind == "stream":
            values["topic"] = topic
        answer = self.http("POST", "/api/v1/messages", values, as_user)
        assert answer.status == 200, answer.body
        message_id: int = answer.body["id"]
        return message_id

    def given(self, recorded_id: int, as_user: str, content: str, **where: str) -> None:
        """A message the recorded request refers to by its recorded id."""
        self.ids[str(recorded_id)] = str(self.send(as_user, content, **where))

    def queue(self, as_user: str = BOT, recorded_id: str | None = None, **form: str) -> str:
        values = {"event_types": json.dumps(list(EVENT_TYPES)), **form}
        answer = self.http("POST", "/api/v1/register", values, as_user)
        assert answer.status == 200, answer.body
        queue_id: str = answer.body["queue_id"]
        if recorded_id:
            self.ids[recorded_id] = queue_id
        return queue_id

    def events(self, queue_id: str, as_user: str = BOT) -> list[dict[str, Any]]:
        answer = self.http(
            "GET",
            "/api/v1/events",
            {"queue_id": queue_id, "last_event_id": "-1", "dont_block": "true"},
            as_user,
        )
        assert answer.status == 200, answer.body
        found: list[dict[str, Any]] = answer.body["events"]
        return found

    def exchange(self, step: dict[str, Any], *, auth: tuple[str, str] | None = None) -> Answer:
        request = step["request"]
        values = request.get("form") or request.get("params") or {}
        as_user = request.get("as_user")
        if as_user is not None and as_user not in self.people:
            as_user = None  # the auth exchanges describe their credentials in words
        answer = self.http(
            request["method"],
            request["path"],
            dict(values),
            as_user,
            headers=request.get("headers"),
            auth=auth,
        )
        self._learn_ids(step.get("response", {}).get("body"), answer.body)
        return answer

    def _learn_ids(self, recorded: Any, actual: Any) -> None:
        """A flow's later steps use the ids its earlier steps got back."""
        if isinstance(recorded, dict) and isinstance(actual, dict):
            for key in ("id", "queue_id"):
                if key in recorded and key in actual:
                    self.ids[str(recorded[key])] = str(actual[key])


def shape_problems(recorded: Any, actual: Any, where: str = "$") -> list[str]:
    if isinstance(recorded, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {type(actual).__name__}"]
        if where.rsplit(".", 1)[-1] in MAPS:
            return _same_items(list(recorded.values()), list(actual.values()), where)
        problems = [
            f"{where}: missing key {k!r}" for k in recorded if k not in actual and k not in OPTIONAL
        ]
        problems += [
            f"{where}: unexpected key {k!r}"
            for k in actual
            if k not in recorded and k not in OPTIONAL
        ]
        for key in recorded.keys() & actual.keys():
            problems += shape_problems(recorded[key], actual[key], f"{where}.{key}")
        return problems
    if isinstance(recorded, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {type(actual).__name__}"]
        return _same_items(recorded, actual, where)
    if where.rsplit(".", 1)[-1] in NULLABLE and (recorded is None or actual is None):
        return []
    if type(recorded) is not type(actual):
        return [f"{where}: expected {type(recorded).__name__}, got {type(actual).__name__}"]
    return []


def _same_items(recorded: list[Any], actual: list[Any], where: str) -> list[str]:
    if not actual and where.rsplit(".", 1)[-1] in MAY_BE_EMPTY:
        return []
    if bool(recorded) != bool(actual):
        return [f"{where}: {len(recorded)} items recorded, {len(actual)} here"]
    problems = []
    for index, item in enumerate(actual):
        tries = [shape_problems(r, item, f"{where}[{index}]") for r in recorded]
        if all(tries):
            problems += min(tries, key=len)
    return problems


def recorded_events(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in data.get("events", []) if e["type"] in EVENT_TYPES]


@dataclass(frozen=True)
class Case:
    number: int
    #: Builds what the recorded request refers to.
    given: Callable[[Replay], None] = lambda replay: None
    #: Earlier exchanges replayed first, unchecked, e.g. the vote a duplicate vote repeats.
    before: tuple[int, ...] = ()
    #: The register form of the queue that observed the recorded events.
    queue: dict[str, str] = field(default_factory=dict)
    #: Basic-auth credentials described in words in the recording.
    auth: Callable[[Replay], tuple[str, str]] | None = None
    #: The first step runs while the request waits (a long-poll woken by a send).
    concurrent: bool = False
    #: The recorded id of the observing queue, when the request names it (`queue_id`).
    queue_id: str | None = None


def run(case: Case, replay: Replay) -> Iterator[tuple[str, Any, Any]]:
    """Replays the case; yields (what, recorded, actual) pairs to compare."""
    data = load(case.number)
    case.given(replay)
    for earlier in case.before:
        for step in _steps(load(earlier)):
            replay.exchange(step)
    observed = recorded_events(data)
    form = _queue_form(observed, case.queue)
    queue_id = replay.queue(recorded_id=case.queue_id, **form) if "events" in data else None
    steps = _steps(data)
    auth = case.auth(replay) if case.auth else None
    if case.concurrent:
        main, later = steps[0], steps[1:]
        holder: list[Answer] = []
        waiting = threading.Thread(target=lambda: holder.append(replay.exchange(main, auth=auth)))
        waiting.start()
        time.sleep(0.1)
        answers = [replay.exchange(step) for step in later]
        waiting.join(timeout=10)
        answers.insert(0, holder[0])
    else:
        answers = [
            replay.exchange(step, auth=auth if i == 0 else None) for i, step in enumerate(steps)
        ]
    body = data.get("response", {}).get("body")
    left_out = set(body.get("_omitted_keys", [])) if isinstance(body, dict) else set()
    for index, (step, answer) in enumerate(zip(steps, answers, strict=True)):
        response = step["response"]
        if left_out and isinstance(answer.body, dict):
            answer.body = {k: v for k, v in answer.body.items() if k not in left_out}
        yield f"step {index} status", response["status"], answer.status
        yield f"step {index} content type", _media(response["headers"]), _media(answer.headers)
        rate = "X-RateLimit-Limit" in response["headers"]
        yield f"step {index} rate-limit headers", rate, "X-RateLimit-Limit" in answer.headers
        yield f"step {index} body", _comparable(response["body"]), answer.body
    if queue_id is not None:
        events = replay.events(queue_id)
        yield "event types", [e["type"] for e in observed], [e["type"] for e in events]
        yield "events", observed, events


def _steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    main = [{"request": data["request"], "response": data["response"]}] if "request" in data else []
    steps: list[dict[str, Any]] = main + data.get("steps", [])
    return steps


def _queue_form(observed: list[dict[str, Any]], given: dict[str, str]) -> dict[str, str]:
    """The recorded queue's apply_markdown and client_gravatar, read off its message events."""
    form = dict(given)
    shown = [e["message"] for e in observed if e["type"] == "message"]
    if shown and "apply_markdown" not in form:
        form["apply_markdown"] = json.dumps(shown[0]["content_type"] == "text/html")
    return form


def _media(headers: dict[str, str]) -> str:
    return headers.get("Content-Type", "").split(";")[0]


def _comparable(body: Any) -> Any:
    """Shortened /register bodies list what they left out; their samples are renamed."""
    if not isinstance(body, dict) or "_omitted_keys" not in body:
        return body
    return {
        k: v
        for k, v in body.items()
        if k != "_omitted_keys" and not re.search(r"_(first_|count$)", k)
    }
