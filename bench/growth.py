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
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.harness import OUT, drive, fresh_sqlite, full_script, in_child, median, our_application
from bench.report import Row, Section

GENERATOR = 1  # bump when the generated rows change
BASE_ID = 1_000  # generated rows get ids BASE_ID + 1 ...; the template's are below it
TEMPLATE_CHAT = 999_999_999


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
        await app.shutdown()
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


def _updates_ms(result: dict[str, Any]) -> float:
    """Milliseconds per update, the wait for the PDF copies after the last update left out."""
    return 1000 * (result["seconds"] - result["copies_waited_seconds"]) / result["updates"]


def run(*, sizes: list[int], users: int, rounds: int) -> Section:
    made = {size: in_child("growth", "generate_in_child", timeout=1800, drafts=size)
            for size in sizes}
    folder = OUT / "tmp" / f"growth-{os.getpid()}"
    costs: dict[int, list[float]] = {size: [] for size in sizes}
    ratios: dict[int, list[float]] = {size: [] for size in sizes}
    medians: dict[int, list[float]] = {size: [] for size in sizes}
    try:
        for number in range(rounds):
            order = sizes if number % 2 == 0 else list(reversed(sizes))
            got: dict[int, dict[str, Any]] = {}
            for size in order:
                folder.mkdir(parents=True, exist_ok=True)
                copy = folder / f"drafts-{size}.sqlite3"
                shutil.copyfile(made[size]["path"], copy)
                got[size] = in_child("throughput", "measure_ours", users=users,
                                     database_url=f"sqlite:///{copy}")
                copy.unlink()
                for suffix in ("-wal", "-shm"):
                    Path(f"{copy}{suffix}").unlink(missing_ok=True)
            for size in sizes:
                costs[size].append(_updates_ms(got[size]))
                medians[size].append(got[size]["p50_ms"] / got[sizes[0]]["p50_ms"])
                ratios[size].append(_updates_ms(got[size]) / _updates_ms(got[sizes[0]]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = []
    for size in sizes:
        ratio = median(ratios[size])
        rows.append(Row(f"{size:,} drafts stored: ms per update (ratio to {sizes[0]:,})",
                        f"{median(costs[size]):.2f} ms ({ratio:.2f}×)",
                        "within ±10 %" if size != sizes[0] else "",
                        abs(ratio - 1) <= 0.10 if size != sizes[0] else None))
    rows.append(Row("median update (p50), ratio to the empty database", " / ".join(
        f"{median(medians[size]):.2f}×" for size in sizes[1:])))
    notes = [f"{users:,} people × the whole conversation per run, {rounds} round(s) in "
             "alternating order; ratios taken within a round, then the median. The cost per "
             "update is the wall time of the updates over their number (the mean), without the "
             "wait for the PDF copies after the last update: the copies are made in the PDF "
             "worker whatever is stored, and all of them queue at the end of this drive."]
    for size in sizes:
        info = made[size]
        notes.append(f"{size:,} drafts: {info['bytes'] / 2**20:,.0f} MB file, rows "
                     f"{info['counts']}; {'cached' if info['cached'] else 'generated in'} "
                     f"{'' if info['cached'] else format(info['seconds'], '.0f') + ' s'}".rstrip())
    return Section("2. Growth (per-update cost with drafts already stored)", rows, notes,
                   data={"costs": costs, "ratios": ratios, "p50_ratios": medians, "made": made})
