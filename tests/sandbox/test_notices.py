"""Notification Bot's words after topic moves."""

from __future__ import annotations

from dataclasses import replace

from zulip_bot.sandbox.notices import TopicMove, move_notices

MOVE = TopicMove(30, "meetings", "agenda A", "agenda B", 204, 1, False, 44, "Meetbot")


def test_one_message_moved_links_to_it_from_both_topics() -> None:
    posts = move_notices(MOVE, notify_old=True, notify_new=True)
    link = "[A message](#narrow/stream/30-meetings/topic/agenda.20B/near/204)"
    assert posts == [
        (
            "agenda A",
            f"{link} was moved from this topic to #**meetings>agenda B** by @_**Meetbot|44**.",
        ),
        ("agenda B", f"{link} was moved here from #**meetings>agenda A** by @_**Meetbot|44**."),
    ]


def test_several_and_whole_topic_moves_are_counted_and_named() -> None:
    several = move_notices(replace(MOVE, moved=3), notify_old=False, notify_new=True)
    assert several == [
        ("agenda B", "3 messages were moved here from #**meetings>agenda A** by @_**Meetbot|44**.")
    ]
    whole = move_notices(
        replace(MOVE, moved=3, whole_topic=True), notify_old=False, notify_new=True
    )
    assert whole[0][1].startswith("This topic was moved here from")
    assert move_notices(MOVE, notify_old=False, notify_new=False) == []


def test_resolving_is_announced_even_without_notifications() -> None:
    resolved = replace(MOVE, new_topic="✔ agenda A")
    assert move_notices(resolved, notify_old=False, notify_new=False) == [
        ("✔ agenda A", "@_**Meetbot|44** has marked this topic as resolved.")
    ]
    reopened = replace(MOVE, old_topic="✔ agenda A", new_topic="agenda A")
    assert move_notices(reopened, notify_old=True, notify_new=True) == [
        ("agenda A", "@_**Meetbot|44** has marked this topic as unresolved.")
    ]
