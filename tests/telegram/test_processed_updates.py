"""The table of handled update ids, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.db import unit_of_work
from storage.updates import ProcessedUpdate, claim_update, forget_updates_before

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
BIG_BOT = 8_123_456_789  # bot ids no longer fit in 32 bits


def test_an_update_is_claimed_once(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        assert claim_update(session, bot_id=BIG_BOT, update_id=1, now=NOW)
    with unit_of_work(engine) as session:
        assert not claim_update(session, bot_id=BIG_BOT, update_id=1, now=NOW)
        assert claim_update(session, bot_id=BIG_BOT, update_id=2, now=NOW)
        assert claim_update(session, bot_id=42, update_id=1, now=NOW)  # ids count per bot


def test_two_claims_at_once_cannot_both_commit(engine: Engine) -> None:
    with Session(engine) as first, Session(engine) as second:
        assert claim_update(first, bot_id=1, update_id=7, now=NOW)
        first.commit()
        second.add(ProcessedUpdate(bot_id=1, update_id=7, processed_at=NOW))
        with pytest.raises(IntegrityError):
            second.commit()


def test_old_ids_are_forgotten(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        claim_update(session, bot_id=1, update_id=1, now=NOW - timedelta(days=3))
        claim_update(session, bot_id=1, update_id=2, now=NOW)
    with unit_of_work(engine) as session:
        assert forget_updates_before(session, before=NOW - timedelta(days=2)) == 1
    with unit_of_work(engine) as session:
        assert claim_update(session, bot_id=1, update_id=1, now=NOW)
        assert not claim_update(session, bot_id=1, update_id=2, now=NOW)
