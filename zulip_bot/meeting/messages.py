"""The Zulip-markdown texts the bot posts: agenda, replies' parts, the summary after a meeting.

Pure functions of plain data. Zulip shows `<time:...>` in each reader's own zone and turns
`@**Name|id**` into a mention; a message over 10,000 characters is cut by the server, so long
texts are split here on line boundaries instead. What people typed (items, owners, notes,
decisions, polls, action items, attendees) is repeated `silenced`: only the bot's own mentions
(an action's owner) notify.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zulip_bot.meeting.mentions import silenced

MAX_MESSAGE = 10_000


@dataclass(frozen=True)
class AgendaLine:
    number: int
    owners: tuple[str, ...]
    text: str
    votes: int
    checked: bool | None
    #: The minutes it is planned for; None for one that does not count (an introduction).
    minutes: int | None = None
    #: Whether the minutes are the item's own, not the meeting's default.
    timed: bool = True


@dataclass(frozen=True)
class ItemTime:
    """A discussed item's planned and actual minutes, for the summary."""

    text: str
    planned: int
    spent: int


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
    mention: str  # "@**Name|12**" when known, else the owner as written, silenced
    text: str
    day: str
    #: Read from prose (in the notes, or an imported archive) rather than labelled: a person
    #: should confirm it is a task, so every list of actions says so.
    to_confirm: bool = False


@dataclass(frozen=True)
class Summary:
    title: str
    start: dt.datetime
    attendees: tuple[str, ...]
    head_count: int
    discussed: tuple[DiscussedItem, ...]
    actions: tuple[OpenAction, ...]
    carried: tuple[str, ...]
    notes_path: str  # markdown: a link to the notes, or the file's path as code
    next_draft: str | None  # where it is (as markdown), or why it could not be written
    times: tuple[ItemTime, ...] = ()


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def quoted_item(owners: Sequence[str], text: str) -> str:
    """An item as a reply repeats it, `BZ/WV: text`: its words are someone else's, so any
    mention in them is silenced."""
    return silenced(f"{'/'.join(owners)}: {text}" if owners else text)


def noun(count: int, singular: str, plural: str | None = None) -> str:
    """The word for `count` things: `vote`, `votes`; `person`, `people`."""
    return singular if count == 1 else plural or singular + "s"


def counted(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {noun(count, singular, plural)}"


def time_tag(when: dt.datetime) -> str:
    return f"<time:{when.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}>"


def agenda(title: str, lines: Sequence[AgendaLine], length: int | None = None) -> list[str]:
    """The agenda as a table; a long one continues in further messages, each with the
    table's header so that it still renders as a table. With the meeting's `length` in
    minutes, the planned time is added up against it."""
    if not lines:
        return [f"**{title}**: the agenda is empty. Add to it with `add item <text>`."]
    fit = f"{planned_total(lines, length)}\n" if length is not None else ""
    footer = f"\n\n{fit}Vote with `vote <n>` or a 👍 on the item's message."
    return _tables(f"**{title}**", f"**{title}** (continued)", lines, footer)


def started(title: str, order: str, lines: Sequence[AgendaLine]) -> list[str]:
    """What the topic reads when a meeting starts: the agenda in the order it will be taken,
    so that nobody has to ask, whatever the agenda message above still shows."""
    head = f"{title} has started.{order} `next` opens the first item."
    if not lines:
        return [f"{head} The agenda is empty."]
    return _tables(f"{head} In the order we take it:", f"**{title}** (continued)", lines, "")


def _tables(first: str, later: str, lines: Sequence[AgendaLine], footer: str) -> list[str]:
    """Agenda rows as tables under `first` (then `later`), each message under the limit."""
    header = ["| # | item | owner | votes | min |", "| ---: | --- | --- | ---: | ---: |"]
    rows = []
    for line in lines:
        done = " ✔" if line.checked else ""
        text = _UNESCAPED_PIPE.sub(r"\\|", silenced(line.text))  # notes escape pipes already
        owners = silenced("/".join(line.owners))
        rows.append(
            f"| {line.number} | {text}{done} | {owners} | {line.votes} | {_minutes_cell(line)} |"
        )
    budget = MAX_MESSAGE - len("\n".join(header)) - len(footer) - max(len(first), len(later)) - 4
    chunks = split(rows, budget)
    return [
        "\n".join([first if n == 0 else later, "", *header, chunk])
        + (footer if n == len(chunks) - 1 else "")
        for n, chunk in enumerate(chunks)
    ]


def _minutes_cell(line: AgendaLine) -> str:
    if line.minutes is None:
        return ""
    return str(line.minutes) if line.timed else f"({line.minutes})"


def planned_total(lines: Sequence[AgendaLine], length: int) -> str:
    """The agenda's planned minutes against the meeting's, said plainly when they do not fit."""
    total = sum(line.minutes or 0 for line in lines)
    defaults = " (in brackets: no time given, so the meeting's default)" if any(
        line.minutes is not None and not line.timed for line in lines
    ) else ""  # fmt: skip
    if total <= length:
        return f"Planned: {total} of the meeting's {length} min{defaults}."
    return (
        f"⚠️ Planned: {total} min for a {length}-minute meeting{defaults}: the agenda will not "
        f"fit, by {total - length} min. Shorten items (`edit <n> (5 min)`) or leave some for "
        "the next meeting."
    )


def agenda_thread(
    title: str,
    start: dt.datetime,
    video: str,
    lines: Sequence[AgendaLine],
    bot: str,
    length: int | None = None,
) -> str:
    """The message that opens a meeting's topic and is kept current: when, where, the agenda,
    and how to add to it. One message, so that it can be edited in place; a very long agenda
    points to `agenda` for the rest."""
    where = f" · [video call]({video})" if video else ""
    head = f"{time_tag(start)}{where}"
    how = (
        f"Add an item: `@**{bot}** add item <text>` in this topic; `@**{bot}** help` lists "
        "the rest."
    )
    parts = agenda(title, lines, length) if lines else [f"**{title}**: the agenda is empty so far."]
    more = "\n\n…and more: `agenda` lists them all." if len(parts) > 1 else ""
    return f"{head}\n\n{parts[0]}{more}\n\n{how}"


def reminder(title: str, start: dt.datetime, video: str, organizers: Sequence[str]) -> str:
    where = f" Join: {video}" if video else ""
    who = f" {', '.join(organizers)}:" if organizers else ""
    return f"⏰{who} {title} starts {time_tag(start)}.{where}"


def owner_reminder(title: str, start: dt.datetime, actions: Sequence[OpenAction]) -> str:
    lines = [
        f"Before {title} {time_tag(start)}: your open action "
        f"{noun(len(actions), 'item')}. Reply `done A<n>` when one is done.",
        "",
        *(f"- {_action_line(a, mark=True)}" for a in actions),
    ]
    return "\n".join(lines)


def _action_line(action: OpenAction, *, mark: bool) -> str:
    """`mark`: say "to confirm" on the line itself, where no heading says it already."""
    confirm = ", to confirm" if mark and action.to_confirm else ""
    return f"A{action.id}: {silenced(action.text)} (from {action.day}{confirm})"


def _owner_blocks(actions: Iterable[OpenAction], *, notify: bool, mark: bool = True) -> list[str]:
    """Actions under their owners, who are notified only where `notify` says: in the summary,
    not each time someone lists the actions."""
    by_owner: dict[str, list[OpenAction]] = {}
    for action in actions:
        by_owner.setdefault(action.mention, []).append(action)
    out = []
    for mention, owned in by_owner.items():
        out.append(f"- {mention if notify else silenced(mention)}")
        out.extend(f"  - {_action_line(a, mark=mark)}" for a in owned)
    return out


def action_list(title: str, actions: Sequence[OpenAction]) -> list[str]:
    if not actions:
        return [f"{title}: none open. 🎉"]
    head = f"**{title}** ({len(actions)} open; close one with `done A<n>`)"
    return split([head, "", *_owner_blocks(actions, notify=False)])


def summary(data: Summary) -> list[str]:
    """The summary, split into messages that each stay under Zulip's limit."""
    lines = [
        f"## Summary: {silenced(data.title)}",
        f"Held {time_tag(data.start)}, notes in {data.notes_path}.",
        "",
        f"**Attendees** ({data.head_count}): "
        + (silenced(", ".join(data.attendees)) or "none recorded"),
        "",
        "**Discussed**",
    ]
    if not data.discussed:
        lines.append("- nothing was marked as discussed")
    for item in data.discussed:
        owner = f"{'/'.join(item.owners)}: " if item.owners else ""
        lines.append(f"- {silenced(owner + item.text)}")
        lines.extend(f"  - {silenced(said)}" for said in (*item.decisions, *item.polls))
    confirmed = [a for a in data.actions if not a.to_confirm]
    inferred = [a for a in data.actions if a.to_confirm]
    lines += ["", "**Open action items**"]
    lines += _owner_blocks(confirmed, notify=True) or [
        "- only those below" if inferred else "- none 🎉"
    ]
    if inferred:
        lines += ["", "**Read from the notes, to confirm** (`done A<n>` drops one that is no task)"]
        lines += _owner_blocks(inferred, notify=True, mark=False)
    if data.carried:  # with no next meeting (an ad hoc one, a series' last) nothing carries
        heading = "**Carried over** to the next meeting" if data.next_draft else "**Not reached**"
        lines += ["", f"{heading} ({len(data.carried)}):"]
        lines += [f"- {silenced(text)}" for text in data.carried]
    lines += _time_block(data.times)
    if data.next_draft:
        lines += ["", f"Next draft: {data.next_draft}."]
    return split(lines)


def _time_block(times: Sequence[ItemTime]) -> list[str]:
    """Planned against actual minutes of the discussed items, and the overrun."""
    if not times:
        return []
    lines = ["", "**Time** (actual of planned minutes)"]
    lines += [f"- {t.text}: {t.spent} of {t.planned}{_over(t.spent - t.planned)}" for t in times]
    spent, planned = sum(t.spent for t in times), sum(t.planned for t in times)
    lines.append(f"- in all: {spent} of {planned}{_over(spent - planned)}")
    return lines


def _over(minutes: int) -> str:
    if minutes > 0:
        return f", {minutes} over"
    return f", {-minutes} under" if minutes < 0 else ", on time"


def took(number: int, spent: int, planned: int) -> str:
    """What `next` says of the item it closes."""
    return f"Item {number} took {spent} min (planned {planned}{_over(spent - planned)})."


def time_warning(
    number: int,
    text: str,
    planned: int,
    percent: int,
    left: int | None,
    items: int,
    items_minutes: int,
) -> str:
    """One line in the topic when the open item reaches a share of its planned time: how much
    of the meeting (None: it has no set length, as an ad hoc one) and of the agenda is left."""
    item = f"⏱️ Item {number} ({text})"
    if percent < 100:
        head = f"{item} has {planned - planned * percent // 100} of its {planned} min left"
    else:
        more = f" and {percent - 100}% more" if percent > 100 else ""
        head = f"{item} has had its {planned} min{more}"
    to_go = (
        f"{counted(items, 'item')} to go ({items_minutes} min planned)"
        if items
        else "no items to go"
    )
    if left is None:
        return f"{head}: {to_go}."
    meeting = f"{left} min of the meeting left" if left >= 0 else f"the meeting is {-left} min over"
    return f"{head}: {meeting}, {to_go}."


def split(lines: Sequence[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Join lines into messages of at most `limit` characters. A message breaks between
    lines; only a line longer than `limit` on its own is broken, and nothing is left out."""
    messages: list[str] = []
    current: list[str] = []
    size = -1  # the length of "\n".join(current)
    for line in lines:
        for piece in [line[i : i + limit] for i in range(0, len(line), limit)] or [""]:
            if current and size + 1 + len(piece) > limit:
                messages.append("\n".join(current))
                current, size = [], -1
            current.append(piece)
            size += 1 + len(piece)
    if current:
        messages.append("\n".join(current))
    return messages
