"""A draft as a document: what the person (or the unit) gets as PDF, FHIR or JSON.

`DraftDocument` is the one source of every format. The citizen's copy is the whole draft; the
unit's copy (`for_unit`) leaves out the answers the person chose not to share, before any format
is made, so no format can leak them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any

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
)
from dialogs.municipalities import by_number
from dialogs.reference import normalize_reference
from dialogs.render import message
from dialogs.review import answer_deadline, local_date, title
from dialogs.steps import QUESTION_STEPS, Step
from storage.conversations import draft_from_rows
from storage.models import (
    OutboxEntry,
    StoredAnswer,
    StoredConversation,
    StoredDraft,
    Submission,
    as_utc,
)

FORMAT = "dinplan-draft"
FORMAT_VERSION = 1


class Copy(StrEnum):
    CITIZEN = "citizen"
    UNIT = "unit"


@dataclass(frozen=True)
class DraftDocument:
    draft: DraftPlan
    language: Language
    copy: Copy = Copy.CITIZEN
    reference: str | None = None
    submitted_at: datetime | None = None
    unit_id: str | None = None
    target_group: str | None = None
    district: str | None = None

    @property
    def sent_on(self) -> date | None:
        return local_date(self.submitted_at) if self.submitted_at else None

    @property
    def deadline(self) -> date | None:
        return answer_deadline(self.submitted_at) if self.submitted_at else None

    def for_unit(self) -> DraftDocument:
        """The unit's copy: unshared answers are not in it at all."""
        shared = {step: answer for step, answer in self.draft.answers.items() if answer.shared}
        return replace(self, draft=replace(self.draft, answers=shared), copy=Copy.UNIT)

    def as_copy(self, copy: Copy) -> DraftDocument:
        return self.for_unit() if copy is Copy.UNIT else self


def from_conversation(conv: Conversation, *, unit_id: str | None = None,
                      target_group: str | None = None,
                      district: str | None = None) -> DraftDocument:
    """The person's copy of their draft, as the bot holds it (no database needed)."""
    submission = conv.submission
    return DraftDocument(
        draft=conv.draft, language=conv.language or Language.BOKMAL,
        reference=submission.reference if submission else None,
        submitted_at=submission.submitted_at if submission else None,
        unit_id=unit_id, target_group=target_group, district=district,
    )


def load_document(session: Session, *, reference: str) -> DraftDocument | None:
    """The citizen's copy of the submitted draft with this reference (as people write it)."""
    submission = session.exec(select(Submission).where(
        col(Submission.reference) == normalize_reference(reference))).first()
    if submission is None:
        return None
    entry = session.exec(select(OutboxEntry).where(
        col(OutboxEntry.submission_id) == submission.id).order_by(col(OutboxEntry.id))).first()
    return document_from_rows(session, submission=submission, entry=entry)


def document_from_rows(session: Session, *, submission: Submission,
                       entry: OutboxEntry | None) -> DraftDocument | None:
    """The citizen's copy of a submitted draft, from its submission and its outbox entry (the
    unit it goes to) as the caller holds them; None if the draft is gone."""
    draft_row = session.get(StoredDraft, submission.draft_id)
    if draft_row is None:
        return None
    answers = list(session.exec(select(StoredAnswer).where(
        col(StoredAnswer.draft_id) == draft_row.id)))
    conversation = session.get(StoredConversation, submission.conversation_id)
    language = Language(conversation.language) if conversation and conversation.language \
        else Language.BOKMAL
    draft = draft_from_rows(draft_row, answers)
    draft.municipality_number = submission.municipality_number or draft.municipality_number
    return DraftDocument(
        draft=draft, language=language, reference=submission.reference,
        submitted_at=submission.submitted_at,
        unit_id=entry.unit_id if entry else None,
        target_group=entry.target_group if entry else None,
        district=entry.district if entry else None,
    )


# JSON ----------------------------------------------------------------------------------------


def _value(member: Enum | None) -> Any:
    return member.value if member is not None else None


def to_json(document: DraftDocument) -> dict[str, Any]:
    """The draft as plain JSON data; `from_json` reads it back (the unit's inbox keeps it)."""
    draft, language = document.draft, document.language
    municipality = by_number(draft.municipality_number or "")
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "copy": document.copy.value,
        "language": language.value,
        "reference": document.reference,
        # Not only a stored time (also the dialog's clock, a JSON copy): written in UTC.
        "submitted_at": as_utc(document.submitted_at).isoformat() if document.submitted_at
        else None,
        "sent_on": document.sent_on.isoformat() if document.sent_on else None,
        "answer_deadline": document.deadline.isoformat() if document.deadline else None,
        "municipality": {"number": municipality.number, "name": municipality.name}
        if municipality else None,
        "unit_id": document.unit_id,
        "routing": {"target_group": document.target_group, "district": document.district},
        "prepared_by": {
            "role": _value(draft.role),
            "person_name": draft.person_name,
            "relation": _value(draft.relation),
            "basis": _value(draft.basis),
        },
        "request": _value(draft.request),
        "answers": [
            {
                "question": step.value,
                "number": number,
                "title": message(language, title(step).key),
                "text": draft.answers[step].text,
                "shared": draft.answers[step].shared,
            }
            for number, step in enumerate(QUESTION_STEPS, start=1) if step in draft.answers
        ],
        "services": [s.value for s in draft.services],
        "services_answered": draft.services_answered,
        "coordinator": {"wished": draft.wishes_coordinator, "wish": draft.coordinator_wish},
        "contact": {"name": draft.contact_name, "phone": draft.phone,
                    "reach_time": draft.reach_time},
    }


def _enum(kind: type[Enum], value: Any) -> Any:
    return kind(value) if value is not None else None


def from_json(data: Mapping[str, Any]) -> DraftDocument:
    if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
        raise ValueError("not a Din plan draft, or a version this code does not read")
    prepared = data["prepared_by"]
    municipality = data.get("municipality") or {}
    draft = DraftPlan(
        role=_enum(Role, prepared["role"]),
        person_name=prepared["person_name"],
        relation=_enum(Relation, prepared["relation"]),
        basis=_enum(Basis, prepared["basis"]),
        request=_enum(RequestKind, data["request"]),
        answers={Step(a["question"]): Answer(a["text"], a["shared"]) for a in data["answers"]},
        services=[Service(s) for s in data["services"]],
        services_answered=data["services_answered"],
        wishes_coordinator=data["coordinator"]["wished"],
        coordinator_wish=data["coordinator"]["wish"],
        contact_name=data["contact"]["name"],
        phone=data["contact"]["phone"],
        reach_time=data["contact"]["reach_time"],
        municipality_number=municipality.get("number"),
    )
    submitted_at = data.get("submitted_at")
    routing = data.get("routing") or {}
    return DraftDocument(
        draft=draft, language=Language(data["language"]), copy=Copy(data["copy"]),
        reference=data.get("reference"),
        submitted_at=datetime.fromisoformat(submitted_at) if submitted_at else None,
        unit_id=data.get("unit_id"), target_group=routing.get("target_group"),
        district=routing.get("district"),
    )
