"""A Zulip-compatible HTTP server on 127.0.0.1, so that the bot, its tests and people trying it
by hand talk to something that answers like a real Zulip 9 server (feature level 266) would.

Where it and `tests/data/zulip-recordings` differ, the recordings are right: hidden emails
(`userNN@zulipdev.com`), silently truncated topics and contents, `BAD_EVENT_QUEUE_ID`, 429s with
`Retry-After`, and the other surprises listed there are reproduced on purpose.

Use it from tests::

    from zulip_bot.sandbox import ManualClock, RateLimit, Sandbox

    clock = ManualClock(time.time())  # moves only when told to
    with Sandbox.start(clock=clock, heartbeat_seconds=0.5, rate_limit=RateLimit(50, 60)) as sandbox:
        alice = sandbox.add_user("Alice Example", "alice@example.org", role="admin",
                                 github="alice-gh")
        bot = sandbox.add_bot("meetbot", owner=alice)       # meetbot-bot@zulipdev.com
        sandbox.add_stream("community", subscribers=[bot, alice])
        rc = sandbox.zuliprc(tmp_path / "zuliprc", bot.delivery_email)
        client = zulip.Client(config_file=str(rc))          # or sandbox.client(email)
        sandbox.faults.next("/messages", "drop")             # the next POST/GET /messages fails
        sandbox.faults.next("/messages", "drop_after", method="POST")  # posted, but no answer
        sandbox.faults.next("/events", "500", count=3)
        sandbox.faults.next("/messages", "delay", seconds=2.0, method="POST")
        sandbox.faults.next("/messages", "429", retry_after=1.5)
        sandbox.faults.next("/events", "expire")             # that user's queues are gone first
        sandbox.expire_queues()                              # every event queue is gone now
        clock.advance(700)                                   # past the edit limit and queue expiry
        sandbox.faults.fired                                 # what was applied, in order

- `Sandbox.start(**settings)` starts the server on a free port; `.url` is its address,
  `.stop()` (or leaving the `with` block) stops it and releases pending long-polls.
- `.add_user(full_name, email, *, role="member"|"moderator"|"admin"|"owner"|"guest",
  github=None, email_visible=None, user_id=None) -> User`; `.add_bot(full_name, short_name=None,
  owner=None)` (email `<short_name>-bot@zulipdev.com`); `.add_stream(name, *, invite_only=False,
  subscribers=(), description="", creator=None) -> Stream`; `.subscribe(user, stream_name)`;
  `.rename_stream(old, new, by=admin)` (as PATCH /streams/{id} does it);
  `.user(email)`; `.client(email) -> zulip.Client`; `.expire_queues(email=None)`;
  `.add_user_group(name, members)` (mentioned as `@*name*`, notifying its active members).
  `.set_edit_limit(seconds)` (None: no limit), as an admin's PATCH /realm would.
  A `User` has `user_id`, `full_name`, `delivery_email` (the login), `api_key`, `role`,
  `is_active` (set it False to deactivate).
- `.zuliprc(path, email) -> Path` writes an `[api]` file the `zulip` client reads; the email is
  the login (delivery) email, as basic auth on a real server needs.
- `.realm` is the state (users, streams, messages with reactions and submessages) for tests to
  inspect: `realm.messages_in(stream, topic)`; a `Message`'s `notified` is whom it notified of a
  mention, at its send or when an edit newly mentioned them, and `wildcard` whether it ever held
  a live wildcard (mentions as Zulip reads them: see `render.py` and `mentions.py`);
  `.faults` scripts failures (see `faults.py`); `.clock` is the clock used for timestamps, the
  edit limit, rate-limit windows and queue expiry.
- Settings (`SandboxSettings`): `rate_limit` (200 per 60 s), `events_rate_limit` (the events
  endpoint is counted apart, as Tornado does), `heartbeat_seconds` (a blocked GET /events is held
  this many real seconds, then answers a heartbeat event with an id to acknowledge; 50 by
  default, as a real server's 45-55; a newer poll on the queue ends a waiting one with no
  events), `queue_timeout_seconds` (a queue with no client connected is garbage-collected after
  this long on the clock; 600), `edit_limit_seconds` (600, plus Zulip's 20 s grace; None: no
  limit), `hide_emails` (True, as in the recordings), `port` (0: a free one).

Endpoints: GET /server_settings, /users/me, /users, /users/{id|email}, DELETE /users/{id} and
POST /users/{id}/reactivate (admins; a realm_user event), GET /realm/profile_fields, PATCH /realm
(admins; `message_content_edit_limit_seconds` and `..._delete_limit_seconds` only, with the
realm events Zulip sends), GET
/streams, /streams/{id}, PATCH /streams/{id} (admins; `new_name`, `description` and
`is_private`, with the `stream` `update` events Zulip sends and Notification Bot's note of a
rename in the topic "channel events"), /streams/{id}/members, /get_stream_id,
/users/me/subscriptions (GET, POST, DELETE), /users/{id}/subscriptions/{stream_id},
/users/me/{stream_id}/topics; /messages (POST, GET
with narrow and anchor), POST /messages/render, /messages/{id} (GET, PATCH, DELETE),
/messages/{id}/reactions (POST, DELETE), POST /submessage; POST /register, GET and DELETE /events.
Anything else answers Zulip's HTML 404. `meetbot sandbox` (see `cli.py`) runs one by hand.

Not like the real server (yet): no moving messages between streams, user group endpoints or
system groups, flags but the read and mention ones, scheduled messages, uploads, typing,
presence or bot storage; no wildcard mention policy (Zulip may refuse `@**all**` in a stream of
more than 15 people); no realm_user events but (de)activation and roles; no archiving a
stream (DELETE /streams/{id}), no channel administrators but the organization's, no
Notification Bot note of a new description, and the words refusing an empty or too long
stream name are not recorded;
rendering covers what a bot writes (no emoji, spoilers, syntax highlighting, KaTeX or search
highlights); a few dozen emoji names; unauthenticated requests are not rate-limited; each
connection serves one request (HTTP/1.0).
"""

from zulip_bot.sandbox.clock import Clock, FastClock, ManualClock, SystemClock
from zulip_bot.sandbox.faults import Faults
from zulip_bot.sandbox.model import Message, Stream, User
from zulip_bot.sandbox.ratelimit import RateLimit
from zulip_bot.sandbox.sandbox import Sandbox, SandboxSettings

__all__ = [
    "Clock",
    "FastClock",
    "Faults",
    "ManualClock",
    "Message",
    "RateLimit",
    "Sandbox",
    "SandboxSettings",
    "Stream",
    "SystemClock",
    "User",
]
