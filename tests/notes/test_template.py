"""New drafts render the conda templates exactly as the hackmd notes action does."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import CORPUS, REPO
from zulip_bot.config import load_config
from zulip_bot.notes import NotesDocument, NotesError, new_draft

DEFAULT = REPO / "config" / "notes-template.md"


def test_default_template_reproduces_the_2024_11_06_layout(example_text: str) -> None:
    draft = new_draft(DEFAULT.read_text(encoding="utf-8"), dt.date(2024, 11, 6))
    real = NotesDocument.parse(example_text)
    assert draft.title == real.title == "2024-11-06 Conda Community Meeting"
    assert draft.date == dt.date(2024, 11, 6)
    assert draft.front_matter == real.front_matter
    assert [(s.title, s.level) for s in draft.sections()] == [
        (s.title, s.level) for s in real.sections()
    ]
    assert draft.attendees() == [] and draft.head_count is None
    assert len(draft.parsed.attendee_table.filler_rows) == 10  # type: ignore[union-attr]
    # the header block up to the attendee table is the real file's, byte for byte
    header = example_text.split("| Ruben")[0]
    assert draft.render().startswith(header)


def test_the_default_template_heads_a_draft_with_the_meetings_own_title_and_times() -> None:
    """A meeting that uses the bundled template gets its own title, video link and start,
    not the conda community meeting's."""
    community = load_config(REPO / "config" / "meetbot.example.toml").meeting("community")
    assert community is not None
    meeting = replace(
        community,
        title="Real Cycle Meeting",
        video_link="https://meet.example.org/cycle",
        start=dt.time(16, 30),
        timezone=ZoneInfo("Europe/Berlin"),
    )
    day = dt.date(2026, 12, 5)
    draft = new_draft(DEFAULT.read_text(encoding="utf-8"), day, **meeting.template_values(day))
    assert draft.title == "2026-12-05 Real Cycle Meeting"
    header = draft.render().split("## Attendees")[0]
    assert "(https://meet.example.org/cycle)" in header and "t=3:30pm" in header  # CET
    assert "Conda Community Meeting" not in draft.render()
    summer = meeting.template_values(dt.date(2026, 7, 4))
    assert summer["utc_start"] == "2:30pm"  # CEST


@pytest.mark.parametrize(
    "path", sorted((CORPUS / "templates").glob("*.md")), ids=lambda p: Path(p).name
)
def test_every_corpus_template_renders(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    draft = new_draft(text, dt.date(2026, 1, 21))
    assert "{{" not in draft.render()
    if "date.strftime" in text:
        assert "2026-01-21" in draft.render()
    assert draft.render().endswith("\n") == text.endswith("\n")


def test_extra_values_and_env_are_available() -> None:
    draft = new_draft("# {{ title }} {{ env.ROOM }} {{ date.year }}\n", dt.date(2025, 1, 1),
                      env={"ROOM": "zoom"}, title="Sync")  # fmt: skip
    assert draft.render() == "# Sync zoom 2025\n"


def test_missing_value_is_a_clear_error() -> None:
    with pytest.raises(NotesError, match="template uses a value that was not given: 'nope'"):
        new_draft("# {{ nope }}\n", dt.date(2025, 1, 1))


def test_template_cannot_reach_python_internals() -> None:
    with pytest.raises(NotesError, match="template does something unsafe"):
        new_draft("{{ date.__class__.__subclasses__() }}", dt.date(2025, 1, 1))
