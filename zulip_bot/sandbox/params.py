"""Request parameters as python-zulip-api sends them: strings as they are, everything else
JSON-encoded, in the query string for GET and a form body otherwise."""

from __future__ import annotations

import json
from typing import Any, Final

from zulip_bot.sandbox.errors import ApiError

_MISSING: Final[Any] = object()


def missing(name: str) -> ApiError:
    return ApiError(
        f"Missing '{name}' argument", "REQUEST_VARIABLE_MISSING", extra={"var_name": name}
    )


class Params:
    """Remembers which parameters an endpoint read, so the others can be reported as ignored
    (`ignored_parameters_unsupported`, recording #242)."""

    def __init__(self, raw: dict[str, str]) -> None:
        self.raw = raw
        self._read: set[str] = set()

    def has(self, name: str) -> bool:
        self._read.add(name)
        return name in self.raw

    def text(self, name: str, default: Any = _MISSING) -> Any:
        if not self.has(name):
            if default is _MISSING:
                raise missing(name)
            return default
        return self.raw[name]

    def json(self, name: str, default: Any = _MISSING, *, problem: str = "") -> Any:
        if not self.has(name):
            if default is _MISSING:
                raise missing(name)
            return default
        try:
            return json.loads(self.raw[name])
        except ValueError:
            raise ApiError(problem or f"{name} is not valid JSON") from None

    def integer(self, name: str, default: Any = _MISSING) -> Any:
        value = self.json(name, default)
        if value is not default and (not isinstance(value, int) or isinstance(value, bool)):
            raise ApiError(f"{name} is not an integer")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.json(name, default)
        if not isinstance(value, bool):
            raise ApiError(f"{name} is not a boolean")
        return value

    def ignored(self) -> list[str]:
        return sorted(set(self.raw) - self._read)
