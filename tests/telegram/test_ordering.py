"""Many chats at once, each chat strictly in order."""

from __future__ import annotations

import asyncio
import html
import random
import threading
import time
from collections import defaultdict
from typing import Any

from sqlalchemy.engine import Engine
from telegram import Update

from bench.offline_config import OFFLINE, offline_limiter
from bot.runner import DialogRunner
from bot.telegram.app import build_application
from bot.telegram.ordering import PerChatUpdateProcessor
from dialogs.steps import QUESTION_STEPS, Step
from storage.db import one_writer_at_a_time
from tests.telegram.lines import label, say
from tests.telegram.offline import OfflineRequest
from tests.telegram.walk import stored

CHATS = 30


def message_update(update_id: int, chat_id: int, text: str) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "text": text,
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "K", "language_code": "nb"}}},
        None)


async def test_the_processor_runs_chats_together_and_each_chat_in_order() -> None:
    processor = PerChatUpdateProcessor(64)
    events: list[tuple[int, int, str]] = []
    running, most = 0, 0

    async def work(chat: int, number: int) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        events.append((chat, number, "start"))
        await asyncio.sleep(random.uniform(0, 0.005))
        events.append((chat, number, "end"))
        running -= 1

    updates = [(chat, number) for number in range(10) for chat in range(20)]
    await asyncio.gather(*(processor.process_update(message_update(i, chat, "x"),
                                                    work(chat, number))
                           for i, (chat, number) in enumerate(updates)))
    by_chat: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for chat, number, what in events:
        by_chat[chat].append((number, what))
    for chat, seen in by_chat.items():
        # start 0, end 0, start 1, end 1, ...: in order, never two at once.
        assert seen == [(n, w) for n in range(10) for w in ("start", "end")], chat
    assert most > 5
    assert processor.busy_chats == 0  # nothing kept once the chats are quiet


class WatchedRunner(DialogRunner):
    """The real runner, slowed a little, noting which turns overlap."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, escape=html.escape)
        self.lock = threading.Lock()
        self.running: dict[str, int] = defaultdict(int)
        self.overlap_in_chat = False
        self.most_at_once = 0

    def within(self, channel: str, chat_id: str, work: Any, *, update: Any = None) -> Any:
        """Every Telegram turn goes through here (the runner's unit of work)."""
        with self.lock:
            self.running[chat_id] += 1
            self.overlap_in_chat |= self.running[chat_id] > 1
            self.most_at_once = max(self.most_at_once, sum(self.running.values()))
        try:
            time.sleep(0.005)
            return super().within(channel, chat_id, work, update=update)
        finally:
            with self.lock:
                self.running[chat_id] -= 1


async def test_many_chats_writing_fast_are_each_answered_in_order(
        engine: Engine, offline: OfflineRequest) -> None:
    runner = WatchedRunner(engine)
    app = build_application(OFFLINE, runner, request=offline, rate_limiter=offline_limiter())
    await app.initialize()
    await app.start()  # the update fetcher and the per-chat processor, without polling
    try:
        script = ["/start", label("nb", "option.continue"), label("nb", "option.consent"),
                  label("nb", "option.no_remind"), label("nb", "option.for_myself"),
                  label("nb", "request.plan_and_coordinator"),
                  *[f"Svar {n}" for n in range(1, len(QUESTION_STEPS) + 1)]]
        chats = range(9001, 9001 + CHATS)
        update_id = 0
        for line in script:  # every chat's first message, then every chat's second...
            for chat in chats:
                update_id += 1
                await app.update_queue.put(message_update(update_id, chat, line))
        await asyncio.wait_for(app.update_queue.join(), timeout=60)
    finally:
        await app.stop()
        await app.shutdown()
    if one_writer_at_a_time(engine):
        # SQLite writes one transaction at a time: the turns queue in the bot, in order, rather
        # than wait in SQLite's busy handler (unfair; under load one failed with "database is
        # locked").
        assert runner.most_at_once == 1, "SQLite's turns ran at once, waiting in SQLite"
    else:
        assert runner.most_at_once > 1, "chats were handled one at a time"
    assert not runner.overlap_in_chat, "two updates of one chat were handled at once"
    for chat in chats:
        conv = stored(engine, chat)
        assert conv.step is Step.CHOOSE_SERVICES, chat
        answers = [conv.draft.answers[step].text for step in QUESTION_STEPS]
        assert answers == [f"Svar {n}" for n in range(1, len(QUESTION_STEPS) + 1)], chat
    # And each chat's replies went out in the order of its questions.
    total = len(QUESTION_STEPS)
    for chat in chats:
        said = [c.text for c in offline.sent(chat_id=chat)]
        where = [next(i for i, text in enumerate(said)
                      if say("nb", "question.progress", number=n, total=total) in text)
                 for n in range(1, total + 1)]
        assert where == sorted(where), chat
