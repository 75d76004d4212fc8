"""Fixtures for the Telegram bot: an offline Application per test, and the emulator set-up.

Handler tests push real `Update`s through `Application.process_update` on an application whose
requests never leave the process (`offline.py`), on a fresh migrated SQLite file. End-to-end
tests (`test_e2e_*.py`) share one emulator per session (`emulator`, tests/conftest.py) and start
the real `dinplan run`; they never skip: without node and npm they fail and say how to install
them.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from telegram.ext import Application

from bench.offline_config import offline_limiter
from bot.runner import DialogRunner
from bot.telegram.app import build_application
from tests.telegram.emulator import Bots, Emulator, Phone, SetupError
from tests.telegram.offline import OFFLINE, OfflineRequest, Person


@pytest.fixture
def telegram_runner(sqlite_engine: Engine) -> DialogRunner:
    return DialogRunner(sqlite_engine, escape=html.escape)


@pytest.fixture
async def app(telegram_runner: DialogRunner,
              offline: OfflineRequest) -> AsyncIterator[Application]:
    application = build_application(OFFLINE, telegram_runner, request=offline,
                                    rate_limiter=offline_limiter())
    await application.initialize()
    offline.take()
    yield application
    await application.shutdown()


@pytest.fixture
def person(app: Application, offline: OfflineRequest) -> Callable[..., Person]:
    """Someone new in a private chat: `person(language_code="nn")`."""
    chat_ids = iter(range(5001, 6000))

    def make(*, language_code: str | None = "nb", name: str = "Kari") -> Person:
        return Person(app, offline, chat_id=next(chat_ids), language_code=language_code,
                      name=name)
    return make


# -- end to end ----------------------------------------------------------------------------------

@pytest.fixture
def bots(emulator: Emulator, tmp_path: Path) -> Iterator[Bots]:
    try:
        started = Bots(emulator, tmp_path)
    except SetupError as error:
        pytest.fail(str(error), pytrace=False)
    yield started
    started.stop_all()


@pytest.fixture
def phone(emulator: Emulator) -> Callable[..., Phone]:
    chat_ids = iter(range(1, 10_000))
    base = 10_000 * (1 + emulator.process.pid % 1000)

    def make(token: str, *, language_code: str | None = "nb", name: str = "Kari") -> Phone:
        return Phone(emulator, token, chat_id=base + next(chat_ids),
                     language_code=language_code, name=name)
    return make
