"""Who a message notifies, as Zulip decides it, seen through real clients: each message records
whom it notified (`Message.notified`) and whether a wildcard was live, and people's flags in
events and GET /messages say `mentioned` / `wildcard_mentioned` as Zulip's do."""

from __future__ import annotations

from typing import Any

import pytest
import zulip

from tests.sandbox.conftest import World
from tests.sandbox.test_conformance import _send


def _flags(client: zulip.Client, message_id: int) -> list[str]:
    found = client.get_messages({"anchor": message_id, "num_before": 0, "num_after": 0})
    flags: list[str] = found["messages"][0]["flags"]
    return flags


@pytest.fixture
def team(world: World) -> World:
    """Alice has spoken in the topic (so `@**topic**` reaches her); `team` is Alice and the bot."""
    world.sandbox.add_user_group("team", [world.alice, world.bot])
    _send(world.client(world.alice), "morning", topic="standup")
    return world


#: content -> (names notified, wildcard live); Bob sends each to #community > standup.
POSTS: dict[str, tuple[set[str], bool]] = {
    "@**Alice Example** hi": ({"alice"}, False),
    "hi @**alice example**": ({"alice"}, False),
    "(@**Alice Example|{alice}**)": ({"alice"}, False),
    "@**|{alice}** hi": ({"alice"}, False),
    "@**Bob Example|{alice}** wrong name": (set(), False),
    "@_**Alice Example** quiet": (set(), False),
    "@_**Alice Example|{alice}** quiet": (set(), False),
    "@**all** come": ({"alice", "bot"}, True),
    "@**everyone** come": ({"alice", "bot"}, True),
    "@**stream** come": ({"alice", "bot"}, True),
    "@**channel** come": ({"alice", "bot"}, True),
    "@**topic** come": ({"alice"}, True),
    "@_**all** @_**channel** @_**topic** quiet": (set(), False),
    "@**ALL** is a name, not a wildcard": (set(), False),
    "@*team* please": ({"alice", "bot"}, False),
    "@_*team* quiet": (set(), False),
    "@*Team* is not the group's name": (set(), False),
    "`@**all**` in code": (set(), False),
    "```\n@**all** @*team*\n```": (set(), False),
    "    @**Alice Example** indented code": (set(), False),
    "> @**all** @**Alice Example** @*team* quoted": (set(), False),
    "mail@**all** needs a space before": (set(), False),
    "[@**Alice Example**] after a bracket": ({"alice"}, False),
}


@pytest.mark.parametrize("content", POSTS)
def test_a_post_notifies_whom_zulip_would(team: World, content: str) -> None:
    people = {"alice": team.alice, "bob": team.bob, "bot": team.bot}
    text = content.format(alice=team.alice.user_id)
    said = _send(team.client(team.bob), text)
    message = team.sandbox.realm.messages[said]
    names, wildcard = POSTS[content]
    assert message.notified == {people[name].user_id for name in names}
    assert message.wildcard == wildcard
    alice_flags = _flags(team.client(team.alice), said)
    assert ("mentioned" in alice_flags) == ("alice" in names and not wildcard), (
        "mentioned is for names and groups"
    )
    assert ("wildcard_mentioned" in alice_flags) == wildcard


def test_mentions_render_as_zulip_shows_them(team: World) -> None:
    render = team.client(team.bob).render_message
    group = next(g for g in team.sandbox.realm.user_groups.values() if g.name == "team")
    shown = [
        render({"content": c})["rendered"]
        for c in ("@*team* hi", "@_*team* hi", "@**topic** hi", "> @**Alice Example**")
    ]
    assert shown == [
        f'<p><span class="user-group-mention" data-user-group-id="{group.group_id}">'
        "@team</span> hi</p>",
        f'<p><span class="user-group-mention silent" data-user-group-id="{group.group_id}">'
        "team</span> hi</p>",
        '<p><span class="topic-mention">@topic</span> hi</p>',
        "<blockquote>\n<p>"
        f'<span class="user-mention silent" data-user-id="{team.alice.user_id}">'
        "Alice Example</span></p>\n</blockquote>",
    ]


def test_a_name_two_people_share_mentions_the_newest_unless_an_id_says_who(
    world: World,
) -> None:
    older = world.sandbox.add_user("Sam Doe", "sam1@example.org")
    newer = world.sandbox.add_user("Sam Doe", "sam2@example.org")
    for sam in (older, newer):
        world.sandbox.subscribe(sam, "community")
    bob = world.client(world.bob)
    by_name = world.sandbox.realm.messages[_send(bob, "@**Sam Doe** hi")]
    by_id = world.sandbox.realm.messages[_send(bob, f"@**Sam Doe|{older.user_id}** hi")]
    assert by_name.notified == {newer.user_id}
    assert by_id.notified == {older.user_id}


def test_nobody_is_notified_of_their_own_mention_but_it_is_flagged(world: World) -> None:
    alice = world.client(world.alice)
    said = _send(alice, "note to self @**Alice Example** and @**all**")
    assert world.sandbox.realm.messages[said].notified == {world.bob.user_id, world.bot.user_id}
    assert _flags(alice, said) == [
        "mentioned",
        "stream_wildcard_mentioned",
        "wildcard_mentioned",
    ]


def test_a_direct_message_notifies_only_its_people(world: World) -> None:
    bob = world.client(world.bob)
    result = bob.send_message(
        {"type": "private", "to": [world.alice.user_id], "content": "@**all** and @**Meetbot**"}
    )
    assert world.sandbox.realm.messages[result["id"]].notified == {world.alice.user_id}


def test_an_edit_notifies_whom_it_newly_mentions(team: World) -> None:
    bob, alice = team.client(team.bob), team.client(team.alice)
    queue = alice.register(event_types=["update_message"])
    said = _send(bob, "plain words")
    message = team.sandbox.realm.messages[said]
    assert message.notified == set()

    _edit(bob, said, "plain words @_**Alice Example**")
    assert message.notified == set()
    _edit(bob, said, "plain words @**Alice Example**")
    assert message.notified == {team.alice.user_id}
    assert _flags(alice, said) == ["mentioned"]
    _edit(bob, said, "plain words @*team* and @**all**")
    assert message.notified == {team.alice.user_id, team.bot.user_id}
    assert message.wildcard
    _edit(bob, said, "plain words again")
    # a stream wildcard's flag stays after an edit takes it away, as on Zulip
    assert _flags(alice, said) == ["stream_wildcard_mentioned", "wildcard_mentioned"]

    events = alice.get_events(queue_id=queue["queue_id"], last_event_id=-1, dont_block=True)
    flags = [e["flags"] for e in events["events"] if e["type"] == "update_message"]
    assert flags == [
        [],
        ["mentioned"],
        ["mentioned", "stream_wildcard_mentioned", "wildcard_mentioned"],
        ["stream_wildcard_mentioned", "wildcard_mentioned"],
    ]


def _edit(client: zulip.Client, message_id: int, content: str) -> None:
    result: dict[str, Any] = client.update_message({"message_id": message_id, "content": content})
    assert result["result"] == "success", result
