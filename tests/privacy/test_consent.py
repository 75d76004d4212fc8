"""Consent is recorded with its time and the version of the privacy notice; withdrawing it
(/trekk_samtykke) stops everything: the draft goes, nothing more is sent, no reminders, and a
privacy event records it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.delivery import DeliveryWorker
from dialogs.events import ChoiceEvent, Command
from dialogs.inputs import PRIVACY_NOTICE_VERSION
from dialogs.steps import Step
from storage import outbox
from storage.db import unit_of_work
from storage.models import (
    DeliveredRequest,
    OutboxEntry,
    PrivacyEvent,
    StoredConversation,
    StoredDraft,
    Submission,
)
from storage.privacy import CANCELLED, RetentionPolicy, due_reminders, withdraw_consent
from storage.units import default_directory
from tests.privacy.helpers import CANARIES, Clock, Person, every_row, runner_for


def conversation(engine: Engine, chat_id: str) -> StoredConversation:
    with unit_of_work(engine) as session:
        return session.exec(select(StoredConversation).where(
            StoredConversation.chat_id == chat_id)).one()


def withdraw(person: Person) -> None:
    asked = person.command(Command.WITHDRAW_CONSENT)
    assert asked.step is Step.CONFIRM_WITHDRAW
    person.say(ChoiceEvent("yes"))
    assert person.turn.step is Step.DECLINED


def din_plan_holds_a_canary(engine: Engine) -> list[str]:
    """Canaries anywhere but in the unit's own copy of what it received."""
    return [f"{name}.{column}" for name, rows in every_row(engine).items()
            if name != "delivered_request" for row in rows for column, value in row.items()
            if isinstance(value, str) and any(c in value for c in CANARIES)]


def events(engine: Engine) -> list[tuple[str, str]]:
    with unit_of_work(engine) as session:
        return [(e.what, e.channel) for e in session.exec(select(PrivacyEvent))]


def test_consent_is_recorded_with_time_and_notice_version(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "consent-1")
    person.go_to(Step.GIVE_CONSENT)
    clock.advance(minutes=3)
    consented_at = clock()
    person.say(ChoiceEvent("consent"))
    row = conversation(engine, "consent-1")
    assert row.consented_at is not None
    assert row.consented_at == consented_at
    assert row.consent_version == PRIVACY_NOTICE_VERSION


def test_nothing_of_the_draft_is_stored_before_consent(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "before-1")
    person.go_to(Step.GIVE_CONSENT)
    person.say(ChoiceEvent("decline"))
    rows = every_row(engine)
    assert rows["draft_plan"] == []
    assert rows["answer"] == []


def test_withdrawing_mid_draft_deletes_it_and_stops_reminders(engine: Engine,
                                                               clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "withdraw-1", wants_reminder=True)
    person.go_to(Step.GIVE_PHONE)
    withdraw(person)

    row = conversation(engine, "withdraw-1")
    assert row.consented_at is None
    assert row.wants_reminder is None
    assert row.current_draft_id is None
    assert row.declined_at is not None
    assert din_plan_holds_a_canary(engine) == []
    assert every_row(engine)["draft_plan"] == []
    assert events(engine) == [("consent_withdrawn", "terminal")]
    with unit_of_work(engine) as session:
        for days in (23, 29):
            assert due_reminders(session, now=clock() + timedelta(days=days),
                                 policy=RetentionPolicy()) == []


def test_withdrawing_before_delivery_means_nothing_is_sent(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "withdraw-2")
    person.send_request()
    with unit_of_work(engine) as session:
        assert len(session.exec(select(OutboxEntry)).all()) == 1
    withdraw(person)

    sent: list[tuple[int, str]] = []
    report = DeliveryWorker(engine, default_directory(), clock=clock,
                            send_alert=lambda chat, text: sent.append((chat, text))
                            ).run_once_sync()
    assert (report.delivered, sent) == (0, [])
    rows = every_row(engine)
    assert rows["delivered_request"] == []
    assert rows["outbox"] == []
    assert rows["submission"] == []  # it never reached anyone: nothing of it is kept
    assert din_plan_holds_a_canary(engine) == []


def test_withdrawing_after_delivery_keeps_only_the_reference(engine: Engine,
                                                              clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "withdraw-3")
    person.send_request()
    DeliveryWorker(engine, default_directory(), clock=clock).run_once_sync()
    withdraw(person)

    rows = every_row(engine)
    [kept] = rows["delivered_request"]  # the unit's copy is the unit's
    [submission] = rows["submission"]
    assert kept["submission_id"] == submission["id"]
    assert rows["answer"] == []
    [draft] = rows["draft_plan"]
    assert all(draft[name] is None for name in ("person_name", "coordinator_wish",
                                                "contact_name", "phone", "reach_time"))
    assert din_plan_holds_a_canary(engine) == []
    # /status still knows the request by its reference.
    person.command(Command.STATUS)
    assert submission["reference"][:4] in person.text()


def test_a_delivery_not_yet_made_is_cancelled(engine: Engine, clock: Clock) -> None:
    """A request with one delivery made and one waiting: the waiting one never goes."""
    person = Person(runner_for(engine, clock), "withdraw-4")
    person.send_request()
    DeliveryWorker(engine, default_directory(), clock=clock).run_once_sync()
    with unit_of_work(engine) as session:
        submission = session.exec(select(Submission)).one()
        assert submission.id is not None
        waiting_id = outbox.enqueue_delivery(session, submission_id=submission.id,
                                             unit_id="bergen-forvaltning-barn-og-unge",
                                             now=clock())
        row = conversation(engine, "withdraw-4")
        assert row.id is not None
        withdraw_consent(session, conversation_id=row.id, channel="terminal", now=clock())
    with unit_of_work(engine) as session:
        entry = session.get(OutboxEntry, waiting_id)
        assert entry is not None
        assert entry.status == CANCELLED
        assert outbox.due_ids(session, now=clock() + timedelta(days=1)) == []
        assert session.exec(select(StoredDraft)).one().contact_name is None
    report = DeliveryWorker(engine, default_directory(), clock=clock).run_once_sync()
    assert report.delivered == 0
    with unit_of_work(engine) as session:
        assert len(session.exec(select(DeliveredRequest)).all()) == 1


def test_withdrawing_without_consent_is_explained(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "withdraw-5")
    person.go_to(Step.READ_INTRO)
    person.command(Command.WITHDRAW_CONSENT)
    assert person.turn.step is Step.READ_INTRO
    assert events(engine) == []
