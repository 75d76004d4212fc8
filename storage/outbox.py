"""The outbox: sent requests on their way to the coordinating units, and the queries of delivery.

Confirming a request writes the submission and its outbox entry in one transaction
(`enqueue_delivery`), so nothing confirmed is lost if a process stops. The delivery worker
(`bot/delivery.py`) then, per entry:

1. claims it (FOR UPDATE SKIP LOCKED on PostgreSQL, then a compare-and-set of `claimed_until`)
   and writes the unit's inbox row in the same transaction: the row's unique outbox_id makes the
   unit see the request exactly once;
2. sends the staff alert, if the unit has a chat, after that commit, still under the claim, so a
   slow Telegram never holds a database lock or transaction open;
3. records the result: done, or a retry at `next_attempt_at` with exponential backoff.

Nothing here logs or stores what the person wrote, beyond the unit's (encrypted) inbox copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, update
from sqlmodel import Session, col, select

from storage.db import insert_returning_id
from storage.models import DeliveredRequest, OutboxEntry, Submission, table_of, utcnow

PENDING = "pending"
DONE = "done"

# Built once (SQLAlchemy caches its compiled form); an ORM flush took ~0.25 ms on the send turn.
_ENQUEUE = insert(table_of(OutboxEntry))

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s, 1 min, 2 min, ... at most an hour."""
    if attempts <= 0:
        return timedelta(0)
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_RETRY)


def enqueue_delivery(session: Session, *, submission_id: int, unit_id: str,
                     target_group: str | None = None, district: str | None = None,
                     now: datetime | None = None) -> int:
    """Queue a submission for its unit, in the caller's transaction (the one writing it); the
    new entry's id."""
    now = now or utcnow()
    return insert_returning_id(session, _ENQUEUE, {
        "submission_id": submission_id, "unit_id": unit_id, "target_group": target_group,
        "district": district, "status": PENDING, "attempts": 0, "next_attempt_at": now,
        "claimed_until": None, "last_error": None, "created_at": now})


def _due(now: datetime) -> Any:
    return (col(OutboxEntry.status) == PENDING) & (col(OutboxEntry.next_attempt_at) <= now) & or_(
        col(OutboxEntry.claimed_until).is_(None), col(OutboxEntry.claimed_until) <= now)


def due_ids(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    """Entries to work on now, oldest first (a plain read; `claim` locks one)."""
    return [i for i in session.exec(
        select(OutboxEntry.id).where(_due(now))
        .order_by(col(OutboxEntry.next_attempt_at), col(OutboxEntry.id)).limit(limit)
    ) if i is not None]


def claim(session: Session, *, outbox_id: int, now: datetime, until: datetime
          ) -> OutboxEntry | None:
    """The entry, claimed until `until` in this transaction, if it is still due; None if another
    worker has it or it is done.

    PostgreSQL: FOR UPDATE SKIP LOCKED passes over an entry another worker holds. The claim is
    then a compare-and-set UPDATE, which is what serialises workers on SQLite (its first write
    takes the database's one write lock; FOR UPDATE is a no-op there).
    """
    entry = session.exec(
        select(OutboxEntry).where(col(OutboxEntry.id) == outbox_id, _due(now))
        .with_for_update(skip_locked=True)
    ).first()
    if entry is None:
        return None
    taken = session.execute(
        update(OutboxEntry).where(col(OutboxEntry.id) == outbox_id, _due(now))
        .values(claimed_until=until).execution_options(synchronize_session=False))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(entry)
    return entry


def record_inbox_delivery(session: Session, *, entry: OutboxEntry, submission: Submission,
                          language: str, document: dict[str, Any], deadline: date,
                          now: datetime) -> bool:
    """Put the request in the unit's inbox. False if it was there already (never twice)."""
    assert entry.id is not None
    row = DeliveredRequest(
        outbox_id=entry.id, submission_id=submission.id, unit_id=entry.unit_id,
        reference=submission.reference, municipality_number=submission.municipality_number,
        language=language, target_group=entry.target_group, district=entry.district,
        request=document.get("request"), submitted_at=submission.submitted_at, received_at=now,
        answer_deadline=deadline,
        document=json.dumps(document, ensure_ascii=False),
    )
    entry.delivered_at = entry.delivered_at or now
    session.add(entry)
    if session.exec(select(DeliveredRequest.id).where(
            col(DeliveredRequest.outbox_id) == entry.id)).first() is not None:
        return False
    # Should two workers still race here, the unique outbox_id fails the second one's whole
    # transaction, which then counts as a failed attempt and finds the entry delivered next time.
    session.add(row)
    session.flush()
    return True


def mark_done(session: Session, *, entry: OutboxEntry, now: datetime,
              alerted: bool = False) -> None:
    entry.status = DONE
    entry.claimed_until = None
    entry.last_error = None
    if alerted:
        entry.alerted_at = now
    session.add(entry)


def record_alert_sent(session: Session, *, outbox_id: int, now: datetime) -> None:
    entry = session.get(OutboxEntry, outbox_id, with_for_update=True)
    if entry is not None:
        mark_done(session, entry=entry, now=now, alerted=True)


def record_failure(session: Session, *, outbox_id: int, now: datetime, error: str,
                   at_least: timedelta = timedelta(0), release_claim: bool = False
                   ) -> OutboxEntry | None:
    """Count a failed attempt and schedule the next one; `error` is a class name, no message.

    Only the worker that holds the alert claim releases it (`release_claim`).
    """
    entry = session.get(OutboxEntry, outbox_id, with_for_update=True)
    if entry is None or entry.status != PENDING:
        return None
    entry.attempts += 1
    entry.next_attempt_at = now + max(backoff(entry.attempts), at_least)
    if release_claim:
        entry.claimed_until = None
    entry.last_error = error[:80]
    session.add(entry)
    return entry


def newly_overdue(session: Session, *, now: datetime, after: timedelta) -> list[OutboxEntry]:
    """Entries still pending `after` they were queued and not yet reported; marks them reported."""
    entries = list(session.exec(
        select(OutboxEntry).where(col(OutboxEntry.status) == PENDING,
                                  col(OutboxEntry.created_at) <= now - after,
                                  col(OutboxEntry.overdue_logged_at).is_(None))
        .order_by(col(OutboxEntry.id))
    ))
    for entry in entries:
        entry.overdue_logged_at = now
        session.add(entry)
    return entries


@dataclass(frozen=True)
class PendingDelivery:
    outbox_id: int
    unit_id: str
    queued_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    in_inbox: bool
    overdue: bool


@dataclass(frozen=True)
class DeliveryStatus:
    pending: tuple[PendingDelivery, ...]
    delivered_total: int
    delivered_since: int  # in the last 24 hours

    @property
    def overdue(self) -> tuple[PendingDelivery, ...]:
        return tuple(p for p in self.pending if p.overdue)


def delivery_status(session: Session, *, now: datetime, overdue_after: timedelta
                    ) -> DeliveryStatus:
    """What `dinplan status` shows: nothing about any request's content."""
    pending = tuple(
        PendingDelivery(e.id or 0, e.unit_id, e.created_at, e.attempts, e.next_attempt_at,
                        e.last_error, e.delivered_at is not None,
                        e.created_at <= now - overdue_after)
        for e in session.exec(select(OutboxEntry).where(col(OutboxEntry.status) == PENDING)
                              .order_by(col(OutboxEntry.id)))
    )
    total = session.exec(select(func.count()).select_from(DeliveredRequest)).one()
    recent = session.exec(select(func.count()).select_from(DeliveredRequest).where(
        col(DeliveredRequest.received_at) >= now - timedelta(days=1))).one()
    return DeliveryStatus(pending, int(total), int(recent))


def postpone(session: Session, *, outbox_id: int, until: datetime) -> None:
    """Move an entry whose turn has not come (flood control) without counting a failure."""
    entry = session.get(OutboxEntry, outbox_id, with_for_update=True)
    if entry is not None and entry.status == PENDING:
        entry.next_attempt_at = max(entry.next_attempt_at, until)
        entry.claimed_until = None
        session.add(entry)
