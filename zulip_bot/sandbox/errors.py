"""The one error type every endpoint raises, so the server turns each into Zulip's JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiError(Exception):
    """`msg` and `code` are Zulip's own words (see the recordings); `extra` adds the fields some
    errors carry, such as `stream`, `queue_id` or `retry-after`."""

    msg: str
    code: str = "BAD_REQUEST"
    status: int = 400
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.msg

    def body(self) -> dict[str, Any]:
        return {"result": "error", "msg": self.msg, **self.extra, "code": self.code}


def invalid_message() -> ApiError:
    """Missing, deleted and inaccessible messages all look alike on a real server."""
    return ApiError("Invalid message(s)")
