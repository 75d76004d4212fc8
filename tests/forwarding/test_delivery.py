"""Delivery to the units: each request in the unit's inbox exactly once, alerts retried with
backoff through Telegram's faults, nothing lost when a worker dies, nothing of the answers in an
alert or a log line. Runs on every engine of the `engine` fixture."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from telegram.error import NetworkError, RetryAfter, TimedOut

import bot.delivery
from bot.cli import main
from bot.delivery import DeliveryWorker
from dialogs.draft import Conversation, Language, SubmissionInfo
from dialogs.events import Effect
from dialogs.review import format_reference
from dialogs.steps import Step
from storage import outbox
from storage.conversations import erase_conversation, load_conversation
from storage.db import unit_of_work
from storage.models import DeliveredRequest, OutboxEntry, Submission
from storage.settings import get_settings
from storage.units import SHIPPED_FILE, UnitsDirectory, default_directory, load_directory
from tests.conftest import ROOT
from tests.forwarding.helpers import (
    CANARY,
    CHAT_IDS,
    SENT_AT,
    UNSHARED,
    Clock,
    FakeTelegram,
    draft,
    submit,
)
from tests.stored import store_turn

FANA = "bergen-vurderingskontoret-fana-ytrebygda"
GULEN = "gulen-koordinerande-eining"
MINDS = "bergen-forvaltning-utviklingshemmede"

# PTB's own RetryAfter constructor trips its deprecation of the int form.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class Killed(BaseException):
    """The process stopping where it stands (not an error the worker could handle)."""


def inbox(engine: Engine) -> list[DeliveredRequest]:
    with unit_of_work(engine) as session:
        return list(session.exec(select(DeliveredRequest).order_by(col(DeliveredRequest.id))))


def outbox_entries(engine: Engine) -> list[OutboxEntry]:
    with unit_of_work(engine) as session:
        return list(session.exec(select(OutboxEntry).order_by(col(OutboxEntry.id))))


def worker(engine: Engine, directory: UnitsDirectory, telegram: FakeTelegram | None,
           clock: Clock, **options: Any) -> DeliveryWorker:
    return DeliveryWorker(engine, directory, send_alert=telegram, clock=clock, **options)


def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


async def test_a_request_reaches_its_unit_once(engine: Engine, directory: UnitsDirectory,
                                               telegram: FakeTelegram, clock: Clock) -> None:
    reference = submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    report = await worker(engine, directory, telegram, clock).run_once()
    assert (report.delivered, report.alerted, report.failed) == (1, 1, 0)

    [row] = inbox(engine)
    assert (row.unit_id, row.reference, row.target_group, row.district) == (
        FANA, reference, "elderly", "fana")
    assert row.answer_deadline == date(2026, 2, 28)
    document = json.loads(row.document)
    assert document["copy"] == "unit"
    assert [a["question"] for a in document["answers"]] == [
        step for step in ("ask_strengths", "ask_what_matters_in_life",
                          "ask_what_matters_everyday", "ask_what_it_takes", "ask_what_first",
                          "ask_what_works_now") if step != UNSHARED.value]

    [(chat_id, alert)] = telegram.sent
    assert chat_id == CHAT_IDS[FANA]
    assert alert == (f"Ny forespørsel {format_reference(reference)} til Vurderingskontoret "
                     "Fana–Ytrebygda. Målgruppe: Eldre. Mottatt 31. januar 2026, svarfrist "
                     "28. februar 2026. Åpne den i Din plan.")
    [entry] = outbox_entries(engine)
    assert entry.status == outbox.DONE
    assert entry.alerted_at is not None

    again = await worker(engine, directory, telegram, clock).run_once()
    assert (again.delivered, again.alerted, again.failed) == (0, 0, 0)
    assert len(inbox(engine)) == 1
    assert len(telegram.sent) == 1


async def test_the_alert_is_in_the_units_language(engine: Engine, directory: UnitsDirectory,
                                                  telegram: FakeTelegram, clock: Clock) -> None:
    reference = submit(engine, unit_id=GULEN, plan=draft(municipality="4635"))
    await worker(engine, directory, telegram, clock).run_once()
    [(_, alert)] = telegram.sent
    assert alert == (f"Ny førespurnad {format_reference(reference)} til Gulen kommune, "
                     "koordinerande eining. Motteken 31. januar 2026, svarfrist 28. februar "
                     "2026. Opne han i Din plan.")


async def test_the_units_copy_is_encrypted_at_rest(engine: Engine, directory: UnitsDirectory,
                                                   telegram: FakeTelegram, clock: Clock) -> None:
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    await worker(engine, directory, telegram, clock).run_once()
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT document FROM delivered_request")).scalar_one()
    assert stored.startswith("enc1:")
    assert CANARY not in stored


class InboxRow(TypedDict):
    """The fields of a DeliveredRequest that have no default."""

    outbox_id: int
    unit_id: str
    reference: str
    municipality_number: str
    language: str
    submitted_at: datetime
    received_at: datetime
    answer_deadline: date
    document: str


def test_the_inbox_takes_an_outbox_entry_only_once(engine: Engine) -> None:
    """The database itself refuses a second inbox row for one outbox entry."""
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    [entry] = outbox_entries(engine)
    assert entry.id is not None
    row: InboxRow = {"outbox_id": entry.id, "unit_id": FANA, "reference": "X",
                     "municipality_number": "4601", "language": "nb", "submitted_at": SENT_AT,
                     "received_at": SENT_AT, "answer_deadline": date(2026, 2, 28),
                     "document": "{}"}
    with unit_of_work(engine) as session:
        session.add(DeliveredRequest(**row))
    with pytest.raises(IntegrityError), unit_of_work(engine) as session:
        session.add(DeliveredRequest(**row))
    assert len(inbox(engine)) == 1


def test_the_submission_and_its_outbox_entry_are_one_transaction(engine: Engine) -> None:
    """A turn that fails after confirming leaves neither: nothing half-sent."""
    plan = draft()
    plan.target_group, plan.district = "elderly", "fana"
    conv = Conversation(step=Step.SENT, language=Language.BOKMAL, consented_at=SENT_AT,
                        draft=plan, submission=SubmissionInfo("ZZZZ2222", SENT_AT))

    def confirm_then_fail() -> None:
        with unit_of_work(engine) as session:
            store_turn(session, channel="test", chat_id="1", conv=conv,
                       effects=[Effect.SUBMIT], now=SENT_AT)
            submission = session.exec(select(Submission)).one()
            # Storing the confirmed step queued it, in this same transaction.
            [entry] = session.exec(select(OutboxEntry)).all()
            assert (entry.submission_id, entry.unit_id) == (submission.id, FANA)
            raise RuntimeError("the turn failed before its commit")

    with pytest.raises(RuntimeError):
        confirm_then_fail()
    assert outbox_entries(engine) == []
    with unit_of_work(engine) as session:
        assert session.exec(select(Submission)).first() is None


async def test_without_a_staff_chat_there_is_no_alert(engine: Engine, telegram: FakeTelegram,
                                                      clock: Clock) -> None:
    shipped = load_directory(SHIPPED_FILE)  # no staff chats
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    report = await worker(engine, shipped, telegram, clock).run_once()
    assert (report.delivered, report.alerted) == (1, 0)
    assert telegram.calls == 0
    [entry] = outbox_entries(engine)
    assert entry.status == outbox.DONE
    assert entry.alerted_at is None


async def test_without_a_sender_the_alert_waits_for_the_bot(
        engine: Engine, directory: UnitsDirectory, telegram: FakeTelegram, clock: Clock) -> None:
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    report = await worker(engine, directory, None, clock).run_once()
    assert (report.delivered, report.alerted, report.failed) == (1, 0, 0)
    [entry] = outbox_entries(engine)
    assert entry.status == outbox.PENDING
    assert entry.delivered_at is not None
    assert entry.claimed_until is None
    assert entry.attempts == 0

    report = await worker(engine, directory, telegram, clock).run_once()
    assert (report.delivered, report.alerted) == (0, 1)
    assert len(inbox(engine)) == 1
    assert len(telegram.sent) == 1


async def test_telegram_faults_are_retried_with_backoff(
        engine: Engine, directory: UnitsDirectory, telegram: FakeTelegram, clock: Clock) -> None:
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    telegram.faults = [RetryAfter(timedelta(seconds=120)), NetworkError("connection reset"),
                       TimedOut()]
    delivery = worker(engine, directory, telegram, clock)

    report = await delivery.run_once()
    assert (report.delivered, report.alerted, report.failed) == (1, 0, 1)
    [entry] = outbox_entries(engine)
    assert (entry.attempts, entry.last_error) == (1, "RetryAfter")
    assert entry.next_attempt_at >= clock.now + timedelta(seconds=120)

    await delivery.run_once()  # not due yet: Telegram is not asked again
    assert telegram.calls == 1

    for waited, error, attempts in ((timedelta(seconds=121), "NetworkError", 2),
                                    (timedelta(seconds=61), "TimedOut", 3)):
        clock.advance(waited)
        report = await delivery.run_once()
        [entry] = outbox_entries(engine)
        assert (report.failed, entry.attempts, entry.last_error) == (1, attempts, error)
        assert entry.next_attempt_at == clock.now + outbox.backoff(attempts)

    clock.advance(outbox.backoff(3))
    report = await delivery.run_once()
    assert (report.alerted, report.failed) == (1, 0)
    [entry] = outbox_entries(engine)
    assert entry.status == outbox.DONE
    assert entry.last_error is None
    assert len(inbox(engine)) == 1
    assert len(telegram.sent) == 1
    assert telegram.calls == 4


def test_backoff_grows_and_is_capped() -> None:
    waits = [outbox.backoff(n) for n in range(1, 12)]
    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert waits == sorted(waits)
    assert waits[-1] == outbox.LONGEST_RETRY


async def test_flood_control_holds_back_the_other_alerts(
        engine: Engine, directory: UnitsDirectory, telegram: FakeTelegram, clock: Clock) -> None:
    for _ in range(3):
        submit(engine, unit_id=MINDS, target_group="intellectual_disability")
    telegram.faults = [RetryAfter(timedelta(seconds=60))]
    report = await worker(engine, directory, telegram, clock).run_once()
    assert (report.delivered, report.alerted, report.failed) == (3, 0, 1)
    assert telegram.calls == 1
    first, *others = outbox_entries(engine)
    assert first.attempts == 1
    for entry in others:
        assert entry.attempts == 0
        assert entry.claimed_until is None
        assert entry.next_attempt_at >= clock.now + timedelta(seconds=60)
    clock.advance(timedelta(seconds=61))
    report = await worker(engine, directory, telegram, clock).run_once()
    assert report.alerted == 3
    assert len(inbox(engine)) == 3


async def test_a_worker_stopped_before_its_commit_leaves_no_trace(
        engine: Engine, directory: UnitsDirectory, telegram: FakeTelegram, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    real = outbox.record_inbox_delivery

    def stopped(*args: Any, **kwargs: Any) -> bool:
        real(*args, **kwargs)  # the inbox row is written, not committed
        raise Killed

    monkeypatch.setattr(outbox, "record_inbox_delivery", stopped)
    with pytest.raises(Killed):
        await worker(engine, directory, telegram, clock).run_once()
    assert inbox(engine) == []
    [entry] = outbox_entries(engine)
    assert (entry.status, entry.attempts, entry.delivered_at, entry.claimed_until) == (
        outbox.PENDING, 0, None, None)

    monkeypatch.setattr(outbox, "record_inbox_delivery", real)
    report = await worker(engine, directory, telegram, clock).run_once()
    assert (report.delivered, report.alerted) == (1, 1)
    assert len(inbox(engine)) == 1
    assert len(telegram.sent) == 1


CHILD = textwrap.dedent("""
    import asyncio, os, sys
    from datetime import datetime
    from pathlib import Path

    from bot.delivery import DeliveryWorker
    from storage import outbox
    from storage.db import make_engine
    from storage.units import load_directory

    url, units_file, now, die_in, alerts_file = sys.argv[1:]
    real = getattr(outbox, die_in)

    def die(*args, **kwargs):
        real(*args, **kwargs)  # written, not committed
        os._exit(9)

    setattr(outbox, die_in, die)

    async def send(chat_id, text):
        with open(alerts_file, "a", encoding="utf-8") as handle:
            handle.write(text + "\\n")

    worker = DeliveryWorker(make_engine(url), load_directory(Path(units_file)),
                            send_alert=send, clock=lambda: datetime.fromisoformat(now))
    asyncio.run(worker.run_once())
""")


def run_child(engine: Engine, units_file: Path, clock: Clock, die_in: str,
              alerts_file: Path) -> int:
    """A worker in its own process, killed (os._exit) right after `die_in` writes."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, database_url(engine), str(units_file),
         clock.now.isoformat(), die_in, str(alerts_file)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False)
    return done.returncode


async def run_until_delivered(delivery: DeliveryWorker, engine: Engine, clock: Clock) -> None:
    """The server may take a moment to see a killed client and release its locks."""
    for _ in range(50):
        await delivery.run_once()
        if inbox(engine):
            return
        await asyncio.sleep(0.1)
        clock.advance(timedelta(minutes=1))


async def test_a_worker_process_killed_mid_transaction_loses_nothing(
        engine: Engine, units_file: Path, directory: UnitsDirectory, telegram: FakeTelegram,
        clock: Clock, tmp_path: Path) -> None:
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    alerts = tmp_path / "alerts.txt"
    assert run_child(engine, units_file, clock, "record_inbox_delivery", alerts) == 9
    assert inbox(engine) == []
    assert not alerts.exists()
    [entry] = outbox_entries(engine)
    assert entry.status == outbox.PENDING
    assert entry.delivered_at is None

    await run_until_delivered(worker(engine, directory, telegram, clock), engine, clock)
    assert len(inbox(engine)) == 1
    assert len(telegram.sent) == 1
    assert outbox_entries(engine)[0].status == outbox.DONE


async def test_a_worker_process_killed_after_alerting_alerts_again_but_delivers_once(
        engine: Engine, units_file: Path, directory: UnitsDirectory, telegram: FakeTelegram,
        clock: Clock, tmp_path: Path) -> None:
    """The alert is at least once (a second one after a crash); the inbox row exactly once."""
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    alerts = tmp_path / "alerts.txt"
    assert run_child(engine, units_file, clock, "record_alert_sent", alerts) == 9
    assert len(alerts.read_text(encoding="utf-8").splitlines()) == 1
    assert len(inbox(engine)) == 1  # committed before the alert was sent

    delivery = worker(engine, directory, telegram, clock)
    await delivery.run_once()
    assert telegram.calls == 0  # the dead worker's claim still holds
    clock.advance(bot.delivery.ALERT_CLAIM + timedelta(seconds=1))
    await delivery.run_once()
    assert len(telegram.sent) == 1
    assert len(inbox(engine)) == 1
    assert outbox_entries(engine)[0].status == outbox.DONE


async def test_two_workers_at_once_deliver_each_request_once(
        engine: Engine, directory: UnitsDirectory, clock: Clock) -> None:
    routes = {FANA: ("elderly", "fana"), MINDS: ("intellectual_disability", None),
              GULEN: (None, None)}
    for index in range(12):
        unit = (FANA, MINDS, GULEN)[index % 3]
        group, district = routes[unit]
        submit(engine, unit_id=unit, target_group=group, district=district,
               plan=draft(municipality="4635" if unit == GULEN else "4601"))
    first, second = FakeTelegram(), FakeTelegram()
    await asyncio.gather(worker(engine, directory, first, clock).run_once(),
                         worker(engine, directory, second, clock).run_once())
    for _ in range(10):  # a worker that lost a race on SQLite's lock tries again later
        if all(e.status == outbox.DONE for e in outbox_entries(engine)):
            break
        clock.advance(outbox.LONGEST_RETRY)
        await worker(engine, directory, first, clock).run_once()
    rows = inbox(engine)
    assert len(rows) == 12
    assert len({r.outbox_id for r in rows}) == 12
    assert len(first.sent) + len(second.sent) == 12
    assert all(e.status == outbox.DONE for e in outbox_entries(engine))


async def test_erasing_before_delivery_leaves_nothing_to_deliver(
        engine: Engine, directory: UnitsDirectory, telegram: FakeTelegram, clock: Clock) -> None:
    reference = submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    with unit_of_work(engine) as session:
        assert erase_conversation(session, channel="test", chat_id=reference)
    assert outbox_entries(engine) == []
    report = await worker(engine, directory, telegram, clock).run_once()
    assert (report.delivered, telegram.calls) == (0, 0)


async def test_the_unit_keeps_what_it_received_when_the_person_erases(
        engine: Engine, directory: UnitsDirectory, telegram: FakeTelegram, clock: Clock) -> None:
    reference = submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    await worker(engine, directory, telegram, clock).run_once()
    with unit_of_work(engine) as session:
        assert erase_conversation(session, channel="test", chat_id=reference)
        assert load_conversation(session, channel="test", chat_id=reference).submission is None
    [row] = inbox(engine)
    assert row.reference == reference
    assert row.submission_id is None


async def test_a_delivery_failing_too_long_is_logged_and_shown(
        engine: Engine, directory: UnitsDirectory, clock: Clock,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    telegram = FakeTelegram(faults=[NetworkError("down")] * 20)
    delivery = worker(engine, directory, telegram, clock, overdue_after=timedelta(minutes=30))
    caplog.set_level("INFO", logger="bot.delivery")
    assert (await delivery.run_once()).overdue == 0
    clock.advance(timedelta(minutes=31))
    assert (await delivery.run_once()).overdue == 1
    [overdue] = [r for r in caplog.records if "has not gone through" in r.getMessage()]
    assert overdue.levelname == "ERROR"
    assert FANA in overdue.getMessage()
    clock.advance(timedelta(hours=2))
    assert (await delivery.run_once()).overdue == 0  # logged once, not at every run

    monkeypatch.setenv("DINPLAN_DATABASE_URL", database_url(engine))
    monkeypatch.setenv("DINPLAN_DELIVERY_OVERDUE_AFTER_MINUTES", "30")
    get_settings.cache_clear()
    assert main(["status"]) == 1
    out = capsys.readouterr().out
    assert "of which overdue (over 30 min): 1" in out
    assert f"OVERDUE #{outbox_entries(engine)[0].id} to {FANA}: alert pending" in out
    assert "NetworkError" in out
    assert CANARY not in out


async def test_dinplan_deliver_runs_once(engine: Engine, units_file: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    monkeypatch.setenv("DINPLAN_DATABASE_URL", database_url(engine))
    monkeypatch.setenv("DINPLAN_UNITS_FILE", str(units_file))
    monkeypatch.delenv("DINPLAN_TELEGRAM_TOKEN", raising=False)
    get_settings.cache_clear()
    default_directory.cache_clear()
    try:
        # `dinplan` runs its own event loop; in a test that already has one, use a thread.
        code = await asyncio.to_thread(main, ["deliver"])
    finally:
        default_directory.cache_clear()
    assert code == 0
    assert "delivered 1, alerted 0" in capsys.readouterr().out
    assert len(inbox(engine)) == 1
    # No bot token here: the alert waits for the bot, and is not counted as a failure.
    [entry] = outbox_entries(engine)
    assert entry.status == outbox.PENDING
    assert entry.attempts == 0


async def test_no_answer_name_or_number_reaches_an_alert_or_a_log(
        engine: Engine, directory: UnitsDirectory, clock: Clock,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level("DEBUG")
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    submit(engine, unit_id=GULEN, plan=draft(municipality="4635"))
    submit(engine, unit_id=MINDS, target_group="intellectual_disability")
    # Faults whose messages quote the person: an exception's message is never logged.
    telegram = FakeTelegram(faults=[NetworkError(f"could not send «{CANARY}»"),
                                    TimedOut(CANARY), RetryAfter(timedelta(seconds=1))])
    real = bot.delivery.document_from_rows
    calls = {"n": 0}

    def failing_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ValueError(f"draft {CANARY} could not be read")
        return real(*args, **kwargs)

    monkeypatch.setattr(bot.delivery, "document_from_rows", failing_once)
    delivery = worker(engine, directory, telegram, clock, overdue_after=timedelta(minutes=1))
    for _ in range(8):
        await delivery.run_once()
        clock.advance(outbox.LONGEST_RETRY)
    assert len(inbox(engine)) == 3
    assert len(telegram.sent) == 3
    assert all(e.status == outbox.DONE for e in outbox_entries(engine))

    # The documents too (the PDF and FHIR libraries may log at DEBUG).
    from storage.exports import bundle, from_json, to_json, to_pdf
    for row in inbox(engine):
        document = from_json(json.loads(row.document))
        to_pdf(document, directory)
        bundle(document)
        to_json(document)

    secrets = (CANARY, "912 34 567", "Áile", "Đuŋŋá", "svar1", "Fastlegen")
    for _, alert in telegram.sent:
        for secret in secrets:
            assert secret not in alert
    failures = [r.getMessage() for r in caplog.records if "failed (" in r.getMessage()]
    assert any("(ValueError)" in f for f in failures)
    assert any("(TimedOut)" in f for f in failures)
    for record in caplog.records:
        logged = " ".join([record.getMessage(), record.exc_text or "", record.stack_info or ""])
        for secret in secrets:
            assert secret not in logged, (record.name, record.levelname)


async def test_the_bot_runs_the_worker_on_its_job_queue(
        engine: Engine, directory: UnitsDirectory, telegram: FakeTelegram, clock: Clock) -> None:
    from telegram.ext import ApplicationBuilder, CallbackContext, Job

    from bot.delivery import delivery_job, schedule_delivery

    application = ApplicationBuilder().token("123:TEST").build()
    job = schedule_delivery(application, engine, get_settings(), directory)
    assert job.name == "deliver-requests"
    assert isinstance(job.data, DeliveryWorker)
    assert job.data.directory is directory
    assert job.data.send_alert is not None

    # The job callback itself, with this test's worker in place of the real bot.
    submit(engine, unit_id=FANA, target_group="elderly", district="fana")
    context = CallbackContext.from_job(
        Job(delivery_job, data=worker(engine, directory, telegram, clock)), application)
    await delivery_job(context)
    assert len(inbox(engine)) == 1
    assert len(telegram.sent) == 1
