"""Fixtures of the forwarding tests: an encryption key, the test units directory, a clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.units import UnitsDirectory, load_directory
from tests.forwarding.helpers import Clock, FakeTelegram, units_file_with_chats


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
