"""`ZulipApi` over real HTTP against the sandbox, with failures scripted on its sockets; and the
pure parts (splitting, topics, the budget) on their own."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zulip_bot.chat.client import (
    MAX_MESSAGE_LENGTH,
    ApiError,
    RateBudget,
    RetryPolicy,
    StartupError,
    Unavailable,
    Uncertain,
    ZulipApi,
    connect,
    fit_topic,
    split_content,
)
from zulip_bot.sandbox import Sandbox
from zulip_bot.sandbox.model import User
from zulip_bot.sandbox.ratelimit import RateLimit

FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05)

# --- splitting and topics ---------------------------------------------------------------------


@given(st.text(alphabet="ab \n", max_size=400), st.integers(min_value=5, max_value=60))
def test_split_content_keeps_every_character_and_fits(text: str, limit: int) -> None:
    parts = split_content(text, limit)
    assert "".join(parts) == text
    assert all(0 < len(part) <= limit for part in parts) or text == ""


def test_split_content_cuts_between_paragraphs_then_lines() -> None:
    paragraphs = [f"paragraph {i}: " + "x" * 3000 for i in range(6)]
    text = "\n\n".join(paragraphs)
    parts = split_content(text)
    assert len(parts) > 1 and "".join(parts) == text
    assert all(len(p) <= MAX_MESSAGE_LENGTH for p in parts)
    # no paragraph is cut: each part ends where one ends
    assert all(p.endswith(("\n\n", paragraphs[-1])) for p in parts)
    lines = "\n".join("line " + "y" * 90 for _ in range(300))  # one paragraph of 28,000 chars
    parts = split_content(lines)
    assert all(p.endswith("\n") for p in parts[:-1]) and "".join(parts) == lines


def test_a_single_giant_line_is_cut_not_truncated() -> None:
    text = "z" * (MAX_MESSAGE_LENGTH * 2 + 5)
    assert [len(p) for p in split_content(text)] == [MAX_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH, 5]


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("  2024-11-06 meeting  ", "2024-11-06 meeting"),
        ("t" * 60, "t" * 60),
        ("t" * 61, "t" * 57 + "..."),
        ("é" * 70, "é" * 57 + "..."),
    ],
)
def test_fit_topic_cuts_as_zulip_does(topic: str, expected: str) -> None:
    assert fit_topic(topic) == expected


# --- the budget -------------------------------------------------------------------------------


def test_budget_keeps_a_margin_under_the_limit_in_any_window() -> None:
    budget = RateBudget(limit=200, window=60.0)
    now = 0.0
    for _ in range(180):
        assert budget.delay(now) == 0.0
        budget.record(now)
        now += 0.1
    # the 181st request in this window waits until the first one has left it
    assert budget.delay(now) == pytest.approx(60.0 - now)
    assert budget.delay(60.0) == 0.0


def test_budget_follows_the_servers_headers() -> None:
    budget = RateBudget()
    budget.observe(
        {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "1030"},
        now=10.0,
        wall=1000.0,
    )
    assert budget.limit == 50
    # 3 left is within the 10% reserve of 50 (5): wait for the server's reset, 30 s away
    assert budget.delay(10.0) == pytest.approx(30.0)
    budget.observe(
        {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "40", "X-RateLimit-Reset": "1030"},
        now=11.0,
        wall=1001.0,
    )
    assert budget.delay(11.0) == 0.0


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(base=0.5, cap=4.0)
    upper = [policy.backoff(n, 1.0) for n in range(1, 7)]
    assert upper == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.backoff(3, 0.0) == 1.0  # jitter spans the upper half


# --- over HTTP --------------------------------------------------------------------------------


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(heartbeat_seconds=0.3) as running:
        yield running


@pytest.fixture
def bot(sandbox: Sandbox) -> User:
    owner = sandbox.add_user("Olive Owner", "olive@example.org", role="admin")
    bot = sandbox.add_bot("meetbot", owner=owner)
    sandbox.add_stream("community", subscribers=[bot, owner])
    return bot


def api_for(sandbox: Sandbox, bot: User, sleeps: Sleeps, **options: object) -> ZulipApi:
    client = sandbox.client(bot.delivery_email)
    return ZulipApi(client, sleep=sleeps, jitter=lambda: 0.5, **options)  # type: ignore[arg-type]


def test_429_waits_retry_after_then_succeeds(sandbox: Sandbox, bot: User) -> None:
    sleeps = Sleeps()
    api = api_for(sandbox, bot, sleeps, policy=FAST)
    sandbox.faults.next("/messages", "429", count=2, retry_after=0.25, method="POST")
    message_id = api.send("hello", stream="community", topic="t")
    assert api.stats.rate_limited == 2
    # each 429 waits what it asks; its `X-RateLimit-Remaining: 0` also holds the next try
    # until the server's `X-RateLimit-Reset`, at most a second away here
    assert sleeps.calls.count(0.25) == 2 and all(s <= 1.0 for s in sleeps.calls)
    assert [m.id for m in sandbox.realm.messages_in("community", "t")] == [message_id]


def test_5xx_and_dropped_connections_are_retried_with_growing_waits(
    sandbox: Sandbox, bot: User
) -> None:
    sleeps = Sleeps()
    api = api_for(sandbox, bot, sleeps, policy=RetryPolicy(attempts=6, base=0.1, cap=0.3))
    sandbox.faults.next("/users/me", "500", count=2)
    sandbox.faults.next("/users/me", "drop", count=2)
    body = api.call("GET", "users/me")
    assert body["user_id"] == bot.user_id
    assert api.stats.requests == 5 and api.stats.retries == 4
    assert sleeps.calls == pytest.approx([0.075, 0.15, 0.225, 0.225])  # capped at 0.3 * 0.75


def test_a_call_that_keeps_failing_gives_up_as_unavailable(sandbox: Sandbox, bot: User) -> None:
    api = api_for(sandbox, bot, Sleeps(), policy=FAST)
    sandbox.faults.next("/users/me", "503", count=10)
    with pytest.raises(Unavailable, match="failed 4 times"):
        api.call("GET", "users/me")
    assert api.stats.requests == 4


def test_a_send_that_may_have_reached_the_server_is_not_repeated(
    sandbox: Sandbox, bot: User
) -> None:
    api = api_for(sandbox, bot, Sleeps(), policy=FAST)
    for kind in ("drop", "502"):
        sandbox.faults.next("/messages", kind, method="POST")
        with pytest.raises(Uncertain):
            api.send("maybe", stream="community", topic="t")
    assert api.stats.requests == 2  # one try each: the caller must look before sending again


def test_a_long_poll_given_up_at_its_wait_loses_no_event() -> None:
    """Zulip would hold this poll for its heartbeat; the caller that has a job due gives up
    at `wait`, not a failure, and the next poll gets what came meanwhile."""
    with Sandbox.start(heartbeat_seconds=30.0) as quiet:
        owner = quiet.add_user("Olive Owner", "olive@example.org")
        quiet.add_stream("community", subscribers=[owner])
        api = ZulipApi(quiet.client(owner.delivery_email), policy=FAST)
        queue_id = api.register(["message"])["queue_id"]
        assert api.events(queue_id, -1, wait=0.3) == []
        assert (api.stats.retries, api.stats.by_endpoint["events"]) == (0, 1)
        quiet.client(owner.delivery_email).send_message(
            {"type": "stream", "to": "community", "topic": "t", "content": "meanwhile"}
        )
        (event,) = api.events(queue_id, -1, wait=0.3)
        assert event["message"]["content"] == "meanwhile"


def test_a_refusal_is_reported_at_once_and_not_retried(sandbox: Sandbox, bot: User) -> None:
    sleeps = Sleeps()
    api = api_for(sandbox, bot, sleeps, policy=FAST)
    with pytest.raises(ApiError) as refused:
        api.send("hi", stream="no-such-stream", topic="t")
    assert refused.value.status == 400 and refused.value.code == "STREAM_DOES_NOT_EXIST"
    assert api.stats.requests == 1 and sleeps.calls == []


def test_reacting_twice_is_a_success(sandbox: Sandbox, bot: User) -> None:
    api = api_for(sandbox, bot, Sleeps(), policy=FAST)
    message_id = api.send("react to me", stream="community", topic="t")
    api.react(message_id, "check")
    api.react(message_id, "check")  # a retried reaction whose first try got through
    (message,) = sandbox.realm.messages_in("community", "t")
    assert [(r.user_id, r.emoji_name) for r in message.reactions] == [(bot.user_id, "check")]


def test_the_budget_keeps_a_burst_under_the_servers_limit() -> None:
    with Sandbox.start(rate_limit=RateLimit(requests=20, seconds=1.0)) as sandbox:
        owner = sandbox.add_user("Olive Owner", "olive@example.org")
        bot = sandbox.add_bot("meetbot", owner=owner)
        api = ZulipApi(sandbox.client(bot.delivery_email))
        api.budgets["api"] = RateBudget(window=1.0)  # the server's window, as configured
        for _ in range(45):  # more than twice what the server allows in a second
            api.call("GET", "users/me")
        assert api.stats.rate_limited == 0
        assert api.budgets["api"].limit == 20  # learnt from X-RateLimit-Limit


def test_a_too_long_message_is_refused_before_sending(sandbox: Sandbox, bot: User) -> None:
    api = api_for(sandbox, bot, Sleeps(), policy=FAST)
    with pytest.raises(ValueError, match="split"):
        api.send("x" * (MAX_MESSAGE_LENGTH + 1), stream="community", topic="t")
    assert api.stats.requests == 0


# --- start-up ---------------------------------------------------------------------------------


def test_connect_names_the_file_and_the_fix(sandbox: Sandbox, bot: User, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "zuliprc"
    with pytest.raises(StartupError, match=f"{missing}: the zuliprc does not exist"):
        connect(missing)
    garbage = tmp_path / "garbage"
    garbage.write_text("this is not an ini file\n")
    with pytest.raises(StartupError, match=rf"{garbage}: not a usable zuliprc.*\[api\]"):
        connect(garbage)
    wrong_key = sandbox.zuliprc(tmp_path / "wrong-key", bot.delivery_email)
    wrong_key.write_text(wrong_key.read_text().replace(bot.api_key, "x" * 32))
    with pytest.raises(StartupError, match=f"{wrong_key}: Zulip refused the bot's email and API"):
        connect(wrong_key)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    unreachable = tmp_path / "unreachable"
    unreachable.write_text(f"[api]\nemail=a@b.c\nkey=k\nsite=http://127.0.0.1:{port}\n")
    with pytest.raises(StartupError, match=f"{unreachable}: cannot reach the Zulip server"):
        connect(unreachable)
    good = sandbox.zuliprc(tmp_path / "good", bot.delivery_email)
    sandbox.faults.next("/server_settings", "502")
    with pytest.raises(StartupError, match=f"{good}: the server named by `site=` did not answer"):
        connect(good)
    api, me = connect(good)
    assert me["user_id"] == bot.user_id and api.stats.requests == 1
