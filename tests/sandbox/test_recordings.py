"""One test per recorded exchange the bot relies on: the sandbox answers the recorded request
with the recorded status, content type, rate-limit headers and body shape, and the observing
queue gets the recorded events in the recorded order, shaped alike (ids and times may differ)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Final

import pytest

from tests.sandbox.replay import BOT, EXCHANGES, Case, Replay, dev_realm, run, shape_problems
from zulip_bot.sandbox import ManualClock, Sandbox

H: Final = "hamlet@zulip.com"
IAGO: Final = "iago@zulip.com"
QUEUE: Final = "11e90cf7-f883-41e6-9173-c85ce632ee14"
SEND_QUEUE: Final = "a3c124a5-3bea-4a49-b22a-440f9da7b759"


def history(r: Replay) -> None:
    """The messages the GET /messages exchanges find, in the recorded order."""
    for recorded in (103, 105, 106):
        r.given(recorded, H, "hello meetbot", topic="smoke test")
    r.given(227, BOT, "/poll Question\nOption A\nOption B", topic="poll")
    r.given(
        211, BOT, "has marked this topic as resolved", topic="✔ agenda D", read_by_sender="true"
    )
    r.given(125, H, "@**Meetbot** hello")
    r.given(149, BOT, "stream name in different case")
    r.given(150, H, "hi bot, this is a DM", kind="private", to="[44]")
    r.given(151, H, "another DM", kind="private", to="[44]")
    r.given(153, H, "group DM with the bot and othello", kind="private", to="[44, 30]")
    r.given(155, BOT, "bot replies to hamlet by DM", kind="private", to="[28]")
    r.given(157, H, "@**Meetbot** start meeting")
    r.given(158, H, "@**Meetbot|44** next item")
    r.given(160, H, "@**all** meeting in 5 minutes")
    r.given(162, H, "plain standup note")
    r.given(163, H, "another standup note")
    r.given(170, H, "rendering", topic="rendering")
    r.given(171, H, "more rendering", topic="rendering")
    r.given(182, IAGO, "secret", to="leadership", topic="x")
    r.given(178, BOT, "message with local_id")
    r.given(179, BOT, "sent with read_by_sender=false")
    r.given(180, BOT, "sent with read_by_sender=true", read_by_sender="true")


def edits(r: Replay) -> None:
    r.given(202, BOT, "Agenda: 1. intro", topic="edits")


def agenda(r: Replay) -> None:
    for recorded, item in zip((203, 204, 205, 206), range(1, 5), strict=True):
        r.given(recorded, BOT, f"item {item}", topic="agenda A")


def poll(r: Replay) -> None:
    r.given(213, BOT, "/poll Which day?\nMonday\nTuesday", topic="polls")


def too_old(r: Replay) -> None:
    r.given(215, BOT, "message that will be too old", topic="edits")
    r.clock.advance(600 + 20 + 1)


def deletions(r: Replay) -> None:
    r.given(217, H, "hamlet's own", topic="edits")
    r.given(218, BOT, "the bot's own", topic="edits")
    r.given(219, H, "hamlet's, for others to delete", topic="edits")
    r.given(220, H, "a DM", kind="private", to="[44]")


def reactions(r: Replay) -> None:
    r.given(226, BOT, "React to this agenda item", topic="reactions")


def polls(r: Replay) -> None:
    r.given(227, BOT, "/poll Question\nOption A\nOption B", topic="poll")
    r.given(228, BOT, "no widget here", topic="poll")


def todo(r: Replay) -> None:
    r.given(230, BOT, "/todo Action items\nWrite minutes: by Friday\nSend summary", topic="todo")


def queue(r: Replay) -> None:
    r.queue(recorded_id=QUEUE)


def queue_with_event(r: Replay) -> None:
    queue(r)
    r.send(H, "event 0")


def deactivated(email: str) -> Callable[[Replay], None]:
    def given(r: Replay) -> None:
        r.people[email].is_active = False

    return given


def temp_bot(r: Replay) -> None:
    bot = r.sandbox.add_bot("Temp Bot", short_name="tempbot", owner=r.people[IAGO])
    bot.is_active = False
    r.people[bot.delivery_email] = bot


def used_up(count: int, then: float = 0.0) -> Callable[[Replay], None]:
    def given(r: Replay) -> None:
        cordelia = r.people["cordelia@zulip.com"]
        for _ in range(count):
            assert r.sandbox.api_limiter.check(cordelia.user_id).allowed
        r.clock.advance(then)

    return given


def key_of(email: str) -> Callable[[Replay], tuple[str, str]]:
    return lambda r: (email, r.people[H].api_key)


CASES: Final = (
    # server, users, profile fields
    Case(1),
    Case(4),
    Case(5),
    Case(8),
    Case(9),
    Case(10),
    Case(11),
    Case(12),
    Case(13),
    Case(14),
    Case(15),
    Case(16),
    Case(17),
    Case(19),
    # streams and subscriptions
    Case(23),
    Case(24),
    Case(25),
    Case(26),
    Case(27),
    Case(28),
    Case(29),
    Case(30),
    Case(31),
    Case(32),
    Case(33),
    Case(34, before=(33,)),
    Case(35, before=(33, 34)),
    Case(36),
    Case(37),
    Case(38),
    Case(39),
    Case(40, given=lambda r: r.given(105, H, "hello meetbot", topic="smoke test")),
    # sending, addressing, limits, rendering
    Case(43),
    Case(44),
    Case(45),
    Case(46),
    Case(47),
    Case(48),
    Case(49),
    Case(50),
    Case(51),
    Case(52),
    Case(53),
    Case(54),
    Case(55),
    Case(56),
    Case(57),
    Case(58),
    Case(59),
    Case(60),
    Case(61),
    Case(62),
    Case(63),
    Case(64),
    Case(65),
    Case(66, given=lambda r: r.given(0, BOT, "the bot takes part in the topic")),
    Case(68),
    Case(69),
    Case(70),
    Case(77),
    Case(78),
    Case(79),
    Case(80),
    Case(81),
    Case(82),
    Case(83),
    Case(84, before=(83,)),
    Case(85),
    Case(86),
    Case(87),
    Case(88),
    Case(89),
    Case(90),
    Case(91, queue_id=SEND_QUEUE),
    Case(92),
    Case(93),
    Case(242),
    Case(246, given=deactivated("bob@zulip.com")),
    Case(288),
    Case(289),
    Case(290),
    Case(291),
    Case(293),
    Case(294),
    # fetching
    *(
        Case(n, given=history)
        for n in (
            94,
            95,
            96,
            97,
            98,
            99,
            100,
            101,
            102,
            103,
            104,
            105,
            106,
            107,
            108,
            109,
            110,
            111,
            112,
            114,
            115,
            116,
            117,
            118,
            119,
            120,
            121,
            122,
            123,
            124,
            125,
            126,
            188,
            243,
            297,
        )
    ),
    # editing and deleting
    Case(128),
    Case(129, given=edits),
    Case(130, given=edits, before=(129,)),
    Case(131, given=edits, before=(129,)),
    Case(132, given=edits, before=(129,)),
    Case(133),
    Case(134, given=edits, before=(129,)),
    Case(135, given=agenda),
    Case(136, given=agenda),
    Case(137, given=agenda),
    Case(138, given=agenda, before=(137,)),
    Case(139, given=agenda),
    Case(140, given=agenda),
    Case(141, given=agenda),
    Case(142, given=agenda, before=(141,)),
    Case(145, given=poll),
    Case(146, given=poll),
    Case(147),
    Case(148, given=too_old),
    Case(149, given=too_old),
    Case(150, before=(147,)),
    *(Case(n, given=deletions) for n in (151, 152, 153, 154, 157)),
    Case(155, given=deletions, before=(154,)),
    Case(156, given=deletions, before=(152,)),
    Case(292, given=lambda r: r.given(251, H, "a DM", kind="private", to="[44]")),
    # reactions
    *(Case(n, given=reactions) for n in (158, 161, 162, 164, 165, 166, 167, 171)),
    Case(159, given=reactions, before=(158,)),
    Case(160, given=reactions, before=(158,)),
    Case(163, given=reactions, before=(161,)),
    Case(168, given=reactions, before=(158,)),
    Case(169, given=reactions, before=(158, 168)),
    Case(170, given=reactions, before=(161,)),
    Case(172, given=reactions, before=(162, 165, 166, 167)),
    # polls and todo lists
    Case(173),
    Case(189),
    Case(190),
    *(Case(n, given=polls) for n in (174, 175, 177, 179, 180, 181, 182, 183, 184, 185, 186)),
    Case(176, given=polls, before=(174,)),
    Case(178, given=polls, before=(177,)),
    Case(187, given=polls, before=(174, 175, 176, 177, 178, 179, 183, 185)),
    *(Case(n, given=todo) for n in (191, 192, 194, 195)),
    Case(193, given=todo, before=(191,)),
    Case(196, given=todo, before=(191, 192)),
    # event queues
    Case(197),
    Case(198),
    Case(199),
    Case(200),
    Case(202),
    Case(203),
    Case(205),
    Case(209),
    Case(210),
    Case(211),
    Case(201, queue={"event_types": '["message"]', "narrow": '[["stream", "meetings"]]'}),
    Case(204, queue={"event_types": '["message"]', "all_public_streams": "true"}),
    Case(206, queue={"apply_markdown": "false", "client_gravatar": "false"}),
    Case(207, queue={"apply_markdown": "true", "client_gravatar": "true"}),
    Case(208, queue={"event_types": '["message"]'}),
    Case(212, given=queue),
    Case(213, given=queue, concurrent=True),
    Case(214, given=queue_with_event),
    Case(215, given=queue_with_event, before=(214,)),
    Case(216, given=queue_with_event),
    Case(217),
    Case(218, given=queue),
    Case(219, given=queue),
    Case(220),
    Case(221, given=queue_with_event),
    Case(222, given=queue),
    Case(223, given=queue, before=(222,)),
    Case(224, given=queue, before=(222,)),
    Case(225),
    # authentication, unknown paths
    Case(231, auth=lambda r: (H, "wrong")),
    Case(232, auth=key_of("nobody@zulip.com")),
    Case(233, auth=key_of("user28@zulipdev.com")),
    Case(234),
    Case(235),
    Case(236, auth=lambda r: (H, "wrong")),
    Case(237),
    Case(238),
    Case(239),
    Case(240),
    Case(245, given=deactivated("bob@zulip.com")),
    Case(244),
    Case(247, given=deactivated("bob@zulip.com")),
    Case(249, given=temp_bot),
    # rate limiting
    Case(250),
    Case(251, given=used_up(199)),
    Case(252, given=used_up(200)),
    Case(253, given=used_up(200)),
    Case(254, given=used_up(200)),
    Case(255, given=used_up(200)),
    Case(256, given=used_up(200, then=61)),
)


@pytest.fixture
def replay() -> Iterator[Replay]:
    if not EXCHANGES.is_dir():
        pytest.skip(f"the recordings are not there: {EXCHANGES} is absent")
    clock = ManualClock(time.time())
    with Sandbox.start(clock=clock, heartbeat_seconds=0.3) as sandbox:
        yield Replay(sandbox, clock, dev_realm(sandbox))


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.number:03d}")
def test_the_sandbox_answers_like_the_recording(case: Case, replay: Replay) -> None:
    problems = []
    for what, recorded, actual in run(case, replay):
        if what.endswith(("status", "content type", "headers", "event types")):
            if recorded != actual:
                problems.append(f"{what}: recorded {recorded!r}, sandbox {actual!r}")
        else:
            problems += [f"{what}: {p}" for p in shape_problems(recorded, actual)]
    assert not problems, "\n".join(problems)


def test_the_cases_are_distinct_and_exist() -> None:
    numbers = [case.number for case in CASES]
    assert len(numbers) == len(set(numbers))
    for number in numbers:
        assert list(EXCHANGES.glob(f"{number:03d}-*.json")), number


def test_the_shape_comparison_sees_what_matters() -> None:
    recorded = {
        "id": 1,
        "subject": "t",
        "flags": [],
        "reactions": [{"emoji_name": "+1"}],
        "creator_id": None,
        "profile_data": {"17": {"value": "x"}},
    }
    same = {
        "id": 9,
        "subject": "other",
        "flags": [],
        "reactions": [{"emoji_name": "tada"}],
        "creator_id": 29,
        "profile_data": {"3": {"value": "y"}},
    }
    assert shape_problems(recorded, same) == []
    assert shape_problems(recorded, {**same, "topic": "t"}) == ["$: unexpected key 'topic'"]
    assert shape_problems(recorded, {k: v for k, v in same.items() if k != "id"}) == [
        "$: missing key 'id'"
    ]
    assert shape_problems(recorded, {**same, "id": "9"}) == ["$.id: expected int, got str"]
    assert shape_problems(recorded, {**same, "flags": ["read"]}) == [
        "$.flags: 0 items recorded, 1 here"
    ]
    assert shape_problems(recorded, {**same, "reactions": [{"name": "+1"}]}) != []
    assert shape_problems({"ok": True}, {"ok": 1}) == ["$.ok: expected bool, got int"]
