"""A notes draft the system would not save (disk full, a folder the bot may not write to).

Nothing was changed (the save writes a copy, then swaps it in), so the command works when sent
again once the fault is gone, and the person is told exactly that. Only the organizers can fix
the server, so they hear of it by direct message, once for each episode of the fault: from the
first refused save of a meeting's notes until one succeeds again (`recovered`), however many
commands fail in between.
"""

from __future__ import annotations

from typing import Final

from zulip_bot.config import MeetingConfig
from zulip_bot.meeting.effects import Effect, Incoming, Send
from zulip_bot.meeting.store import Store
from zulip_bot.notes import NotesUnsaved

_EPISODE: Final = "notes-unsaved:"  # + meeting key: set while its saves fail


def answer(
    store: Store, meeting: MeetingConfig, msg: Incoming, error: NotesUnsaved
) -> list[Effect]:
    """The reply to the person, and the organizers' message if this episode is new."""
    text = (
        f"Not saved: {meeting.title}'s notes {error.reason}. Nothing was changed; send "
        f"`{msg.content}` again once that is fixed (the organizers have been told)."
    )
    said: list[Effect] = [
        Send(text, to=msg.sender.email)
        if msg.stream is None
        else Send(text, stream=msg.stream, topic=msg.topic)
    ]
    key = _EPISODE + meeting.key
    if store.runner_value(key) is not None:
        return said
    store.set_runner_value(key, error.reason)
    report = (
        f"{meeting.title}'s notes {error.reason}, so commands that change them are refused "
        f"(the first: `{msg.content}` from {msg.sender.full_name}). Please fix it on the bot's "
        "server; people were asked to send their commands again, and I will tell you again if "
        "it happens after a save has worked."
    )
    return said + [Send(report, to=email) for email in meeting.organizers]


def recovered(store: Store, meeting: MeetingConfig) -> None:
    """A save of the meeting's notes worked: a later fault is a new episode, told anew."""
    store.forget_runner_value(_EPISODE + meeting.key)
