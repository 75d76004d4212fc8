"""The web inbox of the coordinating units: pages rendered on the server, forms, no JavaScript.

Handlers are plain functions (FastAPI runs them in its thread pool, so argon2 and the database
never block the event loop); each is one unit of work (`storage.db.unit_of_work`). A staff member
sees the requests of their own unit only: any other reference gets the same 404 as one that does
not exist, and an audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from dialogs.draft import Language
from dialogs.reference import normalize_reference
from inbox import requests as inbox_requests
from inbox.security import (
    CSRF_FIELD,
    FORM_COOKIE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    clear_cookie,
    new_form_token,
    read_cookie,
    same_origin,
    set_cookie,
    tokens_match,
)
from inbox.texts import Texts
from storage import staff as staff_store
from storage.db import unit_of_work
from storage.models import DeliveredRequest, utcnow
from storage.staff import (
    LOCKOUT,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    SESSION_LIFETIME,
    ActiveSession,
    AuditAction,
    LoginResult,
    RequestStatus,
    SetupProblem,
)

HERE = Path(__file__).parent
Clock = Callable[[], datetime]
DOWNLOADS = {"pdf": AuditAction.DOWNLOAD_PDF, "fhir": AuditAction.DOWNLOAD_FHIR,
             "json": AuditAction.DOWNLOAD_JSON}
DONE_NOTICES = ("acknowledged", "status_changed", "note_added")
FormField = Annotated[str, Form(max_length=8000)]
# Acts on one request of the staff member's unit, looked up once by `request_action`; returns
# which notice to show, if any.
Act = Callable[[Session, ActiveSession, DeliveredRequest], str | None]


class LoginRequiredError(Exception):
    """No live session: send the browser to the log-in page."""

    def __init__(self, expired: bool) -> None:
        self.expired = expired


class FormExpiredError(Exception):
    """A POST without the right CSRF token, or from another origin."""

    def __init__(self, language: str) -> None:
        self.language = language


def _language_of(request: Request) -> str:
    """Before log-in: the browser's preference between nn and nb (Bokmål if neither)."""
    for part in request.headers.get("accept-language", "").lower().split(","):
        tag = part.split(";")[0].strip()
        if tag in ("nn", "nn-no"):
            return "nn"
        if tag in ("nb", "nb-no", "no", "no-no"):
            return "nb"
    return "nb"


class SecurityHeadersMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: Any, *, https: bool) -> None:
        super().__init__(app)
        self.headers = dict(SECURITY_HEADERS)
        if https:
            self.headers["Strict-Transport-Security"] = "max-age=31536000"

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in self.headers.items():
            response.headers.setdefault(name, value)
        return response


def create_app(engine: Engine, *, clock: Clock = utcnow, secure_cookies: bool = True) -> FastAPI:
    """The inbox on this database; `clock` is for tests, `secure_cookies` off for plain http."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=HERE / "templates")
    app.add_middleware(SecurityHeadersMiddleware, https=secure_cookies)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page(request: Request, template: str, texts: Texts, *, status_code: int = 200,
             **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request, template, {"t": texts, "lang": texts.language, "csrf_field": CSRF_FIELD,
                                "staff": None, **context}, status_code=status_code)

    def message_page(request: Request, texts: Texts, heading: str, explanation: str, *,
                     status_code: int, active: ActiveSession | None = None) -> HTMLResponse:
        return page(request, "message.html", texts, status_code=status_code, heading=heading,
                    explanation=explanation, **_staff_context(active))

    def _staff_context(active: ActiveSession | None) -> dict[str, Any]:
        if active is None:
            return {}
        return {"staff": active.staff, "csrf_token": active.csrf_token,
                "unit_name": inbox_requests.unit_name(active.staff.unit_id,
                                                      Language(active.staff.language))}

    def not_found(request: Request, active: ActiveSession | None) -> HTMLResponse:
        texts = Texts(active.staff.language if active else _language_of(request))
        return message_page(request, texts, texts("inbox.error.not_found"),
                            texts("inbox.error.not_found_explained"), status_code=404,
                            active=active)

    def staff_page(request: Request, template: str, active: ActiveSession,
                   **context: Any) -> HTMLResponse:
        return page(request, template, Texts(active.staff.language),
                    **_staff_context(active), **context)

    # -- sessions and forms ---------------------------------------------------------------------

    def current_staff(request: Request, session: Session) -> ActiveSession:
        token = read_cookie(request, SESSION_COOKIE, secure=secure_cookies)
        active = staff_store.resume_session(session, token=token or "", now=clock())
        if active is None:
            raise LoginRequiredError(expired=token is not None)
        return active

    def check_form(request: Request, expected: str | None, given: str, language: str) -> None:
        if not (same_origin(request) and tokens_match(expected, given)):
            raise FormExpiredError(language)

    def check_pre_login_form(request: Request, given: str) -> Texts:
        texts = Texts(_language_of(request))
        check_form(request, read_cookie(request, FORM_COOKIE, secure=secure_cookies), given,
                   texts.language)
        return texts

    @app.exception_handler(LoginRequiredError)
    async def to_login(request: Request, error: LoginRequiredError) -> Response:
        response = RedirectResponse("/login?expired=1" if error.expired else "/login", 303)
        if error.expired:
            clear_cookie(response, SESSION_COOKIE, secure=secure_cookies)
        return response

    @app.exception_handler(FormExpiredError)
    async def form_expired(request: Request, error: FormExpiredError) -> Response:
        texts = Texts(error.language)
        return message_page(request, texts, texts("inbox.error.form_expired"),
                            texts("inbox.error.form_expired_explained"), status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            return not_found(request, None)
        return Response(status_code=error.status_code)

    # -- log-in, set-up, log-out ---------------------------------------------------------------

    def login_page(request: Request, texts: Texts, *, status_code: int = 200,
                   problem: str | None = None, notice: str | None = None) -> HTMLResponse:
        token = new_form_token()
        response = page(request, "login.html", texts, status_code=status_code, csrf_token=token,
                        problem=problem, notice=notice)
        set_cookie(response, FORM_COOKIE, token, secure=secure_cookies)
        return response

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/requests", 303)

    @app.get("/login")
    def login_form(request: Request) -> Response:
        texts = Texts(_language_of(request))
        params = request.query_params
        notice = (texts("inbox.login.expired") if "expired" in params
                  else texts("inbox.login.logged_out") if "bye" in params
                  else texts("inbox.login.set_up_done", login=params["ready"][:64])
                  if "ready" in params else None)
        return login_page(request, texts, notice=notice)

    @app.post("/login")
    def login(request: Request, csrf_token: FormField = "", login: FormField = "",
              password: FormField = "", code: FormField = "") -> Response:
        texts = check_pre_login_form(request, csrf_token)
        with unit_of_work(engine) as session:
            result, new = staff_store.log_in(session, login=login, password=password, code=code,
                                             now=clock())
            if new is not None:
                staff_store.audit(session, staff=new.staff, action=AuditAction.LOG_IN,
                                  now=clock())
        if result is LoginResult.LOCKED:
            return login_page(request, texts, status_code=423, problem=texts(
                "inbox.login.locked", minutes=int(LOCKOUT.total_seconds() // 60)))
        if new is None:
            return login_page(request, texts, status_code=401, problem=texts("inbox.login.wrong"))
        response = RedirectResponse("/requests", 303)
        set_cookie(response, SESSION_COOKIE, new.token, secure=secure_cookies,
                   max_age=int(SESSION_LIFETIME.total_seconds()))
        clear_cookie(response, FORM_COOKIE, secure=secure_cookies)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf_token: FormField = "") -> Response:
        with unit_of_work(engine) as session:
            active = current_staff(request, session)
            check_form(request, active.csrf_token, csrf_token, active.staff.language)
            staff_store.end_session(session, session_id=active.session_id, now=clock())
            staff_store.audit(session, staff=active.staff, action=AuditAction.LOG_OUT,
                              now=clock())
        response = RedirectResponse("/login?bye=1", 303)
        clear_cookie(response, SESSION_COOKIE, secure=secure_cookies)
        return response

    def setup_page(request: Request, account: staff_store.StaffAccount, *,
                   status_code: int = 200, problem: str | None = None) -> HTMLResponse:
        token = new_form_token()
        response = page(
            request, "setup.html", Texts(account.language), status_code=status_code,
            csrf_token=token, problem=problem, name=account.name, login=account.login,
            otpauth_uri=staff_store.otpauth_uri(account), secret=account.totp_secret,
            min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
        set_cookie(response, FORM_COOKIE, token, secure=secure_cookies)
        return response

    def invalid_setup_link(request: Request) -> HTMLResponse:
        texts = Texts(_language_of(request))
        return message_page(request, texts, texts("inbox.setup.heading"),
                            texts("inbox.setup.invalid_link"), status_code=404)

    @app.get("/setup/{token}")
    def setup_form(request: Request, token: str) -> Response:
        with unit_of_work(engine) as session:
            account = staff_store.account_for_setup(session, token=token, now=clock())
        if account is None:
            return invalid_setup_link(request)
        return setup_page(request, account)

    @app.post("/setup/{token}")
    def setup(request: Request, token: str, csrf_token: FormField = "",
              password: FormField = "", repeated: FormField = "",
              code: FormField = "") -> Response:
        check_pre_login_form(request, csrf_token)
        with unit_of_work(engine) as session:
            account = staff_store.account_for_setup(session, token=token, now=clock())
            if account is None:
                return invalid_setup_link(request)
            problem = staff_store.complete_setup(session, account=account, password=password,
                                                 repeated=repeated, code=code, now=clock())
        if problem is not None:
            texts = Texts(account.language)
            message = {
                SetupProblem.TOO_SHORT: texts("inbox.setup.too_short", min=MIN_PASSWORD_LENGTH),
                SetupProblem.TOO_LONG: texts("inbox.setup.too_long", max=MAX_PASSWORD_LENGTH),
                SetupProblem.NOT_REPEATED: texts("inbox.setup.not_repeated"),
                SetupProblem.WRONG_CODE: texts("inbox.setup.wrong_code"),
            }[problem]
            return setup_page(request, account, status_code=400, problem=message)
        response = RedirectResponse("/login?" + urlencode({"ready": account.login}), 303)
        clear_cookie(response, FORM_COOKIE, secure=secure_cookies)
        return response

    # -- the unit's requests -------------------------------------------------------------------

    @app.get("/requests")
    def request_list(request: Request, status: str | None = None) -> Response:
        wanted = status if status in inbox_requests.STATUSES else None
        with unit_of_work(engine) as session:
            active = current_staff(request, session)
            rows = inbox_requests.list_for_unit(session, unit_id=active.staff.unit_id,
                                                status=wanted, now=clock())
            staff_store.audit(session, staff=active.staff, action=AuditAction.LIST, now=clock())
        return staff_page(request, "list.html", active, rows=rows, status=wanted,
                          statuses=inbox_requests.STATUSES)

    @app.get("/requests/{reference}")
    def request_detail(request: Request, reference: str, done: str | None = None) -> Response:
        with unit_of_work(engine) as session:
            active = current_staff(request, session)
            detail = inbox_requests.open_for_unit(session, unit_id=active.staff.unit_id,
                                                  reference=normalize_reference(reference),
                                                  now=clock())
            staff_store.audit(session, staff=active.staff, action=AuditAction.OPEN,
                              reference=detail.row.reference if detail else reference,
                              allowed=detail is not None, now=clock())
        if detail is None:
            return not_found(request, active)
        return staff_page(request, "request.html", active, request_view=detail,
                          done=done if done in DONE_NOTICES else None,
                          statuses=inbox_requests.STATUSES)

    @app.get("/requests/{reference}/download/{kind}")
    def download(request: Request, reference: str, kind: str) -> Response:
        with unit_of_work(engine) as session:
            active = current_staff(request, session)
            action = DOWNLOADS.get(kind)
            made = inbox_requests.export_for_unit(
                session, unit_id=active.staff.unit_id, reference=normalize_reference(reference),
                kind=kind) if action else None
            staff_store.audit(session, staff=active.staff,
                              action=action or AuditAction.DOWNLOAD_JSON,
                              reference=made.reference if made else reference,
                              allowed=made is not None, now=clock())
        if made is None:
            return not_found(request, active)
        return Response(made.content, media_type=made.media_type, headers={
            "Content-Disposition": f'attachment; filename="{made.filename}"'})

    def request_action(request: Request, reference: str, csrf_token: str, act: Act) -> Response:
        """A form posted about one request: check it, act, audit, and show the request again."""
        with unit_of_work(engine) as session:
            active = current_staff(request, session)
            check_form(request, active.csrf_token, csrf_token, active.staff.language)
            # Another unit's request is None, like a missing one. No action shows the request,
            # so its document (encrypted) is not even read.
            found = staff_store.find_delivered(session, unit_id=active.staff.unit_id,
                                               reference=normalize_reference(reference),
                                               with_document=False)
            if found is None:
                staff_store.audit(session, staff=active.staff, action=AuditAction.OPEN,
                                  reference=reference, allowed=False, now=clock())
                done = None
            else:
                done = act(session, active, found)
        if found is None:
            return not_found(request, active)
        return RedirectResponse(f"/requests/{found.reference}" + (f"?done={done}" if done else ""),
                                303)

    def status_action(request: Request, reference: str, csrf_token: str, *, status: str,
                      action: AuditAction, done: str, only_if_new: bool = False) -> Response:
        """A status form: audit the attempt, then set the status; the notice if it changed.
        A status the inbox does not know changes nothing and is not audited."""
        def act(session: Session, active: ActiveSession, found: DeliveredRequest) -> str | None:
            if status not in inbox_requests.STATUSES:
                return None
            staff_store.audit(session, staff=active.staff, action=action,
                              reference=found.reference, now=clock())
            changed = inbox_requests.set_status(session, staff=active.staff, request=found,
                                                status=RequestStatus(status), now=clock(),
                                                only_if_new=only_if_new)
            return done if changed else None
        return request_action(request, reference, csrf_token, act)

    @app.post("/requests/{reference}/acknowledge")
    def acknowledge(request: Request, reference: str, csrf_token: FormField = "") -> Response:
        return status_action(request, reference, csrf_token, status=RequestStatus.RECEIVED,
                             action=AuditAction.ACKNOWLEDGE, done="acknowledged",
                             only_if_new=True)

    @app.post("/requests/{reference}/status")
    def change_status(request: Request, reference: str, csrf_token: FormField = "",
                      status: FormField = "") -> Response:
        return status_action(request, reference, csrf_token, status=status,
                             action=AuditAction.CHANGE_STATUS, done="status_changed")

    @app.post("/requests/{reference}/notes")
    def add_note(request: Request, reference: str, csrf_token: FormField = "",
                 note: FormField = "") -> Response:
        def act(session: Session, active: ActiveSession, found: DeliveredRequest) -> str | None:
            if not inbox_requests.add_note(session, staff=active.staff, request=found,
                                           text=note, now=clock()):
                return None
            staff_store.audit(session, staff=active.staff, action=AuditAction.ADD_NOTE,
                              reference=found.reference, now=clock())
            return "note_added"
        return request_action(request, reference, csrf_token, act)

    @app.post("/language")
    def change_language(request: Request, csrf_token: FormField = "",
                        language: FormField = "", back: FormField = "/requests") -> Response:
        with unit_of_work(engine) as session:
            active = current_staff(request, session)
            check_form(request, active.csrf_token, csrf_token, active.staff.language)
            assert active.staff.id is not None
            staff_store.set_language(session, staff_id=active.staff.id, language=language)
        # Only a path of our own: never an open redirect.
        if not back.startswith("/") or back.startswith("//") or "\\" in back:
            back = "/requests"
        return RedirectResponse(back, 303)

    return app
