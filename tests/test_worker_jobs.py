"""The shell of the bot's three workers (bot/telegram/jobs.py): the delivery worker, the notifier
and retention each run as a named repeating job whose data is the worker, a failed run is logged
by its exception class alone, and their commands do not load PTB's telegram.ext."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from telegram.ext import Application, ApplicationBuilder, CallbackContext, Job

from bot.delivery import DeliveryWorker, delivery_job, schedule_delivery
from bot.notifier import Notifier, notify_job, schedule_notifier
from bot.retention import RetentionWorker, retention_job, schedule_retention
from bot.telegram.jobs import sender_from_settings
from storage.settings import Settings
from tests.conftest import ROOT

SECRET = "Ho er sta og glad i folk KANARI-7Q"
JobCallback = Callable[[CallbackContext[Any, Any, Any, Any]], Coroutine[Any, Any, None]]
SETTINGS = Settings(delivery_interval_seconds=7, retention_interval_minutes=15)


def application() -> Application[Any, Any, Any, Any, Any, Any]:
    return ApplicationBuilder().token("123:TEST").build()


@pytest.mark.parametrize("module", ["bot.delivery", "bot.notifier", "bot.retention"])
def test_a_workers_command_loads_no_telegram_ext(module: str) -> None:
    """`dinplan deliver`, `notify` and `retention` need no Application, nor its 50 ms import."""
    script = f"import sys, {module}; print('telegram.ext' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"


Schedule = Callable[[Application[Any, Any, Any, Any, Any, Any], Engine], Any]


@pytest.mark.parametrize(("schedule", "kind", "sender", "name", "interval", "first"), [
    (lambda app, engine: schedule_delivery(app, engine, SETTINGS), DeliveryWorker, "send_alert",
     "deliver-requests", timedelta(seconds=7), 1),
    (lambda app, engine: schedule_notifier(app, engine, SETTINGS), Notifier, "send",
     "notify-citizens", timedelta(seconds=7), 2),
    (lambda app, engine: schedule_retention(app, engine, SETTINGS), RetentionWorker, "send",
     "retention", timedelta(minutes=15), 60),
], ids=["delivery", "notifier", "retention"])
def test_each_worker_is_a_named_repeating_job_sending_through_the_bot(
        sqlite_engine: Engine, schedule: Schedule, kind: type, sender: str, name: str,
        interval: timedelta, first: float) -> None:
    """Names, intervals and first-run delays as the bot has always had them."""
    app = application()
    before = datetime.now(UTC)
    job = schedule(app, sqlite_engine)
    assert job.name == name
    assert isinstance(job.data, kind)
    assert getattr(job.data, sender) is not None
    trigger = job.job.trigger
    assert trigger.interval == interval
    assert timedelta(seconds=first) <= trigger.start_date - before \
        <= timedelta(seconds=first + 5)


class Failing:
    async def run_once(self) -> None:
        raise RuntimeError(f"INSERT ... VALUES ('{SECRET}')")


@pytest.mark.parametrize(("job", "logger", "line"), [
    (delivery_job, "bot.delivery", "delivery run failed (RuntimeError)"),
    (notify_job, "bot.notifier", "notifier run failed (RuntimeError)"),
    (retention_job, "bot.retention", "retention run failed (RuntimeError)"),
], ids=["delivery", "notifier", "retention"])
async def test_a_failed_run_is_logged_by_its_class_only(
        job: JobCallback, logger: str, line: str, caplog: pytest.LogCaptureFixture) -> None:
    context = CallbackContext.from_job(Job(job, data=Failing()), application())
    caplog.set_level(logging.DEBUG)  # after PTB's own set-up lines
    await job(context)
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        (logger, logging.WARNING, line)]


# PTB warns that it has no job queue: the very situation under test.
@pytest.mark.filterwarnings("ignore:No `JobQueue` set up")
@pytest.mark.parametrize(("schedule", "purpose"), [
    (lambda app, engine: schedule_delivery(app, engine, SETTINGS), "to deliver requests"),
    (lambda app, engine: schedule_notifier(app, engine, SETTINGS), "to notify citizens"),
    (lambda app, engine: schedule_retention(app, engine, SETTINGS), "for retention"),
], ids=["delivery", "notifier", "retention"])
def test_without_a_job_queue_the_bot_says_what_to_install(
        sqlite_engine: Engine, schedule: Schedule, purpose: str) -> None:
    app = ApplicationBuilder().token("123:TEST").job_queue(None).build()
    assert app.job_queue is None
    with pytest.raises(RuntimeError) as raised:
        schedule(app, sqlite_engine)
    assert str(raised.value) == f"the bot needs python-telegram-bot[job-queue] {purpose}"


async def test_repeat_in_thread_runs_the_blocking_work_off_the_event_loop() -> None:
    """The WAL checkpoint and the forgetting of old update ids block on the database: they run
    in a worker thread, never on the loop that serves the chats."""
    import asyncio
    import threading

    from bot.telegram.jobs import repeat_in_thread

    app = application()
    ran_on: list[int] = []
    job = repeat_in_thread(app, lambda: ran_on.append(threading.get_ident()),
                           name="blocking work", interval=60, first=0.05)
    assert (job.name, job.job.trigger.interval) == ("blocking work", timedelta(seconds=60))
    assert app.job_queue is not None
    await app.job_queue.start()  # the application itself is not started: it has no Bot API
    try:
        for _ in range(200):
            if ran_on:
                break
            await asyncio.sleep(0.01)
    finally:
        await app.job_queue.stop()
    assert ran_on
    assert ran_on[0] != threading.get_ident()


@pytest.mark.parametrize("token", [None, "", "   "], ids=["unset", "empty", "blank"])
async def test_without_a_token_a_worker_runs_with_no_sender(token: str | None) -> None:
    # As `dinplan run` reads it: a blank DINPLAN_TELEGRAM_TOKEN= is no token, not a bad one.
    settings = Settings(telegram_token=None if token is None else SecretStr(token))
    async with sender_from_settings(settings) as send:
        assert send is None
