"""5. Start-up: from spawning `dinplan run` to the bot polling the emulator, against a minimal
PTB echo bot in the same run (alternating, median of several starts each).

"Polling" is PTB's "Application started" log line: PTB writes it right after start_polling()
has started the loop whose first call is getUpdates (initialize's getMe and, for Din plan,
post_init's setMyCommands come before it). Both bots log it the same way. Each start has a bot
token of its own, so the emulator holds no updates from an earlier start.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.emulator import running_emulator, stop
from bench.harness import OUT, ROOT, fresh_sqlite, median
from bench.report import Row, Section

READY = "Application started"
DINPLAN = Path(sys.executable).with_name("dinplan")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DINPLAN_", "BOT_"))}
    return {**env, **extra}


def time_start(command: list[str], env: dict[str, str], cwd: Path,
               timeout: float = 60) -> float:
    """Seconds from spawn until the process prints the ready line; the process is stopped."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    assert process.stdout is not None
    output: list[str] = []
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            deadline = started + timeout
            buffer = b""
            while time.perf_counter() < deadline:
                if not selector.select(timeout=0.5):
                    if process.poll() is not None:
                        break
                    continue
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    text = line.decode(errors="replace")
                    output.append(text)
                    if READY in text:
                        return time.perf_counter() - started
        raise RuntimeError(f"{command[0]} never got to {READY!r}:\n" + "\n".join(output[-20:]))
    finally:
        stop(process)
        process.stdout.close()


def import_times(top: int = 12) -> list[tuple[str, float]]:
    """The slowest imports of `dinplan run` (cumulative, -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import bot.cli, bot.telegram.app"], cwd=ROOT, capture_output=True,
                          text=True, check=False, env=_clean_env(PYTHONPATH=str(ROOT)))
    rows: list[tuple[str, float]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = (part.strip() for part in line[12:].split("|"))
        if not name.startswith(" "):
            rows.append((name, int(cumulative) / 1000))
        elif name.startswith("  ") is False:
            rows.append((name.strip(), int(cumulative) / 1000))
    rows = [(name.strip(), ms) for name, ms in rows if name.strip().count(".") == 0
            or name.strip().startswith(("bot.", "storage.", "dialogs.", "telegram.ext"))]
    return sorted(rows, key=lambda row: -row[1])[:top]


def run(*, starts: int) -> Section:
    folder = OUT / "tmp" / f"startup-{os.getpid()}"
    database = fresh_sqlite(folder)
    ours: list[float] = []
    echo: list[float] = []
    try:
        with running_emulator(folder) as (url, _emulator):
            for number in range(starts * 2):
                token = f"{810000 + number}:BENCH-startup"
                if (number % 2 == 0) == (number % 4 < 2):
                    ours.append(time_start([str(DINPLAN), "run"], _clean_env(
                        DINPLAN_TELEGRAM_TOKEN=token, DINPLAN_TELEGRAM_BASE_URL=f"{url}/bot",
                        DINPLAN_DATABASE_URL=database, DINPLAN_LOG_LEVEL="INFO"), folder))
                else:
                    echo.append(time_start(
                        [sys.executable, str(ROOT / "bench" / "echo_bot.py")],
                        _clean_env(BOT_TOKEN=token, BOT_API_URL=f"{url}/bot"), folder))
        imports = import_times()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    mine, theirs = median(ours), median(echo)
    rows = [
        Row("`dinplan run`: spawn to polling, median", f"{mine:.2f} s", "≤ 1.5 s", mine <= 1.5),
        Row("minimal PTB echo bot: spawn to polling, median", f"{theirs:.2f} s"),
        Row("ratio Din plan / echo bot", f"{mine / theirs:.2f}×"),
    ]
    notes = [f"{len(ours)} starts of each, alternating; every start against the same emulator "
             "with a fresh token, on a migrated SQLite file (so `dinplan run` checks the schema "
             "revision, as it does for any database but the embedded default).",
             "All starts (s): Din plan " + ", ".join(f"{s:.2f}" for s in ours) + "; echo "
             + ", ".join(f"{s:.2f}" for s in echo) + ".",
             "Slowest imports of `dinplan run` (cumulative ms, -X importtime): "
             + ", ".join(f"{name} {ms:.0f}" for name, ms in imports) + "."]
    data: dict[str, Any] = {"ours": ours, "echo": echo, "imports": imports}
    return Section("5. Start-up (spawn to polling, against the emulator)", rows, notes, data=data)
