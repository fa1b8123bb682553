"""Read the lines of a notes file into a `Parsed` model, without changing a byte.

markdown-it-py finds the blocks (headings, lists, tables, paragraphs) and their line ranges;
this module turns them into sections, agenda items and attendees, and notes every problem as a
warning with its line instead of failing, because real notes are often a little broken.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from dataclasses import dataclass, field

import yaml
from frontmatter.default_handlers import YAMLHandler
from markdown_it import MarkdownIt
from markdown_it.token import Token

from zulip_bot.notes.extract import OwnerPrefix, owner_prefix
from zulip_bot.notes.model import (
    PLACEHOLDER_TEXTS,
    AgendaItem,
    Attendee,
    AttendeeListLayout,
    ItemLayout,
    NotesWarning,
    Parsed,
    SectionSpan,
    TableLayout,
    TextBlock,
)

# Inline parsing is skipped: every decision here is made on blocks and raw text.
_MD = MarkdownIt("commonmark").enable("table").disable("inline")

_LINE_END = re.compile(r"\r\n|\r|\n")
_FENCE = re.compile(r"^---[ \t]*\r?\n?$")
_FENCE_END = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?\n?$")
_MARKER = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])([ \t]+|(?=\r?\n?$))")
_BOX = re.compile(r"^\[([ xX]?)\](?=\s|$)")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_HEAD_COUNT = re.compile(
    r"^\s*(?P<n>\d+|X+|N)\s+(?:people|persons|participants|attendees)\b"
    r"|^\s*(?P<n2>\d+|X+)\s+total\s+participants\b",
    re.IGNORECASE,
)
_SHORTCODE = re.compile(r":[\w+-]+:")

# Warnings that leave the file's structure in doubt: editing it could damage it.
BLOCKING = ("front matter", "the file is empty")
_GITHUB_HEADERS = ("gh", "github", "username")
_ATTENDEE_ITEM = re.compile(
    r"^(?:(?P<ini>[A-Za-z]{1,4})\.?\s*[:,]\s+)?(?P<name>[^(),:@]+?)\s*"
    r"(?:\((?P<gh>[^)]*)\))?\s*(?:,\s*(?P<aff>.*?))?\s*$"
)
# `Name Surname XX @handle`, the initials optional.
_ATTENDEE_HANDLE = re.compile(
    r"^(?P<name>[^\W\d_][^(),:@]*?)(?:\s+(?P<ini>[A-Z][a-zA-Z]?[A-Z]{1,2}))?\s+@(?P<gh>[\w.-]+)"
    r"\s*(?:,\s*(?P<aff>.*?))?\s*$"
)
_INITIALS_ONLY = re.compile(r"[A-Z][a-zA-Z]?[A-Z]{1,3}")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# "**Attendees**", "Attendees:", "Attendees (github handle in parens):", with names after it.
_ROSTER_LEAD_IN = re.compile(
    r"^(?:(?P<bold>\*\*|__)\s*)?(?:attendees|attendance|participants|present)"
    r"(?:\s*\([^)]*\))?\s*:?\s*(?(bold)(?:\*\*|__))\s*:?(?P<rest>(?<=[:*_])\s.*|\s*)$",
    re.IGNORECASE | re.DOTALL,
)
_BOLD_LABEL = re.compile(r"^(?:\*\*|__)[^*_]+(?:\*\*|__):?$")
_ABSENT = re.compile(r"^\W*(?:apologies|regrets|absent|not\s+present|excused)\b", re.IGNORECASE)


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split exactly where markdown-it-py splits them."""
    lines: list[str] = []
    pos = 0
    for match in _LINE_END.finditer(text):
        lines.append(text[pos : match.end()])
        pos = match.end()
    if pos < len(text):
        lines.append(text[pos:])
    return lines


@functools.lru_cache(maxsize=1024)
def normalize_title(title: str) -> str:
    """Compare headings the way people mean them: case, emoji and punctuation do not count."""
    title = _SHORTCODE.sub(" ", title).casefold()
    title = re.sub(r"[^\w\s]", " ", title)
    return " ".join(title.split())


def is_attendee_title(title: str) -> bool:
    return normalize_title(title) in ("attendees", "attendance", "participants")


def parse_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    match = _DATE.search(text)
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def split_cells(line: str) -> tuple[list[str], bool]:
    """Raw cells of a table row (unescaped pipes split), and whether it has outer pipes."""
    body = line.rstrip("\r\n").strip()
    outer = body.startswith("|")
    if outer:
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return re.split(r"(?<!\\)\|", body), outer


# --- front matter ---------------------------------------------------------------------------


def _front_matter(lines: list[str], parsed: Parsed) -> None:
    if not lines:
        return
    first = lines[0].lstrip("\ufeff")
    if not _FENCE.match(first):
        if first.rstrip().endswith("---") and any(_FENCE_END.match(x) for x in lines[1:20]):
            parsed.warnings.append(
                NotesWarning(1, f"front matter must open with `---` alone; found `{first.strip()}`")
            )
        return
    for index in range(1, len(lines)):
        if _FENCE_END.match(lines[index]):
            break
    else:
        parsed.warnings.append(NotesWarning(1, "front matter opened with `---` is never closed"))
        return
    parsed.body_start = index + 1
    source = "".join(lines[1:index])
    try:
        data = YAMLHandler().load(source) if source.strip() else {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = " ".join(str(error).split())  # one line: it is quoted in chat replies
        parsed.warnings.append(NotesWarning(line, f"front matter is not valid YAML: {problem}"))
        return
    if isinstance(data, dict):
        parsed.front_matter = {str(k): v for k, v in data.items()}
    else:
        parsed.warnings.append(NotesWarning(2, "front matter is not a mapping of keys to values"))


# --- items ----------------------------------------------------------------------------------


@dataclass
class _ItemBuilder:
    token: Token
    parent_depth: int
    text: str = ""
    para_end: int | None = None
    children: list[AgendaItem] = field(default_factory=list)
    blocks: int = 0


def _item(builder: _ItemBuilder, lines: list[str], offset: int, parsed: Parsed) -> AgendaItem:
    start, end = _map(builder.token)
    start += offset
    end += offset
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    box, checked, prefix, text = _split_head(builder.text)
    if box == "[]":
        parsed.warnings.append(NotesWarning(start + 1, "malformed checkbox `[]`: use `[ ]`"))
    owners = prefix.owners if prefix else ()
    item = AgendaItem(text, owners, checked, tuple(builder.children), start + 1)
    parsed.items_at[start] = item
    marker_match = _MARKER.match(lines[start])
    expected = builder.token.info + builder.token.markup
    editable = marker_match is not None and marker_match[2] == expected
    head = ""
    if editable and marker_match is not None:
        first = lines[start].rstrip("\r\n")
        rest = first[marker_match.end() :].rstrip()
        head = first[: marker_match.end() + len(rest) - len(_split_head(rest)[3])]
        editable = _starts(first, head, text)
    previous = lines[start - 1] if start > 0 else ""
    parsed.layouts[start] = ItemLayout(
        start=start,
        end=end,
        para_end=builder.para_end + offset if builder.para_end is not None else start + 1,
        indent=marker_match[1] if marker_match else "",
        head=head,
        marker=expected,
        gap=(marker_match[3] if marker_match else "") or " ",
        box=box,
        owner_prefix=prefix.written if prefix else "",
        owner_style=prefix.style if prefix else None,
        depth=builder.parent_depth,
        editable=editable,
        loose_before=not previous.strip(),
    )
    return item


def _split_head(content: str) -> tuple[str | None, bool | None, OwnerPrefix | None, str]:
    """Checkbox, owner prefix and the remaining text of an item's first paragraph."""
    box: str | None = None
    checked: bool | None = None
    match = _BOX.match(content)
    if match:
        box = match.group(0)
        checked = match[1] in ("x", "X")
        content = content[match.end() :].lstrip()
    prefix = owner_prefix(content)
    if prefix is not None:
        content = content[len(prefix.written) :]
    return box, checked, prefix, content.strip()


def _starts(first: str, head: str, text: str) -> bool:
    return text == "" or first[len(head) :].startswith(text.split(" ")[0])


def _join(content: str) -> str:
    return " ".join(part.strip() for part in content.split("\n"))


def _map(token: Token) -> tuple[int, int]:
    return (token.map[0], token.map[1]) if token.map else (0, 0)


@dataclass
class _Blocks:
    """What one pass over the tokens found, before it is sorted into sections."""

    top_items: list[tuple[int, AgendaItem]] = field(default_factory=list)
    headings: list[tuple[int, int, str]] = field(default_factory=list)
    tables: list[Token] = field(default_factory=list)
    top_level: set[str] = field(default_factory=set)  # token types seen outside any block


def _walk(tokens: list[Token], lines: list[str], offset: int, parsed: Parsed) -> _Blocks:
    """One pass over the block tokens: headings open sections, list items nest."""
    stack: list[_ItemBuilder] = []
    found = _Blocks()
    top_items, headings, tables = found.top_items, found.headings, found.tables
    for index, token in enumerate(tokens):
        kind = token.type
        if token.level == 0:
            found.top_level.add(kind)
        if kind == "heading_open":
            headings.append(
                (_map(token)[0] + offset, int(token.tag[1:]), tokens[index + 1].content)
            )
        elif kind == "list_item_open":
            stack.append(_ItemBuilder(token, len(stack)))
        elif kind == "list_item_close":
            builder = stack.pop()
            item = _item(builder, lines, offset, parsed)
            if stack:
                stack[-1].children.append(item)
            else:
                top_items.append((item.line - 1, item))
            if builder.text:
                parsed.texts.append(TextBlock(item.text, item.line, None))
        elif kind == "paragraph_open":
            start, end = _map(token)
            content = _join(tokens[index + 1].content)
            if stack and stack[-1].blocks == 0 and start == _map(stack[-1].token)[0]:
                stack[-1].text = content
                stack[-1].para_end = end
            else:
                parsed.texts.append(TextBlock(content, start + offset + 1, None))
            if stack:
                stack[-1].blocks += 1
        elif kind == "table_open":
            tables.append(token)
        elif stack and token.nesting == 1 and token.level == stack[-1].token.level + 1:
            stack[-1].blocks += 1
    return found


def parse_region(lines: list[str], start: int, end: int) -> tuple[list[AgendaItem], Parsed] | None:
    """The top-level items of lines[start:end] parsed on their own, with their layouts, texts
    and warnings at file line numbers; None unless the region holds list items and nothing
    else, which is when its parse can stand in for the same lines in a parse of the file."""
    fragment = Parsed()
    found = _walk(_MD.parse("".join(lines[start:end])), lines, start, fragment)
    if not found.top_items or not found.top_level <= {
        "bullet_list_open", "bullet_list_close", "ordered_list_open", "ordered_list_close"
    }:  # fmt: skip
        return None
    return [item for _, item in found.top_items], fragment


def indent_step(parsed: Parsed) -> int:
    """The indent people use for sub-items: the commonest step from an item to its children."""
    steps: Counter[int] = Counter()
    for start, item in parsed.items_at.items():
        if not item.children:
            continue
        indent = _width(parsed.layouts[start].indent)
        for child in item.children:
            steps[_width(parsed.layouts[child.line - 1].indent) - indent] += 1
    positive = [(count, step) for step, count in steps.items() if step > 0]
    return max(positive)[1] if positive else Parsed.indent_step


def _sections(
    headings: list[tuple[int, int, str]],
    top_items: list[tuple[int, AgendaItem]],
    n_lines: int,
    parsed: Parsed,
) -> None:
    if headings and headings[0][1] == 1:
        parsed.title_line, _, parsed.title = headings[0]
        parsed.title = parsed.title.strip()
        headings = headings[1:]
    for number, (start, level, title) in enumerate(headings):
        end = headings[number + 1][0] if number + 1 < len(headings) else n_lines
        parsed.sections.append(SectionSpan(title.strip(), level, start, end))
    spans = iter(parsed.sections)
    current = next(spans, None)
    for start, item in top_items:
        while current is not None and start >= current.end:
            current = next(spans, None)
        if current is not None and start >= current.start:
            current.items.append(item)
        else:
            parsed.preamble_items.append(item)
    attach_top_items(parsed)


def attach_top_items(parsed: Parsed) -> None:
    """Give every prose block the top-level agenda item it sits under."""
    tops = sorted(
        [item for span in parsed.sections for item in span.items] + parsed.preamble_items,
        key=lambda item: item.line,
    )
    ends = [parsed.layouts[item.line - 1].end for item in tops]
    attached: list[TextBlock] = []
    position = 0
    for block in sorted(parsed.texts, key=lambda b: b.line):
        while position < len(tops) and ends[position] < block.line:
            position += 1
        top = tops[position] if position < len(tops) else None
        if top is not None and top.line <= block.line and top.line != block.line:
            attached.append(TextBlock(block.text, block.line, top))
        else:
            attached.append(block)
    parsed.texts = attached


# --- attendees ------------------------------------------------------------------------------


def _attendees(tables: list[Token], lines: list[str], offset: int, parsed: Parsed) -> None:
    section = next((s for s in parsed.sections if is_attendee_title(s.title)), None)
    parsed.attendee_section = section
    spans = [(start + offset, end + offset) for start, end in map(_map, tables)]
    table = next((s for s in spans if _in(section, s[0]) and _is_roster(lines[s[0]])), None)
    if table is not None:
        attendee_table(table[0], table[1], lines, parsed)
    else:
        items = section.items if section else _preamble_roster(parsed)
        if items:
            _attendee_list(items, parsed)
        elif section is not None:
            _truncated_table_warning(section, lines, parsed)
            _name_lines(section, lines, parsed)
        else:
            _lead_in_roster(parsed)
    head_count(section, lines, parsed)


def _in(section: SectionSpan | None, line: int) -> bool:
    return section is None or section.start <= line < section.end


def _is_roster(header_line: str) -> bool:
    header = [c.strip().casefold() for c in split_cells(header_line)[0]]
    return "name" in header or "initials" in header


def _column(header: str) -> str | None:
    key = header.strip().casefold()
    if key in ("name", "initials", "affiliation"):
        return key
    if any(word in key for word in _GITHUB_HEADERS):
        return "github"
    return None


def attendee_table(start: int, end: int, lines: list[str], parsed: Parsed) -> None:
    header_cells, outer = split_cells(lines[start])
    delimiter_cells, _ = split_cells(lines[start + 1])
    columns = tuple(_column(c) for c in header_cells)
    fillers: list[int] = []
    handles = 0
    # A pipe-less line right under the table is a row to markdown-it (as in GFM), but in the
    # notes it is the `14 people in total` line: the table ends before it.
    end = next((i for i in range(start + 2, end) if "|" not in lines[i]), end)
    while end > start + 2 and not lines[end - 1].strip():
        end -= 1
    for index in range(start + 2, end):
        cells, _ = split_cells(lines[index])
        if len(cells) != len(header_cells):
            parsed.warnings.append(
                NotesWarning(
                    index + 1,
                    f"attendee table row has {len(cells)} cells; the header has "
                    f"{len(header_cells)}",
                )
            )
        values = [c.strip() for c in cells]
        if not any(values):
            fillers.append(index)
            continue
        row = dict(zip(columns, values, strict=False))
        github = row.get("github") or ""
        handles += github.startswith("@")
        parsed.attendees.append(
            Attendee(
                name=row.get("name") or "",
                initials=row.get("initials") or "",
                affiliation=row.get("affiliation") or "",
                github=github.lstrip("@"),
            )
        )
    parsed.attendee_table = TableLayout(
        start=start,
        end=end,
        header=tuple(c.strip() for c in header_cells),
        widths=tuple(max(len(c) - 2, 1) for c in delimiter_cells),
        outer_pipes=outer,
        columns=columns,
        filler_rows=tuple(fillers),
        at_handles=handles * 2 > len(parsed.attendees) > 0,
    )


def _preamble_roster(parsed: Parsed) -> list[AgendaItem]:
    """A roster list with no heading (2026-07-01): only lists shaped like `XX: Name (@gh)`."""
    items = [i for i in parsed.preamble_items if _ATTENDEE_ITEM.match(i.text) and "@" in i.text]
    return items if items and len(items) == len(parsed.preamble_items) else []


def _attendee_list(items: list[AgendaItem], parsed: Parsed) -> None:
    placeholders: list[int] = []
    detailed = 0
    for item in items:
        layout = parsed.layouts[item.line - 1]
        raw = (layout.owner_prefix + item.text).strip()
        if item.text in PLACEHOLDER_TEXTS and not item.owners:
            placeholders.append(item.line - 1)
            continue
        if _ABSENT.match(raw):
            break  # those listed from here on sent their apologies
        for attendee in _item_attendees(raw):
            detailed += bool(attendee.initials)
            parsed.attendees.append(attendee)
    parsed.attendee_list = AttendeeListLayout(
        tuple(items), tuple(placeholders), detailed * 2 >= len(parsed.attendees) > 0
    )


def _item_attendees(raw: str) -> list[Attendee]:
    """The people one roster line names: `XX: Name (@gh), Org`, `Name (XX)`, `Name XX @gh`,
    or several at once (`Jonathan, Phil, John`, `MS, ED, Matt B, Uwe`)."""
    raw = _LINK.sub(r"\1", raw).strip()
    if raw.startswith(("**", "__")) or "(Initials)" in raw:
        return []  # a header row such as `**Name (Initials) (githubid)**`
    parts = [part.strip() for part in raw.split(",")]
    if (
        len(parts) >= 3
        and not re.search(r"[():@]", raw)
        and all(0 < len(part.split()) <= 3 for part in parts)
    ):
        return [Attendee(name=part.lstrip("@").rstrip(".")) for part in parts]
    attendee = _list_attendee(raw)
    return [attendee] if attendee is not None else []


def _list_attendee(raw: str) -> Attendee | None:
    handle = _ATTENDEE_HANDLE.match(raw)
    if handle is not None:
        return Attendee(
            name=handle["name"].strip(),
            initials=handle["ini"] or "",
            affiliation=(handle["aff"] or "").strip().rstrip("."),
            github=handle["gh"],
        )
    match = _ATTENDEE_ITEM.match(raw)
    if match is None or match["name"].strip() in ("Initials", "Full Name", "Name"):
        return None
    github = (match["gh"] or "").strip()
    github = github.removeprefix("gh:").strip().lstrip("@")
    initials = (match["ini"] or "").strip()
    if not initials and _INITIALS_ONLY.fullmatch(github):
        initials, github = github, ""  # `Megan Yancy (MCY)`
    return Attendee(
        name=match["name"].strip().lstrip("@"),
        initials=initials,
        affiliation=(match["aff"] or "").strip().rstrip("."),
        github=github,
    )


def _lead_in_roster(parsed: Parsed) -> None:
    """Attendees under a lead-in paragraph instead of a heading (`**Attendees**`, then a
    list, a line of names or one name a paragraph), up to the next label or heading."""
    blocks = sorted(parsed.texts, key=lambda b: b.line)
    lead = next((i for i, b in enumerate(blocks) if _ROSTER_LEAD_IN.match(b.text)), None)
    if lead is None:
        return
    heading_lines = {span.start + 1 for span in parsed.sections}
    rest = _ROSTER_LEAD_IN.match(blocks[lead].text)
    names = _names_paragraph(rest["rest"] if rest else "")
    listed = False
    for block in blocks[lead + 1 :]:
        if any(blocks[lead].line < line <= block.line for line in heading_lines):
            break
        item = parsed.items_at.get(block.line - 1)
        if item is not None and item.line == block.line and block.top_item is None:
            if _ABSENT.match(block.text):
                break
            listed = True
            names.extend(_item_attendees(block.text))
        elif block.top_item is None:
            if listed or _BOLD_LABEL.match(block.text) or _ROSTER_LEAD_IN.match(block.text):
                break
            found = _names_paragraph(block.text)
            if not found:
                break
            names.extend(found)
    parsed.attendees.extend(names)


def _names_paragraph(text: str) -> list[Attendee]:
    """`Ray, Matt, [Bjorn Gruning](...), Jan` or one name: short comma-separated names."""
    text = _LINK.sub(r"\1", text).strip()
    parts = [part.strip().lstrip("@").rstrip(".") for part in text.split(",")]
    if not text or not all(0 < len(part.split()) <= 4 for part in parts):
        return []
    return [Attendee(name=part) for part in parts]


def _name_lines(section: SectionSpan, lines: list[str], parsed: Parsed) -> None:
    """Bare names, one a line, as in the 2021 conda-forge notes."""
    for index in range(section.start + 1, section.end):
        line = lines[index]
        text = line.strip()
        words = text.split()
        if not text or _HEAD_COUNT.match(text) or not 1 <= len(words) <= 5:
            continue
        if text[0] in "|<[*#-" or "http" in text or text.endswith(":") or "attendees" in text:
            continue
        parsed.attendees.append(Attendee(name=text))
        parsed.attendee_names_end = index + 1


def _truncated_table_warning(section: SectionSpan, lines: list[str], parsed: Parsed) -> None:
    for index in range(section.start + 1, section.end):
        if lines[index].lstrip().startswith("|"):
            parsed.warnings.append(
                NotesWarning(index + 1, "attendee table has no `| --- |` delimiter row")
            )
            return


def head_count(section: SectionSpan | None, lines: list[str], parsed: Parsed) -> None:
    start, end = (section.start, section.end) if section else (parsed.body_start, len(lines))
    for index in range(start, end):
        match = _HEAD_COUNT.match(lines[index])
        if match:
            parsed.head_count_line = index
            number = match["n"] or match["n2"]
            parsed.head_count = int(number) if number.isdigit() else None
            return


# --- conventions ----------------------------------------------------------------------------


def _checked_case(parsed: Parsed) -> str:
    cases = Counter(
        layout.box[1] for layout in parsed.layouts.values() if layout.box in ("[x]", "[X]")
    )
    return cases.most_common(1)[0][0] if cases else "x"


def _width(indent: str) -> int:
    return len(indent.expandtabs(4))


def parse_lines(lines: list[str]) -> Parsed:
    parsed = Parsed()
    if not lines:
        parsed.warnings.append(NotesWarning(1, "the file is empty"))
        return parsed
    _front_matter(lines, parsed)
    body = "".join(lines[parsed.body_start :])
    found = _walk(_MD.parse(body), lines, parsed.body_start, parsed)
    _sections(found.headings, found.top_items, len(lines), parsed)
    _attendees(found.tables, lines, parsed.body_start, parsed)
    conventions(parsed)
    return parsed


def conventions(parsed: Parsed) -> None:
    """The file's habits that edits copy, read from all its items."""
    parsed.indent_step = indent_step(parsed)
    parsed.checked_case = _checked_case(parsed)
