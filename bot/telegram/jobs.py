"""The shell the bot's background workers run in: the delivery worker, the notifier, retention;
and `repeat_in_thread` for the bot's own blocking chores (the WAL checkpoint, forgetting old
update ids).

Each worker has `run_once()`, which does what is due and returns a report. In the bot process it
runs as a repeating job on PTB's JobQueue (`schedule_worker`), the worker as the job's `data`,
sending through the application's bot; a run that fails (the database is down, say) is logged by
its exception class only, never its message, and the next run tries again. From the command line
(`dinplan deliver` and the like) it runs once, sending through a Bot of its own while
`sender_from_settings` is open, or not at all without a token.

Nothing here imports `telegram.ext` at run time, so the commands do not load it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from bot.plain_messages import PlainSender, plain_text_sender

if TYPE_CHECKING:
    from telegram.ext import Application, CallbackContext, Job

    from storage.settings import Settings

Report = TypeVar("Report")
Report_co = TypeVar("Report_co", covariant=True)


class Worker(Protocol[Report_co]):
    async def run_once(self) -> Report_co: ...


@dataclass(frozen=True)
class WorkerJob(Generic[Report]):
    """A JobQueue callback that runs the job's worker (its `data`) once and hands its report to
    `log_report`; a failed run is logged to `log` as "<what> run failed (<exception class>)".
    Typed by its report, so that `schedule_worker` takes only a worker that gives one."""

    what: str
    log_report: Callable[[Report], None]
    log: logging.Logger

    async def __call__(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        assert context.job is not None
        worker: Worker[Report] = context.job.data  # type: ignore[assignment]  # PTB types data as object
        try:
            report = await worker.run_once()
        except Exception as error:  # the database is down, say: the next run tries again
            self.log.warning("%s run failed (%s)", self.what, type(error).__name__)
            return
        self.log_report(report)


def schedule_worker(application: Application[Any, Any, Any, Any, Any, Any],
                    worker: Worker[Report], job: WorkerJob[Report], *, name: str,
                    interval: float | timedelta, first: float | timedelta,
                    purpose: str) -> Job[Any]:
    """Run `job` on `worker` every `interval`, the first time after `first`. `purpose` ends the
    error for a PTB installed without its job queue ("... needs ...[job-queue] <purpose>")."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError(f"the bot needs python-telegram-bot[job-queue] {purpose}")
    return job_queue.run_repeating(job, interval=interval, first=first, data=worker, name=name)


def repeat_in_thread(application: Application[Any, Any, Any, Any, Any, Any],
                     work: Callable[[], object], *, name: str, interval: float | timedelta,
                     first: float | timedelta) -> Job[Any]:
    """Run the blocking `work` every `interval` in a worker thread, so the event loop stays free
    for the chats; the caller has checked that the application has a job queue."""
    job_queue = application.job_queue
    assert job_queue is not None

    async def job(context: CallbackContext[Any, Any, Any, Any]) -> None:
        await asyncio.to_thread(work)

    return job_queue.run_repeating(job, interval=interval, first=first, name=name)


@asynccontextmanager
async def sender_from_settings(settings: Settings) -> AsyncIterator[PlainSender | None]:
    """For one run outside the bot: a sender through a Bot of its own while the block runs, or
    None if no bot token is configured (unset or blank, as `dinplan run` reads it)."""
    from bot.telegram.config import telegram_config, token_given

    if token_given(settings) is None:
        yield None
        return
    from telegram import Bot

    config = telegram_config(settings, webhook=False)  # the token's and URL's checks, as run's
    bot = Bot(config.token, base_url=config.base_url)
    async with bot:
        yield plain_text_sender(bot)
