"""Whom a message mentions and notifies, from its rendering: the `mentioned` and wildcard flags
of each receiver, at the send and at each content edit, as Zulip keeps them.

A notification is what Zulip sends for a live mention: to a mentioned receiver, a member of a
mentioned group, every receiver for `@**all**` and its spellings, the topic's participants for
`@**topic**`; never to the sender, and after an edit only to whom the edit newly mentions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

MENTION_FLAGS: Final = (
    "mentioned",
    "stream_wildcard_mentioned",
    "topic_wildcard_mentioned",
    "wildcard_mentioned",
)
_WILDCARD_FLAGS: Final = frozenset({"stream_wildcard_mentioned", "topic_wildcard_mentioned"})


@dataclass(frozen=True)
class Mentions:
    """A rendering's live mentions, resolved to people."""

    #: Mentioned by name or id, or as a member of a mentioned group.
    user_ids: frozenset[int]
    stream_wildcard: bool
    topic_wildcard: bool
    #: Who has taken part in the topic, whom `@**topic**` reaches.
    topic_user_ids: frozenset[int]

    def reaches(self, user_id: int) -> bool:
        return (
            user_id in self.user_ids
            or self.stream_wildcard
            or (self.topic_wildcard and user_id in self.topic_user_ids)
        )

    def notified(self, receivers: Iterable[int], sender_id: int) -> set[int]:
        return {u for u in receivers if u != sender_id and self.reaches(u)}


def flags_at_send(user_id: int, mentions: Mentions) -> list[str]:
    wanted = set()
    if user_id in mentions.user_ids:
        wanted.add("mentioned")
    if mentions.stream_wildcard:
        wanted.add("stream_wildcard_mentioned")
    if mentions.topic_wildcard and user_id in mentions.topic_user_ids:
        wanted.add("topic_wildcard_mentioned")
    return _ordered(wanted)


def flags_after_edit(flags: list[str], user_id: int, mentions: Mentions) -> list[str]:
    """Zulip's `update_user_message_flags`: `mentioned` follows the new content; a stream
    wildcard flag is added but never taken away; the topic one follows a topic wildcard only
    when the content has no stream wildcard."""
    wanted = {f for f in flags if f in MENTION_FLAGS}
    wanted.discard("mentioned")
    if user_id in mentions.user_ids:
        wanted.add("mentioned")
    if mentions.stream_wildcard:
        wanted.add("stream_wildcard_mentioned")
    elif mentions.topic_wildcard:
        wanted.discard("topic_wildcard_mentioned")
        if user_id in mentions.topic_user_ids:
            wanted.add("topic_wildcard_mentioned")
    others = [f for f in flags if f not in MENTION_FLAGS]
    return others + _ordered(wanted)


def is_mentioned(flags: Iterable[str]) -> bool:
    """Whether these flags say the receiver was mentioned (and so notified) already."""
    return any(f in MENTION_FLAGS for f in flags)


def _ordered(wanted: set[str]) -> list[str]:
    """Zulip's flag order; `wildcard_mentioned` is the old name clients still get."""
    wanted.discard("wildcard_mentioned")
    if wanted & _WILDCARD_FLAGS:
        wanted.add("wildcard_mentioned")
    return [f for f in MENTION_FLAGS if f in wanted]
