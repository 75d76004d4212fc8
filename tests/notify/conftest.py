"""Fixtures of the notifier tests: an encryption key, a clock, a fake Telegram.

The database tests use the shared `engine` fixture (tests/conftest.py), so they run on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage import crypto
from storage.crypto import Keyring, new_key, parse_key
from storage.settings import get_settings
from tests.notify.helpers import Clock, FakeTelegram


@pytest.fixture(autouse=True)
def encryption_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A key for this test, in the environment too (for `dinplan`)."""
    key = new_key()
    monkeypatch.setenv("DINPLAN_ENCRYPTION_KEY", key)
    get_settings.cache_clear()
    monkeypatch.setattr(crypto._ActiveKeyring, "ring", Keyring([parse_key(key)]))
    yield key
    get_settings.cache_clear()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def telegram() -> FakeTelegram:
    return FakeTelegram()
