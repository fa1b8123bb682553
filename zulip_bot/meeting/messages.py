"""The Zulip-markdown texts the bot posts: agenda, replies' parts, the summary after a meeting.

Pure functions of plain data. Zulip shows `<time:...>` in each reader's own zone and turns
`@**Name|id**` into a mention; a message over 10,000 characters is cut by the server, so long
texts are split here on line boundaries instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_MESSAGE = 10_000


@dataclass(frozen=True)
class AgendaLine:
    number: int
    owners: tuple[str, ...]
    text: str
    votes: int
    checked: bool | None


@dataclass(frozen=True)
class DiscussedItem:
    text: str
    owners: tuple[str, ...]
    decisions: tuple[str, ...]
    polls: tuple[str, ...]


@dataclass(frozen=True)
class OpenAction:
    id: int
    owner: str  # initials or name, as written
    mention: str  # "@**Name|12**" when known, else the owner as written
    text: str
    day: str


@dataclass(frozen=True)
class Summary:
    title: str
    start: dt.datetime
    attendees: tuple[str, ...]
    head_count: int
    discussed: tuple[DiscussedItem, ...]
    actions: tuple[OpenAction, ...]
    carried: tuple[str, ...]
    notes_path: str
    next_draft: str | None


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def time_tag(when: dt.datetime) -> str:
    return f"<time:{when.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}>"


def agenda(title: str, lines: Sequence[AgendaLine]) -> str:
    if not lines:
        return f"**{title}**: the agenda is empty. Add to it with `add item <text>`."
    out = [f"**{title}**", "", "| # | item | owner | votes |", "| ---: | --- | --- | ---: |"]
    for line in lines:
        done = " ✔" if line.checked else ""
        text = _UNESCAPED_PIPE.sub(r"\\|", line.text)  # notes text escapes pipes already
        out.append(f"| {line.number} | {text}{done} | {'/'.join(line.owners)} | {line.votes} |")
    out.append("")
    out.append("Vote with `vote <n>` or a 👍 on the item's message.")
    return "\n".join(out)


def _owner_blocks(actions: Iterable[OpenAction]) -> list[str]:
    by_owner: dict[str, list[OpenAction]] = {}
    for action in actions:
        by_owner.setdefault(action.mention, []).append(action)
    out = []
    for mention, owned in by_owner.items():
        out.append(f"- {mention}")
        out.extend(f"  - A{a.id}: {a.text} (from {a.day})" for a in owned)
    return out


def action_list(title: str, actions: Sequence[OpenAction]) -> str:
    if not actions:
        return f"{title}: none open. 🎉"
    return "\n".join([f"**{title}** ({len(actions)} open; close one with `done A<n>`)", "",
                      *_owner_blocks(actions)])  # fmt: skip


def summary(data: Summary) -> list[str]:
    """The summary, split into messages that each stay under Zulip's limit."""
    lines = [
        f"## Summary: {data.title}",
        f"Held {time_tag(data.start)}, notes in `{data.notes_path}`.",
        "",
        f"**Attendees** ({data.head_count}): " + (", ".join(data.attendees) or "none recorded"),
        "",
        "**Discussed**",
    ]
    if not data.discussed:
        lines.append("- nothing was marked as discussed")
    for item in data.discussed:
        owner = f"{'/'.join(item.owners)}: " if item.owners else ""
        lines.append(f"- {owner}{item.text}")
        lines.extend(f"  - {decision}" for decision in item.decisions)
        lines.extend(f"  - {poll}" for poll in item.polls)
    lines += ["", "**Open action items**"]
    lines += _owner_blocks(data.actions) if data.actions else ["- none 🎉"]
    if data.carried:
        lines += ["", f"**Carried over** to the next meeting ({len(data.carried)}):"]
        lines += [f"- {text}" for text in data.carried]
    if data.next_draft:
        lines += ["", f"Next draft: `{data.next_draft}`."]
    return split(lines)


def split(lines: Sequence[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Join lines into messages of at most `limit` characters; a line is never cut in two
    unless it alone is longer than the limit."""
    messages: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            if current:
                messages.append(current)
                current = ""
            messages.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            messages.append(current)
            candidate = line
        current = candidate
    if current:
        messages.append(current)
    return messages
