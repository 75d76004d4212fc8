"""Requests sent and delivered as the bot does it, staff who act on them, a fake Telegram."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.delivery import DeliveryWorker
from bot.notifier import Notifier
from bot.runner import DialogRunner
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
from dialogs.events import Effect, TextEvent
from dialogs.reference import new_reference
from dialogs.render import render
from dialogs.review import status_reply
from dialogs.steps import QUESTION_STEPS, Step
from inbox import requests as inbox_requests
from storage.db import unit_of_work
from storage.models import Submission
from storage.staff import RequestStatus, StaffAccount, add_staff, find_delivered
from storage.units import UnitsDirectory, default_directory
from tests import fakes
from tests.stored import store_turn

CANARY = "KANARIFUGL9N"
SECRETS = (CANARY, "912 34 567", "Áile", "Đuŋŋá")
GULEN = "gulen-koordinerande-eining"
GULEN_NUMBER = "4635"
SENT_AT = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
# 23:30 UTC on 4 February is 00:30 on 5 February in Norway: the notice says 5 February.
ACK_AT = datetime(2026, 2, 4, 23, 30, tzinfo=UTC)
ACK_DAY = {"nb": "5. februar 2026", "nn": "5. februar 2026"}
UNIT_NAME = {"nb": "Gulen kommune, koordinerende enhet",
             "nn": "Gulen kommune, koordinerande eining"}

_chat_ids = itertools.count(7001)


def draft(canary: str = CANARY) -> DraftPlan:
    """A relative's draft for Gulen: every answer, name and note carries the canary."""
    plan = DraftPlan(
        role=Role.RELATIVE, person_name=f"Áile {canary}", relation=Relation.PARENT,
        basis=Basis.PARENT_OF_CHILD_UNDER_16, request=RequestKind.PLAN_AND_COORDINATOR,
        services=[Service.GP], services_answered=True, wishes_coordinator=True,
        coordinator_wish=f"Fastlegen {canary}", contact_name=f"Đuŋŋá {canary}",
        phone="+47 912 34 567", reach_time=f"etter kl. 15 {canary}",
        municipality_number=GULEN_NUMBER)
    for number, step in enumerate(QUESTION_STEPS, start=1):
        plan.answers[step] = Answer(f"svar{number} {canary}", shared=number != 2)
    return plan


@dataclass(frozen=True)
class Citizen:
    channel: str
    chat_id: str
    language: Language
    reference: str

    @property
    def lang(self) -> str:
        return self.language.value


def send_request(engine: Engine, *, channel: str = "telegram",
                 language: Language = Language.BOKMAL, chat_id: str | None = None) -> Citizen:
    """Confirm a draft as the dialog does (the submission and its outbox entry in one
    transaction), then run the delivery worker so it is in Gulen's inbox."""
    chat_id = chat_id or str(next(_chat_ids))
    reference = new_reference()
    conv = Conversation(step=Step.SENT, language=language, consented_at=SENT_AT,
                        consent_version="1", draft=draft(),
                        submission=SubmissionInfo(reference, SENT_AT))
    with unit_of_work(engine) as session:
        store_turn(session, channel=channel, chat_id=chat_id, conv=conv,
                   effects=[Effect.SUBMIT], now=SENT_AT)
    worker = DeliveryWorker(engine, default_directory(),
                            clock=lambda: SENT_AT + timedelta(minutes=1))
    # In a thread of its own: the async tests already run an event loop.
    with ThreadPoolExecutor(1) as thread:
        assert thread.submit(worker.run_once_sync).result().delivered == 1
    return Citizen(channel, chat_id, language, reference)


def staff_member(engine: Engine, unit_id: str = GULEN) -> StaffAccount:
    with unit_of_work(engine) as session:
        account, _token = add_staff(session, unit_id=unit_id, name="Siri Sæbø", language="nn",
                                    now=SENT_AT)
    return account


def acknowledge(engine: Engine, staff: StaffAccount, reference: str,
                at: datetime = ACK_AT) -> None:
    """What the inbox's «Stadfest mottak» button does."""
    _set_status(engine, staff, reference, RequestStatus.RECEIVED, at, only_if_new=True)


def change_status(engine: Engine, staff: StaffAccount, reference: str, status: str,
                  at: datetime) -> None:
    """What the inbox's status form does."""
    _set_status(engine, staff, reference, RequestStatus(status), at, only_if_new=False)


def _set_status(engine: Engine, staff: StaffAccount, reference: str, status: RequestStatus,
                at: datetime, *, only_if_new: bool) -> None:
    """As the inbox's staff actions do: the request found without its document."""
    with unit_of_work(engine) as session:
        found = find_delivered(session, unit_id=staff.unit_id, reference=reference,
                               with_document=False)
        assert found is not None
        assert inbox_requests.set_status(session, staff=staff, request=found, status=status,
                                         now=at, only_if_new=only_if_new)


def submission(engine: Engine, reference: str) -> Submission:
    with unit_of_work(engine) as session:
        return session.exec(select(Submission).where(Submission.reference == reference)).one()


def status_command(engine: Engine, citizen: Citizen) -> str:
    """What the citizen reads first after writing /status, through the dialog runner (then the
    step's own prompt follows)."""
    turn = DialogRunner(engine).handle(citizen.channel, citizen.chat_id, TextEvent("/status"))
    return turn.replies[0].text


def expected_status(citizen: Citizen, status: str, changed_at: datetime | None) -> str:
    info = SubmissionInfo(citizen.reference, SENT_AT, status, status_changed_at=changed_at)
    return render(citizen.language, status_reply(info)).text


@dataclass
class Clock(fakes.Clock):
    now: datetime = ACK_AT + timedelta(seconds=30)


class FakeTelegram(fakes.FakeTelegram):
    def to(self, citizen: Citizen) -> list[str]:
        return self.to_chat(citizen.chat_id)


def notifier(engine: Engine, telegram: FakeTelegram | None, clock: Clock,
             directory: UnitsDirectory | None = None) -> Notifier:
    return Notifier(engine, directory or default_directory(), send=telegram, clock=clock)
