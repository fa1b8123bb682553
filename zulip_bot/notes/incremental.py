"""Bring a parse up to date after a splice without parsing the whole file again.

A chat command changes a few lines: an item gains a sub-bullet or a tick, a section gains an
item, the attendee table gains a row. Re-parsing a 300-item draft for that costs more than
everything else the command does, so the bot's own splices are applied to the old parse: the
top-level items next to the splice are parsed on their own, the attendee table is read again,
and everything below moves by the number of lines added.

`update` returns None whenever it cannot be sure that the result equals a full parse (a
heading or the front matter touched, lines that could merge with their neighbours, a roster
written as a list); the caller then parses the whole file. Tests compare the two on every
corpus file.
"""

from __future__ import annotations

import dataclasses

from zulip_bot.notes.model import (
    AgendaItem,
    ItemLayout,
    Parsed,
    SectionSpan,
    TableLayout,
    TextBlock,
)
from zulip_bot.notes.parse import (
    attendee_table,
    conventions,
    head_count,
    parse_region,
)


def update(old: Parsed, lines: list[str], start: int, end: int, count: int) -> Parsed | None:
    """The parse of `lines`: the lines `old` was made from, with [start, end) replaced by
    `count` new lines (0-based indexes)."""
    touched = range(start, max(end, start + 1))
    if start < old.body_start:
        return None
    first_heading = old.sections[0].start if old.sections else len(lines)
    if old.attendee_list is not None and old.attendee_section is None and start <= first_heading:
        return None  # a roster list above the first heading is read from those items
    if old.title_line in touched or any(span.start in touched for span in old.sections):
        return None  # a heading changed: the sections themselves may differ
    table = old.attendee_table
    if table is not None and table.start + 2 <= start and end <= table.end:
        return _table_rows(old, lines, start, end, count, table)
    line = old.head_count_line
    if line is not None and (start, end, count) == (line, line + 1, 1):
        return _head_count_line(old, lines, line)
    section = old.attendee_section
    if section is not None and section.start <= start < section.end:
        return None  # attendees written as names or list items: read from the whole section
    return _items(old, lines, start, end, count)


@dataclasses.dataclass
class _Shift:
    """Moves line indexes at or after `at` by `delta`; each moved item is rebuilt once, so
    that a parent and `items_at` hold the same new child."""

    at: int
    delta: int
    moved: dict[int, AgendaItem] = dataclasses.field(default_factory=dict)

    def __call__(self, index: int) -> int:
        return index + self.delta if index >= self.at else index

    def item(self, item: AgendaItem) -> AgendaItem:
        if item.line - 1 < self.at or not self.delta:
            return item
        if id(item) not in self.moved:
            children = tuple(self.item(child) for child in item.children)
            self.moved[id(item)] = AgendaItem(
                item.text, item.owners, item.checked, children, item.line + self.delta
            )
        return self.moved[id(item)]


def _moved_text(block: TextBlock, shift: _Shift) -> TextBlock:
    if block.line - 1 < shift.at or not shift.delta:
        return block
    top = block.top_item and shift.item(block.top_item)
    return TextBlock(block.text, block.line + shift.delta, top)


def _moved_layout(layout: ItemLayout, shift: _Shift) -> ItemLayout:
    """`dataclasses.replace` would do, at several times the cost; a long draft moves
    hundreds of layouts per edit."""
    return ItemLayout(
        shift(layout.start), shift(layout.end), shift(layout.para_end), layout.indent,
        layout.head, layout.marker, layout.gap, layout.box, layout.owner_prefix,
        layout.owner_style, layout.depth, layout.editable, layout.loose_before,
    )  # fmt: skip


def _shifted(old: Parsed, shift: _Shift, drop: range) -> Parsed:
    """`old` with its line indexes moved, leaving out what starts in `drop`."""
    new = dataclasses.replace(
        old,
        title_line=None if old.title_line is None else shift(old.title_line),
        preamble_items=[shift.item(i) for i in old.preamble_items if i.line - 1 not in drop],
        attendees=list(old.attendees),
        attendee_names_end=None
        if old.attendee_names_end is None
        else shift(old.attendee_names_end),
        head_count_line=None if old.head_count_line is None else shift(old.head_count_line),
        warnings=[
            dataclasses.replace(w, line=shift(w.line - 1) + 1)
            for w in old.warnings
            if w.line - 1 not in drop
        ],
        layouts={},
        items_at={},
        sections=[],
        texts=[_moved_text(b, shift) for b in old.texts if b.line - 1 not in drop],
    )
    for line, layout in old.layouts.items():
        if line in drop:
            continue
        moved = shift(line)
        new.items_at[moved] = shift.item(old.items_at[line])
        new.layouts[moved] = layout if moved == line else _moved_layout(layout, shift)
    for span in old.sections:
        items = [shift.item(i) for i in span.items if i.line - 1 not in drop]
        moved_span = SectionSpan(span.title, span.level, shift(span.start), shift(span.end), items)
        new.sections.append(moved_span)
        if span is old.attendee_section:
            new.attendee_section = moved_span
    if old.attendee_list is not None:
        roster = old.attendee_list
        new.attendee_list = dataclasses.replace(
            roster,
            items=tuple(shift.item(i) for i in roster.items),
            placeholders=tuple(shift(line) for line in roster.placeholders),
        )
    if old.attendee_table is not None:
        table = old.attendee_table
        new.attendee_table = dataclasses.replace(
            table,
            start=shift(table.start),
            end=shift(table.end),
            filler_rows=tuple(shift(row) for row in table.filler_rows),
        )
    return new


# --- items -----------------------------------------------------------------------------------


def _items(old: Parsed, lines: list[str], start: int, end: int, count: int) -> Parsed | None:
    """The top-level items the splice touches (or adjoins) are parsed again, on their own."""
    delta = count - (end - start)
    tops = [
        item
        for items in (*(span.items for span in old.sections), old.preamble_items)
        for item in items
        if item.line - 1 <= end and old.layouts[item.line - 1].end >= start
    ]
    region_start = min([start, *(item.line - 1 for item in tops)])
    old_end = max([end, *(old.layouts[item.line - 1].end for item in tops)])
    if not _cut_off(old, lines, region_start, old_end, delta, tops):
        return None
    found = parse_region(lines, region_start, old_end + delta)
    if found is None:
        return None
    new_tops, fragment = found
    new = _shifted(old, _Shift(old_end, delta), range(region_start, old_end))
    new.layouts.update(fragment.layouts)
    new.items_at.update(fragment.items_at)
    new.warnings = sorted(new.warnings + fragment.warnings, key=lambda w: w.line)
    cut = next((n for n, b in enumerate(new.texts) if b.line - 1 >= region_start), len(new.texts))
    region_texts = [_under(block, new_tops, new) for block in fragment.texts]
    new.texts[cut:cut] = sorted(region_texts, key=lambda block: block.line)
    owner = next(
        (span.items for span in new.sections if span.start <= region_start < span.end),
        new.preamble_items,
    )
    owner.extend(new_tops)
    owner.sort(key=lambda item: item.line)
    conventions(new)
    return new


def _under(block: TextBlock, tops: list[AgendaItem], parsed: Parsed) -> TextBlock:
    """The block with the top-level item it sits under, as `attach_top_items` would give it."""
    for top in tops:
        if top.line < block.line <= parsed.layouts[top.line - 1].end:
            return TextBlock(block.text, block.line, top)
    return block


def _cut_off(
    old: Parsed, lines: list[str], start: int, old_end: int, delta: int, tops: list[AgendaItem]
) -> bool:
    """Whether the new lines [start, old_end + delta) parse alone as they do in the file.

    Before them: the start of the file's body, a blank line, a heading, or the first line of
    an item that was already a list item of its own. After them: nothing, a heading or a
    top-level item's first line; or a blank line and then something no list item could
    take in (text that is not indented, a heading, a top-level item)."""
    top_starts = {line for line, layout in old.layouts.items() if layout.depth == 0}
    headings = {span.start for span in old.sections} | {old.title_line}
    before = (
        start == old.body_start
        or not lines[start - 1].strip()
        or start - 1 in headings
        or start in {item.line - 1 for item in tops}
    )
    after = old_end + delta
    if after < len(lines) and lines[after].strip():
        return before and (old_end in top_starts or old_end in headings)
    while after < len(lines) and not lines[after].strip():
        after += 1
    if after == len(lines):
        return before
    old_index = after - delta
    return before and (
        not lines[after][:1].isspace() or old_index in top_starts or old_index in headings
    )


# --- attendees -------------------------------------------------------------------------------


def _table_rows(
    old: Parsed, lines: list[str], start: int, end: int, count: int, table: TableLayout
) -> Parsed:
    """Rows of the attendee table replaced or added: the table is read again."""
    delta = count - (end - start)
    new = _shifted(old, _Shift(table.end, delta), range(0))
    rows = range(table.start + 1, table.end + delta + 1)  # 1-based lines of the table
    new.warnings = [w for w in new.warnings if w.line not in rows]
    new.attendees = []
    attendee_table(table.start, table.end + delta, lines, new)
    new.warnings.sort(key=lambda w: w.line)
    return new


def _head_count_line(old: Parsed, lines: list[str], line: int) -> Parsed | None:
    """`15 people in total` rewritten: a paragraph of its own, so only its text changes."""
    alone = line + 1 >= len(lines) or not lines[line + 1].strip()
    if not alone or not any(block.line == line + 1 for block in old.texts):
        return None
    text = lines[line].strip()
    new = dataclasses.replace(
        old,
        texts=[dataclasses.replace(b, text=text) if b.line == line + 1 else b for b in old.texts],
    )
    head_count(old.attendee_section, lines, new)
    return new
