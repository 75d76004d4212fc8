"""Profiles of the hot paths, written with the results: where an update's time goes (timers
around each stage of a turn, and py-spy's samples of a throughput run), and where a PDF's time
goes (pyinstrument). Raw profiles are kept in bench/out/profiles/."""

from __future__ import annotations

import asyncio
import collections
import functools
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import (
    OUT,
    ROOT,
    drive,
    fresh_sqlite,
    full_script,
    in_child,
    our_application,
    shut_down,
)
from bench.report import Row, Section

PROFILES = OUT / "profiles"
PY_SPY = Path(sys.executable).with_name("py-spy")

# Stages of one update, outermost first: (module, attribute path, label).
STAGES = [
    ("telegram.ext", "Application.process_update", "PTB process_update (everything)"),
    # The turn in a worker thread, as one transaction.
    ("bot.telegram.conversation", "TelegramConversations.receive",
     "receive: the whole turn in its thread"),
    ("bot.runner", "DialogRunner.within", "  within: one transaction (lock ... commit)"),
    ("storage.locks", "lock_conversation", "  lock_conversation"),
    ("storage.updates", "claim_update", "  claim_update"),
    ("storage.conversations", "load_turn", "  load_turn"),
    ("bot.runner", "DialogRunner._handle_in", "  dialog + save"),
    ("dialogs.machine", "Dialog.handle", "    dialog machine (Dialog.handle)"),
    ("storage.conversations", "save_turn", "    save_turn"),
    ("bot.telegram.replies", "show", "replies.show: render + sendMessage"),
    ("bot.telegram.replies", "settle", "replies.settle: edit the pressed message"),
    ("bot.telegram.conversation", "TelegramConversations.copy_of_sent_draft",
     "copy of the sent draft"),
]


def timed_stage(owner: Any, name: str, label: str, totals: dict[str, float],
                calls: collections.Counter[str]) -> None:
    """Replace `owner.name` with a wrapper adding its time to totals[label] and its calls to
    calls[label]."""
    original = getattr(owner, name)

    if asyncio.iscoroutinefunction(original):
        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - started
                calls[label] += 1
        setattr(owner, name, timed_async)
    else:
        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - started
                calls[label] += 1
        setattr(owner, name, timed)


def _instrument(totals: dict[str, float], calls: collections.Counter[str]) -> list[str]:
    """Wrap each stage, and rebind module-level names imported elsewhere; the stages that no
    longer exist (renamed by a later change) are returned, not fatal."""
    missing = []
    for module_name, path, label in STAGES:
        try:
            module = importlib.import_module(module_name)
            *owners, name = path.split(".")
            owner: Any = module
            for part in owners:
                owner = getattr(owner, part)
            original = getattr(owner, name)
        except (ImportError, AttributeError):
            missing.append(path)
            continue
        timed_stage(owner, name, label, totals, calls)
        if not owners:  # a function: rebind it where it was imported by name
            for other in list(sys.modules.values()):
                if getattr(other, name, None) is original and other is not module \
                        and getattr(other, "__name__", "").startswith(("bot.", "storage.")):
                    setattr(other, name, getattr(module, name))
    return missing


def stage_breakdown(users: int) -> dict[str, Any]:
    """Milliseconds per update in each stage of the real bot on SQLite (child process)."""
    totals: dict[str, float] = collections.defaultdict(float)
    calls: collections.Counter[str] = collections.Counter()
    folder = OUT / "tmp" / f"stages-{os.getpid()}"
    url = fresh_sqlite(folder)

    async def run() -> dict[str, Any]:
        from storage.db import make_engine

        engine = make_engine(url)
        app, request = await our_application(engine)
        missing = _instrument(totals, calls)
        result = await drive(app, request, full_script(), range(3_000_000, 3_000_000 + users))
        await shut_down(app)
        engine.dispose()
        return {"updates": result.updates, "per_update_ms": result.per_update_ms,
                "stages": [(label, 1000 * totals[label] / result.updates,
                            calls[label] / result.updates)
                           for _m, _p, label in STAGES if label in totals],
                "missing": missing}

    try:
        return asyncio.run(run())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- py-spy --------------------------------------------------------------------------------------

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def _where(file: str) -> str:
    file = file.split("site-packages/")[-1]
    for prefix in (str(ROOT) + "/", "/work/main/"):
        file = file.removeprefix(prefix)
    return file


def summarize_collapsed(path: Path, *, top: int = 25) -> dict[str, Any]:
    """Inclusive shares of the interesting frames, and self time by package, from py-spy's raw
    (collapsed stacks) output."""
    inclusive: collections.Counter[str] = collections.Counter()
    by_package: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if any("importlib._bootstrap" in f or "<frozen importlib" in f for f in frames):
            continue  # start-up, not the steady state
        total += count
        seen = set()
        for frame in frames:
            match = _FRAME.match(frame)
            key = f"{match['function']} ({_where(match['file'])})" if match else frame
            if key not in seen:
                seen.add(key)
                inclusive[key] += count
        leaf = _FRAME.match(frames[-1])
        file = _where(leaf["file"]) if leaf else "?"
        package = file.split("/")[0] if "/" in file else file
        if leaf and leaf["function"] in ("do_execute", "do_commit", "do_ping"):
            package = "database driver (sqlite3/psycopg C calls)"
        elif leaf and leaf["function"] in ("_write_to_self", "select", "_worker", "wait"):
            package = f"thread hand-off / waiting ({leaf['function']})"
        by_package[package] += count
    interesting = [(key, count) for key, count in inclusive.most_common()
                   if key.split("(")[-1].startswith(("bot/", "storage/", "dialogs/"))
                   or any(name in key for name in (
                       "Application.process_update", "Session.commit", "Session.flush",
                       "Session.execute", "_WorkItem.run", "to_thread", "Update.de_json",
                       "Bot._post", "_write_to_self"))]
    return {"samples": total,
            "inclusive": [(key, 100 * count / total) for key, count in interesting[:top]],
            "self_by_package": [(key, 100 * count / total)
                                for key, count in by_package.most_common(12)]}


def pyspy_throughput(users: int, database_url: str | None = None, name: str = "throughput",
                     ) -> dict[str, Any]:
    """py-spy samples of a throughput child (all threads, 250 Hz), summarized."""
    PROFILES.mkdir(parents=True, exist_ok=True)
    raw = PROFILES / f"{name}.pyspy.txt"
    kwargs: dict[str, Any] = {"users": users}
    if database_url:
        kwargs["database_url"] = database_url
    command = [str(PY_SPY), "record", "--rate", "250", "--format", "raw", "--output", str(raw),
               "--", sys.executable, "-m", "bench.child", "throughput", "measure_ours",
               json.dumps(kwargs)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if not raw.exists():
        raise RuntimeError(f"py-spy wrote no profile ({done.returncode}):\n{done.stderr[-2000:]}")
    summary = summarize_collapsed(raw)
    summary["file"] = str(raw.relative_to(ROOT))
    return summary


# -- pyinstrument --------------------------------------------------------------------------------

PDF_PARTS = {
    "_pages": "layout: breaking the lines (ReportLab's string widths)",
    "drawString": "drawing the lines (ReportLab)",
    "Canvas.save": "save: embedding the fonts' glyphs and compressing (ReportLab)",
    "blocks": "blocks: rendering the review lines from the catalogs",
    "printable": "printable: replacing characters the font lacks",
}


def pyinstrument_pdf(runs: int = 10) -> dict[str, Any]:
    """Where a PDF's time goes (child process)."""
    from pyinstrument import Profiler

    from bench.export import full_document
    from storage.exports import to_pdf

    document = full_document()
    to_pdf(document)  # fonts' files in the page cache, catalogs loaded
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(runs):
        to_pdf(document)
    session = profiler.stop()
    PROFILES.mkdir(parents=True, exist_ok=True)
    (PROFILES / "pdf.pyinstrument.txt").write_text(
        profiler.output_text(unicode=True, color=False, show_all=True))
    root = session.root_frame()
    total = root.time if root is not None else 0.0
    parts: dict[str, float] = collections.defaultdict(float)

    def walk(frame: Any) -> None:
        name = f"{frame.class_name}.{frame.function}" if getattr(frame, "class_name", None) \
            else frame.function
        for key in PDF_PARTS:
            if key in (name, frame.function):
                parts[key] += frame.time
                return
        for child in frame.children:
            walk(child)

    if root is not None:
        walk(root)
    return {"runs": runs, "ms_per_pdf": 1000 * total / runs,
            "parts": [(PDF_PARTS[key], 100 * parts[key] / total) for key in PDF_PARTS
                      if total and parts[key]],
            "file": str((PROFILES / "pdf.pyinstrument.txt").relative_to(ROOT))}


# -- in the runner -------------------------------------------------------------------------------

def run(*, users: int, pdf_runs: int = 10, pyspy: bool = True) -> Section:
    rows: list[Row] = []
    notes: list[str] = []
    data: dict[str, Any] = {}
    stages = in_child("profiles", "stage_breakdown", users=users)
    data["stages"] = stages
    rows.append(Row(f"one update, whole drive ({users} people, SQLite)",
                    f"{stages['per_update_ms']:.2f} ms"))
    for label, ms, per_update in stages["stages"]:
        rows.append(Row(f"stage: {label} ({per_update:.2f} calls/update)", f"{ms:.2f} ms"))
    if stages["missing"]:
        notes.append("Stages no longer in the code (not timed): " + ", ".join(stages["missing"]))
    if pyspy:
        spy = pyspy_throughput(users)
        data["pyspy"] = spy
        notes.append(f"py-spy, {spy['samples']:,} samples of a throughput run (all threads, "
                     f"imports left out), raw stacks in `{spy['file']}`.")
        notes.append("Self time by package: " + ", ".join(
            f"{name} {share:.0f} %" for name, share in spy["self_by_package"]))
        notes.append("Inclusive, project code and key calls: " + "; ".join(
            f"{name} {share:.0f} %" for name, share in spy["inclusive"]))
    pdf = in_child("profiles", "pyinstrument_pdf", runs=pdf_runs)
    data["pdf"] = pdf
    notes.append(f"pyinstrument, {pdf['runs']} PDFs ({pdf['ms_per_pdf']:.0f} ms each while "
                 f"profiled), full tree in `{pdf['file']}`: " + "; ".join(
                     f"{name} {share:.0f} %" for name, share in pdf["parts"]) + ".")
    return Section("7. Profiles (where the time goes)", rows, notes, data=data)

