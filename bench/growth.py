"""2. Growth: the per-update cost of the throughput run on a database that already holds 0,
100,000 or 1,000,000 drafts, as ratios to the empty one.

The stored drafts are copies of one real conversation (played through the real bot once, so
every column holds what the code writes, encrypted or not), multiplied with INSERT ... SELECT
over a recursive counter: each copy is a conversation, its draft, its answers and its
submission. The file is cached under bench/out/, keyed by the schema revision and the generator
version, and copied for each run so no run sees another's rows.
"""

from __future__ import annotations

import asyncio
import collections
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.harness import (
    OUT,
    drive,
    fresh_sqlite,
    full_script,
    in_child,
    median,
    our_application,
    percentile,
    shut_down,
)
from bench.report import Row, Section
from bench.throughput import FIRST_CHAT

GENERATOR = 1  # bump when the generated rows change
BASE_ID = 1_000  # generated rows get ids BASE_ID + 1 ...; the template's are below it
TEMPLATE_CHAT = 999_999_999
WARM_UP_CHAT = 900_000_000  # below the measured chats (bench.throughput.FIRST_CHAT)


def schema_revision() -> str:
    """The newest alembic revision the code knows: a new migration makes a new cache file."""
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return "+".join(sorted(heads))


def cached_path(drafts: int) -> Path:
    return OUT / f"drafts-{drafts}-rev{schema_revision()}-gen{GENERATOR}.sqlite3"


def _columns(connection: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]


def _copy_rows(connection: sqlite3.Connection, table: str, count: int, where: str,
               overrides: dict[str, str]) -> None:
    """`count` copies of the template rows of `table` (those matching `where`), with some
    columns computed from the copy's number `i`."""
    columns = _columns(connection, table)
    values = ", ".join(overrides.get(column, f"t.{column}") for column in columns)
    connection.execute(
        f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {count}) "
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM seq, {table} t "
        f"WHERE {where}")


def _template(url: str) -> None:
    """One person through the whole conversation on the real bot: the rows to copy."""
    from storage.db import make_engine

    async def play() -> None:
        engine = make_engine(url)
        app, request = await our_application(engine)
        await drive(app, request, full_script(), [TEMPLATE_CHAT])
        await shut_down(app)
        engine.dispose()

    asyncio.run(play())


def generate(drafts: int) -> Path:
    """The cached database with `drafts` stored drafts, made if missing."""
    path = cached_path(drafts)
    if path.exists():
        return path
    folder = OUT / "tmp" / f"generate-{os.getpid()}"
    url = fresh_sqlite(folder, "generated.sqlite3")
    try:
        if drafts:
            _template(url)
            database = folder / "generated.sqlite3"
            connection = sqlite3.connect(database, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute("PRAGMA cache_size=-262144")  # 256 MB while building indexes
            (conversation_id, draft_id), = connection.execute(
                "SELECT id, current_draft_id FROM conversation WHERE chat_id = ?",
                (str(TEMPLATE_CHAT),))
            connection.execute("BEGIN")
            ids = f"{BASE_ID} + i"
            _copy_rows(connection, "conversation", drafts, f"t.id = {conversation_id}",
                       {"id": ids, "chat_id": "'generated-' || i", "current_draft_id": ids})
            _copy_rows(connection, "draft_plan", drafts, f"t.id = {draft_id}",
                       {"id": ids, "conversation_id": ids})
            _copy_rows(connection, "answer", drafts, f"t.draft_id = {draft_id}",
                       {"id": "NULL", "draft_id": ids})
            _copy_rows(connection, "submission", drafts, f"t.draft_id = {draft_id}",
                       {"id": ids, "draft_id": ids, "conversation_id": ids,
                        "reference": "printf('G%07d', i)"})
            connection.execute("COMMIT")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("ANALYZE")
            connection.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        shutil.copyfile(folder / "generated.sqlite3", partial)
        partial.rename(path)
        for stale in OUT.glob(f"drafts-{drafts}-*.sqlite3"):
            if stale != path:
                stale.unlink()  # an older schema's file
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return path


def counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("conversation", "draft_plan", "answer", "submission")}
    finally:
        connection.close()


def generate_in_child(drafts: int) -> dict[str, Any]:
    started = time.perf_counter()
    existed = cached_path(drafts).exists()
    path = generate(drafts)
    return {"path": str(path), "seconds": time.perf_counter() - started, "cached": existed,
            "bytes": path.stat().st_size, "counts": counts(path)}


def settled(path: Path) -> None:
    """Write the fresh copy to disk before it is measured: otherwise the first checkpoint's
    fsync flushes the whole copied file (1.3 GB at 1,000,000 drafts) inside the run."""
    with path.open("rb+") as copied:
        os.fsync(copied.fileno())


def measure_interleaved(paths: dict[str, str], users: int, batch: int) -> dict[str, Any]:
    """One bot per database in this one process, fed in turns: `batch` people through the whole
    conversation on one, then the next batch on the next, the order rotating. A noisy minute
    slows every database alike, which separate runs a minute apart cannot promise."""
    from bench.offline import start_update_ids_at
    from bench.profiles import timed_stage
    from bot.runner import DialogRunner
    from storage.db import make_engine

    totals: dict[str, float] = collections.defaultdict(float)
    timed_stage(DialogRunner, "within", "transaction", totals, collections.Counter())
    start_update_ids_at(10**9)  # above any id a generated database has claimed

    async def run() -> dict[str, Any]:
        bots = {size: await our_application(make_engine(f"sqlite:///{path}"))
                for size, path in paths.items()}
        got: dict[str, dict[str, list[float]]] = {
            size: {"updates_ms": [], "transaction_ms": [], "latencies": []} for size in paths}
        sizes = list(paths)
        for app, request in bots.values():  # the first updates of a process warm its code up
            await drive(app, request, full_script(), range(WARM_UP_CHAT, WARM_UP_CHAT + 2),
                        record=False)
        for number, first in enumerate(range(0, users, batch)):
            chats = range(FIRST_CHAT + first, FIRST_CHAT + min(first + batch, users))
            shift = number % len(sizes)
            for size in sizes[shift:] + sizes[:shift]:
                app, request = bots[size]
                before = totals["transaction"]
                result = await drive(app, request, full_script(), chats)
                got[size]["updates_ms"].append(
                    1000 * (result.seconds - result.copies_waited) / result.updates)
                got[size]["transaction_ms"].append(
                    1000 * (totals["transaction"] - before) / result.updates)
                got[size]["latencies"].extend(result.latencies)
        for app, _request in bots.values():
            await shut_down(app)
        return {size: {"updates_ms": runs["updates_ms"],
                       "transaction_ms": runs["transaction_ms"],
                       "p50_ms": 1000 * percentile(runs["latencies"], 50)}
                for size, runs in got.items()}

    return asyncio.run(run())


def run(*, sizes: list[int], users: int, batch: int) -> Section:
    made = {size: in_child("growth", "generate_in_child", timeout=1800, drafts=size)
            for size in sizes}
    folder = OUT / "tmp" / f"growth-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        copies = {}
        for size in sizes:  # copies, so no run sees another's rows
            copy = folder / f"drafts-{size}.sqlite3"
            shutil.copyfile(made[size]["path"], copy)
            settled(copy)
            copies[str(size)] = str(copy)
        got = in_child("growth", "measure_interleaved", paths=copies, users=users, batch=batch)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    base = got[str(sizes[0])]

    def paired(size: int, key: str) -> float:
        """The median of the ratios of batches run one after the other."""
        return median([ours / theirs for ours, theirs in zip(got[str(size)][key], base[key],
                                                             strict=True)])

    rows = []
    for size in sizes:
        ratio = paired(size, "updates_ms")
        rows.append(Row(f"{size:,} drafts stored: ms per update (ratio to {sizes[0]:,})",
                        f"{median(got[str(size)]['updates_ms']):.2f} ms ({ratio:.2f}×)",
                        "within ±10 %" if size != sizes[0] else "",
                        abs(ratio - 1) <= 0.10 if size != sizes[0] else None))
    rows.append(Row("median update (p50), ratio to the empty database", " / ".join(
        f"{got[str(size)]['p50_ms'] / base['p50_ms']:.2f}×" for size in sizes[1:])))
    rows.append(Row("the turn's transaction (lock, claim, load, dialog, save, commit) per update",
                    " / ".join(f"{median(got[str(size)]['transaction_ms']):.2f} ms "
                               f"({paired(size, 'transaction_ms'):.2f}×)" for size in sizes)))
    batches = len(base["updates_ms"])
    notes = [f"{users:,} people × the whole conversation on each database, in {batches} batches "
             f"of {batch}: one bot per database in one process, a batch on each in turn, the "
             "order rotating, so a noisy minute slows each alike. A ratio is the median over "
             "the batches of a batch's cost against the empty database's batch beside it. The "
             "cost per update is the wall time of the updates over their number (the mean), "
             "without the wait for the PDF copies after a batch's last update: the copies are "
             "made in the PDF worker whatever is stored."]
    for size in sizes:
        info = made[size]
        notes.append(f"{size:,} drafts: {info['bytes'] / 2**20:,.0f} MB file, rows "
                     f"{info['counts']}; {'cached' if info['cached'] else 'generated in'} "
                     f"{'' if info['cached'] else format(info['seconds'], '.0f') + ' s'}".rstrip())
    return Section("2. Growth (per-update cost with drafts already stored)", rows, notes,
                   data={"made": made, "measured": got})
