"""/slett, after confirmation, deletes every row about the person in every table; the unit keeps
what it received (and the person is told to ask the unit); an audit entry without content
records that it happened."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

from bot.delivery import DeliveryWorker
from dialogs.events import ChoiceEvent, Command
from dialogs.render import message
from dialogs.steps import Step
from storage.conversations import erase_conversation
from storage.db import unit_of_work
from storage.models import DeliveredRequest, PrivacyEvent, Submission
from storage.privacy import erase_person
from storage.staff import (
    AuditAction,
    RequestStatus,
    add_note,
    add_staff,
    audit,
    change_request_status,
)
from storage.units import default_directory
from tests.privacy.helpers import CANARIES, Clock, Person, every_row, import_every_table, runner_for

GULEN = "gulen-koordinerande-eining"
# The unit's own records of what it received: its copy of the request (with the answers the
# person shared), its notes, status changes and audit log. They stay when the person erases
# their data in Din plan (they are told to ask the unit), so they may hold the reference.
UNIT_RECORDS = {"delivered_request", "request_status_change", "audit_entry", "internal_note"}
PERSON_TABLES = {"conversation": "id", "draft_plan": "id", "submission": "id"}


def person_ids(engine: Engine, channel: str, chat_id: str) -> dict[str, set[int]]:
    rows = every_row(engine)
    [conversation] = [r for r in rows["conversation"]
                      if (r["channel"], r["chat_id"]) == (channel, chat_id)]
    drafts = {r["id"] for r in rows["draft_plan"] if r["conversation_id"] == conversation["id"]}
    submissions = {r["id"] for r in rows["submission"]
                   if r["conversation_id"] == conversation["id"]}
    return {"conversation": {conversation["id"]}, "draft_plan": drafts, "submission": submissions}


def references_of(engine: Engine, ids: dict[str, set[int]]) -> set[str]:
    return {r["reference"] for r in every_row(engine)["submission"]
            if r["id"] in ids["submission"]}


def what_refers_to(engine: Engine, *, chat_id: str, ids: dict[str, set[int]],
                   references: set[str]) -> list[str]:
    """Every value in every table that still points at the person: their chat id, what they
    wrote, a foreign key to one of their rows, or (outside the unit's records) their reference.
    """
    import_every_table()
    found: list[str] = []
    rows = every_row(engine)
    for model_table in SQLModel.metadata.sorted_tables:
        keys = {fk.parent.name: fk.column.table.name for fk in model_table.foreign_keys}
        for row in rows[model_table.name]:
            for name, value in row.items():
                where = f"{model_table.name}.{name}={value!r:.60}"
                if name == "id" and value in ids.get(model_table.name, set()):
                    found.append(where)
                if name in keys and value in ids.get(keys[name], set()):
                    found.append(where)
                if not isinstance(value, str):
                    continue
                if chat_id in value:
                    found.append(where)
                if (model_table.name, name) != ("delivered_request", "document") and any(
                        canary in value for canary in CANARIES):
                    found.append(where)
                if model_table.name not in UNIT_RECORDS and value in references:
                    found.append(where)
    return found


def deliver_and_acknowledge(engine: Engine, clock: Clock) -> None:
    """The unit receives the request, staff open it, confirm receipt and write a note."""
    DeliveryWorker(engine, default_directory(), clock=clock).run_once_sync()
    with unit_of_work(engine) as session:
        staff, _token = add_staff(session, unit_id=GULEN, name="Siri Sæbø", now=clock())
        request = session.exec(select(DeliveredRequest)).one()
        assert change_request_status(session, staff=staff, request=request,
                                     status=RequestStatus.RECEIVED, now=clock())
        audit(session, staff=staff, action=AuditAction.OPEN, reference=request.reference,
              now=clock())
        assert request.id is not None
        add_note(session, staff=staff, delivered_request_id=request.id,
                 text="Ring tilbake måndag.", now=clock())


def erase(person: Person) -> Any:
    asked = person.command(Command.ERASE)
    assert asked.step is Step.CONFIRM_ERASE
    return person.say(ChoiceEvent("yes"))


def test_erasure_leaves_no_row_about_the_person(engine: Engine, clock: Clock) -> None:
    runner = runner_for(engine, clock)
    person = Person(runner, "erase-me-4711")
    person.send_request()
    deliver_and_acknowledge(engine, clock)
    # A second request waiting for delivery (a queued outbox entry and staff alert) ...
    clock.advance(minutes=5)
    person.command(Command.START)
    person.chosen.clear()
    person.send_request()
    # ... and a third draft in progress.
    clock.advance(minutes=5)
    person.command(Command.START)
    person.chosen.clear()
    person.go_to(Step.ASK_WHAT_IT_TAKES)
    bystander = Person(runner, "someone-else-99", canaries=False)
    bystander.go_to(Step.REVIEW)

    ids = person_ids(engine, "terminal", "erase-me-4711")
    assert len(ids["draft_plan"]) == 3
    assert len(ids["submission"]) == 2
    references = references_of(engine, ids)
    assert what_refers_to(engine, chat_id="erase-me-4711", ids=ids, references=references)

    clock.advance(minutes=1)
    turn = erase(person)

    assert what_refers_to(engine, chat_id="erase-me-4711", ids=ids, references=references) == []
    # The person is told plainly what is gone and what to ask the unit for.
    said = "\n".join(r.text for r in turn.replies)
    assert message(person.language, "erased") in said
    # The unit keeps what it received, no longer linked to anyone in Din plan.
    rows = every_row(engine)
    [kept] = rows["delivered_request"]
    assert kept["submission_id"] is None
    assert kept["reference"] in references
    assert rows["outbox"] == []  # the second request will never be delivered or alerted
    # Someone else's draft is untouched.
    assert [r["chat_id"] for r in rows["conversation"]] == ["someone-else-99"]
    # The erasure is on record: what, when, on which channel; nothing about whom.
    with unit_of_work(engine) as session:
        events = session.exec(select(PrivacyEvent)).all()
    assert [(e.what, e.channel) for e in events] == [("erased", "terminal")]
    assert set(PrivacyEvent.model_fields) == {"id", "at", "what", "channel"}


def test_the_person_can_start_again_after_erasure(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "again-1")
    person.go_to(Step.ASK_STRENGTHS)
    erase(person)
    person.turns.clear()
    person.chosen.clear()
    assert person.go_to(Step.REVIEW).step is Step.REVIEW


def test_answering_no_keeps_everything(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "keep-1")
    person.go_to(Step.ASK_WHAT_FIRST)
    person.command(Command.ERASE)
    person.say(ChoiceEvent("no"))
    assert person.turn.step is Step.ASK_WHAT_FIRST
    assert what_refers_to(engine, chat_id="keep-1", ids={}, references=set())


def test_erasing_an_unknown_chat_does_nothing(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        assert not erase_person(session, channel="telegram", chat_id="404")
        assert not erase_conversation(session, channel="telegram", chat_id="404")
        assert session.exec(select(PrivacyEvent)).all() == []


def test_erasure_before_delivery_sends_nothing(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "early-1")
    person.send_request()
    erase(person)
    sent: list[tuple[int, str]] = []
    report = DeliveryWorker(engine, default_directory(), clock=clock,
                            send_alert=lambda chat, text: sent.append((chat, text))
                            ).run_once_sync()
    assert (report.delivered, sent) == (0, [])
    with unit_of_work(engine) as session:
        assert session.exec(select(Submission)).all() == []


async def test_erasure_in_telegram(engine: Engine, clock: Clock) -> None:
    """At handler level: /slett, the confirmation button, and nothing left that refers to the
    chat. Handled update ids stay (a second delivery of an old update must still be ignored),
    but they hold no chat id: nothing in them refers to the person."""
    from dialogs.draft import Language
    from storage.updates import ProcessedUpdate
    from tests.privacy.telegram import offline_bot, walk
    from tests.telegram.offline import Person as Phone
    from tests.telegram.offline import texts

    async with offline_bot(engine, clock) as (app, request):
        phone = Phone(app, request, chat_id=660066, language_code="nb")
        answers = Person(runner_for(engine, clock), "unused", language=Language.BOKMAL)
        await walk(phone, engine, answers, Step.SENT)
        ids = person_ids(engine, "telegram", "660066")
        references = references_of(engine, ids)
        await phone.write("/slett")
        calls = await phone.press(message(Language.BOKMAL, "option.yes_erase"))
    assert message(Language.BOKMAL, "erased") in texts(calls)
    assert set(ProcessedUpdate.model_fields) == {"bot_id", "update_id", "processed_at"}
    assert every_row(engine)["processed_update"]  # kept, and about no one
    found = what_refers_to(engine, chat_id="660066", ids=ids, references=references)
    assert found == []
    assert not any(660066 in row.values() for rows in every_row(engine).values() for row in rows)
