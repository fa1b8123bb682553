"""The planned time at the end of an item's words, and the `time:` sub-bullet that records what
it took: every accepted form reads as its minutes, the words stay as typed, and what the bot
writes reads back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zulip_bot.notes import NotesDocument
from zulip_bot.notes.timing import (
    MAX_MINUTES,
    Spent,
    minutes_text,
    near_miss,
    planned,
    replanned,
    spent,
    spent_note,
    words,
)

MINUTE_UNITS = ("m", "min", "mins", "minute", "minutes", "MIN", "Min")
HOUR_UNITS = ("h", "hr", "hrs", "hour", "hours", "H")
SPACES = st.sampled_from(["", " "])


@st.composite
def minute_forms(draw: st.DrawFn) -> tuple[str, int]:
    minutes = draw(st.integers(1, MAX_MINUTES))
    unit, gap = draw(st.sampled_from(MINUTE_UNITS)), draw(SPACES)
    return f"({minutes}{gap}{unit})", minutes


@st.composite
def hour_forms(draw: st.DrawFn) -> tuple[str, int]:
    hours = draw(st.integers(1, MAX_MINUTES // 60 - 1))
    rest = draw(st.integers(0, 59))
    unit, gap = draw(st.sampled_from(HOUR_UNITS)), draw(SPACES)
    tail = draw(
        st.sampled_from(["", f"{rest:02d}", f" {rest}m", f"{rest} min", f" {rest} minutes"])
    )
    minutes = hours * 60 + (rest if tail else 0)
    return f"({hours}{gap}{unit}{tail})", minutes


TIMES = st.one_of(minute_forms(), hour_forms())
# Words people write for an item: anything, as long as it does not itself end in parentheses.
ITEM_WORDS = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60
).filter(lambda text: text.strip() and not text.rstrip().endswith(")"))


@pytest.mark.parametrize(
    ("text", "minutes", "words_of"),
    [
        ("Zulip CEP (10 min)", 10, "Zulip CEP"),
        ("Sharded repodata (1h)", 60, "Sharded repodata"),
        ("Release plan (90 min)", 90, "Release plan"),
        ("Release plan (1h30)", 90, "Release plan"),
        ("Quick one (5m)", 5, "Quick one"),
        ("Long one (1 hour 30 minutes)", 90, "Long one"),
        ("Spaced ( 15 MINS )  ", 15, "Spaced"),
        ("(10 min)", 10, ""),
    ],
)
def test_the_documented_forms(text: str, minutes: int, words_of: str) -> None:
    found = planned(text)
    assert found is not None and (found.minutes, found.text) == (minutes, words_of)


@pytest.mark.parametrize(
    ("text", "missed"),
    [
        ("Zulip CEP (10 mn)", "(10 mn)"),
        ("Zulip CEP (1.5h)", "(1.5h)"),
        ("Zulip CEP (0 min)", "(0 min)"),
        ("Zulip CEP (1h75)", "(1h75)"),
        ("Zulip CEP (9h)", "(9h)"),  # longer than any meeting
        ("Release (2024)", None),
        ("Review (3 PRs)", None),
        ("Sharded repodata (see #12)", None),
        ("Zulip CEP (10 min) later", None),
    ],
)
def test_what_is_no_planned_time(text: str, missed: str | None) -> None:
    assert planned(text) is None
    assert near_miss(text) == missed


@given(ITEM_WORDS, SPACES, TIMES)
def test_any_form_at_the_end_gives_its_minutes_and_keeps_the_words(
    text: str, gap: str, form: tuple[str, int]
) -> None:
    written, minutes = form
    found = planned(f"{text}{gap}{written}")
    assert found is not None
    assert (found.minutes, found.written, found.text) == (minutes, written, text.rstrip())
    assert words(f"{text}{gap}{written}") == text.rstrip()


@given(ITEM_WORDS)
def test_words_without_a_time_stay_words(text: str) -> None:
    assert planned(text) is None
    assert words(text) == text


@given(st.text(max_size=80))
def test_the_parser_takes_any_text(text: str) -> None:
    found = planned(text)
    assert found is None or 0 < found.minutes <= MAX_MINUTES
    assert found is None or near_miss(text) is None


@given(st.integers(1, MAX_MINUTES))
def test_the_bots_own_form_reads_back(minutes: int) -> None:
    found = planned(f"item ({minutes_text(minutes)})")
    assert found is not None and found.minutes == minutes


@given(ITEM_WORDS, TIMES, TIMES)
def test_a_time_alone_replaces_only_the_time(
    text: str, old: tuple[str, int], new: tuple[str, int]
) -> None:
    changed = replanned(f"{text} {old[0]}", new[0])
    assert changed is not None
    found = planned(changed)
    assert found is not None and (found.text, found.minutes) == (text.rstrip(), new[1])
    assert replanned(text, f"new words {new[0]}") is None  # words of its own: a new text


def test_the_time_sub_bullet_reads_back_from_the_file() -> None:
    doc = NotesDocument.parse(
        "# 2024-11-06 Meeting\n\n## New Agenda Items\n\n"
        "- [x] DG: Zulip CEP (10 min)\n    - Decision: we vote\n"
        f"    - {spent_note(12, 10)}\n"
        "- [x] JK: Sharded repodata\n    - time: 7 min\n"
        "- [ ] WV: Later\n"
    )
    assert spent_note(12, 10) == "time: 12 min (planned 10)"
    assert [spent(item) for item in doc.items("New Agenda Items")] == [
        Spent(12, 10),
        Spent(7, None),
        None,
    ]
