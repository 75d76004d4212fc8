"""The staff's actions on one request (acknowledge, change status, add a note) beyond
test_requests.py: what acknowledging does to a request that is no longer new, how the posted
reference is read, that the actions refuse another unit's request even when handed it (posted
by reference, test_requests.py's test_another_units_request_is_not_found_anywhere), and what
an action reads."""

from __future__ import annotations

from sqlalchemy import Text
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dialogs.review import format_reference
from inbox import requests as inbox_requests
from storage.db import unit_of_work
from storage.models import DeliveredRequest, table_of
from storage.staff import InternalNote, RequestStatus, RequestStatusChange, find_delivered
from tests.conftest import statements_run

from .conftest import (
    ASANE,
    GULEN,
    Clock,
    Decryptions,
    MakeStaff,
    OnItsPage,
    SendRequest,
    audit_entries,
)


def _statuses(engine: Engine) -> list[tuple[str, str]]:
    with unit_of_work(engine) as session:
        return [(c.previous_status, c.status) for c in session.exec(
            select(RequestStatusChange).order_by(col(RequestStatusChange.id)))]


def test_acknowledging_is_only_for_a_new_request_but_the_status_form_may_go_back(
        engine: Engine, on_its_page: OnItsPage) -> None:
    reference, browser, token = on_its_page
    browser.post(f"/requests/{reference}/status",
                 data={"csrf_token": token, "status": "in_progress"})
    # In progress already: acknowledging changes nothing and says nothing, but is audited.
    response = browser.post(f"/requests/{reference}/acknowledge", data={"csrf_token": token})
    assert (response.status_code, response.headers["location"]) == (
        303, f"/requests/{reference}")
    assert _statuses(engine) == [("new", "in_progress")]
    assert audit_entries(engine)[-1] == ("acknowledge", reference, True)
    # The status form is not the acknowledgement: it may set `received` on any request.
    response = browser.post(f"/requests/{reference}/status",
                            data={"csrf_token": token, "status": "received"})
    assert response.headers["location"] == f"/requests/{reference}?done=status_changed"
    assert _statuses(engine) == [("new", "in_progress"), ("in_progress", "received")]


def test_a_status_the_inbox_does_not_know_is_not_audited(
        engine: Engine, on_its_page: OnItsPage) -> None:
    reference, browser, token = on_its_page
    before = audit_entries(engine)
    response = browser.post(f"/requests/{reference}/status",
                            data={"csrf_token": token, "status": "nonsense"})
    assert response.headers["location"] == f"/requests/{reference}"
    assert audit_entries(engine) == before
    assert _statuses(engine) == []


def test_actions_read_the_reference_as_people_write_it(
        engine: Engine, on_its_page: OnItsPage) -> None:
    reference, browser, token = on_its_page
    written = format_reference(reference).lower()
    assert written != reference
    for path, data, done in [
        ("acknowledge", {}, "acknowledged"),
        ("status", {"status": "closed"}, "status_changed"),
        ("notes", {"note": "Ringt tilbake."}, "note_added"),
    ]:
        response = browser.post(f"/requests/{written}/{path}",
                                data={"csrf_token": token, **data})
        assert (response.status_code, response.headers["location"]) == (
            303, f"/requests/{reference}?done={done}"), path
    assert audit_entries(engine)[-3:] == [("acknowledge", reference, True),
                                   ("change_status", reference, True),
                                   ("add_note", reference, True)]
    assert _statuses(engine) == [("new", "received"), ("received", "closed")]


def test_another_units_request_is_refused_even_when_handed_over(
        engine: Engine, make_staff: MakeStaff, send_request: SendRequest,
        clock: Clock) -> None:
    gulens = send_request()
    berit = make_staff(unit_id=ASANE, name="Berit Berg", language="nb")
    with unit_of_work(engine) as session:
        assert find_delivered(session, unit_id=ASANE, reference=gulens) is None
        theirs = find_delivered(session, unit_id=GULEN, reference=gulens)
        assert theirs is not None
        for only_if_new in (True, False):
            assert not inbox_requests.set_status(
                session, staff=berit.account, request=theirs, status=RequestStatus.RECEIVED,
                now=clock(), only_if_new=only_if_new)
        assert not inbox_requests.add_note(session, staff=berit.account, request=theirs,
                                           text="Snoke", now=clock())
    with unit_of_work(engine) as session:
        assert not list(session.exec(select(RequestStatusChange)))
        assert not list(session.exec(select(InternalNote)))


ACTIONS = [("acknowledge", {}), ("status", {"status": "closed"}),
           ("notes", {"note": "Ringt tilbake."})]


def _stored_documents(engine: Engine) -> set[str]:
    """The delivered documents as stored (the ciphertext, not decrypted)."""
    document = table_of(DeliveredRequest).c.document
    with engine.connect() as connection:
        return set(connection.execute(core_select(document.cast(Text))).scalars())


def test_actions_neither_read_nor_decrypt_the_document(
        engine: Engine, on_its_page: OnItsPage, decryptions: Decryptions) -> None:
    reference, browser, token = on_its_page
    documents = _stored_documents(engine)
    decryptions.clear()
    for path, data in ACTIONS:
        response = browser.post(f"/requests/{reference}/{path}",
                                data={"csrf_token": token, **data})
        assert response.headers["location"].startswith(f"/requests/{reference}?done="), path
    assert decryptions  # the staff account's TOTP secret, at least: the spy sees decryption
    assert not documents & {stored for stored, _clear in decryptions}


def test_a_status_action_reads_the_status_once(
        engine: Engine, on_its_page: OnItsPage) -> None:
    reference, browser, token = on_its_page
    with statements_run(engine) as run:
        for path, data in ACTIONS[:2] + ACTIONS[:1]:  # the last acknowledgement changes nothing
            browser.post(f"/requests/{reference}/{path}", data={"csrf_token": token, **data})
    reads = [statement for statement in run
             if statement.lstrip().upper().startswith("SELECT")
             and "FROM request_status_change" in statement]
    assert len(reads) == 3
    assert _statuses(engine) == [("new", "received"), ("received", "closed")]
