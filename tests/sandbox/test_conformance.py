"""Every endpoint the bot calls, through the real `zulip.Client` over HTTP, each answer checked
against zulip.yaml by the `world` fixture; the assertions here check what the answers say."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import zulip

from tests.sandbox.conftest import World
from zulip_bot.sandbox.server import ROUTES, Route

POLL = "/poll Which slot?\n10:00\n11:00"


def _send(client: zulip.Client, content: str, topic: str = "standup") -> int:
    result = client.send_message(
        {"type": "stream", "to": "community", "topic": topic, "content": content}
    )
    assert result["result"] == "success", result
    message_id: int = result["id"]
    return message_id


def _route_of(method: str, path: str) -> Route:
    tail = path.removeprefix("/api/v1")
    return next(r for r in ROUTES if r.method == method and r.pattern.match(tail))


def test_every_route_is_exercised_and_matches_the_spec(world: World) -> None:
    bot, alice = world.client(world.bot), world.client(world.alice)
    bot.get_server_settings()
    bot.get_profile()
    bot.get_members({"include_custom_profile_fields": True})
    bot.get_user_by_id(world.alice.user_id)
    bot.call_endpoint("realm/profile_fields", method="GET")
    bot.get_streams()
    stream_id = bot.get_stream_id("community")["stream_id"]
    bot.call_endpoint(f"streams/{stream_id}", method="GET")
    bot.call_endpoint(f"streams/{stream_id}/members", method="GET")
    bot.get_subscriptions()
    bot.call_endpoint(f"users/{world.alice.user_id}/subscriptions/{stream_id}", method="GET")
    bot.get_stream_topics(stream_id)
    bot.add_subscriptions([{"name": "community"}])
    bot.remove_subscriptions(["community"])
    alice.call_endpoint(f"streams/{stream_id}", method="PATCH", request={"is_private": False})
    queue = bot.register(
        event_types=["message", "reaction", "submessage", "update_message", "delete_message"]
    )
    poll_id = _send(bot, POLL)
    alice.call_endpoint(
        "submessage",
        method="POST",
        request={
            "message_id": poll_id,
            "msg_type": "widget",
            "content": json.dumps({"type": "vote", "key": "canned,0", "vote": 1}),
        },
    )
    note_id = _send(bot, "Meeting started.")
    bot.update_message(
        {"message_id": note_id, "content": "Meeting started at <time:2024-11-06T17:00:00Z>."}
    )
    alice.add_reaction({"message_id": note_id, "emoji_name": "+1"})
    alice.remove_reaction({"message_id": note_id, "emoji_name": "+1"})
    bot.get_messages({"anchor": "newest", "num_before": 10, "num_after": 0})
    bot.get_raw_message(note_id)
    bot.render_message({"content": "@**Alice Example** at <time:2024-11-06T17:00:00Z>"})
    bot.delete_message(note_id)
    alice.call_endpoint(f"users/{world.bob.user_id}", method="DELETE")
    alice.call_endpoint(f"users/{world.bob.user_id}/reactivate", method="POST")
    alice.call_endpoint(f"users/{world.bob.user_id}", method="PATCH", request={"role": 400})
    alice.call_endpoint(
        "realm", method="PATCH", request={"message_content_edit_limit_seconds": 300}
    )
    bot.get_events(queue_id=queue["queue_id"], last_event_id=-1, dont_block=True)
    bot.deregister(queue["queue_id"])
    checked = world.checker.check()
    exercised = {_route_of(c.method, c.path) for c in checked}
    exercised.add(_route_of("POST", "/submessage"))  # not in the spec: see test_recordings
    exercised.add(_route_of("PATCH", "/realm"))  # not in this spec: see test_recordings
    assert exercised == set(ROUTES)


def test_users_show_roles_and_hide_emails_as_the_recorded_realm_does(world: World) -> None:
    bot = world.client(world.bot)
    members = {m["user_id"]: m for m in bot.get_members()["members"]}
    alice, guest, me = (
        members[world.alice.user_id],
        members[world.guest.user_id],
        members[world.bot.user_id],
    )
    assert (alice["role"], alice["is_admin"], guest["role"], guest["is_guest"]) == (
        200,
        True,
        600,
        True,
    )
    assert alice["email"] == f"user{world.alice.user_id}@zulipdev.com"
    assert alice["delivery_email"] is None
    assert me["email"] == me["delivery_email"] == "meetbot-bot@zulipdev.com"
    assert (me["is_bot"], me["bot_type"], me["bot_owner_id"]) == (True, 1, world.alice.user_id)
    # an admin sees real emails; people see their own
    admin_view = world.client(world.alice).get_members()["members"]
    assert {m["delivery_email"] for m in admin_view} >= {"bob@example.org", "alice@example.org"}
    assert world.client(world.bob).get_profile()["delivery_email"] == "bob@example.org"


def test_a_hidden_email_cannot_be_looked_up_but_the_visible_one_can(world: World) -> None:
    bot = world.client(world.bot)
    hidden = f"user{world.alice.user_id}@zulipdev.com"
    assert (
        bot.call_endpoint(f"users/{hidden}", method="GET")["user"]["full_name"] == "Alice Example"
    )
    refused = bot.call_endpoint("users/alice@example.org", method="GET")
    assert (refused["result"], refused["msg"]) == ("error", "No such user")
    assert bot.get_user_by_id(99999)["msg"] == "No such user"


def test_the_github_profile_field_is_how_a_bot_can_find_a_hidden_person(world: World) -> None:
    bot = world.client(world.bot)
    fields = bot.call_endpoint("realm/profile_fields", method="GET")["custom_fields"]
    github = next(f for f in fields if f["type"] == 7)
    assert json.loads(github["field_data"]) == {"subtype": "github"}
    user = bot.get_user_by_id(world.alice.user_id, include_custom_profile_fields=True)["user"]
    assert user["profile_data"] == {str(github["id"]): {"value": "alice-gh"}}


def test_topics_subscription_status_and_previews(world: World) -> None:
    bot = world.client(world.bot)
    stream_id = bot.get_stream_id("community")["stream_id"]
    first = _send(bot, "one", topic="Agenda")
    _send(bot, "two", topic="notes")
    last = _send(bot, "three", topic="agenda")
    topics = bot.get_stream_topics(stream_id)["topics"]
    assert topics == [{"name": "agenda", "max_id": last}, {"name": "notes", "max_id": first + 1}]
    status = bot.call_endpoint(
        f"users/{world.guest.user_id}/subscriptions/{stream_id}", method="GET"
    )
    assert status["is_subscribed"] is False
    preview = bot.render_message({"content": "@**Alice Example**"})["rendered"]
    mention = (
        f'<span class="user-mention" data-user-id="{world.alice.user_id}">@Alice Example</span>'
    )
    assert preview == f"<p>{mention}</p>"
    assert len(world.sandbox.realm.messages) == 3  # a preview posts nothing


def test_membership_and_privacy_changes_reach_who_may_see_them(world: World) -> None:
    """Who reads a stream, as Zulip has it (#226-#228, zulip.yaml's `stream` `update`): peers
    hear `peer_add`/`peer_remove`, the person `add`/`remove`; a guest reads only the streams
    they are in; only an administrator makes a stream private."""
    bot, alice, bob, guest = (
        world.client(u) for u in (world.bot, world.alice, world.bob, world.guest)
    )
    stream_id = bot.get_stream_id("community")["stream_id"]
    queue = bot.register(event_types=["subscription", "stream"])
    guests_queue = guest.register(event_types=["subscription", "stream"])
    bob.remove_subscriptions(["community"])
    bob.add_subscriptions([{"name": "community"}])
    refused = bob.call_endpoint(
        f"streams/{stream_id}", method="PATCH", request={"is_private": True}
    )
    assert refused["result"] == "error"
    made = alice.call_endpoint(f"streams/{stream_id}", method="PATCH", request={"is_private": True})
    assert made["result"] == "success", made
    removed = alice.remove_subscriptions(["community"], principals=[world.bob.user_id])
    assert removed["removed"] == ["community"]
    heard = bot.get_events(queue_id=queue["queue_id"], last_event_id=-1, dont_block=True)
    assert [
        (e["type"], e["op"], e.get("user_ids"), e.get("stream_ids"), e.get("value"))
        for e in heard["events"]
    ] == [
        ("subscription", "peer_remove", [world.bob.user_id], [stream_id], None),
        ("subscription", "peer_add", [world.bob.user_id], [stream_id], None),
        ("stream", "update", None, None, True),
        ("subscription", "peer_remove", [world.bob.user_id], [stream_id], None),
    ]
    assert (
        guest.get_events(queue_id=guests_queue["queue_id"], last_event_id=-1, dont_block=True)[
            "events"
        ]
        == []
    )  # a guest outside the stream sees none of its members
    assert bob.call_endpoint(f"streams/{stream_id}/members", method="GET")["result"] == "error"
    alice.call_endpoint(f"streams/{stream_id}", method="PATCH", request={"is_private": False})
    assert guest.add_subscriptions([{"name": "community"}])["msg"] == (
        "Unable to access channel (community)."
    )
    outside = {"type": "stream", "to": "community", "topic": "t", "content": "hello"}
    assert guest.send_message(outside)["msg"] == "Not authorized to send to channel 'community'"
    world.sandbox.subscribe(world.guest, "community")
    mine = guest.get_events(queue_id=guests_queue["queue_id"], last_event_id=-1, dont_block=True)
    (added,) = mine["events"]
    assert (added["op"], added["subscriptions"][0]["name"]) == ("add", "community")
    assert world.guest.user_id in added["subscriptions"][0]["subscribers"]


def test_streams_and_subscriptions(world: World) -> None:
    bot = world.client(world.bot)
    assert [s["name"] for s in bot.get_streams()["streams"]] == ["community"]  # not the private one
    assert [s["name"] for s in bot.get_subscriptions()["subscriptions"]] == ["community"]
    again = bot.add_subscriptions([{"name": "community"}])
    assert again["already_subscribed"] == {"meetbot-bot@zulipdev.com": ["community"]}
    created = bot.add_subscriptions([{"name": "packaging"}])
    assert created["subscribed"] == {"meetbot-bot@zulipdev.com": ["packaging"]}
    refused = bot.add_subscriptions([{"name": "leadership"}])
    assert refused["msg"] == "Unable to access channel (leadership)."
    assert bot.get_stream_id("nowhere")["msg"] == "Invalid channel name 'nowhere'"
    subscribers = bot.call_endpoint(
        f"streams/{bot.get_stream_id('community')['stream_id']}/members", method="GET"
    )["subscribers"]
    assert set(subscribers) == {world.bot.user_id, world.alice.user_id, world.bob.user_id}


def test_sends_to_streams_and_people_as_the_client_addresses_them(world: World) -> None:
    bot, bob = world.client(world.bot), world.client(world.bob)
    stream_id = bot.get_stream_id("community")["stream_id"]
    for to in ("community", "COMMUNITY", stream_id, ["community"]):
        assert (
            bot.send_message({"type": "stream", "to": to, "topic": "t", "content": "x"})["result"]
            == "success"
        )
    by_id = bob.send_message({"type": "private", "to": [world.bot.user_id], "content": "hi"})
    by_email = bob.send_message(
        {"type": "direct", "to": ["meetbot-bot@zulipdev.com"], "content": "hi"}
    )
    dm = bot.get_raw_message(by_id["id"])["message"]
    assert dm["type"] == "private" and dm["subject"] == ""
    assert [p["id"] for p in dm["display_recipient"]] == sorted(
        [world.bob.user_id, world.bot.user_id]
    )
    assert bot.get_raw_message(by_email["id"])["message"]["type"] == "private"
    real = bot.send_message({"type": "private", "to": ["bob@example.org"], "content": "x"})
    assert real["msg"] == "Invalid email 'bob@example.org'"
    missing = bot.send_message({"type": "stream", "to": "nowhere", "topic": "t", "content": "x"})
    assert (missing["code"], missing["stream"]) == ("STREAM_DOES_NOT_EXIST", "nowhere")
    private = world.client(world.bob).send_message(
        {"type": "stream", "to": "leadership", "topic": "t", "content": "x"}
    )
    assert private["msg"] == "Not authorized to send to channel 'leadership'"
    # the bot's owner is in the private stream, so the bot may post there (#088)
    assert (
        bot.send_message({"type": "stream", "to": "leadership", "topic": "t", "content": "x"})[
            "result"
        ]
        == "success"
    )


def test_long_topics_and_contents_are_cut_silently(world: World) -> None:
    bot = world.client(world.bot)
    topic = "Weekly planning meeting for the infrastructure and platform team Q4"
    long_id = _send(bot, "0123456789" * 1000 + "X", topic=topic)
    stored = bot.get_raw_message(long_id)
    assert stored["message"]["subject"] == topic[:57] + "..."
    assert len(stored["raw_content"]) == 10_000
    assert stored["raw_content"].endswith("\n[message truncated]")
    exact_id = _send(bot, "y" * 10_000, topic="x" * 60)
    exact = bot.get_raw_message(exact_id)
    assert (len(exact["raw_content"]), exact["message"]["subject"]) == (10_000, "x" * 60)
    padded = bot.get_raw_message(_send(bot, "p", topic="  padded topic "))
    assert padded["message"]["subject"] == "padded topic"
    for content, problem in (
        ("", "Message must not be empty"),
        ("  \n ", "Message must not be empty"),
    ):
        answer = bot.send_message(
            {"type": "stream", "to": "community", "topic": "t", "content": content}
        )
        assert answer["msg"] == problem
    empty_topic = bot.send_message(
        {"type": "stream", "to": "community", "topic": "", "content": "x"}
    )
    assert empty_topic["msg"] == "Topic can't be empty!"


def test_mentions_set_flags_and_render_like_zulip(world: World) -> None:
    bot, bob = world.client(world.bot), world.client(world.bob)
    queue = bot.register(event_types=["message"], apply_markdown=True)
    contents = [
        "@**Meetbot** start",
        f"@**Meetbot|{world.bot.user_id}** next",
        "@_**Meetbot** quiet",
        "@**all** soon",
        "@**Nobody Here** hm",
        "at <time:2024-11-06T17:00:00+01:00>",
    ]
    for content in contents:
        _send(bob, content)
    events = bot.get_events(queue_id=queue["queue_id"], last_event_id=-1, dont_block=True)["events"]
    flags = [e["flags"] for e in events]
    assert flags == [
        ["mentioned"],
        ["mentioned"],
        [],
        ["stream_wildcard_mentioned", "wildcard_mentioned"],
        [],
        [],
    ]
    html = [e["message"]["content"] for e in events]
    mention = f'<span class="user-mention" data-user-id="{world.bot.user_id}">@Meetbot</span>'
    assert html[0] == f"<p>{mention} start</p>"
    assert html[2].startswith('<p><span class="user-mention silent"')
    assert html[4] == "<p>@<strong>Nobody Here</strong> hm</p>"
    assert (
        html[5]
        == '<p>at <time datetime="2024-11-06T16:00:00Z">2024-11-06T17:00:00+01:00</time></p>'
    )


def test_get_messages_with_narrows_and_anchors(world: World) -> None:
    bot, bob = world.client(world.bot), world.client(world.bob)
    ids = [_send(bob, f"m{i}", topic="a" if i % 2 else "b") for i in range(6)]
    dm = bob.send_message({"type": "private", "to": [world.bot.user_id], "content": "dm"})["id"]

    def get(**request: object) -> dict[str, object]:
        answer: dict[str, object] = bot.get_messages({"apply_markdown": False, **request})
        assert answer["result"] == "success", answer
        return answer

    newest = get(anchor="newest", num_before=3, num_after=0)
    assert [m["id"] for m in newest["messages"]] == [ids[4], ids[5], dm]
    assert (newest["found_newest"], newest["found_oldest"], newest["anchor"]) == (
        True,
        False,
        10**16,
    )
    topic = get(
        anchor="oldest",
        num_before=0,
        num_after=10,
        narrow=[
            {"operator": "stream", "operand": "community"},
            {"operator": "topic", "operand": "A"},
        ],
    )
    assert [m["id"] for m in topic["messages"]] == [ids[1], ids[3], ids[5]]
    around = get(anchor=ids[2], num_before=1, num_after=1, narrow=[["stream", "community"]])
    assert [m["id"] for m in around["messages"]] == ids[1:4] and around["found_anchor"]
    after = get(anchor=ids[2], num_before=0, num_after=2, include_anchor=False)
    assert [m["id"] for m in after["messages"]] == ids[3:5]
    unread = get(anchor="first_unread", num_before=0, num_after=1)
    assert unread["anchor"] == ids[0]
    dms = get(
        anchor="newest",
        num_before=5,
        num_after=0,
        narrow=[{"operator": "dm", "operand": [world.bob.user_id]}],
    )
    assert [m["id"] for m in dms["messages"]] == [dm]
    assert (
        bot.get_messages({"anchor": "newest", "num_before": 6000, "num_after": 0})["msg"]
        == "Too many messages requested (maximum 5000)."
    )
    bad = bot.get_messages(
        {
            "anchor": "newest",
            "num_before": 1,
            "num_after": 0,
            "narrow": [{"operator": "bogus", "operand": "x"}],
        }
    )
    assert (bad["code"], bad["desc"]) == ("BAD_NARROW", "unknown operator bogus")
    both = bot.get_messages(
        {"anchor": ids[2], "num_before": 1, "num_after": 1, "include_anchor": False}
    )
    assert both["msg"] == "The anchor can only be excluded at an end of the range"


def test_edits_respect_the_time_limit_and_deletes_their_permissions(world: World) -> None:
    bot, bob = world.client(world.bot), world.client(world.bob)
    mine = _send(bot, "Agenda: 1. intro")
    assert (
        bot.update_message({"message_id": mine, "content": "Agenda: 1. intro 2. budget"})["result"]
        == "success"
    )
    edited = bot.get_raw_message(mine)
    assert edited["raw_content"] == "Agenda: 1. intro 2. budget"
    assert edited["message"]["edit_history"][0]["prev_content"] == "Agenda: 1. intro"
    assert (
        bob.update_message({"message_id": mine, "content": "bob was here"})["msg"]
        == "You don't have permission to edit this message"
    )
    assert bot.update_message({"message_id": mine})["msg"] == "Nothing to change"
    world.clock.advance(600 + 20 + 1)
    late = bot.update_message({"message_id": mine, "content": "too late"})
    assert late["msg"] == "The time limit for editing this message has passed"
    moved = bob.update_message(
        {"message_id": mine, "topic": "x" * 70, "propagate_mode": "change_one"}
    )
    assert moved["result"] == "success"
    assert bot.get_raw_message(mine)["message"]["subject"] == "x" * 57 + "..."
    blanked = _send(bot, "soon gone")
    bot.update_message({"message_id": blanked, "content": ""})
    assert bot.get_raw_message(blanked)["raw_content"] == "(deleted)"
    bobs = _send(bob, "bob's")
    assert bot.delete_message(bobs)["msg"] == "You don't have permission to delete this message"
    assert world.client(world.alice).delete_message(bobs)["result"] == "success"
    assert bot.get_raw_message(bobs)["msg"] == "Invalid message(s)"
    poll = _send(bot, POLL)
    assert (
        bot.update_message({"message_id": poll, "content": "/poll other"})["msg"]
        == "Widgets cannot be edited."
    )


def test_an_admin_changes_the_edit_limit_and_realm_queues_hear_of_it(world: World) -> None:
    """PATCH /realm as recordings #147 and #150, the refusal as #148 (limit + 20 s grace), and
    the events as Zulip's `do_set_realm_property` sends them."""
    bot, alice, bob = world.client(world.bot), world.client(world.alice), world.client(world.bob)
    realm_queue = bot.register(event_types=["message", "realm"])
    messages_only = bot.register(event_types=["message"])
    mine = _send(bot, "Agenda: 1. intro")

    def patch(client: zulip.Client, **settings: object) -> dict[str, object]:
        return client.call_endpoint("realm", method="PATCH", request=settings)

    refused = patch(bob, message_content_edit_limit_seconds=60)
    assert (refused["code"], refused["msg"]) == (
        "UNAUTHORIZED_PRINCIPAL",
        "Must be an organization administrator",
    )
    assert patch(alice, message_content_edit_limit_seconds=0)["code"] == "REQUEST_VARIABLE_INVALID"
    assert patch(alice, message_content_edit_limit_seconds=60) == {
        "result": "success",
        "msg": "",
        "message_content_edit_limit_seconds": 60,
    }
    assert patch(alice, message_content_edit_limit_seconds=60) == {"result": "success", "msg": ""}
    assert (
        patch(alice, message_content_delete_limit_seconds=120)[
            "message_content_delete_limit_seconds"
        ]
        == 120
    )

    world.clock.advance(60 + 19)  # timestamps are whole seconds: stay clear of the edge
    in_grace = bot.update_message({"message_id": mine, "content": "in the grace"})
    assert in_grace["result"] == "success"
    world.clock.advance(2)
    assert bot.update_message({"message_id": mine, "content": "too late"}) == {
        "result": "error",
        "msg": "The time limit for editing this message has passed",
        "code": "BAD_REQUEST",
    }
    patch(alice, message_content_edit_limit_seconds='"unlimited"')

    events = bot.get_events(queue_id=realm_queue["queue_id"], last_event_id=-1)["events"]
    assert [{k: v for k, v in e.items() if k != "id"} for e in events] == [
        {"type": "message", **{k: events[0][k] for k in ("message", "flags")}},
        {
            "type": "realm",
            "op": "update_dict",
            "property": "default",
            "data": {"message_content_edit_limit_seconds": 60},
        },
        {
            "type": "realm",
            "op": "update",
            "property": "message_content_delete_limit_seconds",
            "value": 120,
        },
        {
            "type": "realm",
            "op": "update_dict",
            "property": "default",
            "data": {"message_content_edit_limit_seconds": None},
        },
    ]
    quiet = bot.get_events(queue_id=messages_only["queue_id"], last_event_id=-1)["events"]
    assert [e["type"] for e in quiet] == ["message"]
    world.clock.advance(10**6)
    assert bot.update_message({"message_id": mine, "content": "no limit"})["result"] == "success"
    state = bot.register(event_types=["realm"], fetch_event_types=["realm"])
    assert state["realm_message_content_edit_limit_seconds"] is None


def test_reactions_use_zulip_names_and_codes(world: World) -> None:
    bot, bob = world.client(world.bot), world.client(world.bob)
    item = _send(bot, "add item: budget")
    assert bob.add_reaction({"message_id": item, "emoji_name": "thumbs_up"})["result"] == "success"
    duplicate = bob.add_reaction({"message_id": item, "emoji_name": "+1"})
    assert duplicate["code"] == "REACTION_ALREADY_EXISTS"
    assert (
        bob.add_reaction({"message_id": item, "emoji_name": "not_an_emoji"})["msg"]
        == "Emoji 'not_an_emoji' does not exist"
    )
    bot.add_reaction({"message_id": item, "emoji_name": "check"})
    reactions = bot.get_raw_message(item)["message"]["reactions"]
    assert [(r["emoji_name"], r["emoji_code"], r["user_id"]) for r in reactions] == [
        ("+1", "1f44d", world.bob.user_id),
        ("check", "2705", world.bot.user_id),
    ]
    assert reactions[0]["user"] == {
        "email": f"user{world.bob.user_id}@zulipdev.com",
        "id": world.bob.user_id,
        "full_name": "Bob Example",
    }
    removed = bob.remove_reaction(
        {"message_id": item, "emoji_code": "1f44d", "reaction_type": "unicode_emoji"}
    )
    assert removed["result"] == "success"
    again = bob.remove_reaction({"message_id": item, "emoji_name": "+1"})
    assert again["code"] == "REACTION_DOES_NOT_EXIST"


def test_a_poll_stores_its_widget_and_every_ballot(world: World) -> None:
    bot, bob, alice = world.client(world.bot), world.client(world.bob), world.client(world.alice)
    poll = _send(bot, "/poll Which slot?\n- 10:00\n* 11:00\n\n12:00")

    def submit(client: zulip.Client, content: dict[str, object]) -> dict[str, object]:
        answer: dict[str, object] = client.call_endpoint(
            "submessage",
            method="POST",
            request={"message_id": poll, "msg_type": "widget", "content": json.dumps(content)},
        )
        return answer

    assert submit(bob, {"type": "vote", "key": "canned,1", "vote": 1})["result"] == "success"
    assert (
        submit(alice, {"type": "vote", "key": "canned,1", "vote": 2})["msg"]
        == 'Invalid poll data["vote"]'
    )
    assert (
        submit(alice, {"type": "question", "question": "Mine?"})["msg"]
        == "You can't edit a question unless you are the author."
    )
    assert (
        submit(alice, {"type": "vote", "key": "x", "vote": 1, "extra": True})["msg"]
        == "Unexpected arguments: extra"
    )
    submessages = bot.get_raw_message(poll)["message"]["submessages"]
    widget = json.loads(submessages[0]["content"])
    assert widget == {
        "widget_type": "poll",
        "extra_data": {"question": "Which slot?", "options": ["10:00", "11:00", "12:00"]},
    }
    assert submessages[0]["content"].startswith('{"widget_type": "poll", ')  # Python's json spacing
    assert [(s["sender_id"], s["content"]) for s in submessages[1:]] == [
        (world.bob.user_id, '{"type": "vote", "key": "canned,1", "vote": 1}')
    ]
    plain = _send(bot, "no widget here")
    refused = bob.call_endpoint(
        "submessage",
        method="POST",
        request={
            "message_id": plain,
            "msg_type": "widget",
            "content": '{"type":"vote","key":"canned,0","vote":1}',
        },
    )
    assert refused["msg"] == "You cannot attach a submessage to this message."


def test_event_queues_deliver_in_order_and_expire(world: World) -> None:
    bot, bob = world.client(world.bot), world.client(world.bob)
    queue = bot.register(
        event_types=["message", "reaction", "submessage", "update_message", "delete_message"],
        client_capabilities={"notification_settings_null": True, "bulk_message_deletion": True},
    )
    assert queue["last_event_id"] == -1
    said = _send(bob, "Kickoff at 10:00")
    bob.update_message({"message_id": said, "content": "Kickoff at 10:30"})
    bot.add_reaction({"message_id": said, "emoji_name": "+1"})
    bob.delete_message(said)
    events = bot.get_events(queue_id=queue["queue_id"], last_event_id=-1)["events"]
    assert [e["type"] for e in events] == [
        "message",
        "update_message",
        "reaction",
        "delete_message",
    ]
    assert [e["id"] for e in events] == [0, 1, 2, 3]
    assert events[3]["message_ids"] == [said]
    heartbeat = bot.get_events(queue_id=queue["queue_id"], last_event_id=3)
    assert heartbeat["events"] == [{"type": "heartbeat", "id": 4}]
    assert heartbeat["queue_id"] == queue["queue_id"]
    stale = bot.get_events(queue_id=queue["queue_id"], last_event_id=-1, dont_block=True)
    assert stale["msg"] == "An event newer than -1 has already been pruned!"
    world.clock.advance(601)
    gone = bot.get_events(queue_id=queue["queue_id"], last_event_id=4, dont_block=True)
    assert (gone["code"], gone["queue_id"]) == ("BAD_EVENT_QUEUE_ID", queue["queue_id"])
    assert re.fullmatch(r"Bad event queue ID: [-0-9a-f]+", gone["msg"])
    assert bot.deregister(queue["queue_id"])["code"] == "BAD_EVENT_QUEUE_ID"


def test_register_returns_the_initial_state_the_runner_reads(world: World) -> None:
    bot = world.client(world.bot)
    state = bot.register(
        event_types=["message"],
        fetch_event_types=[
            "message",
            "realm_user",
            "realm",
            "subscription",
            "custom_profile_fields",
        ],
    )
    people = {u["user_id"]: u for u in state["realm_users"]}
    assert people[world.alice.user_id]["profile_data"] == {"1": {"value": "alice-gh"}}
    assert people[world.alice.user_id]["role"] == 200
    assert state["max_message_length"] == 10_000 and state["max_topic_length"] == 60
    assert state["realm_message_content_edit_limit_seconds"] == 600
    assert [s["name"] for s in state["subscriptions"]] == ["community"]
    narrowed = bot.register(event_types=["message"], narrow=[["stream", "community"]])
    assert narrowed["result"] == "success"
    dict_form = bot.register(
        event_types=["message"], narrow=[{"operator": "stream", "operand": "community"}]
    )
    assert dict_form["msg"] == "narrow[0] is not a list"
    guest = world.client(world.guest).register(event_types=["message"], all_public_streams=True)
    assert guest["msg"] == "User not authorized for this query"


@pytest.mark.parametrize("capabilities", [{"bulk_message_deletion": True}])
def test_client_capabilities_need_notification_settings_null(
    world: World, capabilities: dict[str, bool]
) -> None:
    answer = world.client(world.bot).register(
        event_types=["message"], client_capabilities=capabilities
    )
    assert answer["msg"] == "notification_settings_null key is missing from client_capabilities"


def test_a_person_deactivated_mid_meeting(world: World) -> None:
    bot = world.client(world.bot)
    bob = world.client(world.bob)
    world.sandbox.deactivate(world.bob.delivery_email)
    refused = bob.get_profile()
    assert (refused["code"], refused["msg"]) == ("UNAUTHORIZED", "Account is deactivated")
    dm = bot.send_message({"type": "private", "to": [world.bob.user_id], "content": "hi"})
    assert dm["msg"] == f"'user{world.bob.user_id}@zulipdev.com' is no longer using Zulip."
    assert world.bob.user_id not in {m["user_id"] for m in bot.get_members()["members"]}
    said = _send(world.client(world.alice), "@**Bob Example** owns this")
    assert world.bob.user_id not in world.sandbox.realm.messages[said].user_flags


def test_only_admins_deactivate_and_queues_hear_of_it(world: World) -> None:
    bot, alice = world.client(world.bot), world.client(world.alice)
    queue = bot.register(event_types=["realm_user"])
    refused = bot.call_endpoint(f"users/{world.bob.user_id}", method="DELETE")
    assert refused["msg"] == "Insufficient permission"
    assert alice.call_endpoint(f"users/{world.bob.user_id}", method="DELETE")["result"] == "success"
    again = alice.call_endpoint(f"users/{world.bob.user_id}", method="DELETE")
    assert again["msg"] == "User is already deactivated"
    alice.call_endpoint(f"users/{world.bob.user_id}/reactivate", method="POST")
    demote = {"role": 600}
    refused = bot.call_endpoint(f"users/{world.bob.user_id}", method="PATCH", request=demote)
    assert refused["msg"] == "Insufficient permission"
    alice.call_endpoint(f"users/{world.bob.user_id}", method="PATCH", request=demote)
    alice.call_endpoint(
        "realm", method="PATCH", request={"message_content_edit_limit_seconds": 300}
    )
    events = bot.get_events(queue_id=queue["queue_id"], last_event_id=-1, dont_block=True)["events"]
    assert [e["person"] for e in events] == [
        {"user_id": world.bob.user_id, "is_active": False},
        {"user_id": world.bob.user_id, "is_active": True},
        {"user_id": world.bob.user_id, "role": 600},
    ]
    assert world.client(world.alice).get_user_by_id(world.bob.user_id)["user"]["is_guest"]
    assert world.client(world.bob).get_profile()["result"] == "success"


def test_a_renamed_stream(world: World) -> None:
    bot = world.client(world.bot)
    before = _send(bot, "before the rename")
    world.sandbox.rename_stream("community", "Community Calls", by=world.alice)
    old = bot.send_message({"type": "stream", "to": "community", "topic": "t", "content": "x"})
    assert old["code"] == "STREAM_DOES_NOT_EXIST"
    assert bot.get_raw_message(before)["message"]["display_recipient"] == "Community Calls"
    found = bot.get_messages(
        {
            "anchor": "newest",
            "num_before": 5,
            "num_after": 0,
            "narrow": [{"operator": "stream", "operand": "community calls"}],
        }
    )
    first, *_, note = found["messages"]
    assert (first["id"], note["subject"]) == (before, "channel events")  # Notification Bot


def test_a_renamed_stream_keeps_its_id_its_messages_and_tells_who_may_see_it(world: World) -> None:
    """PATCH /streams/{id} `new_name` and `description` as Zulip's `update_stream_backend`
    takes them: administrators only, the same name or one in use refused, a change of case
    allowed; the `stream` `update` of `name` carries the old name and reaches who may see the
    stream; old messages show the new name, and the old name is gone."""
    bot, alice, bob, guest = (
        world.client(u) for u in (world.bot, world.alice, world.bob, world.guest)
    )
    stream_id = bot.get_stream_id("community")["stream_id"]
    before = _send(bob, "said before the rename")
    queue = bot.register(event_types=["stream", "message"])
    guests_queue = guest.register(event_types=["stream"])
    path = f"streams/{stream_id}"

    def patch(client: zulip.Client, **request: Any) -> dict[str, Any]:
        answer: dict[str, Any] = client.call_endpoint(path, method="PATCH", request=request)
        return answer

    assert patch(bob, new_name="calls")["msg"] == "Must be an organization or channel administrator"
    assert patch(alice, new_name="community")["msg"] == "Channel already has that name."
    assert patch(alice, new_name=" Leadership ")["msg"] == "Channel name already in use."
    assert patch(alice, new_name="  ")["msg"] == "Channel name can't be empty."
    assert patch(alice, description="x" * 1025)["msg"] == (
        "description is too long (limit: 1024 characters)"
    )
    assert patch(alice)["result"] == "error"  # nothing to change
    assert patch(alice, new_name="Community")["result"] == "success"  # case only
    assert patch(alice, new_name=" Community calls ", description="Open\nto all")["result"] == (
        "success"
    )

    heard = bot.get_events(queue_id=queue["queue_id"], last_event_id=-1, dont_block=True)
    updates = [
        (e["property"], e["value"], e["name"], e["stream_id"])
        for e in heard["events"]
        if e["type"] == "stream"
    ]
    assert updates == [
        ("name", "Community", "community", stream_id),
        ("description", "Open to all", "Community", stream_id),
        ("name", "Community calls", "Community", stream_id),
    ]
    notes = [e["message"] for e in heard["events"] if e["type"] == "message"]
    assert [(m["display_recipient"], m["subject"], m["content"]) for m in notes][-1] == (
        "Community calls",
        "channel events",
        f"@_**Alice Example|{world.alice.user_id}** renamed channel **Community** to "
        "**Community calls**.",
    )
    events = guest.get_events(queue_id=guests_queue["queue_id"], last_event_id=-1, dont_block=True)
    assert events["events"] == []  # a guest outside the public stream does not see it
    old = bot.get_raw_message(before)["message"]
    assert (old["display_recipient"], old["stream_id"]) == ("Community calls", stream_id)
    assert bot.get_stream_id("community calls")["stream_id"] == stream_id
    assert bot.get_stream_id("community")["result"] == "error"
    refused = bot.send_message({"type": "stream", "to": "community", "topic": "t", "content": "x"})
    assert (refused["code"], refused["stream"]) == ("STREAM_DOES_NOT_EXIST", "community")
    by_id = bot.send_message({"type": "stream", "to": stream_id, "topic": "t", "content": "x"})
    assert by_id["result"] == "success", by_id
    described = bot.call_endpoint(path, method="GET")["stream"]
    assert (described["name"], described["description"]) == ("Community calls", "Open to all")


def test_a_streams_history_reaches_who_was_away_only_where_zulip_shares_it(world: World) -> None:
    """GET /messages: the home view holds only what a user received; a `channel` narrow adds
    what was sent while they were not subscribed (flagged `historical`) for a public stream
    and a private one with shared history, never for one with protected history, which is
    a private stream's default, made by POST /users/me/subscriptions or PATCH /streams/{id}."""
    bot, alice = world.client(world.bot), world.client(world.alice)
    me = [world.bot.user_id]

    def away_then_back(stream: str) -> tuple[int, int]:
        """A message sent while the bot was out of the stream, one after it came back."""
        assert alice.remove_subscriptions([stream], principals=me)["removed"] == [stream]
        missed = alice.send_message({"type": "stream", "to": stream, "topic": "t", "content": "x"})
        assert alice.add_subscriptions([{"name": stream}], principals=me)["result"] == "success"
        seen = alice.send_message({"type": "stream", "to": stream, "topic": "t", "content": "y"})
        return int(missed["id"]), int(seen["id"])

    def read(stream: str | None) -> dict[int, list[str]]:
        narrow = [] if stream is None else [{"operator": "channel", "operand": stream}]
        got = bot.get_messages({"anchor": 0, "num_before": 0, "num_after": 100, "narrow": narrow})
        assert got["result"] == "success", got
        return {int(m["id"]): m["flags"] for m in got["messages"]}

    def shared(stream: str) -> bool:
        subs = bot.get_subscriptions()["subscriptions"]
        return bool(next(s for s in subs if s["name"] == stream)["history_public_to_subscribers"])

    created = alice.add_subscriptions(
        [{"name": "board"}], principals=[world.alice.user_id, *me], invite_only=True
    )
    assert created["result"] == "success", created
    alice.add_subscriptions(
        [{"name": "council"}],
        principals=[world.alice.user_id, *me],
        invite_only=True,
        history_public_to_subscribers=True,
    )
    gaps = {name: away_then_back(name) for name in ("community", "board", "council")}
    home = read(None)
    for missed, seen in gaps.values():
        assert missed not in home and seen in home
    for name in ("community", "council"):  # shared history: the gap is there, marked
        missed, seen = gaps[name]
        narrowed = read(name)
        assert "historical" in narrowed[missed] and "historical" not in narrowed[seen]
    assert not shared("board") and shared("council") and shared("community")
    missed, seen = gaps["board"]  # protected: only what the bot received
    assert missed not in read("board") and seen in read("board")

    stream_id = bot.get_stream_id("community")["stream_id"]
    made = alice.call_endpoint(f"streams/{stream_id}", method="PATCH", request={"is_private": True})
    assert made["result"] == "success", made
    assert not shared("community")
    missed, seen = away_then_back("community")
    assert missed not in read("community") and seen in read("community")
