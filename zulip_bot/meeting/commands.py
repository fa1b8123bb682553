"""Chat text to a `Command`, or a `CommandError` whose reply says what would work.

One table of `Spec`s is both the dispatch and the help text (as in HCoop Meetbot), so the help
can never describe a command the parser does not know.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

MAX_TEXT = 2000
MAX_NUMBER = 9999
_MENTION = re.compile(r"@_?\*\*(?P<name>[^*|]+?)(?:\|(?P<id>\d+))?\*\*")
_INITIALS = re.compile(r"[A-Z](?:[a-z]?[A-Z]){1,3}(?:/[A-Z](?:[a-z]?[A-Z]){1,3})*")
_SMART_QUOTES = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'"}
)


class CommandError(ValueError):
    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class Mention:
    name: str
    user_id: int | None = None


@dataclass(frozen=True)
class Owner:
    text: str
    mention: Mention | None = None


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
class Next:
    pass


@dataclass(frozen=True)
class GoTo:
    number: int


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Action:
    owners: tuple[Owner, ...]
    text: str


@dataclass(frozen=True)
class Decided:
    text: str


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
class Help:
    topic: str | None = None


Command = (
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
    | Help
)


@dataclass(frozen=True)
class Spec:
    name: str  # what the user types; several words for "close poll", "next meeting"
    usage: str
    summary: str
    parse: Callable[[str, Spec], Command]
    aliases: tuple[str, ...] = ()


# --- argument helpers -------------------------------------------------------------------------


def parse_mention(text: str) -> Mention | None:
    match = _MENTION.fullmatch(text.strip())
    if match is None:
        return None
    return Mention(match["name"].strip(), int(match["id"]) if match["id"] else None)


def _text(rest: str, spec: Spec) -> str:
    if not rest.strip():
        raise CommandError(f"`{spec.name}` needs some text. Usage: `{spec.usage}`")
    text = rest.strip()
    if len(text) > MAX_TEXT:
        raise CommandError(
            f"That text is {len(text):,} characters long; the limit is {MAX_TEXT:,}."
        )
    return text


def _number(word: str, spec: Spec) -> int:
    digits = word.removeprefix("#")
    if not digits.isdigit() or not 1 <= int(digits) <= MAX_NUMBER:
        raise CommandError(f"`{word}` is not an item number. Usage: `{spec.usage}`")
    return int(digits)


def _split_number(rest: str, spec: Spec) -> tuple[int, str]:
    parts = rest.split(None, 1)
    if not parts:
        raise CommandError(f"`{spec.name}` needs an item number, like `{spec.name} 3`.")
    return _number(parts[0], spec), parts[1] if len(parts) > 1 else ""


def _nothing(rest: str, spec: Spec) -> None:
    if rest.strip():
        raise CommandError(f"`{spec.name}` takes nothing after it; you wrote `{rest.strip()}`.")


def _only_number(rest: str, spec: Spec) -> int:
    number, extra = _split_number(rest, spec)
    if extra.strip():
        raise CommandError(f"`{spec.name}` takes just an item number. Usage: `{spec.usage}`")
    return number


# --- parsers ----------------------------------------------------------------------------------

_ADD_KINDS: dict[str, Literal["item", "announcement", "intro"]] = {
    "item": "item", "announcement": "announcement", "intro": "intro",
}  # fmt: skip


def _add(rest: str, spec: Spec) -> Command:
    first, _, tail = rest.strip().partition(" ")
    kind = _ADD_KINDS.get(first.casefold())
    if kind is None:
        return Add("item", _text(rest, spec))
    return Add(kind, _text(tail, spec))


def _edit(rest: str, spec: Spec) -> Command:
    number, text = _split_number(rest, spec)
    return Edit(number, _text(text, spec))


def _poll(rest: str, spec: Spec) -> Command:
    _text(rest, spec)
    try:
        words = shlex.split(rest.translate(_SMART_QUOTES))
    except ValueError:
        raise CommandError(f"A quote is not closed. Usage: `{spec.usage}`") from None
    quorum: int | None = None
    voters: str | None = None
    plain: list[str] = []
    for word in words:
        key, sep, value = word.partition("=")
        if sep and key == "quorum":
            if not value.isdigit() or int(value) < 1:
                raise CommandError(
                    f"`quorum={value}` needs a whole number above 0, like `quorum=5`."
                )
            quorum = int(value)
        elif sep and key == "voters":
            voters = value
        else:
            plain.append(word.strip())
    if not plain or not plain[0]:
        raise CommandError(f"A poll needs a question. Usage: `{spec.usage}`")
    question, options = plain[0], tuple(plain[1:])
    if not 2 <= len(options) <= 20:
        raise CommandError(f"A poll needs 2 to 20 options; you gave {len(options)}. "
                           f"Usage: `{spec.usage}`")  # fmt: skip
    if any(not option for option in options):
        raise CommandError("A poll option cannot be empty.")
    folded = [o.casefold() for o in options]
    if len(set(folded)) != len(folded):
        raise CommandError("Each poll option must be different.")
    return Poll(question, options, quorum, voters)


def _iam(rest: str, spec: Spec) -> Command:
    words = rest.split()
    if not words or not words[0].isalpha() or not 2 <= len(words[0]) <= 4:
        raise CommandError(
            f"`iam` needs your initials first (2 to 4 letters). Usage: `{spec.usage}`"
        )
    github = ""
    if len(words) > 1 and words[-1].startswith("@"):
        github = words.pop().lstrip("@")
    return Iam(words[0].upper(), " ".join(words[1:]), github)


def _chair(rest: str, spec: Spec) -> Command:
    mention = parse_mention(rest)
    if mention is None:
        raise CommandError(f"Name the person with a mention. Usage: `{spec.usage}`")
    return Chair(mention)


def _owner(word: str) -> Owner | None:
    mention = parse_mention(word)
    if mention is not None:
        return Owner(mention.name, mention)
    if word.startswith("@") and len(word) > 1:
        return Owner(word[1:])
    if _INITIALS.fullmatch(word):
        return Owner(word)
    return None


def _action(rest: str, spec: Spec) -> Command:
    text = _text(rest, spec)
    mention = _MENTION.match(text)
    head, _, tail = text.partition(" ")
    if mention is not None:
        head, tail = mention.group(0), text[mention.end() :]
    if "/" in head and not head.startswith("@"):
        owners = [_owner(part) for part in head.split("/")]
    else:
        owners = [_owner(head)]
    if all(owners) and tail.strip():
        return Action(tuple(o for o in owners if o), tail.strip())
    if all(owners):
        raise CommandError(f"What should {head} do? Usage: `{spec.usage}`")
    return Action((), text)


def _actions(rest: str, spec: Spec) -> Command:
    word = rest.strip()
    if not word or word.casefold() == "all":
        return Actions("all")
    if word.casefold() == "mine":
        return Actions("mine")
    mention = parse_mention(word)
    if mention is None:
        raise CommandError(f"`{word}` is not `mine` or a mention. Usage: `{spec.usage}`")
    return Actions(mention)


def _done(rest: str, spec: Spec) -> Command:
    word = rest.strip()
    digits = word[1:] if word[:1] in "aA" else word
    if not digits.isdigit():
        raise CommandError(f"`{word}` is not an action item id. Usage: `{spec.usage}`")
    return Done(int(digits))


def _help(rest: str, spec: Spec) -> Command:
    return Help(rest.strip().casefold() or None)


def _simple(factory: Callable[[], Command]) -> Callable[[str, Spec], Command]:
    def parse(rest: str, spec: Spec) -> Command:
        _nothing(rest, spec)
        return factory()

    return parse


def _numbered(factory: Callable[[int], Command]) -> Callable[[str, Spec], Command]:
    return lambda rest, spec: factory(_only_number(rest, spec))


def _texted(factory: Callable[[str], Command]) -> Callable[[str, Spec], Command]:
    return lambda rest, spec: factory(_text(rest, spec))


SPECS: tuple[Spec, ...] = (
    Spec("add", "add item <text>", "add an agenda item with your initials (also `add announcement "
         "<text>`, `add intro <text>`)", _add),
    Spec("edit", "edit <n> <text>", "change the text of your item n", _edit),
    Spec("withdraw", "withdraw <n>", "take your item n off the agenda", _numbered(Withdraw)),
    Spec("vote", "vote <n>", "vote for item n (or 👍 its message)", _numbered(Vote)),
    Spec("unvote", "unvote <n>", "take your vote back", _numbered(Unvote)),
    Spec("agenda", "agenda", "the agenda with numbers, owners and votes", _simple(Agenda)),
    Spec("poll", 'poll "<question>" "<option>" "<option>" [quorum=N] [voters=<group>]',
         "a native poll; its result goes into the notes", _poll),
    Spec("close poll", "close poll", "close the poll, write its result", _simple(ClosePoll)),
    Spec("here", "here", "add yourself to the attendees", _simple(Here), ("attend",)),
    Spec("iam", "iam XX <affiliation> @github", "set your initials, affiliation and GitHub", _iam),
    Spec("chair", "chair @**Name**", "make someone a co-chair of this meeting", _chair),
    Spec("start", "start", "start the meeting", _simple(Start)),
    Spec("next meeting", "next meeting", "when the next meeting is", _simple(NextMeeting)),
    Spec("next", "next", "move to the next item and tick it", _simple(Next)),
    Spec("item", "item <n>", "move to item n and tick it", _numbered(GoTo)),
    Spec("note", "note <text>", "a note under the current item", _texted(Note)),
    Spec("action", "action <owner> <text>", "an action item under the current item", _action),
    Spec("decided", "decided <text>", "a decision under the current item", _texted(Decided)),
    Spec("undo", "undo", "remove the last thing you added", _simple(Undo)),
    Spec("end", "end", "end the meeting and post the summary", _simple(End)),
    Spec("actions", "actions [mine | @**Name**]", "open action items across meetings", _actions),
    Spec("done", "done A<n>", "close action item A<n>", _done),
    Spec("notes", "notes", "where the notes draft is", _simple(Notes)),
    Spec("help", "help [command]", "this help", _help),
)  # fmt: skip
COMMAND_NAMES: tuple[str, ...] = tuple(spec.name for spec in SPECS)
_BY_WORDS = sorted(
    ((alias, spec) for spec in SPECS for alias in (spec.name, *spec.aliases)),
    key=lambda pair: -len(pair[0]),
)


def parse(text: str) -> Command:
    stripped = text.strip()
    if not stripped:
        raise CommandError("You sent an empty message. Try `help` to see what I can do.")
    folded = stripped.casefold()
    for words, spec in _BY_WORDS:
        if folded == words or folded.startswith(words + " ") or folded.startswith(words + "\n"):
            return spec.parse(stripped[len(words) :], spec)
    first = folded.split()[0]
    close = difflib.get_close_matches(first, [w for w, _ in _BY_WORDS], n=1, cutoff=0.6)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    return_text = stripped.split()[0]
    raise CommandError(f"I don't know `{return_text[:40]}`.{hint} Send `help` for the list.")


def usage() -> str:
    lines = ["I run this stream's meetings. Mention me with one of these:", ""]
    lines += [f"- `{spec.usage}`: {spec.summary}" for spec in SPECS]
    return "\n".join(lines)


def help_for(name: str) -> str | None:
    for words, spec in _BY_WORDS:
        if words == name.casefold():
            return f"`{spec.usage}`: {spec.summary}"
    return None
