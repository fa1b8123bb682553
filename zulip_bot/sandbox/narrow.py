"""Narrows: which messages a GET /messages or an event queue is about.

GET /messages takes `[{"operator": ..., "operand": ...}]` or the legacy `[[operator, operand]]`
form; /register takes only the legacy one (recording #202).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from zulip_bot.sandbox.errors import ApiError
from zulip_bot.sandbox.model import Message, Stream, User

_OPERATORS: Final = frozenset(
    {
        "stream",
        "channel",
        "topic",
        "subject",
        "sender",
        "dm",
        "pm-with",
        "is",
        "id",
        "search",
        "near",
    }
)
_MENTION_FLAGS: Final = frozenset(
    {"mentioned", "stream_wildcard_mentioned", "topic_wildcard_mentioned", "wildcard_mentioned"}
)


@dataclass(frozen=True)
class Term:
    operator: str
    operand: Any
    negated: bool = False


def bad_narrow(desc: str) -> ApiError:
    return ApiError(f"Invalid narrow operator: {desc}", "BAD_NARROW", extra={"desc": desc})


def parse_narrow(raw: Any, *, lists_only: bool) -> list[Term]:
    if not isinstance(raw, list):
        raise ApiError("narrow is not a list")
    terms = []
    for index, item in enumerate(raw):
        if isinstance(item, dict) and not lists_only:
            if "operator" not in item or "operand" not in item:
                raise ApiError(f"narrow[{index}] is missing operator or operand")
            term = Term(str(item["operator"]), item["operand"], bool(item.get("negated", False)))
        elif isinstance(item, list) and len(item) == 2:
            term = Term(str(item[0]), item[1])
        else:
            raise ApiError(f"narrow[{index}] is not a list")
        if term.operator not in _OPERATORS:
            raise bad_narrow(f"unknown operator {term.operator}")
        if term.operator in ("dm", "pm-with") and not _is_dm_operand(term.operand):
            raise ApiError("operand is not a string or an integer list")
        terms.append(term)
    return terms


def _is_dm_operand(operand: Any) -> bool:
    if isinstance(operand, str):
        return True
    return isinstance(operand, list) and all(
        isinstance(i, int) and not isinstance(i, bool) for i in operand
    )


class Directory(Protocol):
    def find_stream(self, operand: Any) -> Stream | None: ...

    def find_user(self, operand: Any) -> User | None: ...


MessageFilter = Callable[[Message], bool]


@dataclass(frozen=True)
class Narrow:
    viewer: int
    filters: tuple[MessageFilter, ...]
    #: The stream a positive `stream` term names, whose history the viewer may read.
    stream: Stream | None

    def matches(self, message: Message) -> bool:
        return all(check(message) for check in self.filters)


def _term_filter(term: Term, viewer: int, directory: Directory) -> MessageFilter:
    op, operand = term.operator, term.operand
    if op in ("stream", "channel"):
        stream = directory.find_stream(operand)
        if stream is None:
            raise bad_narrow(f"unknown channel {operand}")
        return lambda m: m.stream_id == stream.stream_id
    if op in ("topic", "subject"):
        wanted = str(operand).casefold()
        return lambda m: m.is_stream and m.topic.casefold() == wanted
    if op == "sender":
        sender = directory.find_user(operand)
        if sender is None:
            raise bad_narrow(f"unknown user {operand}")
        sender_id = sender.user_id
        return lambda m: m.sender_id == sender_id
    if op in ("dm", "pm-with"):
        wanted_ids = {viewer}
        names = operand if isinstance(operand, list) else operand.split(",")
        for name in names:
            user = directory.find_user(name.strip() if isinstance(name, str) else name)
            if user is None:
                raise bad_narrow(f"unknown user {name}")
            wanted_ids.add(user.user_id)
        return lambda m: not m.is_stream and set(m.dm_user_ids) == wanted_ids
    if op == "is":
        return _is_filter(str(operand), viewer)
    if op == "id":
        return lambda m: str(m.id) == str(operand)
    if op == "search":
        words = str(operand).casefold().split()
        return lambda m: all(w in m.content.casefold() or w in m.topic.casefold() for w in words)
    return lambda m: True  # `near` only moves the anchor in the web app


def _is_filter(operand: str, viewer: int) -> MessageFilter:
    if operand in ("dm", "private"):
        return lambda m: not m.is_stream
    if operand == "mentioned":
        return lambda m: bool(_MENTION_FLAGS & set(m.flags_for(viewer)))
    if operand == "unread":
        return lambda m: "read" not in m.flags_for(viewer)
    if operand in ("starred", "alerted"):
        return lambda m: operand in m.flags_for(viewer)
    raise bad_narrow(f"unknown 'is' operand {operand}")


def build_narrow(terms: list[Term], viewer: int, directory: Directory) -> Narrow:
    filters: list[MessageFilter] = []
    stream = None
    for term in terms:
        check = _term_filter(term, viewer, directory)
        if term.negated:
            filters.append(lambda m, check=check: not check(m))  # type: ignore[misc]
        else:
            filters.append(check)
            if term.operator in ("stream", "channel"):
                stream = directory.find_stream(term.operand)
    return Narrow(viewer, tuple(filters), stream)
