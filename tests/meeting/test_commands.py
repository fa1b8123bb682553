"""Chat text to commands, the exact reply for each way a command can be mistyped, and the help."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from zoneinfo import available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zulip_bot.meeting import commands as c

POLL_USAGE = 'Usage: `poll "<question>" "<option>" "<option>" [quorum=N] [voters=<group>]`'
IAM_USAGE = "Usage: `iam XX <affiliation> @github`"
BAD_INITIALS = "cannot be your initials in the notes: use 2 to 4 letters."
ALL_WORDS = sorted({*c.COMMAND_NAMES, *(a for s in c.SPECS for a in s.aliases)})


def reply_to(text: str) -> str:
    with pytest.raises(c.CommandError) as error:
        c.parse(text)
    return error.value.reply


# --- happy paths -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command"),
    [
        # add
        ("add item Zulip CEP", c.Add("item", "Zulip CEP")),
        ("ADD  win-arm64 support", c.Add("item", "win-arm64 support")),
        ("add Items are fine", c.Add("item", "Items are fine")),
        ("Add Item keep My Case", c.Add("item", "keep My Case")),
        ("add announcement Mamba 2.0 is out", c.Add("announcement", "Mamba 2.0 is out")),
        ("add INTRO Hi all", c.Add("intro", "Hi all")),
        ("add item\nfirst line\n  second line  \n", c.Add("item", "first line\n  second line")),
        # edit, withdraw, vote, unvote, item
        ("edit 3 New text", c.Edit(3, "New text")),
        ("edit #3   New\ntext ", c.Edit(3, "New\ntext")),
        ("withdraw #2", c.Withdraw(2)),
        ("vote 4", c.Vote(4)),
        ("  VOTE\t#04  ", c.Vote(4)),
        ("vote 9999", c.Vote(9999)),
        ("unvote 4", c.Unvote(4)),
        ("item 7", c.GoTo(7)),
        ("item #12", c.GoTo(12)),
        # bare commands
        ("agenda", c.Agenda()),
        ("close poll", c.ClosePoll()),
        ("Close \n Poll", c.ClosePoll()),
        ("here", c.Here()),
        ("attend", c.Here()),
        ("start", c.Start()),
        ("next", c.Next()),
        ("NEXT", c.Next()),
        ("next meeting", c.NextMeeting()),
        ("next  Meeting ", c.NextMeeting()),
        ("undo", c.Undo()),
        ("end", c.End()),
        ("notes", c.Notes()),
        # poll
        (
            'poll "Time?" "17 UTC" “14 UTC” quorum=5 voters=steering-council',
            c.Poll("Time?", ("17 UTC", "14 UTC"), 5, "steering-council"),
        ),
        ("poll 'Lunch?' 'pizza' \"sushi\"", c.Poll("Lunch?", ("pizza", "sushi"))),
        (  # the quotes a phone keyboard types
            "poll \u201cWhat\u2019s next?\u201d \u2018Wolf\u2019s idea\u2019 \u201cmine\u201d",
            c.Poll("What's next?", ("Wolf's idea", "mine")),
        ),
        ("poll Lunch? pizza sushi", c.Poll("Lunch?", ("pizza", "sushi"))),
        ('poll "Q" "a" "b" Quorum=007', c.Poll("Q", ("a", "b"), 7)),
        ('poll "Q" quorum=2 "a" "b"', c.Poll("Q", ("a", "b"), 2)),
        (
            'poll "Q" "a" "b" voters="steering council"',
            c.Poll("Q", ("a", "b"), None, "steering council"),
        ),
        ('poll " Q " " a " "b"', c.Poll("Q", ("a", "b"))),
        # iam
        ("iam jrg Quansight/cf @jaimergp", c.Iam("JRG", "Quansight/cf", "jaimergp")),
        ("iam MvN", c.Iam("MvN")),
        ("iam mvn", c.Iam("MVN")),
        ("iam wv  QuantStack   SAS", c.Iam("WV", "QuantStack SAS")),
        ("iam BZ @bzah", c.Iam("BZ", "", "bzah")),
        # chair
        ("chair @**Dasha Gurova|11**", c.Chair(c.Mention("Dasha Gurova", 11))),
        ("chair @**Dasha Gurova**", c.Chair(c.Mention("Dasha Gurova"))),
        ("chair  @_**Dasha**  ", c.Chair(c.Mention("Dasha"))),
        # note, decided
        ("note conda-forge already moved", c.Note("conda-forge already moved")),
        ("NOTE Keep *My* `Case`\nand lines", c.Note("Keep *My* `Case`\nand lines")),
        ("decided try it", c.Decided("try it")),
        # action
        ("action JRG create a PR", c.Action((c.Owner("JRG"),), "create a PR")),
        ("action MvN: review", c.Action((c.Owner("MvN"),), "review")),
        ("action BZ/WV write it up", c.Action((c.Owner("BZ"), c.Owner("WV")), "write it up")),
        ("action @jaimergp ping", c.Action((c.Owner("jaimergp", handle=True),), "ping")),
        (
            "action @**Ann Bee|12** write the CEP",
            c.Action((c.Owner("Ann Bee", c.Mention("Ann Bee", 12)),), "write the CEP"),
        ),
        (
            "action @**Ann Bee**/JRG:\ndraft",
            c.Action((c.Owner("Ann Bee", c.Mention("Ann Bee")), c.Owner("JRG")), "draft"),
        ),
        ("action call the vote", c.Action((), "call the vote")),
        # A capitalised word may be a name: the service decides (see test_as_written.py).
        ("action Call the vote", c.Action((c.Owner("Call", name=True),), "the vote")),
        ("action ABCDE is too long for initials", c.Action((), "ABCDE is too long for initials")),
        ("action JRG, then more", c.Action((), "JRG, then more")),
        ("action JRG/somebody fix", c.Action((), "JRG/somebody fix")),
        # actions, done
        ("actions", c.Actions("all")),
        ("actions ALL", c.Actions("all")),
        ("actions Mine", c.Actions("mine")),
        ("actions @**Wolf Vollprecht**", c.Actions(c.Mention("Wolf Vollprecht"))),
        ("actions @**Wolf Vollprecht|7**", c.Actions(c.Mention("Wolf Vollprecht", 7))),
        ("done A12", c.Done(12)),
        ("done a12", c.Done(12)),
        ("done 12", c.Done(12)),
        ("done #12", c.Done(12)),
        # help
        ("help", c.Help(None)),
        ("help vote", c.Help("vote")),
        ("help `VOTE`", c.Help("vote")),
        ("help attend", c.Help("here")),
        ("help next  meeting", c.Help("next meeting")),
        ("help add item", c.Help("add")),
    ],
)  # fmt: skip
def test_happy_paths(text: str, command: c.Command) -> None:
    assert c.parse(text) == command


# --- mistyped commands -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        # nothing, or an unknown word
        ("", "You sent an empty message. Try `help` to see what I can do."),
        (" \n\t ", "You sent an empty message. Try `help` to see what I can do."),
        ("vot 3", "I don't know `vot`. Did you mean `vote`? Send `help` for the list."),
        ("VOT 3", "I don't know `VOT`. Did you mean `vote`? Send `help` for the list."),
        ("clos poll", "I don't know `clos`. Did you mean `close poll`? Send `help` for the list."),
        ("close", "I don't know `close`. Did you mean `close poll`? Send `help` for the list."),
        ("atend", "I don't know `atend`. Did you mean `attend`? Send `help` for the list."),
        ("vote3", "I don't know `vote3`. Did you mean `vote`? Send `help` for the list."),
        ("xyzzy", "I don't know `xyzzy`. Send `help` for the list."),
        ("x`y", "I don't know `` x`y ``. Send `help` for the list."),
        ("a" * 100, f"I don't know `{'a' * 39}…`. Send `help` for the list."),
        # add
        ("add", "`add` needs some text. Usage: `add item <text>`"),
        ("add item   ", "`add item` needs some text. Usage: `add item <text>`"),
        ("add intro", "`add intro` needs some text. Usage: `add intro <text>`"),
        (
            "add Announcement \n",
            "`add announcement` needs some text. Usage: `add announcement <text>`",
        ),
        # numbers
        ("edit", "`edit` needs an item number, like `edit 3 <text>`."),
        ("edit 3", "`edit` needs some text. Usage: `edit <n> <text>`"),
        ("edit three words", "`three` is not an item number. Usage: `edit <n> <text>`"),
        ("withdraw", "`withdraw` needs an item number, like `withdraw 3`."),
        ("withdraw x", "`x` is not an item number. Usage: `withdraw <n>`"),
        ("vote", "`vote` needs an item number, like `vote 3`."),
        ("vote three", "`three` is not an item number. Usage: `vote <n>`"),
        ("vote 0", "`0` is not an item number. Usage: `vote <n>`"),
        ("vote -1", "`-1` is not an item number. Usage: `vote <n>`"),
        ("vote 10000", "`10000` is not an item number. Usage: `vote <n>`"),
        ("vote 3.5", "`3.5` is not an item number. Usage: `vote <n>`"),
        ("vote ²", "`²` is not an item number. Usage: `vote <n>`"),
        ("vote ٣", "`٣` is not an item number. Usage: `vote <n>`"),
        ("vote " + "1" * 5000, f"`{'1' * 39}…` is not an item number. Usage: `vote <n>`"),
        ("vote 3 4", "`vote` takes just one item number, not `3 4`. Usage: `vote <n>`"),
        ("unvote", "`unvote` needs an item number, like `unvote 3`."),
        ("unvote #", "`#` is not an item number. Usage: `unvote <n>`"),
        ("item", "`item` needs an item number, like `item 3`."),
        ("item 3 now", "`item` takes just one item number, not `3 now`. Usage: `item <n>`"),
        # commands that take nothing
        ("agenda please", "`agenda` takes nothing after it; you wrote `please`."),
        ("agenda `x`", "`agenda` takes nothing after it; you wrote `` `x` ``."),
        ("close poll now", "`close poll` takes nothing after it; you wrote `now`."),
        ("here I am", "`here` takes nothing after it; you wrote `I am`."),
        ("start now", "`start` takes nothing after it; you wrote `now`."),
        ("next please", "`next` takes nothing after it; you wrote `please`."),
        (
            "next meet",
            "`next` takes nothing after it; you wrote `meet`. Did you mean `next meeting`?",
        ),
        ("next meeting when", "`next meeting` takes nothing after it; you wrote `when`."),
        ("undo that", "`undo` takes nothing after it; you wrote `that`."),
        ("end it", "`end` takes nothing after it; you wrote `it`."),
        ("notes\nplease", "`notes` takes nothing after it; you wrote `please`."),
        # poll
        ("poll", f"`poll` needs a question and at least 2 options. {POLL_USAGE}"),
        ('poll "Q?"', f"A poll needs 2 to 20 options; you gave 0. {POLL_USAGE}"),
        ('poll "Q?" "only one"', f"A poll needs 2 to 20 options; you gave 1. {POLL_USAGE}"),
        ("poll quorum=3", f"A poll needs a question. {POLL_USAGE}"),
        ('poll "" "a" "b"', f"A poll needs a question. {POLL_USAGE}"),
        ('poll "Q?" "a" "A"', "Each poll option must be different; `A` repeats `a`."),
        ('poll "Q?" "a  b" "A B"', "Each poll option must be different; `A B` repeats `a b`."),
        ('poll "Q?" "a" " "', "Option 2 is empty; every poll option needs some text."),
        ('poll "Q? a', f'A quote is not closed in `"Q? a`. {POLL_USAGE}'),
        ("poll 'Q' 'it's' 'b'", f"A quote is not closed in `'Q' 'it's' 'b'`. {POLL_USAGE}"),
        ('poll "Q" "a" b\\', f"The `\\` at the end has nothing after it. {POLL_USAGE}"),
        ('poll Which time? "17" "14"',
         'Put the question in quotes, like `poll "Which time?" "17 UTC" "14 UTC"`.'),
        ('poll "Q" "a" "b" quorum=x', "`quorum=x` needs a whole number above 0, like `quorum=5`."),
        ('poll "Q" "a" "b" quorum=0', "`quorum=0` needs a whole number above 0, like `quorum=5`."),
        ('poll "Q" "a" "b" quorum=²', "`quorum=²` needs a whole number above 0, like `quorum=5`."),
        ('poll "Q" "a" "b" voters=', "`voters=` needs a roster group, like `voters=core`."),
        # iam
        ("iam", "`iam` needs your initials, like `iam JRG Quansight @jaimergp`."),
        ("iam 12", f"`12` {BAD_INITIALS} {IAM_USAGE}"),
        ("iam J", f"`J` {BAD_INITIALS} {IAM_USAGE}"),
        ("iam ABCDE", f"`ABCDE` {BAD_INITIALS} {IAM_USAGE}"),
        ("iam ABCDE", f"`ABCDE` {BAD_INITIALS} {IAM_USAGE}"),
        ("iam Jaime Quansight", f"`Jaime` {BAD_INITIALS} {IAM_USAGE}"),
        ("iam JRG @", f"`@` is not a GitHub username. {IAM_USAGE}"),
        ("iam JRG Quansight @jaime_rgp", f"`@jaime_rgp` is not a GitHub username. {IAM_USAGE}"),
        ("iam JRG @jaimergp Quansight",
         f"Only your GitHub username starts with `@`, and it goes last; you wrote `@jaimergp`. "
         f"{IAM_USAGE}"),
        # chair
        ("chair", "`chair` needs a person, like `chair @**Name**`."),
        ("chair Dasha", "`Dasha` is not a mention of one person. Usage: `chair @**Name**`"),
        ("chair @**A** @**B**",
         "`@**A** @**B**` is not a mention of one person. Usage: `chair @**Name**`"),
        ("chair @** **", "`@** **` is not a mention of one person. Usage: `chair @**Name**`"),
        # note, decided, action
        ("note", "`note` needs some text. Usage: `note <text>`"),
        ("decided \n ", "`decided` needs some text. Usage: `decided <text>`"),
        ("action", "`action` needs some text. Usage: `action <owner> <text>`"),
        ("action JRG", "What should `JRG` do? Usage: `action <owner> <text>`"),
        ("action BZ/WV:", "What should `BZ/WV:` do? Usage: `action <owner> <text>`"),
        ("action @**Ann Bee**", "What should `@**Ann Bee**` do? Usage: `action <owner> <text>`"),
        # actions, done
        ("actions everyone", "`everyone` is not `mine`, a mention or initials. "
         "Usage: `actions [mine | @**Name** | XX]`"),
        ("actions mine @**Ann**", "`mine @**Ann**` is not `mine`, a mention or initials. "
         "Usage: `actions [mine | @**Name** | XX]`"),
        ("done", "`done` needs an action item id, like `done A12`."),
        ("done X1", "`X1` is not an action item id. Usage: `done A<n>`"),
        ("done A", "`A` is not an action item id. Usage: `done A<n>`"),
        ("done A0", "`A0` is not an action item id. Usage: `done A<n>`"),
        ("done A1 A2", "`done` takes just one action item id, not `A1 A2`. Usage: `done A<n>`"),
        # help
        ("help vot", "There is no command `vot`. Did you mean `vote`? Send `help` for the list."),
        ("help xyzzy", "There is no command `xyzzy`. Send `help` for the list."),
    ],
)  # fmt: skip
def test_mistyped_commands_get_exact_replies(text: str, reply: str) -> None:
    assert reply_to(text) == reply


def test_command_error_is_a_value_error_whose_message_is_the_reply() -> None:
    with pytest.raises(ValueError, match="needs an item number") as error:
        c.parse("vote")
    assert isinstance(error.value, c.CommandError)
    assert str(error.value) == error.value.reply


# --- limits ------------------------------------------------------------------------------------

TEXT_COMMANDS: list[tuple[str, Callable[[str], c.Command]]] = [
    ("add {}", lambda t: c.Add("item", t)),
    ("add intro {}", lambda t: c.Add("intro", t)),
    ("edit 2 {}", lambda t: c.Edit(2, t)),
    ("note {}", c.Note),
    ("decided {}", c.Decided),
    ("action {}", lambda t: c.Action((), t)),
]


@pytest.mark.parametrize(("template", "make"), TEXT_COMMANDS)
def test_text_up_to_the_limit_is_kept_and_one_more_character_is_refused(
    template: str, make: Callable[[str], c.Command]
) -> None:
    longest = "x" * c.MAX_TEXT
    assert c.parse(template.format(f"  {longest}  ")) == make(longest)
    assert reply_to(template.format(longest + "y")) == (
        "That text is 2,001 characters long; the limit is 2,000."
    )


@pytest.mark.parametrize(
    "text",
    [
        'poll "Q" "a" "' + "b" * 2000 + '"',
        "iam JRG " + "Quansight " * 250,
    ],
)
def test_other_long_arguments_are_refused_with_the_limit(text: str) -> None:
    assert reply_to(text).endswith("characters long; the limit is 2,000.")


def test_poll_takes_up_to_20_options() -> None:
    options = tuple(f"o{i}" for i in range(c.MAX_OPTIONS))
    quoted = " ".join(f'"{o}"' for o in options)
    assert c.parse(f'poll "Q" {quoted}') == c.Poll("Q", options)
    assert reply_to(f'poll "Q" {quoted} "one more"') == (
        f"A poll needs 2 to 20 options; you gave 21. {POLL_USAGE}"
    )


@given(
    number=st.integers(min_value=1, max_value=c.MAX_NUMBER),
    hash_sign=st.sampled_from(["", "#"]),
    zeros=st.sampled_from(["", "0", "00"]),
)
def test_every_item_number_reads_back(number: int, hash_sign: str, zeros: str) -> None:
    written = f"{hash_sign}{zeros}{number}"
    assert c.parse(f"vote {written}") == c.Vote(number)
    assert c.parse(f"edit {written} x") == c.Edit(number, "x")
    assert c.parse(f"done A{zeros}{number}") == c.Done(number)


# --- mentions and owners -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("@**Ann Bee**", c.Mention("Ann Bee")),
        ("  @**Ann Bee|42**  ", c.Mention("Ann Bee", 42)),
        ("@_**Ann Bee|42**", c.Mention("Ann Bee", 42)),
        ("@**Ann**x", None),
        ("@**Ann|x**", None),
        ("@*group*", None),
        ("Ann Bee", None),
        ("@** **", None),
        ("@**A** and @**B**", None),
    ],
)
def test_parse_mention(text: str, mention: c.Mention | None) -> None:
    assert c.parse_mention(text) == mention


@pytest.mark.parametrize(
    ("word", "is_owner"),
    [
        ("JRG", True),
        ("MvN", True),
        ("AbCd", True),
        ("BZ", True),
        ("Bz", False),  # one capital: an ordinary word like "Do" or "We"
        ("Call", False),
        ("jrg", False),
        ("J", False),
        ("ABCDE", False),
        ("AbCdEfG", False),
        ("J2", False),
    ],
)
def test_initials_shaped_owners(word: str, is_owner: bool) -> None:
    """Initials are owners; a capitalised word is only a candidate name, which the service
    keeps as an owner when it names someone, and anything else stays text."""
    parsed = c.parse(f"action {word} do it")
    assert isinstance(parsed, c.Action)
    if is_owner:
        assert parsed == c.Action((c.Owner(word),), "do it")
    elif parsed.owners:
        assert parsed.owners == (c.Owner(word, name=True),) and word[1:].islower()
    else:
        assert parsed == c.Action((), f"{word} do it")
    assert parsed.said == f"{word} do it"


# --- help --------------------------------------------------------------------------------------

EXPECTED_TYPES: dict[str, type] = {
    "add": c.Add, "edit": c.Edit, "withdraw": c.Withdraw, "vote": c.Vote, "unvote": c.Unvote,
    "agenda": c.Agenda, "poll": c.Poll, "close poll": c.ClosePoll, "here": c.Here, "iam": c.Iam,
    "chair": c.Chair, "start": c.Start, "next": c.Next, "item": c.GoTo, "note": c.Note,
    "decided": c.Decided, "action": c.Action, "undo": c.Undo, "end": c.End,
    "actions": c.Actions, "done": c.Done, "notes": c.Notes, "next meeting": c.NextMeeting,
    "schedule": c.Schedule, "skip": c.Skip, "unskip": c.Unskip, "move": c.Move,
    "extra": c.Extra, "help": c.Help, "start meeting": c.StartMeeting,
}  # fmt: skip
SAMPLES = {
    "<text>": "some text",
    "<n>": "3",
    "XX": "JRG",
    "<affiliation>": "Quansight",
    "@github": "@jaimergp",
    "@**Name**": "@**Ann Bee**",
    "<owner>": "JRG",
    "<question>": "Lunch?",
    "quorum=N": "quorum=2",
    "<group>": "core",
    "[command]": "[vote]",
    "<title>": "Release planning",
    "<date>": "2026-12-30",
    "<time>": "15:00",
    "[zone]": "[Europe/Berlin]",
}


def _filled(form: str) -> list[str]:
    """Every way to write `form`: each optional `[...]` part left out or put in (each of its
    `a | b` alternatives), with placeholders replaced by sample values."""
    for placeholder, value in SAMPLES.items():
        form = form.replace(placeholder, value)
    options = iter(range(1, 100))
    form = re.sub("<option>", lambda _: f"option {next(options)}", form)
    assert "<" not in form, f"a placeholder without a sample value in {form!r}"
    ways = [""]
    for part in re.split(r"(\[[^]]*\])", form):
        if part.startswith("["):
            choices = ["", *(" " + a.strip() for a in part[1:-1].split("|"))]
            ways = [way.rstrip() + choice for way in ways for choice in choices]
        else:
            ways = [way + part for way in ways]
    return [" ".join(way.split()) for way in ways]


def _help_lines() -> list[str]:
    return [line for line in c.usage().splitlines() if line.startswith("- ")]


def test_help_has_one_line_per_command_in_table_order() -> None:
    lines = _help_lines()
    assert len(lines) == len(c.COMMAND_NAMES) == len(set(c.COMMAND_NAMES))
    for line, name in zip(lines, c.COMMAND_NAMES, strict=True):
        assert line.startswith(f"- `{name}"), (line, name)
    assert set(EXPECTED_TYPES) == set(c.COMMAND_NAMES)


def test_every_usage_line_in_the_help_parses_once_placeholders_are_filled() -> None:
    for line, name in zip(_help_lines(), c.COMMAND_NAMES, strict=True):
        usage_part = re.match(r"- (.*?[`)]): ", line)  # the usage and its other forms
        assert usage_part is not None, line
        forms = re.findall(r"`([^`]+)`", usage_part[1])
        assert forms, line
        for form in forms:
            for text in _filled(form):
                command = c.parse(text)
                assert type(command) is EXPECTED_TYPES[name], (text, command)
                assert c.name_of(command) == name


def test_filled_samples_cover_the_optional_parts() -> None:
    assert _filled("actions [mine | @**Name**]") == [
        "actions",
        "actions mine",
        "actions @**Ann Bee**",
    ]
    poll = next(spec for spec in c.SPECS if spec.name == "poll")
    assert c.parse(_filled(poll.usage)[-1]) == c.Poll("Lunch?", ("option 1", "option 2"), 2, "core")


@pytest.mark.parametrize("name", c.COMMAND_NAMES)
def test_help_for_each_command_is_its_help_line_and_help_topic_resolves(name: str) -> None:
    found = c.help_for(name)
    assert found is not None
    assert f"- {found}" in _help_lines()
    assert c.help_for(name.upper().replace(" ", "  ")) == found
    assert c.parse(f"help {name}") == c.Help(name)


def test_help_for_aliases_and_unknown_names() -> None:
    assert (
        c.help_for("attend")
        == c.help_for("here")
        == ("`here` (also `attend`): add yourself to today's attendees")
    )
    assert c.help_for("vote") == "`vote <n>`: vote for item n (a 👍 on its message works too)"
    assert c.help_for("vot") is None
    assert c.help_for("") is None


def test_help_mentions_every_extra_form_and_alias() -> None:
    text = c.usage()
    for spec in c.SPECS:
        for other in (*spec.forms, *spec.aliases):
            assert f"`{other}`" in text


# --- properties --------------------------------------------------------------------------------


@given(st.text(max_size=300))
def test_parse_raises_only_command_errors(text: str) -> None:
    try:
        c.parse(text)
    except c.CommandError as error:
        assert error.reply.strip()


@given(
    word=st.sampled_from(ALL_WORDS),
    upper=st.lists(st.booleans(), min_size=12, max_size=12),
    rest=st.text(max_size=300),
)
def test_every_command_with_any_arguments_parses_or_explains(
    word: str, upper: list[bool], rest: str
) -> None:
    """Arbitrary text rarely starts with a command word; this reaches every argument reader."""
    cased = "".join(ch.upper() if up else ch for ch, up in zip(word, upper, strict=False))
    try:
        command = c.parse(f"{cased} {rest}")
    except c.CommandError as error:
        assert error.reply.strip()
        assert "\n" not in error.reply
    else:
        assert command == c.parse(f"{word} {rest}")


def _visible(text: str) -> bool:
    return any(unicodedata.category(ch)[0] not in "CZ" for ch in text)


@given(
    st.text(min_size=1, max_size=c.MAX_TEXT)
    .filter(_visible)
    .filter(lambda t: not re.match(r"#[0-9]+(\s|$)", t.strip()))  # `note #3 ...` is item 3's
)
def test_note_text_is_kept_exactly_apart_from_surrounding_whitespace(text: str) -> None:
    assert c.parse(f"note {text}") == c.Note(text.strip())


@given(st.text(max_size=40).filter(lambda t: not _visible(t)))
def test_text_of_only_invisible_characters_gets_the_usage(text: str) -> None:
    for command in ("add item", "note", "decided"):
        with pytest.raises(c.CommandError, match=r"needs some text\. Usage: `"):
            c.parse(f"{command} {text}")


def test_note_hash_number_is_a_detail_under_that_item() -> None:
    assert c.parse("note #3 links: https://example.org") == c.Note("links: https://example.org", 3)
    assert c.parse("note #x is not a number") == c.Note("#x is not a number")
    assert c.parse("note 3 people agreed") == c.Note("3 people agreed")
    with pytest.raises(c.CommandError, match=r"What should I add under item 3\?"):
        c.parse("note #3")


# --- the calendar ------------------------------------------------------------------------------

DEC_16 = dt.date(2026, 12, 16)
MOVE_USAGE = "Usage: `move <date> to <date> <time> [zone]`"
EXTRA_USAGE = "Usage: `extra <date> <time> [zone] [title]`"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("schedule", c.Schedule()),
        ("skip 2026-12-16", c.Skip(DEC_16)),
        ("skip 2026-12-16 end of year,  see you   in January", c.Skip(DEC_16, "end of year, "
                                                                     "see you in January")),
        ("skip next", c.Skip(None, next=True)),
        ("SKIP Next conference week", c.Skip(None, "conference week", next=True)),
        ("skip", c.Skip(None)),
        ("cancel", c.Skip(None)),
        ("cancel 2026-12-16 holidays", c.Skip(DEC_16, "holidays")),
        ("cancel next meeting", c.Skip(None, next=True)),
        ("cancel next meeting, sorry", c.Skip(None, "sorry", next=True)),
        ("unskip 2026-12-16", c.Unskip(DEC_16)),
        ("move 2026-12-16 to 2026-12-17 15:00", c.Move(DEC_16, dt.date(2026, 12, 17),
                                                       dt.time(15))),
        ("move 2026-12-16 2026-12-17 9:30 utc", c.Move(DEC_16, dt.date(2026, 12, 17),
                                                       dt.time(9, 30), "UTC")),
        ("move 2026-12-16 to 15:00 america/new_york", c.Move(DEC_16, None, dt.time(15),
                                                             "America/New_York")),
        ("move 2026-12-16 to 2026-12-18", c.Move(DEC_16, dt.date(2026, 12, 18), None)),
        ("move 2026-12-16 to 2026-12-18 Z", c.Move(DEC_16, dt.date(2026, 12, 18), None, "UTC")),
        ("extra 2026-12-16 17:00", c.Extra(DEC_16, dt.time(17))),
        ("extra 2026-12-16 17:00 CEP 42 vote", c.Extra(DEC_16, dt.time(17), None, "CEP 42 vote")),
        ("extra 2026-12-16 08:05 Asia/Tokyo Hello", c.Extra(DEC_16, dt.time(8, 5), "Asia/Tokyo",
                                                            "Hello")),
        ("help calendar", c.Help("calendar")),
        ("help cancel", c.Help("skip")),
    ],
)  # fmt: skip
def test_calendar_commands(text: str, command: c.Command) -> None:
    assert c.parse(text) == command


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("skip tomorrow", "`tomorrow` is not a date like `2026-12-30`. Usage: `skip <date> "
         "[reason]`"),
        ("skip 16.12.2026", "`16.12.2026` is not a date like `2026-12-30`. Usage: `skip <date> "
         "[reason]`"),
        ("skip 2026-02-30", "There is no day `2026-02-30` in the calendar."),
        ("unskip", "`unskip` takes the date of one skipped meeting. Usage: `unskip <date>`"),
        ("unskip 2026-12-16 2026-12-30", "`unskip` takes the date of one skipped meeting. "
         "Usage: `unskip <date>`"),
        ("move", "`move` needs the meeting's date and where it goes, like "
         "`move 2026-12-16 to 2026-12-17 15:00`."),
        ("move 2026-12-16", f"Where to? Give a date, a time or both. {MOVE_USAGE}"),
        ("move 2026-12-16 to", f"Where to? Give a date, a time or both. {MOVE_USAGE}"),
        ("move next to 15:00", f"`next` is not a date like `2026-12-30`. {MOVE_USAGE}"),
        ("move 2026-12-16 to Thursday", "`Thursday` is not a date like `2026-12-17` or a time "
         f"like `15:00`. {MOVE_USAGE}"),
        ("move 2026-12-16 to 3pm", f"`3pm` is not a time like `15:00` (24-hour clock). "
         f"{MOVE_USAGE}"),
        ("move 2026-12-16 to 2026-12-17 24:00", "`24:00` is not a time like `15:00` (24-hour "
         f"clock). {MOVE_USAGE}"),
        ("move 2026-12-16 to 15:00 Europe/Berln", "`Europe/Berln` is not a time zone I know; "
         f"write one like `UTC` or `Europe/Berlin`. Did you mean `Europe/Berlin`? {MOVE_USAGE}"),
        ("move 2026-12-16 to 15:00 CET please", "After the time zone I expected nothing, not "
         f"`please`. {MOVE_USAGE}"),
        ("extra", "`extra` needs the date and the start time, like `extra 2026-12-20 17:00 CEP "
         f"vote`. {EXTRA_USAGE}"),
        ("extra 2026-12-20", "`extra` needs the date and the start time, like `extra 2026-12-20 "
         f"17:00 CEP vote`. {EXTRA_USAGE}"),
        ("extra 2026-12-20 CEP vote", f"`CEP` is not a time like `17:00`. {EXTRA_USAGE}"),
        ("extra 2026-12-20 5pm", f"`5pm` is not a time like `15:00` (24-hour clock). "
         f"{EXTRA_USAGE}"),
        ("extra next 17:00", f"`next` is not a date like `2026-12-30`. {EXTRA_USAGE}"),
        ("schedule next", "`schedule` takes nothing after it; you wrote `next`."),
        ("help calender", "There is no command `calender`. Send `help` for the list."),
    ],
)  # fmt: skip
def test_mistyped_calendar_commands_say_what_would_work(text: str, reply: str) -> None:
    assert reply_to(text) == reply


ZONES = sorted(available_timezones())
REASONS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80).filter(
    lambda t: t.split()[:1] not in (["meeting"], ["one"])
)


@given(day=st.dates(), reason=REASONS)
def test_skip_keeps_the_date_and_the_reason_on_one_line(day: dt.date, reason: str) -> None:
    kept = " ".join(reason.split()) if _visible(reason) else ""
    assert c.parse(f"skip {day.isoformat()} {reason}") == c.Skip(day, kept)
    assert c.parse(f"cancel next {reason}") == c.Skip(None, kept, next=True)


@given(
    day=st.dates(min_value=dt.date(1000, 1, 1)),
    to_day=st.none() | st.dates(min_value=dt.date(1000, 1, 1)),
    to_time=st.none() | st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    zone=st.none() | st.sampled_from(ZONES),
    to=st.booleans(),
)
def test_move_reads_back_what_was_written(
    day: dt.date, to_day: dt.date | None, to_time: dt.time | None, zone: str | None, to: bool
) -> None:
    parts = [f"move {day}", "to" if to else "", f"{to_day or ''}",
             f"{to_time:%H:%M}" if to_time else "", zone or ""]  # fmt: skip
    text = " ".join(p for p in parts if p)
    if to_day is None and to_time is None:
        with pytest.raises(c.CommandError):
            c.parse(text)
    else:
        assert c.parse(text) == c.Move(day, to_day, to_time, zone)


@given(
    day=st.dates(min_value=dt.date(1000, 1, 1)),
    time=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    zone=st.none() | st.sampled_from(ZONES),
    title=st.text(max_size=60).filter(lambda t: not t.split() or t.split()[0].casefold()
                                      not in {z.casefold() for z in ZONES} | {"z"}),
)  # fmt: skip
def test_extra_reads_back_what_was_written(
    day: dt.date, time: dt.time, zone: str | None, title: str
) -> None:
    text = f"extra {day} {time:%H:%M} {zone or ''} {title}"
    kept = " ".join(title.split()) if _visible(title) else ""
    assert c.parse(text) == c.Extra(day, time, zone, kept)


def test_help_topics_cover_every_command_once_and_fit_a_screen() -> None:
    listed = [name for _, _, names in c.TOPICS for name in names]
    assert sorted(listed) == sorted(c.COMMAND_NAMES)
    assert len(c.overview().splitlines()) <= 10
    for topic, _, names in c.TOPICS:
        text = c.help_for(topic)
        assert text is not None and c.parse(f"help {topic.upper()}") == c.Help(topic)
        assert len(text.splitlines()) == len(names) + 1 <= 15
        assert all(f"- {c.help_for(name)}" in text.splitlines() for name in names)
