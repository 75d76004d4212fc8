"""Loading and saving a conversation and its draft plan: the only code that writes them.

A turn loads its chat with two statements (the conversation with its draft and latest
submission, then the answers) and saves with SQLAlchemy Core, writing only the columns and
answers that changed since the load (`StoredState`): the ORM's unit of work re-read and
re-flushed every row and was most of a turn's time (bench/findings.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlmodel import Session

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
from storage.db import insert_returning_id
from storage.models import (
    StoredAnswer,
    StoredConversation,
    StoredDraft,
    Submission,
    table_of,
    utcnow,
)
from storage.outbox import enqueue_delivery
from storage.privacy import erase_person, withdraw_consent
from storage.units import RoutingStatus, default_directory, route

E = TypeVar("E", bound=Enum)


_CONV, _DRAFT, _ANSWER, _SUBMISSION = (
    table_of(model) for model in (StoredConversation, StoredDraft, StoredAnswer, Submission))


def _draft_values(draft: DraftPlan) -> dict[str, Any]:
    """The draft row's columns (the answers have their own rows)."""
    return {
        "role": draft.role.value if draft.role else None,
        "person_name": draft.person_name,
        "relation": draft.relation.value if draft.relation else None,
        "basis": draft.basis.value if draft.basis else None,
        "request": draft.request.value if draft.request else None,
        "services": json.dumps([s.value for s in draft.services]),
        "services_answered": draft.services_answered,
        "wishes_coordinator": draft.wishes_coordinator,
        "coordinator_wish": draft.coordinator_wish,
        "contact_name": draft.contact_name,
        "phone": draft.phone,
        "reach_time": draft.reach_time,
        "municipality_number": draft.municipality_number,
        "target_group": draft.target_group,
        "district": draft.district,
    }


# Draft columns are read with a prefix: the tables share id, created_at and updated_at.
_DRAFT_COLUMNS = tuple(_draft_values(DraftPlan()))
_SUBMISSION_COLUMNS = ("reference", "submitted_at", "status", "status_changed_at", "unit_id")
_LATEST_SUBMISSION = (
    select(_SUBMISSION.c.id).where(_SUBMISSION.c.conversation_id == _CONV.c.id)
    .order_by(_SUBMISSION.c.submitted_at.desc(), _SUBMISSION.c.id.desc()).limit(1)
    .correlate(_CONV).scalar_subquery())
_LOAD = (
    select(_CONV,
           _DRAFT.c.id.label("draft_id"),
           *[_DRAFT.c[name].label(f"draft_{name}") for name in _DRAFT_COLUMNS],
           *[_SUBMISSION.c[name].label(f"submission_{name}") for name in _SUBMISSION_COLUMNS],
           _SUBMISSION.c.id.label("submission_id"))
    .select_from(_CONV
                 .outerjoin(_DRAFT, _DRAFT.c.id == _CONV.c.current_draft_id)
                 .outerjoin(_SUBMISSION, _SUBMISSION.c.id == _LATEST_SUBMISSION))
    .where(_CONV.c.channel == bindparam("channel"), _CONV.c.chat_id == bindparam("chat_id")))
# Built once. Each execution's parameters name the columns it writes, and SQLAlchemy caches
# the compiled form per set of names: building a statement every turn cost more than SQLite
# took to run it.
_INSERT = {table: insert(table) for table in (_CONV, _DRAFT, _ANSWER, _SUBMISSION)}
_UPDATE = {table: update(table).where(table.c.id == bindparam("row_id"))
           for table in (_CONV, _DRAFT, _ANSWER)}
_LOAD_ANSWERS = select(_ANSWER.c.id, _ANSWER.c.question, _ANSWER.c.text, _ANSWER.c.shared).where(
    _ANSWER.c.draft_id == bindparam("draft_id"))


@dataclass
class StoredState:
    """What a turn loaded: the rows, and their values as loaded, so that saving writes only
    what changed."""

    conversation_id: int | None = None
    draft_id: int | None = None
    conversation: dict[str, Any] = field(default_factory=dict)
    draft: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, tuple[int, str | None, bool]] = field(default_factory=dict)


def _opt(enum: type[E], value: str | None) -> E | None:
    return enum(value) if value is not None else None


def _draft_plan(values: RowMapping | dict[str, Any], answers: dict[Step, Answer],
                prefix: str = "") -> DraftPlan:
    def value(name: str) -> Any:
        return values[prefix + name]

    return DraftPlan(
        role=_opt(Role, value("role")),
        person_name=value("person_name"),
        relation=_opt(Relation, value("relation")),
        basis=_opt(Basis, value("basis")),
        request=_opt(RequestKind, value("request")),
        answers=answers,
        services=[Service(s) for s in json.loads(value("services"))],
        services_answered=value("services_answered"),
        wishes_coordinator=value("wishes_coordinator"),
        coordinator_wish=value("coordinator_wish"),
        contact_name=value("contact_name"),
        phone=value("phone"),
        reach_time=value("reach_time"),
        municipality_number=value("municipality_number"),
        target_group=value("target_group"),
        district=value("district"),
    )


def draft_from_rows(row: StoredDraft, answers: list[StoredAnswer]) -> DraftPlan:
    return _draft_plan(row.model_dump(),
                       {Step(a.question): Answer(a.text, a.shared) for a in answers})


def _conversation_values(conv: Conversation) -> dict[str, Any]:
    """The conversation row's columns that follow the dialog."""
    return {
        "step": conv.step.value,
        "language": conv.language.value if conv.language else None,
        "history": json.dumps([s.value for s in conv.history]),
        "return_to": conv.return_to.value if conv.return_to else None,
        "editing": conv.editing,
        "reached_review": conv.reached_review,
        "turn": conv.turn,
        "municipality_suggestions": json.dumps(conv.municipality_suggestions),
        "consented_at": conv.consented_at,
        "consent_version": conv.consent_version,
        "wants_reminder": conv.wants_reminder,
        "declined_at": conv.declined_at,
    }


def load_turn(session: Session, *, channel: str, chat_id: str,
              ) -> tuple[Conversation, StoredState]:
    """The stored conversation of this chat (a new one if none: not stored until saved), and
    what `save_turn` needs to store it again."""
    row = session.connection().execute(
        _LOAD, {"channel": channel, "chat_id": chat_id}).mappings().first()
    if row is None:
        return Conversation(), StoredState()
    draft, answers = DraftPlan(), {}
    draft_id = row["draft_id"]  # None also when current_draft_id names no row
    if draft_id is not None:
        answers = {question: (answer_id, text, shared) for answer_id, question, text, shared
                   in session.connection().execute(_LOAD_ANSWERS, {"draft_id": draft_id})}
        draft = _draft_plan(row, {Step(q): Answer(text, shared)
                                  for q, (_id, text, shared) in answers.items()}, "draft_")
    language = _opt(Language, row["language"])
    conv = Conversation(
        step=Step(row["step"]),
        language=language,
        history=[Step(s) for s in json.loads(row["history"])],
        return_to=_opt(Step, row["return_to"]),
        editing=row["editing"],
        reached_review=row["reached_review"],
        consented_at=row["consented_at"],
        consent_version=row["consent_version"],
        wants_reminder=row["wants_reminder"],
        declined_at=row["declined_at"],
        turn=row["turn"],
        municipality_suggestions=json.loads(row["municipality_suggestions"]),
        draft=draft,
        submission=_submission_info(row, language) if row["submission_id"] else None,
    )
    state = StoredState(conversation_id=row["id"], draft_id=draft_id,
                        conversation=_conversation_values(conv),
                        draft=_draft_values(draft) if draft_id is not None else {},
                        answers=answers)
    return conv, state


def load_conversation(session: Session, *, channel: str, chat_id: str) -> Conversation:
    """The stored conversation of this chat, or a new one (not stored until saved)."""
    return load_turn(session, channel=channel, chat_id=chat_id)[0]


def erase_conversation(session: Session, *, channel: str, chat_id: str,
                       now: datetime | None = None) -> bool:
    """Delete every row about this chat, in every table. True if there was anything.

    See `storage.privacy.erase_person`: the unit's copy of what it received stays with it.
    """
    return erase_person(session, channel=channel, chat_id=chat_id, now=now)


def _discard_draft(session: Session, draft_id: int) -> None:
    sent = select(_SUBMISSION.c.id).where(_SUBMISSION.c.draft_id == draft_id)
    if session.connection().execute(sent).first():
        return  # a sent draft is the municipality's record; only /slett removes it
    session.connection().execute(delete(_ANSWER).where(_ANSWER.c.draft_id == draft_id))
    session.connection().execute(delete(_DRAFT).where(_DRAFT.c.id == draft_id))


def _insert(session: Session, table: Table, **values: Any) -> int:
    """Insert one row; its new id."""
    return insert_returning_id(session, _INSERT[table], values)


def _update(session: Session, table: Table, row_id: int, **values: Any) -> None:
    """Set these columns of the row with this id."""
    session.connection().execute(_UPDATE[table], {"row_id": row_id, **values})


def _changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in after.items()
            if name not in before or before[name] != value}


def _write_draft(session: Session, state: StoredState, conversation_id: int, draft: DraftPlan,
                 now: datetime) -> int:
    """Insert or update the draft row and its answers; the draft's id."""
    values = _draft_values(draft)
    answers = {step.value: (answer.text, answer.shared) for step, answer in draft.answers.items()}
    before = state.answers  # empty for a draft not stored yet
    new_answers = [question for question in answers if question not in before]
    changed_answers = [question for question, (answer_id, text, shared) in before.items()
                       if question in answers and answers[question] != (text, shared)]
    if state.draft_id is None:
        draft_id = _insert(session, _DRAFT, conversation_id=conversation_id, created_at=now,
                           updated_at=now, **values)
    else:
        draft_id = state.draft_id
        changed = _changed(state.draft, values)
        if changed or new_answers or changed_answers:
            _update(session, _DRAFT, draft_id, updated_at=now, **changed)
    if new_answers:
        session.connection().execute(_INSERT[_ANSWER], [
            {"draft_id": draft_id, "question": q, "text": answers[q][0], "shared": answers[q][1]}
            for q in new_answers])
    for question in changed_answers:
        text, shared = answers[question]
        _update(session, _ANSWER, before[question][0], text=text, shared=shared)
    return draft_id


def save_turn(session: Session, state: StoredState, *, channel: str, chat_id: str,
              conv: Conversation, effects: list[Effect], now: datetime | None = None) -> None:
    """Store the conversation after one step, carrying out the dialog's effects; `state` is
    what `load_turn` gave for it in this transaction.

    A stored conversation's row is written once, after its draft, with every column that
    changed (`current_draft_id` too); a new one is inserted first (the draft refers to it) and
    updated only if the turn made a draft. Withdrawing consent writes it again
    (storage.privacy.withdraw_consent).
    """
    now = now or utcnow()
    if Effect.ERASE_EVERYTHING in effects:
        erase_conversation(session, channel=channel, chat_id=chat_id, now=now)
        return
    draft_state = state
    # A cancelled draft goes, and so does one whose consent was withdrawn by declining.
    if (Effect.DISCARD_DRAFT in effects or conv.consented_at is None) \
            and state.draft_id is not None:
        _discard_draft(session, state.draft_id)
        draft_state = StoredState()
    if Effect.START_DRAFT in effects:
        draft_state = StoredState()
    values = _conversation_values(conv)
    changes: dict[str, Any] = {}
    if state.conversation_id is None:
        conversation_id = _insert(session, _CONV, channel=channel, chat_id=chat_id,
                                  created_at=now, updated_at=now, **values)
    else:
        conversation_id = state.conversation_id
        changes = {"updated_at": now, **_changed(state.conversation, values)}
    draft_id = draft_state.draft_id
    # Nothing of the draft is stored before consent (a decline keeps only that choice), and no
    # empty draft rows (after a cancel, or before the first answer). Without consent there is
    # no draft left (it was discarded above), so withdrawing consent writes none either.
    if conv.consented_at is not None and (draft_id is not None or conv.draft != DraftPlan()):
        draft_id = _write_draft(session, draft_state, conversation_id, conv.draft, now)
    if draft_id != state.draft_id:
        changes["current_draft_id"] = draft_id
    if changes:
        _update(session, _CONV, conversation_id, **changes)
    if Effect.WITHDRAW_CONSENT in effects:
        withdraw_consent(session, conversation_id=conversation_id, channel=channel, now=now)
    if Effect.SUBMIT in effects and conv.submission is not None and draft_id is not None:
        _submit(session, conv, conversation_id=conversation_id, draft_id=draft_id, now=now)


def _submit(session: Session, conv: Conversation, *, conversation_id: int, draft_id: int,
            now: datetime) -> None:
    """The submission and, when a unit takes it, its outbox entry: one transaction."""
    assert conv.submission is not None
    draft = conv.draft
    routed = route(default_directory(), draft.municipality_number or "", draft.target_group,
                   draft.district)
    unit = routed.unit if routed.status is RoutingStatus.ROUTED else None
    # In Core like the rest of the turn: the ORM's flush of two new objects cost more than the
    # whole of any other turn's save (bench/findings.md).
    submission_id = _insert(
        session, _SUBMISSION, draft_id=draft_id, conversation_id=conversation_id,
        reference=conv.submission.reference, municipality_number=draft.municipality_number or "",
        unit_id=unit.id if unit else None, status="sent" if unit else "saved",
        submitted_at=conv.submission.submitted_at, status_changed_at=None)
    if unit is not None:
        enqueue_delivery(session, submission_id=submission_id, unit_id=unit.id,
                         target_group=draft.target_group, district=draft.district, now=now)


def _submission_info(row: RowMapping, language: Language | None) -> SubmissionInfo:
    unit_id = row["submission_unit_id"]
    unit = default_directory().unit(unit_id) if unit_id else None
    return SubmissionInfo(row["submission_reference"], row["submission_submitted_at"],
                          row["submission_status"],
                          status_changed_at=row["submission_status_changed_at"],
                          unit_name=unit.name(language) if unit else None)
