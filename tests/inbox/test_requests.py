"""The unit's requests: the list, one request, downloads, acknowledgement, status, notes, the
audit log, and that no unit sees another's requests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from dialogs.draft import Language
from dialogs.render import message
from dialogs.review import NORWAY, format_reference
from storage.db import unit_of_work
from storage.models import DeliveredRequest
from storage.staff import (
    InternalNote,
    RequestStatus,
    RequestStatusChange,
    unnotified_status_changes,
)

from .conftest import (
    ANSWERS,
    ASANE,
    NOT_SHARED,
    Clock,
    Decryptions,
    LoggedIn,
    MakeStaff,
    OnItsPage,
    SendRequest,
    audit_entries,
    csrf_of,
)

NN = Language.NYNORSK
def _rows(html: str) -> list[str]:
    """The references in the list, top to bottom."""
    return re.findall(r'class="reference">([A-Z0-9-]+)<', html)


def test_list_shows_the_units_requests_without_answer_text(
        make_staff: MakeStaff, logged_in: LoggedIn, send_request: SendRequest) -> None:
    mine = send_request()
    theirs = send_request(municipality="Bergen")
    browser = logged_in(make_staff())
    page = browser.get("/requests")
    assert page.status_code == 200
    assert _rows(page.text) == [format_reference(mine)]
    assert format_reference(theirs) not in page.text
    text = page.text
    assert "Førespurnader til Gulen kommune, koordinerande eining" in text
    assert "Individuell plan og koordinator" in text  # what is asked for
    assert "Ny" in text
    assert "Dagar att:" in text
    for answer in [*ANSWERS.values(), "Kari Nordmann", "91 23 45 67", "Ingrid"]:
        assert answer not in text


def test_list_decrypts_no_document(make_staff: MakeStaff, logged_in: LoggedIn,
                                   send_request: SendRequest, decryptions: Decryptions) -> None:
    """What each request asks for comes from its plain column, not from its document."""
    for _ in range(3):
        send_request()
    browser = logged_in(make_staff())
    decryptions.clear()
    page = browser.get("/requests")
    assert len(_rows(page.text)) == 3
    assert page.text.count("Individuell plan og koordinator") == 3
    assert decryptions  # the staff account's session, at least: the spy sees decryption
    assert not [clear for _stored, clear in decryptions if '"answers"' in clear]


def test_list_is_sorted_by_deadline_marks_overdue_and_filters_by_status(
        engine: Engine, make_staff: MakeStaff, logged_in: LoggedIn,
        send_request: SendRequest, clock: Clock) -> None:
    first, second, third = send_request(), send_request(), send_request()
    today = clock().astimezone(NORWAY).date()  # the inbox's today: in Norway, by its clock
    with unit_of_work(engine) as session:
        for reference, deadline in ((first, today + timedelta(days=20)),
                                    (second, today - timedelta(days=3)),
                                    (third, today + timedelta(days=2))):
            row = session.exec(select(DeliveredRequest).where(
                DeliveredRequest.reference == reference)).one()
            row.answer_deadline = deadline
            session.add(row)
    browser = logged_in(make_staff())
    page = browser.get("/requests").text
    assert _rows(page) == [format_reference(r) for r in (second, third, first)]
    assert page.count('class="status-new overdue') == 1  # (and unopened, as all three are)
    assert "Forseinka. Dagar over fristen: 3" in page
    assert "Dagar att: 2" in page
    assert "Dagar att: 20" in page

    token = csrf_of(page)
    browser.post(f"/requests/{third}/acknowledge", data={"csrf_token": token})
    browser.post(f"/requests/{first}/status", data={"csrf_token": token, "status": "closed"})
    assert _rows(browser.get("/requests?status=new").text) == [format_reference(second)]
    assert _rows(browser.get("/requests?status=received").text) == [format_reference(third)]
    assert _rows(browser.get("/requests?status=closed").text) == [format_reference(first)]
    assert _rows(browser.get("/requests?status=in_progress").text) == []
    assert len(_rows(browser.get("/requests?status=nonsense").text)) == 3


def test_requests_with_one_deadline_are_listed_first_received_first(
        engine: Engine, make_staff: MakeStaff, logged_in: LoggedIn,
        send_request: SendRequest) -> None:
    first, second = send_request(), send_request()
    with unit_of_work(engine) as session:
        rows = {row.reference: row for row in session.exec(select(DeliveredRequest))}
        rows[second].answer_deadline = rows[first].answer_deadline
        # The later row was received first (it waited in the outbox, say): it comes first.
        rows[second].received_at = rows[first].received_at - timedelta(hours=1)
        session.add(rows[second])
    page = logged_in(make_staff()).get("/requests").text
    assert _rows(page) == [format_reference(second), format_reference(first)]


def test_a_request_shows_shared_answers_preparer_and_contact(
        engine: Engine, make_staff: MakeStaff, logged_in: LoggedIn,
        send_request: SendRequest) -> None:
    reference = send_request()
    browser = logged_in(make_staff())
    page = browser.get(f"/requests/{reference}")
    assert page.status_code == 200
    text = page.text
    assert f"Førespurnad {format_reference(reference)}" in text
    for step, answer in ANSWERS.items():
        if step is NOT_SHARED:
            assert answer not in text  # the person chose not to share it
        else:
            assert answer in text
    for shown in ("Kari Nordmann", "+47 91 23 45 67", message(NN, "reach_time.morning"),
                  "Ingrid", message(NN, "relation.child"), message(NN, "basis.person_agrees"),
                  "Sjukepleiaren i heimetenesta", message(NN, "service.gp"), "Gulen"):
        assert shown in text, shown
    # The reference may be typed as people write it.
    assert browser.get(f"/requests/{format_reference(reference).lower()}").status_code == 200
    assert audit_entries(engine)[-2:] == [("open", reference, True), ("open", reference, True)]


@pytest.mark.parametrize(("kind", "media_type", "signature"), [
    ("pdf", "application/pdf", b"%PDF-"),
    ("fhir", "application/fhir+json", b'"resourceType": "Bundle"'),
    ("json", "application/json", b'"format": "dinplan-draft"'),
])
def test_downloads_hold_only_shared_answers_and_are_audited(
        engine: Engine, make_staff: MakeStaff, logged_in: LoggedIn, send_request: SendRequest,
        kind: str, media_type: str, signature: bytes) -> None:
    reference = send_request()
    browser = logged_in(make_staff())
    response = browser.get(f"/requests/{reference}/download/{kind}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["cache-control"] == "no-store"
    assert f'filename="dinplan-{format_reference(reference)}' in \
        response.headers["content-disposition"]
    assert signature in response.content
    if kind != "pdf":
        data = json.dumps(response.json(), ensure_ascii=False)
        assert ANSWERS[NOT_SHARED] not in data
        assert "Fastlegen kjenner henne godt." in data
    assert audit_entries(engine)[-1] == (f"download_{kind}", reference, True)


def test_acknowledging_records_a_status_change_for_the_citizen(
        engine: Engine, make_staff: MakeStaff, logged_in: LoggedIn,
        send_request: SendRequest) -> None:
    reference = send_request()
    staff = make_staff()
    browser = logged_in(staff)
    opened = browser.get(f"/requests/{reference}")
    response = browser.post(f"/requests/{reference}/acknowledge",
                            data={"csrf_token": csrf_of(opened.text)})
    assert (response.status_code, response.headers["location"]) == (
        303, f"/requests/{reference}?done=acknowledged")
    page = browser.get(response.headers["location"]).text
    assert "Mottaket er stadfesta. Personen får melding." in page
    assert "Mottak stadfesta" in page
    assert "Siri Sæbø" in page
    assert 'id="acknowledge"' not in page  # once is enough
    with unit_of_work(engine) as session:
        delivered = session.exec(select(DeliveredRequest).where(
            DeliveredRequest.reference == reference)).one()
        assert delivered.opened_at is not None
        waiting = unnotified_status_changes(session)
        assert [(c.reference, c.status, c.previous_status) for c in waiting] == [
            (reference, "received", "new")]
    # A second acknowledgement changes nothing.
    browser.post(f"/requests/{reference}/acknowledge", data={"csrf_token": csrf_of(page)})
    with unit_of_work(engine) as session:
        assert len(list(session.exec(select(RequestStatusChange)))) == 1
    assert [a for a in audit_entries(engine) if a[0] == "acknowledge"] == [
        ("acknowledge", reference, True)] * 2


def test_status_changes_and_internal_notes(engine: Engine, on_its_page: OnItsPage,
                                           clock: Clock) -> None:
    reference, browser, token = on_its_page
    response = browser.post(f"/requests/{reference}/status",
                            data={"csrf_token": token, "status": "in_progress"})
    assert response.headers["location"] == f"/requests/{reference}?done=status_changed"
    # "new" cannot be set again, and nonsense is ignored.
    for status in ("new", "nonsense"):
        response = browser.post(f"/requests/{reference}/status",
                                data={"csrf_token": token, "status": status})
        assert response.headers["location"] == f"/requests/{reference}"
    note = "Ringt dottera, avtalt møte 3. mars."
    response = browser.post(f"/requests/{reference}/notes",
                            data={"csrf_token": token, "note": note})
    assert response.headers["location"] == f"/requests/{reference}?done=note_added"
    page = browser.get(f"/requests/{reference}").text
    assert "Under arbeid" in page
    assert note in page
    with unit_of_work(engine) as session:
        statuses = [(c.previous_status, c.status) for c in session.exec(
            select(RequestStatusChange))]
        assert statuses == [("new", "in_progress")]
        # Notes may hold health information: encrypted at rest.
        raw = session.connection().exec_driver_sql("SELECT text FROM internal_note").scalar()
        assert raw is not None
        assert note not in raw
        assert raw.startswith("enc1:")
        assert [n.text for n in session.exec(select(InternalNote))] == [note]
    actions = [a[0] for a in audit_entries(engine)]
    assert "change_status" in actions
    assert "add_note" in actions


def test_another_units_request_is_not_found_anywhere(
        engine: Engine, make_staff: MakeStaff, logged_in: LoggedIn,
        send_request: SendRequest) -> None:
    theirs = send_request(municipality="Bergen", language=Language.BOKMAL)
    mine = send_request()
    gulen = logged_in(make_staff())
    asane = logged_in(make_staff(unit_id=ASANE, name="Berit Berg", language="nb"))
    assert _rows(asane.get("/requests").text) == [format_reference(theirs)]
    token = csrf_of(gulen.get("/requests").text)
    attempts = [
        ("get", f"/requests/{theirs}", {}),
        ("get", f"/requests/{format_reference(theirs)}", {}),
        ("get", f"/requests/{theirs}/download/pdf", {}),
        ("get", f"/requests/{theirs}/download/fhir", {}),
        ("get", f"/requests/{theirs}/download/json", {}),
        ("post", f"/requests/{theirs}/acknowledge", {"csrf_token": token}),
        ("post", f"/requests/{theirs}/status", {"csrf_token": token, "status": "closed"}),
        ("post", f"/requests/{theirs}/notes", {"csrf_token": token, "note": "Snoke"}),
        ("get", "/requests/ZZZZ9999", {}),  # a guessed reference
        ("get", f"/requests/{mine}/download/exe", {}),
    ]
    before = len(audit_entries(engine))
    for method, path, data in attempts:
        response = gulen.get(path) if method == "get" else gulen.post(path, data=data)
        assert response.status_code == 404, path
        assert "Eininga di har ingen førespurnad med denne referansen." in response.text
        assert "Kari Nordmann" not in response.text
    denied = audit_entries(engine)[before:]
    assert len(denied) == len(attempts)
    assert all(not allowed for _action, _reference, allowed in denied)
    assert {reference for _action, reference, _allowed in denied} >= {theirs, "ZZZZ9999"}
    # Nothing of theirs was changed.
    with unit_of_work(engine) as session:
        delivered = session.exec(select(DeliveredRequest).where(
            DeliveredRequest.reference == theirs)).one()
        assert delivered.opened_at is None
        assert not list(session.exec(select(RequestStatusChange)))
        assert not list(session.exec(select(InternalNote)))
    assert asane.get(f"/requests/{theirs}").status_code == 200


def test_pages_need_a_session(app_client: Callable[[], TestClient],
                              send_request: SendRequest) -> None:
    reference = send_request()
    browser = app_client()
    for path in ("/requests", f"/requests/{reference}", f"/requests/{reference}/download/pdf",
                 "/"):
        response = browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"] in ("/login", "/requests")
    response = browser.post(f"/requests/{reference}/acknowledge", data={"csrf_token": "x"})
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_status_values_are_the_issues() -> None:
    assert [s.value for s in RequestStatus] == ["new", "received", "in_progress", "closed"]
