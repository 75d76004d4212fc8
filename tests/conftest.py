"""Shared fixtures: a fresh migrated SQLite database per test, a fixed clock, a dialog runner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.runner import DialogRunner
from storage.db import make_engine
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
FIXED_NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'dinplan.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def runner(engine: Engine) -> DialogRunner:
    return DialogRunner(engine, clock=lambda: FIXED_NOW)
