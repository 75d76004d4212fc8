"""Telegram updates already handled, so that an update delivered twice is handled once.

Telegram may deliver an update again (a lost `getUpdates` confirmation, a webhook retry). Only
the ids are kept, never what the update said, and only for as long as Telegram redelivers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, delete
from sqlmodel import Field, Session, SQLModel, col

from storage.models import utcnow


class ProcessedUpdate(SQLModel, table=True):
    """One update a bot has handled; update ids are counted per bot."""

    __tablename__ = "processed_update"

    bot_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    processed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False,
                                                 index=True))


def claim_update(session: Session, *, bot_id: int, update_id: int,
                 now: datetime | None = None) -> bool:
    """Mark the update as handled; False if it already was.

    Two sessions claiming the same update at once both get True here: the primary key makes
    the second commit fail, and that caller must treat the failure as "already handled".
    """
    if session.get(ProcessedUpdate, (bot_id, update_id)) is not None:
        return False
    session.add(ProcessedUpdate(bot_id=bot_id, update_id=update_id, processed_at=now or utcnow()))
    session.flush()
    return True


def forget_updates_before(session: Session, *, before: datetime) -> int:
    """Drop the ids of updates handled before `before`; Telegram no longer redelivers them."""
    result = session.exec(delete(ProcessedUpdate).where(
        col(ProcessedUpdate.processed_at) < before))
    return int(result.rowcount or 0)
