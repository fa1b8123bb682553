"""The emoji the sandbox knows: enough for the reactions people give a bot, with Zulip's
canonical names (`thumbs_up` is reported as `+1`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: canonical name -> (code point(s), aliases)
UNICODE: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "+1": ("1f44d", ("thumbs_up", "like")),
    "-1": ("1f44e", ("thumbs_down",)),
    "tada": ("1f389", ("party_popper",)),
    "check": ("2705", ("white_check_mark",)),
    "check_mark": ("2714", ()),
    "cross_mark": ("274c", ("x",)),
    "heart": ("2764", ("love",)),
    "smile": ("1f642", ("slight_smile",)),
    "grinning": ("1f600", ()),
    "joy": ("1f602", ()),
    "eyes": ("1f440", ("looking",)),
    "thinking": ("1f914", ()),
    "rocket": ("1f680", ()),
    "fire": ("1f525", ("lit", "hot")),
    "clap": ("1f44f", ("applause",)),
    "wave": ("1f44b", ("hello", "hi")),
    "pray": ("1f64f", ("welcome", "thank_you")),
    "raised_hand": ("270b", ("hand", "here")),
    "question": ("2753", ()),
    "hourglass": ("231b", ()),
    "octopus": ("1f419", ()),
    "working_on_it": ("1f6e0", ("hammer_and_wrench", "tools")),
}
_ALIASES: Final = {alias: name for name, (_, aliases) in UNICODE.items() for alias in aliases}
_BY_CODE: Final = {code: name for name, (code, _) in UNICODE.items()}


@dataclass(frozen=True)
class Emoji:
    name: str
    code: str
    reaction_type: str


def by_name(name: str, realm_emoji: dict[str, str]) -> Emoji | None:
    if name in realm_emoji:
        return Emoji(name, realm_emoji[name], "realm_emoji")
    if name == "zulip":
        return Emoji("zulip", "zulip", "zulip_extra_emoji")
    canonical = _ALIASES.get(name, name)
    if canonical in UNICODE:
        return Emoji(canonical, UNICODE[canonical][0], "unicode_emoji")
    return None


def by_code(code: str, reaction_type: str, realm_emoji: dict[str, str]) -> Emoji | None:
    if reaction_type == "realm_emoji":
        name = next((n for n, c in realm_emoji.items() if c == code), None)
        return Emoji(name, code, reaction_type) if name else None
    if reaction_type == "zulip_extra_emoji":
        return Emoji("zulip", "zulip", reaction_type) if code == "zulip" else None
    name = _BY_CODE.get(code)
    return Emoji(name, code, "unicode_emoji") if name else None
