"""Retention: what PRIVACY.md promises about time, done on time.

Every run (`RetentionWorker.run_once`; in the bot process every `retention_interval_minutes` on
PTB's JobQueue, `schedule_retention`; or `dinplan retention` once, from cron or a systemd timer):

1. reminds those who asked for it that their unsent draft is deleted in a week: the message says
   when, never what the draft holds; it is marked sent under the chat's lock before it is sent,
   and unmarked if sending fails, so it goes once and is tried again next run;
2. deletes unsent drafts `draft_retention_days` after they were started, sent requests
   `request_retention_days` after the unit acknowledged them (or
   `unacknowledged_request_retention_days` after sending if it never did), and chats that hold
   nothing else after `idle_conversation_retention_days` idle days (storage/privacy.py).

Reminders go through an injected `send(chat_id, text)` (PTB's bot.send_message in the bot, a fake
in tests), and only to the channel it reaches (Telegram). Logs hold counts and exception class
names only.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from bot.plain_messages import plain_text_sender
from bot.telegram.channel import CHANNEL
from bot.telegram.jobs import WorkerJob, schedule_worker, sender_from_settings
from dialogs.events import Reply
from dialogs.machine import Dialog
from dialogs.render import render
from dialogs.review import local_date
from storage import privacy
from storage.db import unit_of_work
from storage.models import utcnow
from storage.privacy import DueReminder, RetentionPolicy, RetentionReport

if TYPE_CHECKING:
    from telegram.ext import Application, Job

    from storage.settings import Settings

log = logging.getLogger(__name__)

# Sends one reminder: (chat id, text). May return an awaitable (PTB's send_message does).
ReminderSender = Callable[[str, str], Any]

def reminder_text(reminder: DueReminder) -> str:
    """The reminder in the person's language: when the draft goes, nothing of what it holds."""
    return render(reminder.language, Reply("privacy.reminder", {
        "date": local_date(reminder.deleted_at)})).text


def policy_from_settings(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy.from_settings(settings)


def dialog_from_settings(settings: Settings, router: Any = None) -> Dialog:
    """The dialog, telling people the retention periods this installation keeps."""
    from storage.units import default_router

    return Dialog(router=router or default_router(),
                  draft_retention_days=settings.draft_retention_days,
                  request_retention_days=settings.request_retention_days)


@dataclass
class RetentionWorker:
    engine: Engine
    policy: RetentionPolicy
    # Without a sender, nothing is reminded (deletion still happens on time).
    send: ReminderSender | None = None
    channel: str = CHANNEL
    clock: Callable[[], datetime] = utcnow

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC)

    async def run_once(self) -> RetentionReport:
        report = RetentionReport()
        if self.send is not None:
            await self._remind(report)
        deleted = await asyncio.to_thread(privacy.apply_retention, self.engine, now=self._now(),
                                          policy=self.policy)
        report.drafts, report.requests = deleted.drafts, deleted.requests
        report.conversations = deleted.conversations
        return report

    def run_once_sync(self) -> RetentionReport:
        return asyncio.run(self.run_once())

    async def _remind(self, report: RetentionReport) -> None:
        assert self.send is not None
        now = self._now()
        due = await asyncio.to_thread(self._due, now)
        for reminder in due:
            if not await asyncio.to_thread(self._claim, reminder, now):
                continue
            try:
                result = self.send(reminder.chat_id, reminder_text(reminder))
                if inspect.isawaitable(result):
                    await result
            except Exception as error:  # blocked, network, flood control: next run tries again
                report.reminders_failed += 1
                log.warning("a retention reminder could not be sent (%s)", type(error).__name__)
                await asyncio.to_thread(self._release, reminder, now)
                continue
            report.reminders += 1
            await asyncio.to_thread(self._record, reminder, now)

    def _due(self, now: datetime) -> list[DueReminder]:
        with unit_of_work(self.engine) as session:
            return privacy.due_reminders(session, now=now, policy=self.policy,
                                         channel=self.channel)

    def _claim(self, reminder: DueReminder, now: datetime) -> bool:
        with unit_of_work(self.engine) as session:
            return privacy.claim_reminder(session, reminder=reminder, now=now)

    def _release(self, reminder: DueReminder, now: datetime) -> None:
        with unit_of_work(self.engine) as session:
            privacy.release_reminder(session, reminder=reminder, claimed_at=now)

    def _record(self, reminder: DueReminder, now: datetime) -> None:
        with unit_of_work(self.engine) as session:
            privacy.record_event(session, what=privacy.PrivacyAction.REMINDER_SENT,
                                 channel=reminder.channel, now=now)


def log_report(report: RetentionReport) -> None:
    if report.drafts or report.requests or report.conversations or report.reminders \
            or report.reminders_failed:
        log.info("retention: %d drafts, %d requests and %d chats deleted; %d reminders sent, "
                 "%d failed", report.drafts, report.requests, report.conversations,
                 report.reminders, report.reminders_failed)


# In the bot process and on the command line ----------------------------------------------------


# A PTB JobQueue callback; the job's `data` is the RetentionWorker.
retention_job = WorkerJob("retention", log_report, log)


def schedule_retention(application: Application[Any, Any, Any, Any, Any, Any], engine: Engine,
                       settings: Settings, *, first: float | timedelta = 60) -> Job[Any]:
    """Run retention every `retention_interval_minutes` in the bot process, reminding through
    the application's bot."""
    worker = RetentionWorker(engine, policy_from_settings(settings),
                             send=plain_text_sender(application.bot))
    return schedule_worker(application, worker, retention_job, name="retention",
                           interval=timedelta(minutes=settings.retention_interval_minutes),
                           first=first, purpose="for retention")


async def retention_once(engine: Engine, settings: Settings) -> RetentionReport:
    """One run, as `dinplan retention` does it: reminders go out if a bot token is configured."""
    async with sender_from_settings(settings) as send:
        return await RetentionWorker(engine, policy_from_settings(settings), send=send).run_once()
