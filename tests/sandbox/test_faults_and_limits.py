"""Rate limits, scripted faults and event-queue lifetimes, over real sockets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import zulip

from zulip_bot.sandbox import FastClock, Faults, ManualClock, RateLimit, Sandbox, User


@pytest.fixture
def small() -> Iterator[tuple[Sandbox, ManualClock, User]]:
    """A sandbox whose rate limit is five requests a minute."""
    clock = ManualClock(1_800_000_000.0)
    with Sandbox.start(clock=clock, rate_limit=RateLimit(5, 60), heartbeat_seconds=0.3) as sandbox:
        user = sandbox.add_user("Cordelia", "cordelia@example.org")
        sandbox.add_stream("community", subscribers=[user])
        yield sandbox, clock, user


def _get(sandbox: Sandbox, user: User, path: str, **params: Any) -> requests.Response:
    return requests.get(
        f"{sandbox.url}/api/v1/{path}",
        params=params,
        auth=(user.delivery_email, user.api_key),
        timeout=10,
    )


def test_the_limit_slides_and_the_429_says_when_to_come_back(
    small: tuple[Sandbox, ManualClock, User],
) -> None:
    sandbox, clock, user = small
    answers = []
    for _ in range(5):
        answers.append(_get(sandbox, user, "users/me"))
        clock.advance(10)
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0"]
    limited = _get(sandbox, user, "users/me")
    assert limited.status_code == 429
    body = limited.json()
    assert (body["code"], body["msg"]) == ("RATE_LIMIT_HIT", "API usage exceeded rate limit")
    # the first request was 50 s ago, so one more is allowed in 10 s
    assert body["retry-after"] == pytest.approx(10.0)
    assert float(limited.headers["Retry-After"]) == pytest.approx(10.0)
    assert limited.headers["X-RateLimit-Reset"] == str(1_800_000_000 + 60)
    # the events endpoint is counted apart, as Tornado does
    queue = _get(sandbox, user, "events", dont_block="true", event_types='["message"]')
    assert queue.status_code == 200 and queue.headers["X-RateLimit-Remaining"] == "199"
    # rejected requests are not counted: after 10 s exactly one slot is free
    clock.advance(10)
    assert _get(sandbox, user, "users/me").status_code == 200
    assert _get(sandbox, user, "users/me").status_code == 429


def test_limits_are_per_user(small: tuple[Sandbox, ManualClock, User]) -> None:
    sandbox, _, user = small
    other = sandbox.add_user("Regan", "regan@example.org")
    for _ in range(5):
        _get(sandbox, user, "users/me")
    assert _get(sandbox, user, "users/me").status_code == 429
    assert _get(sandbox, other, "users/me").status_code == 200


def test_a_dropped_connection_reaches_the_client_as_a_connection_error(
    small: tuple[Sandbox, ManualClock, User],
) -> None:
    sandbox, _, user = small
    sandbox.faults.next("/users/me", "drop")
    with pytest.raises(requests.ConnectionError):
        _get(sandbox, user, "users/me")
    assert _get(sandbox, user, "users/me").status_code == 200  # used up
    assert [(f.path, f.kind) for f in sandbox.faults.fired] == [("/users/me", "drop")]


def test_server_errors_come_as_html_and_only_where_scripted(
    small: tuple[Sandbox, ManualClock, User],
) -> None:
    sandbox, _, user = small
    sandbox.faults.next("messages", "502", count=2, method="POST")
    assert _get(sandbox, user, "messages", anchor="newest").status_code == 200  # a GET
    posts = [
        requests.post(
            f"{sandbox.url}/api/v1/messages",
            auth=(user.delivery_email, user.api_key),
            data={"type": "stream", "to": "community", "topic": "t", "content": "x"},
            timeout=10,
        )
        for _ in range(3)
    ]
    assert [p.status_code for p in posts] == [502, 502, 200]
    assert posts[0].headers["Content-Type"].startswith("text/html")
    assert len(sandbox.realm.messages_in("community")) == 1
    assert sandbox.faults.pending() == 0


def test_the_official_client_retries_a_500_by_itself(
    small: tuple[Sandbox, ManualClock, User],
) -> None:
    sandbox, _, user = small
    client = sandbox.client(user.delivery_email)
    sandbox.faults.next("/users/me", "500")
    assert client.get_profile()["user_id"] == user.user_id  # after its one-second pause
    assert [f.kind for f in sandbox.faults.fired] == ["500"]


def test_a_delay_holds_the_answer_back(small: tuple[Sandbox, ManualClock, User]) -> None:
    sandbox, _, user = small
    sandbox.faults.next("/users/me", "delay", seconds=3.0)
    with pytest.raises(requests.Timeout):
        requests.get(
            f"{sandbox.url}/api/v1/users/me", auth=(user.delivery_email, user.api_key), timeout=0.5
        )


def test_a_scripted_429_looks_like_the_real_one(small: tuple[Sandbox, ManualClock, User]) -> None:
    sandbox, _, user = small
    sandbox.faults.next("/users/me", "429", retry_after=2.5)
    answer = _get(sandbox, user, "users/me")
    assert answer.status_code == 429
    assert answer.json() == {
        "result": "error",
        "msg": "API usage exceeded rate limit",
        "retry-after": 2.5,
        "code": "RATE_LIMIT_HIT",
    }
    assert answer.headers["Retry-After"] == "2.5"


def test_an_expire_fault_loses_the_users_queues(small: tuple[Sandbox, ManualClock, User]) -> None:
    sandbox, _, user = small
    other = sandbox.add_user("Regan", "regan@example.org")
    mine = sandbox.client(user.delivery_email).register(event_types=["message"])
    theirs = sandbox.client(other.delivery_email).register(event_types=["message"])
    sandbox.faults.next("/events", "expire")
    gone = _get(
        sandbox, user, "events", queue_id=mine["queue_id"], last_event_id="-1", dont_block="true"
    )
    assert gone.json()["code"] == "BAD_EVENT_QUEUE_ID"
    kept = _get(
        sandbox, other, "events", queue_id=theirs["queue_id"], last_event_id="-1", dont_block="true"
    )
    assert kept.json()["result"] == "success"


def _long_poll(
    sandbox: Sandbox, user: User
) -> tuple[zulip.Client, str, threading.Thread, list[dict[str, Any]]]:
    """A new queue and a long-poll waiting on it in a thread, which appends its answer."""
    client = sandbox.client(user.delivery_email)
    queue_id = client.register(event_types=["message"])["queue_id"]
    answers: list[dict[str, Any]] = []
    waiting = threading.Thread(
        target=lambda: answers.append(client.get_events(queue_id=queue_id, last_event_id=-1))
    )
    waiting.start()
    _wait_until(lambda: any(q.waiters for q in sandbox.realm.queues.all_queues()))
    return client, queue_id, waiting, answers


def test_a_queue_deleted_under_a_long_poll_ends_it_empty_then_is_gone(
    small: tuple[Sandbox, ManualClock, User],
) -> None:
    sandbox, _, user = small
    client, queue_id, waiting, answers = _long_poll(sandbox, user)
    assert sandbox.client(user.delivery_email).deregister(queue_id)["result"] == "success"
    waiting.join(timeout=5)
    assert answers == [{"result": "success", "msg": "", "events": [], "queue_id": queue_id}]
    assert client.get_events(queue_id=queue_id, last_event_id=-1)["code"] == "BAD_EVENT_QUEUE_ID"


def test_a_quiet_queue_holds_a_poll_until_its_heartbeat_which_must_be_acknowledged() -> None:
    with Sandbox.start(heartbeat_seconds=1.0) as sandbox:
        user = sandbox.add_user("Cordelia", "cordelia@example.org")
        client = sandbox.client(user.delivery_email)
        queue_id = client.register(event_types=["message"])["queue_id"]
        started = time.monotonic()
        first = client.get_events(queue_id=queue_id, last_event_id=-1)
        held = time.monotonic() - started
        assert first["events"] == [{"type": "heartbeat", "id": 0}]
        assert held >= 1.0  # not answered before the quiet time
        again = client.get_events(queue_id=queue_id, last_event_id=-1, dont_block=True)
        assert again["events"] == [{"type": "heartbeat", "id": 0}]  # not acknowledged yet
        acknowledged = client.get_events(queue_id=queue_id, last_event_id=0, dont_block=True)
        assert acknowledged["events"] == []


def test_a_new_poll_ends_the_one_waiting_on_the_queue_with_nothing(
    small: tuple[Sandbox, ManualClock, User],
) -> None:
    """As Tornado's finish_current_handler: a client that gave up on a poll and asks again is
    answered by the new poll; the old one ends empty, without a heartbeat of its own."""
    sandbox, _, user = small
    _, queue_id, waiting, answers = _long_poll(sandbox, user)
    again = sandbox.client(user.delivery_email).get_events(queue_id=queue_id, last_event_id=-1)
    waiting.join(timeout=5)
    assert answers == [{"result": "success", "msg": "", "events": [], "queue_id": queue_id}]
    assert again["events"] == [{"type": "heartbeat", "id": 0}]  # one heartbeat, the new poll's


def test_an_idle_queue_expires_on_the_clock_but_not_while_polled(
    small: tuple[Sandbox, ManualClock, User],
) -> None:
    sandbox, clock, user = small
    client = sandbox.client(user.delivery_email)
    polled = client.register(event_types=["message"])["queue_id"]
    idle = client.register(event_types=["message"])["queue_id"]
    clock.advance(400)
    assert (
        client.get_events(queue_id=polled, last_event_id=-1, dont_block=True)["result"] == "success"
    )
    clock.advance(400)  # 800 s idle for one, 400 s for the other
    assert (
        client.get_events(queue_id=polled, last_event_id=-1, dont_block=True)["result"] == "success"
    )
    assert (
        client.get_events(queue_id=idle, last_event_id=-1, dont_block=True)["code"]
        == "BAD_EVENT_QUEUE_ID"
    )


def test_call_on_each_event_registers_again_after_expiry_and_misses_the_gap(
    small: tuple[Sandbox, ManualClock, User],
) -> None:
    """What recording #257 shows the official client doing: it re-registers, and a message sent
    while no queue existed is lost, which is why the runner backfills."""
    sandbox, _, user = small
    sender = sandbox.add_user("Regan", "regan@example.org")
    sandbox.subscribe(sender, "community")
    seen: list[str] = []
    listener = sandbox.client(user.delivery_email)

    class Enough(Exception):
        pass

    def callback(event: dict[str, Any]) -> None:
        seen.append(event["message"]["content"])
        if event["message"]["content"] == "C":
            raise Enough

    def listen() -> None:
        with pytest.raises(Enough):
            listener.call_on_each_event(callback, event_types=["message"], apply_markdown=False)

    thread = threading.Thread(target=listen)
    thread.start()
    talk = sandbox.client(sender.delivery_email)
    _wait_until(lambda: bool(sandbox.realm.queues.all_queues()))

    def say(content: str) -> None:
        talk.send_message({"type": "stream", "to": "community", "topic": "t", "content": content})

    say("A")
    _wait_until(lambda: seen == ["A"])
    sandbox.expire_queues(user.delivery_email)
    say("B")
    _wait_until(lambda: bool(sandbox.realm.queues.all_queues()))
    say("C")
    thread.join(timeout=10)
    assert seen == ["A", "C"]


def test_stop_releases_a_pending_long_poll() -> None:
    sandbox = Sandbox.start(heartbeat_seconds=30)
    user = sandbox.add_user("Cordelia", "cordelia@example.org")
    client = sandbox.client(user.delivery_email)
    queue_id = client.register(event_types=["message"])["queue_id"]
    outcome: list[object] = []

    def poll() -> None:
        try:
            outcome.append(client.get_events(queue_id=queue_id, last_event_id=-1))
        except Exception as error:  # the server is going away: either answer is fine
            outcome.append(error)

    waiting = threading.Thread(target=poll)
    waiting.start()
    _wait_until(lambda: any(q.waiters for q in sandbox.realm.queues.all_queues()))
    sandbox.stop()
    waiting.join(timeout=5)
    assert not waiting.is_alive() and outcome
    assert outcome[0] == {"result": "success", "msg": "", "events": [], "queue_id": queue_id}


def _wait_until(condition: Any, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never came true")
        time.sleep(0.01)


def test_sandbox_is_unusable_once_stopped() -> None:
    sandbox = Sandbox.start()
    sandbox.stop()
    with pytest.raises(RuntimeError, match="not running"):
        zulip.Client(email="x@example.org", api_key="k", site=sandbox.url)


def test_the_clocks() -> None:
    manual = ManualClock(100.0)
    manual.advance(5)
    assert manual.now() == 105.0
    with pytest.raises(ValueError, match="cannot go back"):
        manual.advance(-1)
    fast = FastClock(3600)
    first = fast.now()
    time.sleep(0.01)
    assert fast.now() - first >= 0.01 * 3600 * 0.5  # an hour a second, give or take
    with pytest.raises(ValueError, match="positive"):
        FastClock(0)


def test_faults_refuse_what_they_cannot_do() -> None:
    faults = Faults()
    with pytest.raises(ValueError, match="unknown fault kind"):
        faults.next("/messages", "explode")
    with pytest.raises(ValueError, match="at least 1"):
        faults.next("/messages", "drop", count=0)


def test_drop_after_posts_the_message_but_the_client_never_hears(
    small: tuple[Sandbox, ManualClock, User],
) -> None:
    sandbox, _, user = small
    sandbox.faults.next("/messages", "drop_after", method="POST")
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{sandbox.url}/api/v1/messages",
            auth=(user.delivery_email, user.api_key),
            data={"type": "stream", "to": "community", "topic": "t", "content": "once"},
            timeout=10,
        )
    assert [m.content for m in sandbox.realm.messages_in("community", "t")] == ["once"]


def test_a_scripted_429_storm_costs_no_part_of_the_budget(
    small: tuple[Sandbox, ManualClock, User],
) -> None:
    sandbox, _, user = small
    sandbox.faults.next("/users/me", "429", count=3, retry_after=0.5)
    assert [_get(sandbox, user, "users/me").status_code for _ in range(3 + 5 + 1)] == [
        429,
        429,
        429,
        200,
        200,
        200,
        200,
        200,
        429,
    ]


def test_scripted_faults_and_spent_budgets_can_be_cleared(
    small: tuple[Sandbox, ManualClock, User],
) -> None:
    sandbox, _, user = small
    sandbox.faults.next("/users/me", "500", count=4)
    assert sandbox.faults.pending() == 4
    sandbox.faults.clear()
    for _ in range(5):
        assert _get(sandbox, user, "users/me").status_code == 200
    assert _get(sandbox, user, "users/me").status_code == 429
    sandbox.api_limiter.reset()
    assert _get(sandbox, user, "users/me").status_code == 200


def test_concurrent_senders_reach_a_long_polling_queue_once_each_in_order() -> None:
    with Sandbox.start(heartbeat_seconds=0.2) as sandbox:
        bot = sandbox.add_bot("meetbot")
        people = [sandbox.add_user(f"P{i}", f"p{i}@example.org") for i in range(8)]
        sandbox.add_stream("community", subscribers=[bot, *people])
        listener = sandbox.client(bot.delivery_email)
        queue_id = listener.register(event_types=["message"])["queue_id"]
        seen: list[int] = []
        done = threading.Event()

        def poll() -> None:
            """Until the talking is over and a poll brings nothing new (a heartbeat)."""
            last = -1
            while True:
                events = listener.get_events(queue_id=queue_id, last_event_id=last)["events"]
                last = events[-1]["id"] if events else last
                news = [e["message"]["id"] for e in events if e["type"] == "message"]
                seen.extend(news)
                if done.is_set() and not news:
                    return

        def talk(person: User) -> None:
            client = sandbox.client(person.delivery_email)
            for n in range(10):
                client.send_message(
                    {
                        "type": "stream",
                        "to": "community",
                        "topic": "t",
                        "content": f"{person.full_name} {n}",
                    }
                )

        poller = threading.Thread(target=poll)
        poller.start()
        talkers = [threading.Thread(target=talk, args=(p,)) for p in people]
        for thread in talkers:
            thread.start()
        for thread in talkers:
            thread.join(timeout=30)
        done.set()
        poller.join(timeout=30)
        assert seen == sorted(m.id for m in sandbox.realm.messages_in("community"))
        assert len(seen) == 80
