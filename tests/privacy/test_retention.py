"""Retention, on a clock the tests move: an unsent draft goes after 30 days, with a reminder a
week before to those who asked; a sent request 90 days after the unit acknowledged it; an empty
chat after 30 idle days. A scheduled job (PTB's JobQueue) and `dinplan retention` do it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.delivery import DeliveryWorker
from bot.retention import (
    RetentionWorker,
    dialog_from_settings,
    policy_from_settings,
    retention_job,
    schedule_retention,
)
from dialogs.draft import Language
from dialogs.events import ChoiceEvent, Reply, TextEvent
from dialogs.render import message, render
from dialogs.review import local_date
from dialogs.steps import Step
from storage.db import unit_of_work
from storage.models import DeliveredRequest, PrivacyEvent, StoredConversation, Submission
from storage.privacy import RetentionPolicy
from storage.settings import Settings
from storage.units import default_directory
from tests.conftest import ROOT
from tests.privacy.helpers import CANARIES, START, Clock, Person, every_row, runner_for
from tests.privacy.telegram import offline_bot


class Sent:
    """Stands in for PTB's bot.send_message: records, or fails on cue."""

    def __init__(self, *faults: BaseException) -> None:
        self.faults = list(faults)
        self.messages: list[tuple[str, str]] = []

    async def __call__(self, chat_id: str, text: str) -> None:
        if self.faults:
            raise self.faults.pop(0)
        self.messages.append((chat_id, text))


def worker(engine: Engine, clock: Clock, send: Any = None, **policy: int) -> RetentionWorker:
    return RetentionWorker(engine, RetentionPolicy(**policy), send=send, clock=clock)


def at_day(clock: Clock, days: float) -> None:
    clock.now = START + timedelta(days=days)


def events(engine: Engine) -> list[str]:
    with unit_of_work(engine) as session:
        return [e.what for e in session.exec(select(PrivacyEvent))]


def drafting(engine: Engine, clock: Clock, chat_id: str, *, reminder: bool = True,
             language: Language = Language.NYNORSK, channel: str = "telegram") -> Person:
    person = Person(runner_for(engine, clock), chat_id, language=language, channel=channel,
                    wants_reminder=reminder)
    person.go_to(Step.ASK_WHAT_FIRST)
    return person


def test_a_reminder_a_week_before_then_the_draft_is_deleted(engine: Engine,
                                                            clock: Clock) -> None:
    person = drafting(engine, clock, "5550001")
    send = Sent()
    retention = worker(engine, clock, send)

    at_day(clock, 22.9)
    retention.run_once_sync()
    assert send.messages == []

    at_day(clock, 23)
    retention.run_once_sync()
    deleted_on = local_date(START + timedelta(days=30))
    expected = render(Language.NYNORSK, Reply("privacy.reminder", {"date": deleted_on})).text
    assert send.messages == [("5550001", expected)]
    assert "1. april 2026" in expected
    assert not any(c in expected for c in CANARIES)

    at_day(clock, 25)
    retention.run_once_sync()  # once only
    at_day(clock, 29.9)
    report = retention.run_once_sync()
    assert len(send.messages) == 1
    assert report.drafts == 0
    assert every_row(engine)["draft_plan"] != []

    at_day(clock, 30)
    report = retention.run_once_sync()
    assert report.drafts == 1
    rows = every_row(engine)
    assert rows["draft_plan"] == []
    assert rows["answer"] == []
    [conversation] = rows["conversation"]
    assert (conversation["step"], conversation["current_draft_id"]) == ("cancelled", None)
    assert events(engine) == ["reminder_sent", "draft_expired"]
    # The person is told the draft is gone when they come back.
    person.say(TextEvent("hallo"))
    assert message(Language.NYNORSK, "cancelled.resting") in person.text()


def test_no_reminder_unless_asked_but_deleted_all_the_same(engine: Engine, clock: Clock) -> None:
    drafting(engine, clock, "5550002", reminder=False)
    send = Sent()
    at_day(clock, 23)
    worker(engine, clock, send).run_once_sync()
    at_day(clock, 30)
    report = worker(engine, clock, send).run_once_sync()
    assert send.messages == []
    assert report.drafts == 1


def test_a_failed_reminder_is_tried_again(engine: Engine, clock: Clock) -> None:
    drafting(engine, clock, "5550003", language=Language.BOKMAL)
    send = Sent(ConnectionError("down"))
    at_day(clock, 23)
    report = worker(engine, clock, send).run_once_sync()
    assert (report.reminders, report.reminders_failed) == (0, 1)
    at_day(clock, 23.1)
    report = worker(engine, clock, send).run_once_sync()
    assert report.reminders == 1
    [(chat_id, text)] = send.messages
    assert chat_id == "5550003"
    assert text.startswith(message(Language.BOKMAL, "privacy.reminder").split(".")[0])


def test_only_the_channel_the_sender_reaches_is_reminded(engine: Engine, clock: Clock) -> None:
    drafting(engine, clock, "terminal-user", channel="terminal")
    send = Sent()
    at_day(clock, 23)
    assert worker(engine, clock, send).run_once_sync().reminders == 0
    at_day(clock, 30)
    assert worker(engine, clock, send).run_once_sync().drafts == 1


def test_a_draft_sent_in_time_stays(engine: Engine, clock: Clock) -> None:
    person = drafting(engine, clock, "5550004")
    at_day(clock, 29)
    person.send_request()
    at_day(clock, 31)
    report = worker(engine, clock, Sent()).run_once_sync()
    assert report.drafts == 0
    assert len(every_row(engine)["submission"]) == 1


def test_a_new_draft_gets_its_own_reminder(engine: Engine, clock: Clock) -> None:
    person = drafting(engine, clock, "5550005")
    send = Sent()
    at_day(clock, 23)
    worker(engine, clock, send).run_once_sync()
    at_day(clock, 30)
    worker(engine, clock, send).run_once_sync()  # deleted
    person.say(TextEvent("/start"))
    person.chosen.clear()
    person.go_to(Step.ASK_WHAT_FIRST)
    at_day(clock, 53)
    worker(engine, clock, send).run_once_sync()
    assert len(send.messages) == 2


def acknowledged(engine: Engine, clock: Clock, chat_id: str, *, status: str = "received",
                 after_days: float = 10) -> None:
    """The unit receives the request and (through the notifier) the person's status changes."""
    DeliveryWorker(engine, default_directory(), clock=clock).run_once_sync()
    with unit_of_work(engine) as session:
        submission = session.exec(select(Submission).join(
            StoredConversation, col(StoredConversation.id) == Submission.conversation_id).where(
            StoredConversation.chat_id == chat_id)).one()
        submission.status = status
        submission.status_changed_at = START + timedelta(days=after_days)
        session.add(submission)


@pytest.mark.parametrize("status", ["received", "in_progress", "closed"])
def test_a_request_goes_90_days_after_the_unit_acknowledged_it(engine: Engine, clock: Clock,
                                                                status: str) -> None:
    person = Person(runner_for(engine, clock), "5550006", channel="telegram")
    person.send_request()
    acknowledged(engine, clock, "5550006", status=status, after_days=10)

    at_day(clock, 99.9)
    assert worker(engine, clock).run_once_sync().requests == 0
    at_day(clock, 100)
    assert worker(engine, clock).run_once_sync().requests == 1
    rows = every_row(engine)
    assert (rows["submission"], rows["draft_plan"], rows["answer"], rows["outbox"]) \
        == ([], [], [], [])
    [kept] = rows["delivered_request"]  # the unit's copy is the unit's to keep
    assert kept["submission_id"] is None
    # The chat, idle since the request was sent and now empty, goes with it.
    assert rows["conversation"] == []
    assert events(engine) == ["request_expired", "conversation_expired"]


def test_a_request_never_acknowledged_goes_after_a_year(engine: Engine, clock: Clock) -> None:
    Person(runner_for(engine, clock), "5550007").send_request()
    at_day(clock, 364)
    assert worker(engine, clock).run_once_sync().requests == 0
    at_day(clock, 365)
    assert worker(engine, clock).run_once_sync().requests == 1


def test_a_saved_draft_goes_after_90_days(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "5550008", municipality="Oslo")
    person.go_to(Step.REVIEW)
    person.say(ChoiceEvent("send"))  # "Save" where the municipality is not reachable
    assert every_row(engine)["submission"][0]["status"] == "saved"
    at_day(clock, 89)
    assert worker(engine, clock).run_once_sync().requests == 0
    at_day(clock, 90)
    assert worker(engine, clock).run_once_sync().requests == 1


def test_an_empty_chat_goes_after_30_idle_days(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "5550009")
    person.go_to(Step.GIVE_CONSENT)
    person.say(ChoiceEvent("decline"))
    at_day(clock, 29)
    assert worker(engine, clock).run_once_sync().conversations == 0
    at_day(clock, 30)
    assert worker(engine, clock).run_once_sync().conversations == 1
    assert every_row(engine)["conversation"] == []
    assert events(engine) == ["conversation_expired"]


def test_the_periods_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DINPLAN_DRAFT_RETENTION_DAYS", "45")
    monkeypatch.setenv("DINPLAN_REQUEST_RETENTION_DAYS", "60")
    settings = Settings()
    assert policy_from_settings(settings) == RetentionPolicy(draft_days=45, request_days=60)
    dialog = dialog_from_settings(settings)
    from dialogs.draft import Conversation

    conv = Conversation(step=Step.GIVE_CONSENT, language=Language.BOKMAL)
    shown = "\n".join(render(Language.BOKMAL, r).text for r in dialog.greet(conv).replies)
    assert "45 dager" in shown
    assert "60 dager" in shown


def test_defaults() -> None:
    settings = Settings()
    assert (settings.draft_retention_days, settings.draft_reminder_days_before,
            settings.request_retention_days) == (30, 7, 90)


async def test_the_bot_runs_it_on_its_job_queue(engine: Engine) -> None:
    """`schedule_retention` puts a repeating job on PTB's JobQueue whose run reminds through
    the bot's send_message."""
    started = datetime.now(UTC) - timedelta(days=23, minutes=1)
    clock = Clock(started)
    drafting(engine, clock, "4004001")
    async with offline_bot(engine, clock) as (app, request):
        settings = Settings(retention_interval_minutes=15)
        job = schedule_retention(app, engine, settings, first=3600)
        assert job.name == "retention"
        assert app.job_queue is not None
        assert job in app.job_queue.jobs()
        request.take()
        await job.run(app)
        job.schedule_removal()
    [call] = [c for c in request.calls if c.endpoint == "sendMessage"]
    assert int(call.params["chat_id"]) == 4004001
    assert call.text == render(Language.NYNORSK, Reply("privacy.reminder", {
        "date": local_date(started + timedelta(days=30))})).text
    assert callable(retention_job)


def test_dinplan_retention_once(engine: Engine, database_url: str, encryption_key: str) -> None:
    clock = Clock(datetime.now(UTC) - timedelta(days=31))
    drafting(engine, clock, "5550010")
    env = {**os.environ, "DINPLAN_DATABASE_URL": database_url,
           "DINPLAN_ENCRYPTION_KEY": encryption_key, "DINPLAN_LOG_LEVEL": "WARNING"}
    env.pop("DINPLAN_TELEGRAM_TOKEN", None)
    result = subprocess.run([sys.executable, "-m", "bot.cli", "retention"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "deleted 1 unsent drafts" in result.stdout
    assert every_row(engine)["draft_plan"] == []


def test_a_turn_and_retention_do_not_overtake_each_other(engine: Engine, clock: Clock) -> None:
    """Retention decides under the chat's lock: a draft sent after the candidates were read is
    not deleted."""
    from storage import privacy

    person = drafting(engine, clock, "5550011")
    at_day(clock, 30)
    with unit_of_work(engine) as session:
        candidates = privacy._expired_drafts(session, clock(), RetentionPolicy())
    assert len(candidates) == 1
    person.send_request()
    with unit_of_work(engine) as session:
        assert not privacy._forget_draft(session, draft_id=candidates[0].id, unsent_only=True)
    with unit_of_work(engine) as session:
        assert session.exec(select(DeliveredRequest)).all() == []
        assert len(session.exec(select(Submission)).all()) == 1


def test_an_idle_chat_that_speaks_again_before_its_turn_stays(engine: Engine,
                                                               clock: Clock) -> None:
    """Each idle chat is checked again under its own lock, for itself only: one that wrote
    after the candidates were read stays, the other goes."""
    from storage import privacy

    for chat_id in ("5550021", "5550022"):
        person = Person(runner_for(engine, clock), chat_id)
        person.go_to(Step.GIVE_CONSENT)
        person.say(ChoiceEvent("decline"))
    at_day(clock, 30)
    with unit_of_work(engine) as session:
        candidates = privacy._idle_conversations(session, clock(), RetentionPolicy())
    assert sorted(row.chat_id for row in candidates) == ["5550021", "5550022"]
    Person(runner_for(engine, clock), "5550021").say(TextEvent("hei"))
    with unit_of_work(engine) as session:
        rechecked = {row.chat_id: privacy._idle_conversations(session, clock(),
                                                              RetentionPolicy(),
                                                              conversation_id=row.id)
                     for row in candidates}
    assert [row.chat_id for row in rechecked["5550022"]] == ["5550022"]
    assert rechecked["5550021"] == []
    assert worker(engine, clock).run_once_sync().conversations == 1
    assert [row["chat_id"] for row in every_row(engine)["conversation"]] == ["5550021"]
