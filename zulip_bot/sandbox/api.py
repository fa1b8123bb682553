"""The endpoints: each reads its parameters the way the real server does and asks the realm to
act. Answers are payloads; `server.py` adds `result`/`msg` and the HTTP around them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from zulip_bot.sandbox.errors import ApiError
from zulip_bot.sandbox.model import ROLES, User
from zulip_bot.sandbox.narrow import build_narrow, parse_narrow
from zulip_bot.sandbox.params import Params
from zulip_bot.sandbox.state import (
    MAX_FETCH,
    MAX_MESSAGE_LENGTH,
    MAX_TOPIC_LENGTH,
    Outgoing,
    Realm,
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
    extra: dict[str, Any] = field(default_factory=dict)


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


def subscriptions(call: Call) -> Payload:
    with_subscribers = call.params.boolean("include_subscribers", False)
    me = call.me
    with call.realm.condition:
        subs = call.realm.subscriptions_of(me)
        return {
            "subscriptions": [
                s.subscription_dict(me.user_id, subscribers=with_subscribers, notifications=None)
                for s in subs
            ]
        }


def subscribe(call: Call) -> Payload:
    realm, me = call.realm, call.me
    wanted = call.params.json("subscriptions")
    principals = call.params.json("principals", None)
    invite_only = call.params.boolean("invite_only", False)
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
    realm, me = call.realm, call.me
    names = call.params.json("subscriptions")
    removed: list[str] = []
    not_removed: list[str] = []
    with realm.condition:
        for name in names:
            found = realm.stream_by_name(str(name))
            if found is None:
                raise ApiError(f"Channel(s) ({name}) do not exist")
            (removed if realm.unsubscribe(me, found) else not_removed).append(found.name)
    return {"removed": removed, "not_removed": not_removed}


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


# --- event queues -------------------------------------------------------------------------


def _queue_options(call: Call, *, lists_only: bool) -> dict[str, Any]:
    realm, params, me = call.realm, call.params, call.me
    event_types = params.json(
        "event_types", None, problem='Argument "event_types" is not valid JSON.'
    )
    raw_narrow = params.json("narrow", [], problem='Argument "narrow" is not valid JSON.')
    all_public = params.boolean("all_public_streams", False)
    if all_public and me.role == ROLES["guest"]:
        raise ApiError("User not authorized for this query")
    capabilities = params.json("client_capabilities", {})
    if capabilities and "notification_settings_null" not in capabilities:
        raise ApiError("notification_settings_null key is missing from client_capabilities")
    terms = parse_narrow(raw_narrow, lists_only=lists_only)
    with realm.condition:
        narrow = build_narrow(terms, me.user_id, realm) if terms else None
    return {
        "event_types": frozenset(event_types) if event_types is not None else None,
        "narrow": narrow,
        "all_public_streams": all_public,
        "apply_markdown": params.boolean("apply_markdown", False),
        "client_gravatar": params.boolean("client_gravatar", True),
        "bulk_message_deletion": bool(capabilities.get("bulk_message_deletion", False)),
    }


def register(call: Call) -> Payload:
    realm, me = call.realm, call.me
    options = _queue_options(call, lists_only=True)
    fetch = call.params.json("fetch_event_types", None)
    wanted = set(fetch if fetch is not None else options["event_types"] or _ALL_STATE)
    with realm.condition:
        queue = realm.queues.register(me.user_id, **options)
        payload: Payload = {
            "queue_id": queue.queue_id,
            "zulip_version": ZULIP_VERSION,
            "zulip_feature_level": FEATURE_LEVEL,
            "zulip_merge_base": "",
        }
        for kind in sorted(wanted & set(_ALL_STATE)):
            payload.update(_ALL_STATE[kind](call))
        payload["last_event_id"] = -1
        return payload


def _state_message(call: Call) -> Payload:
    return {"max_message_id": max(call.realm.visible_message_ids(call.me), default=-1)}


def _state_realm_user(call: Call) -> Payload:
    realm, me = call.realm, call.me
    everyone = sorted(realm.users.values(), key=lambda u: u.user_id)
    people = [u for u in everyone if not u.system]
    own = realm.user_dict(me, me, client_gravatar=False)
    return {
        "realm_users": [realm.user_dict(u, me, profile=True) for u in people if u.is_active],
        "realm_non_active_users": [
            realm.user_dict(u, me, profile=True) for u in people if not u.is_active
        ],
        "cross_realm_bots": [realm.user_dict(u, me) for u in everyone if u.system],
        "avatar_source": "G",
        "avatar_url": own["avatar_url"],
        "avatar_url_medium": own["avatar_url"],
        "can_create_streams": me.role != ROLES["guest"],
        "can_subscribe_other_users": me.role != ROLES["guest"],
        "delivery_email": me.delivery_email,
        "email": own["email"],
        "full_name": me.full_name,
        "is_admin": own["is_admin"],
        "is_owner": own["is_owner"],
        "is_guest": own["is_guest"],
        "is_moderator": me.role == ROLES["moderator"],
        "is_billing_admin": False,
        "user_id": me.user_id,
    }


def _state_subscription(call: Call) -> Payload:
    realm, me = call.realm, call.me
    subs = realm.subscriptions_of(me)
    others = [s for s in realm.streams_for(me) if s not in subs]
    return {
        "subscriptions": [
            s.subscription_dict(me.user_id, subscribers=True, notifications=False) for s in subs
        ],
        "unsubscribed": [],
        "never_subscribed": [{**s.as_dict(), "subscribers": list(s.subscribers)} for s in others],
    }


def _state_realm(call: Call) -> Payload:
    settings = call.realm.settings
    return {
        "realm_name": settings.name,
        "realm_message_content_edit_limit_seconds": settings.edit_limit_seconds,
        "realm_message_content_delete_limit_seconds": settings.delete_limit_seconds,
        "realm_edit_topic_policy": 5,
        "realm_delete_own_message_policy": 5,
        "realm_allow_message_editing": True,
        "realm_move_messages_within_stream_limit_seconds": 604800,
        "realm_allow_edit_history": True,
        "realm_waiting_period_threshold": 0,
        "realm_mandatory_topics": False,
        "max_message_length": MAX_MESSAGE_LENGTH,
        "max_topic_length": MAX_TOPIC_LENGTH,
        "realm_message_retention_days": -1,
        "realm_wildcard_mention_policy": 5,
    }


def _state_profile_fields(call: Call) -> Payload:
    return {"custom_profile_fields": [f.as_dict() for f in call.realm.profile_fields]}


_ALL_STATE: Final[dict[str, Callable[[Call], Payload]]] = {
    "message": _state_message,
    "realm_user": _state_realm_user,
    "subscription": _state_subscription,
    "realm": _state_realm,
    "custom_profile_fields": _state_profile_fields,
}


def get_events(call: Call) -> Payload | Reply:
    realm, params, me = call.realm, call.params, call.me
    dont_block = params.boolean("dont_block", False)
    if not params.has("queue_id"):
        if not dont_block:
            raise ApiError("Missing 'queue_id' argument")
        queue = realm.queues.register(me.user_id, **_queue_options(call, lists_only=True))
        return {"events": [], "queue_id": queue.queue_id}
    queue_id = params.text("queue_id")
    queue = realm.queues.find(queue_id, me.user_id)
    if not params.has("last_event_id"):
        raise ApiError("Missing 'last_event_id' argument")
    last_event_id = params.integer("last_event_id")
    events, waited = realm.queues.poll(queue, last_event_id, dont_block)
    if not waited:
        return {"events": events}
    return Reply({"events": events, "queue_id": queue_id}, rate_headers=False)


def delete_queue(call: Call) -> Payload:
    call.realm.queues.delete(call.params.text("queue_id"), call.me.user_id)
    return {}
