"""Silenced text notifies nobody, read the way the sandbox reads mentions as Zulip does, in a
realm where every name is someone's and every group exists (the worst case)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from hypothesis import example, given
from hypothesis import strategies as st

from tests.meeting.conftest import Chat
from zulip_bot.meeting import messages
from zulip_bot.meeting.mentions import silenced
from zulip_bot.meeting.messages import AgendaLine, DiscussedItem, OpenAction, Summary
from zulip_bot.sandbox.render import Group, Person, Rendering, render


def anyone(user_id: int | None, name: str) -> Person:
    """Everyone exists: every name is a person's, and every id is Alice Example's."""
    if user_id is not None:
        return Person(user_id, "Alice Example")
    return Person(1000 + len(name), name)


def any_group(name: str) -> Group:
    return Group(2000 + len(name), name)


def everyone_exists(text: str) -> Rendering:
    return render(text, anyone, groups=any_group)


def notifies_nobody(rendering: Rendering) -> bool:
    return not (
        rendering.mentioned_user_ids
        or rendering.mentioned_group_ids
        or rendering.stream_wildcard
        or rendering.topic_wildcard
    )


WILDCARDS = ["all", "everyone", "stream", "channel", "topic", "ALL", "Everyone", " all "]
#: Pieces that make mentions, half-mentions and the Markdown around them likely.
PIECES = st.sampled_from(
    [
        "@",
        "@_",
        "*",
        "**",
        "_",
        "|",
        "|7",
        "Alice Example",
        "team",
        " ",
        "\n",
        "\n\n",
        "> ",
        ">",
        "`",
        "```\n",
        "    ",
        "- ",
        "| a | b |\n| --- | --- |\n| ",
        "(",
        "[",
        "{",
        "/",
        '"',
        "'",
        "<",
        ",",
        "x",
        "\\",
        "\x02",
        "\x03",
        "\t",
        "\u00a0",
        *WILDCARDS,
    ]
)
NAMES = st.one_of(
    st.sampled_from(["Alice Example", "team", "Alice Example|7", "|7", *WILDCARDS]),
    st.text(st.characters(blacklist_characters="*"), min_size=1, max_size=8),
)
#: Mentions, silent ones and near misses, glued from their parts.
MENTIONISH = st.builds(
    lambda at, stars, name, close: f"{at}{stars}{name}{close}",
    st.sampled_from(["@", "@_", "@\x02", "@\x03\x02", "@ "]),
    st.sampled_from(["*", "**", "***"]),
    NAMES,
    st.sampled_from(["*", "**", "***", ""]),
)
TEXTS = st.lists(st.one_of(MENTIONISH, PIECES, st.text(max_size=5)), max_size=20).map("".join)


@given(TEXTS)
def test_silenced_text_notifies_nobody(text: str) -> None:
    assert notifies_nobody(everyone_exists(silenced(text)))


@given(TEXTS)
def test_silencing_twice_changes_nothing_more(text: str) -> None:
    assert silenced(silenced(text)) == silenced(text)


@given(st.text())
def test_text_without_mentions_is_returned_byte_for_byte(text: str) -> None:
    one_line = len(f"x{text}x".splitlines()) == 1
    if one_line and not re.search("@[\x02\x03]*[*]", text):
        assert silenced(text) == text


@given(st.text())
def test_what_the_bot_repeats_is_one_line(text: str) -> None:
    """It sits inside one of the bot's lines, where a fence would swallow what follows."""
    assert len(f"x{silenced(text)}x".splitlines()) == 1


MENTIONS = st.one_of(
    st.builds(lambda name: f"@**{name}**", st.sampled_from(["Alice Example", *WILDCARDS[:5]])),
    st.builds(lambda user_id: f"@**Alice Example|{user_id}**", st.integers(1, 99)),
    st.builds(lambda user_id: f"@**|{user_id}**", st.integers(1, 99)),
    st.just("@*team*"),
)
WORDS = st.sampled_from(["add", "item", "please", "come", "(x)", "done.", "`code`"])


def _as_silent(html: str) -> str:
    """A live mention shown as its silent form: the same name, without the `@`."""
    return re.sub(
        r'<span class="(user-mention|user-group-mention|topic-mention)"([^>]*)>@',
        r'<span class="\1 silent"\2>',
        html,
    )


@given(st.lists(st.one_of(MENTIONS, WORDS), min_size=1, max_size=8))
def test_readers_see_the_same_names(parts: list[str]) -> None:
    text = " ".join(parts)
    before, after = everyone_exists(text), everyone_exists(silenced(text))
    assert after.html == _as_silent(before.html)


def test_every_spelling_is_silenced() -> None:
    cases = {
        "add item @**all** please come": "add item @_**all** please come",
        "ask @**Some Person**, @**Some Person|12**": "ask @_**Some Person**, @_**Some Person|12**",
        "@**everyone**@**stream**,@**channel**/@**topic**": (
            "@_**everyone**@_**stream**,@_**channel**/@_**topic**"
        ),
        "@*support* and @_*quiet*": "@_*support* and @_*quiet*",
        ">@**all** Zulip reads this one live": ">@_**all** Zulip reads this one live",
        "| a |\n|---|\n|@**all**|": "| a | |---| |@_**all**|",  # one line: no table
        "```\n@**all** in a fence\n```\n": "``` @_**all** in a fence ``` ",
        "@\x02**all**": "@_**all**",
        "mail@**x** is no mention, silenced all the same; @_**quiet** stays": (
            "mail@_**x** is no mention, silenced all the same; @_**quiet** stays"
        ),
    }
    for text, expected in cases.items():
        assert silenced(text) == expected


START = dt.datetime(2024, 11, 6, 17, 0, tzinfo=dt.UTC)
OWNER = OpenAction(1, "AE", "@**Alice Example|7**", "", "2024-11-06")


def _notified(texts: list[str]) -> set[int]:
    """Whom these messages notify, `@**topic**` and wildcards counted as -1."""
    found: set[int] = set()
    for text in texts:
        rendering = everyone_exists(text)
        found |= rendering.mentioned_user_ids | rendering.mentioned_group_ids
        found |= {-1} if rendering.stream_wildcard or rendering.topic_wildcard else set()
    return found


@given(TEXTS, TEXTS, TEXTS)
@example("", "", "```\n```\n")  # a fence on a line of its own once hid the owners' mentions
def test_the_bots_texts_repeat_what_people_typed_silently(
    typed: str, owner: str, other: str
) -> None:
    """Agenda, summary, action lists and owners' reminders notify only the owners the bot
    mentions itself, in the summary."""
    action = replace(OWNER, text=typed)
    agenda = messages.agenda("Meeting", [AgendaLine(1, (owner,), typed, 0, None)])
    summary = messages.summary(
        Summary(
            "Meeting",
            START,
            (typed,),
            1,
            (DiscussedItem(typed, (owner,), (other,), (typed,)),),
            (action,),
            (other,),
            "`notes.md`",
            None,
        )
    )
    assert _notified(agenda) == set()
    assert _notified(messages.action_list("Open", [action])) == set()
    assert _notified([messages.owner_reminder("Meeting", START, [action])]) == set()
    assert _notified(summary) == {7}


LOUD = "@**all** @**everyone** @**stream** @**channel** @**topic** @*team* @**Wolf Vollprecht**"


def test_no_reply_repeats_a_mention_that_notifies(chat: Chat) -> None:
    """Every command that echoes what was typed, with every kind of mention in it: the replies
    notify nobody (the summary's owner mentions are the bot's own, checked on the network)."""
    script = [
        ("DG", f"add item {LOUD} one"),
        ("DG", f"add announcement {LOUD} two"),
        ("DG", f"add intro {LOUD} three"),
        ("DG", f"edit 1 {LOUD} one, edited"),
        ("JK", f"add item JK/Zed: {LOUD} four"),
        ("JK", "vote 4"),
        ("JK", "vote 1"),
        ("JK", "withdraw 4"),
        ("JRG", f"add item Zed: {LOUD} five"),
        ("JRG", "withdraw 5"),
        ("DG", "agenda"),
        ("SD", "here"),
        ("JRG", "start"),
        ("JRG", "next"),
        ("JRG", "item 1"),
        ("DG", f"note {LOUD} noted"),
        ("DG", f"decided {LOUD} decided"),
        ("JRG", f"action DG {LOUD} act"),
        ("JRG", f"action Zed {LOUD} act"),
        ("DG", "undo"),
        ("JRG", f'poll "{LOUD} when?" "{LOUD} now" "later"'),
        ("JRG", "close poll"),
        ("DG", "actions"),
        ("DG", "actions mine"),
        ("DG", "done A1"),
    ]
    loud = {}
    for who, text in script:
        reply = chat.text(who, text)
        assert reply, text
        if not notifies_nobody(everyone_exists(reply)):
            loud[text] = reply
    assert loud == {}
