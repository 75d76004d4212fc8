"""The list marks the requests no one at the unit has opened yet, and counts them."""

from __future__ import annotations

import re

import pytest

from dialogs.draft import Language
from dialogs.review import format_reference
from inbox.texts import Texts

from .conftest import ASANE, Decryptions, LoggedIn, MakeStaff, SendRequest

ROW = re.compile(r'<tr class="([^"]*)">(.*?)</tr>', re.DOTALL)
REFERENCE = re.compile(r'class="reference">([A-Z0-9-]+)<')
BADGE = re.compile(r'<span class="badge badge-unopened">([^<]+)</span>')
COUNT = re.compile(r'<p class="unopened-count">([^<]+)</p>')


def _marked(html: str) -> dict[str, str | None]:
    """Each shown reference, top to bottom, with the text of its unopened badge (or None); a
    row with the badge is bold as well (class `unopened`), and only such a row."""
    marked: dict[str, str | None] = {}
    for classes, row in ROW.findall(html):
        reference = REFERENCE.search(row)
        assert reference is not None, row
        badge = BADGE.search(row)
        assert ("unopened" in classes.split()) == (badge is not None), (classes, row)
        marked[reference.group(1)] = badge.group(1) if badge else None
    return marked


def _count(html: str) -> str | None:
    found = COUNT.search(html)
    return found.group(1) if found else None


def test_requests_no_one_has_opened_are_marked_until_someone_opens_them(
        make_staff: MakeStaff, logged_in: LoggedIn, send_request: SendRequest) -> None:
    first, second = send_request(), send_request()
    siri = logged_in(make_staff())
    page = siri.get("/requests").text
    assert _marked(page) == {format_reference(first): "Uopna", format_reference(second): "Uopna"}
    assert _count(page) == "2 førespurnader er ikkje opna enno."

    assert siri.get(f"/requests/{first}").status_code == 200
    page = siri.get("/requests").text
    assert _marked(page) == {format_reference(first): None, format_reference(second): "Uopna"}
    assert _count(page) == "1 førespurnad er ikkje opna enno."

    # Opened by anyone at the unit is opened for the whole unit.
    ola = logged_in(make_staff(name="Ola Vik"))
    assert ola.get(f"/requests/{second}").status_code == 200
    for browser in (siri, ola):
        page = browser.get("/requests").text
        assert set(_marked(page).values()) == {None}
        assert "Uopna" not in page
        assert "unopened" not in page
        assert _count(page) is None


def test_the_marker_and_count_in_bokmal(make_staff: MakeStaff, logged_in: LoggedIn,
                                        send_request: SendRequest) -> None:
    reference = send_request(municipality="Bergen", language=Language.BOKMAL)
    browser = logged_in(make_staff(unit_id=ASANE, name="Berit Berg", language="nb"))
    page = browser.get("/requests").text
    assert _marked(page) == {format_reference(reference): "Uåpnet"}
    assert _count(page) == "1 forespørsel er ikke åpnet ennå."
    browser.get(f"/requests/{reference}")
    page = browser.get("/requests").text
    assert _marked(page) == {format_reference(reference): None}
    assert _count(page) is None


def test_another_unit_opening_nothing_leaves_the_mark(
        make_staff: MakeStaff, logged_in: LoggedIn, send_request: SendRequest) -> None:
    """A unit that tries another's request gets not found, and the request stays unopened."""
    theirs = send_request(municipality="Bergen", language=Language.BOKMAL)
    gulen = logged_in(make_staff())
    assert gulen.get(f"/requests/{theirs}").status_code == 404
    asane = logged_in(make_staff(unit_id=ASANE, name="Berit Berg", language="nb"))
    assert _marked(asane.get("/requests").text) == {format_reference(theirs): "Uåpnet"}


def test_marking_decrypts_no_document(make_staff: MakeStaff, logged_in: LoggedIn,
                                      send_request: SendRequest,
                                      decryptions: Decryptions) -> None:
    """Opened or not comes from a plain column beside the unit's copy, not from the copy."""
    opened, _unopened = send_request(), send_request()
    browser = logged_in(make_staff())
    browser.get(f"/requests/{opened}")
    decryptions.clear()
    page = browser.get("/requests").text
    assert list(_marked(page).values()).count("Uopna") == 1
    assert decryptions  # the staff account's session, at least: the spy sees decryption
    assert not [clear for _stored, clear in decryptions if '"answers"' in clear]


@pytest.mark.parametrize(("language", "count", "shown"), [
    ("nn", 1, "1 førespurnad er ikkje opna enno."),
    ("nn", 2, "2 førespurnader er ikkje opna enno."),
    ("nn", 11, "11 førespurnader er ikkje opna enno."),
    ("nb", 1, "1 forespørsel er ikke åpnet ennå."),
    ("nb", 3, "3 forespørsler er ikke åpnet ennå."),
])
def test_the_count_takes_the_plural_form_of_the_catalog(language: str, count: int,
                                                        shown: str) -> None:
    assert Texts(language).counted("inbox.list.unopened_count", count) == shown


def test_only_plural_messages_are_counted() -> None:
    with pytest.raises(TypeError):
        Texts("nb").counted("inbox.list.unopened", 2)
