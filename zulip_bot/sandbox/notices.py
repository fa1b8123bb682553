"""What Notification Bot says, word for word as recorded (#084, #135-#142), so that a bot sees
the same extra messages in a topic after a move as it would on a real server. The rename note
is not recorded: its words are those Zulip's own test of a rename (`test_notify_on_stream_rename`)
expects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from zulip_bot.sandbox.render import topic_narrow

RESOLVED_PREFIX: Final = "✔ "


@dataclass(frozen=True)
class TopicMove:
    stream_id: int
    stream: str
    old_topic: str
    new_topic: str
    #: The message the edit named, and how many moved with it.
    message_id: int
    moved: int
    whole_topic: bool
    editor_id: int
    editor_name: str


def move_notices(move: TopicMove, *, notify_old: bool, notify_new: bool) -> list[tuple[str, str]]:
    """(topic, Markdown) posts; a topic resolved or unresolved gets its notice even unasked."""
    who = f"@_**{move.editor_name}|{move.editor_id}**"
    was_resolved = move.old_topic.startswith(RESOLVED_PREFIX)
    is_resolved = move.new_topic.startswith(RESOLVED_PREFIX)
    if was_resolved != is_resolved:
        state = "resolved" if is_resolved else "unresolved"
        return [(move.new_topic, f"{who} has marked this topic as {state}.")]
    link = topic_narrow(move.stream_id, move.stream, move.new_topic) + f"/near/{move.message_id}"
    if move.whole_topic:
        what_new, what_old = "This topic was moved here", "This topic was moved to"
    elif move.moved == 1:
        what_new = f"[A message]({link}) was moved here"
        what_old = f"[A message]({link}) was moved from this topic to"
    else:
        what_new = f"{move.moved} messages were moved here"
        what_old = f"{move.moved} messages were moved from this topic to"
    posts = []
    if notify_old:
        posts.append((move.old_topic, f"{what_old} #**{move.stream}>{move.new_topic}** by {who}."))
    if notify_new:
        posts.append(
            (move.new_topic, f"{what_new} from #**{move.stream}>{move.old_topic}** by {who}.")
        )
    return posts


def missing_stream_notice(bot_email: str, stream: str) -> str:
    return (
        f"Your bot `{bot_email}` tried to send a message to channel #**{stream}**, "
        "but that channel does not exist. Click [here](#channels/new) to create it."
    )


def rename_notice(editor_name: str, editor_id: int, old: str, new: str) -> str:
    return f"@_**{editor_name}|{editor_id}** renamed channel **{old}** to **{new}**."
