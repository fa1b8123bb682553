"""What the demo's people do, and when, around one Conda Community Meeting.

Times are offsets from the meeting's start. The bot's own part (the agenda thread, the reminder,
starting and ending on time, the summary) is not scripted: the schedule makes it happen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

#: The occurrence the demo lives through: the first of the example config's community meeting.
MEETING: Final = "community"
DAY: Final = dt.date(2024, 11, 6)


@dataclass(frozen=True)
class Say:
    """A message in the meeting's topic; `to_bot` starts it with a mention of the bot."""

    who: str
    text: str
    to_bot: bool = True


@dataclass(frozen=True)
class Like:
    """A 👍 on the bot's reply that added item `item`: a vote."""

    who: str
    item: int


@dataclass(frozen=True)
class Ballot:
    """A vote for option `option` (1, 2, ...) of the latest poll, as a submessage."""

    who: str
    option: int


Action = Say | Like | Ballot

_M: Final = dt.timedelta(minutes=1)
_H: Final = dt.timedelta(hours=1)
_D: Final = dt.timedelta(days=1)

JAIME, DASHA, JOHN, WOLF, RUBEN = (
    "jaimergp@example.org",
    "dashagurova@example.org",
    "jakirkham@example.org",
    "wolfv@example.org",
    "ruben-arts@example.org",
)
BAS, FILIPE, MARCO, KATHERINE = (
    "baszalmstra@example.org",
    "ocefpaf@example.org",
    "marcoesters@example.org",
    "kathatherine@example.org",
)

#: The agenda items the five people add, as the notes file must show them afterwards.
ITEMS: Final = (
    "Zulip CEP: https://github.com/conda/ceps/pull/92",
    "Change default package format to `.conda`",
    "Change time of this meeting?",
    "rattler-build 0.29 released",
    "Sharded repodata status",
)

SCENE: Final[tuple[tuple[dt.timedelta, Action], ...]] = (
    # Two days before: the agenda thread is open, people add to it and vote.
    (-2 * _D + 2 * _M, Say(DASHA, f"add item {ITEMS[0]}")),
    (-2 * _D + 3 * _M, Say(JOHN, f"add item {ITEMS[1]}")),
    (-2 * _D + 4 * _M, Say(JAIME, f"add item {ITEMS[2]}")),
    (-2 * _D + 5 * _M, Say(WOLF, f"add announcement BZ/WV: {ITEMS[3]}")),
    (-2 * _D + 6 * _M, Say(WOLF, "vote 3")),
    (-2 * _D + 6 * _M, Like(BAS, 3)),
    (-2 * _D + 6 * _M, Like(BAS, 2)),
    (-2 * _D + 7 * _M, Like(MARCO, 3)),
    (-2 * _D + 8 * _M, Say(FILIPE, "vote 2")),
    # The next morning, long past Zulip's edit limit: the bot posts the agenda afresh.
    (-1 * _D - 7 * _H, Say(RUBEN, f"add item {ITEMS[4]}")),
    (-1 * _D - 7 * _H + _M, Like(KATHERINE, 5)),
    # The meeting, started by the schedule.
    (2 * _M, Say(JAIME, "here")),
    (2 * _M, Say(DASHA, "here")),
    (2 * _M, Say(WOLF, "here")),
    (4 * _M, Say(JAIME, "next")),
    (10 * _M, Say(JAIME, "next")),
    (12 * _M, Say(JAIME, "note General feeling: yes, let's run a poll.")),
    (13 * _M, Say(JAIME, 'poll "Which time suits you?" "Keep 17:00 UTC" "15:00 UTC"')),
    (14 * _M, Ballot(JAIME, 2)),
    (14 * _M, Ballot(DASHA, 2)),
    (14 * _M, Ballot(WOLF, 1)),
    (16 * _M, Say(JAIME, "close poll")),
    (17 * _M, Say(JAIME, "action JRG announce the poll result on Discourse")),
    (20 * _M, Say(JAIME, "next")),
    (22 * _M, Say(JOHN, "conda-forge moved to .conda already", to_bot=False)),
    (23 * _M, Say(JAIME, "note conda-forge already moved")),
    (25 * _M, Say(JAIME, "decided Call the vote next week.")),
    # Nobody types `end`: the schedule ends the meeting and posts the summary.
)
