"""Telegram updates already handled, so that an update delivered twice is handled once.

Telegram may deliver an update again (a lost `getUpdates` confirmation, a webhook retry), and with
several webhook processes the two deliveries may reach different processes at once. An update is
claimed in the transaction of its turn (`DialogRunner`, under the chat's lock), so the claim and
the turn are committed together or not at all. Only the ids are kept, never what the update said,
and only for as long as Telegram redelivers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col

from storage.models import UTCDateTime, utcnow


class ProcessedUpdate(SQLModel, table=True):
    """One update a bot has handled; update ids are counted per bot."""

    __tablename__ = "processed_update"

    bot_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    processed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))


def _claim_statement(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(ProcessedUpdate).values(
        bot_id=bindparam("bot_id"), update_id=bindparam("update_id"),
        processed_at=bindparam("processed_at"))
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id"])
        # SQLAlchemy keeps an INSERT's row count only when asked to.
        .execution_options(preserve_rowcount=True))


# Built once per engine kind: a turn claims its update on every update (bench/findings.md).
_CLAIM = {dialect: _claim_statement(dialect) for dialect in ("postgresql", "sqlite")}


def claim_update(session: Session, *, bot_id: int, update_id: int,
                 now: datetime | None = None) -> bool:
    """Mark the update as handled in this transaction; False if it already was.

    An insert that does nothing on a conflict: when another transaction has claimed the same
    update and not yet ended, PostgreSQL waits for it, then says False if it committed (True if
    it rolled back), so a claim never fails with a duplicate key.
    """
    connection = session.connection()
    result = connection.execute(_CLAIM[connection.dialect.name], {
        "bot_id": bot_id, "update_id": update_id, "processed_at": now or utcnow()})
    return bool(result.rowcount == 1)


def forget_updates_before(session: Session, *, before: datetime) -> int:
    """Drop the ids of updates handled before `before`; Telegram no longer redelivers them."""
    result = session.exec(delete(ProcessedUpdate).where(
        col(ProcessedUpdate.processed_at) < before))
    return int(result.rowcount or 0)
