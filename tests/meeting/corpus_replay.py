"""Real notes files turned into the chat that would have written them, and the draft compared.

A meeting's chat is derived from its file only: everyone in the attendee table says who they
are (`iam`) and `here`; each agenda item, announcement and introduction is added by its owner
in its kind of section; details under items nobody ticked are added ahead with `note #N`; at
the meeting the organizer opens each ticked item with `item N`, and every sub-bullet is typed
as `action`, `decided` or `note` by whoever it names (else the organizer); then `end`. What
the chat cannot say is typed in the nearest form it can, so the comparison shows what is lost.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.meeting.conftest import BEFORE, DURING, Chat, make_chat
from zulip_bot.meeting.commands import CommandError, Note, parse
from zulip_bot.meeting.effects import Sender
from zulip_bot.notes import ActionItem, AgendaItem, NotesDocument
from zulip_bot.notes.extract import is_initials, owner_prefix
from zulip_bot.notes.model import PLACEHOLDER_TEXTS

ORGANIZER = "JRG"  # an organizer of the example config's community meeting
SECTIONS = {"item": "New Agenda Items", "announcement": "Announcements", "intro": "Introductions"}
_GITHUB = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")


def norm(text: str) -> str:
    return " ".join(text.split())


def kind_of(title: str) -> str | None:
    """Which `add` a real section's items are typed with; None for the attendees."""
    lowered = title.casefold()
    if "attendee" in lowered or "participant" in lowered:
        return None
    if "intro" in lowered:
        return "intro"
    if "announce" in lowered:
        return "announcement"
    return "item"


def typeable(owners: tuple[str, ...]) -> bool:
    """Owners the chat can name: whatever reads back as these owners in the prefix chat
    takes (`XX/YY: text`, or `(jakirkham) text` where a colon would not read)."""
    return bool(owners) and _prefix_for(owners) is not None


def _prefix_for(owners: tuple[str, ...]) -> str | None:
    for form in (f"{'/'.join(owners)}: ", f"({'/'.join(owners)}) "):
        found = owner_prefix(form + "x")
        if found is not None and found.owners == owners and found.written == form:
            return form
    return None


def typed(owners: tuple[str, ...], text: str) -> str:
    prefix = _prefix_for(owners) if owners else None
    return f"{prefix}{text}" if prefix else text


def typed_item(kind: str, owners: tuple[str, ...], text: str) -> str:
    """An item as its owner types it; one with no owner says so (intros never have one)."""
    if not owners and kind != "intro":
        return f"(no owner) {text}"
    return typed(owners, text)


def descendants(item: AgendaItem) -> list[AgendaItem]:
    """Sub-bullets at any depth, in file order; empty template bullets left out."""
    found = [d for child in item.children for d in (child, *descendants(child))]
    return [d for d in found if not is_placeholder(d)]


def is_placeholder(item: AgendaItem) -> bool:
    return item.text in PLACEHOLDER_TEXTS and not item.owners


def note_n_supported() -> bool:
    """Whether the command parser reads `note #N <text>` as a detail under item N."""
    try:
        return parse("note #2 x") == Note("x", 2)
    except CommandError:
        return False


@dataclass(frozen=True)
class Planned:
    """A real item: where it goes, and what the draft must show for it."""

    kind: str
    item: AgendaItem
    discussed: bool


@dataclass(frozen=True)
class Miss:
    file: str
    what: str  # "item text", "owners" or "sub-bullet"
    real: str
    ours: str
    cause: str


@dataclass
class Tally:
    hits: Counter[str] = field(default_factory=Counter)
    totals: Counter[str] = field(default_factory=Counter)
    misses: list[Miss] = field(default_factory=list)
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # file, command, reply

    files: Counter[tuple[str, str, bool]] = field(default_factory=Counter)

    def count(self, file: str, what: str, ok: bool, miss: Miss | None = None) -> None:
        self.totals[what] += 1
        self.files[file, what, ok] += 1
        if ok:
            self.hits[what] += 1
        elif miss is not None:
            self.misses.append(miss)

    def share(self, what: str) -> float:
        return self.hits[what] / self.totals[what] if self.totals[what] else 1.0


def plan(real: NotesDocument) -> list[Planned]:
    planned = []
    for section in real.sections():
        kind = kind_of(section.title)
        if kind is None:
            continue
        for item in real.items(section.title):
            if is_placeholder(item):
                continue
            discussed = bool(item.checked) or (item.checked is None and bool(item.children))
            planned.append(Planned(kind, item, discussed))
    return planned


class Replay:
    """One meeting's chat, played through the service in a fresh directory."""

    def __init__(self, directory: Path, real: NotesDocument, name: str) -> None:
        self.chat: Chat = make_chat(directory)
        self.real = real
        self.name = name
        self.refused: list[tuple[str, str, str]] = []
        self._ids = 5000

    # --- people ---------------------------------------------------------------------------

    def who(self, owners: tuple[str, ...]) -> str:
        """The sender for something these owners wrote: the first of them if they are here or
        in the roster, else the organizer (who may write in anyone's name)."""
        if typeable(owners) and owners[0] in self.chat.senders:
            return owners[0]
        return ORGANIZER

    def attend(self) -> None:
        for attendee in self.real.attendees():
            key = attendee.initials
            if key in self.chat.senders:  # a roster person with these initials
                self.say(key, "here", BEFORE, ok="Welcome")
                continue
            self._ids += 1
            key = key if is_initials(key) else f"P{self._ids}"
            email = f"person{self._ids}@corpus.example"
            self.chat.senders[key] = Sender(email, attendee.name or key, self._ids)
            if is_initials(attendee.initials):
                words = [w for w in attendee.affiliation.split() if not w.startswith("@")]
                login = attendee.github.lstrip("@")
                handle = [f"@{login}"] if _GITHUB.fullmatch(login) else []
                iam = " ".join(["iam", attendee.initials, *words, *handle])
                self.say(key, iam, BEFORE, ok="Noted:")
            self.say(key, "here", BEFORE, ok="Welcome")

    # --- chat -----------------------------------------------------------------------------

    def say(self, who: str, text: str, now: dt.datetime = DURING, ok: str = "") -> str:
        """Send `text`; a reply that does not start with `ok` is kept as a refusal."""
        reply = self.chat.text(who, text, now)
        if not reply.startswith(ok):
            self.refused.append((self.name, f"{who}> {text[:70]}", reply[:140]))
        return reply

    def add(self, planned: Planned) -> int | None:
        item = planned.item
        text = typed_item(planned.kind, item.owners, item.text)
        reply = self.say(self.who(item.owners), f"add {planned.kind} {text}", BEFORE, ok="Added")
        found = re.match(r"Added \w+ \*\*(\d+)\*\*", reply)
        return int(found[1]) if found else None

    def sub_bullet(
        self, child: AgendaItem, actions: dict[int, ActionItem], under: str = ""
    ) -> None:
        """One sub-bullet typed under the open item, or `under` one (`#3 `) out of turn."""
        action = actions.get(child.line)
        when = BEFORE if under else DURING
        if action is not None:
            if typeable(action.owners) and action.task:
                said = f"action {under}{'/'.join(action.owners)} {action.task}"
            else:
                said = f"action {under}{action.text}"
            self.say(ORGANIZER, said, when, ok="Action item")
        elif under and not child.owners and child.line in {d.line for d in self.real.decisions()}:
            self.say(ORGANIZER, f"decided {under}{child.text}", when, ok="Decision recorded")
        elif not child.owners and child.line in {d.line for d in self.real.decisions()}:
            self.say(ORGANIZER, f"decided {child.text}", ok="Decision recorded")
        else:
            note = f"note {typed(child.owners, child.text)}"
            self.say(self.who(child.owners), note, ok="Noted")

    def detail(
        self, number: int, item: AgendaItem, child: AgendaItem, actions: dict[int, ActionItem]
    ) -> None:
        """A sub-bullet under an item nobody ticked: written ahead by the item's owner (an
        action item or a decision by the organizer, out of turn)."""
        if child.line in actions or child.line in {d.line for d in self.real.decisions()}:
            self.sub_bullet(child, actions, under=f"#{number} ")
            return
        sender = self.who(item.owners)
        if child.owners and child.owners[0] != sender:
            sender = ORGANIZER
        note = f"note #{number} {typed(child.owners, child.text)}"
        self.say(sender, note, BEFORE, ok="Added under")

    def walk(self, number: int, follows: bool) -> None:
        """`next` when the item is the next one on the agenda, else `item N`."""
        opened = f"Now on item {number}:"
        if not follows or not self.chat.text(ORGANIZER, "next").startswith(opened):
            self.say(ORGANIZER, f"item {number}", ok=opened)

    def run(self) -> tuple[list[tuple[Planned, int | None]], NotesDocument]:
        self.attend()
        planned = plan(self.real)
        numbers = [(p, self.add(p)) for p in planned]
        actions = {a.line: a for a in self.real.action_items()}
        ahead = note_n_supported()
        for p, number in numbers:
            if number is not None and not p.discussed and ahead:
                for child in descendants(p.item):
                    self.detail(number, p.item, child, actions)
        self.say(ORGANIZER, "start", ok="")
        last = 0
        for p, number in numbers:
            if number is None or (not p.discussed and ahead):
                continue
            self.walk(number, follows=number == last + 1)
            last = number
            for child in descendants(p.item):
                self.sub_bullet(child, actions)
        self.say(ORGANIZER, "end")
        return numbers, self.chat.draft()


# --- comparison --------------------------------------------------------------------------


_LEAD = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]?\]\s+)?")


def as_written(doc: NotesDocument, child: AgendaItem) -> str:
    """A sub-bullet's line after its marker and checkbox, whitespace aside: owner style too."""
    return norm(_LEAD.sub("", doc.lines[child.line - 1], count=1))


def child_key(child: AgendaItem, actions: dict[int, ActionItem]) -> str:
    """A sub-bullet as its reader sees it: an action by its owners and task (the bot writes
    every action as `Action item: XX to <task>`, whatever form the note-taker used), else its
    owners and text (whitespace aside)."""
    action = actions.get(child.line)
    if action is not None:
        return f"action [{'/'.join(action.owners)}] {norm(action.task or action.text)}"
    return f"[{'/'.join(child.owners)}] {norm(child.text)}"


def ours_by_number(
    draft: NotesDocument, numbers: list[tuple[Planned, int | None]]
) -> Iterator[tuple[Planned, AgendaItem | None]]:
    """Each real item with the draft item it became: the n-th one added to a section is the
    n-th item there, as the service appends items in the order they are added."""
    for kind, title in SECTIONS.items():
        written = [i for i in draft.items(title) if not is_placeholder(i)]
        added = [p for p, number in numbers if p.kind == kind and number is not None]
        for position, p in enumerate(added):
            yield p, written[position] if position < len(written) else None
    for p, number in numbers:
        if number is None:
            yield p, None


def cause(
    what: str,
    real: AgendaItem,
    ours: AgendaItem | None,
    key: str = "",
    discussed: bool = True,
    guess: str = "",
) -> str:
    """Why the draft differs, as far as the real line shows it."""
    if ours is None:
        return "the add was refused"
    if what == "owners":
        if not real.owners:
            return "real item has no owner; chat gives it the sender's"
        if not typeable(real.owners):
            return f"owner form chat cannot type: {'/'.join(real.owners)}"
        return "owners differ"
    if what == "sub-bullet":
        if not real.text:
            return "sub-bullet has an owner and no text: `note` needs text"
        if real.owners and not typeable(real.owners):
            return f"sub-bullet owner form chat cannot type: {'/'.join(real.owners)}"
        if key.startswith("action") and not discussed:
            return (
                "action under an item nobody ticked (a carried to-do, often with its own "
                "checkbox): `action` needs the item open, `note #N` writes a plain note"
            )
        if key.startswith("action"):
            return "action the reader infers from the bullet above it; chat writes one level"
        if guess == f"action {key}":
            return (
                "the reader infers an action in the draft, where sub-bullets sit one level "
                "deep, that the nested original does not have"
            )
        return "sub-bullet text differs"
    if not real.text:
        return "real item has an owner and no text"
    return "item text differs"


def compare(
    name: str,
    real: NotesDocument,
    draft: NotesDocument,
    numbers: list[tuple[Planned, int | None]],
    tally: Tally,
) -> None:
    real_actions = {a.line: a for a in real.action_items()}
    our_actions = {a.line: a for a in draft.action_items()}
    for p, ours in ours_by_number(draft, numbers):
        item = p.item
        same_text = ours is not None and norm(ours.text) == norm(item.text)
        tally.count(
            name,
            "item text",
            same_text,
            Miss(name, "item text", item.text, ours.text if ours else "-", cause("", item, ours)),
        )
        if item.owners:
            same = ours is not None and ours.owners == item.owners
            tally.count(name, "owners, of items that have one", same)
        tally.count(
            name,
            "owners",
            ours is not None and ours.owners == item.owners,
            Miss(
                name,
                "owners",
                f"{'/'.join(item.owners)} | {item.text[:50]}",
                "/".join(ours.owners) if ours else "-",
                cause("owners", item, ours),
            ),
        )
        mine = Counter(child_key(c, our_actions) for c in (descendants(ours) if ours else []))
        lines = Counter(as_written(draft, c) for c in (descendants(ours) if ours else []))
        for child in descendants(item):
            key = child_key(child, real_actions)
            ok = mine[key] > 0
            if ok:
                mine[key] -= 1
            if child.line not in real_actions:
                written = as_written(real, child)
                tally.count(name, "note lines byte for byte", lines[written] > 0)
                lines[written] -= 1
            tally.count(
                name,
                "sub-bullet",
                ok,
                Miss(
                    name,
                    "sub-bullet",
                    key,
                    guess := closest(key, mine),
                    cause("sub-bullet", child, ours, key, p.discussed, guess),
                ),
            )


def closest(key: str, mine: Counter[str]) -> str:
    """What the draft wrote instead, as far as a guess can tell."""
    close = difflib.get_close_matches(key, [k for k, n in mine.items() if n > 0], n=1, cutoff=0.5)
    return close[0] if close else "-"
