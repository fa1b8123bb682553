"""The event-queue endpoints: POST /register with the initial state the bot reads, and the
long-polled GET /events with DELETE /events, as Tornado answers them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from zulip_bot.sandbox.api import FEATURE_LEVEL, ZULIP_VERSION, Call, Payload, Reply
from zulip_bot.sandbox.errors import ApiError
from zulip_bot.sandbox.model import ROLES
from zulip_bot.sandbox.narrow import build_narrow, parse_narrow
from zulip_bot.sandbox.state import MAX_MESSAGE_LENGTH, MAX_TOPIC_LENGTH


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
        "subscriptions": [s.subscription_dict(subscribers=True, notifications=False) for s in subs],
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
