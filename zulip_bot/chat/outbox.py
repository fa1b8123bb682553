"""Replies kept in SQLite until Zulip confirms them: none lost in a crash, none posted twice.

`add` stores an event's replies in the transaction that holds the event's state change, so a
crash leaves both or neither. `flush` posts them and deletes each row in the transaction that
reports the message id to the service. The one gap left, a post that reached Zulip whose
answer was lost (a dropped connection, a 5xx after the fact, a `kill -9` between the post and
the commit), is closed by reconciling before anything is sent again: the bot's own messages
newer than the last one it confirmed (its watermark) are read back with `GET /messages` and
matched, in order, to the pending rows by destination and content. Rows are posted one at a
time in id order, so the posts that may have been lost are exactly the bot's messages past
the watermark, and matching them needs no marker in the visible text. Zulip's `local_id`
echo (the bot's own message event, in the queue named at send time) confirms most such posts
even before that look-up is needed. A hidden marker in the content was rejected: Zulip
renders everything it is sent, and a `local_id` is not stored on the message.

An edit of one of the bot's messages (the live agenda) is a row whose ref is `edit:<id>`;
several waiting for one message are coalesced into the last, and a retried edit is harmless.
While commands keep coming, one message is edited at most once per `edit_every` seconds; the
edit that makes it current goes out as soon as things are quiet.

A post Zulip refuses for a reason that may pass (the stream does not exist, the bot may not
post there) is held, not dropped: the rows for that stream stay in the store and are tried
again after a growing, capped interval, or at once when a stream or subscription event may
have changed things (`retry_held`). Other streams and direct messages go on meanwhile. The
organizers are told once per episode, which ends when a post there goes through; the episode
is kept in the store, so a restart does not tell them again.

Acknowledgments are cheap: a lone reply that only confirms (`Send.ack_only`) becomes an emoji
reaction on the person's message, and several replies waiting for the same topic are posted
as one message, each line naming whom it answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol

from zulip_bot.chat.client import (
    MAX_MESSAGE_LENGTH,
    ApiError,
    Unavailable,
    Uncertain,
    ZulipApi,
    fit_topic,
    split_content,
)
from zulip_bot.meeting.effects import Edit, Effect, Send, Sender
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import OutboxRow, Store

log = logging.getLogger(__name__)

#: ✅, the reaction that stands for a reply which only confirms.
ACK_EMOJI: Final = "check"
WATERMARK: Final = "watermark"
#: How many of its own recent messages the bot reads back when reconciling.
RECONCILE_FETCH: Final = 200
EDIT_REF: Final = "edit:"
#: A stream post refused with this code, or with one of these words, may go through later
#: (recordings #083, #089): it is held and tried again, never dropped.
_MAY_PASS_CODES: Final = ("STREAM_DOES_NOT_EXIST",)
_MAY_PASS_WORDS: Final = ("not authorized to send", "not subscribed")
#: How long a held stream waits before its first retry, and at most between two.
RETRY_FIRST: Final = 10.0
RETRY_CAP: Final = 300.0
HELD: Final = "held:"  # runner state key prefix: an episode the organizers were told of


def may_pass(row: OutboxRow, error: ApiError) -> bool:
    """A refusal of a stream post that a change on Zulip's side (a stream created or renamed,
    the bot subscribed or allowed to post) would lift."""
    said = error.msg.casefold()
    return row.stream is not None and (
        error.code in _MAY_PASS_CODES or any(words in said for words in _MAY_PASS_WORDS)
    )


class Routes(Protocol):
    """Where a row goes now (`chat/streams.py` follows renamed streams)."""

    def route(self, row: OutboxRow) -> OutboxRow:
        """The row as posted: its stream's current name, its stream links to match."""

    def address(self, stream: str) -> int | str:
        """What a send names the stream by: its id when known, so a rename cannot race it."""

    def missing(self, stream: str) -> None:
        """Zulip says the stream is gone: look for it by its name from now on."""


class AsNamed:
    """Every stream posted to by the name the row has."""

    def route(self, row: OutboxRow) -> OutboxRow:
        return row

    def address(self, stream: str) -> int | str:
        return stream

    def missing(self, stream: str) -> None:
        pass


@dataclass
class Hold:
    """A stream whose posts wait: how often they were refused in a row, and when to retry."""

    refused: int
    retry_at: float


def _destination(row: OutboxRow) -> tuple[str, ...]:
    if row.stream is not None:
        return ("stream", row.stream.casefold(), fit_topic(row.topic or "").casefold())
    return ("private", str(row.recipient_id or row.recipient or "").casefold())


def _stream_key(row: OutboxRow) -> str | None:
    return row.stream.casefold() if row.stream is not None else None


def _same_place(row: OutboxRow, message: dict[str, Any]) -> bool:
    if row.stream is not None:
        return (
            message.get("type") == "stream"
            and (
                str(message.get("display_recipient", "")).casefold(),
                str(message.get("subject", "")).casefold(),
            )
            == _destination(row)[1:]
        )
    recipients = message.get("display_recipient")
    if message.get("type") != "private" or not isinstance(recipients, list):
        return False
    return any(
        r.get("id") == row.recipient_id or str(r.get("email", "")).casefold() == row.recipient
        for r in recipients
    )


@dataclass(frozen=True)
class Plan:
    """One API call: a reaction standing for `rows[0]`, or a post of one row."""

    row: OutboxRow
    react: bool = False


@dataclass
class Outbox:
    store: Store
    service: MeetingService
    bot_user_id: int
    organizers: Callable[[], list[int]]  # whom a stream the bot cannot post in is reported to
    wall: Callable[[], float] = time.time
    #: Rows whose post may have reached Zulip unseen; reconciled before the next flush.
    uncertain: set[int] = field(default_factory=set)
    sent_messages: int = 0
    sent_reactions: int = 0
    sent_edits: int = 0
    edit_every: float = 10.0
    _edited: dict[str, float] = field(default_factory=dict)  # edit ref -> when last sent
    on_posted: Callable[[OutboxRow, int], None] = lambda row, message_id: None
    routes: Routes = field(default_factory=AsNamed)
    holds: dict[str, Hold] = field(default_factory=dict)  # stream, casefolded -> its hold

    # --- storing ------------------------------------------------------------------------------

    def add(
        self,
        event: str,
        effects: Iterable[Effect],
        source: tuple[int, Sender] | None = None,
        recipient_id: Callable[[str], int | None] = lambda email: None,
    ) -> None:
        """Inside the transaction of the event's own change. A reply too long for one message
        becomes several rows, each under Zulip's limit."""
        message_id, sender = source if source else (None, None)
        for effect in effects:
            if isinstance(effect, Edit):
                self._add_edit(event, effect)
                continue
            send: Send = effect
            to_id = None
            if send.stream is None and send.to is not None:
                to_id = sender.user_id if sender and sender.email == send.to else None
                to_id = to_id or recipient_id(send.to)
            parts = split_content(send.content)
            for index, part in enumerate(parts):
                self.store.outbox_add(
                    OutboxRow(
                        event=event,
                        created=self.wall(),
                        stream=send.stream,
                        topic=fit_topic(send.topic) if send.topic is not None else None,
                        recipient=send.to.casefold() if send.to else None,
                        recipient_id=to_id,
                        content=part,
                        ref=send.ref if index == 0 else None,
                        ack=ACK_EMOJI if send.ack_only and len(parts) == 1 else None,
                        source_message=message_id,
                        source_user=sender.user_id if sender else None,
                        source_name=sender.full_name if sender else None,
                    )
                )

    def _add_edit(self, event: str, edit: Edit) -> None:
        self.store.outbox_add(
            OutboxRow(
                event=event,
                created=self.wall(),
                stream=None,
                topic=None,
                recipient=None,
                recipient_id=None,
                content=edit.content,
                ref=f"{EDIT_REF}{edit.message_id}",
            )
        )

    def pending(self) -> bool:
        """Rows that may be sent now or soon: not those of a held stream still waiting."""
        return any(not self._waiting(row) for row in self.store.outbox())

    def _waiting(self, row: OutboxRow) -> bool:
        hold = self.holds.get(_stream_key(row) or "")
        return hold is not None and self.wall() < hold.retry_at

    def _deferred(self, row: OutboxRow) -> bool:
        ref = row.ref or ""
        return (
            ref.startswith(EDIT_REF)
            and self.wall() - self._edited.get(ref, -1e18) < self.edit_every
        )

    def due(self) -> bool:
        """Something to send now, not counting edits held back while commands keep coming."""
        return any(
            not self._deferred(row) and not self._waiting(row) for row in self.store.outbox()
        )

    # --- confirming ---------------------------------------------------------------------------

    def confirm(self, row: OutboxRow, message_id: int | None) -> None:
        """Zulip has the post (or the reaction): tell the service its id, forget the row."""
        assert row.id is not None
        with self.store.transaction():
            if not any(r.id == row.id for r in self.store.outbox()):
                return  # confirmed already, by the send's answer or by its echo
            if row.ref is not None and message_id is not None:
                self.service.message_sent(row.ref, message_id)
            self.store.outbox_delete(row.id)
            if message_id is not None:
                mark = int(self.store.runner_value(WATERMARK) or 0)
                self.store.set_runner_value(WATERMARK, str(max(mark, message_id)))
        self.uncertain.discard(row.id)
        if message_id is not None:
            self.on_posted(row, message_id)

    def echo(self, local_id: str, message_id: int) -> None:
        """The bot's own message came back through its queue, carrying the row id."""
        try:
            row_id = int(local_id)
        except ValueError:
            return
        row = next((r for r in self.store.outbox() if r.id == row_id), None)
        if row is not None:
            self.confirm(row, message_id)

    def set_watermark(self, message_id: int) -> None:
        """Nothing older than this can be an unconfirmed post (set at the first register)."""
        if self.store.runner_value(WATERMARK) is None:
            with self.store.transaction():
                self.store.set_runner_value(WATERMARK, str(message_id))

    def reconcile(self, api: ZulipApi) -> None:
        """Match the bot's messages past the watermark to pending rows, in order."""
        rows = [r for r in self.store.outbox() if not (r.ref or "").startswith(EDIT_REF)]
        if not rows:
            self.uncertain.clear()
            return
        mark = int(self.store.runner_value(WATERMARK) or 0)
        narrow = [{"operator": "sender", "operand": self.bot_user_id}]
        body = api.messages(mark, num_after=RECONCILE_FETCH, narrow=narrow)
        posted = [m for m in body.get("messages", []) if int(m["id"]) > mark]
        # each row as it was posted: to its stream's current name, its links to match
        waiting = [(row, self.routes.route(row)) for row in rows]
        for message in sorted(posted, key=lambda m: int(m["id"])):
            content = str(message.get("content", "")).strip()
            found = next(
                (
                    pair
                    for pair in waiting
                    if pair[1].content.strip() == content and _same_place(pair[1], message)
                ),
                None,
            )
            if found is not None:
                waiting.remove(found)
                row = found[0]
                log.info("outbox: row %s was posted before as message %s", row.id, message["id"])
                self.confirm(row, int(message["id"]))
        self.uncertain.clear()

    # --- sending ------------------------------------------------------------------------------

    def plan(self, rows: Sequence[OutboxRow], quiet: bool = False) -> list[Plan]:
        """Rows with a ref go alone (Zulip's id for them matters); the others are grouped by
        topic: a lone acknowledgment becomes a reaction, several replies one message."""
        plans: list[Plan] = []
        groups: dict[tuple[str, ...], list[OutboxRow]] = {}
        for row in self._coalesce(rows):
            if (not quiet and self._deferred(row)) or self._waiting(row):
                continue
            if row.ref is not None:
                plans.append(Plan(row))
            else:
                groups.setdefault(_destination(row), []).append(row)
        for group in groups.values():
            if len(group) == 1:
                only = group[0]
                plans.append(
                    Plan(only, react=only.ack is not None and only.source_message is not None)
                )
            else:
                plans.extend(Plan(row) for row in self._batch(group))
        return sorted(plans, key=lambda plan: plan.row.id or 0)

    def _coalesce(self, rows: Sequence[OutboxRow]) -> list[OutboxRow]:
        """Of several edits waiting for one message only the last matters: the others are
        dropped unsent."""
        last = {r.ref: r.id for r in rows if (r.ref or "").startswith(EDIT_REF)}
        superseded = [r for r in rows if r.ref in last and r.id != last[r.ref]]
        if superseded:
            with self.store.transaction():
                for row in superseded:
                    assert row.id is not None
                    self.store.outbox_delete(row.id)
        return [r for r in rows if r not in superseded]

    def _batch(self, group: list[OutboxRow]) -> list[OutboxRow]:
        """Joins the replies to one topic into as few messages as fit, stored as new rows in
        the place of the ones they stand for before anything is posted."""
        chunks: list[list[OutboxRow]] = [[]]
        size = 0
        for row in group:
            line = self._line(row)
            if chunks[-1] and size + len(line) + 2 > MAX_MESSAGE_LENGTH:
                chunks.append([])
                size = 0
            chunks[-1].append(row)
            size += len(line) + 2
        batched: list[OutboxRow] = []
        with self.store.transaction():
            for chunk in chunks:
                if len(chunk) == 1:
                    batched.append(chunk[0])
                    continue
                first = chunk[0]
                combined = replace(
                    first,
                    event="batch:" + ",".join(str(r.id) for r in chunk),
                    content="\n\n".join(self._line(r) for r in chunk),
                    ack=None,
                    id=None,
                )
                for row in chunk:
                    assert row.id is not None
                    self.store.outbox_delete(row.id)
                batched.append(replace(combined, id=self.store.outbox_add(combined)))
        return batched

    @staticmethod
    def _line(row: OutboxRow) -> str:
        if row.stream is None or row.source_user is None:
            return row.content
        return f"@_**{row.source_name}|{row.source_user}** {row.content}"

    def flush(self, api: ZulipApi, queue_id: str | None, quiet: bool = False) -> bool:
        """Posts what is pending; False when Zulip could not be reached (the rows stay)."""
        if self.uncertain:
            try:
                self.reconcile(api)
            except (Unavailable, ApiError) as error:
                log.warning("outbox: cannot check what was posted yet (%s); will retry", error)
                return False
        for plan in self.plan(self.store.outbox(), quiet):
            row = plan.row
            assert row.id is not None
            if self._waiting(row):  # its stream refused a post earlier in this flush
                continue
            try:
                if plan.react:
                    assert row.source_message is not None and row.ack is not None
                    api.react(row.source_message, row.ack)
                    self.sent_reactions += 1
                    self.confirm(row, None)
                    continue
                if (row.ref or "").startswith(EDIT_REF):
                    api.edit(int((row.ref or "").removeprefix(EDIT_REF)), row.content)
                    self.sent_edits += 1
                    self._edited[row.ref or ""] = self.wall()
                    self.confirm(row, None)
                    continue
                message_id = self._post(api, row, queue_id)
            except Uncertain as error:
                log.warning("outbox: row %s may or may not be posted (%s)", row.id, error)
                self.uncertain.add(row.id)
                return False
            except Unavailable as error:
                log.warning("outbox: Zulip unavailable (%s); the replies wait", error)
                return False
            except ValueError as error:  # an edit longer than a message may be
                self._refused(row, ApiError(0, "TOO_LONG", str(error), {}))
                continue
            except ApiError as error:
                if may_pass(row, error):
                    if error.code in _MAY_PASS_CODES and row.stream is not None:
                        self.routes.missing(row.stream)
                    self._hold(row, error)
                else:
                    self._refused(row, error)
                continue
            self.sent_messages += 1
            self.confirm(row, message_id)
            self._release(row)
        return True

    def _post(self, api: ZulipApi, row: OutboxRow, queue_id: str | None) -> int:
        to: list[int | str] = [row.recipient_id or row.recipient or ""]
        routed = self.routes.route(row)
        return api.send(
            routed.content,
            stream=None if row.stream is None else self.routes.address(row.stream),
            topic=row.topic,
            to=None if row.stream is not None else to,
            local_id=str(row.id),
            queue_id=queue_id,
        )

    # --- held streams -------------------------------------------------------------------------

    def _hold(self, row: OutboxRow, error: ApiError) -> None:
        """The row stays; its stream waits twice as long as last time, up to `RETRY_CAP`.
        The organizers hear of it at the first refusal of an episode only."""
        key = _stream_key(row) or ""
        hold = self.holds.get(key)
        refused = hold.refused + 1 if hold else 1
        wait = min(RETRY_CAP, RETRY_FIRST * 2 ** (refused - 1))
        self.holds[key] = Hold(refused, self.wall() + wait)
        place = self.routes.route(row).stream
        log.warning("outbox: #%s refused a post (%s); held, retried in %.0f s", place, error, wait)
        with self.store.transaction():
            if self.store.runner_value(HELD + key) is not None:
                return
            self.store.set_runner_value(HELD + key, str(self.wall()))
            self.report(
                f"I cannot post in #**{place}** ({error.msg}). I keep what I have to say there "
                "and post it once I can: I try again every few minutes, and at once when the "
                "stream is created or renamed or I am subscribed to it. Subscribe me to the "
                "stream, or let me post there."
            )

    def _release(self, row: OutboxRow) -> None:
        """A post in the stream went through: the episode is over."""
        key = _stream_key(row)
        if key is None or (key not in self.holds and not self.store.runner_value(HELD + key)):
            return
        self.holds.pop(key, None)
        log.info("outbox: #%s takes posts again", self.routes.route(row).stream)
        with self.store.transaction():
            self.store.forget_runner_value(HELD + key)

    def retry_held(self) -> None:
        """Something changed that may let a held stream's posts through: try at the next
        flush, keeping the count (a retry that fails waits as long as the next one would)."""
        for hold in self.holds.values():
            hold.retry_at = min(hold.retry_at, self.wall())

    def _refused(self, row: OutboxRow, error: ApiError) -> None:
        """A post Zulip will never take is dropped after saying so once: an ack on a message
        deleted meanwhile, an edit past the time limit, a recipient that is gone."""
        assert row.id is not None
        if (row.ref or "").startswith(EDIT_REF):
            place = f"an edit of message {(row.ref or '').removeprefix(EDIT_REF)}"
        elif row.stream:
            place = f"#{row.stream}"
        else:
            place = f"a direct message to {row.recipient}"
        key = f"reported:{place}:{error.code}:{error.msg}"
        with self.store.transaction():
            self.store.outbox_delete(row.id)
            edited = (row.ref or "").startswith(EDIT_REF)
            if edited and self.service.edit_refused(int((row.ref or "").removeprefix(EDIT_REF))):
                return  # the agenda, past Zulip's limit: posted afresh, as the service logs
            first = self.store.runner_value(key) is None
            if first:
                self.store.set_runner_value(key, str(self.wall()))
        if not first:
            log.info("outbox: dropped row %s for %s (%s), reported before", row.id, place, error)
            return
        log.error("outbox: Zulip refused a reply in %s: %s; it is dropped", place, error)

    def report(self, text: str) -> None:
        """A direct message to the organizers, queued like any reply."""
        recipients = self.organizers()
        if not recipients:
            return
        with self.store.transaction():
            for user_id in recipients:
                self.store.outbox_add(
                    OutboxRow(
                        event="report",
                        created=self.wall(),
                        stream=None,
                        topic=None,
                        recipient=None,
                        recipient_id=user_id,
                        content=text,
                    )
                )
