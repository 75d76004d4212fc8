"""Several delivery workers on one PostgreSQL database at once: each request reaches its unit's
inbox once, and its staff chat is alerted once (storage/outbox.py: FOR UPDATE SKIP LOCKED, then a
compare-and-set of the claim).

First workers in threads, each with an engine of its own and all let go at the same moment; then
two `dinplan deliver` processes started together, alerting through the Bot API emulator.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.delivery import BATCH_SIZE, DeliveryReport, DeliveryWorker
from dialogs.review import format_reference
from storage import outbox
from storage.db import make_engine
from storage.models import DeliveredRequest, OutboxEntry, utcnow
from storage.units import load_directory
from tests.forwarding.helpers import (
    CHAT_IDS,
    SENT_AT,
    Clock,
    FakeTelegram,
    units_file_with_chats,
)
from tests.multiprocess.helpers import GULEN, queue_request
from tests.telegram.emulator import DINPLAN, Emulator

GULEN_CHAT = CHAT_IDS[GULEN]
WORKERS = 4


def assert_each_delivered_once(engine: Engine, references: list[str],
                               alerts: list[str]) -> None:
    with Session(engine) as session:
        rows = list(session.exec(select(DeliveredRequest)))
        entries = list(session.exec(select(OutboxEntry)))
    assert len(entries) == len(references)
    assert Counter(row.outbox_id for row in rows) == Counter(e.id for e in entries)
    assert sorted(row.reference for row in rows) == sorted(references)
    assert {entry.status for entry in entries} == {outbox.DONE}
    assert len(alerts) == len(references)
    for reference in references:
        shown = format_reference(reference)
        assert sum(shown in text for text in alerts) == 1, reference


def test_workers_with_engines_of_their_own_deliver_each_request_once(
        postgres_url: str, tmp_path: Path) -> None:
    engine = make_engine(postgres_url)
    engines = [make_engine(postgres_url) for _ in range(WORKERS)]
    try:
        references = [queue_request(engine, submitted_at=SENT_AT) for _ in range(60)]
        directory = load_directory(units_file_with_chats(tmp_path))
        clock = Clock()
        telegrams = [FakeTelegram() for _ in range(WORKERS)]
        together = threading.Barrier(WORKERS)

        def work(index: int) -> DeliveryReport:
            worker = DeliveryWorker(engines[index], directory, send_alert=telegrams[index],
                                    clock=clock)
            together.wait(30)
            return asyncio.run(worker.run_once())

        with ThreadPoolExecutor(WORKERS) as pool:
            reports = list(pool.map(work, range(WORKERS)))
        assert sum(r.delivered for r in reports) == len(references)
        assert sum(r.alerted for r in reports) == len(references)
        assert sum(r.failed for r in reports) == 0
        alerts = [text for telegram in telegrams for chat, text in telegram.sent
                  if chat == GULEN_CHAT]
        assert_each_delivered_once(engine, references, alerts)
        print("delivered per worker:", [r.delivered for r in reports])
    finally:
        for each in (engine, *engines):
            each.dispose()


REPORT = re.compile(r"delivered (\d+), alerted (\d+), failed (\d+)")


def test_two_deliver_processes_at_once_deliver_each_request_once(
        postgres_url: str, emulator: Emulator, encryption_key: str, tmp_path: Path) -> None:
    engine = make_engine(postgres_url)
    try:
        # As many as one run takes (BATCH_SIZE): both processes see every one of them due.
        references = [queue_request(engine, submitted_at=utcnow()) for _ in range(BATCH_SIZE)]
    finally:
        engine.dispose()
    token = emulator.new_token()
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("DINPLAN_")}
    environment.update({
        "DINPLAN_DATABASE_URL": postgres_url, "DINPLAN_ENCRYPTION_KEY": encryption_key,
        "DINPLAN_UNITS_FILE": str(units_file_with_chats(tmp_path)),
        "DINPLAN_TELEGRAM_TOKEN": token, "DINPLAN_TELEGRAM_BASE_URL": f"{emulator.url}/bot",
        "DINPLAN_LOG_LEVEL": "INFO"})
    processes = [subprocess.Popen([str(DINPLAN), "deliver"], cwd=tmp_path, env=environment,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    counts: list[tuple[int, ...]] = []
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert not [line for line in err.splitlines()
                    if " ERROR " in line or " CRITICAL " in line or "Traceback" in line], err
        found = REPORT.search(out)
        assert found is not None, out
        counts.append(tuple(int(n) for n in found.groups()))
    assert sum(c[0] for c in counts) == len(references)  # delivered
    assert sum(c[1] for c in counts) == len(references)  # alerted
    assert sum(c[2] for c in counts) == 0  # failed
    alerts = [str(item["message"].get("text", ""))
              for item in emulator.post("/getUpdatesHistory", {"token": token})
              if str(item.get("message", {}).get("chat_id")) == str(GULEN_CHAT)]
    engine = make_engine(postgres_url)
    try:
        assert_each_delivered_once(engine, references, alerts)
    finally:
        engine.dispose()
    print("delivered, alerted, failed per process:", counts)
