"""The texts the bot posts: never over Zulip's 10,000 characters, never cut off."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from zulip_bot.meeting import messages
from zulip_bot.meeting.messages import MAX_MESSAGE, AgendaLine, DiscussedItem, OpenAction, Summary

START = dt.datetime(2024, 11, 6, 17, 0, tzinfo=dt.UTC)


@given(st.lists(st.text(alphabet="ab \n|", max_size=40), max_size=60), st.integers(5, 60))
def test_split_keeps_every_line_and_the_limit(lines: list[str], limit: int) -> None:
    lines = [line.replace("\n", " ") for line in lines]
    parts = messages.split(lines, limit)
    assert all(len(part) <= limit for part in parts)
    if all(len(line) <= limit for line in lines):
        assert "\n".join(parts) == "\n".join(lines)
    else:
        assert "".join(parts).replace("\n", "") == "".join(lines)


def test_a_long_summary_is_split_on_lines_and_loses_nothing() -> None:
    discussed = tuple(
        DiscussedItem(f"Topic {n}: " + "x" * 180, ("JRG",), (f"Decision: {n}",), ())
        for n in range(200)
    )
    actions = tuple(OpenAction(n, "WV", "@**Wolf Vollprecht|7**", f"task {n}", "2024-11-06")
                    for n in range(1, 300))  # fmt: skip
    data = Summary("Conda Community Meeting 2024-11-06", START, ("Ann",), 1, discussed, actions,
                   ("later",), "notes/x.md", None)  # fmt: skip
    parts = messages.summary(data)
    assert len(parts) >= 5 and all(len(part) <= MAX_MESSAGE for part in parts)
    whole = "\n".join(parts)
    assert all(f"- JRG: Topic {n}: " in whole and f"  - A{n + 1}: task {n + 1} " in whole
               for n in range(200))  # fmt: skip
    assert whole.endswith("**Not reached** (1):\n- later")  # no next draft: none to go to


def test_a_long_agenda_continues_as_tables() -> None:
    lines = [AgendaLine(n, ("DG",), "y" * 200, 300 - n, False) for n in range(1, 301)]
    parts = messages.agenda("Conda Community Meeting", lines)
    assert len(parts) > 1 and all(len(part) <= MAX_MESSAGE for part in parts)
    for part in parts:
        assert part.splitlines()[2:4] == [
            "| # | item | owner | votes | min |",
            "| ---: | --- | --- | ---: | ---: |",
        ]
    assert parts[1].startswith("**Conda Community Meeting** (continued)")
    rows = [
        line
        for part in parts
        for line in part.splitlines()
        if line.startswith("| ") and "y" in line
    ]
    assert [int(row.split(" | ")[0][2:]) for row in rows] == list(range(1, 301))
    assert parts[-1].endswith("Vote with `vote <n>` or a 👍 on the item's message.")
