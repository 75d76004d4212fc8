"""Fixtures of the notifier tests: an encryption key, a clock, a fake Telegram.

The database tests use the shared `engine` fixture (tests/conftest.py), so they run on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import pytest

from tests.notify.helpers import Clock, FakeTelegram


@pytest.fixture(autouse=True)
def _every_test_has_a_key(encryption_key: str) -> None:
    """Every test here runs with its own key (`encryption_key`, tests/conftest.py)."""


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def telegram() -> FakeTelegram:
    return FakeTelegram()
