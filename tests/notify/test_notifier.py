"""The notifier: the unit's receipt and status changes, told to the citizen once, in their language.

Staff act through the inbox's own functions (inbox/requests.py); the notifier runs with a fake
Telegram; the citizen reads /status through the dialog runner. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

import storage.notifications
from bot.notifier import Notifier, notice_text
from dialogs.draft import Language
from storage.conversations import erase_conversation
from storage.db import unit_of_work
from storage.models import StoredConversation
from storage.staff import RequestStatusChange
from storage.units import default_directory
from tests.notify.helpers import (
    ACK_AT,
    ACK_DAY,
    SECRETS,
    UNIT_NAME,
    Clock,
    FakeTelegram,
    acknowledge,
    change_status,
    expected_status,
    notifier,
    send_request,
    staff_member,
    status_command,
    submission,
)


class Crash(BaseException):
    """The process dies here (not an Exception: nothing in the notifier may catch it)."""


def unnotified(engine: Engine) -> list[int]:
    with unit_of_work(engine) as session:
        return [c.id or 0 for c in session.exec(select(RequestStatusChange).where(
            col(RequestStatusChange.notified_at).is_(None)))]


def dash(reference: str) -> str:
    return f"{reference[:4]}-{reference[4:]}"


# -- what the citizen is told ----------------------------------------------------------------


async def test_receipt_is_told_in_bokmal_and_nynorsk(engine: Engine, telegram: FakeTelegram,
                                                     clock: Clock) -> None:
    kari = send_request(engine, language=Language.BOKMAL)
    ola = send_request(engine, language=Language.NYNORSK)
    staff = staff_member(engine)
    assert status_command(engine, kari) == expected_status(kari, "sent", None)
    for citizen in (kari, ola):
        acknowledge(engine, staff, citizen.reference)

    report = await notifier(engine, telegram, clock).run_once()

    assert (report.settled, report.sent, report.dropped, report.waiting) == (2, 2, 0, 0)
    [to_kari] = telegram.to(kari)
    assert to_kari == (
        f"{UNIT_NAME['nb']} bekreftet den {ACK_DAY['nb']} at forespørselen din "
        f"{dash(kari.reference)} er mottatt. Skriv /status for å se hvor saken står.")
    [to_ola] = telegram.to(ola)
    assert to_ola == (
        f"{UNIT_NAME['nn']} stadfesta den {ACK_DAY['nn']} at førespurnaden din "
        f"{dash(ola.reference)} er motteken. Skriv /status for å sjå kvar saka står.")
    for citizen in (kari, ola):
        sent = submission(engine, citizen.reference)
        assert sent.status == "received"
        assert sent.status_changed_at is not None
        assert sent.status_changed_at == ACK_AT
        assert status_command(engine, citizen) == expected_status(citizen, "received", ACK_AT)
    assert unnotified(engine) == []


async def test_each_later_status_is_told_and_shown_by_status(
        engine: Engine, telegram: FakeTelegram, clock: Clock) -> None:
    ola = send_request(engine, language=Language.NYNORSK)
    staff = staff_member(engine)
    worker = notifier(engine, telegram, clock)
    acknowledge(engine, staff, ola.reference)
    await worker.run_once()
    later = datetime(2026, 2, 10, 8, 0, tzinfo=UTC)
    change_status(engine, staff, ola.reference, "in_progress", later)
    await worker.run_once()
    assert status_command(engine, ola) == expected_status(ola, "in_progress", later)
    closed = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    change_status(engine, staff, ola.reference, "closed", closed)
    await worker.run_once()
    await worker.run_once()  # nothing new: nothing said

    received, in_progress, done = telegram.to(ola)
    assert received.startswith(f"{UNIT_NAME['nn']} stadfesta")
    assert in_progress == notice_text(Language.NYNORSK, "in_progress", unit_name=UNIT_NAME["nn"],
                                      reference=ola.reference, at=later)
    assert in_progress.startswith(f"{UNIT_NAME['nn']} byrja å arbeide med førespurnaden din "
                                  f"{dash(ola.reference)} den 10. februar 2026.")
    assert done == (f"{UNIT_NAME['nn']} lukka saka di {dash(ola.reference)} den 1. mars 2026. "
                    "Har du spørsmål, kan du kontakte eininga.")
    assert status_command(engine, ola) == expected_status(ola, "closed", closed)


async def test_changes_made_before_anyone_was_told_make_one_notice(
        engine: Engine, telegram: FakeTelegram, clock: Clock) -> None:
    kari = send_request(engine)
    ola = send_request(engine, language=Language.NYNORSK)
    staff = staff_member(engine)
    worker = notifier(engine, telegram, clock)
    # Kari's unit confirms and starts at once: she hears the newest.
    acknowledge(engine, staff, kari.reference)
    started = ACK_AT + timedelta(minutes=1)
    change_status(engine, staff, kari.reference, "in_progress", started)
    # Ola's unit closes by mistake and undoes it, after he was told of the receipt.
    acknowledge(engine, staff, ola.reference)
    await worker.run_once()
    change_status(engine, staff, ola.reference, "closed", ACK_AT + timedelta(hours=1))
    change_status(engine, staff, ola.reference, "received", ACK_AT + timedelta(hours=2))
    report = await worker.run_once()

    assert report.settled == 1
    [to_kari] = telegram.to(kari)
    assert to_kari.startswith(f"{UNIT_NAME['nb']} begynte å arbeide med forespørselen din")
    assert len(telegram.to(ola)) == 1
    assert submission(engine, kari.reference).status == "in_progress"
    assert status_command(engine, kari) == expected_status(kari, "in_progress", started)
    # The receipt keeps its date: the slip changed nothing the person can see.
    assert status_command(engine, ola) == expected_status(ola, "received", ACK_AT)
    assert unnotified(engine) == []


async def test_the_terminal_gets_the_status_through_status_only(
        engine: Engine, telegram: FakeTelegram, clock: Clock) -> None:
    anna = send_request(engine, channel="terminal", chat_id="anna")
    acknowledge(engine, staff_member(engine), anna.reference)
    report = await notifier(engine, telegram, clock).run_once()
    assert (report.settled, report.sent) == (1, 0)
    assert telegram.calls == 0
    assert status_command(engine, anna) == expected_status(anna, "received", ACK_AT)
    assert unnotified(engine) == []


async def test_without_a_sender_telegram_chats_wait_for_the_bot(
        engine: Engine, telegram: FakeTelegram, clock: Clock) -> None:
    kari = send_request(engine)
    anna = send_request(engine, channel="terminal", chat_id="anna")
    staff = staff_member(engine)
    for citizen in (kari, anna):
        acknowledge(engine, staff, citizen.reference)
    report = await Notifier(engine, default_directory(), clock=clock).run_once()
    assert (report.settled, report.waiting) == (1, 1)
    assert submission(engine, anna.reference).status == "received"
    assert submission(engine, kari.reference).status == "sent"  # not before she is told

    report = await notifier(engine, telegram, clock).run_once()
    assert (report.settled, report.sent, report.waiting) == (1, 1, 0)
    assert len(telegram.to(kari)) == 1


async def test_an_erased_citizen_is_not_told(engine: Engine, telegram: FakeTelegram,
                                             clock: Clock) -> None:
    kari = send_request(engine)
    acknowledge(engine, staff_member(engine), kari.reference)
    with unit_of_work(engine) as session:
        assert erase_conversation(session, channel=kari.channel, chat_id=kari.chat_id)
    report = await notifier(engine, telegram, clock).run_once()
    assert (report.settled, report.sent, report.failed) == (1, 0, 0)
    assert telegram.calls == 0
    assert unnotified(engine) == []


async def test_a_citizen_who_withdrew_consent_is_not_told(engine: Engine, telegram: FakeTelegram,
                                                          clock: Clock) -> None:
    kari = send_request(engine)
    acknowledge(engine, staff_member(engine), kari.reference)
    with unit_of_work(engine) as session:
        row = session.exec(select(StoredConversation).where(
            StoredConversation.chat_id == kari.chat_id)).one()
        row.consented_at = None
        session.add(row)
    report = await notifier(engine, telegram, clock).run_once()
    assert (report.settled, report.sent) == (1, 0)
    assert telegram.calls == 0
    assert submission(engine, kari.reference).status == "received"


# -- once, never twice ---------------------------------------------------------------------------


async def test_a_crash_after_the_commit_never_sends_twice(engine: Engine, clock: Clock) -> None:
    kari = send_request(engine)
    acknowledge(engine, staff_member(engine), kari.reference)
    dying = FakeTelegram(faults=[Crash()])
    with pytest.raises(Crash):
        await notifier(engine, dying, clock).run_once()
    # The status and the mark were committed before the send: the restarted bot has nothing to
    # say again (a lost notice, never a second one), and /status shows the receipt.
    restarted = FakeTelegram()
    clock.advance(timedelta(hours=1))
    report = await notifier(engine, restarted, clock).run_once()
    assert (report.settled, report.sent) == (0, 0)
    assert restarted.calls == 0
    assert submission(engine, kari.reference).status == "received"
    assert status_command(engine, kari) == expected_status(kari, "received", ACK_AT)


async def test_a_crash_before_the_commit_leaves_everything_to_the_next_run(
        engine: Engine, telegram: FakeTelegram, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    kari = send_request(engine)
    acknowledge(engine, staff_member(engine), kari.reference)
    real = storage.notifications.Settled

    def die(*args: object) -> None:  # after the mark and the status update, before the commit
        raise Crash

    monkeypatch.setattr(storage.notifications, "Settled", die)
    with pytest.raises(Crash):
        await notifier(engine, telegram, clock).run_once()
    assert submission(engine, kari.reference).status == "sent"
    assert len(unnotified(engine)) == 1

    monkeypatch.setattr(storage.notifications, "Settled", real)
    report = await notifier(engine, telegram, clock).run_once()
    await notifier(engine, telegram, clock).run_once()
    assert (report.settled, report.sent) == (1, 1)
    assert len(telegram.to(kari)) == 1
    assert submission(engine, kari.reference).status == "received"


async def test_two_notifiers_at_once_tell_once(engine: Engine, telegram: FakeTelegram,
                                               clock: Clock) -> None:
    citizens = [send_request(engine) for _ in range(4)]
    staff = staff_member(engine)
    for citizen in citizens:
        acknowledge(engine, staff, citizen.reference)
    first, second = notifier(engine, telegram, clock), notifier(engine, telegram, clock)
    reports = await asyncio.gather(first.run_once(), second.run_once(), first.run_once())
    assert sum(r.sent for r in reports) == 4
    assert sorted(len(telegram.to(c)) for c in citizens) == [1, 1, 1, 1]
    assert unnotified(engine) == []


async def test_a_notice_that_never_reached_telegram_is_sent_later(
        engine: Engine, telegram: FakeTelegram, clock: Clock) -> None:
    kari = send_request(engine)
    acknowledge(engine, staff_member(engine), kari.reference)
    refused = NetworkError("httpx.ConnectError: no route")
    refused.__cause__ = httpx.ConnectError("no route")
    with warnings.catch_warnings():  # PTB 22 warns about its own int form as it builds one
        warnings.simplefilter("ignore")
        flood = RetryAfter(timedelta(seconds=90))
    telegram.faults = [refused, flood]
    worker = notifier(engine, telegram, clock)

    report = await worker.run_once()
    assert (report.settled, report.sent, report.retrying) == (1, 0, 1)
    assert submission(engine, kari.reference).status == "received"  # already, for /status
    clock.advance(timedelta(seconds=10))
    assert (await worker.run_once()).sent == 0  # the backoff (30 s) has not passed
    clock.advance(timedelta(seconds=30))
    report = await worker.run_once()  # flood control: wait 90 s
    assert (report.sent, report.retrying) == (0, 1)
    clock.advance(timedelta(seconds=60))
    assert (await worker.run_once()).sent == 0
    clock.advance(timedelta(seconds=31))
    report = await worker.run_once()
    assert (report.sent, report.retrying) == (1, 0)
    assert len(telegram.to(kari)) == 1
    assert telegram.calls == 3


@pytest.mark.parametrize("fault", [TimedOut(), BadRequest("Chat not found"),
                                   Forbidden("bot was blocked by the user"), ValueError("x")],
                         ids=["timed-out", "bad-request", "blocked", "unknown"])
async def test_a_notice_that_may_have_arrived_is_never_repeated(
        engine: Engine, telegram: FakeTelegram, clock: Clock, fault: BaseException) -> None:
    kari = send_request(engine)
    acknowledge(engine, staff_member(engine), kari.reference)
    telegram.faults = [fault]
    worker = notifier(engine, telegram, clock)
    report = await worker.run_once()
    assert (report.settled, report.sent, report.dropped, report.retrying) == (1, 0, 1, 0)
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        await worker.run_once()
    assert telegram.calls == 1
    assert status_command(engine, kari) == expected_status(kari, "received", ACK_AT)


async def test_a_notice_failing_for_a_day_is_given_up(engine: Engine, telegram: FakeTelegram,
                                                      clock: Clock) -> None:
    kari = send_request(engine)
    acknowledge(engine, staff_member(engine), kari.reference)
    refused = NetworkError("httpx.ConnectError")
    refused.__cause__ = httpx.ConnectError("down")
    telegram.faults = [refused] * 100
    worker = Notifier(engine, default_directory(), send=telegram, clock=clock,
                      give_up_after=timedelta(hours=2))
    await worker.run_once()
    for _ in range(12):
        clock.advance(timedelta(minutes=30))
        await worker.run_once()
    assert worker.pending_retries == 0
    assert telegram.sent == []
    assert telegram.calls < 12


# -- nothing of what the person wrote ----------------------------------------------------------


async def test_no_answer_text_in_any_notice_or_log(engine: Engine, telegram: FakeTelegram,
                                                   clock: Clock,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    kari = send_request(engine)
    ola = send_request(engine, language=Language.NYNORSK)
    anna = send_request(engine, channel="terminal", chat_id="anna")
    staff = staff_member(engine)
    for citizen in (kari, ola, anna):
        acknowledge(engine, staff, citizen.reference)
    # One send fails with an error that quotes what the person wrote: not logged either.
    telegram.faults = [ValueError(f"could not send {SECRETS[0]} Áile")]
    worker = notifier(engine, telegram, clock)
    await worker.run_once()
    change_status(engine, staff, kari.reference, "closed", ACK_AT + timedelta(days=3))
    await worker.run_once()

    assert telegram.calls == 3
    for _, text in telegram.sent:
        for secret in SECRETS:
            assert secret not in text
        assert "svar" not in text
    assert any("status change" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        logged = " ".join([record.getMessage(), record.exc_text or "", record.stack_info or ""])
        for secret in SECRETS:
            assert secret not in logged, (record.name, record.levelname)


async def test_a_failing_database_is_logged_without_its_message(
        engine: Engine, telegram: FakeTelegram, clock: Clock,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    kari = send_request(engine)
    acknowledge(engine, staff_member(engine), kari.reference)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"INSERT ... VALUES ('{SECRETS[0]}')")

    real = storage.notifications.recipient_of
    monkeypatch.setattr(storage.notifications, "recipient_of", broken)
    report = await notifier(engine, telegram, clock).run_once()
    assert (report.failed, report.settled, report.waiting) == (1, 0, 1)
    assert any("(RuntimeError)" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert SECRETS[0] not in record.getMessage() + (record.exc_text or "")
    monkeypatch.setattr(storage.notifications, "recipient_of", real)
    assert (await notifier(engine, telegram, clock).run_once()).sent == 1
    assert len(telegram.to(kari)) == 1


# -- `dinplan notify` ----------------------------------------------------------------------------


def test_dinplan_notify_runs_once(engine: Engine, database_url: str,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    from storage.settings import get_settings

    anna = send_request(engine, channel="terminal", chat_id="anna")
    kari = send_request(engine)
    staff = staff_member(engine)
    for citizen in (anna, kari):
        acknowledge(engine, staff, citizen.reference)
    monkeypatch.setenv("DINPLAN_DATABASE_URL", database_url)
    monkeypatch.delenv("DINPLAN_TELEGRAM_TOKEN", raising=False)
    get_settings.cache_clear()
    assert main(["notify"]) == 0
    out = capsys.readouterr().out
    # No bot token: the terminal's status is set, the Telegram chat waits for the bot.
    assert out.strip() == ("settled 1, told 0, not sent 0, dropped 0, failed 0, "
                           "still waiting 1")
    assert submission(engine, anna.reference).status == "received"
    assert submission(engine, kari.reference).status == "sent"


def test_notice_text_holds_unit_reference_and_date_only() -> None:
    at = datetime(2026, 5, 16, 22, 30, tzinfo=UTC)  # 17 May in Norway
    for language, unit in ((Language.BOKMAL, UNIT_NAME["nb"]), (Language.NYNORSK,
                                                               UNIT_NAME["nn"])):
        for status in ("received", "in_progress", "closed"):
            text = notice_text(language, status, unit_name=unit, reference="ABCD2345", at=at)
            assert text.startswith(unit)
            assert "ABCD-2345" in text
            assert "17. mai 2026" in text
            assert "{" not in text

