"""Shared fixtures: a fresh migrated database per test on SQLite and on PostgreSQL, a fixed clock,
a dialog runner, an encryption key per test, and the Bot API emulator (one per session).

Every test that uses `database_url`, `engine` or `runner` runs twice, `[sqlite]` and
`[postgresql]`. PostgreSQL is a throw-away cluster started once per session (tests/pg.py), or the
server in DINPLAN_TEST_POSTGRES_URL; it never skips: if it cannot start, those tests fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.runner import DialogRunner
from storage import crypto
from storage.crypto import Keyring, new_key, parse_key
from storage.db import make_engine
from storage.migrate import upgrade
from storage.settings import get_settings
from tests.pg import URL_ENV, Databases, throwaway_cluster
from tests.telegram.emulator import Emulator, SetupError, install_emulator, start_emulator, stop
from tests.telegram.offline import OfflineRequest

ROOT = Path(__file__).resolve().parents[1]
FIXED_NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """The URL of a PostgreSQL server this session may create databases on."""
    if os.environ.get(URL_ENV):
        yield os.environ[URL_ENV]
        return
    with throwaway_cluster() as cluster:
        yield cluster.url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_databases(postgres_server_url: str) -> Iterator[Databases]:
    databases = Databases(postgres_server_url)
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def postgres_migrated_template(postgres_databases: Databases) -> Iterator[str]:
    """A database migrated to head once; each test gets a copy, which is faster than migrating."""
    name = postgres_databases.create(label="template")
    upgrade(postgres_databases.url(name))
    yield name
    postgres_databases.drop(name)


def _postgres_database(request: pytest.FixtureRequest, *, migrated: bool) -> Iterator[str]:
    databases: Databases = request.getfixturevalue("postgres_databases")
    if migrated:
        name = databases.create(template=request.getfixturevalue("postgres_migrated_template"))
    else:
        name = databases.create()
    yield databases.url(name)
    databases.drop(name)


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database migrated to head, on each engine."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dinplan.sqlite3'}"
        upgrade(url)
        yield url
    else:
        yield from _postgres_database(request, migrated=True)


@pytest.fixture(params=ENGINES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with no tables at all, on each engine (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        yield from _postgres_database(request, migrated=False)


@pytest.fixture
def empty_engine(empty_database_url: str) -> Iterator[Engine]:
    """An engine on `empty_database_url`."""
    engine = make_engine(empty_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def runner(engine: Engine) -> DialogRunner:
    return DialogRunner(engine, clock=lambda: FIXED_NOW)


# The bot's handler-level tests (tests/telegram, tests/notify): SQLite and an in-memory Bot API.
@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """The transport's tests need a real database, not both engines: SQLite is enough."""
    url = f"sqlite:///{tmp_path / 'telegram.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def offline() -> OfflineRequest:
    return OfflineRequest()


# An encryption key per test, for every test: most write encrypted columns, and without it they
# would read or make var/dinplan.key and follow the shell's DINPLAN_* settings.
@pytest.fixture(autouse=True)
def encryption_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A key for this test: in the environment (for `dinplan`, the migrations and child
    processes, which inherit it) and in this process's key ring, so all of them read what any
    of them wrote. DINPLAN_ENVIRONMENT is unset, so a production setting in the shell running
    the tests does not change them."""
    key = new_key()
    monkeypatch.setenv("DINPLAN_ENCRYPTION_KEY", key)
    monkeypatch.delenv("DINPLAN_ENVIRONMENT", raising=False)
    get_settings.cache_clear()
    # The process's key ring goes back to what it was after the test.
    monkeypatch.setattr(crypto._ActiveKeyring, "ring", Keyring([parse_key(key)]))
    monkeypatch.setattr(crypto._ActiveKeyring, "watched", None)
    yield key
    get_settings.cache_clear()


# The Bot API emulator (tests/telegram/emulator.py), shared by tests/telegram's end-to-end tests
# and tests/multiprocess: one process per session. It never skips: if it cannot start, the tests
# that need it fail and say why.
@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    try:
        folder = install_emulator()
        running = start_emulator(folder, tmp_path_factory.mktemp("emulator") / "emulator.log")
    except SetupError as error:
        pytest.fail(str(error), pytrace=False)
    yield running
    stop(running.process)


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements `engine` runs while the block runs, as sent to the database."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)
