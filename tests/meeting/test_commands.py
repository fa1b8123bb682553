"""Chat text to commands, and the exact reply for each way a command can be mistyped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zulip_bot.meeting import commands as c


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("add item Zulip CEP", c.Add("item", "Zulip CEP")),
        ("ADD  win-arm64 support", c.Add("item", "win-arm64 support")),
        ("add announcement Mamba 2.0 is out", c.Add("announcement", "Mamba 2.0 is out")),
        ("add intro Hi all", c.Add("intro", "Hi all")),
        ("edit 3 New text", c.Edit(3, "New text")),
        ("withdraw #2", c.Withdraw(2)),
        ("vote 4", c.Vote(4)),
        ("unvote 4", c.Unvote(4)),
        ("agenda", c.Agenda()),
        ('poll "Time?" "17 UTC" “14 UTC” quorum=5 voters=steering-council',
         c.Poll("Time?", ("17 UTC", "14 UTC"), 5, "steering-council")),
        ("close poll", c.ClosePoll()),
        ("here", c.Here()),
        ("attend", c.Here()),
        ("iam jrg Quansight/cf @jaimergp", c.Iam("JRG", "Quansight/cf", "jaimergp")),
        ("chair @**Dasha Gurova|11**", c.Chair(c.Mention("Dasha Gurova", 11))),
        ("start", c.Start()),
        ("next", c.Next()),
        ("next meeting", c.NextMeeting()),
        ("item 7", c.GoTo(7)),
        ("note conda-forge already moved", c.Note("conda-forge already moved")),
        ("action JRG create a PR", c.Action((c.Owner("JRG"),), "create a PR")),
        ("action BZ/WV write it up", c.Action((c.Owner("BZ"), c.Owner("WV")), "write it up")),
        ("action call the vote", c.Action((), "call the vote")),
        ("decided try it", c.Decided("try it")),
        ("undo", c.Undo()),
        ("end", c.End()),
        ("actions", c.Actions("all")),
        ("actions mine", c.Actions("mine")),
        ("actions @**Wolf Vollprecht**", c.Actions(c.Mention("Wolf Vollprecht"))),
        ("done A12", c.Done(12)),
        ("notes", c.Notes()),
        ("help vote", c.Help("vote")),
    ],
)  # fmt: skip
def test_happy_paths(text: str, command: c.Command) -> None:
    assert c.parse(text) == command


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("", "You sent an empty message. Try `help` to see what I can do."),
        ("vot 3", "I don't know `vot`. Did you mean `vote`? Send `help` for the list."),
        ("xyzzy", "I don't know `xyzzy`. Send `help` for the list."),
        ("add", "`add` needs some text. Usage: `add item <text>`"),
        ("add item   ", "`add` needs some text. Usage: `add item <text>`"),
        ("vote", "`vote` needs an item number, like `vote 3`."),
        ("vote three", "`three` is not an item number. Usage: `vote <n>`"),
        ("vote 0", "`0` is not an item number. Usage: `vote <n>`"),
        ("vote 3 4", "`vote` takes just an item number. Usage: `vote <n>`"),
        ("edit 3", "`edit` needs some text. Usage: `edit <n> <text>`"),
        ("agenda please", "`agenda` takes nothing after it; you wrote `please`."),
        ('poll "Q?" "only one"',
         'A poll needs 2 to 20 options; you gave 1. Usage: `poll "<question>" "<option>" '
         '"<option>" [quorum=N] [voters=<group>]`'),
        ('poll "Q?" "a" "A"', "Each poll option must be different."),
        ('poll "Q? a', 'A quote is not closed. Usage: `poll "<question>" "<option>" '
         '"<option>" [quorum=N] [voters=<group>]`'),
        ('poll "Q" "a" "b" quorum=x', "`quorum=x` needs a whole number above 0, like `quorum=5`."),
        ("iam 12", "`iam` needs your initials first (2 to 4 letters). "
         "Usage: `iam XX <affiliation> @github`"),
        ("chair Dasha", "Name the person with a mention. Usage: `chair @**Name**`"),
        ("action JRG", "What should JRG do? Usage: `action <owner> <text>`"),
        ("actions everyone", "`everyone` is not `mine` or a mention. "
         "Usage: `actions [mine | @**Name**]`"),
        ("done X1", "`X1` is not an action item id. Usage: `done A<n>`"),
        ("note " + "x" * 2001, "That text is 2,001 characters long; the limit is 2,000."),
    ],
)  # fmt: skip
def test_mistyped_commands_get_exact_replies(text: str, reply: str) -> None:
    with pytest.raises(c.CommandError) as error:
        c.parse(text)
    assert error.value.reply == reply


def test_poll_needs_at_most_20_options() -> None:
    options = " ".join(f'"o{i}"' for i in range(21))
    with pytest.raises(c.CommandError, match="you gave 21"):
        c.parse(f'poll "Q" {options}')


def test_help_lists_every_command_and_every_usage_parses() -> None:
    text = c.usage()
    samples = {"<text>": "some text", "<n>": "3", "XX": "JRG", "@**Name**": "@**Ann Bee**",
               "A<n>": "A3", '"<question>"': '"Q?"', '"<option>" "<option>"': '"a" "b"'}  # fmt: skip
    for name in c.COMMAND_NAMES:
        assert f"`{name}" in text
    for spec in c.SPECS:
        usage = spec.usage.split(" [")[0]
        for placeholder, value in samples.items():
            usage = usage.replace(placeholder, value)
        expected = {"item": "goto"}.get(spec.name, spec.name.replace(" ", ""))
        assert type(c.parse(usage)).__name__.lower() == expected
        assert c.help_for(spec.name) is not None


@given(st.text(max_size=200))
def test_parse_raises_only_command_errors(text: str) -> None:
    try:
        c.parse(text)
    except c.CommandError as error:
        assert error.reply
