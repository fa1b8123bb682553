"""What `meetbot notes show` prints: a notes file as a person reads it, or as JSON."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from zulip_bot.notes.document import NotesDocument
from zulip_bot.notes.model import AgendaItem


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
    actions = doc.action_items()
    out.append(f"Action items: {len(actions)}")
    out.extend(
        f"  - {'/'.join(a.owners) or '(no owner)'}: {a.text}  (line {a.line})" for a in actions
    )
    decisions = doc.decisions()
    out.append(f"Decisions: {len(decisions)}")
    out.extend(f"  - {d.text}  (line {d.line})" for d in decisions)
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
        "action_items": [
            {
                "text": a.text,
                "owners": list(a.owners),
                "line": a.line,
                "item": a.item.line if a.item else None,
            }
            for a in doc.action_items()
        ],
        "decisions": [
            {"text": d.text, "line": d.line, "item": d.item.line if d.item else None}
            for d in doc.decisions()
        ],
        "warnings": [{"line": w.line, "message": w.message} for w in doc.warnings],
    }
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
