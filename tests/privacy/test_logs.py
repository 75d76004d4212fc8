"""Logs never hold answer text, names or phone numbers: whole conversations with canaries, at
DEBUG, in the terminal and at Telegram handler level, then delivery, the inbox, the notifier and
retention; every log record is searched (caplog), and the stderr of `dinplan` processes."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.delivery import DeliveryWorker
from bot.notifier import Notifier
from bot.retention import RetentionWorker
from bot.telegram.app import quiet_logs
from bot.terminal import TerminalChat
from dialogs.draft import Language
from dialogs.events import ChoiceEvent, Command
from dialogs.render import message
from dialogs.steps import Step
from inbox.app import create_app
from storage.db import unit_of_work
from storage.models import DeliveredRequest
from storage.privacy import RetentionPolicy
from storage.staff import add_staff, complete_setup
from storage.units import default_directory
from tests.conftest import ROOT
from tests.privacy.helpers import (
    ANSWER,
    CANARIES,
    CONTACT_NAME,
    COORDINATOR_WISH,
    OTHER_ANSWERS,
    PERSON_NAME,
    PHONE_TYPED,
    REACH_TIME,
    Clock,
    Person,
    runner_for,
)
from tests.privacy.telegram import offline_bot, walk
from tests.telegram.offline import Person as Phone

PASSWORD = "korrekt hest batteri stift"
GULEN = "gulen-koordinerande-eining"


def leaks(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary in text]


def logged(records: list[logging.LogRecord]) -> str:
    """Everything the records would write: messages, arguments, exceptions, stack info."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(r) + repr(r.args) + repr(r.__dict__.get("extra"))
                     for r in records)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """DEBUG everywhere, with the bot's own settings for its libraries (`dinplan run`), and
    SQLAlchemy's statement log on (echo), whose parameters the engines hide."""
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    caplog.set_level(logging.DEBUG)  # last: it also sets the capturing handler's level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "telegram")}
    quiet_logs()
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def staff_browser(engine: Engine, clock: Clock) -> TestClient:
    with unit_of_work(engine) as session:
        account, _token = add_staff(session, unit_id=GULEN, name="Siri Sæbø", now=clock())
        totp = pyotp.TOTP(account.totp_secret)
        assert complete_setup(session, account=account, password=PASSWORD, repeated=PASSWORD,
                              code=totp.at(clock() - timedelta(seconds=30)), now=clock()) is None
        login = account.login
    browser = TestClient(create_app(engine, clock=clock), base_url="https://testserver",
                         follow_redirects=False)
    page = browser.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    answer = browser.post("/login", data={"csrf_token": token.group(1), "login": login,
                                          "password": PASSWORD, "code": totp.at(clock())})
    assert answer.status_code == 303
    return browser


def use_the_inbox(engine: Engine, clock: Clock) -> None:
    """Staff read the request, download it in every format, confirm it and write a note."""
    with staff_browser(engine, clock) as browser:
        with unit_of_work(engine) as session:
            delivered = session.exec(select(DeliveredRequest)).first()
            assert delivered is not None
            reference = delivered.reference
        assert browser.get("/requests").status_code == 200
        page = browser.get(f"/requests/{reference}")
        assert ANSWER in page.text  # the unit sees what was shared; it is just never logged
        for kind in ("pdf", "json", "fhir"):
            assert browser.get(f"/requests/{reference}/download/{kind}").status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        for path, data in (("acknowledge", {}), ("status", {"status": "in_progress"}),
                           ("notes", {"note": "Ring tilbake"})):
            done = browser.post(f"/requests/{reference}/{path}",
                                data={"csrf_token": token.group(1), **data})
            assert done.status_code == 303


async def test_nothing_a_person_wrote_is_logged(engine: Engine, clock: Clock,
                                                debug_logs: pytest.LogCaptureFixture,
                                                tmp_path: Path) -> None:
    # In Telegram: a whole conversation to the sent request, their data, and an erasure later.
    sent_messages: list[tuple[int | str, str]] = []  # notices give an int chat id, reminders a str
    async with offline_bot(engine, clock) as (app, request):
        phone = Phone(app, request, chat_id=880011, language_code="nn")
        answers = Person(runner_for(engine, clock), "unused", language=Language.NYNORSK)
        await walk(phone, engine, answers, Step.SENT)
        await phone.write("/mine_data")
        await phone.write("/status")
        second = Phone(app, request, chat_id=880012, language_code="nb")
        await walk(second, engine, Person(runner_for(engine, clock), "x"), Step.GIVE_PHONE)
        await second.write("12")  # an invalid phone number is explained, not logged
        await second.write("/slett")

    # In the terminal: one who drafts, exports and withdraws consent.
    runner = runner_for(engine, clock)
    drafter = Person(runner, "terminal-1", language=Language.BOKMAL)
    drafter.go_to(Step.REVIEW)
    TerminalChat(runner, "terminal-1", stdin=__import__("io").StringIO("/mine_data\n"),
                 stdout=__import__("io").StringIO(), export_dir=tmp_path).run()
    drafter.command(Command.WITHDRAW_CONSENT)
    drafter.say(ChoiceEvent("yes"))

    # Delivery to the unit, the unit's inbox, the notice back to the person.
    await DeliveryWorker(engine, default_directory(), clock=clock,
                         send_alert=lambda chat, text: None).run_once()
    use_the_inbox(engine, clock)
    await Notifier(engine, default_directory(), clock=clock,
                   send=lambda chat, text: sent_messages.append((chat, text))).run_once()

    # Retention with a reminder.
    late = Person(runner, "5551234", channel="telegram")
    late.go_to(Step.ASK_WHAT_FIRST)
    clock.advance(days=23)
    await RetentionWorker(engine, RetentionPolicy(), clock=clock,
                          send=lambda chat, text: sent_messages.append((chat, text))).run_once()
    clock.advance(days=8)
    await RetentionWorker(engine, RetentionPolicy(), clock=clock).run_once()

    records = debug_logs.records
    assert any(r.levelno == logging.DEBUG for r in records)  # DEBUG was on
    assert any(r.name.startswith("sqlalchemy.engine") and "parameters hidden" in logged([r])
               for r in records)  # the statements were logged, without their values
    assert leaks(logged(records)) == []
    assert leaks(repr(sent_messages)) == []  # notices and reminders quote nothing either


def test_a_failing_delivery_logs_no_content(engine: Engine, clock: Clock,
                                            debug_logs: pytest.LogCaptureFixture,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception whose message quotes the draft (a database error does) is logged by its
    class only."""
    Person(runner_for(engine, clock), "fails-1").send_request()

    def broken(*args: object, **kwargs: object) -> None:
        raise LookupError(f"could not read {ANSWER} for {CONTACT_NAME}")

    monkeypatch.setattr("bot.delivery.document_from_rows", broken)
    report = DeliveryWorker(engine, default_directory(), clock=clock).run_once_sync()
    assert report.failed == 1
    text = logged(debug_logs.records)
    assert "LookupError" in text
    assert leaks(text) == []


def dinplan(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=180, check=False)


def test_dinplan_processes_log_nothing_a_person_wrote(database_url: str, encryption_key: str,
                                                      tmp_path: Path) -> None:
    """`dinplan chat` through a whole conversation at DEBUG, then `deliver`, `notify` and
    `retention`: their stderr holds no canary."""
    nn = Language.NYNORSK
    lines = [
        "2",  # Nynorsk
        message(nn, "option.continue"), message(nn, "option.consent"),
        message(nn, "option.yes_remind"), message(nn, "option.for_someone_else"),
        PERSON_NAME, message(nn, "relation.child"), message(nn, "basis.person_agrees"),
        message(nn, "request.plan_and_coordinator"),
        ANSWER, *[f"{OTHER_ANSWERS} {n}" for n in range(5)],
        message(nn, "service.gp"), message(nn, "option.done"),
        message(nn, "option.has_coordinator_wish"), COORDINATOR_WISH,
        CONTACT_NAME, PHONE_TYPED, REACH_TIME, "Gulen",
        "/mine_data", message(nn, "option.send"), "/status",
    ]
    env = {**os.environ, "DINPLAN_DATABASE_URL": database_url,
           "DINPLAN_ENCRYPTION_KEY": encryption_key, "DINPLAN_LOG_LEVEL": "DEBUG",
           "PYTHONIOENCODING": "utf-8"}
    env.pop("DINPLAN_TELEGRAM_TOKEN", None)
    chat = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--user", "logtest"],
                          cwd=tmp_path, env=env, input="\n".join(lines) + "\n",
                          capture_output=True, text=True, timeout=180, check=False)
    assert chat.returncode == 0, chat.stderr
    assert message(nn, "receipt.complaint") in chat.stdout  # it got all the way
    assert ANSWER in chat.stdout  # the person sees their answers; the log must not
    outputs = [chat.stderr]
    for command in (["deliver"], ["notify"], ["retention"], ["status"]):
        result = dinplan(*command, env=env)
        assert result.returncode == 0, result.stderr
        outputs += [result.stderr, result.stdout]
    erase = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--user", "logtest"],
                           cwd=tmp_path, env=env, input="/slett\n1\n", capture_output=True,
                           text=True, timeout=180, check=False)
    assert message(nn, "erased").split(".")[0] in erase.stdout
    outputs.append(erase.stderr)
    assert " INFO " in "\n".join(outputs)  # the processes did log
    assert leaks("\n".join(outputs)) == []


def test_a_logged_exception_never_shows_its_message(encryption_key: str) -> None:
    """`dinplan` formats a logged exception by type and code lines: `int()` quoting what a
    person typed, or a database error quoting its values, cannot reach the log."""
    script = "\n".join([
        "import logging, sys",
        "import bot.keys_cli",
        "def fails(args):",
        "    try:",
        "        try:",
        f"            int({ANSWER!r})",
        "        except ValueError as error:",
        f"            raise KeyError({CONTACT_NAME!r}) from error",
        "    except KeyError:",
        "        logging.getLogger('bot.test').exception('the turn failed')",
        "    return 0",
        "bot.keys_cli._keys_new = fails",
        "from bot.cli import main",
        "sys.exit(main(['keys', 'new']))",
    ])
    env = {**os.environ, "DINPLAN_ENCRYPTION_KEY": encryption_key, "DINPLAN_LOG_LEVEL": "DEBUG"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "the turn failed" in result.stderr
    assert "builtins.ValueError (message not logged)" in result.stderr
    assert "builtins.KeyError (message not logged)" in result.stderr
    assert "line 6, in fails" in result.stderr  # where it happened is still there
    assert leaks(result.stderr) == []
