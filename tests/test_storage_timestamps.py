"""Timestamp columns (`storage.models.UTCDateTime`): stored in UTC, read back aware in UTC.

SQLite keeps no zone and gives naive values back; PostgreSQL gives the session's zone. Both must
give the code the same aware UTC datetime, through the ORM and through Core statements alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from storage.conversations import load_turn
from storage.models import (
    PrivacyEvent,
    StoredConversation,
    StoredDraft,
    Submission,
    table_of,
)
from tests.conftest import FIXED_NOW

OSLO = ZoneInfo("Europe/Oslo")


def _is_utc(moment: datetime | None) -> bool:
    return moment is not None and moment.tzinfo is UTC


def _read_in_oslo(connection: Connection) -> None:
    """PostgreSQL gives timestamptz values in the session's zone: make it one that is not UTC."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET TIME ZONE 'Europe/Oslo'"))


def _stored(engine: Engine, event_id: int) -> datetime:
    """The column's value as the database holds it, without the column type: SQLite's text read
    as UTC wall time, PostgreSQL's timestamptz as the moment it is."""
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT at FROM privacy_event WHERE id = :id"),
                                 {"id": event_id}).scalar_one()
    if isinstance(raw, str):
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    return raw


def _record(engine: Engine, at: datetime) -> int:
    with Session(engine) as session:
        event = PrivacyEvent(at=at, what="erased", channel="terminal")
        session.add(event)
        session.commit()
        assert event.id is not None
        return event.id


def test_a_timestamp_reads_back_aware_in_utc(engine: Engine) -> None:
    event_id = _record(engine, FIXED_NOW.astimezone(OSLO))
    events = table_of(PrivacyEvent)
    with engine.connect() as connection:
        _read_in_oslo(connection)
        core = connection.execute(select(events.c.at).where(events.c.id == event_id)).scalar_one()
        newest = connection.execute(select(func.max(events.c.at))).scalar_one()
        with Session(bind=connection) as session:
            orm = session.get_one(PrivacyEvent, event_id).at
    for moment in (core, newest, orm):
        assert _is_utc(moment), moment
        assert moment == FIXED_NOW


def test_a_time_in_another_zone_is_stored_as_that_moment_in_utc(engine: Engine) -> None:
    """SQLite would keep 13:00 of 13:00+01:00 and lose the hour; the type writes 12:00."""
    event_id = _record(engine, FIXED_NOW.astimezone(timezone(timedelta(hours=1))))
    assert _stored(engine, event_id) == FIXED_NOW


def test_a_naive_time_written_is_stored_as_that_moment_in_utc(engine: Engine) -> None:
    event_id = _record(engine, FIXED_NOW.replace(tzinfo=None))
    assert _stored(engine, event_id) == FIXED_NOW
    with Session(engine) as session:
        at = session.get_one(PrivacyEvent, event_id).at
    assert _is_utc(at)
    assert at == FIXED_NOW


def test_load_turn_gives_aware_utc_times(engine: Engine) -> None:
    """The turn's Core statement reads the conversation and its latest submission with the same
    column types as the ORM."""
    changed = FIXED_NOW + timedelta(days=3)
    with Session(engine) as session:
        conversation = StoredConversation(channel="terminal", chat_id="times-1", step="sent",
                                          consented_at=FIXED_NOW.replace(tzinfo=None),
                                          declined_at=FIXED_NOW.astimezone(OSLO))
        session.add(conversation)
        session.flush()
        assert conversation.id is not None
        draft = StoredDraft(conversation_id=conversation.id)
        session.add(draft)
        session.flush()
        assert draft.id is not None
        conversation.current_draft_id = draft.id
        session.add(Submission(draft_id=draft.id, conversation_id=conversation.id,
                               reference="TIME2345", municipality_number="4601",
                               status="received", submitted_at=FIXED_NOW,
                               status_changed_at=changed.astimezone(OSLO)))
        session.commit()
    with engine.connect() as connection:
        _read_in_oslo(connection)
        with Session(bind=connection) as session:
            conv, state = load_turn(session, channel="terminal", chat_id="times-1")
    assert conv.submission is not None
    moments = (conv.consented_at, conv.declined_at, conv.submission.submitted_at,
               conv.submission.status_changed_at, state.conversation["consented_at"])
    assert all(_is_utc(moment) for moment in moments), moments
    assert moments == (FIXED_NOW, FIXED_NOW, FIXED_NOW, changed, FIXED_NOW)
