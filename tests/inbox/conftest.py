"""Fixtures of the inbox tests: a clock to move, staff members, and requests that reach a unit's
inbox the real way (a citizen's dialog through `bot.runner.DialogRunner`, then delivery)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.delivery import DeliveryWorker
from bot.runner import DialogRunner, Turn
from dialogs.draft import Language
from dialogs.events import ChoiceEvent, Event, TextEvent
from dialogs.steps import QUESTION_STEPS, Step
from inbox.app import create_app
from storage import crypto
from storage.db import unit_of_work
from storage.models import OutboxEntry, Submission
from storage.staff import AuditEntry, StaffAccount, add_staff, complete_setup
from storage.units import default_directory
from tests import fakes

PASSWORD = "korrekt hest batteri stift"
GULEN = "gulen-koordinerande-eining"
ASANE = "bergen-vurderingskontoret-arna-asane-bergenhus-arstad"
ANSWERS = {
    Step.ASK_STRENGTHS: "Ho er sta og glad i folk.",
    Step.ASK_WHAT_MATTERS_IN_LIFE: "Å bu heime så lenge som mogleg.",
    Step.ASK_WHAT_MATTERS_EVERYDAY: "Å kome seg ut kvar dag.",
    Step.ASK_WHAT_IT_TAKES: "Hjelp til innkjøp.",
    Step.ASK_WHAT_FIRST: "Diagnosen ho fekk i fjor (vil ikkje dele dette).",
    Step.ASK_WHAT_WORKS_NOW: "Fastlegen kjenner henne godt.",
}
NOT_SHARED = Step.ASK_WHAT_FIRST


class Clock(fakes.Clock):
    """The inbox's clock in TestClient tests: it moves only when told."""


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC).replace(microsecond=0))


# -- citizens send requests ---------------------------------------------------------------------

@dataclass
class Citizen:
    """One person going through the whole dialog, answering whatever it asks.

    Bergen asks for a target group and (for the elderly) a district: the request goes to the
    assessment office of Arna, Åsane, Bergenhus and Årstad (ASANE). Gulen asks neither.
    """

    runner: DialogRunner
    chat_id: str
    language: Language = Language.NYNORSK
    municipality: str = "Gulen"
    target_group: str = "elderly"
    district: str = "asane"
    channel: str = "terminal"
    turns: list[Turn] = field(default_factory=list)
    chosen: set[str] = field(default_factory=set)
    reference: str = ""

    def say(self, event: Event) -> Turn:
        turn = self.runner.handle(self.channel, self.chat_id, event)
        self.turns.append(turn)
        return turn

    def options(self) -> list[str]:
        return [o.id for reply in self.turns[-1].replies for o in reply.options]

    def answer(self, step: Step, unshared: set[str]) -> Event:
        by_step: dict[str, Event] = {
            Step.CHOOSE_LANGUAGE: ChoiceEvent(self.language.value),
            Step.READ_INTRO: ChoiceEvent("continue"),
            Step.GIVE_CONSENT: ChoiceEvent("consent"),
            Step.CHOOSE_REMINDER: ChoiceEvent("no"),
            Step.CHOOSE_ROLE: ChoiceEvent("relative"),
            Step.GIVE_PERSON_NAME: TextEvent("Ingrid"),
            Step.CHOOSE_RELATION: ChoiceEvent("child"),
            Step.CHOOSE_BASIS: ChoiceEvent("person_agrees"),
            Step.CHOOSE_REQUEST: ChoiceEvent("plan_and_coordinator"),
            Step.CHOOSE_COORDINATOR_WISH: ChoiceEvent("yes"),
            Step.GIVE_COORDINATOR_WISH: TextEvent("Sjukepleiaren i heimetenesta"),
            Step.GIVE_CONTACT_NAME: TextEvent("Kari Nordmann"),
            Step.GIVE_PHONE: TextEvent("912 34 567"),
            Step.GIVE_REACH_TIME: ChoiceEvent("morning"),
            Step.GIVE_MUNICIPALITY: TextEvent(self.municipality),
            Step.CHOOSE_TARGET_GROUP: ChoiceEvent(self.target_group),
            Step.CHOOSE_DISTRICT: ChoiceEvent(self.district),
        }
        if step in QUESTION_STEPS:
            return TextEvent(ANSWERS[step])
        if step is Step.CHOOSE_SERVICES:
            if "gp" in self.chosen:
                return ChoiceEvent("done")
            self.chosen.add("gp")
            return ChoiceEvent("gp")
        if step is Step.REVIEW:
            return ChoiceEvent("sharing" if NOT_SHARED.value not in unshared else "send")
        if step is Step.CHOOSE_SHARING:
            if NOT_SHARED.value not in unshared:
                unshared.add(NOT_SHARED.value)
                return ChoiceEvent(NOT_SHARED.value)
            return ChoiceEvent("done")
        assert step in by_step, f"the dialog asks {step}, which these tests do not answer"
        return by_step[step]

    def send_request(self) -> str:
        """Answer everything, keep one answer unshared, send; the reference."""
        turn = self.runner.open(self.channel, self.chat_id)
        self.turns.append(turn)
        unshared: set[str] = set()
        for _ in range(120):
            if turn.step is Step.SENT:
                break
            turn = self.say(self.answer(turn.step, unshared))
        assert turn.step is Step.SENT, f"the dialog did not reach sent, stuck at {turn.step}"
        with unit_of_work(self.runner.engine) as session:
            submission = session.exec(select(Submission).order_by(
                col(Submission.id).desc())).first()
            assert submission is not None
            self.reference = submission.reference
            return submission.reference


def deliver(engine: Engine, now: datetime | None = None) -> None:
    """Run the delivery worker once, so sent requests reach their unit's inbox.

    The dialog queued each request with its submission: exactly one outbox entry each, for the
    unit the submission was routed to.
    """
    now = now or datetime.now(UTC)
    with unit_of_work(engine) as session:
        for submission in session.exec(select(Submission)):
            queued = session.exec(select(OutboxEntry).where(
                OutboxEntry.submission_id == submission.id)).all()
            assert submission.unit_id is not None, submission.reference
            assert [e.unit_id for e in queued] == [submission.unit_id], submission.reference
    DeliveryWorker(engine, default_directory(), clock=lambda: now).run_once_sync()


@pytest.fixture
def send_request(engine: Engine) -> Callable[..., str]:
    """Send a request from a new citizen and deliver it; its reference."""
    runner = DialogRunner(engine)
    count = 0

    def send(municipality: str = "Gulen", language: Language = Language.NYNORSK) -> str:
        nonlocal count
        count += 1
        reference = Citizen(runner, f"citizen-{count}", language, municipality).send_request()
        deliver(engine)
        return reference

    return send


# -- staff --------------------------------------------------------------------------------------

@dataclass
class StaffMember:
    account: StaffAccount
    login: str
    totp: pyotp.TOTP

    def code(self, at: datetime) -> str:
        return self.totp.at(at)


@pytest.fixture
def make_staff(engine: Engine, clock: Clock) -> Callable[..., StaffMember]:
    """A staff member who has finished set-up (password and TOTP)."""

    def make(unit_id: str = GULEN, name: str = "Siri Sæbø", language: str = "nn",
             login: str | None = None) -> StaffMember:
        with unit_of_work(engine) as session:
            account, _token = add_staff(session, unit_id=unit_id, name=name, login=login,
                                        language=language, now=clock())
            # Set-up takes the code of the step before, so log-in may use the current one.
            problem = complete_setup(session, account=account, password=PASSWORD,
                                     repeated=PASSWORD,
                                     code=pyotp.TOTP(account.totp_secret).at(
                                         clock() - timedelta(seconds=30)), now=clock())
            assert problem is None
        return StaffMember(account, account.login, pyotp.TOTP(account.totp_secret))

    return make


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# The fixtures' types, as the tests annotate them.
LoggedIn = Callable[[StaffMember], TestClient]
MakeStaff = Callable[..., StaffMember]
SendRequest = Callable[..., str]


Decryptions = list[tuple[str, str]]


@pytest.fixture
def decryptions(monkeypatch: pytest.MonkeyPatch) -> Decryptions:
    """Every value decrypted from here on, as (what was stored, its clear text); a test clears
    the list after its set-up."""
    seen: Decryptions = []
    decrypt = crypto.Keyring.decrypt

    def spying(ring: crypto.Keyring, value: str) -> str:
        clear = decrypt(ring, value)
        seen.append((value, clear))
        return clear

    monkeypatch.setattr(crypto.Keyring, "decrypt", spying)
    return seen


def audit_entries(engine: Engine) -> list[tuple[str, str | None, bool]]:
    """The audit log so far: (action, reference, allowed), oldest first."""
    with unit_of_work(engine) as session:
        return [(e.action, e.reference, e.allowed) for e in session.exec(
            select(AuditEntry).order_by(col(AuditEntry.id)))]


def delivered_request_columns(engine: Engine) -> set[str]:
    """The column names delivered_request has now (for the migration tests)."""
    return {column["name"] for column in inspect(engine).get_columns("delivered_request")}


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@pytest.fixture
def app_client(engine: Engine, clock: Clock) -> Iterator[Callable[[], TestClient]]:
    """New browsers (TestClients) on one inbox app, over https as in production."""
    app = create_app(engine, clock=clock)
    clients: list[TestClient] = []

    def new_client() -> TestClient:
        client = TestClient(app, base_url="https://testserver", follow_redirects=False)
        clients.append(client)
        return client

    yield new_client
    for client in clients:
        client.close()


def log_in(client: TestClient, staff: StaffMember, clock: Clock, *,
           password: str = PASSWORD, code: str | None = None) -> tuple[int, str]:
    """Post the log-in form as a browser does; the status code and the page or redirect."""
    page = client.get("/login")
    response = client.post("/login", data={
        "csrf_token": csrf_of(page.text), "login": staff.login, "password": password,
        "code": code if code is not None else staff.code(clock()),
    })
    return response.status_code, response.headers.get("location") or response.text


@pytest.fixture
def logged_in(app_client: Callable[[], TestClient], clock: Clock
              ) -> Callable[[StaffMember], TestClient]:
    def log_in_new(staff: StaffMember) -> TestClient:
        client = app_client()
        status, where = log_in(client, staff, clock)
        assert (status, where) == (303, "/requests")
        # The next log-in (of anyone) needs a new TOTP time step.
        clock.advance(seconds=30)
        return client

    return log_in_new


class OnItsPage(NamedTuple):
    """A request sent, and a staff member of its unit logged in with its page open."""

    reference: str
    browser: TestClient
    token: str  # the page's CSRF token, for the actions' forms


@pytest.fixture
def on_its_page(make_staff: MakeStaff, logged_in: LoggedIn,
                send_request: SendRequest) -> OnItsPage:
    reference = send_request()
    browser = logged_in(make_staff())
    return OnItsPage(reference, browser, csrf_of(browser.get(f"/requests/{reference}").text))
