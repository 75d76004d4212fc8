"""Fixtures of the forwarding tests: an encryption key, the test units directory, a clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import crypto
from storage.crypto import Keyring, new_key, parse_key
from storage.settings import get_settings
from storage.units import UnitsDirectory, load_directory
from tests.forwarding.helpers import Clock, FakeTelegram, units_file_with_chats


@pytest.fixture(autouse=True)
def encryption_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A key for this test, in the environment too (for `dinplan` and child processes)."""
    key = new_key()
    monkeypatch.setenv("DINPLAN_ENCRYPTION_KEY", key)
    get_settings.cache_clear()
    # The process's key ring goes back to what it was after the test.
    monkeypatch.setattr(crypto._ActiveKeyring, "ring", Keyring([parse_key(key)]))
    yield key
    get_settings.cache_clear()


@pytest.fixture
def units_file(tmp_path: Path) -> Path:
    return units_file_with_chats(tmp_path)


@pytest.fixture
def directory(units_file: Path) -> UnitsDirectory:
    return load_directory(units_file)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def telegram() -> FakeTelegram:
    return FakeTelegram()
