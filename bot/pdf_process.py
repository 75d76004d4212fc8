"""PDFs are made in a separate worker process, not in a thread of the bot.

A PDF is some 4-5 ms of Python (ReportLab). Made in a thread, it holds the GIL the
turns need: every call a turn makes into SQLite lets the PDF thread run for up to Python's 5 ms
switch interval, which made the turns beside a PDF 10-40 ms slow (bench/findings.md). One
worker process, started with the bot (or on the first PDF) with `spawn` (a fork would copy the
bot's threads and locks), makes them one after another; on two cores it runs beside the bot.

The worker runs at Linux's idle scheduling class (SCHED_IDLE): a PDF is background work, and a
turn's thread waking on the same core takes it over at once. With the worker at normal priority,
the turns beside a stream of copies had a p99 of 4.1-5.9 ms; at SCHED_IDLE, 3.2-3.7 ms (four
alternating runs each, bench/findings.md). It is not starved: an idle-class task still gets a
small share of a busy core, and all of an idle one.

As always with `spawn`, the worker imports the program's main module again: a program that makes
PDFs runs its work under `if __name__ == "__main__":` (the `dinplan` script, bot/cli.py and
bench/ do).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.exports.document import DraftDocument
    from storage.units import UnitsDirectory

log = logging.getLogger(__name__)

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _render(document: DraftDocument, directory: UnitsDirectory | None) -> bytes:
    # Imported in the worker: ReportLab and the fonts are never loaded in the bot's own process.
    from storage.exports.pdf import to_pdf

    return to_pdf(document, directory)


def _in_background(parent: int) -> None:
    """In the worker, first: run at the idle scheduling class, and exit with the bot."""
    _yield_to_the_bot()
    _exit_with(parent)


def _yield_to_the_bot() -> None:
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux, or not allowed: the lowest priority, nice 19
        os.nice(19)


def _exit_with(parent: int) -> None:
    """Exit when the bot is gone. A bot killed with SIGKILL could leave the worker waiting on
    its queue for good (seen in CI), holding its memory."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="watch-bot", daemon=True).start()


def _worker() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1,
                                        mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_in_background, initargs=(os.getpid(),))
        return _pool


def _prepare() -> None:
    from storage.exports.fonts import registered_fonts

    registered_fonts()


def start_worker() -> Future[None]:
    """Start the worker now (it loads ReportLab and the fonts: about half a second), so the
    first copy does not wait for it; returns at once."""
    return _worker().submit(_prepare)


def pdf_in_worker(document: DraftDocument, directory: UnitsDirectory | None = None) -> bytes:
    """The PDF of `document`, made in the worker process; blocks the calling thread (never
    call it on the event loop). Errors in the worker (FontMissingError) are raised here."""
    pool = _worker()
    try:
        return pool.submit(_render, document, directory).result()
    except BrokenProcessPool:
        # The worker died (killed, out of memory): the next PDF starts a new one.
        log.warning("the PDF worker process stopped; a new one starts with the next PDF")
        _forget(pool)
        raise


def _forget(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def stop_worker() -> None:
    """Stop the worker process, if one was started (at exit, and in tests)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(stop_worker)
