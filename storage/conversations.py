"""Loading and saving a conversation and its draft plan: the only code that writes them."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import TypeVar

from sqlalchemy import delete
from sqlmodel import Session, col, select

from dialogs.draft import (
    Answer,
    Basis,
    Conversation,
    DraftPlan,
    Language,
    Relation,
    RequestKind,
    Role,
    Service,
    SubmissionInfo,
)
from dialogs.events import Effect
from dialogs.steps import Step
from storage.models import StoredAnswer, StoredConversation, StoredDraft, Submission, utcnow
from storage.outbox import enqueue_delivery
from storage.privacy import erase_person, withdraw_consent
from storage.units import RoutingStatus, default_directory, route

E = TypeVar("E", bound=Enum)

def _find(session: Session, channel: str, chat_id: str) -> StoredConversation | None:
    return session.exec(select(StoredConversation).where(
        StoredConversation.channel == channel, StoredConversation.chat_id == chat_id,
    )).first()


def _opt(enum: type[E], value: str | None) -> E | None:
    return enum(value) if value is not None else None


def draft_from_rows(row: StoredDraft, answers: list[StoredAnswer]) -> DraftPlan:
    return DraftPlan(
        role=_opt(Role, row.role),
        person_name=row.person_name,
        relation=_opt(Relation, row.relation),
        basis=_opt(Basis, row.basis),
        request=_opt(RequestKind, row.request),
        answers={Step(a.question): Answer(a.text, a.shared) for a in answers},
        services=[Service(s) for s in json.loads(row.services)],
        services_answered=row.services_answered,
        wishes_coordinator=row.wishes_coordinator,
        coordinator_wish=row.coordinator_wish,
        contact_name=row.contact_name,
        phone=row.phone,
        reach_time=row.reach_time,
        municipality_number=row.municipality_number,
        target_group=row.target_group,
        district=row.district,
    )


def load_conversation(session: Session, *, channel: str, chat_id: str) -> Conversation:
    """The stored conversation of this chat, or a new one (not stored until saved)."""
    row = _find(session, channel, chat_id)
    if row is None:
        return Conversation()
    draft = DraftPlan()
    if row.current_draft_id is not None:
        draft_row = session.get(StoredDraft, row.current_draft_id)
        if draft_row is not None:
            answers = list(session.exec(
                select(StoredAnswer).where(StoredAnswer.draft_id == draft_row.id)))
            draft = draft_from_rows(draft_row, answers)
    latest = session.exec(
        select(Submission).where(Submission.conversation_id == row.id)
        .order_by(col(Submission.submitted_at).desc(), col(Submission.id).desc())
    ).first()
    return Conversation(
        step=Step(row.step),
        language=_opt(Language, row.language),
        history=[Step(s) for s in json.loads(row.history)],
        return_to=_opt(Step, row.return_to),
        editing=row.editing,
        reached_review=row.reached_review,
        consented_at=row.consented_at,
        consent_version=row.consent_version,
        wants_reminder=row.wants_reminder,
        declined_at=row.declined_at,
        turn=row.turn,
        municipality_suggestions=json.loads(row.municipality_suggestions),
        draft=draft,
        submission=_submission_info(latest, _opt(Language, row.language)) if latest else None,
    )


def erase_conversation(session: Session, *, channel: str, chat_id: str,
                       now: datetime | None = None) -> bool:
    """Delete every row about this chat, in every table. True if there was anything.

    See `storage.privacy.erase_person`: the unit's copy of what it received stays with it.
    """
    return erase_person(session, channel=channel, chat_id=chat_id, now=now)


def _discard_draft(session: Session, draft_id: int) -> None:
    if session.exec(select(Submission.id).where(Submission.draft_id == draft_id)).first():
        return  # a sent draft is the municipality's record; only /slett removes it
    session.exec(delete(StoredAnswer).where(col(StoredAnswer.draft_id) == draft_id))
    session.exec(delete(StoredDraft).where(col(StoredDraft.id) == draft_id))


def _write_draft(session: Session, row: StoredDraft, draft: DraftPlan, now: datetime) -> None:
    row.role = draft.role.value if draft.role else None
    row.person_name = draft.person_name
    row.relation = draft.relation.value if draft.relation else None
    row.basis = draft.basis.value if draft.basis else None
    row.request = draft.request.value if draft.request else None
    row.services = json.dumps([s.value for s in draft.services])
    row.services_answered = draft.services_answered
    row.wishes_coordinator = draft.wishes_coordinator
    row.coordinator_wish = draft.coordinator_wish
    row.contact_name = draft.contact_name
    row.phone = draft.phone
    row.reach_time = draft.reach_time
    row.municipality_number = draft.municipality_number
    row.target_group = draft.target_group
    row.district = draft.district
    row.updated_at = now
    session.add(row)
    session.flush()
    assert row.id is not None
    stored = {a.question: a for a in session.exec(
        select(StoredAnswer).where(StoredAnswer.draft_id == row.id))}
    for step, answer in draft.answers.items():
        answer_row = stored.get(step.value) or StoredAnswer(draft_id=row.id, question=step.value)
        if answer_row.id is None or (answer_row.text, answer_row.shared) != (answer.text,
                                                                               answer.shared):
            answer_row.text, answer_row.shared = answer.text, answer.shared
            session.add(answer_row)


def save_conversation(session: Session, *, channel: str, chat_id: str, conv: Conversation,
                      effects: list[Effect], now: datetime | None = None) -> None:
    """Store the conversation after one step, carrying out the dialog's effects."""
    now = now or utcnow()
    if Effect.ERASE_EVERYTHING in effects:
        erase_conversation(session, channel=channel, chat_id=chat_id, now=now)
        return
    row = _find(session, channel, chat_id) or StoredConversation(
        channel=channel, chat_id=chat_id, step=conv.step.value, created_at=now)
    # A cancelled draft goes, and so does one whose consent was withdrawn by declining.
    if (Effect.DISCARD_DRAFT in effects or conv.consented_at is None) \
            and row.current_draft_id is not None:
        _discard_draft(session, row.current_draft_id)
        row.current_draft_id = None
    if Effect.START_DRAFT in effects:
        row.current_draft_id = None
    row.step = conv.step.value
    row.language = conv.language.value if conv.language else None
    row.history = json.dumps([s.value for s in conv.history])
    row.return_to = conv.return_to.value if conv.return_to else None
    row.editing, row.reached_review, row.turn = conv.editing, conv.reached_review, conv.turn
    row.municipality_suggestions = json.dumps(conv.municipality_suggestions)
    row.consented_at, row.consent_version = conv.consented_at, conv.consent_version
    row.wants_reminder = conv.wants_reminder
    row.declined_at = conv.declined_at
    row.updated_at = now
    session.add(row)
    session.flush()
    if Effect.WITHDRAW_CONSENT in effects:
        assert row.id is not None
        withdraw_consent(session, conversation_id=row.id, channel=channel, now=now)
        session.refresh(row)
    # Nothing of the draft is stored before consent; a decline keeps only that choice.
    if conv.consented_at is None:
        return
    draft_row = (session.get(StoredDraft, row.current_draft_id)
                 if row.current_draft_id is not None else None)
    if draft_row is None:
        if conv.draft == DraftPlan():
            return  # no empty draft rows (after a cancel, or before the first answer)
        assert row.id is not None
        draft_row = StoredDraft(conversation_id=row.id, created_at=now)
    _write_draft(session, draft_row, conv.draft, now)
    row.current_draft_id = draft_row.id
    session.add(row)
    if Effect.SUBMIT in effects and conv.submission is not None:
        assert row.id is not None
        assert draft_row.id is not None
        _submit(session, conv, conversation_id=row.id, draft_id=draft_row.id, now=now)


def _submit(session: Session, conv: Conversation, *, conversation_id: int, draft_id: int,
            now: datetime) -> None:
    """The submission and, when a unit takes it, its outbox entry: one transaction."""
    assert conv.submission is not None
    draft = conv.draft
    routed = route(default_directory(), draft.municipality_number or "", draft.target_group,
                   draft.district)
    unit = routed.unit if routed.status is RoutingStatus.ROUTED else None
    submission = Submission(
        draft_id=draft_id, conversation_id=conversation_id,
        reference=conv.submission.reference,
        municipality_number=draft.municipality_number or "",
        unit_id=unit.id if unit else None,
        status="sent" if unit else "saved",
        submitted_at=conv.submission.submitted_at,
    )
    session.add(submission)
    session.flush()
    if unit is not None:
        assert submission.id is not None
        enqueue_delivery(session, submission_id=submission.id, unit_id=unit.id,
                         target_group=draft.target_group, district=draft.district, now=now)


def _submission_info(row: Submission, language: Language | None) -> SubmissionInfo:
    unit = default_directory().unit(row.unit_id) if row.unit_id else None
    return SubmissionInfo(row.reference, row.submitted_at, row.status,
                          status_changed_at=row.status_changed_at,
                          unit_name=unit.name(language) if unit else None)
