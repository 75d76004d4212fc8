"""What the inbox pages show of a unit's requests, read from storage; every lookup is per unit.

The rows and the detail are built from the unit's own copy of each request, so nothing the person
chose not to share can show up here: the detail from the delivered document (decrypted by
storage), the list from the plain columns stored beside it at delivery (no document decrypted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

from sqlmodel import Session

from dialogs import choices as c
from dialogs.draft import Language, RequestKind, Role
from dialogs.events import Label
from dialogs.municipalities import by_number
from dialogs.review import format_reference, local_date, reach_time_value, title
from dialogs.steps import QUESTION_STEPS
from storage import staff as staff_store
from storage.exports import DraftDocument, bundle, from_json, to_json, to_pdf
from storage.models import DeliveredRequest
from storage.staff import RequestStatus, StaffAccount
from storage.units import TARGET_GROUP_LABELS, TargetGroup, default_directory

STATUSES = tuple(s.value for s in RequestStatus)


def unit_name(unit_id: str, language: Language) -> str:
    unit = default_directory().unit(unit_id)
    return unit.name(language) if unit is not None else unit_id


E = TypeVar("E", bound=Enum)


@dataclass(frozen=True)
class RequestRow:
    id: int
    reference: str
    shown_reference: str
    received_at: datetime
    target_group_key: str
    asks_for_key: str | None
    status: str
    deadline: date
    days_left: int
    opened: bool  # by anyone at the unit; the list marks the rest

    @property
    def overdue(self) -> bool:
        return self.days_left < 0 and self.status != RequestStatus.CLOSED


@dataclass(frozen=True)
class AnswerView:
    number: int
    title_key: str
    text: str | None


@dataclass(frozen=True)
class NoteView:
    author: str
    at: datetime
    text: str


@dataclass(frozen=True)
class RequestDetail:
    row: RequestRow
    municipality: str
    for_relative: bool
    person_name: str | None
    relation_key: str | None
    basis_key: str | None
    contact_name: str | None
    phone: str | None
    reach_time: Label | str | None
    answers: tuple[AnswerView, ...]
    service_keys: tuple[str, ...]
    services_answered: bool
    coordinator_wish: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    notes: tuple[NoteView, ...]


def _document(row: DeliveredRequest) -> DraftDocument:
    return from_json(json.loads(row.document))


def _known(kind: type[E], value: str | None) -> E | None:
    """The member `value` names; None for none, or for one this release does not know (a row
    stored by another release)."""
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _row(delivered: DeliveredRequest, status: RequestStatus, today: date) -> RequestRow:
    assert delivered.id is not None
    request = _known(RequestKind, delivered.request)
    return RequestRow(
        id=delivered.id, reference=delivered.reference,
        shown_reference=format_reference(delivered.reference),
        received_at=delivered.received_at,
        target_group_key=TARGET_GROUP_LABELS[
            _known(TargetGroup, delivered.target_group) or TargetGroup.UNSPECIFIED],
        asks_for_key=c.REQUEST_LABELS[request] if request else None,
        status=status.value, deadline=delivered.answer_deadline,
        days_left=(delivered.answer_deadline - today).days,
        opened=delivered.opened_at is not None,
    )


def list_for_unit(session: Session, *, unit_id: str, status: str | None,
                  now: datetime) -> list[RequestRow]:
    """The unit's requests, the nearest deadline first; no answer text leaves this function."""
    statuses = staff_store.current_statuses(session, unit_id=unit_id)
    today = local_date(now)
    rows = []
    for delivered in staff_store.delivered_for_unit(session, unit_id=unit_id):
        assert delivered.id is not None
        current = statuses.get(delivered.id, RequestStatus.NEW)
        if status is not None and current != status:
            continue
        rows.append(_row(delivered, current, today))
    return rows


def open_for_unit(session: Session, *, unit_id: str, reference: str,
                  now: datetime) -> RequestDetail | None:
    """One of the unit's requests in full (as shared), or None; opening it is recorded."""
    delivered = staff_store.find_delivered(session, unit_id=unit_id, reference=reference)
    if delivered is None or delivered.id is None:
        return None
    staff_store.mark_opened(session, request=delivered, now=now)
    document = _document(delivered)
    draft = document.draft
    history = staff_store.status_history(session, delivered_request_id=delivered.id)
    status = RequestStatus(history[-1].status) if history else RequestStatus.NEW
    acknowledgement = history[0] if history else None
    municipality = by_number(delivered.municipality_number)
    for_relative = draft.role is Role.RELATIVE
    answers = tuple(
        AnswerView(number, title(step).key, draft.answers[step].text)
        for number, step in enumerate(QUESTION_STEPS, start=1)
        if step in draft.answers and draft.answers[step].shared)
    notes = tuple(NoteView(n.author_name, n.at, n.text)
                  for n in staff_store.notes_for(session, unit_id=unit_id,
                                                 delivered_request_id=delivered.id))
    return RequestDetail(
        row=_row(delivered, status, local_date(now)),
        municipality=municipality.name if municipality else delivered.municipality_number,
        for_relative=for_relative,
        person_name=draft.person_name if for_relative else None,
        relation_key=c.RELATION_LABELS[draft.relation] if for_relative and draft.relation
        else None,
        basis_key=c.BASIS_LABELS[draft.basis] if for_relative and draft.basis else None,
        contact_name=draft.contact_name, phone=draft.phone,
        reach_time=reach_time_value(draft.reach_time) if draft.reach_time else None,  # type: ignore[arg-type]
        answers=answers,
        service_keys=tuple(c.SERVICE_LABELS[s] for s in draft.services),
        services_answered=draft.services_answered,
        coordinator_wish=draft.coordinator_wish if draft.wishes_coordinator else None,
        acknowledged_at=acknowledgement.at if acknowledgement else None,
        acknowledged_by=acknowledgement.staff_name if acknowledgement else None,
        notes=notes,
    )


def set_status(session: Session, *, staff: StaffAccount, request: DeliveredRequest,
               status: RequestStatus, now: datetime, only_if_new: bool = False) -> bool:
    """Give one of the staff member's unit's requests a new status; False if nothing changed
    (the status it has already, another unit's request, or, `only_if_new`, one already acted on).
    Reaching `received` is the acknowledgement the citizen is told about."""
    if request.unit_id != staff.unit_id:
        return False
    return staff_store.change_request_status(session, staff=staff, request=request,
                                             status=status, now=now, only_if_new=only_if_new)


def add_note(session: Session, *, staff: StaffAccount, request: DeliveredRequest, text: str,
             now: datetime) -> bool:
    """An internal note on one of the staff member's unit's requests; False if it is empty."""
    if request.unit_id != staff.unit_id or request.id is None:
        return False
    return staff_store.add_note(session, staff=staff, delivered_request_id=request.id,
                                text=text, now=now) is not None


@dataclass(frozen=True)
class Export:
    reference: str
    filename: str
    media_type: str
    content: bytes


def export_for_unit(session: Session, *, unit_id: str, reference: str,
                    kind: str) -> Export | None:
    """The unit's copy as PDF, FHIR or JSON; None if it is not the unit's request (or the
    format cannot be made)."""
    delivered = staff_store.find_delivered(session, unit_id=unit_id, reference=reference)
    if delivered is None:
        return None
    document = _document(delivered).for_unit()
    name = f"dinplan-{format_reference(delivered.reference)}"
    made = _export(document, kind)
    if made is None:
        return None
    suffix, media_type, content = made
    return Export(delivered.reference, f"{name}{suffix}", media_type, content)


def _export(document: DraftDocument, kind: str) -> tuple[str, str, bytes] | None:
    """Made by storage.exports, the same code that makes the person's own copy."""
    data: Any
    if kind == "pdf":
        return ".pdf", "application/pdf", to_pdf(document, default_directory())
    if kind == "fhir":
        data, suffix, media_type = bundle(document), ".fhir.json", "application/fhir+json"
    elif kind == "json":
        data, suffix, media_type = to_json(document), ".json", "application/json"
    else:
        return None
    return suffix, media_type, json.dumps(data, ensure_ascii=False, indent=2).encode()
