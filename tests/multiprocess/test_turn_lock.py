"""One turn of a chat at a time, each update applied once: the runner's unit of work with its
chat lock and its update claim, on SQLite and on PostgreSQL.

Each runner has an engine of its own, as each process has; the child-process test kills a turn
half-way through its transaction.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.runner import ALREADY_HANDLED, DialogRunner, Turn, TurnScope, UpdateKey
from dialogs.draft import Conversation
from dialogs.events import Event, UnsupportedEvent
from dialogs.machine import Dialog
from storage.conversations import load_conversation
from storage.db import make_engine
from storage.updates import ProcessedUpdate
from tests.conftest import FIXED_NOW, ROOT

CHANNEL = "telegram"
CHAT = "4242"
OTHER_CHAT = "1717"
BOT = 8_123_456_789
WAIT = 10.0


@pytest.fixture
def engines(database_url: str) -> Iterator[Callable[[], Engine]]:
    """Engines of their own on the test's database, as separate processes would have."""
    made: list[Engine] = []

    def make() -> Engine:
        made.append(make_engine(database_url))
        return made[-1]
    yield make
    for engine in made:
        engine.dispose()


def runner_on(engine: Engine, dialog: Dialog | None = None) -> DialogRunner:
    return DialogRunner(engine, dialog=dialog, clock=lambda: FIXED_NOW)


def stored(engine: Engine, chat: str = CHAT) -> Conversation:
    with Session(engine) as session:
        return load_conversation(session, channel=CHANNEL, chat_id=chat)


def claims(engine: Engine, update_id: int) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(ProcessedUpdate).where(
            ProcessedUpdate.bot_id == BOT, ProcessedUpdate.update_id == update_id)).one())


class InThread:
    """A call in a thread of its own; `result` once it is done."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.result = call()
            except BaseException as error:  # handed to the test by `join`
                self.error = error
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self) -> Any:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the call did not end"
        if self.error is not None:
            raise self.error
        return self.result


def test_a_chats_turns_wait_for_each_other(engines: Callable[[], Engine],
                                           database_url: str) -> None:
    """A turn started while another turn of the chat is open waits for its commit, then sees
    it: no answer is lost to a second process writing over the first."""
    first, second = runner_on(engines()), runner_on(engines())
    holding, release = threading.Event(), threading.Event()

    def slow(scope: TurnScope) -> Turn:
        holding.set()
        assert release.wait(WAIT)
        return scope.handle(UnsupportedEvent())

    slow_turn = InThread(lambda: first.within(CHANNEL, CHAT, slow,
                                              update=UpdateKey(BOT, 1)))
    assert holding.wait(WAIT)
    waiting = InThread(lambda: second.handle(CHANNEL, CHAT, UnsupportedEvent(),
                                             update=UpdateKey(BOT, 2)))
    time.sleep(0.3)
    assert waiting.thread.is_alive(), "the second turn did not wait for the chat's lock"
    if database_url.startswith("postgresql"):
        # Other chats go on meanwhile (SQLite has one writer for all chats).
        other = second.handle(CHANNEL, OTHER_CHAT, UnsupportedEvent())
        assert other.turn == 1
    release.set()
    assert slow_turn.join().turn == 1
    assert waiting.join().turn == 2  # it saw the first turn's commit
    assert stored(engines()).turn == 2


def test_an_update_delivered_twice_at_once_is_applied_once(
        engines: Callable[[], Engine]) -> None:
    runners = [runner_on(engines()) for _ in range(4)]
    start = threading.Barrier(len(runners))

    def deliver(runner: DialogRunner) -> Callable[[], Turn | None]:
        def call() -> Turn | None:
            start.wait(WAIT)
            return runner.handle(CHANNEL, CHAT, UnsupportedEvent(), update=UpdateKey(BOT, 7))
        return call

    results = [call.join() for call in [InThread(deliver(r)) for r in runners]]
    assert sum(result is not None for result in results) == 1
    engine = engines()
    assert stored(engine).turn == 1
    assert claims(engine, 7) == 1
    # Later deliveries, to any process, are skipped without touching the conversation.
    assert runners[0].handle(CHANNEL, CHAT, UnsupportedEvent(), update=UpdateKey(BOT, 7)) is None
    assert runners[1].within(CHANNEL, CHAT, lambda scope: scope.again(),
                             update=UpdateKey(BOT, 7)) is ALREADY_HANDLED
    assert stored(engine).turn == 1


def test_a_failed_turn_leaves_its_update_to_be_handled_again(
        engines: Callable[[], Engine]) -> None:
    class Broken(Dialog):
        def handle(self, conv: Conversation, event: Event, now: datetime) -> Any:
            super().handle(conv, event, now)
            raise RuntimeError("boom")

    engine = engines()
    failed = runner_on(engine, Broken()).handle(CHANNEL, CHAT, UnsupportedEvent(),
                                                 update=UpdateKey(BOT, 9))
    assert failed is not None
    assert failed.turn == 0
    assert claims(engine, 9) == 0
    again = runner_on(engine).handle(CHANNEL, CHAT, UnsupportedEvent(), update=UpdateKey(BOT, 9))
    assert again is not None
    assert again.turn == 1
    assert claims(engine, 9) == 1


CHILD = textwrap.dedent("""
    import os, sys
    import bot.runner
    from bot.runner import DialogRunner, UpdateKey
    from dialogs.events import UnsupportedEvent
    from storage.db import make_engine

    url, bot_id, update_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    real = bot.runner.save_turn

    def die(*args, **kwargs):
        real(*args, **kwargs)  # the claim and the turn are written, not committed
        os._exit(9)

    bot.runner.save_turn = die
    DialogRunner(make_engine(url)).handle("telegram", "4242", UnsupportedEvent(),
                                          update=UpdateKey(bot_id, update_id))
""")


def test_a_process_killed_mid_turn_leaves_neither_claim_nor_turn(
        engines: Callable[[], Engine], database_url: str) -> None:
    """Between claim and commit nothing is kept, so a redelivery is applied, once."""
    engine = engines()
    runner_on(engine).handle(CHANNEL, CHAT, UnsupportedEvent(), update=UpdateKey(BOT, 10))
    done = subprocess.run([sys.executable, "-c", CHILD, database_url, str(BOT), "11"],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 9, done.stderr
    assert claims(engine, 11) == 0
    assert stored(engine).turn == 1
    # The server ends the dead client's transaction, and its lock, when the connection drops.
    turn = runner_on(engines()).handle(CHANNEL, CHAT, UnsupportedEvent(),
                                       update=UpdateKey(BOT, 11))
    assert turn is not None
    assert turn.turn == 2
    assert claims(engine, 11) == 1
