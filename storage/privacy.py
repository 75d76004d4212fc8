"""What Din plan keeps about a person, and the promises of PRIVACY.md kept as queries.

- `export_person`: everything stored about one chat (/mine_data), as data and JSON;
- `erase_person`: every row about one chat, in every table (/slett); the unit's copy of a
  request it received stays with the unit, only its link to the person goes;
- `withdraw_consent`: nothing more is sent, nothing they wrote is kept, no reminders
  (/trekk_samtykke);
- retention: unsent drafts, old requests and empty chats are deleted on time
  (`apply_retention`), with a reminder first for those who asked (`due_reminders`).

Each of these writes a `PrivacyEvent`: what happened, when, on which channel; never who, never
what it was about. Nothing here logs anything a person wrote.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, exists, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from sqlmodel import select as typed_select

from dialogs.draft import DraftPlan, Language
from storage.db import unit_of_work
from storage.locks import lock_conversation
from storage.models import (
    OutboxEntry,
    PrivacyEvent,
    StoredAnswer,
    StoredConversation,
    StoredDraft,
    Submission,
    all_tables,
    as_utc,
    table_of,
    utcnow,
)

EXPORT_FORMAT = "dinplan-personal-data"
EXPORT_VERSION = 1
# An outbox entry stopped because the person withdrew consent before it reached the unit.
CANCELLED = "cancelled"
# Submission statuses that mean the unit has acknowledged the request.
ACKNOWLEDGED = ("received", "in_progress", "closed")


class PrivacyAction(StrEnum):
    ERASED = "erased"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    DATA_EXPORTED = "data_exported"
    DRAFT_EXPIRED = "draft_expired"
    REQUEST_EXPIRED = "request_expired"
    CONVERSATION_EXPIRED = "conversation_expired"
    REMINDER_SENT = "reminder_sent"


def record_event(session: Session, *, what: PrivacyAction, channel: str,
                 now: datetime | None = None) -> None:
    session.add(PrivacyEvent(at=now or utcnow(), what=what.value, channel=channel[:16]))


def _find(session: Session, channel: str, chat_id: str) -> StoredConversation | None:
    return session.exec(typed_select(StoredConversation).where(
        StoredConversation.channel == channel, StoredConversation.chat_id == chat_id)).first()


# -- rows and their dependents, over every table ------------------------------------------------




def delete_with_dependents(session: Session, table: Table, where: ColumnElement[bool]) -> int:
    """Delete the rows of `table` matching `where`, and first, in every table, the rows that
    refer to them by a foreign key; a reference declared ON DELETE SET NULL (the unit's copy of
    a request) is set to NULL instead. Done here rather than left to the database, so it holds
    whatever the engine's foreign key settings. The count of rows of `table`."""
    [key] = list(table.primary_key.columns)
    ids = list(session.execute(select(key).where(where)).scalars())
    if not ids:
        return 0
    for child in all_tables():
        for foreign_key in child.foreign_keys:
            if foreign_key.column.table is not table:
                continue
            reference = foreign_key.parent
            if (foreign_key.ondelete or "").upper() == "SET NULL":
                session.execute(update(child).where(reference.in_(ids))
                                .values({reference.name: None}))
            else:
                delete_with_dependents(session, child, reference.in_(ids))
    session.execute(delete(table).where(key.in_(ids)))
    return len(ids)


def erase_person(session: Session, *, channel: str, chat_id: str,
                 now: datetime | None = None) -> bool:
    """Delete every row about this chat, in every table; True if there was anything.

    The conversation goes with everything that refers to it: drafts, answers, submissions,
    outbox entries (so queued deliveries and staff alerts stop). Rows of other tables keyed by
    the same channel and chat id go too. What a unit already received stays in its inbox
    (delivered_request), no longer linked to the person: they ask the unit about it.
    Processed Telegram update ids hold no chat id, so nothing in them refers to the person.
    """
    row = _find(session, channel, chat_id)
    found = False
    if row is not None:
        delete_with_dependents(session, table_of(StoredConversation),
                               table_of(StoredConversation).c.id == row.id)
        found = True
    for table in all_tables():
        if table is table_of(StoredConversation) \
                or not {"channel", "chat_id"} <= set(table.c.keys()):
            continue
        found |= delete_with_dependents(session, table, and_(
            table.c.channel == channel, table.c.chat_id == chat_id)) > 0
    if found:
        record_event(session, what=PrivacyAction.ERASED, channel=channel, now=now)
    return found


# -- withdrawal of consent -----------------------------------------------------------------------

FREE_TEXT_FIELDS = ("person_name", "coordinator_wish", "contact_name", "phone", "reach_time")


def _scrub_draft(session: Session, draft_id: int) -> None:
    """What the person wrote in a draft a unit has received: Din plan's copy of it goes."""
    answers, drafts = table_of(StoredAnswer), table_of(StoredDraft)
    session.execute(delete(answers).where(answers.c.draft_id == draft_id))
    session.execute(update(drafts).where(drafts.c.id == draft_id)
                    .values(dict.fromkeys(FREE_TEXT_FIELDS)))


def withdraw_consent(session: Session, *, conversation_id: int, channel: str,
                     now: datetime | None = None) -> None:
    """Stop everything for a person who withdraws consent, in the turn's transaction.

    The draft being worked on is discarded by `save_turn`. Here: deliveries that have
    not reached a unit are cancelled (PostgreSQL waits for a worker holding one, then sees
    whether it got there), a request no unit received is deleted, and what the person wrote in
    one a unit did receive is deleted from Din plan (the reference and status stay, for
    /status). No reminder is due: the conversation forgets that one was asked for.
    """
    outbox, submissions = table_of(OutboxEntry), table_of(Submission)
    ids = list(session.execute(select(submissions.c.id, submissions.c.draft_id).where(
        submissions.c.conversation_id == conversation_id)).all())
    submission_ids = [submission_id for submission_id, _draft in ids]
    if submission_ids:
        session.execute(update(outbox).where(
            outbox.c.submission_id.in_(submission_ids), outbox.c.status == "pending",
            outbox.c.delivered_at.is_(None)).values(status=CANCELLED, claimed_until=None))
        received = set(session.execute(select(outbox.c.submission_id).where(
            outbox.c.submission_id.in_(submission_ids),
            outbox.c.delivered_at.is_not(None))).scalars())
        for submission_id, draft_id in ids:
            if submission_id in received:
                _scrub_draft(session, draft_id)
            else:
                delete_with_dependents(session, table_of(StoredDraft),
                                       table_of(StoredDraft).c.id == draft_id)
    session.execute(update(table_of(StoredConversation))
                    .where(table_of(StoredConversation).c.id == conversation_id)
                    .values(wants_reminder=None, reminded_at=None))
    record_event(session, what=PrivacyAction.CONSENT_WITHDRAWN, channel=channel, now=now)


# -- export ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    unit_id: str
    status: str
    queued_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class SentRequest:
    reference: str
    submitted_at: datetime
    status: str
    status_changed_at: datetime | None
    unit_id: str | None
    municipality_number: str
    deliveries: tuple[Delivery, ...] = ()


@dataclass(frozen=True)
class KeptDraft:
    draft: DraftPlan
    started_at: datetime
    updated_at: datetime
    request: SentRequest | None
    # When an unsent draft is deleted (retention); None for a sent one.
    deleted_at: datetime | None


@dataclass(frozen=True)
class PersonalData:
    """Everything stored about one chat, as /mine_data gives it."""

    channel: str
    chat_id: str
    exported_at: datetime
    language: Language | None
    step: str
    first_seen: datetime
    last_seen: datetime
    consented_at: datetime | None
    consent_version: str | None
    declined_at: datetime | None
    wants_reminder: bool | None
    reminded_at: datetime | None
    drafts: tuple[KeptDraft, ...] = field(default=())

    @property
    def requests(self) -> tuple[SentRequest, ...]:
        return tuple(d.request for d in self.drafts if d.request is not None)

    def to_json(self) -> dict[str, Any]:
        from storage.exports import DraftDocument, to_json

        def moment(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        language = self.language or Language.BOKMAL

        def draft_json(kept: KeptDraft) -> dict[str, Any]:
            whole = to_json(DraftDocument(draft=kept.draft, language=language))
            return {
                "started_at": moment(kept.started_at),
                "updated_at": moment(kept.updated_at),
                "sent": kept.request is not None,
                "reference": kept.request.reference if kept.request else None,
                "deleted_at": moment(kept.deleted_at),
                **{name: whole[name] for name in ("prepared_by", "request", "answers",
                                                  "services", "services_answered",
                                                  "coordinator", "contact", "municipality")},
                "routing": {"target_group": kept.draft.target_group,
                            "district": kept.draft.district},
            }

        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": moment(self.exported_at),
            "chat": {"channel": self.channel, "chat_id": self.chat_id,
                     "first_seen": moment(self.first_seen), "last_seen": moment(self.last_seen),
                     "language": self.language.value if self.language else None,
                     "step": self.step},
            "consent": {"given_at": moment(self.consented_at),
                        "privacy_notice_version": self.consent_version,
                        "declined_at": moment(self.declined_at)},
            "reminders": {"wanted": self.wants_reminder, "last_sent_at": moment(self.reminded_at)},
            "drafts": [draft_json(kept) for kept in self.drafts],
            "requests": [{
                "reference": r.reference, "submitted_at": moment(r.submitted_at),
                "status": r.status, "status_changed_at": moment(r.status_changed_at),
                "unit_id": r.unit_id, "municipality_number": r.municipality_number,
                "deliveries": [{"unit_id": d.unit_id, "status": d.status,
                                "queued_at": moment(d.queued_at),
                                "delivered_at": moment(d.delivered_at)} for d in r.deliveries],
            } for r in self.requests],
        }

    def json_bytes(self) -> bytes:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2).encode("utf-8")


def export_person(session: Session, *, channel: str, chat_id: str, now: datetime | None = None,
                  draft_retention_days: int = 30) -> PersonalData | None:
    """Everything stored about this chat; None if nothing is."""
    from storage.conversations import draft_from_rows

    row = _find(session, channel, chat_id)
    if row is None:
        return None
    kept = []
    drafts = session.exec(typed_select(StoredDraft).where(
        StoredDraft.conversation_id == row.id).order_by(col(StoredDraft.id))).all()
    for draft_row in drafts:
        answers = list(session.exec(typed_select(StoredAnswer).where(
            StoredAnswer.draft_id == draft_row.id).order_by(col(StoredAnswer.id))))
        submission = session.exec(typed_select(Submission).where(
            Submission.draft_id == draft_row.id)).first()
        request = None
        if submission is not None:
            entries = session.exec(typed_select(OutboxEntry).where(
                OutboxEntry.submission_id == submission.id).order_by(col(OutboxEntry.id))).all()
            request = SentRequest(
                submission.reference, submission.submitted_at, submission.status,
                submission.status_changed_at, submission.unit_id, submission.municipality_number,
                tuple(Delivery(e.unit_id, e.status, e.created_at, e.delivered_at)
                      for e in entries))
        started = draft_row.created_at
        kept.append(KeptDraft(
            draft_from_rows(draft_row, answers), started, draft_row.updated_at, request,
            None if request else started + timedelta(days=draft_retention_days)))
    return PersonalData(
        channel=channel, chat_id=chat_id,
        exported_at=as_utc(now) if now else utcnow(),  # the caller's clock: UTC like the rest
        language=Language(row.language) if row.language else None, step=row.step,
        first_seen=row.created_at, last_seen=row.updated_at, consented_at=row.consented_at,
        consent_version=row.consent_version, declined_at=row.declined_at,
        wants_reminder=row.wants_reminder, reminded_at=row.reminded_at,
        drafts=tuple(kept))


# -- retention ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetentionPolicy:
    """How long things are kept (settings; PRIVACY.md and the notice say the same)."""

    draft_days: int = 30
    remind_days_before: int = 7
    request_days: int = 90
    unacknowledged_request_days: int = 365
    idle_conversation_days: int = 30

    @classmethod
    def from_settings(cls, settings: Any) -> RetentionPolicy:
        return cls(draft_days=settings.draft_retention_days,
                   remind_days_before=settings.draft_reminder_days_before,
                   request_days=settings.request_retention_days,
                   unacknowledged_request_days=settings.unacknowledged_request_retention_days,
                   idle_conversation_days=settings.idle_conversation_retention_days)


@dataclass(frozen=True)
class DueReminder:
    conversation_id: int
    channel: str
    chat_id: str
    language: Language | None
    draft_id: int
    draft_started_at: datetime
    deleted_at: datetime  # when the draft goes if it is not sent
    previous_reminder: datetime | None


def _unsent(draft_id: Any) -> ColumnElement[bool]:
    return ~exists().where(table_of(Submission).c.draft_id == draft_id)


def due_reminders(session: Session, *, now: datetime, policy: RetentionPolicy,
                  channel: str | None = None, limit: int = 100) -> list[DueReminder]:
    """Unsent drafts whose deletion is near, of people who asked to be reminded, not yet
    reminded about this draft."""
    conv, draft = table_of(StoredConversation), table_of(StoredDraft)
    remind_from = now - timedelta(days=policy.draft_days - policy.remind_days_before)
    query = (select(conv.c.id, conv.c.channel, conv.c.chat_id, conv.c.language, draft.c.id,
                    draft.c.created_at, conv.c.reminded_at)
             .join(draft, draft.c.id == conv.c.current_draft_id)
             .where(conv.c.wants_reminder.is_(True), _unsent(draft.c.id),
                    draft.c.created_at <= remind_from,
                    draft.c.created_at > now - timedelta(days=policy.draft_days),
                    or_(conv.c.reminded_at.is_(None), conv.c.reminded_at < draft.c.created_at))
             .order_by(draft.c.created_at).limit(limit))
    if channel is not None:
        query = query.where(conv.c.channel == channel)
    return [DueReminder(conversation_id, row_channel, chat_id,
                        Language(language) if language else None, draft_id, started,
                        started + timedelta(days=policy.draft_days), reminded)
            for conversation_id, row_channel, chat_id, language, draft_id, started, reminded
            in session.execute(query).all()]


def claim_reminder(session: Session, *, reminder: DueReminder, now: datetime) -> bool:
    """Mark the reminder as sent before sending it, under the chat's lock; False if another
    process has, or the draft was sent or deleted meanwhile."""
    lock_conversation(session, channel=reminder.channel, chat_id=reminder.chat_id)
    conv = table_of(StoredConversation)
    claimed = session.execute(update(conv).where(
        conv.c.id == reminder.conversation_id,
        conv.c.current_draft_id == reminder.draft_id,
        conv.c.wants_reminder.is_(True),
        _unsent(reminder.draft_id),
        or_(conv.c.reminded_at.is_(None), conv.c.reminded_at < reminder.draft_started_at),
    ).values(reminded_at=now).execution_options(synchronize_session=False))
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def release_reminder(session: Session, *, reminder: DueReminder, claimed_at: datetime) -> None:
    """A reminder that could not be sent: due again at the next run."""
    conv = table_of(StoredConversation)
    session.execute(update(conv).where(conv.c.id == reminder.conversation_id,
                                       conv.c.reminded_at == claimed_at)
                    .values(reminded_at=reminder.previous_reminder))


@dataclass
class RetentionReport:
    drafts: int = 0
    requests: int = 0
    conversations: int = 0
    reminders: int = 0
    reminders_failed: int = 0


def _expired_drafts(session: Session, now: datetime, policy: RetentionPolicy) -> list[Any]:
    conv, draft = table_of(StoredConversation), table_of(StoredDraft)
    return list(session.execute(
        select(draft.c.id, conv.c.channel, conv.c.chat_id)
        .join(conv, conv.c.id == draft.c.conversation_id)
        .where(_unsent(draft.c.id), draft.c.created_at <= now - timedelta(days=policy.draft_days))
    ).all())


def _expired_requests(session: Session, now: datetime, policy: RetentionPolicy,
                      draft_id: int | None = None) -> list[Any]:
    """Requests kept longer than the policy allows (only the one of `draft_id`, if given)."""
    conv, sub = table_of(StoredConversation), table_of(Submission)
    acknowledged = and_(sub.c.status.in_(ACKNOWLEDGED), sub.c.status_changed_at.is_not(None),
                        sub.c.status_changed_at <= now - timedelta(days=policy.request_days))
    saved = and_(sub.c.status == "saved",
                 sub.c.submitted_at <= now - timedelta(days=policy.request_days))
    never = and_(or_(sub.c.status.not_in(ACKNOWLEDGED), sub.c.status_changed_at.is_(None)),
                 sub.c.submitted_at
                 <= now - timedelta(days=policy.unacknowledged_request_days))
    query = (select(sub.c.draft_id, conv.c.channel, conv.c.chat_id)
             .join(conv, conv.c.id == sub.c.conversation_id)
             .where(or_(acknowledged, saved, never)))
    if draft_id is not None:
        query = query.where(sub.c.draft_id == draft_id)
    return list(session.execute(query).all())


def _idle_conversations(session: Session, now: datetime, policy: RetentionPolicy,
                        conversation_id: int | None = None) -> list[Any]:
    """Chats holding nothing else, idle longer than the policy allows (only `conversation_id`,
    if given)."""
    conv, draft = table_of(StoredConversation), table_of(StoredDraft)
    query = select(conv.c.id, conv.c.channel, conv.c.chat_id).where(
        ~exists().where(draft.c.conversation_id == conv.c.id),
        conv.c.updated_at <= now - timedelta(days=policy.idle_conversation_days))
    if conversation_id is not None:
        query = query.where(conv.c.id == conversation_id)
    return list(session.execute(query).all())


def _forget_draft(session: Session, *, draft_id: int, unsent_only: bool,
                  now: datetime | None = None) -> bool:
    """Delete one draft with its answers (and its request, outbox entries); a conversation
    that was working on it is told so at its next message (the cancelled step), for as long as
    an empty chat is kept from now."""
    draft = table_of(StoredDraft)
    where = draft.c.id == draft_id
    if unsent_only:
        where = and_(where, _unsent(draft_id))
    conv = table_of(StoredConversation)
    current = session.execute(select(conv.c.id, conv.c.step).where(
        conv.c.current_draft_id == draft_id)).first()
    if delete_with_dependents(session, draft, where) == 0:
        return False
    if current is not None:
        values: dict[str, Any] = {"current_draft_id": None}
        if unsent_only:
            values.update(step="cancelled", history="[]", return_to=None, editing=False,
                          reached_review=False, municipality_suggestions="[]", reminded_at=None,
                          updated_at=now or utcnow())
        session.execute(update(conv).where(conv.c.id == current.id).values(values))
    return True


def apply_retention(engine: Engine, *, now: datetime, policy: RetentionPolicy) -> RetentionReport:
    """Delete what is kept longer than the policy allows: one transaction per chat, each under
    the chat's lock and checked again there, so a turn of that chat is never overtaken."""
    report = RetentionReport()

    def each(rows: list[Any], work: Callable[[Session, Any], bool], action: PrivacyAction
             ) -> int:
        done = 0
        for row in rows:
            with unit_of_work(engine) as session:
                lock_conversation(session, channel=row.channel, chat_id=row.chat_id)
                if work(session, row):
                    record_event(session, what=action, channel=row.channel, now=now)
                    done += 1
        return done

    with unit_of_work(engine) as session:
        drafts = _expired_drafts(session, now, policy)
    report.drafts = each(drafts, lambda s, r: _forget_draft(s, draft_id=r.id, unsent_only=True,
                                                            now=now),
                         PrivacyAction.DRAFT_EXPIRED)

    # Checked again under the chat's lock, for this row only: a turn may have come between.
    def forget_request(session: Session, row: Any) -> bool:
        still = _expired_requests(session, now, policy, draft_id=row.draft_id)
        return bool(still) and _forget_draft(session, draft_id=row.draft_id, unsent_only=False)

    with unit_of_work(engine) as session:
        requests = _expired_requests(session, now, policy)
    report.requests = each(requests, forget_request, PrivacyAction.REQUEST_EXPIRED)

    def forget_conversation(session: Session, row: Any) -> bool:
        conv = table_of(StoredConversation)
        still = _idle_conversations(session, now, policy, conversation_id=row.id)
        return bool(still) and delete_with_dependents(session, conv, conv.c.id == row.id) > 0

    with unit_of_work(engine) as session:
        idle = _idle_conversations(session, now, policy)
    report.conversations = each(idle, forget_conversation, PrivacyAction.CONVERSATION_EXPIRED)
    return report
