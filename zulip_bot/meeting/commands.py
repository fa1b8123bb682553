"""Chat text to a `Command`, or a `CommandError` whose reply says what would work.

One table of `Spec`s is both the dispatch and the help text (as in HCoop Meetbot), so the help
can never describe a command the parser does not know, nor miss one it does. Everything here is
pure: the service decides what a command means for the meeting; this module only decides what
the person typed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import shlex
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeAlias
from zoneinfo import available_timezones

__all__ = [
    "COMMAND_NAMES",
    "COMMAND_WORDS",
    "MAX_NUMBER",
    "MAX_TEXT",
    "SPECS",
    "TOPICS",
    "Action",
    "Actions",
    "Add",
    "Agenda",
    "Chair",
    "ClosePoll",
    "Command",
    "CommandError",
    "Decided",
    "Done",
    "Edit",
    "End",
    "Extra",
    "GoTo",
    "Help",
    "Here",
    "Iam",
    "Mention",
    "Move",
    "Next",
    "NextMeeting",
    "Note",
    "Notes",
    "Owner",
    "Poll",
    "Schedule",
    "Skip",
    "Spec",
    "Start",
    "StartMeeting",
    "Undo",
    "Unskip",
    "Unvote",
    "Vote",
    "Withdraw",
    "help_for",
    "name_of",
    "overview",
    "parse",
    "parse_mention",
    "usage",
]

MAX_TEXT = 2000
"""Longest text argument; far below Zulip's 10,000-character message limit, so replies that echo
the text still fit, and long enough for any agenda item or note a person types by hand."""
MAX_NUMBER = 9999
MAX_TITLE = 100  # an ad hoc meeting's title heads its summary
MAX_OPTIONS = 20
_QUOTE_LIMIT = 40  # how much of a mistyped word a reply echoes back

_MENTION = re.compile(r"@_?\*\*(?P<name>[^*|]+?)(?:\|(?P<id>[0-9]{1,12}))?\*\*")
_ITEM_NUMBER = re.compile(r"#?0*(?P<n>[1-9][0-9]{0,3})")  # ASCII digits: int() must not fail
_ACTION_ID = re.compile(r"[Aa]?#?0*(?P<n>[1-9][0-9]{0,8})")
_QUORUM = re.compile(r"0*(?P<n>[1-9][0-9]{0,5})")
_GITHUB = re.compile(r"@(?P<login>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))")
_HANDLE = re.compile(r"@(?P<handle>\w[\w.-]*)")
_OWNER_TOKEN = re.compile(rf"{_MENTION.pattern}|[^\s/:]+")
_WORD = re.compile(r"\S+")
_SMART_QUOTES = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'", "\u201a": "'"}
)
# A typographic apostrophe (U+2019) between letters, as in Wolf's, is not a closing quote.
_APOSTROPHE = re.compile(r"(?<=\w)\u2019(?=\w)")


class CommandError(ValueError):
    """A message the bot could not understand; `reply` is what to tell the sender."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class Mention:
    """A Zulip `@**Name**` mention; the id is there when Zulip disambiguated the name."""

    name: str
    user_id: int | None = None


@dataclass(frozen=True)
class Owner:
    """Who owns an action item, as typed: initials, a GitHub handle (`@name`, kept without the
    `@`), or a mention the service can resolve against the roster."""

    text: str
    mention: Mention | None = None
    handle: bool = False
    # A capitalised word (`Eric follow up`): an owner only if it names someone the meeting
    # knows, else the first word of the task.
    name: bool = False


@dataclass(frozen=True)
class Add:
    kind: Literal["item", "announcement", "intro"]
    text: str


@dataclass(frozen=True)
class Edit:
    number: int
    text: str


@dataclass(frozen=True)
class Withdraw:
    number: int


@dataclass(frozen=True)
class Vote:
    number: int


@dataclass(frozen=True)
class Unvote:
    number: int


@dataclass(frozen=True)
class Agenda:
    pass


@dataclass(frozen=True)
class Poll:
    question: str
    options: tuple[str, ...]
    quorum: int | None = None
    voters: str | None = None


@dataclass(frozen=True)
class ClosePoll:
    pass


@dataclass(frozen=True)
class Here:
    pass


@dataclass(frozen=True)
class Iam:
    """Self-registration; empty strings mean "not given", so a row can be written as is."""

    initials: str
    affiliation: str = ""
    github: str = ""


@dataclass(frozen=True)
class Chair:
    person: Mention


@dataclass(frozen=True)
class Start:
    pass


@dataclass(frozen=True)
class StartMeeting:
    """An ad hoc meeting in the topic the command is sent in, which nobody configured."""

    title: str


@dataclass(frozen=True)
class Next:
    pass


@dataclass(frozen=True)
class GoTo:
    number: int


@dataclass(frozen=True)
class Note:
    """`item` is set for `note #n <text>`, a detail under item n rather than the open one."""

    text: str
    item: int | None = None


@dataclass(frozen=True)
class Action:
    """An action item; no owners means none was recognisable, which the service points out."""

    owners: tuple[Owner, ...]
    text: str
    # All that followed `action`, for when the owners turn out to be words of the task.
    said: str = field(default="", compare=False)
    item: int | None = None  # `action #n ...`: under item n, not the open one


@dataclass(frozen=True)
class Decided:
    text: str
    item: int | None = None  # `decided #n ...`: under item n, not the open one


@dataclass(frozen=True)
class Undo:
    pass


@dataclass(frozen=True)
class End:
    pass


@dataclass(frozen=True)
class Actions:
    who: Literal["all", "mine"] | Mention


@dataclass(frozen=True)
class Done:
    action_id: int


@dataclass(frozen=True)
class Notes:
    pass


@dataclass(frozen=True)
class NextMeeting:
    pass


@dataclass(frozen=True)
class Schedule:
    pass


@dataclass(frozen=True)
class Skip:
    """`day` None is the next meeting with `next` (`skip next`), else (a bare `skip` or
    `cancel`) the meeting whose topic it is sent in."""

    day: dt.date | None
    reason: str = ""
    next: bool = False


@dataclass(frozen=True)
class Unskip:
    day: dt.date


@dataclass(frozen=True)
class Move:
    """At least one of `to_day` and `to_time`: without a day the meeting keeps its date,
    without a time its usual start. `zone` is an IANA name; None is the meeting's own zone."""

    day: dt.date
    to_day: dt.date | None
    to_time: dt.time | None
    zone: str | None = None


@dataclass(frozen=True)
class Extra:
    day: dt.date
    time: dt.time
    zone: str | None = None
    title: str = ""


@dataclass(frozen=True)
class Help:
    """`topic` is a canonical command name or one of `TOPICS`, so the service never sees an
    alias or a typo."""

    topic: str | None = None


Command: TypeAlias = (
    Add
    | Edit
    | Withdraw
    | Vote
    | Unvote
    | Agenda
    | Poll
    | ClosePoll
    | Here
    | Iam
    | Chair
    | Start
    | StartMeeting
    | Next
    | GoTo
    | Note
    | Action
    | Decided
    | Undo
    | End
    | Actions
    | Done
    | Notes
    | NextMeeting
    | Schedule
    | Skip
    | Unskip
    | Move
    | Extra
    | Help
)

Parser: TypeAlias = Callable[[str, "Spec"], Command]


@dataclass(frozen=True)
class Spec:
    """One command: the words that select it, how to use it, and how to read its arguments.

    `usage` is what help and error replies show; `forms` are further ways to write it that help
    also lists; `aliases` are other words that select the same command.
    """

    name: str
    usage: str
    summary: str
    parse: Parser
    aliases: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()


# --- quoting what the person typed -------------------------------------------------------------


def _code(text: str) -> str:
    """Echo user text as inline code that a stray backtick or a pasted essay cannot break."""
    shown = " ".join(text.split())
    if len(shown) > _QUOTE_LIMIT:
        shown = shown[: _QUOTE_LIMIT - 1] + "…"
    longest = max((len(run) for run in re.findall("`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def _usage_hint(spec: Spec) -> str:
    return f"Usage: `{spec.usage}`"


# --- argument readers --------------------------------------------------------------------------


def parse_mention(text: str) -> Mention | None:
    """A whole-string Zulip mention (plain or silent, with or without `|id`), else None."""
    match = _MENTION.fullmatch(text.strip())
    if match is None or not match["name"].strip():
        return None
    user_id = int(match["id"]) if match["id"] else None
    return Mention(match["name"].strip(), user_id)


def _visible(text: str) -> bool:
    """Anything but NULs, zero widths and spaces."""
    return any(unicodedata.category(ch)[0] not in "CZ" for ch in text)


def _text(rest: str, name: str, usage_line: str) -> str:
    """The free-text argument, kept in the sender's own case and line breaks."""
    text = rest.strip()
    if not _visible(text):
        raise CommandError(f"`{name}` needs some text. Usage: `{usage_line}`")
    if len(text) > MAX_TEXT:
        raise CommandError(
            f"That text is {len(text):,} characters long; the limit is {MAX_TEXT:,}."
        )
    return text


def _spec_text(rest: str, spec: Spec) -> str:
    return _text(rest, spec.name, spec.usage)


def _item_number(word: str, spec: Spec) -> int:
    match = _ITEM_NUMBER.fullmatch(word)
    if match is None:
        raise CommandError(f"{_code(word)} is not an item number. {_usage_hint(spec)}")
    return int(match["n"])


def _leading_number(rest: str, spec: Spec) -> tuple[int, str]:
    """The item number that starts the arguments, and whatever follows it."""
    parts = rest.strip().split(None, 1)
    if not parts:
        example = spec.usage.replace("<n>", "3")
        raise CommandError(f"`{spec.name}` needs an item number, like `{example}`.")
    return _item_number(parts[0], spec), parts[1] if len(parts) > 1 else ""


def _only_number(rest: str, spec: Spec) -> int:
    number, extra = _leading_number(rest, spec)
    if extra.strip():
        raise CommandError(
            f"`{spec.name}` takes just one item number, not {_code(rest)}. {_usage_hint(spec)}"
        )
    return number


def _nothing(rest: str, spec: Spec) -> None:
    """Refuse arguments rather than ignore them: `next meet` most likely meant `next meeting`,
    and moving the live meeting on instead would be a surprise."""
    if rest.strip():
        phrase = f"{spec.name} {rest.split()[0].casefold()}"
        phrases = [words for words, other in _BY_WORDS.items() if " " in words and other != spec]
        close = difflib.get_close_matches(phrase, phrases, n=1, cutoff=0.8)
        hint = f" Did you mean `{_BY_WORDS[close[0]].name}`?" if close else ""
        raise CommandError(f"`{spec.name}` takes nothing after it; you wrote {_code(rest)}.{hint}")


def _is_initials(word: str) -> bool:
    """Initials-shaped: `JRG`, `MvN`; two capitals keep ordinary words like `Call` out."""
    return (
        word.isalpha()
        and 2 <= len(word) <= 4
        and word[0].isupper()
        and sum(ch.isupper() for ch in word) >= 2
    )


def _owner(token: str) -> Owner | None:
    mention = parse_mention(token)
    if mention is not None:
        return Owner(mention.name, mention)
    handle = _HANDLE.fullmatch(token)
    if handle is not None:
        return Owner(handle["handle"], handle=True)
    if _is_initials(token):
        return Owner(token)
    if token.isalpha() and token[0].isupper() and token[1:].islower() and len(token) > 1:
        return Owner(token, name=True)
    return None


def _leading_owners(text: str) -> tuple[tuple[Owner, ...], int] | None:
    """Owners at the start of `text` (`JRG`, `BZ/WV`, `@**Ann Bee**`, optionally followed by a
    colon) and where they end; None when the first word is not an owner, so that `action call
    the vote` stays plain text rather than being refused."""
    owners: list[Owner] = []
    pos = 0
    while True:
        token = _OWNER_TOKEN.match(text, pos)
        owner = _owner(token.group()) if token else None
        if token is None or owner is None:
            return None
        owners.append(owner)
        pos = token.end()
        if not text.startswith("/", pos):
            break
        pos += 1
    if text.startswith(":", pos):
        pos += 1
    if pos < len(text) and not text[pos].isspace():
        return None
    return tuple(owners), pos


_DATE = re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})")
_CLOCK = re.compile(r"(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})")
_TIME_LIKE = re.compile(r"[0-9]{1,2}(:[0-9]*)?\s*([ap]\.?m\.?)?", re.I)


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA zone by its folded name, so `utc` and `europe/berlin` are found too."""
    zones = {name.casefold(): name for name in available_timezones()}
    zones["z"] = "UTC"
    return zones


def _zone(word: str) -> str | None:
    return _zones().get(word.casefold())


def _day(word: str, spec: Spec) -> dt.date:
    match = _DATE.fullmatch(word)
    if match is None:
        raise CommandError(f"{_code(word)} is not a date like `2026-12-30`. {_usage_hint(spec)}")
    try:
        return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        raise CommandError(f"There is no day {_code(word)} in the calendar.") from None


def _clock(word: str, spec: Spec) -> dt.time | None:
    """A 24-hour `15:00`; None when `word` is not time-shaped at all (a zone, a title)."""
    match = _CLOCK.fullmatch(word)
    if match is not None and int(match["h"]) < 24 and int(match["m"]) < 60:
        return dt.time(int(match["h"]), int(match["m"]))
    if match is not None or _TIME_LIKE.fullmatch(word):
        raise CommandError(
            f"{_code(word)} is not a time like `15:00` (24-hour clock). {_usage_hint(spec)}"
        )
    return None


def _known_zone(word: str, spec: Spec) -> str:
    zone = _zone(word)
    if zone is None:
        close = difflib.get_close_matches(word.casefold(), list(_zones()), n=1)
        hint = f" Did you mean `{_zones()[close[0]]}`?" if close else ""
        raise CommandError(
            f"{_code(word)} is not a time zone I know; write one like `UTC` or "
            f"`Europe/Berlin`.{hint} {_usage_hint(spec)}"
        )
    return zone


def _line(text: str, spec: Spec) -> str:
    """An optional reason or title, on one line: it is quoted in replies and the agenda
    thread."""
    return " ".join(_spec_text(text, spec).split()) if _visible(text) else ""


# --- one parser per command shape --------------------------------------------------------------

_ADD_KINDS: dict[str, Literal["item", "announcement", "intro"]] = {
    "item": "item",
    "announcement": "announcement",
    "intro": "intro",
}


def _add(rest: str, spec: Spec) -> Command:
    """`add <text>` means an item, so a kind word is only taken when one is written."""
    words = rest.strip().split(None, 1)
    kind = _ADD_KINDS.get(words[0].casefold()) if words else None
    if kind is None:
        return Add("item", _spec_text(rest, spec))
    return Add(kind, _text(words[1] if len(words) > 1 else "", f"add {kind}", f"add {kind} <text>"))


def _edit(rest: str, spec: Spec) -> Command:
    number, text = _leading_number(rest, spec)
    return Edit(number, _spec_text(text, spec))


def _poll_words(rest: str, spec: Spec) -> list[str]:
    """Split like a shell, after turning the smart quotes phones insert into ASCII ones."""
    # Apostrophes wait out the split as NULs (which nobody types) and come back as ASCII ones.
    held = _APOSTROPHE.sub("\0", rest.strip().replace("\0", ""))
    plain = held.translate(_SMART_QUOTES)
    if any(quote in plain for quote in "\"'") and plain[0] not in "\"'":
        raise CommandError(
            'Put the question in quotes, like `poll "Which time?" "17 UTC" "14 UTC"`.'
        )
    try:
        words = shlex.split(plain, posix=True)
    except ValueError as error:
        if "quotation" in str(error):
            raise CommandError(
                f"A quote is not closed in {_code(rest)}. {_usage_hint(spec)}"
            ) from None
        raise CommandError(
            f"The `\\` at the end has nothing after it. {_usage_hint(spec)}"
        ) from None
    return [word.replace("\0", "'") for word in words]


def _quorum(value: str) -> int:
    match = _QUORUM.fullmatch(value)
    if match is None:
        raise CommandError(
            f"{_code('quorum=' + value)} needs a whole number above 0, like `quorum=5`."
        )
    return int(match["n"])


def _poll(rest: str, spec: Spec) -> Command:
    if not rest.strip():
        raise CommandError(f"`poll` needs a question and at least 2 options. {_usage_hint(spec)}")
    _spec_text(rest, spec)  # the length limit
    quorum: int | None = None
    voters: str | None = None
    plain: list[str] = []
    for word in _poll_words(rest, spec):
        key, sep, value = word.partition("=")
        if sep and key.casefold() == "quorum":
            quorum = _quorum(value)
        elif sep and key.casefold() == "voters":
            if not value.strip():
                raise CommandError("`voters=` needs a roster group, like `voters=core`.")
            voters = value.strip()
        else:
            plain.append(word.strip())
    question, options = (plain[0], tuple(plain[1:])) if plain else ("", ())
    if not question:
        raise CommandError(f"A poll needs a question. {_usage_hint(spec)}")
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise CommandError(
            f"A poll needs 2 to {MAX_OPTIONS} options; you gave {len(options)}. "
            + _usage_hint(spec)
        )
    for position, option in enumerate(options, start=1):
        if not option:
            raise CommandError(f"Option {position} is empty; every poll option needs some text.")
    seen: dict[str, str] = {}
    for option in options:
        key = " ".join(option.casefold().split())
        if key in seen:
            raise CommandError(
                f"Each poll option must be different; {_code(option)} repeats {_code(seen[key])}."
            )
        seen[key] = option
    return Poll(question, options, quorum, voters)


def _iam(rest: str, spec: Spec) -> Command:
    words = _spec_text(rest, spec).split() if rest.strip() else []
    if not words:
        raise CommandError("`iam` needs your initials, like `iam JRG Quansight @jaimergp`.")
    initials, *affiliation = words
    if not (initials.isascii() and initials.isalpha() and 2 <= len(initials) <= 4):
        raise CommandError(
            f"{_code(initials)} cannot be your initials in the notes: use 2 to 4 letters. "
            + _usage_hint(spec)
        )
    github = ""
    if affiliation and affiliation[-1].startswith("@"):
        login = _GITHUB.fullmatch(affiliation[-1])
        if login is None:
            raise CommandError(
                f"{_code(affiliation[-1])} is not a GitHub username. {_usage_hint(spec)}"
            )
        github = login["login"]
        affiliation.pop()
    stray = next((word for word in affiliation if word.startswith("@")), None)
    if stray is not None:
        raise CommandError(
            f"Only your GitHub username starts with `@`, and it goes last; "
            f"you wrote {_code(stray)}. {_usage_hint(spec)}"
        )
    mixed = any(ch.isupper() for ch in initials[1:]) and initials[0].isupper()  # MvN
    return Iam(initials if mixed else initials.upper(), " ".join(affiliation), github)


def _item_ref(rest: str, spec: Spec) -> tuple[int | None, str]:
    """A leading `#3` names item 3 (`note #3 ...`, `action #3 ...`); a bare number is the
    text's own first word, as in `note 3 people agreed`."""
    words = rest.strip().split(None, 1)
    if not words or not words[0].startswith("#") or not _ITEM_NUMBER.fullmatch(words[0]):
        return None, rest
    text = words[1] if len(words) > 1 else ""
    if not text.strip():
        raise CommandError(
            f"What should I add under item {words[0][1:]}? Usage: `{spec.name} #<n> <text>`"
        )
    return _item_number(words[0], spec), text


def _note(rest: str, spec: Spec) -> Command:
    item, text = _item_ref(rest, spec)
    return Note(_spec_text(text, spec), item)


def _decided(rest: str, spec: Spec) -> Command:
    item, text = _item_ref(rest, spec)
    return Decided(_spec_text(text, spec), item)


def _chair(rest: str, spec: Spec) -> Command:
    if not rest.strip():
        raise CommandError("`chair` needs a person, like `chair @**Name**`.")
    mention = parse_mention(rest)
    if mention is None:
        raise CommandError(f"{_code(rest)} is not a mention of one person. {_usage_hint(spec)}")
    return Chair(mention)


def _action(rest: str, spec: Spec) -> Command:
    item, rest = _item_ref(rest, spec)
    text = _spec_text(rest, spec)
    found = _leading_owners(text)
    if found is None:
        return Action((), text, text, item)
    owners, end = found
    task = text[end:].strip()
    if task.casefold().startswith("to "):  # `action JRG to review it` says the same
        task = task[3:].strip()
    if not task:
        raise CommandError(f"What should {_code(text)} do? {_usage_hint(spec)}")
    return Action(owners, task, text, item)


def _actions(rest: str, spec: Spec) -> Command:
    word = rest.strip()
    if word.casefold() in ("", "all"):
        return Actions("all")
    if word.casefold() == "mine":
        return Actions("mine")
    mention = parse_mention(word)
    if mention is None and _is_initials(word):  # owners are written as initials
        return Actions(Mention(word))
    if mention is None:
        raise CommandError(
            f"{_code(word)} is not `mine`, a mention or initials. {_usage_hint(spec)}"
        )
    return Actions(mention)


def _done(rest: str, spec: Spec) -> Command:
    words = rest.split()
    if not words:
        raise CommandError("`done` needs an action item id, like `done A12`.")
    if len(words) > 1:
        raise CommandError(
            f"`done` takes just one action item id, not {_code(rest)}. {_usage_hint(spec)}"
        )
    match = _ACTION_ID.fullmatch(words[0])
    if match is None:
        raise CommandError(f"{_code(words[0])} is not an action item id. {_usage_hint(spec)}")
    return Done(int(match["n"]))


def _skip(rest: str, spec: Spec) -> Command:
    """`skip next meeting` is `skip next`, as people say it."""
    words = rest.strip().split(None, 1)
    if not words:
        return Skip(None)
    first, reason = words[0], words[1] if len(words) > 1 else ""
    if first.casefold() != "next":
        return Skip(_day(first, spec), _line(reason, spec))
    then = reason.split(None, 1)
    if then and then[0].casefold().rstrip(",.:;") in ("meeting", "one"):
        reason = then[1] if len(then) > 1 else ""
    return Skip(None, _line(reason, spec), next=True)


def _unskip(rest: str, spec: Spec) -> Command:
    words = rest.split()
    if len(words) != 1:
        raise CommandError(f"`unskip` takes the date of one skipped meeting. {_usage_hint(spec)}")
    return Unskip(_day(words[0], spec))


def _move(rest: str, spec: Spec) -> Command:
    words = rest.split()
    if not words:
        raise CommandError(
            "`move` needs the meeting's date and where it goes, like "
            "`move 2026-12-16 to 2026-12-17 15:00`."
        )
    day, words = _day(words[0], spec), words[1:]
    if words and words[0].casefold() == "to":
        words = words[1:]
    if not words:
        raise CommandError(f"Where to? Give a date, a time or both. {_usage_hint(spec)}")
    to_day = _day(words.pop(0), spec) if _DATE.fullmatch(words[0]) else None
    to_time = _clock(words[0], spec) if words else None
    if to_time is not None:
        words.pop(0)
    if to_day is None and to_time is None:
        raise CommandError(
            f"{_code(words[0])} is not a date like `2026-12-17` or a time like `15:00`. "
            + _usage_hint(spec)
        )
    zone = _known_zone(words.pop(0), spec) if words else None
    if words:
        raise CommandError(
            f"After the time zone I expected nothing, not {_code(' '.join(words))}. "
            + _usage_hint(spec)
        )
    return Move(day, to_day, to_time, zone)


def _extra(rest: str, spec: Spec) -> Command:
    """The title is whatever follows the time (and the zone, if the next word is one)."""
    words = rest.strip().split(None, 2)
    if len(words) < 2:
        raise CommandError(
            f"`extra` needs the date and the start time, like `extra 2026-12-20 17:00 CEP vote`."
            f" {_usage_hint(spec)}"
        )
    day, time = _day(words[0], spec), _clock(words[1], spec)
    if time is None:
        raise CommandError(f"{_code(words[1])} is not a time like `17:00`. {_usage_hint(spec)}")
    title = words[2] if len(words) > 2 else ""
    first = title.split(None, 1)
    zone = _zone(first[0]) if first else None
    if zone is not None:
        title = first[1] if len(first) > 1 else ""
    return Extra(day, time, zone, _line(title, spec))


def _help(rest: str, spec: Spec) -> Command:
    """Resolve the topic here, so `help vot` gets the same suggestion as `vot` itself."""
    topic = rest.replace("`", " ").strip()
    if not topic:
        return Help(None)
    if topic.casefold() in _TOPIC_NAMES:
        return Help(topic.casefold())
    found = _lookup(topic)
    if found is None:
        raise CommandError(f"There is no command {_code(topic)}.{_suggestion(topic)}{_SEE_HELP}")
    return Help(found[0].name)


def _start_meeting(rest: str, spec: Spec) -> Command:
    """The title heads the notes and the summary: one line, short enough for a heading."""
    title = " ".join(rest.split())
    if not title:
        raise CommandError("`start meeting` needs a title, like `start meeting Release planning`.")
    if len(title) > MAX_TITLE:
        raise CommandError(
            f"That title is {len(title)} characters long; the limit is {MAX_TITLE}. "
            + _usage_hint(spec)
        )
    return StartMeeting(_spec_text(title, spec))


def _bare(factory: Callable[[], Command]) -> Parser:
    def parse_bare(rest: str, spec: Spec) -> Command:
        _nothing(rest, spec)
        return factory()

    return parse_bare


def _numbered(factory: Callable[[int], Command]) -> Parser:
    return lambda rest, spec: factory(_only_number(rest, spec))


def _texted(factory: Callable[[str], Command]) -> Parser:
    return lambda rest, spec: factory(_spec_text(rest, spec))


# --- the table ---------------------------------------------------------------------------------

SPECS: tuple[Spec, ...] = (
    Spec(
        "add",
        "add item <text>",
        "add an agenda item under your initials (`BZ/WV: ...` for a shared one, `(no owner) "
        "...` for one nobody brings; `(10 min)`, `(1h)` or `(1h30)` at the end plans its "
        "time); I reply with its number",
        _add,
        forms=("add <text>", "add announcement <text>", "add intro <text>"),
    ),
    Spec(
        "edit",
        "edit <n> <text>",
        "change the text of your item n (`edit <n> (15 min)` changes just its planned time)",
        _edit,
    ),
    Spec("withdraw", "withdraw <n>", "take your item n off the agenda", _numbered(Withdraw)),
    Spec("vote", "vote <n>", "vote for item n (a 👍 on its message works too)", _numbered(Vote)),
    Spec("unvote", "unvote <n>", "take back your vote for item n", _numbered(Unvote)),
    Spec("agenda", "agenda", "the agenda with numbers, owners and votes", _bare(Agenda)),
    Spec(
        "poll",
        'poll "<question>" "<option>" "<option>" [quorum=N] [voters=<group>]',
        "open a poll (2 to 20 options) whose result goes into the notes; with a quorum it is "
        "a formal vote that the first option passes with more than half of the votes",
        _poll,
    ),
    Spec(
        "close poll",
        "close poll",
        "close the open poll and note its result (organizers)",
        _bare(ClosePoll),
    ),
    Spec("here", "here", "add yourself to today's attendees", _bare(Here), aliases=("attend",)),
    Spec(
        "iam",
        "iam XX <affiliation> @github",
        "register your initials, and optionally affiliation and GitHub username",
        _iam,
    ),
    Spec(
        "chair", "chair @**Name**", "make someone a co-chair of this meeting (organizers)", _chair
    ),
    Spec(
        "start",
        "start",
        "start the meeting; undiscussed items are ordered by votes (organizers)",
        _bare(Start),
    ),
    Spec(
        "start meeting",
        "start meeting <title>",
        "start a meeting nobody scheduled, in this topic, and chair it; `end` posts its summary",
        _start_meeting,
    ),
    Spec(
        "next",
        "next",
        "open the next undiscussed item and tick it, saying how long the last one took "
        "(organizers)",
        _bare(Next),
    ),
    Spec("item", "item <n>", "open item n and tick it (organizers)", _numbered(GoTo)),
    Spec(
        "note",
        "note <text>",
        "add a note under the current item (`XX: ...` says who said it); `note #<n> <text>` "
        "adds a detail under item n at any time (its owners, organizers)",
        _note,
        forms=("note #<n> <text>",),
    ),
    Spec(
        "decided",
        "decided <text>",
        "record a decision under the current item (`decided #<n> ...` under item n)",
        _decided,
        forms=("decided #<n> <text>",),
    ),
    Spec(
        "action",
        "action <owner> <text>",
        "record an action item under the current item (`action #<n> ...` under item n); the "
        "owner is initials (`JRG`, `BZ/WV`), a mention, a GitHub `@handle` or a name the "
        "meeting knows",
        _action,
        forms=("action #<n> <owner> <text>",),
    ),
    Spec("undo", "undo", "take back the last item, note or action item you added", _bare(Undo)),
    Spec("end", "end", "end the meeting and post the summary (organizers)", _bare(End)),
    Spec(
        "actions",
        "actions [mine | @**Name** | XX]",
        "open action items across meetings: everyone's, yours, or one person's",
        _actions,
    ),
    Spec("done", "done A<n>", "mark action item A<n> as done", _done),
    Spec("notes", "notes", "where the notes draft is", _bare(Notes)),
    Spec("next meeting", "next meeting", "when the next meeting is", _bare(NextMeeting)),
    Spec(
        "schedule",
        "schedule",
        "the next meetings, with those skipped, moved or added and by whom",
        _bare(Schedule),
    ),
    Spec(
        "skip",
        "skip <date> [reason]",
        "skip the meeting on that date, or the next one; its items move to the next meeting. "
        "`cancel` is the same; bare, in a meeting's topic, they skip that meeting (organizers)",
        _skip,
        aliases=("cancel",),
        forms=("skip next [reason]",),
    ),
    Spec("unskip", "unskip <date>", "hold a skipped meeting after all (organizers)", _unskip),
    Spec(
        "move",
        "move <date> to <date> <time> [zone]",
        "hold that meeting at another time, in the meeting's time zone unless you name one; it "
        "keeps its items and votes (organizers)",
        _move,
        forms=("move <date> to <time> [zone]",),
    ),
    Spec(
        "extra",
        "extra <date> <time> [zone] [title]",
        "add a one-off meeting (organizers)",
        _extra,
    ),
    Spec("help", "help [command]", "this list, or the details of one command", _help),
)
COMMAND_NAMES: tuple[str, ...] = tuple(spec.name for spec in SPECS)
#: What `help` groups the commands by, so that each group fits on one screen.
TOPICS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("items", "the agenda, before and during the meeting",
     ("add", "edit", "withdraw", "vote", "unvote", "agenda", "notes", "undo")),
    ("live", "running the meeting",
     ("start", "start meeting", "here", "next", "item", "note", "decided", "action", "poll",
      "close poll", "chair", "end")),
    ("calendar", "when meetings happen",
     ("next meeting", "schedule", "skip", "unskip", "move", "extra")),
    ("you", "you and your action items", ("iam", "actions", "done", "help")),
)  # fmt: skip
_TOPIC_NAMES: frozenset[str] = frozenset(name for name, _, _ in TOPICS)

_BY_WORDS: dict[str, Spec] = {words: spec for spec in SPECS for words in (spec.name, *spec.aliases)}
_MAX_WORDS = max(len(words.split()) for words in _BY_WORDS)
#: Words that begin a command: a meeting named like one could not be told apart from it.
COMMAND_WORDS: frozenset[str] = frozenset(words.split()[0] for words in _BY_WORDS)
# First words, for suggestions: `clos` should point to `close poll`, `nex` to `next` and
# `atend` to the alias `attend` the person was reaching for (reversed, so the earlier spec wins
# a shared first word).
_FIRST_WORDS: dict[str, str] = {words.split()[0]: words for words in reversed(_BY_WORDS)}
_SEE_HELP = " Send `help` for the list."


def _lookup(text: str) -> tuple[Spec, int] | None:
    """The spec named by the leading words of `text`, and where its arguments begin. The most
    words win, so `next meeting` is not read as `next` with an argument."""
    words = []
    for match in _WORD.finditer(text):
        words.append(match)
        if len(words) == _MAX_WORDS:
            break
    for count in range(len(words), 0, -1):
        key = " ".join(word.group().casefold() for word in words[:count])
        if key in _BY_WORDS:
            return _BY_WORDS[key], words[count - 1].end()
    return None


def _suggestion(text: str) -> str:
    first = text.split()[0].casefold()
    close = difflib.get_close_matches(first, list(_FIRST_WORDS), n=1, cutoff=0.6)
    return f" Did you mean `{_FIRST_WORDS[close[0]]}`?" if close else ""


def parse(text: str) -> Command:
    """Read one message (the bot mention already removed) as a command."""
    if not text.strip():
        raise CommandError("You sent an empty message. Try `help` to see what I can do.")
    found = _lookup(text)
    if found is None:
        first = text.split()[0]
        raise CommandError(f"I don't know {_code(first)}.{_suggestion(first)}{_SEE_HELP}")
    spec, end = found
    return spec.parse(text[end:], spec)


# --- help --------------------------------------------------------------------------------------


def _help_line(spec: Spec) -> str:
    others = (*spec.forms, *spec.aliases)
    also = f" (also {', '.join(f'`{other}`' for other in others)})" if others else ""
    return f"`{spec.usage}`{also}: {spec.summary}"


def name_of(command: Command) -> str:
    """The command's name as help shows it: `ClosePoll()` is `close poll`, `GoTo(3)` is `item`."""
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(command).__name__).lower()
    return {"go to": "item"}.get(words, words)


def usage() -> str:
    """The whole help, in Zulip markdown, straight from the table the parser dispatches on."""
    intro = (
        "Mention me with one of these. Fill in the `<...>` parts; `[...]` parts are optional; "
        "`help <command>` shows one."
    )
    return "\n".join([intro, "", *(f"- {_help_line(spec)}" for spec in SPECS)])


def overview() -> str:
    """What a bare `help` shows: the topics and their commands, on one screen."""
    intro = "Mention me with a command; `help <topic>` or `help <command>` tells more."
    topics = [
        f"- **{name}** ({about}): {', '.join(f'`{command}`' for command in names)}"
        for name, about, names in TOPICS
    ]
    return "\n".join([intro, "", *topics])


def help_for(name: str) -> str | None:
    """Help for one command by name or alias (any case, any spacing), or for a topic (its
    commands, one per line), or None if unknown."""
    wanted = " ".join(name.casefold().split())
    for topic, about, names in TOPICS:
        if wanted == topic:
            lines = [f"- {_help_line(_BY_WORDS[command])}" for command in names]
            return "\n".join([f"**{topic}**: {about}", *lines])
    spec = _BY_WORDS.get(wanted)
    return _help_line(spec) if spec else None
