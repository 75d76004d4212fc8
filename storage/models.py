"""The tables. Every schema change is an alembic revision in storage/migrations."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime
from functools import cache

from sqlalchemy import Column, DateTime, Index, Table, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from storage.crypto import EncryptedText


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """The same moment in UTC; a naive one is taken to be in UTC already, as Din plan stores."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp column: `DateTime(timezone=True)` in the schema, stored in UTC, and always read
    back as an aware UTC datetime, on SQLite (which keeps no zone and gives naive values) as on
    PostgreSQL (which gives the session's zone). A naive value written is taken to be UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


# The modules of storage besides this one that define tables; tests/test_migrations.py checks
# that none is missing. Importing only these keeps ReportLab and alembic out of an erasure.
TABLE_MODULES = ("storage.staff", "storage.updates")


@cache
def all_tables() -> tuple[Table, ...]:
    """Every table storage defines, parents before children."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return tuple(SQLModel.metadata.sorted_tables)


def table_of(model: type[SQLModel]) -> Table:
    """A model's table, for Core statements (sqlmodel does not type `__table__`)."""
    return model.__table__  # type: ignore[attr-defined]


def utc_column(nullable: bool = False) -> Column[datetime]:
    """A UTCDateTime column (every table's timestamps are these)."""
    return Column(UTCDateTime(), nullable=nullable)


def _secret() -> Column:
    """Free text the person wrote: encrypted at rest (storage/crypto.py), NULL when not given."""
    return Column(EncryptedText, nullable=True)


class StoredConversation(SQLModel, table=True):
    """Where one person is in the dialog; one row per chat on one channel."""

    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("channel", "chat_id", name="uq_conversation_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    step: str = Field(max_length=40)
    language: str | None = Field(default=None, max_length=2)
    history: str = Field(default="[]")  # JSON list of step names
    return_to: str | None = Field(default=None, max_length=40)
    editing: bool = False
    reached_review: bool = False
    turn: int = 0
    municipality_suggestions: str = Field(default="[]")  # JSON list of municipality numbers
    consented_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    consent_version: str | None = Field(default=None, max_length=20)
    wants_reminder: bool | None = None
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    declined_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    current_draft_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class StoredDraft(SQLModel, table=True):
    """A draft plan: everything but the answers to the preparation questions."""

    __tablename__ = "draft_plan"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True, ondelete="CASCADE")
    role: str | None = Field(default=None, max_length=16)
    person_name: str | None = Field(default=None, sa_column=_secret())
    relation: str | None = Field(default=None, max_length=24)
    basis: str | None = Field(default=None, max_length=32)
    request: str | None = Field(default=None, max_length=32)
    services: str = Field(default="[]")  # JSON list of service names
    services_answered: bool = False
    wishes_coordinator: bool | None = None
    coordinator_wish: str | None = Field(default=None, sa_column=_secret())
    contact_name: str | None = Field(default=None, sa_column=_secret())
    phone: str | None = Field(default=None, sa_column=_secret())
    reach_time: str | None = Field(default=None, sa_column=_secret())
    municipality_number: str | None = Field(default=None, max_length=4)
    target_group: str | None = Field(default=None, max_length=40)
    district: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class StoredAnswer(SQLModel, table=True):
    """The answer to one preparation question; `text` is NULL when the person skipped it."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("draft_id", "question", name="uq_answer_question"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft_plan.id", index=True, ondelete="CASCADE")
    question: str = Field(max_length=40)
    text: str | None = Field(default=None, sa_column=_secret())
    shared: bool = True


class Submission(SQLModel, table=True):
    """A draft the person confirmed and sent; the reference is what they quote on the phone."""

    __tablename__ = "submission"

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft_plan.id", unique=True, ondelete="CASCADE")
    conversation_id: int = Field(foreign_key="conversation.id", index=True, ondelete="CASCADE")
    reference: str = Field(max_length=16, unique=True)
    municipality_number: str = Field(max_length=4)
    # The unit it was routed to; NULL when the municipality is not in the units directory.
    unit_id: str | None = Field(default=None, max_length=120)
    # sent, saved (not routed), received, in_progress, closed
    status: str = Field(default="sent", max_length=16)
    submitted_at: datetime = Field(sa_column=utc_column())
    status_changed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class OutboxEntry(SQLModel, table=True):
    """A sent request on its way to a coordinating unit (storage/outbox.py).

    Written in the transaction that writes the submission, so a confirmed request is never lost;
    the delivery worker puts it in the unit's inbox and alerts the unit's staff chat, retrying
    with backoff. It holds no answers; the outbox row goes if the person erases their data first.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("submission_id", "unit_id", name="uq_outbox_submission_unit"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True, ondelete="CASCADE")
    unit_id: str = Field(max_length=64)
    target_group: str | None = Field(default=None, max_length=32)
    district: str | None = Field(default=None, max_length=64)
    status: str = Field(default="pending", max_length=16)  # pending, done
    attempts: int = 0  # failed attempts so far; sets the backoff
    next_attempt_at: datetime = Field(sa_column=utc_column())
    # While a worker sends the alert; another worker may take the entry once this has passed.
    claimed_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_error: str | None = Field(default=None, max_length=80)  # an exception's class name only
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    delivered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    alerted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    overdue_logged_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class DeliveredRequest(SQLModel, table=True):
    """A request as the unit received it: one row of the unit's web inbox.

    One row per outbox entry (the unique outbox_id makes a second delivery impossible). It is the
    municipality's copy: it stays when the person erases their data in Din plan (they are told to
    ask the municipality), so outbox_id is no foreign key and submission_id becomes NULL.
    """

    __tablename__ = "delivered_request"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(unique=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id", index=True,
                                      ondelete="SET NULL")
    unit_id: str = Field(max_length=64, index=True)
    reference: str = Field(max_length=16, index=True)
    municipality_number: str = Field(max_length=4)
    language: str = Field(max_length=2)  # the person's written standard
    target_group: str | None = Field(default=None, max_length=32)
    district: str | None = Field(default=None, max_length=64)
    # What the person asks for (a RequestKind value), also in `document`: kept plain so that the
    # unit's list shows it without decrypting every document.
    request: str | None = Field(default=None, max_length=32)
    submitted_at: datetime = Field(sa_column=utc_column())
    received_at: datetime = Field(sa_column=utc_column())
    answer_deadline: date
    # The unit's copy (storage/exports, JSON): only the answers the person chose to share.
    document: str = Field(sa_column=Column(EncryptedText, nullable=False))
    # When staff first opened it (the list marks the unopened). Its status is not here: it is
    # the newest of its RequestStatusChange rows (storage/staff.py), "new" while it has none.
    opened_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class PrivacyEvent(SQLModel, table=True):
    """That something happened to someone's data, for the record: what, when and on which
    channel. Never who (no chat id, no reference) and never what it was about."""

    __tablename__ = "privacy_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=utc_column())
    # erased, consent_withdrawn, data_exported, draft_expired, request_expired,
    # conversation_expired, reminder_sent
    what: str = Field(max_length=32)
    channel: str = Field(max_length=16)
