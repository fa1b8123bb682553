"""GET /messages' slicing around an anchor, as a property of any history."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zulip_bot.sandbox.model import Message
from zulip_bot.sandbox.state import NEWEST, window


def _messages(ids: list[int]) -> list[Message]:
    return [Message(i, 1, 1, "x", "<p>x</p>", 0, "API", 1, "t") for i in sorted(set(ids))]


ids = st.lists(st.integers(1, 60), max_size=30)
anchors = st.one_of(st.integers(0, 70), st.sampled_from(["newest", "oldest"]))
counts = st.integers(0, 8)


@given(ids, anchors, counts, counts, st.booleans())
def test_the_window_is_the_nearest_messages_on_each_side(
    history: list[int], anchor: int | str, num_before: int, num_after: int, include: bool
) -> None:
    matching = _messages(history)
    found = window(matching, anchor, num_before, num_after, include)
    at = {"newest": NEWEST, "oldest": 0}.get(anchor, anchor) if isinstance(anchor, str) else anchor
    every = [m.id for m in matching]
    got = [m.id for m in found.messages]
    assert got == sorted(got) and set(got) <= set(every)
    assert found.anchor == at
    earlier = [i for i in every if i < at]
    assert [i for i in got if i < at] == (earlier[-num_before:] if num_before else [])
    assert [i for i in got if i > at] == [i for i in every if i > at][:num_after]
    assert found.found_anchor == (include and at in every)
    # the anchor itself may be left out; past it, an end found means nothing more that way
    if found.found_newest and num_after:
        assert not [i for i in every if i > max([*got, at])]
    if found.found_oldest and num_before:
        assert not [i for i in every if i < min([*got, at])]


def test_newest_and_oldest_are_ends() -> None:
    matching = _messages([3, 5, 8])
    newest = window(matching, "newest", 2, 0, True)
    assert ([m.id for m in newest.messages], newest.found_newest, newest.found_oldest) == (
        [5, 8],
        True,
        False,
    )
    oldest = window(matching, "oldest", 0, 5, True)
    assert ([m.id for m in oldest.messages], oldest.found_oldest, oldest.found_newest) == (
        [3, 5, 8],
        True,
        True,
    )
