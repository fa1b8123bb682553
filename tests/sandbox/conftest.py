"""A sandbox per test, real `zulip.Client`s on it, and every response they get checked against
the Zulip OpenAPI spec (`tests/data/zulip-openapi/zulip.yaml`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import yaml
import zulip
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_schema_validator import OAS30Validator

from tests.conftest import ZULIP_SPEC
from zulip_bot.sandbox import ManualClock, Sandbox, User

SPEC = ZULIP_SPEC
#: Endpoints the spec leaves out (the recordings' README says so; this copy of the spec has no
#: PATCH /realm either): test_recordings checks their answers' shapes.
UNDOCUMENTED = ("/api/v1/submessage", "/api/v1/realm")
#: Where the recordings show the spec is wrong (the recordings are right): path -> extra keys.
SPEC_DEVIATIONS = {
    # #004: GET /users/me as a bot has bot_type and bot_owner_id, which the spec forbids.
    "/api/v1/users/me": ("bot_type", "bot_owner_id"),
}


@dataclass(frozen=True)
class Spec:
    openapi: OpenAPI
    #: An error status an operation does not document (e.g. 400 "No such user" on GET
    #: /users/{id}, #016) is checked against the spec's generic coded error.
    coded_error: Any


@pytest.fixture(scope="session")
def spec() -> Spec:
    if not SPEC.is_file():
        pytest.skip(f"the Zulip OpenAPI spec is not there: {SPEC} is absent")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=loader)
    coded = {"$ref": "#/components/schemas/CodedErrorBase", "components": document["components"]}
    return Spec(
        OpenAPI.from_dict(document, config=Config(spec_validator_cls=None)),
        OAS30Validator(coded),
    )


@dataclass
class Checked:
    method: str
    path: str
    status: int


@dataclass
class SpecChecker:
    """Validates each response a watched client received, at the end of the test."""

    spec: Spec
    responses: list[requests.Response] = field(default_factory=list)

    def watch(self, client: zulip.Client) -> zulip.Client:
        client.ensure_session()
        client.session.hooks["response"].append(self._keep)
        return client

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.responses.append(response)

    def check(self) -> list[Checked]:
        failures, checked = [], []
        for response in self.responses:
            request = response.request
            path = request.path_url.split("?")[0]
            if path in UNDOCUMENTED:
                continue
            try:
                self.spec.openapi.validate_response(
                    RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response)
                )
            except ResponseNotFound:
                if response.status_code < 400:
                    failures.append(f"{request.method} {path}: {response.status_code} undocumented")
                    continue
                self.spec.coded_error.validate(response.json())
            except Exception as error:  # openapi-core raises several kinds
                if not _known_deviation(path, response, error):
                    failures.append(
                        f"{request.method} {path} {response.status_code}: {error!r}"
                        f" {_schema_errors(error)}"
                    )
                    continue
            checked.append(Checked(str(request.method), path, response.status_code))
        assert not failures, "responses that do not match zulip.yaml:\n" + "\n".join(failures)
        return checked


def _schema_errors(error: BaseException) -> list[str]:
    cause = error.__cause__
    return [str(e).splitlines()[0] for e in getattr(cause, "schema_errors", [])]


def _known_deviation(path: str, response: requests.Response, error: BaseException) -> bool:
    messages = _schema_errors(error)
    # The spec's error `oneOf`s overlap, so a plain coded error is valid under several branches.
    if messages and all("is valid under each of" in m for m in messages):
        return True
    extra = SPEC_DEVIATIONS.get(path)
    if extra is None or not messages:
        return False
    body = response.json()
    stripped = {k: v for k, v in body.items() if k not in extra}
    return stripped != body and all(
        "were unexpected" in m or "was unexpected" in m for m in messages
    )


@dataclass
class World:
    """A small community: an admin who owns the bot, a member, a guest, one public and one
    private stream."""

    sandbox: Sandbox
    clock: ManualClock
    checker: SpecChecker
    alice: User
    bob: User
    guest: User
    bot: User

    def client(self, user: User) -> zulip.Client:
        return self.checker.watch(self.sandbox.client(user.delivery_email))


@pytest.fixture(autouse=True)
def no_threads_left() -> Iterator[None]:
    """Every sandbox a test starts is stopped, with its request threads, by the test's end."""
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for thread in left:
        thread.join(timeout=2)
    assert not [t.name for t in left if t.is_alive()], "threads left running"


@pytest.fixture
def sandbox() -> Iterator[tuple[Sandbox, ManualClock]]:
    clock = ManualClock(time.time())
    with Sandbox.start(clock=clock, heartbeat_seconds=0.3, queue_timeout_seconds=600) as running:
        yield running, clock


@pytest.fixture
def world(sandbox: tuple[Sandbox, ManualClock], spec: Spec) -> Iterator[World]:
    running, clock = sandbox
    alice = running.add_user("Alice Example", "alice@example.org", role="admin", github="alice-gh")
    bob = running.add_user("Bob Example", "bob@example.org")
    guest = running.add_user("Polonius", "polonius@example.org", role="guest")
    bot = running.add_bot("Meetbot", short_name="meetbot", owner=alice)
    running.add_stream(
        "community",
        subscribers=[bot, alice, bob],
        creator=alice,
        description="Where meetings happen",
    )
    running.add_stream("leadership", invite_only=True, subscribers=[alice], creator=alice)
    checker = SpecChecker(spec)
    yield World(running, clock, checker, alice, bob, guest, bot)
    checker.check()
