"""Shared fixtures: the real notes, Zulip's OpenAPI spec and the recorded Zulip exchanges the
tests read all live in `tests/data/` (sources and licences in its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
CORPUS = DATA / "corpus"
ZULIP_SPEC = DATA / "zulip-openapi" / "zulip.yaml"
ZULIP_EXCHANGES = DATA / "zulip-recordings" / "exchanges"
EXAMPLE = CORPUS / "governance" / "20241106_agenda_and_minutes.md"


def corpus_files() -> list[Path]:
    """Every notes file and template of the corpus."""
    return sorted(CORPUS.rglob("*.md"))


@pytest.fixture
def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")
