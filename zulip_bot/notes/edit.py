"""Surgical edits: each returns a `Splice` of the few lines it changes, in the file's own style.

An edit never re-renders the document. It reads the layout the parser recorded (indentation,
bullet, checkbox case, table widths) and writes new lines that look as if the same person had
typed them, so that every other byte of a hand-edited file stays as it was.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zulip_bot.notes import escape
from zulip_bot.notes.extract import format_owner_prefix, owner_prefix
from zulip_bot.notes.model import (
    PLACEHOLDER_TEXTS,
    AgendaItem,
    Attendee,
    ItemLayout,
    NotesError,
    OwnerStyle,
    Parsed,
    SectionSpan,
    TableLayout,
)
from zulip_bot.notes.parse import normalize_title, split_cells

_OWNER = re.compile(r"@?[^\W\d_][\w.' ?-]{0,40}")  # no `/`, `:`, brackets or line breaks
_NUMBER = re.compile(r"\d+|X+|N")


@dataclass(frozen=True)
class Splice:
    """Replace lines[start:end] with `lines` (each with its line ending)."""

    start: int
    end: int
    lines: tuple[str, ...]


# --- untrusted text -------------------------------------------------------------------------


def inline_text(text: str, head: str = "- ") -> str:
    """Chat text as the bot writes it after `head`, its own start of the line (list marker,
    checkbox, owner prefix), on one line: as typed, escaped only where it would create a block,
    a checkbox, an owner or raw HTML there (see `escape`). The result, written after `head`,
    parses back to exactly this string as the item's text. The default head is the strictest,
    a bare list marker, where the text is the first thing in the item."""
    return escape.fit(text, escape.item_slot(head))


def heading_text(text: str, level: int = 2) -> str:
    """A section title: a trailing `#` is escaped so that it does not close the heading."""
    return escape.fit(text, escape.Slot(before="#" * level + " "))


def _owners(owners: Sequence[str]) -> tuple[str, ...]:
    for owner in owners:
        if not _OWNER.fullmatch(owner):
            raise NotesError(
                f"`{owner}` cannot be an owner: use initials like `JRG`, a name or a GitHub handle"
            )
    return tuple(owners)


def _prefix(owners: Sequence[str], style: OwnerStyle) -> str:
    """The owner prefix in `style`, or in the parenthesised form where that style would not
    read back as these owners (`Mike S.:` does, `jakirkham:` does not): whatever is written
    must read back as what was meant."""
    wanted = _owners(owners)
    for form in (style, "paren"):
        prefix = format_owner_prefix(wanted, form)
        found = owner_prefix(prefix + "x")
        if found is not None and found.owners == wanted and found.written == prefix:
            return prefix
    raise NotesError(f"`{'/'.join(wanted)}` would not read back as owners in the notes")


def _text(text: str, head: str) -> str:
    safe = inline_text(text, head)
    if not safe:
        raise NotesError("the text is empty")
    return safe


# --- helpers --------------------------------------------------------------------------------


def newline(lines: Sequence[str]) -> str:
    first = lines[0] if lines else "\n"
    return "\r\n" if first.endswith("\r\n") else "\n"


def section_named(parsed: Parsed, title: str) -> SectionSpan | None:
    """The first section with this title, compared as people mean titles (`normalize_title`)."""
    wanted = normalize_title(title)
    return next((span for span in parsed.sections if normalize_title(span.title) == wanted), None)


def find_section(parsed: Parsed, section: str | SectionSpan) -> SectionSpan:
    if isinstance(section, SectionSpan):
        return section
    span = section_named(parsed, section)
    if span is not None:
        return span
    known = ", ".join(f"`{s.title}`" for s in parsed.sections) or "none"
    raise NotesError(f"there is no section `{section}` (sections: {known})")


def layout_of(parsed: Parsed, item: AgendaItem) -> ItemLayout:
    """The layout of `item`, checking that the file still has that item at that line."""
    current = parsed.items_at.get(item.line - 1)
    if current is None or current.text != item.text or current.owners != item.owners:
        raise NotesError(
            f"line {item.line} no longer holds the item `{item.text[:60]}`: reload the notes"
        )
    layout = parsed.layouts[item.line - 1]
    if not layout.editable:
        raise NotesError(f"line {item.line}: this item's layout is too unusual to edit safely")
    return layout


def _last_content(lines: Sequence[str], start: int, end: int) -> int:
    """Index after the last non-blank line in [start, end)."""
    while end > start and not lines[end - 1].strip():
        end -= 1
    return end


def _box(checked: bool | None, case: str) -> str:
    if checked is None:
        return ""
    return f"[{case}] " if checked else "[ ] "


def _local_case(parsed: Parsed, items: Iterable[AgendaItem]) -> str:
    cases = Counter(
        box[1] for item in items if (box := parsed.layouts[item.line - 1].box) in ("[x]", "[X]")
    )
    return cases.most_common(1)[0][0] if cases else parsed.checked_case


def _next_marker(siblings: Sequence[ItemLayout]) -> str:
    last = siblings[-1].marker
    if last[-1] not in ".)":
        return last
    first = siblings[0].marker
    step = 0 if len(siblings) > 1 and first == last else 1
    return f"{int(last[:-1]) + step}{last[-1]}"


def _owner_style(parsed: Parsed, items: Iterable[AgendaItem]) -> OwnerStyle:
    styles = Counter(
        style for item in items if (style := parsed.layouts[item.line - 1].owner_style)
    )
    return styles.most_common(1)[0][0] if styles else "colon"


def _append_block(lines: Sequence[str], start: int, end: int, block: list[str], nl: str) -> Splice:
    """Put `block` after the last content line of [start, end), blank lines around it."""
    at = _last_content(lines, start, end)
    new = [nl, *block]
    if at < len(lines) and lines[at].strip():
        new.append(nl)
    return Splice(at, at, tuple(new))


# --- items ----------------------------------------------------------------------------------


def add_item(
    lines: Sequence[str],
    parsed: Parsed,
    section: str | SectionSpan,
    text: str,
    owners: Sequence[str] = (),
    checked: bool | None = False,
    style: OwnerStyle | None = None,
) -> tuple[Splice, int]:
    """A new last item in `section`; an empty template placeholder (`- [ ]`) is replaced.
    Owners are written in `style`, else in the style of the section's items."""
    span = find_section(parsed, section)
    nl = newline(lines)
    tops = span.items
    prefix = _prefix(owners, style or _owner_style(parsed, tops)) if owners else ""
    case = _local_case(parsed, tops)
    placeholder = next(
        (i for i in tops if i.text in PLACEHOLDER_TEXTS and not i.owners and not i.children),
        None,
    )
    if placeholder is not None:
        lay = layout_of(parsed, placeholder)
        head = f"{lay.marker}{lay.gap}{_box(checked, case)}{prefix}"
        line = f"{lay.indent}{head}{_text(text, head)}{nl}"
        return Splice(lay.start, lay.end, (line,)), lay.start
    if tops:
        layouts = [parsed.layouts[i.line - 1] for i in tops]
        last = layouts[-1]
        head = f"{_next_marker(layouts)}{last.gap}{_box(checked, case)}{prefix}"
        line = f"{last.indent}{head}{_text(text, head)}{nl}"
        block = (nl, line) if last.loose_before and len(layouts) > 1 else (line,)
        return Splice(last.end, last.end, block), last.end + len(block) - 1
    head = f"- {_box(checked, case)}{prefix}"
    line = f"{head}{_text(text, head)}{nl}"
    splice = _append_block(lines, span.start, span.end, [line], nl)
    return splice, splice.start + 1


def add_child(
    lines: Sequence[str],
    parsed: Parsed,
    item: AgendaItem,
    text: str,
    owners: Sequence[str] = (),
    checked: bool | None = None,
    style: OwnerStyle | None = None,
) -> tuple[Splice, int]:
    """A new last sub-item under `item`, indented and bulleted like its siblings."""
    parent = layout_of(parsed, item)
    nl = newline(lines)
    children = item.children
    style = style or (_owner_style(parsed, children) if children else "colon")
    prefix = _prefix(owners, style) if owners else ""
    case = _local_case(parsed, children or (item,))
    if children:
        layouts = [parsed.layouts[c.line - 1] for c in children]
        last = layouts[-1]
        indent, marker, gap = last.indent, _next_marker(layouts), last.gap
    else:
        indent = _child_indent(parent, parsed.indent_step)
        marker = parent.marker if parent.marker[-1] not in ".)" else "-"
        gap = " "
    head = f"{marker}{gap}{_box(checked, case)}{prefix}"
    line = f"{indent}{head}{_text(text, head)}{nl}"
    return Splice(parent.end, parent.end, (line,)), parent.end


def _child_indent(parent: ItemLayout, step: int) -> str:
    """An indent that nests under `parent` in CommonMark: at or past its content column."""
    width = len(parent.indent.expandtabs(4))
    gap = len(parent.gap.expandtabs(4))
    content = width + len(parent.marker) + (gap if gap <= 4 else 1)
    wanted = width + step
    if wanted < content or wanted >= content + 4:
        wanted = content
    return parent.indent + " " * (wanted - width)


def set_checked(
    lines: Sequence[str], parsed: Parsed, item: AgendaItem, value: bool | None
) -> Splice:
    lay = layout_of(parsed, item)
    line = lines[lay.start]
    lead = len(lay.indent) + len(lay.marker) + len(lay.gap)
    siblings = _siblings(parsed, item)
    if lay.box is None:
        if value is None:
            return Splice(lay.start, lay.start, ())
        new = line[:lead] + _box(value, _local_case(parsed, siblings)) + line[lead:]
    else:
        rest = line[lead + len(lay.box) :]
        if value is None:
            new = line[:lead] + rest.lstrip(" \t")
        else:
            case = lay.box[1] if lay.box in ("[x]", "[X]") else _local_case(parsed, siblings)
            new = line[:lead] + _box(value, case).rstrip() + rest
    return Splice(lay.start, lay.start + 1, (new,))


def _siblings(parsed: Parsed, item: AgendaItem) -> tuple[AgendaItem, ...]:
    for span in parsed.sections:
        if item in span.items:
            return tuple(span.items)
    for parent in parsed.items_at.values():
        if item in parent.children:
            return parent.children
    return (item,)


def set_item_text(lines: Sequence[str], parsed: Parsed, item: AgendaItem, text: str) -> Splice:
    """New text for the item; its marker, checkbox and owners stay as they are."""
    lay = layout_of(parsed, item)
    last = lines[lay.para_end - 1]
    ending = last[len(last.rstrip()) :]
    return Splice(lay.start, lay.para_end, (lay.head + _text(text, lay.head) + ending,))


def rewrite_item(
    lines: Sequence[str],
    parsed: Parsed,
    item: AgendaItem,
    owners: Sequence[str] | None = None,
    strike: bool = False,
) -> Splice:
    """The item's first paragraph with other owners or struck through (`~~...~~`), its words
    kept byte for byte: they were escaped when written, and escaping them again would show."""
    lay = layout_of(parsed, item)
    para = list(lines[lay.start : lay.para_end])
    head = lay.head
    if owners is not None:
        bare = head[: len(head) - len(lay.owner_prefix)]
        style = lay.owner_style or _owner_style(parsed, _siblings(parsed, item))
        head = bare + (_prefix(owners, style) if owners else "")
    para[0] = head + para[0][len(lay.head) :]
    if strike:
        last = para[-1]
        ending = last[len(last.rstrip()) :]
        para[-1] = last.rstrip() + "~~" + ending
        para[0] = head + "~~" + para[0][len(head) :]
    return Splice(lay.start, lay.para_end, tuple(para))


def remove_item(lines: Sequence[str], parsed: Parsed, item: AgendaItem) -> Splice:
    """Remove the item with its sub-items, and the blank line that set it apart."""
    lay = layout_of(parsed, item)
    end = lay.end
    if lay.loose_before and end < len(lines) and not lines[end].strip():
        end += 1
    return Splice(lay.start, end, ())


def reorder_items(
    lines: Sequence[str], parsed: Parsed, section: str | SectionSpan, order: Sequence[AgendaItem]
) -> Splice:
    """The section's top-level items, each with its sub-items, in `order`.

    Blocks move whole; the blank lines between them and each position's marker stay where they
    were, so a loose or numbered list keeps its look. Anything else between two items (a
    paragraph, a second list) would be dragged along or lost, so such a section is refused.
    """
    span = find_section(parsed, section)
    tops = span.items
    if sorted(i.line for i in order) != sorted(i.line for i in tops):
        raise NotesError(f"the new order must list each item of {span.title!r} once")
    if len(tops) < 2:
        return Splice(0, 0, ())
    layouts = [layout_of(parsed, item) for item in tops]
    for before, after in itertools.pairwise(layouts):
        if any(line.strip() for line in lines[before.end : after.start]):
            raise NotesError(f"{span.title!r} has text between its items; reorder it by hand")
    by_line = {item.line: lay for item, lay in zip(tops, layouts, strict=True)}
    out: list[str] = []
    for position, item in enumerate(order):
        here, moved = layouts[position], by_line[item.line]
        block = list(lines[moved.start : moved.end])
        if here.marker != moved.marker:
            if len(here.marker) != len(moved.marker) and moved.end - moved.start > 1:
                raise NotesError(f"{span.title!r} is numbered unevenly; reorder it by hand")
            lead = len(moved.indent)
            block[0] = block[0][:lead] + here.marker + block[0][lead + len(moved.marker) :]
        if not block[-1].endswith(("\n", "\r")):  # the file's last line moves up
            block[-1] += newline(lines)
        out.extend(block)
        if position + 1 < len(layouts):
            out.extend(lines[here.end : layouts[position + 1].start])
    if not lines[layouts[-1].end - 1].endswith(("\n", "\r")):
        out[-1] = out[-1].rstrip("\r\n")
    return Splice(layouts[0].start, layouts[-1].end, tuple(out))


# --- attendees ------------------------------------------------------------------------------


def add_attendee(lines: Sequence[str], parsed: Parsed, attendee: Attendee) -> Splice:
    """A table row (in the first blank filler row, if any), or a list line."""
    if not escape.flat(attendee.name):
        raise NotesError("an attendee needs a name")
    nl = newline(lines)
    table = parsed.attendee_table
    if table is not None:
        return _table_row(lines, table, attendee, nl)
    roster = parsed.attendee_list
    if roster is not None and roster.items:
        layouts = [parsed.layouts[i.line - 1] for i in roster.items]
        if roster.placeholders:
            lay = parsed.layouts[roster.placeholders[0]]
            lead = f"{lay.marker}{lay.gap}"
            text = _list_entry(attendee, roster.detailed, lead)
            return Splice(lay.start, lay.end, (f"{lay.indent}{lead}{text}{nl}",))
        last = layouts[-1]
        lead = f"{_next_marker(layouts)}{last.gap}"
        line = f"{last.indent}{lead}{_list_entry(attendee, roster.detailed, lead)}{nl}"
        return Splice(last.end, last.end, (line,))
    if parsed.attendee_names_end is not None:
        at = parsed.attendee_names_end
        name = escape.fit(attendee.name, escape.Slot(above=_block_above(lines, at)))
        return Splice(at, at, (name + nl,))
    if parsed.attendee_section is None:
        raise NotesError("the notes have no `## Attendees` section to add attendees to")
    span = parsed.attendee_section
    line = f"- {_list_entry(attendee, True, '- ')}{nl}"
    return _append_block(lines, span.start, span.end, [line], nl)


def _block_above(lines: Sequence[str], at: int) -> str:
    """The lines of the block a line inserted at `at` continues: they decide how it reads."""
    start = at
    while start > 0 and lines[start - 1].strip() and at - start < 20:
        start -= 1
    return "".join(line.rstrip("\r\n") + "\n" for line in lines[start:at])


def _list_entry(attendee: Attendee, detailed: bool, lead: str) -> str:
    """What follows the list marker `lead`: `XX: Full Name (@github), Affiliation`, the 2026
    template's form, or a bare name."""
    if not detailed or not attendee.initials:
        return _text(attendee.name, lead)
    text = attendee.name
    if attendee.github:
        text += f" (@{attendee.github})"
    if attendee.affiliation:
        text += f", {attendee.affiliation}"
    prefix = f"{_owners([attendee.initials])[0]}: "
    return prefix + _text(text, lead + prefix)


def _table_row(lines: Sequence[str], table: TableLayout, attendee: Attendee, nl: str) -> Splice:
    github = attendee.github
    if github and table.at_handles:
        github = "@" + github
    values = {
        "name": attendee.name,
        "initials": attendee.initials,
        "affiliation": attendee.affiliation,
        "github": github,
    }
    if table.filler_rows:
        at = table.filler_rows[0]
        cells, outer = split_cells(lines[at])
        widths = tuple(max(len(c) - 2, 1) for c in cells)
        if len(widths) < len(table.columns):
            widths = table.widths
        end = at + 1
    else:
        at = end = table.end
        widths, outer = table.widths, table.outer_pipes
    row = [
        " " + escape.fit(values.get(column or "", ""), escape.TABLE_CELL).ljust(width) + " "
        for column, width in zip(table.columns, widths, strict=False)
    ]
    pipe = "|" if outer else ""
    return Splice(at, end, (pipe + "|".join(row) + pipe + nl,))


def set_head_count(lines: Sequence[str], parsed: Parsed, count: int) -> Splice:
    """Fill in `X people in total`, or write that line after the attendees."""
    if count < 0:
        raise NotesError("a head count cannot be negative")
    if parsed.head_count_line is not None:
        at = parsed.head_count_line
        line = _NUMBER.sub(str(count), lines[at], count=1)
        return Splice(at, at + 1, (line,))
    nl = newline(lines)
    block = [f"{count} people in total{nl}"]
    if parsed.attendee_table is not None:
        end = parsed.attendee_table.end
        return _append_block(lines, parsed.attendee_table.start, end, block, nl)
    if parsed.attendee_list is not None and parsed.attendee_list.items:
        end = parsed.layouts[parsed.attendee_list.items[-1].line - 1].end
        return _append_block(lines, end - 1, end, block, nl)
    if parsed.attendee_section is not None:
        span = parsed.attendee_section
        return _append_block(lines, span.start, span.end, block, nl)
    raise NotesError("the notes have no attendees to count")


# --- sections -------------------------------------------------------------------------------


def add_section(
    lines: Sequence[str],
    parsed: Parsed,
    title: str,
    after: str | SectionSpan | None = None,
    level: int | None = None,
    before: str | SectionSpan | None = None,
) -> Splice:
    """A new empty section at the end of `after`, just before `before`, or at the end."""
    nl = newline(lines)
    if before is not None:
        span = find_section(parsed, before)
        safe = heading_text(title, level or span.level)
        if not safe:
            raise NotesError("a section needs a title")
        gap = (nl,) if span.start > 0 and lines[span.start - 1].strip() else ()
        heading = "#" * (level or span.level) + " " + safe + nl
        return Splice(span.start, span.start, (*gap, heading, nl))
    if after is not None:
        span = find_section(parsed, after)
        start, end, depth = span.start, span.end, span.level
    else:
        start, end = parsed.body_start, len(lines)
        depth = parsed.sections[-1].level if parsed.sections else 2
    depth = level or depth
    if not 1 <= depth <= 6:
        raise NotesError("a heading level is between 1 and 6")
    safe = heading_text(title, depth)
    if not safe:
        raise NotesError("a section needs a title")
    return _append_block(lines, start, end, ["#" * depth + " " + safe + nl], nl)
