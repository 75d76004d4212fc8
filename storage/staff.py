"""Staff of the coordinating units: accounts, log-in, sessions, the audit log and internal notes.

The web inbox (`inbox/`) is the only user. Secrets are never stored as they are: passwords as
argon2id hashes, set-up links and session cookies as SHA-256 digests of random tokens, TOTP
secrets and notes encrypted at rest. Audit entries say who did what to which request, never what
the request says.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import cast

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Column, Index, Integer, func, update
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import Field, Session, SQLModel, col, select

from storage.crypto import EncryptedText
from storage.models import DeliveredRequest, utc_column, utcnow

# How long a set-up link works, and the rules for log-in and sessions.
SETUP_LINK_VALID = timedelta(hours=72)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(hours=10)
TOTP_ISSUER = "Din plan"
NOTE_MAX_LENGTH = 4000

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    """Verified against when the login is unknown, so a wrong name takes as long as a wrong
    password. Made on first use: hashing at import would slow every process that imports this."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffAccount(SQLModel, table=True):
    """A member of staff of one coordinating unit; they see that unit's requests only."""

    __tablename__ = "staff_account"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: str = Field(max_length=64, index=True)
    login: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    language: str = Field(default="nb", max_length=2)
    password_hash: str | None = Field(default=None, max_length=255)
    totp_secret: str = Field(sa_column=Column(EncryptedText, nullable=False))
    # The last TOTP time step accepted, so a code cannot be used twice.
    totp_last_step: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    setup_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    setup_expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    locked_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    disabled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())

    @property
    def is_set_up(self) -> bool:
        return self.password_hash is not None


class LoginAttempt(SQLModel, table=True):
    """One try at logging in, kept for lock-out and for the security officer."""

    __tablename__ = "staff_login_attempt"
    __table_args__ = (Index("ix_staff_login_attempt_login_at", "login", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64)
    staff_id: int | None = Field(default=None, foreign_key="staff_account.id", ondelete="CASCADE")
    succeeded: bool = False
    reason: str = Field(max_length=24)
    at: datetime = Field(sa_column=utc_column())


class StaffSession(SQLModel, table=True):
    """A logged-in browser; the cookie holds the token, the table only its digest."""

    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int = Field(foreign_key="staff_account.id", index=True, ondelete="CASCADE")
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=utc_column())
    last_seen_at: datetime = Field(sa_column=utc_column())
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class AuditEntry(SQLModel, table=True):
    """Who did what to which request, and when; never what the request says."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=utc_column())
    staff_id: int | None = Field(default=None, foreign_key="staff_account.id", index=True,
                                 ondelete="SET NULL")
    staff_login: str = Field(max_length=64)
    unit_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    # As asked for: a guessed reference is recorded as it was typed (cut short), not resolved.
    reference: str | None = Field(default=None, max_length=32, index=True)
    allowed: bool = True


class InternalNote(SQLModel, table=True):
    """A note for the unit's own staff about one request; the citizen never sees it."""

    __tablename__ = "internal_note"

    id: int | None = Field(default=None, primary_key=True)
    delivered_request_id: int = Field(foreign_key="delivered_request.id", index=True,
                                      ondelete="CASCADE")
    unit_id: str = Field(max_length=64)
    staff_id: int | None = Field(default=None, foreign_key="staff_account.id",
                                 ondelete="SET NULL")
    author_name: str = Field(max_length=200)
    text: str = Field(sa_column=Column(EncryptedText, nullable=False))
    at: datetime = Field(sa_column=utc_column())


# -- accounts ----------------------------------------------------------------------------------

class StaffError(ValueError):
    """A staff command that cannot be carried out; the message says why."""


_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$")


def login_from_name(name: str) -> str:
    """A login made from a full name: "Åse Ødegård" gives "ase.odegard"."""
    letters: dict[str, str | int | None] = {"æ": "ae", "ø": "o", "å": "a"}
    folded = name.lower().translate(str.maketrans(letters))
    ascii_name = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", ".", ascii_name).strip(".")[:64]


def new_setup_link_token(account: StaffAccount, *, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    account.setup_token_hash = _digest(token)
    account.setup_expires_at = now + SETUP_LINK_VALID
    return token


def add_staff(session: Session, *, unit_id: str, name: str, login: str | None = None,
              language: str = "nb", now: datetime | None = None) -> tuple[StaffAccount, str]:
    """A new account, not yet usable, and the token of its one-time set-up link."""
    now = now or utcnow()
    name = " ".join(name.split())
    if not name:
        raise StaffError("the name is empty")
    login = (login or login_from_name(name)).lower()
    if not _LOGIN.match(login):
        raise StaffError(f"the login {login!r} must be 3-64 letters a-z, digits, '.', '_' or '-'")
    if find_staff(session, login=login) is not None:
        raise StaffError(f"the login {login!r} is taken")
    if language not in ("nb", "nn"):
        raise StaffError("the language must be nb or nn")
    account = StaffAccount(unit_id=unit_id, login=login, name=name, language=language,
                           totp_secret=pyotp.random_base32(), created_at=now)
    token = new_setup_link_token(account, now=now)
    session.add(account)
    session.flush()
    return account, token


def find_staff(session: Session, *, login: str) -> StaffAccount | None:
    return session.exec(select(StaffAccount).where(StaffAccount.login == login.lower())).first()


def list_staff(session: Session, *, unit_id: str | None = None) -> list[StaffAccount]:
    query = select(StaffAccount).order_by(col(StaffAccount.unit_id), col(StaffAccount.login))
    if unit_id is not None:
        query = query.where(StaffAccount.unit_id == unit_id)
    return list(session.exec(query))


def disable_staff(session: Session, *, login: str, now: datetime | None = None) -> StaffAccount:
    """The account can no longer log in or finish set-up; its sessions end now."""
    now = now or utcnow()
    account = find_staff(session, login=login)
    if account is None:
        raise StaffError(f"no staff member has the login {login!r}")
    if account.disabled_at is None:
        account.disabled_at = now
    account.setup_token_hash = None
    account.setup_expires_at = None
    session.add(account)
    session.exec(update(StaffSession)
                 .where(col(StaffSession.staff_id) == account.id,
                        col(StaffSession.ended_at).is_(None))
                 .values(ended_at=now))
    return account


def set_language(session: Session, *, staff_id: int, language: str) -> None:
    account = session.get(StaffAccount, staff_id)
    if account is not None and language in ("nb", "nn"):
        account.language = language
        session.add(account)


# -- set-up and two-factor ---------------------------------------------------------------------

def account_for_setup(session: Session, *, token: str, now: datetime) -> StaffAccount | None:
    """The account whose set-up link this is, while the link is valid and unused."""
    if not token or len(token) > 128:
        return None
    account = session.exec(select(StaffAccount).where(
        StaffAccount.setup_token_hash == _digest(token))).first()
    if account is None or account.disabled_at is not None or account.setup_expires_at is None:
        return None
    if account.setup_expires_at <= now:
        return None
    return account


def otpauth_uri(account: StaffAccount) -> str:
    return pyotp.TOTP(account.totp_secret).provisioning_uri(name=account.login,
                                                            issuer_name=TOTP_ISSUER)


class SetupProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    NOT_REPEATED = "not_repeated"
    WRONG_CODE = "wrong_code"


def complete_setup(session: Session, *, account: StaffAccount, password: str, repeated: str,
                   code: str, now: datetime) -> SetupProblem | None:
    """Set the password and confirm TOTP enrolment with a first code; None when done."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return SetupProblem.TOO_SHORT
    if len(password) > MAX_PASSWORD_LENGTH:
        return SetupProblem.TOO_LONG
    if not hmac.compare_digest(password.encode(), repeated.encode()):
        return SetupProblem.NOT_REPEATED
    if not _accept_totp(account, code, now):
        return SetupProblem.WRONG_CODE
    account.password_hash = _hasher.hash(password)
    account.setup_token_hash = None
    account.setup_expires_at = None
    account.locked_until = None
    session.add(account)
    return None


def _accept_totp(account: StaffAccount, code: str, now: datetime) -> bool:
    """The code of this, the previous or the next 30-second step, each step once only."""
    code = "".join(code.split())
    if not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(account.totp_secret)
    step = totp.timecode(now)
    for candidate in (step, step - 1, step + 1):
        if account.totp_last_step is not None and candidate <= account.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            account.totp_last_step = candidate
            return True
    return False


# -- log-in, lock-out and sessions -------------------------------------------------------------

class LoginResult(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # the name, password or code is wrong; we do not say which
    LOCKED = "locked"


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the cookie, never stored
    csrf_token: str
    staff: StaffAccount


def _recent_failures(session: Session, *, account: StaffAccount, now: datetime) -> int:
    """Failed tries in the window, since the last success and since a lock-out ended."""
    login = account.login
    since = now - FAILED_LOGIN_WINDOW
    if account.locked_until is not None and account.locked_until > since:
        since = account.locked_until
    last_success = session.exec(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.login == login, col(LoginAttempt.succeeded).is_(True))).one()
    if last_success is not None and last_success > since:
        since = last_success
    return session.exec(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.login == login, col(LoginAttempt.succeeded).is_(False),
        LoginAttempt.reason != "locked", col(LoginAttempt.at) > since)).one()


def log_in(session: Session, *, login: str, password: str, code: str,
           now: datetime | None = None) -> tuple[LoginResult, NewSession | None]:
    """Check name, password and TOTP code; lock the account after repeated failures.

    The caller commits even when the log-in fails: the failed attempt must be kept.
    """
    now = now or utcnow()
    login = login.strip().lower()[:64]
    account = find_staff(session, login=login) if login else None

    def attempt(succeeded: bool, reason: str) -> None:
        session.add(LoginAttempt(login=login, staff_id=account.id if account else None,
                                 succeeded=succeeded, reason=reason, at=now))

    if account is not None and account.locked_until is not None \
            and account.locked_until > now:
        attempt(False, "locked")
        return LoginResult.LOCKED, None
    password_ok = _verify_password(account.password_hash if account else None, password)
    usable = account is not None and account.disabled_at is None and account.is_set_up
    if not (usable and password_ok and account is not None and _accept_totp(account, code, now)):
        reason = ("unknown" if account is None else "disabled" if account.disabled_at
                  else "not_set_up" if not account.is_set_up
                  else "password" if not password_ok else "code")
        attempt(False, reason)
        session.flush()
        if account is not None and _recent_failures(session, account=account,
                                                    now=now) >= MAX_FAILED_LOGINS:
            account.locked_until = now + LOCKOUT
            session.add(account)
            return LoginResult.LOCKED, None
        return LoginResult.WRONG, None
    assert account.id is not None
    assert account.password_hash is not None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.locked_until = None
    session.add(account)
    attempt(True, "ok")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_digest(token), staff_id=account.id, csrf_token=csrf,
                             created_at=now, last_seen_at=now))
    return LoginResult.OK, NewSession(token, csrf, account)


def _verify_password(password_hash: str | None, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        matches = _hasher.verify(password_hash or _dummy_hash(), password)
        return matches and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class ActiveSession:
    session_id: int
    csrf_token: str
    staff: StaffAccount


def resume_session(session: Session, *, token: str, now: datetime | None = None,
                   idle: timedelta = SESSION_IDLE,
                   lifetime: timedelta = SESSION_LIFETIME) -> ActiveSession | None:
    """The session of this cookie, if it is live; using it keeps it alive (up to its lifetime)."""
    now = now or utcnow()
    if not token or len(token) > 128:
        return None
    row = session.exec(select(StaffSession).where(
        StaffSession.token_hash == _digest(token))).first()
    if row is None or row.ended_at is not None:
        return None
    account = session.get(StaffAccount, row.staff_id)
    expired = row.last_seen_at + idle <= now or row.created_at + lifetime <= now
    if account is None or account.disabled_at is not None or expired:
        row.ended_at = row.ended_at or now
        session.add(row)
        return None
    row.last_seen_at = now
    session.add(row)
    assert row.id is not None
    return ActiveSession(row.id, row.csrf_token, account)


def end_session(session: Session, *, session_id: int, now: datetime | None = None) -> None:
    row = session.get(StaffSession, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = now or utcnow()
        session.add(row)


# -- audit log ---------------------------------------------------------------------------------

class AuditAction(StrEnum):
    LOG_IN = "log_in"
    LOG_OUT = "log_out"
    LIST = "list"
    OPEN = "open"
    DOWNLOAD_PDF = "download_pdf"
    DOWNLOAD_FHIR = "download_fhir"
    DOWNLOAD_JSON = "download_json"
    ACKNOWLEDGE = "acknowledge"
    CHANGE_STATUS = "change_status"
    ADD_NOTE = "add_note"


def audit(session: Session, *, staff: StaffAccount, action: AuditAction,
          reference: str | None = None, allowed: bool = True,
          now: datetime | None = None) -> None:
    session.add(AuditEntry(at=now or utcnow(), staff_id=staff.id, staff_login=staff.login,
                           unit_id=staff.unit_id, action=action.value,
                           reference=reference[:32] if reference is not None else None,
                           allowed=allowed))


def audit_entries(session: Session, *, unit_id: str | None = None, login: str | None = None,
                  reference: str | None = None, since: datetime | None = None,
                  limit: int = 200) -> list[AuditEntry]:
    """The newest entries first."""
    query = select(AuditEntry)
    if unit_id is not None:
        query = query.where(AuditEntry.unit_id == unit_id)
    if login is not None:
        query = query.where(AuditEntry.staff_login == login.lower())
    if reference is not None:
        query = query.where(AuditEntry.reference == reference)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    return list(session.exec(query.order_by(col(AuditEntry.at).desc(),
                                            col(AuditEntry.id).desc()).limit(limit)))


# -- internal notes ----------------------------------------------------------------------------

def add_note(session: Session, *, staff: StaffAccount, delivered_request_id: int, text: str,
             now: datetime | None = None) -> InternalNote | None:
    """None when the note is empty; it is cut at NOTE_MAX_LENGTH characters."""
    text = text.strip()[:NOTE_MAX_LENGTH]
    if not text:
        return None
    note = InternalNote(delivered_request_id=delivered_request_id, unit_id=staff.unit_id,
                        staff_id=staff.id, author_name=staff.name, text=text,
                        at=now or utcnow())
    session.add(note)
    return note


def notes_for(session: Session, *, unit_id: str, delivered_request_id: int
              ) -> list[InternalNote]:
    return list(session.exec(select(InternalNote).where(
        InternalNote.unit_id == unit_id, InternalNote.delivered_request_id == delivered_request_id,
    ).order_by(col(InternalNote.at), col(InternalNote.id))))


# -- the unit's requests: status and the citizen's acknowledgement ------------------------------

class RequestStatus(StrEnum):
    """Where the unit is with a request, as staff see it in the inbox."""

    NEW = "new"
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class RequestStatusChange(SQLModel, table=True):
    """One change of a delivered request's status by staff; the newest one is the status.

    A change the citizen is to hear about (receipt confirmed, and later ones) waits here with
    `notified_at` NULL until a notifier has told them.
    """

    __tablename__ = "request_status_change"
    __table_args__ = (Index("ix_request_status_change_unnotified", "notified_at"),)

    id: int | None = Field(default=None, primary_key=True)
    delivered_request_id: int = Field(foreign_key="delivered_request.id", index=True,
                                      ondelete="CASCADE")
    unit_id: str = Field(max_length=64)
    reference: str = Field(max_length=16)
    status: str = Field(max_length=16)
    previous_status: str = Field(max_length=16)
    staff_id: int | None = Field(default=None, foreign_key="staff_account.id",
                                 ondelete="SET NULL")
    staff_name: str = Field(max_length=200)
    at: datetime = Field(sa_column=utc_column())
    notified_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


# The unit's copy, for deferring: its (encrypted) column is read only where it is shown.
_DOCUMENT = cast("QueryableAttribute[str]", DeliveredRequest.document)


def find_delivered(session: Session, *, unit_id: str, reference: str,
                   with_document: bool = True) -> DeliveredRequest | None:
    """The unit's own request with this reference; another unit's is None, like a missing one.
    Without `with_document` the unit's copy (encrypted) is neither read nor decrypted, for
    callers that do not show it (reading `document` from the row then raises)."""
    query = select(DeliveredRequest).where(
        DeliveredRequest.unit_id == unit_id, DeliveredRequest.reference == reference,
    ).order_by(col(DeliveredRequest.id).desc())
    if not with_document:
        query = query.options(defer(_DOCUMENT, raiseload=True))
    return session.exec(query).first()


def delivered_for_unit(session: Session, *, unit_id: str) -> list[DeliveredRequest]:
    """The unit's requests, the nearest deadline first (then the first received), without their
    documents: a list shows none, and reading one from these rows raises rather than decrypting
    it row by row."""
    return list(session.exec(select(DeliveredRequest).where(
        DeliveredRequest.unit_id == unit_id).order_by(col(DeliveredRequest.answer_deadline),
                                                      col(DeliveredRequest.received_at),
                                                      col(DeliveredRequest.reference))
        .options(defer(_DOCUMENT, raiseload=True))))


def status_history(session: Session, *, delivered_request_id: int) -> list[RequestStatusChange]:
    return list(session.exec(select(RequestStatusChange).where(
        RequestStatusChange.delivered_request_id == delivered_request_id,
    ).order_by(col(RequestStatusChange.at), col(RequestStatusChange.id))))


def current_statuses(session: Session, *, unit_id: str) -> dict[int, RequestStatus]:
    """The status of each of the unit's requests that staff have changed; the rest are new."""
    newest = (select(RequestStatusChange.delivered_request_id,
                     func.max(RequestStatusChange.id).label("last_id"))
              .where(RequestStatusChange.unit_id == unit_id)
              .group_by(col(RequestStatusChange.delivered_request_id)).subquery())
    rows = session.exec(select(RequestStatusChange.delivered_request_id,
                               RequestStatusChange.status)
                        .join(newest, col(RequestStatusChange.id) == newest.c.last_id))
    return {request_id: RequestStatus(status) for request_id, status in rows}


def request_status(session: Session, *, delivered_request_id: int) -> RequestStatus:
    last = session.exec(select(RequestStatusChange.status).where(
        RequestStatusChange.delivered_request_id == delivered_request_id,
    ).order_by(col(RequestStatusChange.id).desc())).first()
    return RequestStatus(last) if last else RequestStatus.NEW


def mark_opened(session: Session, *, request: DeliveredRequest, now: datetime) -> None:
    """Record the first time staff open a request (the inbox list marks the unopened)."""
    if request.opened_at is None:
        request.opened_at = now
        session.add(request)


def change_request_status(session: Session, *, staff: StaffAccount, request: DeliveredRequest,
                          status: RequestStatus, now: datetime,
                          only_if_new: bool = False) -> bool:
    """Record a new status; False if it is the status already (or, `only_if_new`, if the
    request has been given a status before). Reaching `received` (or any later status without
    it) is the acknowledgement the citizen is told about."""
    assert request.id is not None
    previous = request_status(session, delivered_request_id=request.id)
    if status == previous or status is RequestStatus.NEW \
            or (only_if_new and previous is not RequestStatus.NEW):
        return False
    session.add(RequestStatusChange(
        delivered_request_id=request.id, unit_id=request.unit_id, reference=request.reference,
        status=status.value, previous_status=previous.value, staff_id=staff.id,
        staff_name=staff.name, at=now))
    mark_opened(session, request=request, now=now)
    return True


def unnotified_status_changes(session: Session, *, limit: int = 100
                              ) -> list[RequestStatusChange]:
    """Changes the citizen has not been told about yet, oldest first (for a notifier)."""
    return list(session.exec(select(RequestStatusChange).where(
        col(RequestStatusChange.notified_at).is_(None),
    ).order_by(col(RequestStatusChange.id)).limit(limit)))
