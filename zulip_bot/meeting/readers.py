"""Who may read a meeting: whoever can read its stream, as Zulip decides it.

The service asks a `Readers` port, which the edge answers from Zulip (`chat/access.py`); the
shell and the tests that need no server pass `everyone`. Everyone else is told, in one line,
whose meeting it is, and nothing of what it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from zulip_bot.config import MeetingConfig
from zulip_bot.meeting.effects import Sender

#: Whether `sender` may read the meeting's stream, and so read and change the meeting.
Readers: TypeAlias = Callable[[MeetingConfig, Sender], bool]


def everyone(meeting: MeetingConfig, sender: Sender) -> bool:
    """Where no server says otherwise (the shell): every sender reads every meeting."""
    return True


def members_only(meeting: MeetingConfig) -> str:
    """The whole answer to someone who cannot read the meeting's stream."""
    return (
        f"{meeting.title} is for the members of its stream #**{meeting.stream}**; "
        "ask an organizer to add you to the stream."
    )
