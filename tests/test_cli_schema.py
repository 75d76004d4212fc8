"""The `dinplan` commands that work on the database, when a statement fails: one line on standard
error that says what to do, never a traceback, and of the error only its type, since its message
may quote the statement and its values (storage/cli_schema.py):

- the database cannot be opened (server down, wrong password, a path SQLite cannot open):
  "cannot open the database", exit 2;
- its schema is not the code's (never migrated, behind, ahead): "run `dinplan db upgrade`",
  exit 2;
- its schema is current: "the command failed with a database error", exit 1.

`check_schema` (storage/migrate.py) tells these apart, for these commands and for `dinplan run`
(`ensure_schema`). Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.cli import main
from storage.crypto import new_key
from storage.db import make_engine
from storage.migrate import SchemaStatus, check_schema, downgrade, upgrade
from storage.settings import get_settings
from tests.conftest import ENGINES, ROOT
from tests.telegram.emulator import free_port

GULEN = "gulen-koordinerande-eining"
# Every command that wears @schema_errors, with what a person might type (a name, say): none of
# it may be printed back.
COMMANDS = [
    ["retention"],
    ["deliver"],
    ["notify"],
    ["status"],
    ["export", "abcd-2345", "--format", "json"],
    ["keys", "rotate"],
    ["staff", "list"],
    ["staff", "list", "--unit", GULEN],
    ["staff", "add", "--unit", GULEN, "--name", "Åse Ødegård", "--lang", "nn"],
    ["staff", "disable", "siri.saebo"],
    ["audit"],
    ["audit", "--unit", GULEN, "--reference", "abcd-2345", "--days", "7"],
]
ERROR = r"\((OperationalError|ProgrammingError)\)"
NOT_READY = re.compile(rf"dinplan: the database is not ready {ERROR}; run `dinplan db upgrade` "
                       r"first\n")
# A file that is no database is a DatabaseError; the rest are OperationalError.
OPEN_ERROR = r"(OperationalError|DatabaseError)"
CANNOT_OPEN = re.compile(rf"dinplan: cannot open the database \(DINPLAN_DATABASE_URL\): "
                         rf"{OPEN_ERROR}\n")
FAILED = re.compile(rf"dinplan: the command failed with a database error {ERROR}; the schema is "
                    r"up to date\n")
PASSWORD = "not-the-password"

Dinplan = Callable[[list[str], str], tuple[int, str]]


@pytest.fixture
def dinplan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Iterator[Dinplan]:
    """Run `dinplan` on a database URL, from an empty folder (no .env) and with no other setting
    from the environment but two keys (so that `keys rotate` goes to the database); its exit
    status and standard error. It prints nothing on standard output."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("DINPLAN_")]:
        monkeypatch.delenv(name)  # no bot token either: nothing is sent
    monkeypatch.setenv("DINPLAN_ENCRYPTION_KEY", f"{new_key()},{new_key()}")

    def run(command: list[str], url: str) -> tuple[int, str]:
        monkeypatch.setenv("DINPLAN_DATABASE_URL", url)
        get_settings.cache_clear()
        code = main(command)
        out, err = capsys.readouterr()
        assert out == ""  # not even a table's heading
        return code, err

    yield run
    get_settings.cache_clear()


def table_names(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def execute(url: str, statement: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def drop_tables_but_alembic_version(url: str) -> None:
    """A database alembic calls current whose tables are gone: every command's statement fails,
    and not for want of a migration."""
    engine = make_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        metadata.drop_all(engine, tables=[table for table in metadata.sorted_tables
                                          if table.name != "alembic_version"])
    finally:
        engine.dispose()


@pytest.fixture(params=[*ENGINES, "sqlite-not-a-database", "postgresql-wrong-password"])
def unreachable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that cannot be opened: a SQLite path that is a folder or a file that is no
    database, a PostgreSQL port nothing listens on, a running server with a wrong password (and
    a database it does not have, so that a server trusting every password refuses it too)."""
    if request.param == "sqlite":
        (tmp_path / "a-folder").mkdir()
        return f"sqlite:///{tmp_path / 'a-folder'}"
    if request.param == "sqlite-not-a-database":
        (tmp_path / "notes.txt").write_text("not a database, " * 512)
        return f"sqlite:///{tmp_path / 'notes.txt'}"
    if request.param == "postgresql":
        return f"postgresql+psycopg://dinplan:{PASSWORD}@127.0.0.1:{free_port()}/dinplan"
    server = make_url(request.getfixturevalue("postgres_server_url"))
    return server.set(drivername="postgresql+psycopg", password=PASSWORD,
                      database="dinplan_no_such_database").render_as_string(hide_password=False)


# The commands ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_database_that_cannot_be_opened_is_said_so(
        command: list[str], unreachable_url: str, dinplan: Dinplan) -> None:
    code, err = dinplan(command, unreachable_url)
    assert code == 2
    assert CANNOT_OPEN.fullmatch(err), err  # not "run `dinplan db upgrade`", which cannot help


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_never_migrated_database_says_to_migrate(
        command: list[str], empty_database_url: str, dinplan: Dinplan) -> None:
    code, err = dinplan(command, empty_database_url)
    assert code == 2
    assert NOT_READY.fullmatch(err), err
    assert table_names(empty_database_url) == []  # and nothing was made on the way


def test_a_schema_behind_the_code_says_to_migrate(empty_database_url: str,
                                                  dinplan: Dinplan) -> None:
    upgrade(empty_database_url, "0003")  # the staff tables come with 0004
    code, err = dinplan(["staff", "list"], empty_database_url)
    assert code == 2
    assert NOT_READY.fullmatch(err), err


def test_a_schema_ahead_of_the_code_says_to_migrate(database_url: str, dinplan: Dinplan) -> None:
    # A newer release's migration renamed the table this code reads.
    execute(database_url, "ALTER TABLE staff_account RENAME TO staff_member")
    execute(database_url, "UPDATE alembic_version SET version_num = '9999_from_a_newer_release'")
    code, err = dinplan(["staff", "list"], database_url)
    assert code == 2
    assert NOT_READY.fullmatch(err), err


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_failing_statement_on_a_current_schema_is_a_database_error(
        command: list[str], database_url: str, dinplan: Dinplan) -> None:
    drop_tables_but_alembic_version(database_url)
    assert check_schema(database_url).status is SchemaStatus.CURRENT  # what alembic says
    code, err = dinplan(command, database_url)
    assert code == 1  # not 2: neither the settings nor `dinplan db upgrade` would help
    assert FAILED.fullmatch(err), err  # the type alone: no statement, no value, no traceback


def test_the_whole_output_is_one_line(tmp_path: Path) -> None:
    """Run as the operator does, with the default INFO log level: alembic, which looks at the
    schema, logs nothing around the line."""
    (tmp_path / "a-folder").mkdir()
    upgrade(current := f"sqlite:///{tmp_path / 'current.sqlite3'}")
    drop_tables_but_alembic_version(current)
    env = {name: value for name, value in os.environ.items() if not name.startswith("DINPLAN_")}
    for url, says, status in [
        (f"sqlite:///{tmp_path / 'a-folder'}", CANNOT_OPEN, 2),
        (f"sqlite:///{tmp_path / 'empty.sqlite3'}", NOT_READY, 2),
        (current, FAILED, 1),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "staff", "list"], cwd=tmp_path,
            env={**env, "PYTHONPATH": str(ROOT), "DINPLAN_DATABASE_URL": url},
            capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == status, result.stderr
        assert says.fullmatch(result.stderr), result.stderr
        assert result.stdout == ""


@pytest.mark.parametrize("command", [["chat"], ["run"], ["deliver"], ["db", "upgrade"],
                                     ["staff", "list"], ["inbox"]], ids=" ".join)
def test_a_database_file_whose_folder_cannot_be_made_is_said_so(
        command: list[str], tmp_path: Path, dinplan: Dinplan,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A file where the SQLite file's folder should be: one line naming the setting, no
    traceback, before anything starts."""
    monkeypatch.setenv("DINPLAN_TELEGRAM_TOKEN", "123456:not-used")  # `run` checks it first
    (tmp_path / "a-file").write_text("")
    code, err = dinplan(command, f"sqlite:///{tmp_path / 'a-file' / 'dinplan.sqlite3'}")
    assert code == 2
    assert err == (f"dinplan {command[0]}: error: cannot make the folder {tmp_path / 'a-file'} "
                   "for the database file (DINPLAN_DATABASE_URL): File exists\n"), err


# check_schema, and ensure_schema (`dinplan run`) on it ---------------------------------------


def test_check_schema_of_a_current_database(database_url: str) -> None:
    assert check_schema(database_url).status is SchemaStatus.CURRENT


def test_check_schema_of_a_never_migrated_database_makes_nothing(empty_database_url: str
                                                                 ) -> None:
    assert check_schema(empty_database_url).status is SchemaStatus.NOT_CURRENT
    assert table_names(empty_database_url) == []


def test_check_schema_of_a_schema_behind_and_ahead(database_url: str) -> None:
    downgrade(database_url, "-1")
    assert check_schema(database_url).status is SchemaStatus.NOT_CURRENT
    upgrade(database_url)
    execute(database_url, "UPDATE alembic_version SET version_num = '9999_from_a_newer_release'")
    assert check_schema(database_url).status is SchemaStatus.NOT_CURRENT


def test_check_schema_of_a_database_that_cannot_be_opened(unreachable_url: str) -> None:
    check = check_schema(unreachable_url)
    assert check.status is SchemaStatus.NOT_REACHABLE
    assert isinstance(check.error, SQLAlchemyError)


NOT_THE_DEFAULT = "sqlite:///not/the/embedded/default.sqlite3"


def test_ensure_schema_lets_a_current_schema_run(database_url: str) -> None:
    from bot.telegram.app import ensure_schema

    ensure_schema(database_url, embedded_default=NOT_THE_DEFAULT)


def test_ensure_schema_refuses_a_never_migrated_database(empty_database_url: str) -> None:
    from bot.telegram.app import ConfigurationError, ensure_schema

    with pytest.raises(ConfigurationError) as refused:
        ensure_schema(empty_database_url, embedded_default=NOT_THE_DEFAULT)
    assert str(refused.value) == ("the database schema is not up to date; run `dinplan db "
                                  "upgrade` first")
    assert table_names(empty_database_url) == []  # only the embedded default upgrades itself


def test_ensure_schema_on_a_database_that_cannot_be_opened(unreachable_url: str) -> None:
    from bot.telegram.app import ConfigurationError, ensure_schema

    with pytest.raises(ConfigurationError) as refused:
        ensure_schema(unreachable_url, embedded_default=NOT_THE_DEFAULT)
    assert re.fullmatch(rf"cannot open the database \(DINPLAN_DATABASE_URL\): {OPEN_ERROR}",
                        str(refused.value))
    assert isinstance(refused.value.__cause__, SQLAlchemyError)
