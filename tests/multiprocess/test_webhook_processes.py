"""Two `dinplan run --webhook` processes on one PostgreSQL database: the updates of 50 chats,
each chat's updates posted to the two processes in turn, some twice (to both at once, or again
later), and at the end two updates of every chat to both processes at once.

The same updates, one at a time, through the bot's own handlers in this process (the offline
Bot API of tests/telegram) on a SQLite file, are the single-process run: every chat's stored
conversation must be exactly where that run left it, every update applied once, every reply sent
once, and neither process may log an error.

Telegram posts a chat's next update after the previous one was answered; the processes answer
when the update is queued, before its turn. So the test, like Telegram at its most eager, posts a
chat's next update as soon as the previous one's turn has committed (its id is in
`processed_update`, written in the turn's transaction). The two updates of the last round have no
order between them; their turns change only the turn counter, so any order gives the same state,
and a turn lost to the other process's (no lock) would show in it.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import random
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Update

from bench.offline_config import OFFLINE, offline_limiter
from bot.runner import DialogRunner
from bot.telegram.app import build_application
from bot.telegram.conversation import CHANNEL, screen_of
from dialogs.draft import Conversation
from storage.conversations import load_conversation
from storage.db import make_engine
from storage.migrate import upgrade
from storage.updates import ProcessedUpdate
from tests.telegram.emulator import DINPLAN, Emulator, free_port, stop, wait_for_line
from tests.telegram.offline import OfflineRequest

CHATS = 50
ROUNDS = 8  # updates of each chat posted one after the other
FIRST_CHAT = 7_300_001
SECRET = "multi-process_webhook-secret-0123456789"
WAIT = 30.0


@dataclass(frozen=True)
class Chat:
    index: int
    chat_id: int
    language_code: str

    @property
    def user(self) -> dict[str, Any]:
        return {"id": self.chat_id, "is_bot": False, "first_name": "Kari",
                "language_code": self.language_code}

    def message(self, update_id: int, **fields: Any) -> dict[str, Any]:
        return {"update_id": update_id, "message": {
            "message_id": update_id, "date": int(time.time()), "from": self.user,
            "chat": {"id": self.chat_id, "type": "private", "first_name": "Kari"}, **fields}}

    def text(self, update_id: int, text: str) -> dict[str, Any]:
        if text.startswith("/"):
            entity = {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            return self.message(update_id, text=text, entities=[entity])
        return self.message(update_id, text=text)

    def sticker(self, update_id: int) -> dict[str, Any]:
        return self.message(update_id, sticker={
            "file_id": f"sticker-{update_id}", "file_unique_id": f"s{update_id}",
            "type": "regular", "width": 512, "height": 512, "is_animated": False,
            "is_video": False})


CHAT_LIST = [Chat(i, FIRST_CHAT + i, "nn" if i % 2 else "nb") for i in range(CHATS)]


def update_id(round_: int, chat: Chat) -> int:
    """Ids grow with time, as Telegram's do."""
    return 1000 + round_ * CHATS + chat.index


def what_to_write(chat: Chat, round_: int, conv: Conversation) -> str:
    """What the person writes next, seeing the screen: an option's label where there are
    options (not always the first), else an answer; now and then /tilbake, which makes the
    order of the updates show in where the conversation ends up."""
    if round_ == 0:
        return "/start"
    if round_ == 5 and chat.index % 3 == 0:
        return "/tilbake"
    screen = screen_of(conv)
    if screen.options:
        pick = round_ % len(screen.options) if chat.index % 4 == 3 else 0
        return html.unescape(screen.options[pick].label)
    if screen.asks_for_phone:
        return "912 34 567"
    return f"Svar {round_} i samtale {chat.index}: æøå"


# -- the single-process run ----------------------------------------------------------------------

@dataclass
class Reference:
    updates: dict[int, list[dict[str, Any]]]  # round -> one update per chat
    last: list[tuple[dict[str, Any], dict[str, Any]]]  # two stickers per chat
    conversations: dict[int, Conversation]
    replies: dict[int, list[str]]  # chat id -> texts of the bot's messages


def stored(engine: Engine, chat: Chat) -> Conversation:
    with Session(engine) as session:
        return load_conversation(session, channel=CHANNEL, chat_id=str(chat.chat_id))


async def single_process_run(folder: Path) -> Reference:
    url = f"sqlite:///{folder / 'reference.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    request = OfflineRequest()
    app = build_application(OFFLINE, DialogRunner(engine, escape=html.escape), request=request,
                            rate_limiter=offline_limiter())
    await app.initialize()
    request.take()

    async def deliver(data: dict[str, Any]) -> None:
        await app.process_update(Update.de_json(data, app.bot))

    try:
        updates: dict[int, list[dict[str, Any]]] = {}
        for round_ in range(ROUNDS):
            updates[round_] = []
            for chat in CHAT_LIST:
                conv = await asyncio.to_thread(stored, engine, chat)
                data = chat.text(update_id(round_, chat), what_to_write(chat, round_, conv))
                updates[round_].append(data)
                await deliver(data)
        last = [(chat.sticker(update_id(ROUNDS, chat)), chat.sticker(update_id(ROUNDS + 1, chat)))
                for chat in CHAT_LIST]
        for first, second in last:
            await deliver(first)
            await deliver(second)
        conversations = {chat.chat_id: stored(engine, chat) for chat in CHAT_LIST}
    finally:
        await app.shutdown()
        engine.dispose()
    replies = {chat.chat_id: [str(call.params["text"])
                              for call in request.sent("sendMessage", chat.chat_id)]
               for chat in CHAT_LIST}
    return Reference(updates, last, conversations, replies)


# -- the processes -------------------------------------------------------------------------------

@dataclass
class WebhookBot:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def two_bots(emulator: Emulator, postgres_url: str, encryption_key: str,
             tmp_path: Path) -> Iterator[tuple[str, list[WebhookBot]]]:
    token = emulator.new_token()
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("DINPLAN_")}
    bots: list[WebhookBot] = []
    try:
        for number in (1, 2):
            port = free_port()
            url = f"http://127.0.0.1:{port}/telegram"
            log = tmp_path / f"bot-{number}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [str(DINPLAN), "run", "--webhook"], cwd=tmp_path, stdout=out,
                    stderr=subprocess.STDOUT, env={
                        **environment, "DINPLAN_TELEGRAM_TOKEN": token,
                        "DINPLAN_TELEGRAM_BASE_URL": f"{emulator.url}/bot",
                        "DINPLAN_DATABASE_URL": postgres_url,
                        "DINPLAN_ENCRYPTION_KEY": encryption_key,
                        "DINPLAN_WEBHOOK_URL": url, "DINPLAN_WEBHOOK_SECRET": SECRET,
                        "DINPLAN_WEBHOOK_LISTEN": "127.0.0.1",
                        "DINPLAN_WEBHOOK_PORT": str(port), "DINPLAN_LOG_LEVEL": "INFO"})
            bots.append(WebhookBot(url, process, log))
        for bot in bots:
            wait_for_line(bot.log, "Application started", bot.process, 60)
        yield token, bots
    finally:
        for bot in bots:
            stop(bot.process)


def post(url: str, update: dict[str, Any]) -> int:
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers={
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def claimed(engine: Engine, bot_id: int, ids: set[int]) -> set[int]:
    with Session(engine) as session:
        return set(session.exec(select(ProcessedUpdate.update_id).where(
            ProcessedUpdate.bot_id == bot_id, col(ProcessedUpdate.update_id).in_(ids))))


def wait_until_claimed(engine: Engine, bot_id: int, ids: set[int]) -> None:
    deadline = time.monotonic() + WAIT
    while (done := claimed(engine, bot_id, ids)) != ids:
        assert time.monotonic() < deadline, f"not applied: {sorted(ids - done)[:10]}"
        time.sleep(0.02)


def bot_messages(emulator: Emulator, token: str) -> dict[int, list[str]]:
    by_chat: dict[int, list[str]] = {}
    for item in emulator.post("/getUpdatesHistory", {"token": token}):
        message = item.get("message", {})
        if "chat_id" in message:
            by_chat.setdefault(int(message["chat_id"]), []).append(str(message.get("text", "")))
    return by_chat


def projection(conv: Conversation) -> dict[str, Any]:
    """Everything about where a conversation stands, but the moments things happened at."""
    return {"step": conv.step, "language": conv.language, "history": conv.history,
            "return_to": conv.return_to, "editing": conv.editing,
            "reached_review": conv.reached_review, "turn": conv.turn,
            "consented": conv.consented_at is not None,
            "consent_version": conv.consent_version, "declined": conv.declined_at is not None,
            "municipality_suggestions": conv.municipality_suggestions, "draft": conv.draft,
            "submitted": conv.submission is not None}


def test_two_webhook_processes_apply_each_chats_updates_once_and_in_order(
        two_bots: tuple[str, list[WebhookBot]], emulator: Emulator, postgres_url: str,
        tmp_path: Path) -> None:
    started = time.monotonic()
    reference = asyncio.run(single_process_run(tmp_path))
    reference_seconds = time.monotonic() - started
    token, bots = two_bots
    bot_id = int(emulator.bot_call(token, "getMe", {})["id"])  # what the bot claims under
    engine = make_engine(postgres_url)
    shuffle = random.Random(7)
    posted: Counter[int] = Counter()

    def post_all(posts: list[tuple[str, dict[str, Any]]]) -> None:
        shuffle.shuffle(posts)
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda p: post(*p), posts))
        assert statuses == [200] * len(posts)
        posted.update(update["update_id"] for _url, update in posts)

    try:
        started = time.monotonic()
        for round_ in range(ROUNDS):
            posts: list[tuple[str, dict[str, Any]]] = []
            for chat, update in zip(CHAT_LIST, reference.updates[round_], strict=True):
                turn = (chat.index + round_) % 2  # each chat's updates go to both in turn
                posts.append((bots[turn].url, update))
                if (chat.index + round_) % 4 == 0:  # a redelivery, to the other, at once
                    posts.append((bots[1 - turn].url, update))
                if round_ and (chat.index + round_) % 5 == 0:  # an old one, again
                    posts.append((bots[turn].url, reference.updates[round_ - 1][chat.index]))
            post_all(posts)
            wait_until_claimed(engine, bot_id, {u["update_id"] for u in reference.updates[round_]})
        # Two updates of every chat at once, one to each process.
        post_all([(bot.url, update) for pair in reference.last
                  for bot, update in zip(bots, pair, strict=True)])
        wait_until_claimed(engine, bot_id, {u["update_id"] for pair in reference.last
                                            for u in pair})
        posting_seconds = time.monotonic() - started

        for chat in CHAT_LIST:
            assert projection(stored(engine, chat)) == projection(
                reference.conversations[chat.chat_id]), f"chat {chat.index}"
        with Session(engine) as session:
            applied = session.exec(select(func.count()).select_from(ProcessedUpdate).where(
                ProcessedUpdate.bot_id == bot_id)).one()
        assert applied == len(posted) == CHATS * (ROUNDS + 2)
        assert sum(posted.values()) > len(posted)  # some were posted twice or more

        # Every reply sent once: the same messages in each chat as in the single-process run.
        # (Order across the last round's two updates is free, so compare them as multisets.)
        expected = {chat_id: sorted(texts) for chat_id, texts in reference.replies.items()}
        deadline = time.monotonic() + WAIT
        while True:
            sent = {chat_id: sorted(texts)
                    for chat_id, texts in bot_messages(emulator, token).items()}
            if sent == expected or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert sent.keys() == expected.keys()
        for chat_id in expected:
            assert sent[chat_id] == expected[chat_id], f"chat {chat_id}"
    finally:
        engine.dispose()
        for bot in bots:
            stop(bot.process)
    for bot in bots:
        log = bot.output()
        assert not [line for line in log.splitlines()
                    if " ERROR " in line or " CRITICAL " in line or "Traceback" in line], log
    print(f"single-process run {reference_seconds:.1f} s; two processes {posting_seconds:.1f} s "
          f"for {len(posted)} updates ({sum(posted.values())} posts)")
