"""Requests sent and queued for delivery, as the dialog leaves them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from dialogs.draft import Conversation, Language, SubmissionInfo
from dialogs.events import Effect
from dialogs.reference import new_reference
from dialogs.steps import Step
from storage import outbox
from storage.db import unit_of_work
from storage.models import OutboxEntry, Submission
from tests.forwarding.helpers import draft
from tests.stored import store_turn

GULEN = "gulen-koordinerande-eining"


def queue_request(engine: Engine, *, submitted_at: datetime) -> str:
    """A request sent by the dialog and queued for Gulen's unit; its reference."""
    reference = new_reference()
    conv = Conversation(step=Step.SENT, language=Language.NYNORSK, consented_at=submitted_at,
                        consent_version="1", draft=draft(municipality="4635"),
                        submission=SubmissionInfo(reference, submitted_at))
    with unit_of_work(engine) as session:
        store_turn(session, channel="test", chat_id=reference, conv=conv,
                   effects=[Effect.SUBMIT], now=submitted_at)
        submission = session.exec(select(Submission).where(
            Submission.reference == reference)).one()
        assert submission.id is not None
        queued = session.exec(select(OutboxEntry.id).where(
            OutboxEntry.submission_id == submission.id)).first()
        if queued is None:  # where sending does not queue it by itself
            outbox.enqueue_delivery(session, submission_id=submission.id, unit_id=GULEN,
                                    now=submitted_at)
    return reference
