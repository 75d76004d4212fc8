"""The delivery worker: puts sent requests in their unit's inbox and alerts the unit's staff chat.

Run it once (`dinplan deliver`, or `DeliveryWorker.run_once`) or every few seconds in the bot
process (`schedule_delivery`, on PTB's JobQueue). How it never loses or doubles a request is told
in storage/outbox.py. In short: the inbox row and the outbox's "delivered" are one transaction
with a unique outbox id, so the unit sees each request exactly once; the alert is sent after that
commit and retried with backoff until it goes through. A worker that dies after sending an alert
but before recording it sends that alert again once its claim runs out (at least once, never
lost).

Logs name outbox ids, unit ids and exception classes, never what a request says, nor an
exception's message (a database error's message can quote the values it tried to write).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from telegram.error import RetryAfter

import bot.texts  # noqa: F401  (registers the alert messages)
from bot.plain_messages import plain_text_sender
from bot.telegram.errors import retry_after
from bot.telegram.jobs import WorkerJob, schedule_worker, sender_from_settings
from dialogs.events import Label, ParamValue, Reply
from dialogs.render import render
from dialogs.review import answer_deadline, format_reference, local_date
from storage import outbox
from storage.db import unit_of_work
from storage.exports import document_from_rows, to_json
from storage.models import OutboxEntry, Submission, utcnow
from storage.units import TARGET_GROUP_LABELS, TargetGroup, Unit, UnitsDirectory

if TYPE_CHECKING:
    from telegram.ext import Application, Job

    from storage.settings import Settings

log = logging.getLogger(__name__)

# Sends one alert: (chat id, text). PTB's `bot.send_message` is one (see `bot_sender`); a plain
# function works too. It may return an awaitable.
AlertSender = Callable[[int, str], Any]

ALERT_CLAIM = timedelta(minutes=5)
BATCH_SIZE = 100


@dataclass
class DeliveryReport:
    delivered: int = 0  # new rows in a unit's inbox
    alerted: int = 0
    failed: int = 0
    overdue: int = 0  # newly found to be failing for longer than allowed


@dataclass(frozen=True)
class _Alert:
    outbox_id: int
    unit_id: str
    chat_id: int
    text: str


def alert_text(unit: Unit, entry: OutboxEntry, submission: Submission) -> str:
    """Reference, unit, target group and dates, in the unit's language: nothing else."""
    params: dict[str, ParamValue] = {
        "reference": format_reference(submission.reference),
        "unit": unit.name(unit.language),
        "received_on": local_date(submission.submitted_at),
        "deadline": answer_deadline(submission.submitted_at),
    }
    key = "alert.new_request.any_group"
    if entry.target_group in {g.value for g in TargetGroup}:
        params["target_group"] = Label(TARGET_GROUP_LABELS[TargetGroup(entry.target_group)])
        key = "alert.new_request"
    return render(unit.language, Reply(key, params)).text


class DeliveryWorker:
    def __init__(self, engine: Engine, directory: UnitsDirectory, *,
                 send_alert: AlertSender | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 overdue_after: timedelta = timedelta(hours=1),
                 batch_size: int = BATCH_SIZE, alert_claim: timedelta = ALERT_CLAIM) -> None:
        self.engine = engine
        self.directory = directory
        # Without a sender, requests still reach the inbox; their alerts wait for a process
        # that has one (the bot).
        self.send_alert = send_alert
        self.clock = clock
        self.overdue_after = overdue_after
        self.batch_size = batch_size
        self.alert_claim = alert_claim

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC)

    async def run_once(self) -> DeliveryReport:
        """Work off every entry that is due now."""
        report = DeliveryReport()
        now = self._now()
        ids = await asyncio.to_thread(self._due_ids, now)
        alerts = []
        for outbox_id in ids:
            alert = await asyncio.to_thread(self._deliver, outbox_id, now, report)
            if alert is not None:
                alerts.append(alert)
        for index, alert in enumerate(alerts):
            flood_wait = await self._alert(alert, report)
            if flood_wait is not None:
                # Flood control: the rest wait as long as Telegram asked, no failure counted.
                await asyncio.to_thread(self._postpone, alerts[index + 1:],
                                        self._now() + flood_wait)
                break
        report.overdue = await asyncio.to_thread(self._log_overdue, self._now())
        return report

    def run_once_sync(self) -> DeliveryReport:
        return asyncio.run(self.run_once())

    # Database steps (run in a thread, each its own transaction) --------------------------------

    def _due_ids(self, now: datetime) -> list[int]:
        with unit_of_work(self.engine) as session:
            return outbox.due_ids(session, now=now, limit=self.batch_size)

    def _deliver(self, outbox_id: int, now: datetime, report: DeliveryReport) -> _Alert | None:
        """Claim one entry and put it in its unit's inbox, in one transaction."""
        try:
            with unit_of_work(self.engine) as session:
                entry = outbox.claim(session, outbox_id=outbox_id, now=now,
                                     until=now + self.alert_claim)
                if entry is None:
                    return None  # another worker has it, or it is done
                submission = session.get(Submission, entry.submission_id)
                if submission is None:
                    return None  # erased meanwhile (the outbox row goes with it)
                if entry.delivered_at is None:
                    document = document_from_rows(session, submission=submission, entry=entry)
                    if document is None:
                        raise LookupError("the submitted draft is missing")
                    unit_copy = document.for_unit()
                    if outbox.record_inbox_delivery(
                            session, entry=entry, submission=submission,
                            language=unit_copy.language.value, document=to_json(unit_copy),
                            deadline=answer_deadline(submission.submitted_at), now=now):
                        report.delivered += 1
                        log.info("delivery %d is in the inbox of %s", outbox_id, entry.unit_id)
                unit = self.directory.unit(entry.unit_id)
                if unit is None:
                    log.warning("delivery %d: unit %s is not in the units directory; no alert",
                                outbox_id, entry.unit_id)
                if unit is None or unit.telegram_chat_id is None:
                    outbox.mark_done(session, entry=entry, now=now)
                    return None
                if self.send_alert is None:
                    # Stays pending (no failure): a process that can alert will take it.
                    entry.claimed_until = None
                    session.add(entry)
                    return None
                # The claim stays while the alert is sent, after this commit.
                return _Alert(outbox_id, unit.id, unit.telegram_chat_id,
                              alert_text(unit, entry, submission))
        except Exception as error:
            self._failed(outbox_id, now, error, report, release_claim=False)
            return None

    def _failed(self, outbox_id: int, now: datetime, error: BaseException,
                report: DeliveryReport, *, release_claim: bool,
                at_least: timedelta = timedelta(0)) -> None:
        report.failed += 1
        name = type(error).__name__
        with unit_of_work(self.engine) as session:
            entry = outbox.record_failure(session, outbox_id=outbox_id, now=now, error=name,
                                          at_least=at_least, release_claim=release_claim)
            attempts, next_at = (entry.attempts, entry.next_attempt_at) if entry else (0, None)
        log.warning("delivery %d failed (%s), attempt %d; next attempt at %s",
                    outbox_id, name, attempts, next_at)
        # Where it failed, as code lines only: the message may quote what the person wrote.
        log.debug("delivery %d failed in:\n%s", outbox_id,
                  "".join(traceback.format_tb(error.__traceback__)))

    def _sent(self, alert: _Alert, now: datetime) -> None:
        with unit_of_work(self.engine) as session:
            outbox.record_alert_sent(session, outbox_id=alert.outbox_id, now=now)
        log.info("delivery %d: alert sent to the staff chat of %s", alert.outbox_id,
                 alert.unit_id)

    def _postpone(self, alerts: list[_Alert], until: datetime) -> None:
        if not alerts:
            return
        with unit_of_work(self.engine) as session:
            for alert in alerts:
                outbox.postpone(session, outbox_id=alert.outbox_id, until=until)

    def _log_overdue(self, now: datetime) -> int:
        with unit_of_work(self.engine) as session:
            entries = outbox.newly_overdue(session, now=now, after=self.overdue_after)
            for entry in entries:
                log.error("delivery %d to %s has not gone through since %s (%d attempts, last "
                          "error %s)", entry.id, entry.unit_id,
                          entry.created_at.isoformat(timespec="seconds"),
                          entry.attempts, entry.last_error or "none")
            return len(entries)

    # The alert (async: PTB's send_message is a coroutine) ---------------------------------------

    async def _alert(self, alert: _Alert, report: DeliveryReport) -> timedelta | None:
        """Send one alert; how long to wait when Telegram's flood control says so."""
        assert self.send_alert is not None
        try:
            result = self.send_alert(alert.chat_id, alert.text)
            if inspect.isawaitable(result):
                await result
        except RetryAfter as error:
            wait = retry_after(error)
            await asyncio.to_thread(self._failed, alert.outbox_id, self._now(), error, report,
                                    release_claim=True, at_least=wait)
            return wait
        except Exception as error:  # NetworkError, TimedOut, Forbidden, ...: try again later
            await asyncio.to_thread(self._failed, alert.outbox_id, self._now(), error, report,
                                    release_claim=True)
            return None
        report.alerted += 1
        await asyncio.to_thread(self._sent, alert, self._now())
        return None


# In the bot process and on the command line --------------------------------------------------


def log_report(report: DeliveryReport) -> None:
    if report.delivered or report.alerted or report.failed:
        log.info("delivery run: %d delivered, %d alerted, %d failed", report.delivered,
                 report.alerted, report.failed)


# A PTB JobQueue callback; the job's `data` is the DeliveryWorker.
delivery_job = WorkerJob("delivery", log_report, log)


def worker_from_settings(engine: Engine, settings: Settings, *,
                         send_alert: AlertSender | None,
                         directory: UnitsDirectory | None = None) -> DeliveryWorker:
    from storage.units import default_directory

    return DeliveryWorker(
        engine, directory or default_directory(), send_alert=send_alert,
        overdue_after=timedelta(minutes=settings.delivery_overdue_after_minutes))


def schedule_delivery(application: Application[Any, Any, Any, Any, Any, Any], engine: Engine,
                      settings: Settings, directory: UnitsDirectory | None = None) -> Job[Any]:
    """Run the worker every `delivery_interval_seconds` in the bot process, alerting through
    the application's bot."""
    worker = worker_from_settings(engine, settings, send_alert=plain_text_sender(application.bot),
                                  directory=directory)
    return schedule_worker(application, worker, delivery_job, name="deliver-requests",
                           interval=settings.delivery_interval_seconds, first=1,
                           purpose="to deliver requests")


async def deliver_once(engine: Engine, settings: Settings,
                       directory: UnitsDirectory | None = None) -> DeliveryReport:
    """One run, as `dinplan deliver` does it: alerts go out if a bot token is configured."""
    async with sender_from_settings(settings) as send_alert:
        return await worker_from_settings(engine, settings, send_alert=send_alert,
                                          directory=directory).run_once()
