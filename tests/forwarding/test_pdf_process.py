"""The citizen's PDF copy is made in one worker process, beside the bot, and a worker that dies
is replaced on the next copy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from bot import pdf_process
from bot.pdf_process import pdf_in_worker, start_worker, stop_worker
from dialogs.draft import Conversation, Language
from storage.exports import DraftDocument, from_conversation
from tests.forwarding.helpers import draft


@pytest.fixture
def worker() -> Iterator[None]:
    stop_worker()
    yield
    stop_worker()


def a_document() -> DraftDocument:
    return from_conversation(Conversation(language=Language.NYNORSK, draft=draft()))


def worker_pid() -> int:
    return int(pdf_process._worker().submit(os.getpid).result())


def test_the_pdf_is_made_in_another_process(worker: None) -> None:
    content = pdf_in_worker(a_document())
    assert content.startswith(b"%PDF")
    assert worker_pid() != os.getpid()
    assert worker_pid() == worker_pid()  # one worker, kept for the next copy


def test_the_worker_yields_the_cpu_to_the_bot(worker: None) -> None:
    # A copy is background work: the turns beside it come first (bench/findings.md, p99).
    assert pdf_process._worker().submit(os.sched_getscheduler, 0).result() == os.SCHED_IDLE
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the bot itself is left as it was


def test_a_dead_worker_is_replaced_on_the_next_copy(worker: None) -> None:
    pdf_in_worker(a_document())
    os.kill(worker_pid(), signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):
        pdf_in_worker(a_document())
    assert pdf_in_worker(a_document()).startswith(b"%PDF")


def test_a_started_worker_makes_the_first_copy(worker: None) -> None:
    assert pdf_process._pool is None
    assert start_worker().result(timeout=60) is None  # ReportLab and the fonts loaded there
    started = worker_pid()
    assert pdf_in_worker(a_document()).startswith(b"%PDF")
    assert worker_pid() == started


BOT_KILLED = textwrap.dedent("""
    import os, signal
    from bot import pdf_process

    if __name__ == "__main__":
        pdf_process.start_worker().result(timeout=60)
        print(pdf_process._worker().submit(os.getpid).result(), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
""")


def test_the_worker_exits_when_the_bot_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "bot_killed.py"
    script.write_text(BOT_KILLED)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(script)], cwd=root, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(root)},
                          check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    worker = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = Path(f"/proc/{worker}").exists()
    if alive:
        os.kill(worker, signal.SIGKILL)
    assert not alive, "the PDF worker outlived the bot"
