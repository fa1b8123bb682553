"""Chat text made safe for one place in a notes file, and changed only where it has to be.

Chat text is markdown already, and the file is what people read and edit by hand, so text is
written as typed. markdown-it-py decides what would go wrong: the line is parsed with the text in
its place and with a neutral character there instead, and only while the two differ (other
blocks, another checkbox or owner for the project's reader) or the text would open raw HTML is
the smallest escape that helps added. Nothing here is a guess about markdown syntax: a link at
the start of an item stays a link, `11.2` stays `11.2`, and `- x` after a list marker becomes
`\\- x` because markdown-it-py says it would be a nested list.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.html_inline import html_inline

from zulip_bot.notes.extract import owner_prefix
from zulip_bot.notes.model import NotesError
from zulip_bot.notes.parse import parse_lines, split_lines

# A private-use character: `flat` removes it from any text, so it stands for "the text" safely.
PLACE = "\ue000"
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ORDERED_START = re.compile(r"^(\d{1,9})([.)])")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _recording_html(state: StateInline, silent: bool) -> bool:
    """markdown-it-py's own raw-HTML rule, noting where each tag it accepts begins."""
    start = state.pos
    found = html_inline(state, silent)
    if found and not silent:
        state.env.setdefault("html", []).append(start)
    return found


_MD = MarkdownIt("commonmark").enable("table")
_MD.inline.ruler.at("html_inline", _recording_html)


@dataclass(frozen=True)
class Slot:
    """Where text is written: the lines just above its line, and what the bot writes before
    and after it on that line (a list marker, checkbox and owner prefix; `## `; table pipes)."""

    before: str = ""
    after: str = ""
    above: str = ""

    def source(self, text: str) -> str:
        return f"{self.above}{self.before}{text}{self.after}\n"


def item_slot(head: str) -> Slot:
    """The text of a list item whose line starts with `head`. Indentation is left out: it only
    says which list the item belongs to, and a line that starts with a marker is a list item
    whatever comes above it, so the item's content reads the same on its own."""
    return Slot(before=head.lstrip(" \t"))


TABLE_CELL = Slot(before="| ", after=" |", above="| h |\n| --- |\n")


# Invisible characters that only reorder or hide text: a hostile user's tools for spoofing.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _kept(ch: str) -> str:
    """What a character becomes on a notes line: people's text is kept (joiners that make one
    emoji of several, accents); what cannot be written, or would hide or reorder the text, is
    replaced by U+FFFD rather than dropped, so that nobody's words silently change."""
    kind = unicodedata.category(ch)
    if ch.isspace():  # tabs, line breaks, U+0085 and U+2028 alike: one line, spaced
        return " "
    if kind in ("Cc", "Cs") or ch in _BIDI:  # controls, undecodable bytes from a terminal
        return "\ufffd"
    return ch


def flat(text: str) -> str:
    """One line: each run of white space one space, controls replaced (see `_kept`)."""
    return " ".join("".join(_kept(ch) for ch in text).split())


def fit(text: str, slot: Slot) -> str:
    """`text` as it can be written in `slot`: verbatim unless that would change the structure.

    Each kind of escape is tried alone, the first that is enough winning; when none is enough
    alone they add up (each kind once), and as a last resort every ASCII punctuation character
    is escaped, which can create no markdown at all.
    """
    text = flat(text)
    if not text:
        return text
    unused = list(_FIXES)
    while True:
        text = _without_html(text)
        if _keeps(slot, text):
            return text
        candidates = [(fix, fixed) for fix in unused if (fixed := fix(text)) is not None]
        enough = next((c for _, c in candidates if _keeps(slot, _without_html(c))), None)
        if enough is not None:
            return _without_html(enough)
        if not candidates:
            break
        fix, text = candidates[0]
        unused.remove(fix)
    text = _without_html(_escape_all(text))
    if not _keeps(slot, text):
        raise NotesError(f"`{text[:60]}` cannot be written safely here")
    return text


def html_starts(text: str) -> list[int]:
    """Where markdown-it-py would read raw HTML (`<b>`, `<!--`) in `text` as inline content."""
    env: MutableMapping[str, Any] = {}
    _MD.parseInline(text, env)
    return sorted(env.get("html", []))


def _without_html(text: str) -> str:
    """`\\<` before each raw-HTML tag; `<3.0`, `a < b` and `<https://...>` are not tags."""
    while starts := html_starts(text):
        for at in reversed(starts):
            text = f"{text[:at]}\\{text[at:]}"
    return text


def _keeps(slot: Slot, text: str) -> bool:
    return _shape(slot, text) == _fill(_shape(slot, PLACE), text)


Shape = tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]


def _fill(shape: Shape, text: str) -> Shape:
    blocks, read = shape
    return (
        tuple(tuple(_unpiped(part.replace(PLACE, text)) for part in block) for block in blocks),
        tuple(tuple(part.replace(PLACE, text) for part in row) for row in read),
    )


@functools.lru_cache(maxsize=4096)
def _shape(slot: Slot, text: str) -> Shape:
    """The blocks markdown-it-py finds (a table cell's content with its escaped pipes undone,
    as markdown-it-py gives it), and what the project's reader sees: items with their
    checkbox, owners and text, and section titles."""
    source = slot.source(text)
    blocks = tuple(
        (
            token.type,
            token.tag,
            str(token.nesting),
            str(token.map),
            token.markup,
            token.info,
            _unpiped(token.content),
        )
        for token in _MD.parse(source)
    )
    parsed = parse_lines(split_lines(source))
    items = tuple(
        (str(at), item.text, "/".join(item.owners), str(item.checked), str(layout.editable))
        for at, item in sorted(parsed.items_at.items())
        if (layout := parsed.layouts[at])
    )
    titles = tuple((span.title,) for span in parsed.sections)
    return blocks, items + titles


def _unpiped(content: str) -> str:
    return content.replace("\\|", "|")


# --- escapes, smallest first ----------------------------------------------------------------


def _escape_first(text: str) -> str | None:
    """A marker, heading, quote, fence, rule, HTML block, checkbox or link definition."""
    return "\\" + text if text[0] in _ASCII_PUNCT else None


def _escape_ordered(text: str) -> str | None:
    """`1. x` and `1) x` would be a numbered list: `1\\. x`."""
    match = _ORDERED_START.match(text)
    return f"{match[1]}\\{match[2]}{text[match.end() :]}" if match else None


def _escape_owner(text: str) -> str | None:
    """`JRG: x` would give the item an owner: `JRG\\: x`."""
    prefix = owner_prefix(text)
    if prefix is None:
        return None
    cut = len(prefix.written.rstrip()) - 1
    return text[:cut] + "\\" + text[cut:]


def _escape_closing_hash(text: str) -> str | None:
    """A heading's trailing `#` would close it and vanish."""
    return text[:-1] + "\\#" if text.endswith("#") and not text.endswith("\\#") else None


def _escape_pipes(text: str) -> str | None:
    """Inside a table, a `|` would start a new cell."""
    escaped = _UNESCAPED_PIPE.sub(r"\\|", text)
    return escaped if escaped != text else None


def _escape_all(text: str) -> str:
    return "".join("\\" + ch if ch in _ASCII_PUNCT else ch for ch in text)


_FIXES: tuple[Callable[[str], str | None], ...] = (
    _escape_first,
    _escape_ordered,
    _escape_owner,
    _escape_closing_hash,
    _escape_pipes,
)
