"""The rendering the bot depends on: who a message mentions, and global times."""

from __future__ import annotations

import datetime as dt

from hypothesis import assume, given
from hypothesis import strategies as st

from zulip_bot.sandbox.render import Person, global_time, render

PEOPLE = (
    Person(44, "Meetbot"),
    Person(28, "King Hamlet"),
    Person(29, "Iago"),
    Person(30, "Iago"),
)  # two people named Iago


def lookup(user_id: int | None, name: str) -> Person | None:
    if user_id is not None:
        return next((p for p in PEOPLE if p.user_id == user_id), None)
    named = [p for p in PEOPLE if p.full_name.casefold() == name.casefold()]
    return named[0] if len(named) == 1 else None


names = st.text(
    st.characters(blacklist_characters="*|@\n\r", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=20,
)


@given(
    st.lists(st.tuples(st.sampled_from(PEOPLE), st.booleans(), st.booleans()), max_size=6),
    st.lists(st.sampled_from(["hello", "add item", "**bold**", "x@y.z", "`code`"]), max_size=6),
)
def test_exactly_the_loud_mentions_of_known_people_count(
    mentions: list[tuple[Person, bool, bool]], words: list[str]
) -> None:
    parts = []
    for index, (person, silent, by_id) in enumerate(mentions):
        word = words[index % len(words)] if words else ""
        label = f"{person.full_name}|{person.user_id}" if by_id else person.full_name
        parts.append(f"@{'_' if silent else ''}**{label}** {word}")
    rendering = render(" ".join(parts), lookup)
    expected = {
        p.user_id
        for p, silent, by_id in mentions
        if not silent and (by_id or lookup(None, p.full_name) is not None)
    }
    assert rendering.mentioned_user_ids == expected


@given(names)
def test_an_unknown_name_stays_text(name: str) -> None:
    assume(lookup(None, name) is None)
    assume(name not in ("all", "everyone", "stream", "channel", "topic"))
    rendering = render(f"@**{name}** hi", lookup)
    assert rendering.mentioned_user_ids == set()
    assert "user-mention" not in rendering.html


def test_a_wrong_name_with_an_id_is_not_a_mention() -> None:
    assert render("@**Hamlet|28**", lookup).mentioned_user_ids == set()
    assert render("@**King Hamlet|28**", lookup).mentioned_user_ids == {28}
    assert render("@**|28**", lookup).mentioned_user_ids == {28}


def test_a_mention_needs_a_space_or_punctuation_before_it() -> None:
    assert render("mail@**Meetbot**", lookup).mentioned_user_ids == set()
    assert render("(@**Meetbot**)", lookup).mentioned_user_ids == {44}
    # Zulip 6 changed the set (zulip/zulip#21786): `{[/` and any whitespace, no longer `,:`
    for before in "{[/\u00a0\t'\"<":
        assert render(f"x{before}@**Meetbot**", lookup).mentioned_user_ids == {44}, before
    for before in ",:.-*":
        assert render(f"x{before}@**Meetbot**", lookup).mentioned_user_ids == set(), before


def test_mentions_inside_code_are_not_mentions() -> None:
    assert render("`@**Meetbot**`", lookup).mentioned_user_ids == set()


def test_wildcards() -> None:
    assert render("@**all** and @**everyone**", lookup).stream_wildcard
    topic = render("@**topic** soon", lookup)
    assert topic.topic_wildcard and not topic.stream_wildcard


@given(
    st.datetimes(
        min_value=dt.datetime(1971, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [
                dt.UTC,
                dt.timezone(dt.timedelta(hours=5, minutes=30)),
                dt.timezone(dt.timedelta(hours=-8)),
            ]
        ),
    )
)
def test_a_global_time_is_shown_in_utc(moment: dt.datetime) -> None:
    moment = moment.replace(microsecond=0)
    text = moment.isoformat()
    utc = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert render(f"<time:{text}>", lookup).html == f'<p><time datetime="{utc}">{text}</time></p>'


def test_naive_times_are_utc_and_timestamps_are_read() -> None:
    assert global_time("2024-11-06 17:00") == dt.datetime(2024, 11, 6, 17, 0, tzinfo=dt.UTC)
    assert global_time("1730912400") == dt.datetime(2024, 11, 6, 17, 0, tzinfo=dt.UTC)
    html = render("<time:next tuesday-ish>", lookup).html
    assert (
        html == '<p><span class="timestamp-error">Invalid time format: next tuesday-ish</span></p>'
    )


def test_paragraphs_and_line_breaks_as_zulip_renders_them() -> None:
    assert render("a\nb\n\nc", lookup).html == "<p>a<br>\nb</p>\n<p>c</p>"
    assert render("- [ ] write agenda", lookup).html == "<ul>\n<li>[ ] write agenda</li>\n</ul>"


def test_stx_and_etx_are_deleted_before_markdown_is_read() -> None:
    assert render("@\x02**Meetbot**\x03", lookup).mentioned_user_ids == {44}
