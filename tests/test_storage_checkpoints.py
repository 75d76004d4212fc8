"""SQLite's WAL is copied back into the database by a job between turns (`checkpoint_wal`), not
by SQLite inside the turn whose commit crossed its threshold; PostgreSQL needs none of it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from dialogs.draft import Conversation, Language
from dialogs.steps import Step
from storage.db import (
    CHECKPOINT_BACKSTOP_PAGES,
    checkpoint_wal,
    defer_checkpoints,
    make_engine,
    unit_of_work,
)
from storage.migrate import upgrade
from tests.stored import store_turn


def _autocheckpoint(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def _write(engine: Engine, chats: range) -> None:
    for chat in chats:
        with unit_of_work(engine) as session:
            store_turn(session, channel="test", chat_id=str(chat),
                       conv=Conversation(step=Step.READ_INTRO, language=Language.BOKMAL),
                       effects=[])


def test_a_deferring_engine_leaves_checkpoints_to_the_job(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(url)
    plain, deferring = make_engine(url), make_engine(url)
    try:
        assert _autocheckpoint(plain) == 1000  # SQLite's default: inside a commit
        assert defer_checkpoints(deferring)
        assert _autocheckpoint(deferring) == CHECKPOINT_BACKSTOP_PAGES

        _write(deferring, range(600))  # more than 1,000 pages of WAL, about two a commit
        wal = Path(f"{tmp_path / 'db.sqlite3'}-wal")
        in_wal, copied = checkpoint_wal(deferring)
        assert in_wal > 1000  # no commit checkpointed on its own
        assert copied == in_wal  # no reader held any page back
        assert wal.stat().st_size > 0  # PASSIVE copies; the file is reused, not truncated
        # Everything is in the database file itself now: a copy without the WAL holds it.
        copy = tmp_path / "copy.sqlite3"
        copy.write_bytes((tmp_path / "db.sqlite3").read_bytes())
        check = make_engine(f"sqlite:///{copy}")
        with check.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM conversation")).scalar_one()
        check.dispose()
        assert count == 600
    finally:
        plain.dispose()
        deferring.dispose()


def test_postgres_needs_no_checkpoint_job(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        assert defer_checkpoints(engine)
    else:
        assert not defer_checkpoints(engine)
