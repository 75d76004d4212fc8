"""Fixtures of the privacy tests: a key of their own, a clock to move, people who write canaries.

Every test that takes `engine` (tests/conftest.py) runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest

from tests.privacy.helpers import Clock


@pytest.fixture(autouse=True)
def _every_test_has_a_key(encryption_key: str) -> None:
    """Every test here runs with its own key (`encryption_key`, tests/conftest.py)."""


@pytest.fixture
def clock() -> Clock:
    return Clock()
