"""Owners, action items and decisions, read the way people write them in the notes.

The notes have no fixed place for tasks or decisions: note-takers write `Action item: ...`,
`JRG to ...`, `Jaime will look into this.`, `Consensus: ...` or `we agreed that ...` in any
sub-bullet, keep lists under headings or lead-in lines like "Action items" or "TODO", and put
owners in front of items as `XX:`, `(XX/YY)`, `[Name]`, `Name:` or `Mike S.:`
(notes-format.md sections 8 to 10). markdown-it-py has already said where paragraphs and list
items are; the patterns here work on the text of one paragraph at a time, with inline code,
links and quotations blanked out first, so that `[JRG will fix](...)` or a quoted sentence
never reads as a task.

Labelled forms and lists under an action heading are `explicit`; everything read from prose is
`inferred`, so a summary can ask a person to confirm those.

Older notes name owners rather than give initials (`Travis will be writing ...`, `Dasha to ...`,
`John K. will ...`, `Name - do this`, `(Eric) ...` in a TODO list, `jakirkham & CJ-wright to
...`). A name counts as an owner only where it starts a clause and is followed by what someone
will do, so "as Travis said" assigns nothing; a lower-case handle needs the roster or the
attendee list to know it. Each owner is also mapped to the person the roster or the attendee
list knows by that name (`names.person_for`), so the registry can hold initials.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from zulip_bot.notes.model import (
    PLACEHOLDER_TEXTS,
    ActionItem,
    AgendaItem,
    Confidence,
    Decision,
    OwnerStyle,
    Parsed,
    TextBlock,
)
from zulip_bot.notes.names import Named, person_for, spellings

# Acronyms that look like initials but are labels or topics ("CEP: ...", "PR: ..."). `SC`
# is not one of them: every `SC:` in the notes is a person (Sylvain Corlay).
NOT_INITIALS = frozenset(
    [
        "ABI",
        "AI",
        "AWS",
        "CDN",
        "COC",
        "CRM",
        "CZI",
        "DNS",
        "GCC",
        "GCP",
        "GHA",
        "GPG",
        "GSOC",
        "HPC",
        "IBM",
        "IDE",
        "JIT",
        "KPI",
        "LTS",
        "MKL",
        "MOU",
        "NEP",
        "OSS",
        "OVH",
        "PGP",
        "PSF",
        "SDK",
        "SQL",
        "SRE",
        "SSH",
        "SSL",
        "SSO",
        "TLS",
        "AOE",
        "API",
        "ARM",
        "BOF",
        "CDT",
        "CEP",
        "CFEP",
        "CI",
        "CLA",
        "CLI",
        "CPU",
        "CVE",
        "EOD",
        "ETA",
        "FAQ",
        "FYI",
        "GPU",
        "IO",
        "NB",
        "OS",
        "OSX",
        "PEP",
        "PR",
        "PRS",
        "PS",
        "PSA",
        "QA",
        "RC",
        "RFC",
        "TBD",
        "TLDR",
        "TODO",
        "TUF",
        "UI",
        "URL",
        "UX",
        "WIP",
    ]
)
NOT_NAMES = frozenset(
    [
        "TODO",
        "FYI",
        "WIP",
        "DONE",
        "NOTE",
        "NB",
        "EDIT",
        "UPDATE",
        "UPDATED",
        "DRAFT",
        "NEW",
        "OLD",
        "OPTIONAL",
    ]
)

# Capitalized words that open a line or a clause as a label, a product or plain English, not
# as someone's name ("Status: ...", "Linux: ...", "Outreach to ...", "Need to ...").
_NOT_PEOPLE_WORDS = """
    a about above absent according action actions active add added addendum adding after again
    agenda agreed agreement ai aiming all allow allows also alternative alternatives although
    always an and announcement announcements another answer answers any anyone anything appear
    approach approval approve archives are as ask asked at available back background based be
    because before best better blocker blog both bug build bump but by can canceled cancelled
    cdts ceps chance changelog channel check clarify comment comments concern concerns
    conclusion conda conda-forge conditional cons consensus consider constructor cont container
    content context continued core costs could create current currently date decided decision
    decisions defaults deferred demo deprecate details disable discuss discussed discussion docs
    document done draft drop due each easy edit either else enable ensure establish etc even
    every everyone everything example existing expecting explore feature feedback figure finally
    find first fix fixed follow fonts for from further fyi general generally get github give
    goal going good had happy hard has have having he help her here hi hint his hoping how
    however httperror i idea ideas if implementation improve in inc include initials intent
    intention intro investigate invite is issue issues it its just keep later let like link
    links linux linux-only llc long-term longer-term look looking mac macos main make mamba
    mambaforge maybe meeting mid mid- migrate migration miniconda miniforge more most motivation
    move moving my need needed needs new
    next no nobody none not note notes nothing now of ok okay old on one only open opportunity
    optional or organize other others our outcome outreach outreachy overall owner owners path
    pending people perhaps ping pixi place plan planned planning plans please poll possibility
    possibly post postponed potential pr prepare previously probably problem projects proposal
    proposals propose proposed pros provide pubgrub publish python q q's qt question questions
    quetz rattler reach ready reason reasons recap recommendation related release reminder
    remove removed rename rendered replace repo report request requests require resolution
    resolved result results review roadmap run same schedule scheduling screencast see
    semi-related send set she ship short-term should similar since skipped slides so solution
    solved some someone something soon source sources sprint sprints start status steps still
    stop subject submit subnote suggest suggestion suggestions summary support switch switched
    syntax take talk task tasks tbd tell test thanks that the their them then there these they
    things this those though ticket time timeline to today todo todos tomorrow topic total track
    tried try trying tutorial two unassigned update updated upstream use used useful users
    versions very volunteer volunteers vote votes waiting want was ways we website were what
    when where which while who why will willing windows windows-only with work workaround
    working would write yes yet you your
"""
NOT_PEOPLE = frozenset(_NOT_PEOPLE_WORDS.split())

_INITIALS = r"[A-Z](?:[a-z]?[A-Z]){1,2}"
_INITIALS_LIST = rf"{_INITIALS}(?:\s*/\s*{_INITIALS})*"
# A handle or a name, optionally with a second name or an initial ("Mike S.", "Matt B"), and
# a trailing `?` for a tentative owner.
_PARTICLE = r"(?:van|von|de|der|den|da|del|di|du|la|le|ten|ter)"
_TOKEN = rf"@?[^\W_][\w.'\u2019-]{{0,38}}(?:\s(?:{_PARTICLE}\s)?[A-Z][\w'\u2019-]*\.?(?![\w]))?\??"
_SEPARATOR = r"(?:\s*(?:[/,;&+]|\band\b|\bvia\b)\s*|\s+(?=@))"
_TOKEN_LIST = rf"{_TOKEN}(?:{_SEPARATOR}{_TOKEN})*"
# A person's name as the `Name:` prefix writes it: capitalized words, or a name and an initial.
_PERSON_NAME = r"[^\W\d_a-z][^\W\d_]*(?:[-'\u2019][^\W\d_]+)*(?:\s[A-Z][^\W\d_]*\.?)?"
_PERSON_LIST = rf"{_PERSON_NAME}(?:\s*(?:[+&/]|\band\b)\s*{_PERSON_NAME})*"

_PREFIXES: tuple[tuple[OwnerStyle, re.Pattern[str]], ...] = (
    ("paren", re.compile(rf"\(\s*(?P<o>{_TOKEN_LIST})\s*\):?(?:\s+|$)")),
    ("bracket", re.compile(rf"\[(?P<o>\s*{_TOKEN_LIST}\s*)\](?![(\[]):?(?:\s+|$)")),
    ("colon", re.compile(rf"(?P<o>{_INITIALS_LIST})(?:\s+\([^()]{{1,40}}\))?:(?:\s+|$)")),
    ("dash", re.compile(rf"(?P<o>{_INITIALS_LIST})\s+[-\u2013\u2014](?:\s+|$)")),
    ("colon", re.compile(rf"(?P<o>@?{_PERSON_LIST})(?:\s+\([^()]{{1,40}}\))?\s?:(?:\s+|$)")),
    ("dash", re.compile(rf"(?P<o>{_PERSON_NAME})\s+[-\u2013\u2014](?:\s+|$)")),
)
_SPLIT = re.compile(r"\s*(?:[/,;&+]|\band\b|\bvia\b)\s*|\s+(?=@)")
_NAME_END = re.compile(r":|\s[-\u2013\u2014](?:\s|$)")


@dataclass(frozen=True)
class OwnerPrefix:
    owners: tuple[str, ...]
    style: OwnerStyle
    written: str  # the prefix exactly as written, trailing space included


def is_initials(text: str) -> bool:
    """Whether `XX: ...` written with these initials reads back as an owner: 2 or 3 capital
    letters (a lower-case one may sit between, as in `MvN`) that are not a label like `CI`."""
    return (
        re.fullmatch(_INITIALS, text) is not None
        and text.upper() not in NOT_INITIALS
        and text.upper() not in NOT_NAMES
    )


def split_owners(text: str) -> tuple[str, ...]:
    return tuple(part.lstrip("@") for part in _SPLIT.split(text.strip()) if part)


def _name_words(owner: str) -> list[str]:
    """The words of a name but the particles inside it (`Marius van Niekerk`)."""
    words = owner.rstrip("?").split()
    inside = [word for word in words[1:-1] if re.fullmatch(_PARTICLE, word) is None]
    return words[:1] + inside + words[1:][-1:]


def _is_name(owner: str) -> bool:
    """A name as a prefix writes it: not a label word, not shouted (`CONCLUSION`)."""
    words = _name_words(owner)
    if not words or not words[0][:1].isupper() or words[0].casefold().rstrip(".") in NOT_PEOPLE:
        return False
    if len(words) > 1 and not re.fullmatch(r"[A-Z]\.?|[A-Z][^\W\d_A-Z]+", words[1]):
        return False  # `Mike S.`, `Chris Burr`; not `Zulip CEP`
    return all(
        word.casefold() not in NOT_PEOPLE and not (len(word) > 3 and word.isupper())
        for word in words
    )


def _may_own(owner: str) -> bool:
    """`(IF)` and `(jakirkham)` name people; `(conda)`, `(all)`, `(Needs Owner)` do not."""
    bare = owner.rstrip("?")
    if re.fullmatch(_INITIALS, bare) is not None:
        return True
    words = bare.split()
    return (
        bool(words)
        and words[0].casefold() not in NOT_PEOPLE
        and not (
            len(bare) > 3 and bare.isupper()  # `(DISCUSSED)`, `[WIP]`
        )
    )


def owner_prefix(text: str) -> OwnerPrefix | None:
    """The `XX:`, `(XX)`, `[XX]`, `XX -`, `Name:` or `Name -` owner prefix at the start of an
    item's text."""
    if not text or not (text[0] in "([@" or text[0].isupper()):
        return None  # every form starts with a bracket or a capital: most text is done here
    for number, (style, pattern) in enumerate(_PREFIXES):
        if number == 4 and not _NAME_END.search(text, 0, 90):
            return None  # no `:` or ` - ` near the start: no `Name:` or `Name -` either
        match = pattern.match(text)
        if match is None:
            continue
        owners = split_owners(match["o"])
        if not owners or any(o.rstrip("?").upper() in NOT_NAMES for o in owners):
            return None
        if number in (2, 3) and any(o.upper() in NOT_INITIALS for o in owners):
            return None
        if number < 2 and not all(_may_own(o) for o in owners):
            return None
        if number >= 4 and not all(_is_name(o) for o in owners):
            continue
        return OwnerPrefix(owners, style, match.group(0))
    return None


def format_owner_prefix(owners: tuple[str, ...], style: OwnerStyle) -> str:
    joined = "/".join(owners)
    return {
        "colon": f"{joined}: ",
        "paren": f"({joined}) ",
        "bracket": f"[{joined}] ",
        "dash": f"{joined} - ",
    }[style]


# --- reading one paragraph ------------------------------------------------------------------

_BLANK = "\u2591"  # stands in for masked characters: neither a word character nor a space
_STRUCK = "\u2592"  # stands in for struck-out text, which is no longer part of what is said
_STRIKE = re.compile(r"~~[^~\n]+~~")
_MASKED = re.compile(
    r"(`+)(?:(?!\1).)+?\1"  # inline code
    r"|!?\[[^\]\n]*\]\([^)\n]*\)"  # links and images, their text included
    r'|"[^"\n]*"|“[^”\n]*”'  # quotations
    r"|<?https?://[^\s>]+>?"  # bare URLs
)


def mask(text: str) -> str:
    """`text` with inline code, links, quotations and URLs blanked out, same length, so that
    what is found in it can be cut from `text` as written. (markdown-it-py's inline tokens
    would say what is code or a link, but not where it sits in the text.)"""
    text = _STRIKE.sub(lambda m: _STRUCK * len(m.group(0)), text)
    return _MASKED.sub(lambda m: _BLANK * len(m.group(0)), text)


_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+(?=[^\W\d_a-z@(\[*`\"“]|$)|;\s*|\s+(?:-+|\u2014|\u2013)\s+"
    r"|,\s+(?=(?:but|although|though|however|while|whereas)\b)"
)
_CLAUSE_START = re.compile(r"(?<=[,:]\s)\S")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    inner: bool  # inside parentheses


def clauses(masked: str) -> list[Span]:
    """Sentences and semicolon or dash clauses, outside and inside parentheses: a clause
    runs across a parenthesis, and what the parenthesis says is a clause of its own."""
    spans = [
        span for start, end in _parens(masked) for span in _split(masked, start + 1, end - 1, True)
    ]
    blanked = _blank_parens(masked)
    spans.extend(_split(blanked, 0, len(blanked), False))
    return sorted(spans, key=lambda s: s.start)


def _parens(masked: str) -> list[tuple[int, int]]:
    """The outermost balanced parentheses, as (start, end) spans."""
    found: list[tuple[int, int]] = []
    stack: list[int] = []
    for match in _PAREN.finditer(masked):
        if match.group() == "(":
            stack.append(match.start())
        elif stack:
            opened = stack.pop()
            if not stack:
                found.append((opened, match.end()))
    return found


_PAREN = re.compile(r"[()]")


def _blank_parens(masked: str) -> str:
    chars = list(masked)
    for start, end in _parens(masked):
        chars[start:end] = _BLANK * (end - start)
    return "".join(chars)


def _split(masked: str, start: int, end: int, inner: bool) -> Iterator[Span]:
    position = start
    for match in _SENTENCE_END.finditer(masked, start, end):
        if match.start() > position:
            yield Span(position, match.start(), inner)
        position = match.end()
    if end > position:
        yield Span(position, end, inner)


# --- people ---------------------------------------------------------------------------------


def _shaped_like_a_name(token: str) -> bool:
    words = _name_words(token)
    if not words or len(words) > 2:
        return False
    first = words[0]
    if not (first[:1].isupper() and first[1:].replace("-", "").replace("'", "").isalpha()):
        return False
    rest = first[1:]
    if rest and not (rest.islower() or (rest[:-1].islower() and rest[-1].isupper())):
        return False  # `Jaime`, `MichaelS` (a first name and an initial); not `GitHub`
    if len(first) >= 6 and first.endswith("ing"):
        return False  # "Moving to ...", "Planning to ..."
    return _is_name(token)


def is_person(token: str, known: Collection[str]) -> bool:
    """Whether an owner as written is a person: someone the notes know (an attendee's
    initials, names or handle, or an owner of an item), a mention, initials, or a
    capitalized name that is not a label or an English word."""
    bare = token.lstrip("@").rstrip("?")
    if len(bare) < 2:
        return False
    if bare.casefold() in known:
        return True
    if bare.upper() in NOT_INITIALS or bare.upper() in NOT_NAMES:
        return False
    if token.startswith("@"):
        return True
    return re.fullmatch(_INITIALS, bare) is not None or _shaped_like_a_name(bare)


def _known_person(token: str, known: Collection[str]) -> bool:
    """A person the notes name elsewhere, a mention, initials or a name: what `X will ...`
    needs. Things have futures too ("Miniconda will start shipping ..."), so a name is one
    word that is not a word of the notes' trade, or a first name and an initial."""
    bare = token.lstrip("@").rstrip("?")
    if bare.casefold() in known or token.startswith("@"):
        return len(bare) >= 2
    if re.fullmatch(_INITIALS, bare) is not None:
        return is_person(token, ())
    words = bare.split()  # `Jaime`, `John K.`; not `Anaconda Distribution`
    return (len(words) == 1 or re.fullmatch(r"[A-Z]\.?", words[1]) is not None) and is_person(
        token, ()
    )


def _written_owner(token: str, known: Collection[str]) -> bool:
    """An owner in a labelled line (`Action item: chenghlee to ...`), as the bot writes them:
    any handle-like word but a label or an English word."""
    bare = token.lstrip("@").rstrip("?")
    if is_person(token, known):
        return True
    if bare.casefold() in NOT_PEOPLE or bare.upper() in NOT_INITIALS or not bare[:1].isalnum():
        return False
    return re.fullmatch(r"[\w.'\u2019-]{2,39}", bare) is not None


def known_people(parsed: Parsed) -> frozenset[str]:
    """Everyone the notes name as a person, lower-cased: attendees' initials, names, first
    names and handles, and the owners written in front of items."""
    found: set[str] = set()
    for person in parsed.attendees:
        for value in (person.initials, person.github, person.name):
            if value.strip():
                found.add(value.strip().casefold())
        if person.name.split():
            found.add(person.name.split()[0].casefold())
    for item in parsed.items_at.values():
        found.update(owner.rstrip("?").casefold() for owner in item.owners)
    for block in parsed.texts:
        found.update(m["name"].casefold() for m in _MENTION.finditer(block.text))
    return frozenset(found)


_MENTION = re.compile(r"(?<![\w@])@(?P<name>[^\W\d_][\w.-]*(?:\s[A-Z]\b\.?)?)")


# --- action items ---------------------------------------------------------------------------

_ASSIGNMENT = re.compile(
    rf"(?:(?:and|then|so|but|also)\s+)?(?P<o>{_TOKEN_LIST})\s+"
    r"(?P<verb>to|will|shall|is going to|are going to|volunteered to|offered to|agreed to)"
    r"\s+(?P<task>\S.*)",
    re.DOTALL,
)
# Words that after `X to` say it is not an assignment ("Wolf to core", "Welcome to the ...").
_NOT_A_TASK = frozenset(
    {"the", "a", "an", "this", "that", "these", "those", "core", "be", "my", "our", "your",
     "their", "his", "her", "its", "all", "each", "some", "any", "no", "more", "most", "now",
     "today", "tomorrow", "next", "last", "here", "there", "me", "him", "them", "us", "you",
     "it", "staged", "emeritus", "and", "or"}
)  # fmt: skip
_NOT_AFTER_WILL = frozenset({"probably", "likely", "maybe", "possibly", "perhaps", "not", "never"})
# Adverbs that may sit between `will` and its verb: `X will still be there` is no task.
_BETWEEN_WILL = frozenset({"still", "also", "then", "now", "soon", "just", "first", "eventually"})
# `Action item: ...`, `Anaconda action item - ...`, `cfep-10 next steps: ...`, `AI: ...`,
# `todo: ...`; and `TODO ...`, `(TODO) ...`, `TODO for @x: ...` without a separator.
_LABEL = re.compile(
    r"(?:^|(?<=\s))(?:\*\*)?(?P<label>(?:[\w-]+\s+){0,3}?(?i:action(?:\s+items?)?|next\s+steps?)"
    r"|(?<![\w-])(?:AI|[Tt]odos?))(?:\*\*)?\s*(?::|\s-+|\u2014)\s*(?:\*\*)?\s*(?P<rest>\S.*)"
    r"|^\(?(?P<todo>TODOs?|ToDo|Todo)\)?(?:\s+for\s+(?P<for>@?[\w.-]+))?\s*(?::|-+)?\s+"
    r"(?P<todo_rest>\S.*)",
    re.DOTALL,
)
_LEAD_IN = re.compile(
    r"(?:[\w-]+\s+){0,3}?"
    r"(?:new\s+|open\s+|previous\s+|outstanding\s+|check\s+in\s+on\s+(?:previous\s+)?)?"
    r"(?:action(?:able)?\s+(?:items?|things)|todos?|to\s+dos?|next\s+steps?)"
    r"(?:\s+(?:for|to|from|of|at|in)\b.*)?",
    re.IGNORECASE | re.DOTALL,
)
_WHO = re.compile(
    r"\bwho\s+(?:will|wants\s+to|can|could|is\s+going\s+to|would\s+like\s+to|volunteers\s+to)"
    r"\s+(?P<task>[^?]+)\?",
    re.IGNORECASE,
)
# The verbs an unchecked sub-item starts with when it is a task (`- [ ] (JK) check the
# workers`); words that are as often nouns ("support", "update") are left out.
_IMPERATIVES = frozenset(
    {"add", "ask", "call", "check", "clarify", "collect", "compile", "confirm", "contact",
     "coordinate", "create", "document", "draft", "email", "figure", "file", "finish", "fix",
     "follow", "investigate", "look", "make", "merge", "open", "ping", "post", "prepare",
     "publish", "reach", "remove", "review", "schedule", "send", "set", "submit", "sync",
     "think", "write"}
)  # fmt: skip
_VAGUE_TASK = re.compile(
    r"(?:do|take|own|handle|drive|lead|pick\s+up|follow\s+up\s+on)\s+(?:this|it|that)(?:\s+on)?",
    re.IGNORECASE,
)
_ANSWER = re.compile(rf"(?P<o>{_TOKEN_LIST})(?:\s*[;,.:!)]|\s+(?:will|can|volunteers?)\b|\s*$)")
# `CEP for signature verification (SA, next two weeks)`: the owner named at the end.
_TRAILING_OWNERS = re.compile(rf"\((?P<o>{_TOKEN_LIST})\s*(?:[,;][^()]*)?\)\s*$")
_DOUBLE_MARKER = re.compile(r"^\(\s*\)\s*\[(?P<box>[ xX]?)\]\s*")
# `(Needs Owner) Searching on our website ...`: an owner slot that says nobody has it yet.
_NO_OWNER = re.compile(
    r"^\((?i:needs?\s+(?:an\s+)?owner|owner\s+needed|no\s+owner|unassigned|nobody|tbd)\)\s*"
)
# `Design doc for 5.0 (action item for CHL)`: the label and the owner after the task.
_LABEL_AFTER = re.compile(
    rf"\s*\(\s*(?i:action\s+items?|todo|ai)\s+for\s+(?P<o>{_TOKEN_LIST})\s*\)\s*$"
)


@dataclass(frozen=True)
class Found:
    """One action read from a paragraph: the sentence as written, the task and its owners."""

    text: str
    task: str
    owners: tuple[str, ...]
    confidence: Confidence


_ASSIGNMENT_HINT = re.compile(r"\s(?:to|will|shall|going|volunteered|offered|agreed)\s")


def _assignment(
    text: str, masked: str, start: int, end: int, known: Collection[str], *, written: bool
) -> Found | None:
    """`JRG to ...`, `Jaime will ...`, `Cheng, Marcelo to ...` starting at `start`. A line
    the bot wrote (`written`) takes any task after `XX to`; prose wants a verb there."""
    while end > start and masked[end - 1] in f"{_STRUCK} ":
        end -= 1  # `... committee. ~~- a struck-out line~~`
    match = _ASSIGNMENT.match(masked, start, end)
    if match is None:
        return None
    written_as = [part for part in _SPLIT.split(text[match.start("o") : match.end("o")]) if part]
    if written or match["verb"].endswith("ed to"):
        check = _written_owner
    elif match["verb"] == "to":
        check = is_person
    else:  # "Miniconda will ...": a future about a thing, unless the notes know the name
        check = _known_person
    if not written_as or not all(check(owner, known) for owner in written_as):
        return None
    owners = tuple(part.lstrip("@") for part in written_as)
    task = text[match.start("task") : end].strip()
    words = masked[match.start("task") : end].split()
    if not task or not words:
        return None
    if not written:
        if match["verb"] == "will":
            while len(words) > 1 and words[0] in _BETWEEN_WILL:
                words = words[1:]
        first = words[0]
        after = words[1] if len(words) > 1 else ""
        # `Travis will be writing a blog article`; but `Jaime will be at PyCon`
        ongoing = match["verb"] == "will" and first == "be" and after.endswith("ing")
        if not ongoing and (not first[:1].islower() or first.casefold() in _NOT_A_TASK):
            return None
        if match["verb"] == "will" and first in _NOT_AFTER_WILL:
            return None
    sentence = text[match.start("o") : end].strip()
    return Found(sentence, task, owners, "explicit" if written else "inferred")


def _labelled(text: str, masked: str, known: Collection[str]) -> Found | None:
    """`Action item: ...`, `TODO: ...`, `TODO for @x: ...`, `... next steps: ...`, `AI: ...`."""
    match = _LABEL.search(masked)
    if match is None:
        return None
    rest = match.start("rest") if match["rest"] else match.start("todo_rest")
    body = text[rest:].strip()
    if not body:
        return None
    if match["for"]:
        return Found(body, body, (match["for"].lstrip("@"),), "explicit")
    prefix = owner_prefix(body)
    if prefix is not None and body[len(prefix.written) :].strip():
        task = _unboxed(body[len(prefix.written) :])
        return Found(body, _without_will(task), prefix.owners, "explicit")
    assigned = _assignment(text, masked, rest, len(text), known, written=True)
    return assigned or _unowned(body, known)


def _unowned(text: str, known: Collection[str]) -> Found:
    """A task without an owner in front: the owners a clause of it or its last parenthesis
    names (`... (JL, DPC will follow up)`, `... (SA, next two weeks)`), if any."""
    masked = mask(text)
    for found in read_actions(text, known):
        if found.owners:
            return Found(text, found.task, found.owners, "explicit")
    trailing = _TRAILING_OWNERS.search(masked)
    if trailing is not None:
        written_as = [p for p in _SPLIT.split(text[trailing.start("o") : trailing.end("o")]) if p]
        if written_as and all(is_person(p, known) for p in written_as):
            return Found(text, text, tuple(p.lstrip("@") for p in written_as), "explicit")
    return Found(text, text, (), "explicit")


def _without_will(task: str) -> str:
    return task[5:].strip() if task.startswith("will ") else task.strip()


def _unboxed(text: str) -> str:
    return re.sub(r"^\s*\[[ xX]?\]\s*", "", text).strip()


def read_actions(text: str, known: Collection[str] = ()) -> list[Found]:
    """The actions one paragraph of prose records: a labelled one, or each clause that
    assigns work to a person. Questions assign nothing."""
    masked = mask(text)
    labelled = _labelled(text, masked, known)
    if labelled is not None:
        return [labelled]
    after = _LABEL_AFTER.search(masked)
    if after is not None and after.start() > 0:
        owners = split_owners(text[after.start("o") : after.end("o")])
        return [Found(text, text[: after.start()].strip(), owners, "explicit")]
    if _ASSIGNMENT_HINT.search(masked) is None:
        return []
    found = []
    blanked = _blank_parens(masked)
    for span in clauses(masked):
        if masked[span.start : span.end].rstrip().endswith("?"):
            continue
        seen = masked if span.inner else blanked  # an outer clause starts outside parentheses
        first = len(seen[span.start : span.end]) - len(seen[span.start : span.end].lstrip())
        starts = [span.start + first]
        starts += [m.start() for m in _CLAUSE_START.finditer(seen, span.start, span.end)]
        for start in starts:
            assigned = _assignment(text, masked, start, span.end, known, written=False)
            if assigned is not None:
                found.append(assigned)
                break
    return found


@dataclass(frozen=True)
class _Context:
    """What the reader knows about one file beyond a paragraph's text."""

    known: frozenset[str]
    parents: dict[int, AgendaItem]  # item line -> the item it is nested in
    listed: frozenset[int]  # item lines under an action heading or lead-in line
    quoted: frozenset[int]  # paragraph lines inside a blockquote
    styles: dict[int, OwnerStyle | None]  # item line -> how its owner prefix is written


def is_lead_in(text: str) -> bool:
    """`Action items`, `**TODO**`, `Next steps:`, `Actionable things to check in ...`: a line
    that says the list after it (or under it) holds tasks."""
    if re.search(r":\s*\S", text):
        return False
    bare = " ".join(re.sub(r"[*_:]+", " ", text).split())
    return bare != "" and _LEAD_IN.fullmatch(bare) is not None


def _listed_lines(parsed: Parsed) -> frozenset[int]:
    """Items under an action heading (or a section nested in one), under a lead-in item
    ("todo", "**Actionable things ...**") or in the list right after a lead-in paragraph."""
    listed: set[int] = set()
    inside: int | None = None  # the level of the action heading we are under
    for span in parsed.sections:
        if inside is not None and span.level <= inside:
            inside = None
        if inside is None and is_lead_in(span.title):
            inside = span.level
        if inside is not None:
            listed.update(line for item in span.items for line in _item_lines(item))
    for item in parsed.items_at.values():
        if is_lead_in(item.text):
            listed.update(line for child in item.children for line in _item_lines(child))
    starts = {span.start + 1 for span in parsed.sections}
    after_lead_in = False
    events = sorted([(b.line, b) for b in parsed.texts] + [(s, None) for s in starts], key=_first)
    for line, block in events:
        first = parsed.items_at.get(line - 1)
        if block is None:
            after_lead_in = False
        elif first is not None and first.line == line:
            if after_lead_in:
                listed.update(_item_lines(first))
        else:
            after_lead_in = is_lead_in(block.text)
    return frozenset(listed)


def _first(event: tuple[int, TextBlock | None]) -> tuple[int, int]:
    return event[0], event[1] is not None  # a heading before a paragraph on the same line


def _item_lines(item: AgendaItem) -> Iterator[int]:
    yield item.line
    for child in item.children:
        yield from _item_lines(child)


def _quoted_lines(parsed: Parsed, lines: Sequence[str]) -> frozenset[int]:
    """Paragraphs that sit in a blockquote: someone is being quoted, not recorded."""
    quoted = set()
    for block in parsed.texts:
        raw = lines[block.line - 1] if block.line - 1 < len(lines) else ""
        bare = re.sub(r"^\s*(?:(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]?\]\s*)?)*", "", raw)
        if bare.startswith(">"):
            quoted.add(block.line)
    return frozenset(quoted)


def _box(item: AgendaItem) -> bool | None:
    """The item's checkbox, also when written after an empty owner slot (`( ) [ ] ...`)."""
    if item.checked is not None:
        return item.checked
    double = _DOUBLE_MARKER.match(item.text)
    return None if double is None else double["box"] in ("x", "X")


def _is_group(item: AgendaItem) -> bool:
    """`(IF/MRB) intel oneAPI` over boxed sub-tasks names a topic, not a task."""
    boxed = any(_box(c) is not None or is_lead_in(c.text) for c in item.children)
    return is_lead_in(item.text) or (boxed and len(item.text.split()) <= 4)


def _listed_action(item: AgendaItem, context: _Context) -> Found | None:
    """An item of an action list: a task unless done, a topic over tasks, or a note under
    another task. Its owners are the item's, or those its text assigns the task to."""
    if _box(item) is True or _is_group(item):
        return None
    text = _NO_OWNER.sub("", _DOUBLE_MARKER.sub("", item.text)).strip()
    if text in PLACEHOLDER_TEXTS:
        return None
    masked = mask(text)
    labelled = _labelled(text, masked, context.known)
    if labelled is not None:
        return labelled if labelled.owners or not item.owners else _owned(labelled, item)
    parent = context.parents.get(item.line)
    if (
        parent is not None
        and _box(item) is None
        and parent.line in context.listed
        and not _is_group(parent)
    ):
        return None  # a note under a listed task
    if not item.owners:
        assigned = _assignment(text, masked, 0, len(text), context.known, written=True)
        if assigned is not None:
            return assigned
        mention = re.match(rf"@(?P<o>{_TOKEN})\s", masked)
        if mention is not None:
            return Found(text, text[mention.end() :].strip(), (mention["o"],), "explicit")
        return _unowned(text, context.known)
    return Found(text, _without_will(text), item.owners, "explicit")


def _owned(found: Found, item: AgendaItem) -> Found:
    return Found(found.text, found.task, item.owners, found.confidence)


def _answered(item: AgendaItem, context: _Context) -> list[tuple[AgendaItem, Found]]:
    """`Who will do X?` answered by a sub-bullet that starts with a person: X is theirs."""
    question = _WHO.search(mask(item.text))
    if question is None:
        return []
    task = item.text[question.start("task") : question.end("task")].strip()
    parent = context.parents.get(item.line)
    if parent is not None and _VAGUE_TASK.fullmatch(task):
        task = parent.text  # "Who will do this?" under the topic that says what "this" is
    after = item.text[question.end() :].strip()
    found = []
    for answer in [after, *(child.text for child in item.children)]:
        owners = _answerers(answer, context.known)
        if owners:
            line = item if answer is after else next(c for c in item.children if c.text == answer)
            found.append((line, Found(answer, task, owners, "inferred")))
    return found


def _answerers(text: str, known: Collection[str]) -> tuple[str, ...]:
    """Who an answer to "who will ...?" names first (`KK`, `Jaime; should reach out ...`)."""
    answer = _ANSWER.match(mask(text))
    if answer is None:
        return ()
    written_as = [part for part in _SPLIT.split(text[: answer.end("o")]) if part]
    if not written_as or not all(is_person(part, known) for part in written_as):
        return ()
    return tuple(part.lstrip("@") for part in written_as)


def _block_actions(block: TextBlock, item: AgendaItem | None, context: _Context) -> list[Found]:
    if item is not None and item.line in context.listed:
        listed = _listed_action(item, context)
        return [listed] if listed is not None else []
    found = read_actions(block.text, context.known)
    if item is None:
        return found
    found = [_owned(f, item) if not f.owners and item.owners else f for f in found]
    masked = mask(item.text).rstrip()
    if not item.owners or found or masked[-1:] == "?":
        return found
    bracketed = context.styles.get(item.line) in ("paren", "bracket")
    if re.match(r"will\s+[a-z]", masked) or (bracketed and re.match(r"Will\s+[a-z]", masked)):
        # `(DPC) will submit an issue`; but `CHL: Will talk ...` is what CHL said
        return [Found(item.text, item.text[5:].strip(), item.owners, "inferred")]
    first = masked.split(maxsplit=1)[0] if masked else ""
    if _box(item) is False and item.line in context.parents and first in _IMPERATIVES:
        return [Found(item.text, item.text, item.owners, "inferred")]  # `- [ ] (MRB) make a PR`
    if context.styles.get(item.line) == "dash" and first.casefold() in _IMPERATIVES:
        return [Found(item.text, item.text, item.owners, "inferred")]  # `Jaime - open an issue`
    return found


def action_items(
    parsed: Parsed, lines: Sequence[str], roster: Sequence[Named] = ()
) -> list[ActionItem]:
    """Every action item the notes record, in file order, each owner also mapped to the person
    the roster (first) or the file's attendee list knows by that name."""
    context = _Context(
        known=known_people(parsed) | {s for person in roster for s in spellings(person)},
        parents={c.line: i for i in parsed.items_at.values() for c in i.children},
        listed=_listed_lines(parsed),
        quoted=_quoted_lines(parsed, lines),
        styles={start + 1: layout.owner_style for start, layout in parsed.layouts.items()},
    )
    out: list[ActionItem] = []
    for block in parsed.texts:
        if block.line in context.quoted:
            continue
        item = parsed.items_at.get(block.line - 1)
        if item is not None and (item.line != block.line or item.text != block.text):
            item = None
        found = [(f, block.line) for f in _block_actions(block, item, context)]
        if item is not None and item.line not in context.listed:
            found += [(f, child.line) for child, f in _answered(item, context)]
        for action, line in found:
            people = tuple(person_for(o, roster, parsed.attendees) for o in action.owners)
            out.append(_action(action, block, line, people))
    return sorted(out, key=lambda a: a.line)


def _action(found: Found, block: TextBlock, line: int, people: tuple[str, ...]) -> ActionItem:
    return ActionItem(
        found.text, found.owners, block.top_item, line, found.task, found.confidence, people
    )


# --- decisions ------------------------------------------------------------------------------

_DECISION_LABEL = re.compile(
    r"(?:\*\*)?(?:consensus|decision|decisions|decided|agreed|agreement|conclusion"
    r"|general\s+(?:feeling|consensus)|compromise\s+resolution|resolution|resolved"
    r"|(?:solved|outcome|verdict)(?=\s*:))\b(?:\*\*)?",
    re.IGNORECASE,
)
_LABEL_INSIDE = re.compile(
    r"(?<=\s)(?:Consensus|CONSENSUS|Decision|DECISION|Decided|Conclusion|CONCLUSION|Resolved"
    r"|RESOLVED|Agreed|Solved|Outcome)\s*:"
)
_DECISION_PROSE = re.compile(
    r"\b(?:we|they|core|everyone|all|the\s+(?:group|team|council|core\s+team))\s+"
    r"(?:have\s+|has\s+|had\s+|all\s+)?(?:decided|agreed|resolved|voted)\b"
    r"|\b(?:general\s+)?consensus\s+(?:was|is|reached|seems)\b"
    r"|\bfeeling\s+(?:is|was)\s+(?:a\s+)?(?:yes|no)\b"
    r"|\bvotes?\s+(?:has\s+|have\s+)?(?:passed|failed)\b|\bpassed\s+(?:the\s+)?vote\b"
    r"|^(?:voice|unanimous|formal)\s+vote\s+to\b"
    r"|\bhave\s+(?:an\s+)?agreement\b|\bagreement\s+(?:that|to|was\s+reached)\b"
    r"|^\d+\s*/\s*\d+\s+yes\b",
    re.IGNORECASE,
)
_UNDECIDED = re.compile(
    r"\b(?:no|not|nothing|never|un)\s*(?:yet\s+)?(?:decided|decision|consensus|agreement|agreed)"
    r"|n't\s+(?:yet\s+)?(?:decided|agreed)|\bif\s+(?:we|they)\b"
    r"|\bdecisions?\s+(?:to\s+be\s+made|needed|pending|required)",
    re.IGNORECASE,
)


_DECISION_HINT = re.compile(
    r"consensus|decid|decision|agree|conclu|resol|solved|outcome|verdict|feeling|vote|yes",
    re.IGNORECASE,
)
# "how consensus is reached", "once you have agreement": a condition, not an outcome.
_CONDITIONAL = re.compile(
    r"\b(?:how|whether|what|if|once|when|until|unless)\s+(?:\w+\s+){0,2}"
    r"(?:consensus|decided|agreed|decision|agreement)",
    re.IGNORECASE,
)


def find_decision(text: str) -> tuple[str, Confidence] | None:
    """The decision a paragraph records, from its first word to the paragraph's end."""
    if _DECISION_HINT.search(text) is None:
        return None
    masked = mask(text)
    for span in clauses(masked):
        if span.inner:
            continue
        sentence = masked[span.start : span.end]
        if "?" in sentence or _UNDECIDED.search(sentence):
            continue
        label = _DECISION_LABEL.match(sentence)
        if label is not None and masked[span.start + label.end() :].strip(" :*-\u2014"):
            return text[span.start :].strip(), "explicit"
        if label is None and _DECISION_PROSE.search(sentence) and not _CONDITIONAL.search(sentence):
            return text[span.start :].strip(), "inferred"
    inside = _LABEL_INSIDE.search(masked)
    if inside is not None and "?" not in masked[inside.start() :]:
        return text[inside.start() :].strip(), "explicit"
    return None


def is_decision(text: str) -> bool:
    """Whether the whole of `text` reads back as a decision."""
    found = find_decision(text)
    return found is not None and found[0] == text.strip()


def decisions(parsed: Parsed, lines: Sequence[str]) -> list[Decision]:
    quoted = _quoted_lines(parsed, lines)
    out = []
    for block in sorted(parsed.texts, key=lambda b: b.line):
        found = find_decision(block.text) if block.line not in quoted else None
        if found is not None:
            out.append(Decision(found[0], block.top_item, block.line, found[1]))
    return out
