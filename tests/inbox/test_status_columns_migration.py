"""Revision 0008 drops delivered_request.status and .acknowledged_at (a request's status is its
newest status change, its acknowledgement the first), keeping every row, its notes and its
status changes; the downgrade fills them again from those, on both engines."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import make_engine
from storage.migrate import downgrade, upgrade
from storage.models import DeliveredRequest, UTCDateTime, table_of

from .conftest import delivered_request_columns

UNIT = "gulen-koordinerande-eining"
RECEIVED = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
OPENED = RECEIVED + timedelta(hours=2)
ACKNOWLEDGED = RECEIVED + timedelta(days=1)
IN_PROGRESS = RECEIVED + timedelta(days=3)
# reference -> (opened_at, the status changes' (status, at)), as staff left them at 0007
REQUESTS: dict[str, tuple[datetime | None, list[tuple[str, datetime]]]] = {
    "AB12CDEF": (None, []),
    "GH34JKLM": (OPENED, []),
    "NP56QRST": (OPENED, [("received", ACKNOWLEDGED), ("in_progress", IN_PROGRESS)]),
}
# What the 0007 code wrote beside them, and what the downgrade is to fill in again.
OLD_COLUMNS = {"AB12CDEF": ("new", None), "GH34JKLM": ("opened", None),
               "NP56QRST": ("acknowledged", ACKNOWLEDGED)}


def _insert_requests(engine: Engine) -> None:
    """Delivered requests, their status changes and a note, as revision 0007 stored them."""
    with engine.begin() as db:
        for number, (reference, (opened_at, changes)) in enumerate(REQUESTS.items(), start=1):
            status, acknowledged_at = OLD_COLUMNS[reference]
            db.execute(text(
                "INSERT INTO delivered_request (id, outbox_id, unit_id, reference, "
                "municipality_number, language, request, submitted_at, received_at, "
                "answer_deadline, document, status, opened_at, acknowledged_at) VALUES "
                "(:id, :id, :unit, :reference, '4635', 'nn', 'coordinator_only', :at, :at, "
                ":deadline, 'enc1:x', :status, :opened_at, :acknowledged_at)"),
                {"id": number, "unit": UNIT, "reference": reference, "at": RECEIVED,
                 "deadline": date(2026, 3, 1), "status": status, "opened_at": opened_at,
                 "acknowledged_at": acknowledged_at})
            previous = "new"
            for new, at in changes:
                db.execute(text(
                    "INSERT INTO request_status_change (delivered_request_id, unit_id, "
                    "reference, status, previous_status, staff_name, at) VALUES "
                    "(:id, :unit, :reference, :status, :previous, 'Siri Sæbø', :at)"),
                    {"id": number, "unit": UNIT, "reference": reference, "status": new,
                     "previous": previous, "at": at})
                previous = new
            if changes:
                db.execute(text(
                    "INSERT INTO internal_note (delivered_request_id, unit_id, author_name, "
                    "text, at) VALUES (:id, :unit, 'Siri Sæbø', 'enc1:y', :at)"),
                    {"id": number, "unit": UNIT, "at": IN_PROGRESS})


def _requests(engine: Engine) -> dict[str, tuple[datetime | None, list[tuple[str, datetime]]]]:
    """Each request's opened_at and status changes, as REQUESTS gives them."""
    with engine.connect() as db:
        opened = db.execute(text("SELECT reference, opened_at FROM delivered_request")
                            .columns(opened_at=UTCDateTime())).all()
        changes = db.execute(text(
            "SELECT reference, status, at FROM request_status_change ORDER BY id")
            .columns(at=UTCDateTime())).all()
    return {reference: (opened_at, [(status, at) for r, status, at in changes if r == reference])
            for reference, opened_at in opened}


def _olddelivered_request_columns(engine: Engine) -> dict[str, tuple[str, datetime | None]]:
    with engine.connect() as db:
        rows = db.execute(text(
            "SELECT reference, status, acknowledged_at FROM delivered_request")
            .columns(acknowledged_at=UTCDateTime())).all()
    return {reference: (status, at) for reference, status, at in rows}


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as db:
        return int(db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_upgrade_drops_the_columns_and_keeps_the_rows_and_downgrade_fills_them_again(
        empty_database_url: str, empty_engine: Engine) -> None:
    upgrade(empty_database_url, "0007")
    _insert_requests(empty_engine)

    upgrade(empty_database_url, "0008")
    assert not {"status", "acknowledged_at"} & delivered_request_columns(empty_engine)
    assert "opened_at" in delivered_request_columns(empty_engine)
    # Nothing referring to the requests went with the columns (a rebuilt table on SQLite would
    # have deleted its notes and status changes, ON DELETE CASCADE).
    assert _requests(empty_engine) == REQUESTS
    assert _count(empty_engine, "internal_note") == 1

    downgrade(empty_database_url, "0007")
    assert {"status", "acknowledged_at"} <= delivered_request_columns(empty_engine)
    assert _olddelivered_request_columns(empty_engine) == OLD_COLUMNS
    assert _requests(empty_engine) == REQUESTS
    assert _count(empty_engine, "internal_note") == 1
    with empty_engine.begin() as db:  # a row written without a status is new
        db.execute(text(
            "INSERT INTO delivered_request (id, outbox_id, unit_id, reference, "
            "municipality_number, language, submitted_at, received_at, answer_deadline, "
            "document) VALUES (9, 9, :unit, 'UV78WXYZ', '4635', 'nn', :at, :at, :deadline, "
            "'enc1:z')"), {"unit": UNIT, "at": RECEIVED, "deadline": date(2026, 3, 1)})
    assert _olddelivered_request_columns(empty_engine)["UV78WXYZ"] == ("new", None)

    upgrade(empty_database_url)
    assert not {"status", "acknowledged_at"} & delivered_request_columns(empty_engine)
    assert _count(empty_engine, "request_status_change") == 2


def test_an_old_sqlite_is_told_what_it_needs_before_anything_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    upgrade(url, "0007")
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    with pytest.raises(RuntimeError, match=r"needs SQLite 3\.35 or later"):
        upgrade(url, "0008")
    monkeypatch.undo()
    engine = make_engine(url)
    try:
        # Left as it was, at 0007.
        assert {"status", "acknowledged_at"} <= delivered_request_columns(engine)
        with engine.connect() as db:
            assert db.execute(text("SELECT version_num FROM alembic_version")).scalar_one() \
                == "0007"
    finally:
        engine.dispose()
    assert "status" not in table_of(DeliveredRequest).c  # the code's model is 0008's
