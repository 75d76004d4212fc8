"""Fixtures of the notifier tests: an encryption key, a clock, a fake Telegram.

The database tests use the shared `engine` fixture (tests/conftest.py), so they run on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import pytest

from tests.notify.helpers import Clock, FakeTelegram


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def telegram() -> FakeTelegram:
    return FakeTelegram()
