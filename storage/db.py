"""Engines and sessions: SQLite (embedded default, WAL) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Executable, event
from sqlalchemy.engine import CursorResult, Engine, make_url
from sqlmodel import Session, create_engine

from storage.settings import get_settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; NORMAL sync is durable across process crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # What is deleted (an erasure, retention) is overwritten, not left in the file's free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# A long-running writer (the bot) copies the WAL back into the database between turns, from a
# job (`checkpoint_wal`), not inside them: SQLite checkpoints in the turn whose commit takes the
# WAL past 1,000 pages, with an fsync, and that turn waits (bench/findings.md, p99). SQLite's
# own checkpoint stays as a backstop, at 10,000 pages (about 40 MB), should the job stop.
CHECKPOINT_BACKSTOP_PAGES = 10_000


def defer_checkpoints(engine: Engine) -> bool:
    """Leave checkpoints to `checkpoint_wal` on this engine's new connections; False (and
    nothing done) for a database that is not SQLite."""
    if engine.dialect.name != "sqlite":
        return False
    event.listen(engine, "connect", _backstop_checkpoints)
    return True


def _backstop_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_BACKSTOP_PAGES}")
    cursor.close()


def checkpoint_wal(engine: Engine) -> tuple[int, int]:
    """Copy the WAL's pages into the database file without waiting for any reader or writer
    (PASSIVE); the pages in the WAL and the pages copied."""
    with engine.connect() as connection:
        _busy, in_wal, copied = connection.exec_driver_sql(
            "PRAGMA wal_checkpoint(PASSIVE)").one()
    return int(in_wal), int(copied)


def one_writer_at_a_time(engine: Engine) -> bool:
    """Whether the database lets one transaction write at a time (SQLite). A process should then
    queue its own writers: SQLite's busy handler polls with growing sleeps and is not fair, so
    writers waiting in it add milliseconds, and under steady load one can wait past busy_timeout
    and fail (bench/findings.md)."""
    return engine.dialect.name == "sqlite"


class DatabaseLocationError(RuntimeError):
    """The SQLite file's folder cannot be made: a clear error for the operator, no traceback."""


def make_engine(url: str) -> Engine:
    """`hide_parameters`: a database error's message (which may be logged) and SQLAlchemy's
    statement log never quote the values written, a chat id say."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:  # a file where a folder should be, no permission
                raise DatabaseLocationError(
                    f"cannot make the folder {folder} for the database file "
                    f"(DINPLAN_DATABASE_URL): {error.strerror or type(error).__name__}") from error
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


@contextmanager
def configured_engine(url: str | None = None) -> Iterator[Engine]:
    """An engine on `url` (default: DINPLAN_DATABASE_URL) for one command, disposed when the
    block ends, however it ends."""
    engine = make_engine(url or get_settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def insert_returning_id(session: Session, statement: Executable, values: dict[str, Any]) -> int:
    """Run a Core INSERT of one row in the session's transaction; the new row's id."""
    result = cast(CursorResult[Any], session.connection().execute(statement, values))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])
