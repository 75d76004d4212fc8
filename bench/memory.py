"""3. Memory: the bot process's RSS after driving 10,000 half-finished conversations, against
100. Each measurement is a fresh process; the conversations live in the database, so the
difference is what the process keeps per conversation (and its caches) beyond that."""

from __future__ import annotations

import asyncio
import os
import shutil
from typing import Any

from bench.harness import (
    OUT,
    drive,
    fresh_sqlite,
    full_script,
    in_child,
    median,
    our_application,
    rss_bytes,
    settle_memory,
    shut_down,
)
from bench.report import Row, Section

WARM_UP = 20  # people driven first, in both measurements, so imports and caches are warm
BATCH = 500  # conversations open at once while driving (the harness forgets finished ones)
MB = 2**20


def measure(conversations: int, steps: int) -> dict[str, Any]:
    """RSS before and after leaving `conversations` people `steps` updates into the dialog."""
    from storage.db import make_engine

    folder = OUT / "tmp" / f"memory-{os.getpid()}"
    url = fresh_sqlite(folder)
    script = full_script()[:steps]

    async def run() -> dict[str, Any]:
        engine = make_engine(url)
        app, request = await our_application(engine)
        await drive(app, request, script, range(1, WARM_UP + 1), record=False)
        settle_memory()
        before = rss_bytes()
        result = await drive(app, request, script,
                             range(10_000_000, 10_000_000 + conversations),
                             batch=BATCH, record=False)
        settle_memory()
        after = rss_bytes()
        await shut_down(app)
        engine.dispose()
        return {"conversations": conversations, "steps": steps, "updates": result.updates,
                "seconds": result.seconds, "rss_before": before, "rss_after": after}

    try:
        return asyncio.run(run())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


TARGET_CONVERSATIONS = 10_000


def run(*, many: int, few: int, steps: int, rounds: int = 1) -> Section:
    deltas: list[float] = []
    results: list[dict[str, dict[str, Any]]] = []
    for _ in range(rounds):
        small = in_child("memory", "measure", conversations=few, steps=steps)
        large = in_child("memory", "measure", conversations=many, steps=steps)
        deltas.append((large["rss_after"] - small["rss_after"]) / MB)
        results.append({"few": small, "many": large})
    delta = median(deltas)
    last = results[-1]
    per_conversation = delta / max(many - few, 1)
    rows = [
        Row(f"RSS after {few:,} conversations", f"{last['few']['rss_after'] / MB:.1f} MB"),
        Row(f"RSS after {many:,} conversations", f"{last['many']['rss_after'] / MB:.1f} MB"),
        Row(f"difference, {many:,} against {few:,}", f"{delta:+.1f} MB",
            "< 20 MB" if many >= TARGET_CONVERSATIONS else "", delta < 20
            if many >= TARGET_CONVERSATIONS else None),
        Row("per conversation", f"{1024 * per_conversation:.2f} KB"),
    ]
    if many < TARGET_CONVERSATIONS:
        projected = per_conversation * (TARGET_CONVERSATIONS - few)
        rows.append(Row(f"{TARGET_CONVERSATIONS:,} against {few:,}, projected linearly",
                        f"{projected:+.1f} MB", "< 20 MB", projected < 20))
    notes = [
        f"Half-finished: each person sent the first {steps} updates of the script (/start, "
        "language preselected, consent, role, request: a stored draft, at the first of six "
        f"questions). {last['many']['updates']:,} updates drove the large run "
        f"({last['many']['seconds']:.0f} s).",
        f"Fresh process per measurement, {WARM_UP} people driven first in both; RSS (VmRSS) "
        "read after two gc.collect() calls.",
    ]
    return Section("3. Memory (RSS of the bot process)", rows, notes,
                   data={"results": results, "deltas": deltas})
