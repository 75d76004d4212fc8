"""6. PostgreSQL: one bot process against two, on one throw-away cluster (tests/pg.py).

(a) Webhook mode, end to end: `dinplan run --webhook` (one process, or two on two ports, as
behind a load balancer; both call setWebhook on the emulator, which answers like Telegram) gets
the updates of many chats posted to its webhook with the secret header, and sends its replies
to the emulator. Done when every posted update is claimed in `processed_update`. The person
types every answer (a typed label counts as pressing its button), so no update needs to know a
message id the bot has sent.

(b) The same bot through `Application.process_update` with the offline Bot API: one process
with all the people, against two processes with half each, at the same time.

The CPU each process used is reported beside it: on two cores the bots, PostgreSQL, the
emulator and the load generator share the same two.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.emulator import free_port, running_emulator, stop, wait_for
from bench.harness import (
    MAX_IN_BETWEEN,
    OUT,
    ROOT,
    cpu_seconds,
    fresh_sqlite,
    median,
    result_of,
    start_child,
)
from bench.report import Row, Section

SECRET = "bench-webhook_secret-0123456789"
TOKEN = "830000:BENCH-webhook"
DINPLAN_RUN = [str(Path(sys.executable).with_name("dinplan")), "run", "--webhook"]
UNLIMITED_RUN = [sys.executable, "-m", "bench.webhook_bot"]
FIRST_CHAT = 2_000_000_000


def typed_script(steps: int = 11) -> list[str]:
    """The first `steps` steps of the script (to the services question), every press typed as
    its button's label, as one person played them through the real bot offline just now: so
    a question added to the dialog since is in it too."""
    from bench.harness import full_script, our_application, shut_down
    from bench.offline import Person
    from storage.db import make_engine

    folder = OUT / "tmp" / f"typed-{os.getpid()}"
    url = fresh_sqlite(folder)

    async def play() -> list[str]:
        from telegram import Update

        engine = make_engine(url)
        app, request = await our_application(engine)
        person = Person(app, request, FIRST_CHAT - 1)
        for step in full_script()[:steps]:
            for _attempt in range(MAX_IN_BETWEEN):
                data, done = person.update_for(step)
                update = Update.de_json(data, app.bot)
                await app.process_update(update)
                if done:
                    break
        await shut_down(app)
        engine.dispose()
        return person.typed

    try:
        return asyncio.run(play())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _env(database_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINPLAN_")}
    return {**env, "DINPLAN_TELEGRAM_TOKEN": TOKEN, "DINPLAN_DATABASE_URL": database_url,
            "DINPLAN_LOG_LEVEL": "INFO", "DINPLAN_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
            "DINPLAN_WEBHOOK_SECRET": SECRET, "DINPLAN_WEBHOOK_LISTEN": "127.0.0.1",
            "DINPLAN_WEBHOOK_PORT": str(port)}


class KeptAlive:
    """One HTTP/1.1 keep-alive connection that POSTs JSON and reads the status. The load
    generator shares the bots' two cores: httpx took ~7 CPU ms per POST here, more than the bot
    it fed, so the posts are written by hand (bytes out, status line and Content-Length in).

    A server may close a kept-alive connection whenever it likes (an idle timeout, a restart);
    the close shows as end of file or a reset at the next request. Then the request is sent
    once more on a new connection, if no byte of an answer had come: resending a webhook update
    is harmless, the bot claims each update_id once. A new connection that fails is an error.
    """

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.reconnects = 0  # requests sent again because the server had closed the connection
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        """POST `body` as JSON; the answer's status code (its body is read and dropped)."""
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                   f"{head}\r\n").encode() + body
        if self._streams is not None and self._streams[0].at_eof():
            await self.close()  # closed by the server since the last answer, and seen already
        reused = self._streams is not None
        try:
            return await self._exchange(request)
        except _ClosedBeforeAnswerError:
            await self.close()
            if not reused:
                raise
        self.reconnects += 1
        return await self._exchange(request)

    async def _exchange(self, request: bytes) -> int:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        try:
            writer.write(request)
            await writer.drain()
            answer = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if error.partial:
                raise ConnectionError("the webhook closed the connection in the middle of its "
                                      "answer") from error
            raise _ClosedBeforeAnswerError("the webhook closed the connection") from error
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as error:
            raise _ClosedBeforeAnswerError(f"the webhook's connection: {error!r}") from error
        response = answer.decode("latin-1").split("\r\n")
        fields = {name.strip().lower(): value.strip() for name, _, value in
                  (line.partition(":") for line in response[1:] if line)}
        if "content-length" not in fields:
            raise RuntimeError(f"no Content-Length in the webhook's answer: {response[0]}")
        await reader.readexactly(int(fields["content-length"]))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return int(response[0].split()[1])

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with contextlib.suppress(OSError):  # reset by the server: closed all the same
                await writer.wait_closed()


class _ClosedBeforeAnswerError(ConnectionError):
    """The connection was closed or reset before any byte of the answer arrived."""


async def _post_all(ports: list[int], users: int, script: list[str], concurrency: int,
                    update_ids: itertools.count) -> int:
    """`users` chats, `concurrency` at a time, each posting its script in order, one update
    after the other's answer, as Telegram does for one chat; how many posts were sent again
    because the bot had closed the connection (each a little load-generator CPU more)."""
    resent: list[int] = []
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    chats = iter(range(users))

    async def poster() -> None:
        connections = {port: KeptAlive(port) for port in ports}
        try:
            for index in chats:
                chat_id = FIRST_CHAT + index
                connection = connections[ports[index % len(ports)]]
                user = {"id": chat_id, "is_bot": False, "first_name": "Kari",
                        "language_code": "nb"}
                for text in script:
                    update_id = next(update_ids)
                    message: dict[str, Any] = {
                        "message_id": update_id, "date": int(time.time()), "text": text,
                        "chat": {"id": chat_id, "type": "private"}, "from": user}
                    if text.startswith("/"):
                        message["entities"] = [{"type": "bot_command", "offset": 0,
                                                "length": len(text)}]
                    body = json.dumps({"update_id": update_id, "message": message}).encode()
                    status = await connection.post("/telegram", body, headers)
                    if status != 200:
                        raise RuntimeError(f"the webhook answered {status}")
        finally:
            for connection in connections.values():
                await connection.close()
                resent.append(connection.reconnects)

    await asyncio.gather(*(poster() for _ in range(min(concurrency, users))))
    return sum(resent)


def _postgres_pids(postmaster: int) -> list[int]:
    pids = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == postmaster:
                pids.append(int(entry.name))
    return pids


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a backend that has just exited
            total += cpu_seconds(pid)
    return total


def webhook_round(*, command: list[str], processes: int, users: int, database_url: str,
                  emulator: str, emulator_pid: int,
                  postmaster: int, folder: Path, update_ids: itertools.count,
                  concurrency: int) -> dict[str, Any]:
    import psycopg

    script = typed_script()
    ports = [free_port() for _ in range(processes)]
    bots: list[subprocess.Popen[bytes]] = []
    try:
        for number, port in enumerate(ports):
            log = folder / f"webhook-{processes}-{number}.log"
            env = {**_env(database_url, port), "DINPLAN_TELEGRAM_BASE_URL": f"{emulator}/bot",
                   "PYTHONPATH": str(ROOT)}
            with log.open("wb") as out:
                bots.append(subprocess.Popen(command, cwd=folder, env=env, stdout=out,
                                             stderr=subprocess.STDOUT))
            wait_for(log, "Application started", bots[-1], 60)
        libpq = database_url.replace("postgresql+psycopg://", "postgresql://")
        postgres = _postgres_pids(postmaster)
        cpu_before = {"bots": _cpu([b.pid for b in bots]), "postgres": _cpu(postgres),
                      "emulator": _cpu([emulator_pid]), "harness": time.process_time()}
        total = users * len(script)
        started = time.perf_counter()
        resent = asyncio.run(_post_all(ports, users, script, concurrency, update_ids))
        posted = time.perf_counter() - started
        with psycopg.connect(libpq, autocommit=True) as connection:
            while True:
                row = connection.execute("SELECT count(*) FROM processed_update").fetchone()
                assert row is not None  # count(*) always gives a row
                (claimed,) = row
                if claimed >= total or time.perf_counter() - started > 600:
                    break
                time.sleep(0.02)
            seconds = time.perf_counter() - started
            row = connection.execute(
                "SELECT count(*) FROM conversation WHERE step = 'choose_services'"
            ).fetchone()
            assert row is not None  # count(*) always gives a row
            (at_services,) = row
        postgres = _postgres_pids(postmaster)
        cpu = {"bots": _cpu([b.pid for b in bots]) - cpu_before["bots"],
               "postgres": _cpu(postgres) - cpu_before["postgres"],
               "emulator": _cpu([emulator_pid]) - cpu_before["emulator"],
               "harness": time.process_time() - cpu_before["harness"]}
    finally:
        for bot in bots:
            stop(bot)
    return {"processes": processes, "updates": total, "claimed": claimed, "seconds": seconds,
            "posted_seconds": posted, "per_second": claimed / seconds,
            "at_services": at_services, "users": users, "cpu": cpu, "resent": resent}


def offline_round(*, processes: int, users: int, database_url: str,
                  first_update: int) -> dict[str, Any]:
    share = users // processes
    children = [start_child("throughput", "measure_ours", users=share,
                            database_url=database_url,
                            first_chat=FIRST_CHAT + 100_000_000 + number * share,
                            first_update=first_update + number * 10_000_000)
                for number in range(processes)]
    results = [result_of(child) for child in children]
    updates = sum(r["updates"] for r in results)
    seconds = max(r["ended_at"] for r in results) - min(r["started_at"] for r in results)
    return {"processes": processes, "updates": updates, "seconds": seconds,
            "per_second": updates / seconds, "sent": sum(r["sent"] for r in results),
            "users": share * processes, "p99_ms": max(r["p99_ms"] for r in results),
            "cpu": sum(r["cpu_seconds"] for r in results)}


def run(*, webhook_users: int, offline_users: int, rounds: int, limited_users: int = 30,
        concurrency: int = 64) -> Section:
    from storage.migrate import upgrade
    from tests.pg import Databases, throwaway_cluster

    folder = OUT / "tmp" / f"postgres-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    webhook: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    limited: dict[int, dict[str, Any]] = {}
    offline: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    update_ids = itertools.count(1)
    try:
        with throwaway_cluster() as cluster, running_emulator(folder) as (emulator, node):
            assert cluster.process is not None
            databases = Databases(cluster.url)
            try:
                def fresh() -> tuple[str, str]:
                    name = databases.create(label="bench")
                    url = databases.url(name)
                    upgrade(url)
                    return name, url

                for number in range(rounds):
                    for processes in ((1, 2) if number % 2 == 0 else (2, 1)):
                        name, url = fresh()
                        webhook[processes].append(webhook_round(
                            command=UNLIMITED_RUN, processes=processes, users=webhook_users,
                            database_url=url,
                            emulator=emulator, emulator_pid=node.pid,
                            postmaster=cluster.process.pid, folder=folder,
                            update_ids=update_ids, concurrency=concurrency))
                        databases.drop(name)
                    for processes in ((2, 1) if number % 2 == 0 else (1, 2)):
                        name, url = fresh()
                        offline[processes].append(offline_round(
                            processes=processes, users=offline_users, database_url=url,
                            first_update=1 + number * 100_000_000))
                        databases.drop(name)
                for processes in (1, 2):  # the real command, flood limits and all
                    name, url = fresh()
                    limited[processes] = webhook_round(
                        command=DINPLAN_RUN, processes=processes, users=limited_users,
                        database_url=url, emulator=emulator, emulator_pid=node.pid,
                        postmaster=cluster.process.pid,
                        folder=folder, update_ids=update_ids, concurrency=concurrency)
                    databases.drop(name)
            finally:
                databases.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return section(webhook, offline, limited, rounds, concurrency)


def two_process_ceiling(one: dict[str, Any], cores: int) -> float:
    """What two bot processes could reach at most, against one (`one`, a 1-process round), on
    `cores` cores: every update costs the CPU it took in `one`, summed over the bot, PostgreSQL,
    the emulator and the load generator, and two processes never do more than twice one."""
    per_update = sum(one["cpu"].values()) / one["updates"]
    return min(2.0, cores / per_update / one["per_second"])


def section(webhook: dict[int, list[dict[str, Any]]], offline: dict[int, list[dict[str, Any]]],
            limited: dict[int, dict[str, Any]], rounds: int, concurrency: int) -> Section:
    def ups(results: list[dict[str, Any]]) -> float:
        return median([r["per_second"] for r in results])

    hook_ratio = median([two["per_second"] / one["per_second"]
                         for one, two in zip(webhook[1], webhook[2], strict=True)])
    off_ratio = median([two["per_second"] / one["per_second"]
                        for one, two in zip(offline[1], offline[2], strict=True)])
    cores = os.cpu_count() or 1
    ceiling = median([two_process_ceiling(one, cores) for one in webhook[1]])
    rows = [
        Row("(a) webhook (flood limits off), 1 process: updates/s", f"{ups(webhook[1]):,.0f}"),
        Row("(a) webhook (flood limits off), 2 processes: updates/s",
            f"{ups(webhook[2]):,.0f}"),
        Row("(a) webhook: 2 processes / 1", f"{hook_ratio:.2f}×", "≥ 1.7×", hook_ratio >= 1.7),
        Row(f"(a) the most 2 processes could give on this machine's {cores} cores, from the "
            "CPU an update took in the 1-process round (bot, PostgreSQL, emulator, load "
            "generator), against 1 process (not judged)", f"{ceiling:.2f}×"),
        Row("(b) process_update, 1 process: updates/s", f"{ups(offline[1]):,.0f}"),
        Row("(b) process_update, 2 processes: updates/s", f"{ups(offline[2]):,.0f}"),
        Row("(b) process_update: 2 processes / 1", f"{off_ratio:.2f}×", "≥ 1.7×",
            off_ratio >= 1.7),
        Row("`dinplan run --webhook` as shipped (flood limiter on), 1 / 2 processes",
            f"{limited[1]['per_second']:,.0f} / {limited[2]['per_second']:,.0f} updates/s"),
    ]
    one, two = webhook[1][-1], webhook[2][-1]
    notes = [
        f"(a) {one['users']:,} chats × {one['updates'] // one['users']} typed updates "
        f"({one['updates']:,} updates), posted by {concurrency} chats at a time; done when all "
        f"are claimed in processed_update. Claimed {one['claimed']:,} / {two['claimed']:,} of "
        f"{one['updates']:,}; conversations at the services question: {one['at_services']:,} "
        f"/ {two['at_services']:,}.",
        "(a) CPU seconds in the last round, 1 process: bot {:.1f}, PostgreSQL {:.1f}, emulator "
        "{:.1f}, load generator {:.1f} in {:.1f} s wall; 2 processes: bots {:.1f}, PostgreSQL "
        "{:.1f}, emulator {:.1f}, load generator {:.1f} in {:.1f} s wall ({} cores = {} CPU "
        "seconds per second); posts sent again on a reopened connection: {} / {}.".format(
            one["cpu"]["bots"], one["cpu"]["postgres"], one["cpu"]["emulator"],
            one["cpu"]["harness"], one["seconds"],
            two["cpu"]["bots"], two["cpu"]["postgres"], two["cpu"]["emulator"],
            two["cpu"]["harness"], two["seconds"], cores, cores,
            one["resent"], two["resent"]),
        f"(b) {offline[1][-1]['users']:,} people through the whole conversation, in one process "
        "or split over two running at once; throughput over the span of both. Bot CPU seconds: "
        f"{offline[1][-1]['cpu']:.1f} (1) / {offline[2][-1]['cpu']:.1f} (2) for the same work; "
        f"conversations sent: {offline[1][-1]['sent']:,} / {offline[2][-1]['sent']:,}.",
        f"{rounds} round(s), alternating which goes first; ratios within a round.",
        "(a) runs `python -m bench.webhook_bot`: run_bot's webhook path with the flood limiter's "
        "limits off. The shipped `dinplan run --webhook` keeps PTB's 30 messages/s per process "
        f"(Telegram's limit), which caps it near {limited[1]['per_second']:.0f} updates/s "
        f"({limited[1]['updates']:,} updates, {limited[1]['claimed']:,} claimed) however fast "
        "the rest is, so it cannot show how the database scales.",
    ]
    return Section("6. PostgreSQL: one process against two", rows, notes,
                   data={"webhook": webhook, "offline": offline})
