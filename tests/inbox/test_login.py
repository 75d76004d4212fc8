"""Staff accounts: set-up link, password and TOTP, lock-out, sessions, log-out, CSRF."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage.db import unit_of_work
from storage.staff import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    SESSION_IDLE,
    SESSION_LIFETIME,
    AuditEntry,
    LoginAttempt,
    StaffAccount,
    StaffSession,
    add_staff,
    disable_staff,
)

from .conftest import GULEN, PASSWORD, Clock, StaffMember, csrf_of, log_in

Client = Callable[[], TestClient]


def test_set_up_link_sets_password_and_enrols_totp(engine: Engine, app_client: Client,
                                                   clock: Clock) -> None:
    with unit_of_work(engine) as session:
        account, token = add_staff(session, unit_id=GULEN, name="Åse Ødegård", language="nn",
                                   now=clock())
    assert account.login == "ase.odegard"
    browser = app_client()
    page = browser.get(f"/setup/{token}")
    assert page.status_code == 200
    assert f"otpauth://totp/Din%20plan:ase.odegard?secret={account.totp_secret}" in page.text
    assert account.totp_secret in page.text
    assert "Kom i gang" in page.text  # Nynorsk, as the account says
    totp = pyotp.TOTP(account.totp_secret)

    def post(**fields: str) -> tuple[int, str]:
        form = {"csrf_token": csrf_of(browser.get(f"/setup/{token}").text),
                "password": PASSWORD, "repeated": PASSWORD, "code": totp.at(clock()), **fields}
        response = browser.post(f"/setup/{token}", data=form)
        return response.status_code, response.headers.get("location") or response.text

    status, text = post(password="kort", repeated="kort")
    assert status == 400
    assert "minst 12 teikn" in text
    status, text = post(repeated=PASSWORD + "x")
    assert status == 400
    assert "ikkje like" in text
    status, text = post(code="000000" if totp.at(clock()) != "000000" else "111111")
    assert status == 400
    assert "Koden er feil" in text
    assert post() == (303, "/login?ready=ase.odegard")

    with unit_of_work(engine) as session:
        stored = session.exec(select(StaffAccount).where(StaffAccount.id == account.id)).one()
        assert stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
        assert stored.setup_token_hash is None
    # The link is used up.
    assert browser.get(f"/setup/{token}").status_code == 404
    clock.advance(seconds=30)
    member = StaffMember(stored, stored.login, totp)
    assert log_in(app_client(), member, clock) == (303, "/requests")


def test_set_up_link_expires(engine: Engine, app_client: Client, clock: Clock) -> None:
    with unit_of_work(engine) as session:
        _account, token = add_staff(session, unit_id=GULEN, name="Per Vik", now=clock())
    clock.advance(hours=73)
    assert app_client().get(f"/setup/{token}").status_code == 404
    assert app_client().get("/setup/not-a-token").status_code == 404


def test_log_in_needs_password_and_a_fresh_totp_code(make_staff: Callable[..., StaffMember],
                                                     app_client: Client, clock: Clock) -> None:
    staff = make_staff()
    browser = app_client()
    assert log_in(browser, staff, clock, password="feil passord her")[0] == 401
    assert log_in(browser, staff, clock, code="")[0] == 401
    wrong = "123456" if staff.code(clock()) != "123456" else "654321"
    status, page = log_in(browser, staff, clock, code=wrong)
    assert status == 401
    assert "Brukernavnet, passordet eller koden er feil." in page  # which one is not told
    assert log_in(browser, staff, clock) == (303, "/requests")
    # The same code cannot be used twice (replay), even by another browser.
    assert log_in(app_client(), staff, clock)[0] == 401


def test_session_cookie_is_secure_httponly_samesite(make_staff: Callable[..., StaffMember],
                                                    app_client: Client, clock: Clock) -> None:
    staff = make_staff()
    browser = app_client()
    page = browser.get("/login")
    response = browser.post("/login", data={
        "csrf_token": csrf_of(page.text), "login": staff.login, "password": PASSWORD,
        "code": staff.code(clock())})
    cookie = next(c for c in response.headers.get_list("set-cookie")
                  if c.startswith("__Host-dinplan_inbox_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "path=/", "samesite=strict"} <= flags
    assert not any(flag.startswith("domain") for flag in flags)
    for name, value in {"content-security-policy": "default-src 'none'",
                        "x-frame-options": "DENY", "cache-control": "no-store"}.items():
        assert value in browser.get("/requests").headers[name]


def test_lock_out_after_repeated_failures(engine: Engine, make_staff: Callable[..., StaffMember],
                                          app_client: Client, clock: Clock) -> None:
    staff = make_staff()
    browser = app_client()
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert log_in(browser, staff, clock, password="gjetta passord")[0] == 401
    status, page = log_in(browser, staff, clock, password="gjetta passord")
    assert status == 423
    assert "Du kan ikke logge inn de neste 15 minuttene." in page
    # Locked: even the right password and code are refused, and nothing says they were right.
    assert log_in(browser, staff, clock)[0] == 423
    clock.advance(seconds=LOCKOUT.total_seconds() + 30)
    assert log_in(browser, staff, clock) == (303, "/requests")
    with unit_of_work(engine) as session:
        reasons = [a.reason for a in session.exec(select(LoginAttempt).where(
            LoginAttempt.login == staff.login).order_by(col(LoginAttempt.id)))]
    assert reasons == ["password"] * MAX_FAILED_LOGINS + ["locked", "ok"]


def test_failures_of_one_account_do_not_lock_another(make_staff: Callable[..., StaffMember],
                                                     app_client: Client, clock: Clock) -> None:
    staff, colleague = make_staff(), make_staff(name="Ola Bø")
    for _ in range(MAX_FAILED_LOGINS + 2):
        log_in(app_client(), staff, clock, password="gjetta passord")
    assert log_in(app_client(), colleague, clock) == (303, "/requests")


def test_session_expires_when_idle_and_after_its_lifetime(
        make_staff: Callable[..., StaffMember], logged_in: Callable[[StaffMember], TestClient],
        clock: Clock) -> None:
    staff = make_staff()
    browser = logged_in(staff)
    clock.advance(seconds=SESSION_IDLE.total_seconds() - 60)
    assert browser.get("/requests").status_code == 200  # in use: stays alive
    clock.advance(seconds=SESSION_IDLE.total_seconds() + 1)
    expired = browser.get("/requests")
    assert (expired.status_code, expired.headers["location"]) == (303, "/login?expired=1")

    # Kept in use, a session still ends when its lifetime is over.
    browser = logged_in(staff)
    steps = int(SESSION_LIFETIME / (SESSION_IDLE / 2))
    for _ in range(steps - 1):
        clock.advance(seconds=SESSION_IDLE.total_seconds() / 2)
        assert browser.get("/requests").status_code == 200
    clock.advance(seconds=SESSION_IDLE.total_seconds() / 2)
    assert browser.get("/requests").headers.get("location") == "/login?expired=1"


def test_expired_session_page_says_so(app_client: Client) -> None:
    browser = app_client()
    browser.headers["accept-language"] = "nn-NO,nn;q=0.9"
    assert "Du vart logga ut fordi du var borte ei stund." in browser.get(
        "/login?expired=1").text


def test_log_out_ends_the_session(engine: Engine, make_staff: Callable[..., StaffMember],
                                  logged_in: Callable[[StaffMember], TestClient]) -> None:
    staff = make_staff()
    browser = logged_in(staff)
    token = browser.cookies.get("__Host-dinplan_inbox_session")
    response = browser.post("/logout", data={"csrf_token": csrf_of(browser.get("/requests").text)})
    assert (response.status_code, response.headers["location"]) == (303, "/login?bye=1")
    # Even a browser that kept the old cookie is logged out.
    stale = TestClient(browser.app, base_url="https://testserver", follow_redirects=False)
    stale.cookies.set("__Host-dinplan_inbox_session", token or "")
    assert stale.get("/requests").status_code == 303
    with unit_of_work(engine) as session:
        assert all(s.ended_at is not None for s in session.exec(select(StaffSession)))
        actions = [e.action for e in session.exec(select(AuditEntry))]
    assert "log_in" in actions
    assert "log_out" in actions


def test_disabled_staff_are_logged_out_and_cannot_log_in(
        engine: Engine, make_staff: Callable[..., StaffMember],
        logged_in: Callable[[StaffMember], TestClient], app_client: Client,
        clock: Clock) -> None:
    staff = make_staff()
    browser = logged_in(staff)
    with unit_of_work(engine) as session:
        disable_staff(session, login=staff.login, now=clock())
    assert browser.get("/requests").status_code == 303
    assert log_in(app_client(), staff, clock)[0] == 401


def test_every_form_needs_its_csrf_token(make_staff: Callable[..., StaffMember],
                                         logged_in: Callable[[StaffMember], TestClient],
                                         app_client: Client, send_request: Callable[..., str],
                                         clock: Clock) -> None:
    reference = send_request()
    staff = make_staff()
    browser = logged_in(staff)
    token = csrf_of(browser.get("/requests").text)
    forms = {f"/requests/{reference}/acknowledge": {},
             f"/requests/{reference}/status": {"status": "closed"},
             f"/requests/{reference}/notes": {"note": "Ring fredag."},
             "/language": {"language": "nb"},
             "/logout": {}}
    for path, fields in forms.items():
        for bad in ({}, {"csrf_token": ""}, {"csrf_token": token[:-2] + "xx"}):
            response = browser.post(path, data={**fields, **bad})
            assert response.status_code == 403, (path, bad)
            assert "Sida er for gammal" in response.text
        # The right token but from another site (a cross-site form post) is refused too.
        response = browser.post(path, data={**fields, "csrf_token": token},
                                headers={"origin": "https://evil.example",
                                         "sec-fetch-site": "cross-site"})
        assert response.status_code == 403, path
    # Nothing happened: still new, no note, still Nynorsk, still logged in.
    page = browser.get(f"/requests/{reference}")
    assert page.status_code == 200
    assert "Stadfest mottak" in page.text
    assert "Ingen notat enno." in page.text

    # Before log-in the form token is the one in the form cookie.
    other = app_client()
    other.get("/login")
    response = other.post("/login", data={"csrf_token": "guessed", "login": staff.login,
                                          "password": PASSWORD, "code": staff.code(clock())})
    assert response.status_code == 403
    fresh = app_client()
    response = fresh.post("/login", data={"csrf_token": token, "login": staff.login,
                                          "password": PASSWORD, "code": staff.code(clock())})
    assert response.status_code == 403  # no form cookie at all


def test_the_right_token_works(make_staff: Callable[..., StaffMember],
                               logged_in: Callable[[StaffMember], TestClient]) -> None:
    browser = logged_in(make_staff())
    token = csrf_of(browser.get("/requests").text)
    response = browser.post("/language", data={"csrf_token": token, "language": "nb",
                                               "back": "https://evil.example/"},
                            headers={"origin": "https://testserver",
                                     "sec-fetch-site": "same-origin"})
    assert (response.status_code, response.headers["location"]) == (303, "/requests")
    assert "Forespørsler til" in browser.get("/requests").text  # Bokmål now


def test_what_the_browser_sends_is_escaped(app_client: Client) -> None:
    page = app_client().get("/login", params={"ready": "<script>alert(1)</script>"})
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text
