"""What every benchmark shares: the scripted conversation, the real application on a database,
the drive loop through `Application.process_update`, statistics, and process measurements."""

from __future__ import annotations

import asyncio
import gc
import html
import math
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import Engine
from telegram import Update
from telegram.ext import Application

from bench.offline import LeanOfflineRequest, Person, Say
from bench.offline_config import OFFLINE, chat_handlers, copies_sent, offline_limiter
from bot.pdf_process import start_worker
from bot.runner import DialogRunner
from bot.telegram.app import build_application, schedule_checkpoints
from dialogs import choices
from dialogs.choices import REACH_TIME_OPTIONS
from dialogs.draft import RequestKind, Service

if TYPE_CHECKING:
    import subprocess

# Not resolved: bench/ may be a link in a copy of the tree.
ROOT = Path(__file__).absolute().parents[1]
OUT = ROOT / "bench" / "out"

MAX_IN_BETWEEN = 4  # unknown questions a press may answer on its way (bench.offline.DETOURS)


def full_script() -> list[Say]:
    """A whole conversation, /start to the receipt, as tests/telegram/walk.py plays it: 19
    updates (11 typed, 8 button presses), in Bokmål (the app's language preselects it)."""
    def press(option: str) -> Say:
        return Say(option, press=True)

    return [
        Say("/start"),
        press(choices.CONTINUE.id),
        press(choices.CONSENT.id),
        press(choices.FOR_MYSELF.id),
        press(RequestKind.PLAN_AND_COORDINATOR.value),
        Say("Jeg lager god mat, og jeg er glad i turer i skogen."),
        *[Say("/hopp") for _ in range(5)],
        press(Service.GP.value),
        press(choices.DONE.id),
        press(choices.NO_WISH.id),
        Say("Kari Nordmann"),
        Say("912 34 567"),
        press(REACH_TIME_OPTIONS[0].id),
        Say("Bergen"),
        press(choices.SEND.id),
    ]


async def our_application(engine: Engine) -> tuple[Application, LeanOfflineRequest]:
    """The real bot (build_application: handlers, per-chat ordering, limiter), offline; stop it
    with `shut_down`."""
    request = LeanOfflineRequest()
    app = build_application(OFFLINE, DialogRunner(engine, escape=html.escape), request=request,
                            rate_limiter=offline_limiter())
    await app.initialize()
    # As `dinplan run` does when it starts (post_init, which a merely initialized application
    # skips): the PDF worker is up before the first update, not spawned inside the timing.
    await asyncio.to_thread(start_worker().result)
    # `dinplan run`'s own job (post_init schedules it): on SQLite the WAL is copied back every
    # second, in a thread, between turns rather than inside one. Only this job is scheduled: the
    # application is not started, so its job queue is started by hand (and stopped by shut_down).
    schedule_checkpoints(app, engine)
    if app.job_queue is not None:
        await app.job_queue.start()
    return app, request


async def shut_down(app: Application) -> None:
    """Stop an application from `our_application`: its job queue, then the application."""
    if app.job_queue is not None:
        await app.job_queue.stop()
    await app.shutdown()


@dataclass
class Drive:
    """What one drive of many people through a script measured."""

    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    # Beside each latency: whether a copy of a sent draft was being made as the update came.
    beside_copies: list[bool] = field(default_factory=list)
    # How long the copies of sent drafts still took after the last update was handled.
    copies_waited: float = 0.0

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    @property
    def per_update_ms(self) -> float:
        return 1000 * self.seconds / self.updates if self.updates else 0.0

    def percentile_ms(self, q: float, *, beside_copies: bool | None = None) -> float:
        """Of all updates, or (`beside_copies`) of those that came with a copy under way or
        with none."""
        if beside_copies is None:
            return 1000 * percentile(self.latencies, q)
        return 1000 * percentile([latency for latency, beside in
                                  zip(self.latencies, self.beside_copies, strict=True)
                                  if beside is beside_copies], q)


async def drive(app: Application, request: LeanOfflineRequest,
                script: Sequence[Say], chat_ids: Sequence[int], *,
                after_each: Callable[[], Awaitable[Any]] | None = None,
                batch: int | None = None, record: bool = True, in_flight: int = 1) -> Drive:
    """Everyone through the script, interleaved: step 1 for each person, then step 2...

    Interleaving keeps `batch` conversations (default: all) open at once in the database, as
    many people answering at their own pace would. Each update is awaited before the next:
    latency is the service time of one update (building the Update object included, as the
    updater does it; `after_each` too), throughput is updates over the wall time of the whole
    drive, the harness's own work included. With `in_flight` > 1 the people are dealt into that
    many groups that each go on so, all at once: that many updates of distinct chats are in the
    application together, as PTB's update processor runs them, and a latency includes the wait
    behind the others. `record=False` keeps no latencies (a memory measurement should not count
    the harness's list of them).
    """
    result = Drive()
    ours = chat_handlers(app)  # None for a peer: it makes no copies in the background

    async def walk(people: list[Person]) -> None:
        for step in script:
            for person in people:
                for _attempt in range(MAX_IN_BETWEEN):
                    data, done = person.update_for(step)
                    copying = ours is not None and bool(ours.copies)
                    begin = time.perf_counter()
                    update = Update.de_json(data, app.bot)
                    # As the updater hands updates on: through the update processor.
                    await app.update_processor.process_update(update, app.process_update(update))
                    if after_each is not None:
                        await after_each()
                    if record:
                        result.latencies.append(time.perf_counter() - begin)
                        result.beside_copies.append(copying)
                    result.updates += 1
                    if done:
                        break

    batch = batch or len(chat_ids)
    started = time.perf_counter()
    for first in range(0, len(chat_ids), batch):
        people = [Person(app, request, chat_id) for chat_id in chat_ids[first:first + batch]]
        await asyncio.gather(*(walk(people[group::in_flight]) for group in range(in_flight)))
        for person in people:
            request.forget(person.chat_id)
    # The copies of sent drafts go out in background tasks: their work counts in the wall time.
    result.copies_waited = time.perf_counter()
    await copies_sent(app)
    result.seconds = time.perf_counter() - started
    result.copies_waited = time.perf_counter() - result.copies_waited
    return result


# -- statistics ----------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    # Nearest rank: the smallest value with at least q % of the values at or below it.
    rank = min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


# -- processes -----------------------------------------------------------------------------------

def rss_bytes(pid: int | None = None) -> int:
    """Resident set size now (VmRSS), from /proc."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc status")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc (children not counted)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def settle_memory() -> None:
    gc.collect()
    gc.collect()


T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class ChildFailedError(RuntimeError):
    """A measurement's process failed; the message has the end of its output."""


@dataclass(frozen=True)
class Child:
    """A measurement running in a process of its own, and the call it makes there."""

    process: subprocess.Popen[str]
    call: str


def start_child(module: str, function: str, **kwargs: Any) -> Child:
    """`bench.<module>.<function>(**kwargs)` starting in a fresh Python process."""
    import json
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "bench.child", module, function, json.dumps(kwargs)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    return Child(process, f"{module}.{function}({kwargs})")


def result_of(child: Child, timeout: float = 900) -> Any:
    """The JSON result of a `start_child` process, once it has finished."""
    import json

    from bench.child import RESULT

    process = child.process
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT):])
    tail = "\n".join((stdout + stderr).splitlines()[-30:])
    raise ChildFailedError(f"{child.call} exited {process.returncode}:\n{tail}")


def in_child(module: str, function: str, *, timeout: float = 900, **kwargs: Any) -> Any:
    """`bench.<module>.<function>(**kwargs)` in a fresh Python process; its JSON result."""
    return result_of(start_child(module, function, **kwargs), timeout)


def fresh_sqlite(folder: Path, name: str = "dinplan.sqlite3") -> str:
    """A new SQLite file migrated to head, in `folder`; its URL."""
    from storage.migrate import upgrade

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    return url
