"""The realm's records, and how each looks in the API to a given viewer.

Dict shapes and key orders follow `tests/data/zulip-recordings`; a viewer matters because emails are
hidden from most people (`userNN@zulipdev.com`) and flags are per user.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Final

ROLES: Final = {"owner": 100, "admin": 200, "moderator": 300, "member": 400, "guest": 600}
GITHUB_FIELD_TYPE: Final = 7
#: The bot types of `UserProfile`: 1 is the Generic bot meetbot runs as.
GENERIC_BOT: Final = 1


@dataclass
class User:
    user_id: int
    full_name: str
    delivery_email: str
    api_key: str
    role: int = ROLES["member"]
    is_bot: bool = False
    bot_type: int | None = None
    bot_owner_id: int | None = None
    is_active: bool = True
    #: False is Zulip's "admins only" email visibility, the recorded realm's default.
    email_visible: bool = False
    timezone: str = ""
    date_joined: str = "2026-11-25T05:17:23.846414+00:00"
    #: Custom profile field id -> value.
    profile_data: dict[int, str] = field(default_factory=dict)
    #: Zulip's own bots (Notification Bot): in no member list, realm `zulipinternal`.
    system: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role <= ROLES["admin"]

    @property
    def is_guest(self) -> bool:
        return self.role == ROLES["guest"]

    def email(self, fake_domain: str) -> str:
        """The API-visible email: the real one for bots and where the user lets everyone see it."""
        if self.is_bot or self.email_visible:
            return self.delivery_email
        return f"user{self.user_id}@{fake_domain}"

    def gravatar(self) -> str:
        digest = hashlib.md5(self.delivery_email.casefold().encode(), usedforsecurity=False)
        return f"https://secure.gravatar.com/avatar/{digest.hexdigest()}?d=identicon&version=1"

    def sees_delivery_email_of(self, other: User) -> bool:
        return other.is_bot or other.email_visible or other.user_id == self.user_id or self.is_admin


@dataclass(frozen=True)
class ProfileField:
    id: int
    name: str
    type: int
    field_data: str = ""
    hint: str = ""
    order: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "hint": self.hint,
            "field_data": self.field_data,
            "order": self.order or self.id,
            "required": False,
        }


@dataclass
class Stream:
    stream_id: int
    name: str
    recipient_id: int
    description: str = ""
    invite_only: bool = False
    creator_id: int | None = None
    date_created: int = 0
    history_public_to_subscribers: bool = True
    subscribers: list[int] = field(default_factory=list)
    first_message_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "can_remove_subscribers_group": 1,
            "creator_id": self.creator_id,
            "date_created": self.date_created,
            "description": self.description,
            "first_message_id": self.first_message_id,
            "history_public_to_subscribers": self.history_public_to_subscribers,
            "invite_only": self.invite_only,
            "is_web_public": False,
            "message_retention_days": None,
            "name": self.name,
            "rendered_description": f"<p>{self.description}</p>" if self.description else "",
            "stream_id": self.stream_id,
            "stream_post_policy": 1,
            "is_announcement_only": False,
            "stream_weekly_traffic": None,
        }

    def subscription_dict(self, *, subscribers: bool, notifications: bool | None) -> dict[str, Any]:
        """`notifications` is None in GET /users/me/subscriptions and False in /register."""
        found = self.as_dict()
        found.update(
            audible_notifications=notifications,
            color="#76ce90",
            desktop_notifications=notifications,
            email_notifications=notifications,
            in_home_view=True,
            is_muted=False,
            pin_to_top=False,
            push_notifications=notifications,
            wildcard_mentions_notify=notifications,
        )
        if subscribers:
            found["subscribers"] = list(self.subscribers)
        return dict(sorted(found.items()))


@dataclass
class UserGroup:
    """A named group people mention as `@*name*`; its members are notified."""

    group_id: int
    name: str
    description: str = ""
    member_ids: list[int] = field(default_factory=list)


@dataclass
class Reaction:
    emoji_name: str
    emoji_code: str
    reaction_type: str
    user_id: int


@dataclass
class Submessage:
    id: int
    message_id: int
    sender_id: int
    msg_type: str
    content: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "sender_id": self.sender_id,
            "msg_type": self.msg_type,
            "content": self.content,
        }


@dataclass
class Message:
    id: int
    sender_id: int
    recipient_id: int
    content: str
    rendered: str
    timestamp: int
    client: str
    #: None for a direct message.
    stream_id: int | None
    topic: str
    #: Everyone in a direct message, the sender too, sorted by id.
    dm_user_ids: tuple[int, ...] = ()
    #: Who received the message (Zulip's UserMessage rows) -> their flags.
    user_flags: dict[int, list[str]] = field(default_factory=dict)
    reactions: list[Reaction] = field(default_factory=list)
    submessages: list[Submessage] = field(default_factory=list)
    last_edit_timestamp: int | None = None
    #: Newest first, as message objects show it.
    edit_history: list[dict[str, Any]] = field(default_factory=list)
    is_me_message: bool = False
    #: (queue id, local id) of the send, echoed only to that queue.
    local_echo: tuple[str, str] | None = None
    #: Whom the message notified of a mention, at its send or when an edit mentioned them.
    notified: set[int] = field(default_factory=set)
    #: Whether its content held a live wildcard (`@**all**`, `@**topic**`, ...) at any time.
    wildcard: bool = False

    @property
    def is_stream(self) -> bool:
        return self.stream_id is not None

    def flags_for(self, user_id: int) -> list[str]:
        if user_id in self.user_flags:
            return list(self.user_flags[user_id])
        return ["read", "historical"]
