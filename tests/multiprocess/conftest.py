"""Fixtures for several processes on one database: an encryption key shared with the child
processes, and a fresh migrated PostgreSQL database.

The key (`encryption_key`) and the Bot API emulator (`emulator`, the one the Telegram
end-to-end tests use) come from tests/conftest.py. The database is a copy of the session's
migrated template in the throw-away cluster (tests/pg.py). Neither skips: if one cannot start,
the tests fail and say why.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg import Databases


@pytest.fixture
def postgres_url(postgres_databases: Databases, postgres_migrated_template: str,
                 ) -> Iterator[str]:
    """A fresh PostgreSQL database migrated to head, for the processes of one test."""
    name = postgres_databases.create(template=postgres_migrated_template, label="multi")
    yield postgres_databases.url(name)
    postgres_databases.drop(name)
