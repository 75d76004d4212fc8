"""Fixtures for several processes on one database: an encryption key shared with the child
processes, a fresh migrated PostgreSQL database, and the Bot API emulator.

The database is a copy of the session's migrated template in the throw-away cluster
(tests/pg.py); the emulator is the one the Telegram end-to-end tests use
(tests/telegram/emulator.py). Neither skips: if one cannot start, the tests fail and say why.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage import crypto
from storage.crypto import Keyring, new_key, parse_key
from storage.settings import get_settings
from tests.pg import Databases
from tests.telegram.emulator import Emulator, SetupError, install_emulator, start_emulator, stop


@pytest.fixture(autouse=True)
def encryption_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """One key for this test's processes: in the environment (children inherit it) and in this
    process's key ring, so that all of them read what any of them wrote."""
    key = new_key()
    monkeypatch.setenv("DINPLAN_ENCRYPTION_KEY", key)
    get_settings.cache_clear()
    monkeypatch.setattr(crypto._ActiveKeyring, "ring", Keyring([parse_key(key)]))
    yield key
    get_settings.cache_clear()


@pytest.fixture
def postgres_url(postgres_databases: Databases, postgres_migrated_template: str,
                 ) -> Iterator[str]:
    """A fresh PostgreSQL database migrated to head, for the processes of one test."""
    name = postgres_databases.create(template=postgres_migrated_template, label="multi")
    yield postgres_databases.url(name)
    postgres_databases.drop(name)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    try:
        folder = install_emulator()
        running = start_emulator(folder, tmp_path_factory.mktemp("emulator") / "emulator.log")
    except SetupError as error:
        pytest.fail(str(error), pytrace=False)
    yield running
    stop(running.process)
