"""Roster people from attendee lines, and the roster file they are appended to."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import REPO
from zulip_bot.archive.people import Mention, made_initials, plan_roster
from zulip_bot.archive.roster_file import HEADER, with_people, write_roster
from zulip_bot.config import ConfigError, Person, Roster, load_roster
from zulip_bot.notes import Attendee

EXAMPLE = REPO / "config" / "people.example.toml"
JRG = Person("Jaime Rodríguez-Guerra", "JRG", "Quansight/cf", "jaimergp")


def seen(
    day: int, name: str, initials: str = "", affiliation: str = "", github: str = ""
) -> Mention:
    return Mention(
        Attendee(name, initials, affiliation, github), dt.date(2024, 1, day), Path(f"{day}.md")
    )


def test_the_latest_mention_wins_field_by_field() -> None:
    plan = plan_roster(
        [
            seen(1, "Isuru Fernando", "IF", "Quansight", "isuruf"),
            seen(2, "Isuru Fernando"),  # a bare name later erases nothing
            seen(3, "Isuru Fernando", "IF", "OpenTeams", "@isuruf"),
            seen(4, "Isuru", "", "", ""),  # a first name alone names nobody the roster can take
        ],
        Roster(),
    )
    assert plan.new == (Person("Isuru Fernando", "IF", "OpenTeams", "isuruf"),)
    assert plan.nameless == 1


def test_a_mistyped_handle_is_still_the_person_named() -> None:
    plan = plan_roster(
        [
            seen(1, "Marcelo Trevisani", "MDT", "cf", "marcelotrevisan"),
            seen(2, "Marcelo Trevisani", "MDT", "cf", "marcelotrevisani"),
        ],
        Roster(),
    )
    assert [(p.name, p.github) for p in plan.new] == [("Marcelo Trevisani", "marcelotrevisani")]
    assert plan.clashes == ()


def test_clashes_and_spellings_are_reported_not_guessed() -> None:
    plan = plan_roster(
        [
            seen(1, "Jaime Rodriguez-Guerra"),
            seen(2, "Johannes Koster"),  # JK, made from the name: John Kirkham's
            seen(3, "Jakov Smolic", "JS", "Quansight", "jsmolic"),
            seen(4, "Jakov Smolić", "JS", "Quansight", "jsmolic"),
            seen(5, "Jaime Rodríguez-Guerra", "JRG", "Quansight, CF/C", "jaimergp"),
        ],
        Roster((JRG, Person("John Kirkham", "JK", github="jakirkham"))),
    )
    assert plan.new == ()
    assert [(c.initials, c.names) for c in plan.clashes] == [
        ("JK", ("John Kirkham", "Johannes Koster"))
    ]
    assert [(s.names, s.in_roster) for s in plan.spellings] == [
        (("Jakov Smolic", "Jakov Smolić"), False),
        (("Jaime Rodriguez-Guerra", "Jaime Rodríguez-Guerra"), True),
    ]
    assert [(d.field, d.roster, d.archive) for d in plan.differences] == [
        ("affiliation", "Quansight/cf", "Quansight, CF/C")
    ]
    assert plan.known == 1


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("Jaime Rodríguez-Guerra", "JRG"),
        ("Marius van Niekerk", "MvN"),
        ("Cheng H. Lee", "CHL"),
        ("Émile Zola", "EZ"),
        ("Mahe Iram Khan Four", ""),
    ],
)
def test_made_initials(name: str, initials: str) -> None:
    assert made_initials(name) == initials


def test_people_go_after_the_last_person_and_every_comment_stays(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    added = with_people(text, [Person("Ken Odegard", "KO", "Anaconda", "kenodegard")])
    before, _, after = added.partition("\n" + HEADER + "\n")
    assert text == before + "\n" + after.split("\n\n", 1)[1]  # only the new table in between
    assert after.startswith('[[person]]\nname = "Ken Odegard"\ninitials = "KO"\n')
    assert after.split("\n\n", 1)[1].startswith("# Named groups of initials")
    roster = tmp_path / "people.toml"
    roster.write_text(text, encoding="utf-8")
    write_roster(roster, text.encode(), added)
    assert [p.initials for p in load_roster(roster).people][-1] == "KO"


def test_a_roster_that_would_not_load_is_not_written(tmp_path: Path) -> None:
    roster = tmp_path / "people.toml"
    roster.write_bytes(EXAMPLE.read_bytes())
    clash = with_people(EXAMPLE.read_text(encoding="utf-8"), [Person("Jo Lo", "JL")])
    with pytest.raises(ConfigError, match="same initials 'JL'"):
        write_roster(roster, EXAMPLE.read_bytes(), clash)
    assert roster.read_bytes() == EXAMPLE.read_bytes()


def test_a_roster_changed_meanwhile_is_kept(tmp_path: Path) -> None:
    roster = tmp_path / "people.toml"
    roster.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="changed while the import was running"):
        write_roster(roster, b"", with_people("", [Person("Ken Odegard", "KO")]))
    assert roster.read_text(encoding="utf-8") == "# mine\n"


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


ROSTERS = [
    "",
    "# only a comment",
    '[[person]]\nname = "A B"\ninitials = "AB"',
    "[groups]\ng = []\n",
    "# c\r\n[[person]]\r\nname = 'X Y'\r\ninitials = 'XY'\r\n",
]


@given(existing=st.sampled_from(ROSTERS), name=names, affiliation=names)
def test_any_name_reads_back_and_nothing_else_changes(
    existing: str, name: str, affiliation: str
) -> None:
    added = with_people(existing, [Person(name, "KO", affiliation, "ken")])
    data = tomllib.loads(added)
    assert data["person"][-1] == {
        "name": name,
        "initials": "KO",
        "affiliation": affiliation,
        "github": "ken",
    }
    kept = [line for line in added.splitlines() if line in existing.splitlines()]
    assert kept[: len(existing.splitlines())] == existing.splitlines()
