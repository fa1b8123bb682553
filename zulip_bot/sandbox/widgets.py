"""`/poll` and `/todo` messages, and the checks the server makes on their submessages.

A poll's votes live only in submessages, so the bot can count them only if the sandbox stores
them as Zulip does: the widget row first (Python `json.dumps` spacing), then each action verbatim.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final

from zulip_bot.sandbox.errors import ApiError

_LIST_MARKER: Final = re.compile(r"(\s*[-*]?\s*)")


def _lines_after_command(content: str, command: str) -> tuple[str, list[str]]:
    lines = content.replace(command, "", 1).splitlines()
    title = lines.pop(0).strip() if lines and lines[0] else ""
    items = [_LIST_MARKER.sub("", line, count=1) for line in lines]
    return title, [item for item in items if item]


def widget_content(content: str) -> str | None:
    """The widget submessage a message creates when its first word is `/poll` or `/todo`."""
    command = re.split(r"\s+|\n+", content)[0]
    if command == "/poll":
        question, options = _lines_after_command(content, command)
        extra: dict[str, Any] = {"question": question, "options": options}
    elif command == "/todo":
        title, lines = _lines_after_command(content, command)
        tasks = []
        for line in lines:
            task, _, desc = line.partition(":")
            tasks.append({"task": task.strip(), "desc": desc.strip()})
        extra = {"task_list_title": title, "tasks": tasks}
    else:
        return None
    return json.dumps({"widget_type": command[1:], "extra_data": extra})


Check = Callable[[str, Any], None]


def _string(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ApiError(f"{name} is not a string")


def _integer(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(f"{name} is not an integer")


def _boolean(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ApiError(f"{name} is not a boolean")


def _vote(name: str, value: Any) -> None:
    if value not in (1, -1) or isinstance(value, bool):
        raise ApiError(f"Invalid {name}")


def _dict_only(what: str, data: dict[str, Any], keys: dict[str, Check]) -> None:
    for key, check in keys.items():
        if key not in data:
            raise ApiError(f"{key} key is missing from {what}")
        check(f'{what}["{key}"]', data[key])
    extra = [key for key in data if key not in keys]
    if extra:
        raise ApiError(f"Unexpected arguments: {', '.join(extra)}")


_POLL: Final[dict[str, dict[str, Check]]] = {
    "vote": {"type": _string, "key": _string, "vote": _vote},
    "question": {"type": _string, "question": _string},
    "new_option": {"type": _string, "option": _string, "idx": _integer},
}
_TODO: Final[dict[str, dict[str, Check]]] = {
    "new_task": {
        "type": _string,
        "key": _integer,
        "task": _string,
        "desc": _string,
        "completed": _boolean,
    },
    "strike": {"type": _string, "key": _string},
    "new_task_list_title": {"type": _string, "title": _string},
}
_AUTHOR_ONLY: Final = {
    "question": "You can't edit a question unless you are the author.",
    "new_task_list_title": "You can't edit the task list title unless you are the author.",
}


def widget_type(first_submessage_content: str) -> str | None:
    try:
        data = json.loads(first_submessage_content)
    except ValueError:
        return None
    kind = data.get("widget_type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def check_submessage(kind: str | None, content: str, *, by_author: bool) -> None:
    """Only the shape is checked, as on the real server: unknown option keys pass."""
    try:
        data = json.loads(content)
    except ValueError:
        raise ApiError("Invalid json for submessage") from None
    if kind not in ("poll", "todo"):
        return
    what = f"{kind} data"
    rules = _POLL if kind == "poll" else _TODO
    if not isinstance(data, dict):
        raise ApiError(f"{what} is not a dict")
    action = data.get("type")
    if action in _AUTHOR_ONLY and not by_author:
        raise ApiError(_AUTHOR_ONLY[action])
    if action not in rules:
        raise ApiError(f"Unknown type for {what}: {action}")
    _dict_only(what, data, rules[action])
