"""Fixtures of the privacy tests: a key of their own, a clock to move, people who write canaries.

Every test that takes `engine` (tests/conftest.py) runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage import crypto
from storage.crypto import Keyring, new_key, parse_key
from storage.settings import get_settings
from tests.privacy.helpers import Clock


@pytest.fixture(autouse=True)
def encryption_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A key for this test, in the environment too (for `dinplan` and the migrations)."""
    key = new_key()
    monkeypatch.setenv("DINPLAN_ENCRYPTION_KEY", key)
    monkeypatch.delenv("DINPLAN_ENVIRONMENT", raising=False)
    get_settings.cache_clear()
    # The process's key ring goes back to what it was after the test.
    monkeypatch.setattr(crypto._ActiveKeyring, "ring", Keyring([parse_key(key)]))
    monkeypatch.setattr(crypto._ActiveKeyring, "watched", None)
    yield key
    get_settings.cache_clear()


@pytest.fixture
def clock() -> Clock:
    return Clock()
