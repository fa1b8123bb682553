"""What `meetbot notes show` prints: a notes file as a person reads it, or as JSON.

Action items and decisions come in two kinds: those written with a label or under an action
heading, and those read from prose, which a person should confirm. Both are shown, apart.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from zulip_bot.notes.document import NotesDocument
from zulip_bot.notes.model import ActionItem, AgendaItem, Decision


def _box(item: AgendaItem) -> str:
    return {True: "[x] ", False: "[ ] ", None: ""}[item.checked]


def _item_lines(item: AgendaItem, label: str, depth: int) -> list[str]:
    owners = f"{'/'.join(item.owners)}: " if item.owners else ""
    lines = [
        f"{'  ' * depth}{label} {_box(item)}{owners}{item.text or '(empty)'}  (line {item.line})"
    ]
    for child in item.children:
        lines.extend(_item_lines(child, "-", depth + 1))
    return lines


def as_text(doc: NotesDocument) -> str:
    out = [f"Title: {doc.title or '(none)'}", f"Date: {doc.date or '(none)'}"]
    attendees = doc.attendees()
    count = doc.head_count if doc.head_count is not None else "not filled in"
    out.append(f"Attendees: {len(attendees)} listed, head count {count}")
    out.extend(
        f"  - {a.name}"
        + (f" ({a.initials})" if a.initials else "")
        + (f", {a.affiliation}" if a.affiliation else "")
        + (f", @{a.github}" if a.github else "")
        for a in attendees
    )
    out.append("Sections:")
    for number, section in enumerate(doc.sections(), start=1):
        out.append(f"{number}. {'#' * section.level} {section.title}")
        for index, item in enumerate(section.items, start=1):
            out.extend("   " + line for line in _item_lines(item, f"{number}.{index}", 0))
    actions, decisions = doc.action_items(), doc.decisions()
    for label, kind in (("Action items", "explicit"), ("Action items read from prose", "inferred")):
        listed = [a for a in actions if a.confidence == kind]
        out.append(f"{label}: {len(listed)}")
        out.extend(
            f"  - {'/'.join(a.owners) or '(no owner)'}: {a.text}  (line {a.line})" for a in listed
        )
    for label, kind in (("Decisions", "explicit"), ("Decisions read from prose", "inferred")):
        found = [d for d in decisions if d.confidence == kind]
        out.append(f"{label}: {len(found)}")
        out.extend(f"  - {d.text}  (line {d.line})" for d in found)
    out.append(f"Warnings: {len(doc.warnings)}")
    out.extend(f"  - {w}" for w in doc.warnings)
    return "\n".join(out) + "\n"


def _item_json(item: AgendaItem | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {
        "text": item.text,
        "owners": list(item.owners),
        "checked": item.checked,
        "line": item.line,
        "children": [_item_json(child) for child in item.children],
    }


def _actions_json(actions: list[ActionItem], kind: str) -> list[dict[str, Any]]:
    return [
        {
            "text": a.text,
            "owners": list(a.owners),
            "line": a.line,
            "item": a.item.line if a.item else None,
        }
        for a in actions
        if a.confidence == kind
    ]


def _decisions_json(decisions: list[Decision], kind: str) -> list[dict[str, Any]]:
    return [
        {"text": d.text, "line": d.line, "item": d.item.line if d.item else None}
        for d in decisions
        if d.confidence == kind
    ]


def as_json(doc: NotesDocument) -> str:
    data = {
        "title": doc.title,
        "date": doc.date.isoformat() if doc.date else None,
        "front_matter": doc.front_matter,
        "attendees": [dataclasses.asdict(a) for a in doc.attendees()],
        "head_count": doc.head_count,
        "sections": [
            {
                "title": s.title,
                "level": s.level,
                "line": s.line,
                "items": [_item_json(i) for i in s.items],
            }
            for s in doc.sections()
        ],
        "action_items": _actions_json(doc.action_items(), "explicit"),
        "inferred_action_items": _actions_json(doc.action_items(), "inferred"),
        "decisions": _decisions_json(doc.decisions(), "explicit"),
        "inferred_decisions": _decisions_json(doc.decisions(), "inferred"),
        "warnings": [{"line": w.line, "message": w.message} for w in doc.warnings],
    }
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
