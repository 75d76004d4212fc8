"""Answers, names, phone numbers and every free-text field are encrypted at rest: a canary the
person writes is nowhere in the SQLite file, its WAL, or a `pg_dump` of the PostgreSQL database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Text, column, inspect, select, table
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

from dialogs.steps import Step
from storage.conversations import load_conversation
from storage.crypto import EncryptedText
from storage.db import unit_of_work
from storage.models import StoredAnswer, StoredDraft
from tests.pg import find_bin_dir
from tests.privacy.helpers import (
    ANSWER,
    CANARIES,
    CONTACT_NAME,
    COORDINATOR_WISH,
    PERSON_NAME,
    PHONE_STORED,
    REACH_TIME,
    Clock,
    Person,
    import_every_table,
    runner_for,
)

# The free text a person writes, by table: each must be an EncryptedText column.
FREE_TEXT = {
    "draft_plan": {"person_name", "coordinator_wish", "contact_name", "phone", "reach_time"},
    "answer": {"text"},
    "delivered_request": {"document"},
    "internal_note": {"text"},
    "staff_account": {"totp_secret"},
}


def test_every_free_text_column_is_encrypted() -> None:
    import_every_table()
    encrypted = {
        t.name: {c.name for c in t.columns if isinstance(c.type, EncryptedText)}
        for t in SQLModel.metadata.sorted_tables}
    for name, columns in FREE_TEXT.items():
        assert columns <= encrypted[name], f"{name}: {columns - encrypted[name]} in clear text"
    assert isinstance(inspect(StoredDraft).local_table.c.phone.type, EncryptedText)
    assert isinstance(inspect(StoredAnswer).local_table.c.text.type, EncryptedText)


def _stored_bytes_sqlite(database_url: str) -> bytes:
    path = Path(make_url(database_url).database or "")
    found = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    assert wal.exists(), "the test means to read the WAL before any checkpoint"
    return found + wal.read_bytes()


def _pg_dump(database_url: str) -> bytes:
    url = make_url(database_url)
    result = subprocess.run(
        [str(find_bin_dir() / "pg_dump"), "--host", url.host or "", "--port", str(url.port),
         "--username", url.username or "", "--no-password", "--data-only", url.database or ""],
        env={**os.environ, "PGPASSWORD": url.password or ""}, capture_output=True,
        check=False, timeout=120)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def stored_bytes(database_url: str) -> bytes:
    """Everything the engine has on disk (SQLite: the file and its WAL) or dumps (PostgreSQL)."""
    if make_url(database_url).get_backend_name() == "sqlite":
        return _stored_bytes_sqlite(database_url)
    return _pg_dump(database_url)


def test_a_canary_is_not_in_the_stored_bytes(engine: Engine, database_url: str,
                                             clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "kanari-1")
    person.go_to(Step.REVIEW)
    Person(runner_for(engine, clock), "kanari-2").send_request()

    stored = stored_bytes(database_url)
    assert b"enc1:" in stored  # the rows are there, encrypted
    found = [c for c in CANARIES if c.encode() in stored or c.encode("utf-16-le") in stored]
    assert found == [], f"in clear text on disk or in the dump: {found}"
    # ... and Din plan reads them back as written.
    with unit_of_work(engine) as session:
        draft = load_conversation(session, channel="terminal", chat_id="kanari-1").draft
    assert (draft.person_name, draft.coordinator_wish, draft.contact_name, draft.reach_time) \
        == (PERSON_NAME, COORDINATOR_WISH, CONTACT_NAME, REACH_TIME)
    assert draft.phone == PHONE_STORED
    assert ANSWER in [a.text for a in draft.answers.values()]


def test_the_search_finds_clear_text(engine: Engine, database_url: str) -> None:
    """The check above can fail: a canary written past the encryption is found."""
    with engine.begin() as connection:
        connection.execute(table("privacy_event", column("at"), column("what", Text()),
                                 column("channel", Text())).insert().values(
            at=Clock()(), what="KANARISVAR7Q", channel="x"))
    assert b"KANARISVAR7Q" in stored_bytes(database_url)


def test_the_raw_columns_hold_tokens_only(engine: Engine, clock: Clock) -> None:
    Person(runner_for(engine, clock), "kanari-3").go_to(Step.REVIEW)
    with engine.connect() as connection:
        for name, columns in FREE_TEXT.items():
            raw = table(name, *(column(c, Text()) for c in columns))
            for row in connection.execute(select(*raw.c)):
                assert all(v is None or v.startswith("enc1:") for v in row), (name, row)


def test_sqlite_overwrites_what_it_deletes() -> None:
    """Deleted rows (an erasure, retention) are zeroed in the file, not left in free pages."""
    from storage.db import make_engine

    engine = make_engine("sqlite://")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    engine.dispose()
    assert sqlite3.sqlite_version_info >= (3, 35)  # the migration swaps columns in place
