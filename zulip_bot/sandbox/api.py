"""The endpoints: each reads its parameters the way the real server does and asks the realm to
act. Answers are payloads; `server.py` adds `result`/`msg` and the HTTP around them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from zulip_bot.sandbox.errors import ApiError
from zulip_bot.sandbox.model import User
from zulip_bot.sandbox.narrow import build_narrow, parse_narrow
from zulip_bot.sandbox.params import Params
from zulip_bot.sandbox.state import (
    MAX_DESCRIPTION_LENGTH,
    MAX_FETCH,
    REALM_LIMITS,
    Outgoing,
    Realm,
    require_admin,
    shared_history,
    truncate_topic,
)

ZULIP_VERSION: Final = "9.0-dev+git"
#: Clients whose own messages start out read (recording #288); API clients' do not (#043).
UI_CLIENTS: Final = frozenset({"website", "ZulipMobile", "ZulipElectron", "ZulipDesktop"})
#: `automatic_new_visibility_policy` in a human's send that starts a topic: FOLLOWED.
FOLLOWED: Final = 3
FEATURE_LEVEL: Final = 266
Payload = dict[str, Any]


@dataclass
class Call:
    realm: Realm
    params: Params
    user: User | None
    path_args: tuple[str, ...] = ()
    user_agent: str = ""

    @property
    def me(self) -> User:
        assert self.user is not None, "an authenticated route"
        return self.user


@dataclass
class Reply:
    """A payload with HTTP details, for the few answers that need them."""

    payload: Payload
    #: Long-polls that had to wait carry no X-RateLimit headers (recordings #213, #221).
    rate_headers: bool = True


Handler = Callable[[Call], "Payload | Reply"]


def _user_arg(call: Call) -> User:
    realm, operand = call.realm, call.path_args[0]
    user = realm.find_user(int(operand) if operand.isdigit() else operand)
    if user is None:
        raise ApiError("No such user")
    return user


# --- server, users, streams ---------------------------------------------------------------


def server_settings(call: Call) -> Payload:
    realm = call.realm
    return {
        "authentication_methods": {
            "password": True,
            "dev": False,
            "email": True,
            "ldap": False,
            "remoteuser": False,
            "github": False,
            "azuread": False,
            "gitlab": False,
            "google": False,
            "apple": False,
            "saml": False,
            "openid connect": False,
        },
        "zulip_version": ZULIP_VERSION,
        "zulip_merge_base": "",
        "zulip_feature_level": FEATURE_LEVEL,
        "push_notifications_enabled": False,
        "is_incompatible": False,
        "email_auth_enabled": True,
        "require_email_format_usernames": True,
        "realm_url": realm.url,
        "realm_name": realm.settings.name,
        "realm_icon": "https://secure.gravatar.com/avatar/0?d=identicon",
        "realm_description": "<p>A Zulip-compatible sandbox for meetbot.</p>",
        "realm_web_public_access_enabled": False,
        "external_authentication_methods": [],
        "realm_uri": realm.url,
    }


def users_me(call: Call) -> Payload:
    with call.realm.condition:
        return call.realm.me_dict(call.me)


def users(call: Call) -> Payload:
    realm, params = call.realm, call.params
    gravatar = params.boolean("client_gravatar", True)
    profile = params.boolean("include_custom_profile_fields", False)
    with realm.condition:
        members = [
            realm.user_dict(u, call.me, client_gravatar=gravatar, profile=profile)
            for u in sorted(realm.users.values(), key=lambda u: u.user_id)
            if u.is_active and not u.system
        ]
    return {"members": members}


def user(call: Call) -> Payload:
    params = call.params
    gravatar = params.boolean("client_gravatar", True)
    profile = params.boolean("include_custom_profile_fields", False)
    with call.realm.condition:
        found = _user_arg(call)
        return {
            "user": call.realm.user_dict(found, call.me, client_gravatar=gravatar, profile=profile)
        }


def deactivate_user(call: Call) -> Payload:
    call.realm.set_active(int(call.path_args[0]), False, by=call.me)
    return {}


def update_user(call: Call) -> Payload:
    """Only `role` is kept; other changes are refused, not lost."""
    role = call.params.json("role", None)
    if not isinstance(role, int) or isinstance(role, bool):
        raise ApiError("The sandbox changes only the role of a user, an integer")
    call.realm.set_role(int(call.path_args[0]), role, by=call.me)
    return {}


def reactivate_user(call: Call) -> Payload:
    call.realm.set_active(int(call.path_args[0]), True, by=call.me)
    return {}


def update_realm(call: Call) -> Payload:
    """PATCH /realm, for the message edit and delete limits only: a number of seconds or
    "unlimited"; the answer names what changed (recordings #147, #150)."""
    changes: dict[str, int | None] = {}
    for name in REALM_LIMITS:
        raw = call.params.json(name, None, problem=f'Argument "{name}" is not valid JSON.')
        if raw is None:
            continue
        if raw == "unlimited":
            changes[name] = None
        elif isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
            changes[name] = raw
        else:
            raise ApiError(
                f"Bad value for '{name}': {raw}",
                "REQUEST_VARIABLE_INVALID",
                extra={"var_name": name, "bad_value": raw},
            )
    return dict(call.realm.set_message_limits(changes, by=call.me))


def profile_fields(call: Call) -> Payload:
    return {"custom_fields": [f.as_dict() for f in call.realm.profile_fields]}


def streams(call: Call) -> Payload:
    if call.params.boolean("include_all_active", False) and not call.me.is_admin:
        raise ApiError("User not authorized for this query")
    with call.realm.condition:
        return {"streams": [s.as_dict() for s in call.realm.streams_for(call.me)]}


def stream(call: Call) -> Payload:
    with call.realm.condition:
        found = call.realm.streams.get(int(call.path_args[0]))
        if found is None or not call.realm.can_see_stream(call.me, found):
            raise ApiError("Invalid channel ID")
        return {"stream": found.as_dict()}


def stream_id(call: Call) -> Payload:
    name = call.params.text("stream")
    with call.realm.condition:
        found = call.realm.stream_by_name(name)
        if found is None or not call.realm.can_see_stream(call.me, found):
            raise ApiError(f"Invalid channel name '{name}'")
        return {"stream_id": found.stream_id}


def stream_members(call: Call) -> Payload:
    with call.realm.condition:
        found = call.realm.streams.get(int(call.path_args[0]))
        if found is None or not call.realm.can_see_stream(call.me, found):
            raise ApiError("Invalid channel ID")
        return {"subscribers": list(found.subscribers)}


def subscription_status(call: Call) -> Payload:
    with call.realm.condition:
        person = _user_arg(call)
        found = call.realm.streams.get(int(call.path_args[1]))
        if found is None or not call.realm.can_see_stream(call.me, found):
            raise ApiError("Invalid channel ID")
        return {"is_subscribed": person.user_id in found.subscribers}


def stream_topics(call: Call) -> Payload:
    """Most recent first; a topic is spelled as in its latest message."""
    realm, me = call.realm, call.me
    with realm.condition:
        found = realm.streams.get(int(call.path_args[0]))
        if found is None or not realm.can_see_stream(me, found):
            raise ApiError("Invalid channel ID")
        latest: dict[str, tuple[int, str]] = {}
        for message in realm.messages_in(found.name):
            if realm.can_access(me, message):
                latest[message.topic.casefold()] = (message.id, message.topic)
    topics = sorted(latest.values(), reverse=True)
    return {"topics": [{"name": name, "max_id": max_id} for max_id, name in topics]}


def subscriptions(call: Call) -> Payload:
    with_subscribers = call.params.boolean("include_subscribers", False)
    me = call.me
    with call.realm.condition:
        subs = call.realm.subscriptions_of(me)
        return {
            "subscriptions": [
                s.subscription_dict(subscribers=with_subscribers, notifications=None) for s in subs
            ]
        }


def subscribe(call: Call) -> Payload:
    realm, me = call.realm, call.me
    wanted = call.params.json("subscriptions")
    principals = call.params.json("principals", None)
    invite_only = call.params.boolean("invite_only", False)
    shared = call.params.json("history_public_to_subscribers", None)
    if not isinstance(wanted, list) or not all(isinstance(w, dict) and "name" in w for w in wanted):
        raise ApiError('subscriptions[0] is not a dict with a "name"')
    with realm.condition:
        people = [me] if principals is None else [_principal(realm, p) for p in principals]
        subscribed: dict[str, list[str]] = {}
        already: dict[str, list[str]] = {}
        for entry in wanted:
            found, created = realm.stream_for_subscribe(me, str(entry["name"]))
            if created:
                found.description = str(entry.get("description", ""))
                found.invite_only = invite_only
                found.history_public_to_subscribers = shared_history(invite_only, shared)
            for person in people:
                bucket = subscribed if realm.subscribe(person, found) else already
                bucket.setdefault(realm.api_email(person), []).append(found.name)
        return {"subscribed": subscribed, "already_subscribed": already}


def _principal(realm: Realm, principal: Any) -> User:
    found = realm.find_user(principal)
    if found is None or not found.is_active:
        raise ApiError("No such user")
    return found


def unsubscribe(call: Call) -> Payload:
    """`principals` removes others, which only an administrator may (#227)."""
    realm, me = call.realm, call.me
    names = call.params.json("subscriptions")
    principals = call.params.json("principals", None)
    removed: list[str] = []
    not_removed: list[str] = []
    with realm.condition:
        people = [me] if principals is None else [_principal(realm, p) for p in principals]
        if any(p.user_id != me.user_id for p in people) and not me.is_admin:
            raise ApiError("Insufficient permission")
        for name in names:
            found = realm.stream_by_name(str(name))
            if found is None:
                raise ApiError(f"Channel(s) ({name}) do not exist")
            for person in people:
                gone = realm.unsubscribe(person, found)
                (removed if gone else not_removed).append(found.name)
    return {"removed": removed, "not_removed": not_removed}


def update_stream(call: Call) -> Payload:
    """PATCH /streams/{id}: `new_name`, `description`, `is_private` (with
    `history_public_to_subscribers`) are kept; other changes are refused, not lost.
    Everything is checked before anything changes."""
    params, realm = call.params, call.realm
    private = params.json("is_private", None)
    shared = params.json("history_public_to_subscribers", None)
    new_name = params.text("new_name", None)
    description = params.text("description", None)
    if (private, new_name, description) == (None, None, None):
        raise ApiError("The sandbox changes only new_name, description and is_private of a stream")
    if private is not None and not isinstance(private, bool):
        raise ApiError("is_private is not a boolean")
    if not isinstance(shared, bool | None):
        raise ApiError("history_public_to_subscribers is not a boolean")
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        raise ApiError(f"description is too long (limit: {MAX_DESCRIPTION_LENGTH} characters)")
    with realm.condition:
        found = realm.streams.get(int(call.path_args[0]))
        if found is None or not realm.can_see_stream(call.me, found):
            raise ApiError("Invalid channel ID")
        require_admin(call.me)
        if new_name is not None:
            realm.check_new_name(found, new_name)
        if private is not None:
            realm.set_private(call.me, found, private, shared)
        if description is not None:
            realm.describe_stream(call.me, found, description)
        if new_name is not None:
            realm.rename_stream(call.me, found, new_name)
    return {}


# --- messages -----------------------------------------------------------------------------


def client_name(user_agent: str) -> str:
    """The message's `client` is the User-Agent's first token (recordings #288, #289)."""
    found = re.match(r"[^/ ]+", user_agent)
    return found.group(0) if found else "API"


def _loose_json(text: str) -> Any:
    """`to` is JSON when it parses, else the plain string (a stream name, bare emails)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def send_message(call: Call) -> Payload:
    realm, params, me = call.realm, call.params, call.me
    kind = params.text("type")
    to = _loose_json(params.text("to"))
    topic = params.text("topic", None)
    subject = params.text("subject", None)
    content = params.text("content")
    client = client_name(call.user_agent)
    read_by_sender = params.boolean("read_by_sender", client in UI_CLIENTS)
    queue_id, local_id = params.text("queue_id", None), params.text("local_id", None)
    if kind in ("stream", "channel"):
        topic = topic if topic is not None else subject
        if topic is None:
            raise ApiError("Missing topic")
        topic = truncate_topic(topic)
        if not topic:
            raise ApiError("Topic can't be empty!")
        with realm.condition:
            target = Outgoing(stream=realm.resolve_stream_target(to, me), topic=topic)
    elif kind in ("private", "direct"):
        with realm.condition:
            target = Outgoing(dm_user_ids=realm.resolve_dm_target(to, me))
    else:
        raise ApiError("Invalid type")
    echo = (queue_id, local_id) if queue_id and local_id else None
    starts_topic = target.stream is not None and not realm.messages_in(target.stream.name, topic)
    message = realm.send(
        me, target, content, client=client, read_by_sender=read_by_sender, local_echo=echo
    )
    if starts_topic and not me.is_bot:
        return {"id": message.id, "automatic_new_visibility_policy": FOLLOWED}
    return {"id": message.id}


def _anchor(params: Params) -> int | str:
    if not params.has("anchor"):
        raise ApiError("Missing 'anchor' argument.")
    raw = params.text("anchor")
    if raw in ("newest", "oldest", "first_unread"):
        return str(raw)
    if raw.isdigit():
        return int(raw)
    raise ApiError("Invalid anchor")


def get_messages(call: Call) -> Payload:
    realm, params = call.realm, call.params
    anchor = _anchor(params)
    num_before = params.integer("num_before", 0)
    num_after = params.integer("num_after", 0)
    for name, value in (("num_before", num_before), ("num_after", num_after)):
        if value < 0:
            raise ApiError(f"Bad value for '{name}': {value}")
    if num_before + num_after > MAX_FETCH:
        raise ApiError(f"Too many messages requested (maximum {MAX_FETCH}).")
    include_anchor = params.boolean("include_anchor", True)
    if not include_anchor and num_before > 0 and num_after > 0:
        raise ApiError("The anchor can only be excluded at an end of the range")
    apply_markdown = params.boolean("apply_markdown", True)
    gravatar = params.boolean("client_gravatar", True)
    raw_narrow = params.json("narrow", [])
    with realm.condition:
        narrow = build_narrow(parse_narrow(raw_narrow, lists_only=False), call.me.user_id, realm)
        found = realm.fetch(call.me, narrow, anchor, num_before, num_after, include_anchor)
        messages = [
            realm.message_dict(m, call.me, apply_markdown=apply_markdown, client_gravatar=gravatar)
            for m in found.messages
        ]
    return {
        "messages": messages,
        "found_anchor": found.found_anchor,
        "found_oldest": found.found_oldest,
        "found_newest": found.found_newest,
        "history_limited": False,
        "anchor": found.anchor,
    }


def get_message(call: Call) -> Payload:
    realm = call.realm
    apply_markdown = call.params.boolean("apply_markdown", True)
    with realm.condition:
        message = realm.accessible(call.me, int(call.path_args[0]))
        return {
            "message": realm.message_dict(message, call.me, apply_markdown=apply_markdown),
            "raw_content": message.content,
        }


def render_message(call: Call) -> Payload:
    return {"rendered": call.realm.render(call.params.text("content"))}


def edit_message(call: Call) -> Payload:
    params = call.params
    params.has("message_id")  # python-zulip-api repeats the path's id in the body
    if params.has("stream_id"):
        raise ApiError("The sandbox cannot move messages between channels")
    call.realm.edit(
        call.me,
        int(call.path_args[0]),
        content=params.text("content", None),
        topic=params.text("topic", params.text("subject", None)),
        propagate_mode=params.text("propagate_mode", "change_one"),
        notify_old_thread=params.boolean("send_notification_to_old_thread", False),
        notify_new_thread=params.boolean("send_notification_to_new_thread", True),
    )
    return {}


def delete_message(call: Call) -> Payload:
    call.realm.delete(call.me, int(call.path_args[0]))
    return {}


def _reaction(call: Call, *, add: bool) -> Payload:
    params = call.params
    params.has("message_id")  # python-zulip-api repeats the path's id in the body
    call.realm.react(
        call.me,
        int(call.path_args[0]),
        params.text("emoji_name", None),
        params.text("emoji_code", None),
        params.text("reaction_type", None),
        add=add,
    )
    return {}


def add_reaction(call: Call) -> Payload:
    return _reaction(call, add=True)


def remove_reaction(call: Call) -> Payload:
    return _reaction(call, add=False)


def submessage(call: Call) -> Payload:
    params = call.params
    message_id = params.integer("message_id")
    call.realm.add_submessage(call.me, message_id, params.text("msg_type"), params.text("content"))
    return {}
