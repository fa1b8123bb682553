"""The realm: users, streams, subscriptions, messages with their reactions and submessages, and
what each change sends to the event queues. Every method is one API action, checked the way the
real server checks it and answering with its error messages.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from zulip_bot.sandbox import emoji, widgets
from zulip_bot.sandbox.clock import Clock
from zulip_bot.sandbox.errors import ApiError, invalid_message
from zulip_bot.sandbox.events import EventBuilder, EventQueue, Queues, QueueSettings
from zulip_bot.sandbox.mentions import Mentions, flags_after_edit, flags_at_send, is_mentioned
from zulip_bot.sandbox.model import (
    GENERIC_BOT,
    GITHUB_FIELD_TYPE,
    ROLES,
    Message,
    ProfileField,
    Reaction,
    Stream,
    Submessage,
    User,
    UserGroup,
)
from zulip_bot.sandbox.narrow import Narrow
from zulip_bot.sandbox.notices import (
    TopicMove,
    missing_stream_notice,
    move_notices,
    rename_notice,
)
from zulip_bot.sandbox.render import Group, Person, Rendering, render

MAX_MESSAGE_LENGTH: Final = 10_000
MAX_TOPIC_LENGTH: Final = 60
TRUNCATED: Final = "\n[message truncated]"
#: `anchor` in answers to anchor=newest: Zulip's LARGER_THAN_MAX_MESSAGE_ID.
NEWEST: Final = 10_000_000_000_000_000
MAX_STREAM_NAME_LENGTH: Final = 60
MAX_DESCRIPTION_LENGTH: Final = 1024
#: Where Notification Bot tells a stream of changes to its settings.
STREAM_EVENTS_TOPIC: Final = "channel events"
MAX_FETCH: Final = 5000
#: The server quietly adds this to the content edit limit (recording #148).
EDIT_GRACE_SECONDS: Final = 20
TOPIC_EDIT_LIMIT_SECONDS: Final = 7 * 24 * 3600
NOTIFICATION_BOT: Final = "notification-bot@zulip.com"
#: PATCH /realm's names for the limits, and the `RealmSettings` field each sets.
REALM_LIMITS: Final = {
    "message_content_edit_limit_seconds": "edit_limit_seconds",
    "message_content_delete_limit_seconds": "delete_limit_seconds",
}
#: Settings whose change Zulip announces as `update_dict` (`do_set_realm_property`).
_UPDATE_DICT_SETTINGS: Final = frozenset({"message_content_edit_limit_seconds"})


@dataclass(frozen=True)
class RealmSettings:
    name: str = "Zulip Sandbox"
    #: Hidden emails read `user<id>@<this>`; Zulip uses this domain when the host is an IP.
    fake_email_domain: str = "zulipdev.com"
    hide_emails: bool = True
    #: None: no limit, as "unlimited" in PATCH /realm sets it.
    edit_limit_seconds: int | None = 600
    delete_limit_seconds: int | None = 600
    realm_emoji: tuple[tuple[str, str], ...] = (("green_tick", "1"),)


def shared_history(invite_only: bool, wanted: bool | None) -> bool:
    """Zulip's rule for `history_public_to_subscribers`: a public stream's history is always
    shared; a private one's is what was asked, protected when nothing was."""
    return not invite_only or bool(wanted)


def truncate_topic(topic: str) -> str:
    topic = topic.strip()
    return topic if len(topic) <= MAX_TOPIC_LENGTH else topic[: MAX_TOPIC_LENGTH - 3] + "..."


def truncate_content(content: str) -> str:
    if len(content) <= MAX_MESSAGE_LENGTH:
        return content
    return content[: MAX_MESSAGE_LENGTH - len(TRUNCATED)] + TRUNCATED


def _content_or_error(content: str) -> str:
    if not content.strip():
        raise ApiError("Message must not be empty")
    if "\x00" in content:
        raise ApiError("Message must not contain null bytes")
    return truncate_content(content)


@dataclass
class Outgoing:
    """What a send was addressed to, resolved."""

    stream: Stream | None = None
    topic: str = ""
    dm_user_ids: tuple[int, ...] = ()


@dataclass
class Fetched:
    messages: list[Message]
    anchor: int
    found_anchor: bool
    found_oldest: bool
    found_newest: bool


def window(
    matching: list[Message],
    anchor: int | str,
    num_before: int,
    num_after: int,
    include_anchor: bool,
) -> Fetched:
    """The slice GET /messages answers with, from messages sorted by id; `found_oldest` and
    `found_newest` say whether the slice reached an end, as Zulip computes them."""
    at = {"newest": NEWEST, "oldest": 0}.get(anchor, anchor) if isinstance(anchor, str) else anchor
    assert isinstance(at, int), f"anchor {anchor!r} should have been resolved"
    before = [m for m in matching if m.id < at][-num_before:] if num_before else []
    here = [m for m in matching if m.id == at and include_anchor]
    after = [m for m in matching if m.id > at][:num_after]
    return Fetched(
        messages=[*before, *here, *after],
        anchor=at,
        found_anchor=bool(here),
        found_oldest=at == 0 or len(before) < num_before,
        found_newest=at >= NEWEST or len(after) < num_after,
    )


@dataclass
class Realm:
    clock: Clock
    settings: RealmSettings = field(default_factory=RealmSettings)
    queue_settings: QueueSettings = field(default_factory=QueueSettings)
    url: str = ""

    def __post_init__(self) -> None:
        self.condition = threading.Condition(threading.RLock())
        self.queues = Queues(self.condition, self.clock, self.queue_settings)
        self.users: dict[int, User] = {}
        self.streams: dict[int, Stream] = {}
        self.messages: dict[int, Message] = {}
        self.user_groups: dict[int, UserGroup] = {}
        self.profile_fields: list[ProfileField] = [
            ProfileField(1, "GitHub username", GITHUB_FIELD_TYPE, '{"subtype":"github"}')
        ]
        self._ids: dict[str, int] = {
            "user": 8,
            "stream": 10,
            "recipient": 20,
            "message": 100,
            "submessage": 0,
            "user_group": 32,
        }
        self._dm_recipients: dict[tuple[int, ...], int] = {}
        self.notification_bot = self.add_user("Notification Bot", NOTIFICATION_BOT, is_bot=True)
        self.notification_bot.system = True

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _claim(self, kind: str, wanted: int | None, taken: Mapping[int, object]) -> int:
        """A given id (tests mirror the recordings' ids), or the next free one."""
        if wanted is None:
            return self._next(kind)
        if wanted in taken:
            raise ValueError(f"{kind} id {wanted} is taken")
        self._ids[kind] = max(self._ids[kind], wanted)
        return wanted

    # --- users ---------------------------------------------------------------------------

    def add_user(
        self,
        full_name: str,
        email: str,
        *,
        role: str | int = "member",
        api_key: str | None = None,
        user_id: int | None = None,
        github: str | None = None,
        email_visible: bool | None = None,
        is_bot: bool = False,
        bot_owner_id: int | None = None,
    ) -> User:
        code = ROLES[role] if isinstance(role, str) else role
        if code not in ROLES.values():
            raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
        with self.condition:
            if self.user_by_login(email) is not None:
                raise ValueError(f"{email} already has an account")
            user = User(
                user_id=self._claim("user", user_id, self.users),
                full_name=full_name,
                delivery_email=email.casefold(),
                api_key=api_key or secrets.token_urlsafe(24),
                role=code,
                is_bot=is_bot,
                bot_type=GENERIC_BOT if is_bot else None,
                bot_owner_id=bot_owner_id,
                email_visible=not self.settings.hide_emails
                if email_visible is None
                else email_visible,
                date_joined=_iso(self.clock.now()),
            )
            if github:
                user.profile_data[self.github_field().id] = github
            self.users[user.user_id] = user
            self._personal_recipient(user.user_id)
            return user

    def set_active(self, user_id: int, active: bool, *, by: User | None = None) -> None:
        """DELETE /users/{id} and POST /users/{id}/reactivate (`by` an admin; None is whoever
        runs the sandbox); queues hear of it as an update, not a removal (#244, #247)."""
        with self.condition:
            if by is not None and not by.is_admin:
                raise ApiError("Insufficient permission")
            user = self.users.get(user_id)
            if user is None or user.system:
                raise ApiError("No such user")
            if user.is_active == active:
                raise ApiError(
                    "User is already active" if active else "User is already deactivated"
                )
            user.is_active = active
            event = {
                "type": "realm_user",
                "op": "update",
                "person": {"user_id": user.user_id, "is_active": active},
            }
            self.queues.publish(lambda q: dict(event) if q.wants("realm_user") else None)

    def add_user_group(
        self, name: str, members: Iterable[User] = (), *, description: str = ""
    ) -> UserGroup:
        with self.condition:
            if self._group_lookup(name) is not None:
                raise ValueError(f"a user group named {name!r} exists already")
            group = UserGroup(
                self._next("user_group"), name, description, [m.user_id for m in members]
            )
            self.user_groups[group.group_id] = group
            return group

    def set_role(self, user_id: int, role: int, *, by: User) -> None:
        """PATCH /users/{id} `role`, by an administrator; everyone hears of it."""
        with self.condition:
            if not by.is_admin:
                raise ApiError("Insufficient permission")
            user = self.users.get(user_id)
            if user is None or user.system:
                raise ApiError("No such user")
            if role not in ROLES.values():
                raise ApiError("Invalid role")
            user.role = role
            event = {
                "type": "realm_user",
                "op": "update",
                "person": {"user_id": user_id, "role": role},
            }
            self.queues.publish(lambda q: dict(event) if q.wants("realm_user") else None)

    def set_message_limits(
        self, changes: Mapping[str, int | None], *, by: User | None = None
    ) -> dict[str, int | None]:
        """PATCH /realm's `message_content_edit_limit_seconds` and
        `message_content_delete_limit_seconds` (`by` an admin; None is whoever runs the
        sandbox); returns what changed. Each change reaches the queues registered for `realm`
        events as Zulip sends it: the edit limit, for historical reasons, as an `update_dict`
        with property "default", the delete limit as a plain `update`."""
        with self.condition:
            if by is not None and not by.is_admin:
                raise ApiError("Must be an organization administrator", "UNAUTHORIZED_PRINCIPAL")
            changed: dict[str, int | None] = {}
            for name, value in changes.items():
                setting: dict[str, Any] = {REALM_LIMITS[name]: value}
                if getattr(self.settings, REALM_LIMITS[name]) == value:
                    continue
                self.settings = replace(self.settings, **setting)
                changed[name] = value
                self.queues.publish(_realm_event(name, value))
            return changed

    def github_field(self) -> ProfileField:
        return next(f for f in self.profile_fields if f.type == GITHUB_FIELD_TYPE)

    def user_by_login(self, email: str) -> User | None:
        wanted = email.strip().casefold()
        return next((u for u in self.users.values() if u.delivery_email == wanted), None)

    def user_by_api_email(self, email: str) -> User | None:
        wanted = email.strip().casefold()
        domain = self.settings.fake_email_domain
        return next((u for u in self.users.values() if u.email(domain) == wanted), None)

    def find_user(self, operand: Any) -> User | None:
        """A user named by id (int or numeric string) or by API-visible email."""
        if isinstance(operand, int) and not isinstance(operand, bool):
            return self.users.get(operand)
        if isinstance(operand, str) and operand.isdigit():
            return self.users.get(int(operand))
        return self.user_by_api_email(operand) if isinstance(operand, str) else None

    def api_email(self, user: User) -> str:
        return user.email(self.settings.fake_email_domain)

    def user_dict(
        self,
        user: User,
        viewer: User,
        *,
        client_gravatar: bool = True,
        profile: bool = False,
    ) -> dict[str, Any]:
        email = self.api_email(user)
        found: dict[str, Any] = {
            "email": email,
            "user_id": user.user_id,
            "avatar_version": 1,
            "is_admin": user.role == ROLES["admin"] or user.role == ROLES["owner"],
            "is_owner": user.role == ROLES["owner"],
            "is_guest": user.role == ROLES["guest"],
            "is_billing_admin": False,
            "role": user.role,
            "is_bot": user.is_bot,
            "full_name": user.full_name,
            "timezone": user.timezone,
            "is_active": user.is_active,
            "date_joined": user.date_joined,
            "delivery_email": user.delivery_email if viewer.sees_delivery_email_of(user) else None,
            "avatar_url": self.avatar_url(user, client_gravatar),
        }
        if user.is_bot:
            found["bot_type"] = user.bot_type
            found["bot_owner_id"] = user.bot_owner_id
        if profile and not user.is_bot:
            found["profile_data"] = {
                str(key): {"value": value} for key, value in sorted(user.profile_data.items())
            }
        return found

    def avatar_url(self, user: User, client_gravatar: bool) -> str | None:
        """With client_gravatar the client computes gravatars it can: those of visible emails."""
        if client_gravatar and self.api_email(user) == user.delivery_email:
            return None
        return user.gravatar()

    def me_dict(self, user: User) -> dict[str, Any]:
        found = self.user_dict(user, user, client_gravatar=False, profile=True)
        found["max_message_id"] = max(self.visible_message_ids(user), default=-1)
        return found

    # --- streams -------------------------------------------------------------------------

    def add_stream(
        self,
        name: str,
        *,
        description: str = "",
        invite_only: bool = False,
        history_public_to_subscribers: bool | None = None,
        creator: User | None = None,
        subscribers: Iterable[User] = (),
        stream_id: int | None = None,
    ) -> Stream:
        """`history_public_to_subscribers` left out is Zulip's default: a private stream's
        history is protected (its subscribers read only what they received)."""
        with self.condition:
            if self.stream_by_name(name) is not None:
                raise ValueError(f"a stream named {name!r} exists already")
            stream = Stream(
                stream_id=self._claim("stream", stream_id, self.streams),
                name=name,
                recipient_id=self._next("recipient"),
                description=description,
                invite_only=invite_only,
                history_public_to_subscribers=shared_history(
                    invite_only, history_public_to_subscribers
                ),
                creator_id=creator.user_id if creator else None,
                date_created=int(self.clock.now()),
            )
            self.streams[stream.stream_id] = stream
            for user in subscribers:
                self.subscribe(user, stream)
            return stream

    def stream_by_name(self, name: str) -> Stream | None:
        wanted = name.strip().casefold()
        return next((s for s in self.streams.values() if s.name.casefold() == wanted), None)

    def find_stream(self, operand: Any) -> Stream | None:
        if isinstance(operand, int) and not isinstance(operand, bool):
            return self.streams.get(operand)
        return self.stream_by_name(operand) if isinstance(operand, str) else None

    def subscribe(self, user: User, stream: Stream) -> bool:
        """False when the user was subscribed already. The user hears `add` with the whole
        subscription, everyone who may see the stream's members `peer_add` (#226, #228)."""
        with self.condition:
            if user.user_id in stream.subscribers:
                return False
            stream.subscribers.append(user.user_id)
            mine = stream.subscription_dict(subscribers=True, notifications=None)
            self._subscription_events(user, stream, {"op": "add", "subscriptions": [mine]})
            return True

    def unsubscribe(self, user: User, stream: Stream) -> bool:
        with self.condition:
            if user.user_id not in stream.subscribers:
                return False
            stream.subscribers.remove(user.user_id)
            gone = {"name": stream.name, "stream_id": stream.stream_id}
            self._subscription_events(user, stream, {"op": "remove", "subscriptions": [gone]})
            return True

    def _subscription_events(self, user: User, stream: Stream, own: dict[str, Any]) -> None:
        op = "peer_add" if own["op"] == "add" else "peer_remove"
        peer = {"op": op, "stream_ids": [stream.stream_id], "user_ids": [user.user_id]}
        peers = self.members_visible_to(stream) - {user.user_id}

        def build(queue: EventQueue) -> dict[str, Any] | None:
            if not queue.wants("subscription"):
                return None
            if queue.user_id == user.user_id:
                return {"type": "subscription", **own}
            return {"type": "subscription", **peer} if queue.user_id in peers else None

        self.queues.publish(build)

    def members_visible_to(self, stream: Stream) -> set[int]:
        """Who may see a stream's subscribers, and so hears of changes to them: its own
        subscribers and administrators; for a public stream, every member but guests."""
        active = [u for u in self.users.values() if u.is_active]
        if stream.invite_only:
            return set(stream.subscribers) | {u.user_id for u in active if u.is_admin}
        return set(stream.subscribers) | {u.user_id for u in active if not u.is_guest}

    def set_private(
        self, user: User, stream: Stream, private: bool, shared: bool | None = None
    ) -> None:
        """PATCH /streams/{id} `is_private`: administrators only. Everyone who could see the
        stream before or after hears a `stream` `update` of `invite_only`, as Zulip sends.
        Made private without `history_public_to_subscribers`, its history becomes protected."""
        with self.condition:
            require_admin(user)
            before = self.members_visible_to(stream)
            stream.invite_only = private
            stream.history_public_to_subscribers = shared_history(private, shared)
            extra = {
                "history_public_to_subscribers": stream.history_public_to_subscribers,
                "is_web_public": False,
            }
            self._stream_updated(stream, before, "invite_only", private, extra)

    def check_new_name(self, stream: Stream, new_name: str) -> str:
        """The name a rename would give, or Zulip's refusal (its `update_stream_backend`):
        a change of case alone is allowed, the very same name or one in use is not."""
        name = new_name.strip()
        if not name:
            raise ApiError("Channel name can't be empty.")
        if len(name) > MAX_STREAM_NAME_LENGTH:
            raise ApiError(f"Channel name too long (limit: {MAX_STREAM_NAME_LENGTH} characters).")
        if name == stream.name:
            raise ApiError("Channel already has that name.")
        taken = self.stream_by_name(name)
        if taken is not None and taken is not stream:
            raise ApiError("Channel name already in use.")
        return name

    def rename_stream(self, user: User, stream: Stream, new_name: str) -> None:
        """PATCH /streams/{id} `new_name`: the `stream` `update` of `name` (carrying the old
        name) to everyone who may see the stream, and Notification Bot's note in the stream.
        Messages keep their stream id, so old ones show the new name from now on."""
        with self.condition:
            require_admin(user)
            name = self.check_new_name(stream, new_name)
            old, stream.name = stream.name, name
            self._stream_updated(stream, set(), "name", name, {"name": old})
            note = rename_notice(user.full_name, user.user_id, old, name)
            where = Outgoing(stream, STREAM_EVENTS_TOPIC)
            self.send(self.notification_bot, where, note, client="Internal")

    def describe_stream(self, user: User, stream: Stream, description: str) -> None:
        """PATCH /streams/{id} `description`: Zulip turns line breaks into spaces."""
        with self.condition:
            require_admin(user)
            stream.description = description.replace("\n", " ")
            rendered = {"rendered_description": stream.as_dict()["rendered_description"]}
            self._stream_updated(stream, set(), "description", stream.description, rendered)

    def _stream_updated(
        self,
        stream: Stream,
        also: set[int],
        prop: str,
        value: object,
        extra: Mapping[str, object],
    ) -> None:
        """A `stream` `update` to those who may see the stream now, and `also` to others."""
        audience = also | self.members_visible_to(stream)
        event = {
            "type": "stream",
            "op": "update",
            "property": prop,
            "value": value,
            "stream_id": stream.stream_id,
            "name": stream.name,
            **extra,
        }
        self.queues.publish(
            lambda q: event if q.wants("stream") and q.user_id in audience else None
        )

    @staticmethod
    def reads(user: User, stream: Stream) -> bool:
        """Zulip's rule: a private stream's subscribers read it; a public stream every member
        but a guest, who reads only the streams they are subscribed to."""
        if user.user_id in stream.subscribers:
            return True
        return not stream.invite_only and not user.is_guest

    def can_see_stream(self, user: User, stream: Stream) -> bool:
        return self.reads(user, stream) or (stream.invite_only and user.is_admin)

    def streams_for(self, user: User) -> list[Stream]:
        visible = (s for s in self.streams.values() if self.reads(user, s))
        return sorted(visible, key=lambda s: s.name)

    def subscriptions_of(self, user: User) -> list[Stream]:
        return [s for s in self.streams_for(user) if user.user_id in s.subscribers]

    def stream_for_subscribe(self, user: User, name: str) -> tuple[Stream, bool]:
        """The stream, and whether it was created: subscribing to a missing stream creates it."""
        stream = self.stream_by_name(name)
        if stream is None:
            if user.role == ROLES["guest"]:
                raise ApiError("Not allowed for guest users")
            return self.add_stream(name, creator=user), True
        if not self.reads(user, stream):
            raise ApiError(f"Unable to access channel ({stream.name}).")
        return stream, False

    # --- messages ------------------------------------------------------------------------

    def _personal_recipient(self, user_id: int) -> int:
        return self._dm_recipients.setdefault((user_id,), self._next("recipient"))

    def _lookup(self, user_id: int | None, name: str) -> Person | None:
        """By id, or by name ignoring case: where two people share a name, Zulip keeps the
        last one its database returns (`MentionData.full_name_info`), the newest here."""
        if user_id is not None:
            user = self.users.get(user_id)
        else:
            named = [u for u in self.users.values() if u.full_name.casefold() == name.casefold()]
            user = max(named, key=lambda u: u.user_id, default=None)
        if user is None or not user.is_active:
            return None
        return Person(user.user_id, user.full_name)

    def _group_lookup(self, name: str) -> Group | None:
        group = next((g for g in self.user_groups.values() if g.name == name), None)
        return Group(group.group_id, group.name) if group else None

    def _render(self, content: str) -> Rendering:
        return render(content, self._lookup, self._stream_lookup, self._group_lookup)

    def render(self, content: str) -> str:
        """HTML as this realm's people and streams make it (POST /messages/render)."""
        with self.condition:
            return self._render(content).html

    def _mentions(self, rendering: Rendering, message: Message) -> Mentions:
        """Group mentions reach the group's active members; `@**topic**` its participants."""
        user_ids = set(rendering.mentioned_user_ids)
        for group_id in rendering.mentioned_group_ids:
            members = self.user_groups[group_id].member_ids
            user_ids.update(u for u in members if self.users[u].is_active)
        participants = self._topic_participants(message) if rendering.topic_wildcard else set()
        return Mentions(
            frozenset(user_ids),
            rendering.stream_wildcard,
            rendering.topic_wildcard,
            frozenset(participants),
        )

    def _stream_lookup(self, name: str) -> tuple[int, str] | None:
        stream = self.stream_by_name(name)
        return (stream.stream_id, stream.name) if stream else None

    def resolve_stream_target(self, to: Any, sender: User) -> Stream:
        if isinstance(to, list) and len(to) == 1:
            to = to[0]
        if isinstance(to, int) and not isinstance(to, bool):
            stream = self.streams.get(to)
            if stream is None:
                raise ApiError(
                    f"Channel with ID '{to}' does not exist",
                    "STREAM_DOES_NOT_EXIST",
                    extra={"stream_id": to},
                )
        else:
            stream = self.stream_by_name(str(to))
            if stream is None:
                self._tell_owner_of_missing_stream(sender, str(to))
                raise ApiError(
                    f"Channel '{to}' does not exist", "STREAM_DOES_NOT_EXIST", extra={"stream": to}
                )
        if stream.invite_only and not self._may_post_privately(sender, stream):
            raise ApiError(f"Not authorized to send to channel '{stream.name}'")
        if sender.is_guest and not self.reads(sender, stream):  # a stream they cannot see
            raise ApiError(f"Not authorized to send to channel '{stream.name}'")
        return stream

    def _tell_owner_of_missing_stream(self, bot: User, name: str) -> None:
        """A bot's owner hears of its sends to a missing stream (recording #084)."""
        owner = self.users.get(bot.bot_owner_id) if bot.is_bot and bot.bot_owner_id else None
        if owner is None:
            return
        note = missing_stream_notice(bot.delivery_email, name)
        ids = tuple(sorted({self.notification_bot.user_id, owner.user_id}))
        self.send(self.notification_bot, Outgoing(dm_user_ids=ids), note, client="Internal")

    def _may_post_privately(self, sender: User, stream: Stream) -> bool:
        """A bot may post where its owner is subscribed (recording #088)."""
        posters = {sender.user_id, sender.bot_owner_id}
        return bool(posters & set(stream.subscribers))

    def resolve_dm_target(self, to: Any, sender: User) -> tuple[int, ...]:
        names: list[Any] = to if isinstance(to, list) else [to]
        if isinstance(to, str):
            names = [part.strip() for part in to.split(",") if part.strip()]
        ids = {sender.user_id}
        for name in names:
            if isinstance(name, int) and not isinstance(name, bool):
                user = self.users.get(name)
                if user is None:
                    raise ApiError(f"Invalid user ID {name}")
            else:
                user = self.user_by_api_email(str(name))
                if user is None:
                    raise ApiError(f"Invalid email '{name}'")
            if not user.is_active:
                raise ApiError(f"'{self.api_email(user)}' is no longer using Zulip.")
            ids.add(user.user_id)
        return tuple(sorted(ids))

    def send(
        self,
        sender: User,
        target: Outgoing,
        content: str,
        *,
        client: str = "API",
        read_by_sender: bool = False,
        local_echo: tuple[str, str] | None = None,
    ) -> Message:
        content = _content_or_error(content)
        with self.condition:
            rendering = self._render(content)
            if target.stream is not None:
                stream = target.stream
                recipient_id = stream.recipient_id
                # a sender who is not subscribed gets no copy (recordings #087, #088)
                receivers = [i for i in stream.subscribers if self.users[i].is_active]
            else:
                recipient_id = self._dm_recipient(target.dm_user_ids, sender.user_id)
                receivers = list(target.dm_user_ids)
            message = Message(
                id=self._next("message"),
                sender_id=sender.user_id,
                recipient_id=recipient_id,
                content=content,
                rendered=rendering.html,
                timestamp=int(self.clock.now()),
                client=client,
                stream_id=target.stream.stream_id if target.stream else None,
                topic=target.topic if target.stream else "",
                dm_user_ids=target.dm_user_ids,
                is_me_message=content.startswith("/me "),
                local_echo=local_echo,
            )
            mentions = self._mentions(rendering, message)
            for user_id in dict.fromkeys(receivers):
                read = ["read"] if user_id == sender.user_id and read_by_sender else []
                message.user_flags[user_id] = read + flags_at_send(user_id, mentions)
            message.notified = mentions.notified(message.user_flags, sender.user_id)
            message.wildcard = rendering.wildcard
            widget = widgets.widget_content(content)
            if widget is not None:
                message.submessages.append(
                    Submessage(
                        self._next("submessage"), message.id, sender.user_id, "widget", widget
                    )
                )
            self.messages[message.id] = message
            if target.stream is not None and target.stream.first_message_id is None:
                target.stream.first_message_id = message.id
            self.queues.publish(lambda queue: self._message_event(message, queue))
            return message

    def _dm_recipient(self, user_ids: tuple[int, ...], sender_id: int) -> int:
        others = tuple(i for i in user_ids if i != sender_id)
        if len(others) <= 1:
            return self._personal_recipient(others[0] if others else sender_id)
        return self._dm_recipients.setdefault(user_ids, self._next("recipient"))

    def _topic_participants(self, message: Message) -> set[int]:
        same = (
            m
            for m in self.messages.values()
            if m.stream_id == message.stream_id and m.topic.casefold() == message.topic.casefold()
        )
        return {m.sender_id for m in same} | {message.sender_id}

    def _message_event(self, message: Message, queue: EventQueue) -> dict[str, Any] | None:
        if not queue.wants("message"):
            return None
        received = queue.user_id in message.user_flags
        stream = self.streams.get(message.stream_id) if message.stream_id else None
        by_public_stream = (
            queue.all_public_streams and stream is not None and not stream.invite_only
        )
        if not (received or by_public_stream):
            return None
        if queue.narrow is not None and not queue.narrow.matches(message):
            return None
        viewer = self.users[queue.user_id]
        event: dict[str, Any] = {
            "type": "message",
            "message": self.message_dict(
                message,
                viewer,
                apply_markdown=queue.apply_markdown,
                client_gravatar=queue.client_gravatar,
                with_flags=False,
            ),
            "flags": message.user_flags.get(queue.user_id, []),
        }
        if message.local_echo and message.local_echo[0] == queue.queue_id:
            event["local_message_id"] = message.local_echo[1]
        return event

    def message_dict(
        self,
        message: Message,
        viewer: User,
        *,
        apply_markdown: bool = True,
        client_gravatar: bool = True,
        with_flags: bool = True,
    ) -> dict[str, Any]:
        sender = self.users[message.sender_id]
        found: dict[str, Any] = {
            "id": message.id,
            "sender_id": message.sender_id,
            "content": message.rendered if apply_markdown else message.content,
            "recipient_id": message.recipient_id,
            "timestamp": message.timestamp,
            "client": message.client,
            "subject": message.topic,
            "topic_links": [],
        }
        if message.last_edit_timestamp is not None:
            found["last_edit_timestamp"] = message.last_edit_timestamp
            found["edit_history"] = [dict(entry) for entry in message.edit_history]
        found["is_me_message"] = message.is_me_message
        found["reactions"] = [self._reaction_dict(r) for r in message.reactions]
        found["submessages"] = [s.as_dict() for s in message.submessages]
        if with_flags:
            found["flags"] = message.flags_for(viewer.user_id)
        found["sender_full_name"] = sender.full_name
        found["sender_email"] = self.api_email(sender)
        found["sender_realm_str"] = "zulipinternal" if sender.system else "zulip"
        if message.stream_id is not None:
            found["display_recipient"] = self.streams[message.stream_id].name
            found["type"] = "stream"
            found["stream_id"] = message.stream_id
        else:
            found["display_recipient"] = [
                {
                    "id": u.user_id,
                    "email": self.api_email(u),
                    "full_name": u.full_name,
                    "is_mirror_dummy": False,
                }
                for u in (self.users[i] for i in message.dm_user_ids)
            ]
            found["type"] = "private"
        found["avatar_url"] = self.avatar_url(sender, client_gravatar)
        found["content_type"] = "text/html" if apply_markdown else "text/x-markdown"
        return found

    def _reaction_dict(self, reaction: Reaction) -> dict[str, Any]:
        user = self.users[reaction.user_id]
        return {
            "emoji_name": reaction.emoji_name,
            "emoji_code": reaction.emoji_code,
            "reaction_type": reaction.reaction_type,
            "user": {
                "email": self.api_email(user),
                "id": user.user_id,
                "full_name": user.full_name,
            },
            "user_id": user.user_id,
        }

    def can_access(self, user: User, message: Message) -> bool:
        if user.user_id in message.user_flags:
            return True
        if message.stream_id is None:
            return False
        stream = self.streams[message.stream_id]
        if not stream.invite_only:
            return self.reads(user, stream)
        return stream.history_public_to_subscribers and user.user_id in stream.subscribers

    def accessible(self, user: User, message_id: int) -> Message:
        message = self.messages.get(message_id)
        if message is None or not self.can_access(user, message):
            raise invalid_message()
        return message

    def visible_message_ids(self, user: User) -> list[int]:
        return [m.id for m in self.messages.values() if user.user_id in m.user_flags]

    def fetch(
        self,
        viewer: User,
        narrow: Narrow,
        anchor: int | str,
        num_before: int,
        num_after: int,
        include_anchor: bool,
    ) -> Fetched:
        with self.condition:
            if narrow.stream is not None and self.can_see_stream(viewer, narrow.stream):
                candidates = [m for m in self.messages.values() if self.can_access(viewer, m)]
            else:
                candidates = [m for m in self.messages.values() if viewer.user_id in m.user_flags]
            matching = sorted((m for m in candidates if narrow.matches(m)), key=lambda m: m.id)
            if anchor == "first_unread":
                unread = (m.id for m in matching if "read" not in m.flags_for(viewer.user_id))
                anchor = next(unread, NEWEST)
            return window(matching, anchor, num_before, num_after, include_anchor)

    # --- edits and deletions -------------------------------------------------------------

    def edit(
        self,
        editor: User,
        message_id: int,
        *,
        content: str | None,
        topic: str | None,
        propagate_mode: str = "change_one",
        notify_old_thread: bool = False,
        notify_new_thread: bool = True,
    ) -> None:
        with self.condition:
            message = self.accessible(editor, message_id)
            if content is None and topic is None:
                raise ApiError("Nothing to change")
            if topic is not None and message.stream_id is None:
                raise ApiError("Direct messages cannot have topics.")
            now = self.clock.now()
            age = now - message.timestamp
            if content is not None:
                if editor.user_id != message.sender_id:
                    raise ApiError("You don't have permission to edit this message")
                if message.submessages:
                    raise ApiError("Widgets cannot be edited.")
                limit = self.settings.edit_limit_seconds
                if limit is not None and age > limit + EDIT_GRACE_SECONDS:
                    raise ApiError("The time limit for editing this message has passed")
            new_topic = None
            if topic is not None:
                new_topic = truncate_topic(topic)
                if not new_topic:
                    raise ApiError("Topic can't be empty!")
                if age > TOPIC_EDIT_LIMIT_SECONDS and not editor.is_admin:
                    raise ApiError("The time limit for editing this message's topic has passed")
            if propagate_mode not in ("change_one", "change_later", "change_all"):
                raise ApiError("Invalid propagate_mode")
            stamp = int(now)
            event: dict[str, Any] = {
                "type": "update_message",
                "user_id": editor.user_id,
                "edit_timestamp": stamp,
                "message_id": message.id,
                "rendering_only": False,
                **self._stream_fields(message),
            }
            entry: dict[str, Any] = {"user_id": editor.user_id, "timestamp": stamp}
            moved = [message]
            if new_topic is not None and new_topic != message.topic:
                moved = self._moved(message, propagate_mode)
                event.update(
                    propagate_mode=propagate_mode,
                    orig_subject=message.topic,
                    subject=new_topic,
                    topic_links=[],
                )
                entry.update(prev_topic=message.topic, topic=new_topic)
            if content is not None:
                event.update(self._edit_content(message, content or "(deleted)", entry))
            old_topic = message.topic
            for each in moved:
                each.topic = entry.get("topic", each.topic)
                each.last_edit_timestamp = stamp
                each.edit_history.insert(0, dict(entry))
            self._publish_update(event, moved)
            if "topic" in entry and message.stream_id is not None:
                stream = self.streams[message.stream_id]
                move = TopicMove(
                    stream.stream_id,
                    stream.name,
                    old_topic,
                    message.topic,
                    message.id,
                    len(moved),
                    propagate_mode == "change_all",
                    editor.user_id,
                    editor.full_name,
                )
                notices = move_notices(
                    move, notify_old=notify_old_thread, notify_new=notify_new_thread
                )
                for where, note in notices:
                    self.send(
                        self.notification_bot, Outgoing(stream, where), note, client="Internal"
                    )

    def _edit_content(
        self, message: Message, content: str, entry: dict[str, Any]
    ) -> dict[str, Any]:
        """Changes the content; returns the update event's fields for it."""
        content = truncate_content(content)
        rendering = self._render(content)
        event = {
            "orig_content": message.content,
            "orig_rendered_content": message.rendered,
            "content": content,
            "rendered_content": rendering.html,
            "prev_rendered_content_version": 1,
            "is_me_message": content.startswith("/me "),
        }
        entry.update(
            prev_content=message.content,
            prev_rendered_content=message.rendered,
            prev_rendered_content_version=1,
        )
        message.content, message.rendered = content, rendering.html
        mentions = self._mentions(rendering, message)
        before = {u for u, flags in message.user_flags.items() if is_mentioned(flags)}
        for user_id, flags in message.user_flags.items():
            message.user_flags[user_id] = flags_after_edit(flags, user_id, mentions)
        message.notified |= mentions.notified(message.user_flags, message.sender_id) - before
        message.wildcard |= rendering.wildcard
        return event

    def _moved(self, message: Message, mode: str) -> list[Message]:
        same_topic = sorted(
            (
                m
                for m in self.messages.values()
                if m.stream_id == message.stream_id and m.topic == message.topic
            ),
            key=lambda m: m.id,
        )
        if mode == "change_later":
            return [m for m in same_topic if m.id >= message.id]
        return same_topic if mode == "change_all" else [message]

    def _stream_fields(self, message: Message) -> dict[str, Any]:
        if message.stream_id is None:
            return {}
        return {"stream_name": self.streams[message.stream_id].name, "stream_id": message.stream_id}

    def _publish_update(self, event: dict[str, Any], moved: list[Message]) -> None:
        def build(queue: EventQueue) -> dict[str, Any] | None:
            mine = [m for m in moved if queue.user_id in m.user_flags]
            if not queue.wants("update_message") or not mine:
                return None
            ids = [m.id for m in moved]
            return {**event, "message_ids": ids, "flags": mine[0].flags_for(queue.user_id)}

        self.queues.publish(build)

    def delete(self, user: User, message_id: int) -> None:
        with self.condition:
            message = self.accessible(user, message_id)
            if not user.is_admin:
                if user.user_id != message.sender_id:
                    raise ApiError("You don't have permission to delete this message")
                limit = self.settings.delete_limit_seconds
                if limit is not None and self.clock.now() - message.timestamp > limit:
                    raise ApiError("The time limit for deleting this message has passed")
            del self.messages[message.id]
            self.queues.publish(lambda q: self._delete_event(message, q))

    def _delete_event(self, message: Message, queue: EventQueue) -> dict[str, Any] | None:
        if not queue.wants("delete_message") or queue.user_id not in message.user_flags:
            return None
        event: dict[str, Any] = {"type": "delete_message"}
        if queue.bulk_message_deletion:
            event["message_ids"] = [message.id]
        if message.stream_id is not None:
            event["stream_id"] = message.stream_id
            event["topic"] = message.topic
        event["message_type"] = "stream" if message.stream_id is not None else "private"
        if not queue.bulk_message_deletion:
            event["message_id"] = message.id
        return event

    # --- reactions and submessages -------------------------------------------------------

    def _emoji(self, name: str | None, code: str | None, kind: str | None) -> emoji.Emoji:
        realm_emoji = dict(self.settings.realm_emoji)
        if name is not None:
            found = emoji.by_name(name, realm_emoji)
            if found is None:
                raise ApiError(f"Emoji '{name}' does not exist")
            if code is not None:
                found = replace(found, code=code)
            return replace(found, reaction_type=kind or found.reaction_type)
        if code is None:
            raise ApiError(
                "At least one of the following arguments must be present: emoji_name, emoji_code"
            )
        by_code = emoji.by_code(code, kind or "unicode_emoji", realm_emoji)
        if by_code is None:
            raise ApiError("Invalid emoji code.")
        return by_code

    def react(
        self,
        user: User,
        message_id: int,
        name: str | None,
        code: str | None,
        kind: str | None,
        *,
        add: bool,
    ) -> None:
        with self.condition:
            message = self.accessible(user, message_id)
            wanted = self._emoji(name, code, kind)
            mine = next(
                (
                    r
                    for r in message.reactions
                    if r.user_id == user.user_id and r.emoji_code == wanted.code
                ),
                None,
            )
            if add:
                if mine is not None:
                    raise ApiError("Reaction already exists.", "REACTION_ALREADY_EXISTS")
                mine = Reaction(wanted.name, wanted.code, wanted.reaction_type, user.user_id)
                message.reactions.append(mine)
            else:
                if mine is None:
                    raise ApiError("Reaction doesn't exist.", "REACTION_DOES_NOT_EXIST")
                message.reactions.remove(mine)
            event = {
                "type": "reaction",
                "op": "add" if add else "remove",
                "user_id": user.user_id,
                "user": {
                    "user_id": user.user_id,
                    "email": self.api_email(user),
                    "full_name": user.full_name,
                },
                "message_id": message.id,
                "emoji_name": mine.emoji_name,
                "emoji_code": mine.emoji_code,
                "reaction_type": mine.reaction_type,
            }
            audience = self._audience(message)
            self.queues.publish(
                lambda q: event if q.wants("reaction") and q.user_id in audience else None
            )

    def _audience(self, message: Message) -> set[int]:
        """Who hears of reactions: the receivers, and a public-history stream's subscribers."""
        audience = set(message.user_flags)
        if message.stream_id is not None:
            stream = self.streams[message.stream_id]
            if stream.history_public_to_subscribers:
                audience |= set(stream.subscribers)
        return audience

    def add_submessage(
        self, user: User, message_id: int, msg_type: str, content: str
    ) -> Submessage:
        with self.condition:
            message = self.accessible(user, message_id)
            kind = (
                widgets.widget_type(message.submessages[0].content) if message.submessages else None
            )
            widgets.check_submessage(kind, content, by_author=user.user_id == message.sender_id)
            senders = {s.sender_id for s in message.submessages}
            if user.user_id != message.sender_id and message.sender_id not in senders:
                raise ApiError("You cannot attach a submessage to this message.")
            row = Submessage(self._next("submessage"), message.id, user.user_id, msg_type, content)
            message.submessages.append(row)
            event = {
                "type": "submessage",
                "msg_type": msg_type,
                "message_id": message.id,
                "submessage_id": row.id,
                "sender_id": user.user_id,
                "content": content,
            }
            self.queues.publish(
                lambda q: (
                    event if q.wants("submessage") and q.user_id in message.user_flags else None
                )
            )
            return row

    # --- for tests -----------------------------------------------------------------------

    def messages_in(self, stream: str, topic: str | None = None) -> list[Message]:
        with self.condition:
            found = self.stream_by_name(stream)
            if found is None:
                return []
            return [
                m
                for m in sorted(self.messages.values(), key=lambda m: m.id)
                if m.stream_id == found.stream_id
                and (topic is None or m.topic.casefold() == topic.casefold())
            ]


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise ApiError("Must be an organization or channel administrator")


def _realm_event(name: str, value: object) -> EventBuilder:
    event: dict[str, Any] = {"type": "realm"}
    if name in _UPDATE_DICT_SETTINGS:
        event.update(op="update_dict", property="default", data={name: value})
    else:
        event.update(op="update", property=name, value=value)
    return lambda queue: dict(event) if queue.wants("realm") else None


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()
