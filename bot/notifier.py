"""The citizen notifier: tells a citizen when their unit confirms receipt or changes the status.

Run it once (`dinplan notify`, or `Notifier.run_once`) or every few seconds in the bot process
(`schedule_notifier`, on PTB's JobQueue). Per delivered request with waiting status changes:

1. one transaction (storage/notifications.py `settle`) marks the changes notified and gives the
   citizen's submission the newest status and its date, so `/status` shows it from then on,
   in every channel;
2. after that commit, a citizen who talks to the bot on Telegram gets one message in their
   conversation's language: the unit's name, the reference and the date, nothing else.

At most once, never twice. Telegram cannot tell us whether a message that timed out arrived, so
a notice can only be exactly-once-or-late if a failed send is never repeated when it might have
arrived. We chose: a duplicate is worse than a late notice, and a lost notice is tolerable,
because the status itself is committed first and `/status` always shows it, and the unit answers
the person directly in any case. Hence "mark, then send":

- the status update and the mark are one commit: settled once, by one notifier (the
  compare-and-set on `notified_at` is the unique guard), across restarts and processes;
- the send comes after the commit; only failures that prove the message never reached Telegram
  (flood control's RetryAfter, no connection made) are tried again, with backoff, for up to
  `give_up_after`; a timeout or an unknown error may have delivered it and is not repeated;
- the retries live in this process: a process that stops while a notice waits for its retry
  (or between the commit and the send) loses that notice, never doubles it.

A durable retry across restarts needs a table of pending notices (an outbox for citizens), with
the same at-most-once rule for a send that was under way when the process stopped.

Logs name change ids, request ids and exception classes, never what a request says, nor the
notice (it holds the reference), nor an exception's message.
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
from telegram.error import Forbidden, NetworkError, RetryAfter

import bot.texts  # noqa: F401  (registers the notice messages)
from bot.plain_messages import plain_text_sender
from bot.telegram.channel import CHANNEL
from bot.telegram.errors import retry_after, safe_to_retry
from bot.telegram.jobs import WorkerJob, schedule_worker, sender_from_settings
from dialogs.draft import Language
from dialogs.events import Reply
from dialogs.render import render
from dialogs.review import format_reference, local_date
from storage import notifications
from storage.db import unit_of_work
from storage.models import utcnow
from storage.notifications import SettleConflictError, Settled
from storage.outbox import backoff
from storage.units import UnitsDirectory

if TYPE_CHECKING:
    from telegram.ext import Application, Job

    from storage.settings import Settings

log = logging.getLogger(__name__)

# Sends one notice: (chat id, text). May return an awaitable (PTB's bot.send_message does).
NoticeSender = Callable[[int, str], Any]

NOTICE_KEYS = {"received": "notify.received", "in_progress": "notify.in_progress",
               "closed": "notify.closed"}
BATCH_SIZE = 100
GIVE_UP_AFTER = timedelta(hours=24)


@dataclass
class NotifyReport:
    settled: int = 0  # requests whose waiting changes were settled (status updated, marked)
    sent: int = 0  # notices Telegram took
    retrying: int = 0  # notices that failed and wait in this process for another try
    dropped: int = 0  # notices given up: maybe delivered, blocked, unknown chat, too old
    failed: int = 0  # settlements that failed (rolled back; tried again next run)
    waiting: int = 0  # changes still unnotified after the run (left for a process that can send)


@dataclass
class _Notice:
    change_id: int
    chat_id: int
    text: str
    settled_at: datetime
    next_at: datetime
    attempts: int = 0


def notice_text(language: Language | None, status: str, *, unit_name: str, reference: str,
                at: datetime) -> str:
    """The unit, the reference and the (Norwegian) date of the change, in plain text."""
    return render(language, Reply(NOTICE_KEYS[status], {
        "unit": unit_name, "reference": format_reference(reference), "date": local_date(at),
    })).text


def _language(value: str | None) -> Language | None:
    return Language(value) if value in {lang.value for lang in Language} else None


class Notifier:
    def __init__(self, engine: Engine, directory: UnitsDirectory, *,
                 send: NoticeSender | None = None, clock: Callable[[], datetime] = utcnow,
                 batch_size: int = BATCH_SIZE, give_up_after: timedelta = GIVE_UP_AFTER) -> None:
        self.engine = engine
        self.directory = directory
        # Without a sender, changes of Telegram conversations wait for a process that has one
        # (the bot); the others are settled, since /status is all they get anyway.
        self.send = send
        self.clock = clock
        self.batch_size = batch_size
        self.give_up_after = give_up_after
        self._retries: list[_Notice] = []

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC)

    @property
    def pending_retries(self) -> int:
        return len(self._retries)

    async def run_once(self) -> NotifyReport:
        """Settle every waiting change, then send the notices due now."""
        report = NotifyReport()
        now = self._now()
        request_ids = await asyncio.to_thread(self._waiting)
        notices = []
        for request_id in request_ids:
            notice = await asyncio.to_thread(self._settle, request_id, now, report)
            if notice is not None:
                notices.append(notice)
        due = [n for n in self._retries if n.next_at <= now]
        self._retries = [n for n in self._retries if n.next_at > now]
        queue = due + notices
        for index, notice in enumerate(queue):
            wait = await self._send(notice, report)
            if wait is not None:
                # Flood control: the rest wait as long as Telegram asked, no failure counted.
                for later in queue[index + 1:]:
                    later.next_at = max(later.next_at, self._now() + wait)
                    self._retries.append(later)
                break
        report.retrying = len(self._retries)
        report.waiting = await asyncio.to_thread(self._waiting_count)
        return report

    def run_once_sync(self) -> NotifyReport:
        return asyncio.run(self.run_once())

    # Database steps (run in a thread, each its own transaction) --------------------------------

    def _waiting(self) -> list[int]:
        with unit_of_work(self.engine) as session:
            return notifications.waiting_requests(session, limit=self.batch_size)

    def _waiting_count(self) -> int:
        with unit_of_work(self.engine) as session:
            return notifications.waiting_count(session)

    def _settle(self, request_id: int, now: datetime, report: NotifyReport) -> _Notice | None:
        leave = frozenset() if self.send is not None else frozenset({CHANNEL})
        try:
            with unit_of_work(self.engine) as session:
                settled = notifications.settle(session, delivered_request_id=request_id,
                                               now=now, leave_channels=leave)
        except SettleConflictError:
            log.info("status changes of request %d: another notifier took them", request_id)
            return None
        except Exception as error:  # the database is busy, say: the next run tries again
            report.failed += 1
            log.warning("settling the status changes of request %d failed (%s)", request_id,
                        type(error).__name__)
            # Where it failed, as code lines only: a database error's message quotes values.
            log.debug("settling request %d failed in:\n%s", request_id,
                      "".join(traceback.format_tb(error.__traceback__)))
            return None
        if settled is None:
            return None
        report.settled += 1
        log.info("status change(s) %s of request %d settled: %s",
                 ",".join(map(str, settled.change_ids)), request_id, settled.status)
        return self._notice(settled, now, report)

    def _notice(self, settled: Settled, now: datetime, report: NotifyReport) -> _Notice | None:
        recipient = settled.recipient
        if recipient is None or recipient.channel != CHANNEL:
            return None  # erased, nothing new, or a channel that reads it through /status
        change_id = settled.change_ids[-1]
        unit = self.directory.unit(settled.unit_id)
        try:
            chat_id = int(recipient.chat_id)
        except ValueError:
            chat_id = 0
        if unit is None or not chat_id:
            report.dropped += 1
            log.warning("status change %d: %s; the citizen sees the status with /status only",
                        change_id, "the unit is not in the units directory" if unit is None
                        else "the chat id is not a number")
            return None
        language = _language(recipient.language)
        text = notice_text(language, settled.status, unit_name=unit.name(language),
                           reference=settled.reference, at=settled.at)
        return _Notice(change_id, chat_id, text, settled_at=now, next_at=now)

    # The message (async: PTB's send_message is a coroutine) -------------------------------------

    async def _send(self, notice: _Notice, report: NotifyReport) -> timedelta | None:
        """Send one notice; how long to wait when Telegram's flood control says so."""
        assert self.send is not None
        try:
            result = self.send(notice.chat_id, notice.text)
            if inspect.isawaitable(result):
                await result
        except RetryAfter as error:
            wait = retry_after(error)
            self._again(notice, report, error, at_least=wait)
            return wait
        except NetworkError as error:
            if safe_to_retry("sendMessage", error):  # no connection was made: not sent
                self._again(notice, report, error)
            else:  # a timeout, or Telegram said no: it may have arrived, or never will
                self._drop(notice, report, error)
            return None
        except Forbidden:
            report.dropped += 1
            log.info("status change %d: the citizen has blocked the bot; not told",
                     notice.change_id)
            return None
        except Exception as error:
            self._drop(notice, report, error)
            return None
        report.sent += 1
        log.info("status change %d: the citizen is told", notice.change_id)
        return None

    def _again(self, notice: _Notice, report: NotifyReport, error: BaseException, *,
               at_least: timedelta = timedelta(0)) -> None:
        now = self._now()
        notice.attempts += 1
        if now - notice.settled_at >= self.give_up_after:
            report.dropped += 1
            log.warning("status change %d: the notice has not gone through for %s (%d "
                        "attempts, last %s); given up", notice.change_id, self.give_up_after,
                        notice.attempts, type(error).__name__)
            return
        notice.next_at = now + max(backoff(notice.attempts), at_least)
        self._retries.append(notice)
        log.warning("status change %d: sending the notice failed (%s), attempt %d; next "
                    "attempt at %s", notice.change_id, type(error).__name__, notice.attempts,
                    notice.next_at.isoformat(timespec="seconds"))

    def _drop(self, notice: _Notice, report: NotifyReport, error: BaseException) -> None:
        report.dropped += 1
        log.warning("status change %d: sending the notice failed (%s); it may have arrived, so "
                    "it is not sent again", notice.change_id, type(error).__name__)


# In the bot process and on the command line --------------------------------------------------


def log_report(report: NotifyReport) -> None:
    if report.settled or report.sent or report.dropped or report.failed:
        log.info("notifier run: %d settled, %d told, %d retrying, %d dropped, %d failed",
                 report.settled, report.sent, report.retrying, report.dropped, report.failed)


# A PTB JobQueue callback; the job's `data` is the Notifier.
notify_job = WorkerJob("notifier", log_report, log)


def schedule_notifier(application: Application[Any, Any, Any, Any, Any, Any], engine: Engine,
                      settings: Settings, directory: UnitsDirectory | None = None) -> Job[Any]:
    """Run the notifier every `delivery_interval_seconds` in the bot process, sending through
    the application's bot."""
    from storage.units import default_directory

    notifier = Notifier(engine, directory or default_directory(),
                        send=plain_text_sender(application.bot))
    return schedule_worker(application, notifier, notify_job, name="notify-citizens",
                           interval=settings.delivery_interval_seconds, first=2,
                           purpose="to notify citizens")


async def notify_once(engine: Engine, settings: Settings,
                      directory: UnitsDirectory | None = None) -> NotifyReport:
    """One run, as `dinplan notify` does it. Without a bot token, changes of Telegram
    conversations wait for the bot; a notice still failing at the end is not kept."""
    from storage.units import default_directory

    directory = directory or default_directory()
    async with sender_from_settings(settings) as send:
        report = await Notifier(engine, directory, send=send).run_once()
    if report.retrying:
        log.warning("%d notice(s) could not be sent and are not kept; /status shows the status",
                    report.retrying)
    return report
