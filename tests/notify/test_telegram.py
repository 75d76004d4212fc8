"""The bot's side: its start-up schedules the delivery worker and the notifier, a notice reaches the
citizen's chat through the application's own bot, and the citizen's copy is a PDF document.

Handler level, as tests/telegram does it: real Updates through `Application.process_update`, a
Bot API that answers from memory (tests/telegram/offline.py), a migrated SQLite file.
"""

from __future__ import annotations

import html
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy.engine import Engine
from telegram.ext import Application, Job

from bench.offline_config import OFFLINE, offline_limiter
from bot import pdf_process
from bot.delivery import DeliveryWorker
from bot.notifier import Notifier, notice_text
from bot.pdf_process import stop_worker
from bot.runner import DialogRunner
from bot.telegram.app import CHECKPOINT_EVERY, build_application
from bot.telegram.conversation import CHANNEL
from bot.telegram.keyboards import ButtonPress
from dialogs.draft import Language
from dialogs.render import message
from dialogs.steps import QUESTION_STEPS, Step
from storage.conversations import load_conversation
from storage.db import CHECKPOINT_BACKSTOP_PAGES, unit_of_work
from storage.settings import Settings
from storage.units import default_directory
from tests.fakes import pdf_text
from tests.notify.helpers import ACK_AT, SECRETS, UNIT_NAME, acknowledge, staff_member
from tests.telegram.lines import say
from tests.telegram.offline import Call, OfflineRequest, Person, texts

INTERVAL = 7
ANSWER = f"Ho er sta og glad i folk {SECRETS[0]} – áčđŋšŧž"


@pytest.fixture
async def app(sqlite_engine: Engine, offline: OfflineRequest,
              tmp_path: Path) -> AsyncIterator[Application]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'telegram.sqlite3'}",
                        delivery_interval_seconds=INTERVAL)
    application = build_application(OFFLINE, DialogRunner(sqlite_engine, escape=html.escape),
                                     request=offline, rate_limiter=offline_limiter(),
                                     settings=settings,
                                     directory=default_directory())
    await application.initialize()
    offline.take()
    yield application
    await application.shutdown()


async def started(app: Application) -> dict[str, Job[Any]]:
    """Run the start-up hook as run_polling and run_webhook do; the jobs by name."""
    assert app.post_init is not None
    await app.post_init(app)
    assert app.job_queue is not None
    return {job.name: job for job in app.job_queue.jobs() if job.name}


# What the person chooses (option ids) or writes at each step; other steps: the first button.
CHOICES = {Step.READ_INTRO: "continue", Step.GIVE_CONSENT: "consent", Step.CHOOSE_ROLE: "self",
           Step.CHOOSE_REQUEST: "plan_and_coordinator", Step.CHOOSE_COORDINATOR_WISH: "no",
           Step.GIVE_REACH_TIME: "morning", Step.REVIEW: "send"}
WRITES = {Step.ASK_STRENGTHS: ANSWER, Step.GIVE_CONTACT_NAME: "Kari Nordmann",
          Step.GIVE_PHONE: "912 34 567", Step.GIVE_MUNICIPALITY: "Gulen"}


def step_of(engine: Engine, person: Person) -> Step:
    with unit_of_work(engine) as session:
        return load_conversation(session, channel=CHANNEL, chat_id=str(person.chat_id)).step


async def choose(person: Person, option: str | None) -> list[Call]:
    """Press the newest button for this option (None: the newest message's first button)."""
    for shown in reversed(person.screen()):
        for row in shown.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                press = ButtonPress.parse(button["callback_data"])
                if press is not None and option in (None, press.option):
                    return await person.press(button["text"], message_id=shown["message_id"])
    raise AssertionError(f"no button for {option!r} on screen: {person.labels()}")


async def send_from_telegram(person: Person, engine: Engine) -> list[Call]:
    """The whole dialog in Telegram, to Gulen, answering what it asks; the calls of pressing
    «send». Skips every preparation question but the first."""
    calls = await person.write("/start")
    chosen: set[Step] = set()
    for _ in range(60):
        step = step_of(engine, person)
        if step is Step.SENT:
            return calls
        if step in WRITES:
            calls = await person.write(WRITES[step])
        elif step in QUESTION_STEPS:
            calls = await person.write("/hopp")
        elif step is Step.CHOOSE_SERVICES:
            calls = await choose(person, "done" if step in chosen else "gp")
            chosen.add(step)
        else:
            calls = await choose(person, CHOICES.get(step))
    raise AssertionError(f"the dialog did not reach sent; it is at {step_of(engine, person)}")


async def test_start_up_schedules_delivery_and_the_notifier(
        app: Application, offline: OfflineRequest) -> None:
    stop_worker()
    jobs = await started(app)
    assert pdf_process._pool is not None  # the PDF worker is on its way before the first copy
    assert {"deliver-requests", "notify-citizens", "forget handled updates"} <= set(jobs)
    deliver, notify = jobs["deliver-requests"], jobs["notify-citizens"]
    assert isinstance(deliver.data, DeliveryWorker)
    assert deliver.data.send_alert is not None
    assert isinstance(notify.data, Notifier)
    assert notify.data.send is not None
    for job in (deliver, notify):
        assert job.job.trigger.interval == timedelta(seconds=INTERVAL)
    assert {c.endpoint for c in offline.take()} == {"setMyCommands"}  # nothing sent yet


async def test_on_sqlite_a_job_checkpoints_the_wal_between_turns(
        app: Application, sqlite_engine: Engine, tmp_path: Path) -> None:
    jobs = await started(app)
    checkpoint = jobs["checkpoint the WAL"]
    assert checkpoint.job.trigger.interval == CHECKPOINT_EVERY
    with sqlite_engine.connect() as connection:  # a connection made after the start
        pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    assert pages == CHECKPOINT_BACKSTOP_PAGES
    with unit_of_work(sqlite_engine) as session:
        session.connection().exec_driver_sql(
            "CREATE TABLE scratch (x INTEGER)")  # something in the WAL
    await checkpoint.run(app)
    # The database file alone (a copy without its WAL) has the table now.
    database = Path(str(sqlite_engine.url.database))
    copy = tmp_path / "without-wal.sqlite3"
    copy.write_bytes(database.read_bytes())
    with sqlite3.connect(copy) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert "scratch" in tables


@pytest.mark.parametrize("language", ["nb", "nn"])
async def test_the_citizen_hears_of_the_receipt_in_the_chat(
        app: Application, offline: OfflineRequest, sqlite_engine: Engine,
        language: str) -> None:
    jobs = await started(app)
    kari = Person(app, offline, chat_id=5101, language_code=language)
    calls = await send_from_telegram(kari, sqlite_engine)
    [document] = [c for c in calls if c.endpoint == "sendDocument"]
    reference = document.files["document"][0][8:17]
    # The bot's own workers, as its job queue runs them.
    # The job's data is the worker (test_start_up_schedules_delivery_and_the_notifier checks).
    deliver = cast(DeliveryWorker, jobs["deliver-requests"].data)
    notify = cast(Notifier, jobs["notify-citizens"].data)
    assert (await deliver.run_once()).delivered == 1
    acknowledge(sqlite_engine, staff_member(sqlite_engine), reference.replace("-", ""))
    offline.take()

    report = await notify.run_once()

    assert report.sent == 1
    [notice] = offline.take()
    assert notice.endpoint == "sendMessage"
    assert int(notice.params["chat_id"]) == kari.chat_id
    assert "parse_mode" not in notice.params  # plain text, whatever the unit is called
    lang = Language(language)
    assert notice.text == notice_text(lang, "received", unit_name=UNIT_NAME[language],
                                      reference=reference.replace("-", ""), at=ACK_AT)
    assert reference in notice.text
    for secret in (*SECRETS, "Kari Nordmann", "sta og glad"):
        assert secret not in notice.text
    calls = await kari.write("/status")
    assert message(lang, "status.received").split("{", 1)[0] in texts(calls)
    assert reference in texts(calls)


@pytest.mark.parametrize("language", ["nb", "nn"])
async def test_the_own_copy_is_a_pdf_in_the_persons_language(
        app: Application, offline: OfflineRequest, sqlite_engine: Engine,
        language: str) -> None:
    kari = Person(app, offline, chat_id=5201, language_code=language)
    calls = await send_from_telegram(kari, sqlite_engine)
    [document] = [c for c in calls if c.endpoint == "sendDocument"]
    name, content, mime = document.files["document"]
    assert name.startswith("dinplan-")
    assert name.endswith(".pdf")
    assert mime == "application/pdf"
    assert content.startswith(b"%PDF")
    assert document.params["caption"] == say(language, "telegram.document.caption")
    text = " ".join(pdf_text(content).split())
    lang = Language(language)
    assert message(lang, "document.title") in text
    assert message(lang, "document.copy.citizen") in text
    assert name[8:17] in text  # the reference
    assert ANSWER in text  # the citizen's full copy, as they wrote it
    assert "Kari Nordmann" in text
    assert UNIT_NAME[language] in text  # the unit it went to
