"""Fixtures of the privacy tests: a key of their own, a clock to move, people who write canaries.

Every test that takes `engine` (tests/conftest.py) runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest

from tests.privacy.helpers import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()
