"""Queries of the citizen notifier (bot/notifier.py): a unit's status changes, told to the citizen.

Staff confirming receipt or changing a request's status in the web inbox writes a
`request_status_change` row with `notified_at` NULL (storage/staff.py). The notifier settles the
waiting changes of one delivered request in one transaction (`settle`):

1. it takes them: FOR UPDATE SKIP LOCKED on PostgreSQL, then a compare-and-set of `notified_at`
   (NULL to now), which is what keeps two notifiers apart on SQLite, where FOR UPDATE is a no-op;
   a notifier that finds any of them taken rolls back (`SettleConflictError`);
2. it sets the citizen's `Submission.status` and `status_changed_at` to the newest of them;
3. it says whom to tell what (`Settled`); the message is sent after the commit.

So the status and "notified" are one commit: a change is settled once, by one notifier, whatever
stops when. Nothing here reads or returns what the person wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage.models import DeliveredRequest, StoredConversation, Submission
from storage.staff import RequestStatus, RequestStatusChange

# What a citizen's `Submission.status` may become through the unit (the inbox's "new" is "sent").
CITIZEN_STATUSES = frozenset({RequestStatus.RECEIVED.value, RequestStatus.IN_PROGRESS.value,
                              RequestStatus.CLOSED.value})


class SettleConflictError(Exception):
    """Another notifier took some of these changes first; roll back and leave them to it."""


@dataclass(frozen=True)
class Recipient:
    """The conversation a submission came from: where, and in which language, to tell it."""

    channel: str
    chat_id: str
    language: str | None


@dataclass(frozen=True)
class Settled:
    """The waiting changes of one delivered request, settled in this transaction."""

    change_ids: tuple[int, ...]
    delivered_request_id: int
    reference: str
    unit_id: str
    status: str  # the newest change's
    at: datetime  # when staff made the newest change (UTC)
    # Where to tell it; None when there is no one to tell (erased, or nothing new to say).
    recipient: Recipient | None


def waiting_requests(session: Session, *, limit: int = 100) -> list[int]:
    """Delivered requests with changes the citizen has not been told about, oldest first."""
    first = func.min(RequestStatusChange.id)
    rows = session.exec(
        select(RequestStatusChange.delivered_request_id, first)
        .where(col(RequestStatusChange.notified_at).is_(None))
        .group_by(col(RequestStatusChange.delivered_request_id))
        .order_by(first).limit(limit))
    return [request_id for request_id, _ in rows]


def waiting_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(RequestStatusChange).where(
        col(RequestStatusChange.notified_at).is_(None))).one())


def submission_of(session: Session, *, delivered_request_id: int) -> Submission | None:
    """The citizen's submission behind a delivered request; None once they erased their data."""
    delivered = session.get(DeliveredRequest, delivered_request_id)
    if delivered is None or delivered.submission_id is None:
        return None
    return session.get(Submission, delivered.submission_id)


def recipient_of(session: Session, submission: Submission) -> Recipient | None:
    conversation = session.get(StoredConversation, submission.conversation_id)
    # Erased, or consent withdrawn: the status is kept for /status, but no one is messaged.
    if conversation is None or conversation.consented_at is None:
        return None
    return Recipient(conversation.channel, conversation.chat_id, conversation.language)


def _is_newer(change: RequestStatusChange, submission: Submission) -> bool:
    """Whether the change is at least as new as the status the submission has from the unit
    (two notifiers may settle two changes of one request in either order)."""
    if submission.status_changed_at is None:
        return True
    return change.at >= submission.status_changed_at


def settle(session: Session, *, delivered_request_id: int, now: datetime,
           leave_channels: frozenset[str] = frozenset()) -> Settled | None:
    """Mark the request's waiting changes notified and give the citizen's submission the newest
    status, in the caller's transaction. None if there is nothing to settle here: none waiting,
    another notifier holds them, or the citizen talks on one of `leave_channels` (a notifier that
    cannot reach them leaves the changes to one that can). Raises SettleConflictError when another
    notifier settled some of them meanwhile.
    """
    changes = list(session.exec(
        select(RequestStatusChange).where(
            col(RequestStatusChange.delivered_request_id) == delivered_request_id,
            col(RequestStatusChange.notified_at).is_(None))
        .order_by(col(RequestStatusChange.id)).with_for_update(skip_locked=True)))
    if not changes:
        return None
    submission = submission_of(session, delivered_request_id=delivered_request_id)
    recipient = recipient_of(session, submission) if submission is not None else None
    if recipient is not None and recipient.channel in leave_channels:
        return None
    ids = [change.id for change in changes if change.id is not None]
    taken = session.execute(
        update(RequestStatusChange)
        .where(col(RequestStatusChange.id).in_(ids),
               col(RequestStatusChange.notified_at).is_(None))
        .values(notified_at=now).execution_options(synchronize_session=False))
    if taken.rowcount != len(ids):  # type: ignore[attr-defined]
        raise SettleConflictError
    newest = changes[-1]
    tell = None
    # A change and its undoing before anyone was told (a slip of the mouse) is nothing new: the
    # status keeps its date, and no one is told.
    if submission is not None and newest.status in CITIZEN_STATUSES \
            and _is_newer(newest, submission) and submission.status != newest.status:
        submission.status = newest.status
        submission.status_changed_at = newest.at
        session.add(submission)
        tell = recipient
    session.flush()
    return Settled(tuple(ids), delivered_request_id, newest.reference, newest.unit_id,
                   newest.status, newest.at, tell)
