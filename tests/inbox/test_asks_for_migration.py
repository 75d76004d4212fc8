"""Revision 0007 gives each delivered request a plain `request` column (what the person asks
for), filled for the rows already there from their encrypted document, on both engines."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.crypto import Keyring, active_keyring
from storage.migrate import downgrade, upgrade

from .conftest import delivered_request_columns

WHEN = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
# reference -> what its document says it asks for (None: a document without it)
ASKS_FOR = {"AB12CDEF": "plan_and_coordinator", "GH34JKLM": "coordinator_only",
            "NP56QRST": None}
# Rows whose document cannot give it: left NULL, and the migration goes on.
UNREADABLE = {
    "UV78WXYZ": Keyring([bytes(32)]).encrypt('{"request": "not_sure"}'),
    "BC23DFGH": active_keyring().encrypt('{"request": "a kind nobody knows"}'),
    "JK45LMNP": active_keyring().encrypt("[1, 2, 3]"),
}


def _insert_delivered(engine: Engine) -> None:
    """What a Din plan at revision 0006 delivered: the request only in the encrypted document."""
    ring = active_keyring()
    documents = {}
    for reference, asks_for in ASKS_FOR.items():
        document = {"format": "dinplan-draft", "reference": reference, "answers": []}
        if asks_for is not None:
            document["request"] = asks_for
        documents[reference] = ring.encrypt(json.dumps(document))
    _insert(engine, documents, first_id=1)


def _insert(engine: Engine, documents: dict[str, str], *, first_id: int) -> None:
    """Delivered requests as revision 0006 stored them: reference -> the stored document."""
    with engine.begin() as db:
        for number, (reference, document) in enumerate(documents.items(), start=first_id):
            db.execute(text(
                "INSERT INTO delivered_request (id, outbox_id, unit_id, reference, "
                "municipality_number, language, submitted_at, received_at, answer_deadline, "
                "document, status) VALUES (:id, :id, 'gulen-koordinerande-eining', :reference, "
                "'4635', 'nn', :at, :at, :deadline, :document, 'new')"),
                {"id": number, "reference": reference, "at": WHEN,
                 "deadline": date(2026, 3, 1), "document": document})


def _asks_for(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as db:
        return dict(db.execute(text("SELECT reference, request FROM delivered_request")).all())


def test_upgrade_fills_the_column_from_each_document_and_downgrade_drops_it(
        empty_database_url: str, empty_engine: Engine) -> None:
    upgrade(empty_database_url, "0006")
    _insert_delivered(empty_engine)
    assert "request" not in delivered_request_columns(empty_engine)

    upgrade(empty_database_url)
    assert _asks_for(empty_engine) == ASKS_FOR

    downgrade(empty_database_url, "0006")
    assert "request" not in delivered_request_columns(empty_engine)
    with empty_engine.connect() as db:  # the rows, with their documents, stay
        assert db.execute(text("SELECT count(*) FROM delivered_request")).scalar_one() == 3

    upgrade(empty_database_url)
    assert _asks_for(empty_engine) == ASKS_FOR


def test_documents_that_cannot_be_read_are_left_null_and_counted(
        empty_database_url: str, empty_engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """A key no longer configured, an unknown kind or a document of another shape does not stop
    the upgrade (which would leave the bot's own SQLite file unable to start)."""
    upgrade(empty_database_url, "0006")
    _insert_delivered(empty_engine)
    _insert(empty_engine, UNREADABLE, first_id=100)
    with caplog.at_level(logging.WARNING):
        upgrade(empty_database_url)
    assert _asks_for(empty_engine) == {**ASKS_FOR, **dict.fromkeys(UNREADABLE)}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # The NULL kind of NP56QRST counts too: its document names none.
    assert warnings == ["4 delivered request(s) left without what they ask for: not readable "
                        "with the configured key, or no known request kind"]
