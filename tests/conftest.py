"""Shared fixtures: the corpus of real notes lives in ../shared beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
EXAMPLE = CORPUS / "governance" / "20241106_agenda_and_minutes.md"


def corpus_files() -> list[Path]:
    """Every notes file and template of the corpus, or none when ../shared is absent."""
    return sorted(CORPUS.rglob("*.md")) if CORPUS.is_dir() else []


def needs_corpus() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not CORPUS.is_dir(), reason=f"the notes corpus is not there: {CORPUS} is absent"
    )


@pytest.fixture
def example_text() -> str:
    if not EXAMPLE.is_file():
        pytest.skip(f"the notes corpus is not there: {EXAMPLE} is absent")
    return EXAMPLE.read_text(encoding="utf-8")
