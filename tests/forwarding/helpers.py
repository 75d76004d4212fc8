"""Submitted drafts, a clock and a fake Telegram for the forwarding tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

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
from dialogs.events import Effect
from dialogs.reference import new_reference
from dialogs.steps import QUESTION_STEPS, Step
from storage.db import unit_of_work
from storage.models import OutboxEntry, Submission
from storage.units import SHIPPED_FILE
from tests import fakes
from tests.stored import store_turn

CANARY = "KANARIFUGL7Q"
SENT_AT = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
# The answer the person chose not to share.
UNSHARED = Step.ASK_WHAT_MATTERS_IN_LIFE

# Staff chats of the test directory: the shipped units, each with an alert chat.
CHAT_IDS = {"bergen-vurderingskontoret-arna-asane-bergenhus-arstad": -1001000000001,
            "bergen-vurderingskontoret-fyllingsdalen-laksevag": -1001000000002,
            "bergen-vurderingskontoret-fana-ytrebygda": -1001000000003,
            "bergen-forvaltning-utviklingshemmede": -1001000000004,
            "bergen-forvaltning-barn-og-unge": -1001000000005,
            "bergen-forvaltningsenheten-psykisk-helse": -1001000000006,
            "gulen-koordinerande-eining": -1001000000007}


def units_file_with_chats(folder: Path, chats: dict[str, int] | None = None) -> Path:
    """The shipped directory with a staff chat for each unit in `chats`."""
    chats = CHAT_IDS if chats is None else chats
    text = SHIPPED_FILE.read_text(encoding="utf-8")
    for unit_id, chat_id in chats.items():
        text, count = re.subn(rf'(id = "{unit_id}"\n(?:.*\n)*?inbox = "web"\n)',
                              rf"\1telegram_chat_id = {chat_id}\n", text)
        assert count == 1, unit_id
    path = folder / "units.toml"
    path.write_text(text, encoding="utf-8")
    return path


def draft(canary: str = CANARY, *, municipality: str = "4601") -> DraftPlan:
    """A relative's draft: every answer, name and number carries the canary."""
    plan = DraftPlan(
        role=Role.RELATIVE, person_name=f"Áile {canary}", relation=Relation.PARENT,
        basis=Basis.PARENT_OF_CHILD_UNDER_16, request=RequestKind.PLAN_AND_COORDINATOR,
        services=[Service.GP, Service.SCHOOL], services_answered=True, wishes_coordinator=True,
        coordinator_wish=f"Fastlegen {canary}", contact_name=f"Đuŋŋá {canary}",
        phone="+47 912 34 567", reach_time=f"etter kl. 15 {canary}",
        municipality_number=municipality)
    for number, step in enumerate(QUESTION_STEPS, start=1):
        plan.answers[step] = Answer(f"svar{number} {canary} á č đ ŋ š ŧ ž",
                                    shared=step is not UNSHARED)
    return plan


def submit(engine: Engine, *, unit_id: str | None, target_group: str | None = None,
           district: str | None = None, plan: DraftPlan | None = None,
           language: Language = Language.BOKMAL, chat_id: str | None = None,
           submitted_at: datetime = SENT_AT) -> str:
    """Confirm a draft with these routing answers as the dialog does: storing it queues it for
    its unit in the same transaction. `unit_id` is the unit it must be queued for (None: not in
    the directory, saved and not queued). The reference."""
    reference = new_reference()
    plan = plan or draft()
    plan.target_group, plan.district = target_group, district
    conv = Conversation(step=Step.SENT, language=language, consented_at=submitted_at,
                        consent_version="1", draft=plan,
                        submission=SubmissionInfo(reference, submitted_at))
    with unit_of_work(engine) as session:
        chat = chat_id or reference
        store_turn(session, channel="test", chat_id=chat, conv=conv,
                   effects=[Effect.SUBMIT], now=submitted_at)
        submission = session.exec(select(Submission).where(
            Submission.reference == reference)).one()
        queued = session.exec(select(OutboxEntry).where(
            OutboxEntry.submission_id == submission.id)).all()
        # Exactly one outbox entry per sent submission, for the unit its answers route to.
        assert [(e.unit_id, e.target_group, e.district) for e in queued] == (
            [(unit_id, target_group, district)] if unit_id else [])
        assert (submission.unit_id, submission.status) == (
            (unit_id, "sent") if unit_id else (None, "saved"))
    return reference


@dataclass
class Clock(fakes.Clock):
    now: datetime = SENT_AT + timedelta(seconds=1)


FakeTelegram = fakes.FakeTelegram
