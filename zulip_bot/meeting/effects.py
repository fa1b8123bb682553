"""What the service asks the chat edge to do, and what the chat edge hands to the service.

The service never talks to Zulip: it takes these plain values in and returns effects, so that
tests drive it directly and the runner can send, retry and de-duplicate effects on its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sender:
    email: str
    full_name: str
    user_id: int
    is_bot: bool = False
    is_admin: bool = False  # organization owner or administrator


@dataclass(frozen=True)
class Incoming:
    """A message in a meeting's stream or to the bot, its mention already stripped."""

    event_id: str
    message_id: int
    sender: Sender
    content: str
    stream: str | None = None  # None for a direct message
    topic: str | None = None
    # False for a stream message that does not mention the bot: it is only read for the
    # transcript and for automatic attendance, never answered.
    addressed: bool = True


@dataclass(frozen=True)
class Send:
    """Post `content` in stream/topic, or as a direct message to `to` when stream is None.

    `ref` names what the message stands for ("item:community:2024-11-06:3", "poll:7"), so that
    the runner can report the id Zulip gave it back to the service (`message_sent`).
    """

    content: str
    stream: str | None = None
    topic: str | None = None
    to: str | None = None
    ref: str | None = None
    #: The reply only confirms what the person asked (a vote, `here`, a note): the runner may
    #: acknowledge it with an emoji reaction on their message instead, or batch it under load.
    ack_only: bool = False


@dataclass(frozen=True)
class Edit:
    """Change the content of a message the bot posted (its agenda); the runner may coalesce
    several edits of one message into the last."""

    message_id: int
    content: str


Effect = Send | Edit
