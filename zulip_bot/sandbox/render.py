"""What the server does to a message's Markdown, limited to what a bot sends and reads back:
paragraphs with hard line breaks, emphasis, links, lists, code, tables, quotes, user mentions
(`@**Name**`, `@**Name|id**`, `@**|id**`, silent `@_**Name**`, wildcards), user group mentions
(`@*group*`, silent `@_*group*`), stream and topic links (`#**stream>topic**`) and global times
(`<time:...>`).

Mentions decide the `mentioned` flags and who is notified, so rendering also says whom a message
mentions, as Zulip's `mention.py` and Markdown processor do: a mention needs the start, a space
or one of `'"({[/<` before it; wildcards are spelled exactly `all`, `everyone`, `stream`,
`channel` or `topic`; mentions in code are text and mentions in a quote are silent.
Where Zulip differs: a mention right after the `>` of a quote (`>@**all**`) stays live there,
and ```` ```spoiler ```` blocks are Markdown there (code here).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

from dateutil import parser as dateparser
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

STREAM_WILDCARDS: Final = frozenset({"all", "everyone", "stream", "channel"})
TOPIC_WILDCARD: Final = "topic"
_MENTION = re.compile(r"@(?P<silent>_?)\*\*(?P<text>[^*]+)\*\*")
_GROUP_MENTION = re.compile(r"@(?P<silent>_?)\*(?P<text>[^*]+)\*")
#: Besides whitespace, Zulip only sees a mention after one of these (or at the start).
_BEFORE_MENTION: Final = "'\"({[/<"
_TIME = re.compile(r"<time:(?P<time>[^>]*?)>")
_STREAM_LINK = re.compile(r"#\*\*(?P<stream>[^*>]+)(?:>(?P<topic>[^*]+))?\*\*")


@dataclass(frozen=True)
class Person:
    user_id: int
    full_name: str


@dataclass(frozen=True)
class Group:
    group_id: int
    name: str


@dataclass
class Rendering:
    html: str
    #: Live (not silent) mentions only: these notify.
    mentioned_user_ids: set[int] = field(default_factory=set)
    mentioned_group_ids: set[int] = field(default_factory=set)
    stream_wildcard: bool = False
    topic_wildcard: bool = False

    @property
    def wildcard(self) -> bool:
        return self.stream_wildcard or self.topic_wildcard


#: Finds a user by id, or by full name (case-insensitively); None when there is no such user.
Lookup = Callable[[int | None, str], Person | None]
#: Finds a stream's (id, name) by name; None when there is no such stream.
StreamLookup = Callable[[str], tuple[int, str] | None]
#: Finds a user group by its exact name; None when there is no such group.
GroupLookup = Callable[[str], Group | None]
#: Whom a mention names: a person, a group, or a wildcard by its name.
Target = Person | Group | str


def hash_encode(text: str) -> str:
    """Zulip's URL fragments: percent-encoding with `.` for `%` (`some topic` -> `some.20topic`)."""
    return quote(text, safe="").replace(".", "%2E").replace("%", ".")


def stream_slug(stream_id: int, name: str) -> str:
    return f"{stream_id}-{hash_encode(name.replace(' ', '-'))}"


def topic_narrow(stream_id: int, stream: str, topic: str) -> str:
    return f"#narrow/stream/{stream_slug(stream_id, stream)}/topic/{hash_encode(topic)}"


def _mention_target(text: str, lookup: Lookup) -> Person | str | None:
    """A person, a wildcard name, or None when Zulip would leave the text as it is. The id is
    after the last `|` and all decimal digits (Zulip's `(.+)?\\|(\\d+)$`)."""
    name, bar, given_id = text.rpartition("|")
    if bar and given_id.isdecimal():
        person = lookup(int(given_id), "")
        if person is None or (name and name != person.full_name):
            return None
        return person
    if text in STREAM_WILDCARDS or text == TOPIC_WILDCARD:
        return text
    return lookup(None, text)


def _may_start_mention(state: StateInline) -> bool:
    pos = state.pos
    if state.src[pos] != "@":
        return False
    return pos == 0 or state.src[pos - 1].isspace() or state.src[pos - 1] in _BEFORE_MENTION


def _mention_at(state: StateInline) -> tuple[re.Match[str], Target] | None:
    """The mention starting here and whom it names: `@**...**` (a person or a wildcard) is
    tried before `@*...*` (a group), as Zulip's inline patterns are ordered."""
    if not _may_start_mention(state):
        return None
    env = state.env
    found = _MENTION.match(state.src, state.pos, state.posMax)
    if found is not None:
        target: Target | None = _mention_target(found["text"], env["lookup"])
    else:
        found = _GROUP_MENTION.match(state.src, state.pos, state.posMax)
        target = env["groups"](found["text"]) if found else None
    return (found, target) if found and target else None


def _mention_rule(state: StateInline, silent: bool) -> bool:
    mention = _mention_at(state)
    if mention is None:
        return False
    found, target = mention
    if not silent:
        quiet = bool(found["silent"]) or state.env["quoted"]
        token = state.push("zulip_mention", "span", 0)
        token.meta = {"target": target, "silent": quiet}
        if not quiet:
            _count(state.env["rendering"], target)
    state.pos = found.end()
    return True


def _count(rendering: Rendering, target: Target) -> None:
    if isinstance(target, Person):
        rendering.mentioned_user_ids.add(target.user_id)
    elif isinstance(target, Group):
        rendering.mentioned_group_ids.add(target.group_id)
    elif target == TOPIC_WILDCARD:
        rendering.topic_wildcard = True
    else:
        rendering.stream_wildcard = True


def _inline_marking_quotes(state: StateCore) -> None:
    """markdown-it's core `inline` step, telling the inline rules whether the text is quoted:
    Zulip silences every mention in a quote, so that quoting someone does not ping again."""
    depth = 0
    for token in state.tokens:
        depth += {"blockquote_open": 1, "blockquote_close": -1}.get(token.type, 0)
        if token.type == "inline":
            state.env["quoted"] = depth > 0
            token.children = token.children or []
            state.md.inline.parse(token.content, state.md, state.env, token.children)


def _time_rule(state: StateInline, silent: bool) -> bool:
    found = _TIME.match(state.src, state.pos, state.posMax)
    if found is None:
        return False
    if not silent:
        token = state.push("zulip_time", "time", 0)
        token.content = found["time"]
    state.pos = found.end()
    return True


def _stream_link_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "#":
        return False
    found = _STREAM_LINK.match(state.src, state.pos, state.posMax)
    stream = state.env["streams"](found["stream"]) if found else None
    if found is None or stream is None:
        return False
    if not silent:
        token = state.push("zulip_stream_link", "a", 0)
        token.meta = {"stream": stream, "topic": found["topic"]}
    state.pos = found.end()
    return True


def global_time(text: str) -> dt.datetime | None:
    """Zulip reads a UNIX timestamp or anything dateutil parses; a naive time is UTC."""
    try:
        if text.strip().lstrip("-").isdigit():
            return dt.datetime.fromtimestamp(int(text), dt.UTC)
        moment = dateparser.parse(text)
    except (ValueError, OverflowError):
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _render_mention(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any
) -> str:
    target: Target = tokens[idx].meta["target"]
    silent = tokens[idx].meta["silent"]
    if isinstance(target, Person):
        data = f'data-user-id="{target.user_id}"'
        return _mention_span("user-mention", data, target.full_name, silent)
    if isinstance(target, Group):
        data = f'data-user-group-id="{target.group_id}"'
        return _mention_span("user-group-mention", data, target.name, silent)
    if target == TOPIC_WILDCARD:
        return _mention_span("topic-mention", "", target, silent)
    return _mention_span("user-mention", 'data-user-id="*"', target, silent)


def _mention_span(classes: str, data: str, name: str, silent: bool) -> str:
    """A silent mention shows the name without its `@`."""
    shown = html.escape(name if silent else "@" + name, quote=False)
    classes = f"{classes} silent" if silent else classes
    return f'<span class="{classes}"{" " + data if data else ""}>{shown}</span>'


def _render_time(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any
) -> str:
    text = tokens[idx].content
    moment = global_time(text)
    if moment is None:
        return f'<span class="timestamp-error">Invalid time format: {html.escape(text)}</span>'
    stamp = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'<time datetime="{stamp}">{html.escape(text, quote=False)}</time>'


def _render_stream_link(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any
) -> str:
    (stream_id, name), topic = tokens[idx].meta["stream"], tokens[idx].meta["topic"]
    if topic is None:
        href = f"/#narrow/stream/{stream_slug(stream_id, name)}"
        shown = html.escape(f"#{name}")
        return f'<a class="stream" data-stream-id="{stream_id}" href="{href}">{shown}</a>'
    href = "/" + topic_narrow(stream_id, name, topic)
    shown = html.escape(f"#{name} > {topic}")
    return f'<a class="stream-topic" data-stream-id="{stream_id}" href="{href}">{shown}</a>'


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"breaks": True, "html": False, "xhtmlOut": False})
    md.enable("table")
    md.core.ruler.at("inline", _inline_marking_quotes)
    md.inline.ruler.before("emphasis", "zulip_mention", _mention_rule)
    md.inline.ruler.before("emphasis", "zulip_stream_link", _stream_link_rule)
    md.inline.ruler.before("autolink", "zulip_time", _time_rule)
    md.add_render_rule("zulip_mention", _render_mention)
    md.add_render_rule("zulip_time", _render_time)
    md.add_render_rule("zulip_stream_link", _render_stream_link)
    return md


_MD: Final = _parser()


def render(
    content: str,
    lookup: Lookup,
    streams: StreamLookup = lambda name: None,
    groups: GroupLookup = lambda name: None,
) -> Rendering:
    rendering = Rendering("")
    env = {
        "lookup": lookup,
        "streams": streams,
        "groups": groups,
        "rendering": rendering,
        "quoted": False,
    }
    # Python-Markdown's NormalizeWhitespace deletes STX and ETX (its placeholder marks) first
    markdown = content.replace("\x02", "").replace("\x03", "")
    rendering.html = _MD.render(markdown, env).rstrip("\n")
    return rendering
