"""The citizen's PDF copy is made in one worker process, beside the bot, and a worker that dies
is replaced on the next copy."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool

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


def test_a_dead_worker_is_replaced_on_the_next_copy(worker: None) -> None:
    pdf_in_worker(a_document())
    os.kill(worker_pid(), signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):
        pdf_in_worker(a_document())
    assert pdf_in_worker(a_document()).startswith(b"%PDF")


def test_the_bot_starts_the_worker_before_the_first_copy(worker: None) -> None:
    assert pdf_process._pool is None
    assert start_worker().result(timeout=60) is None  # fpdf and the fonts loaded there
    started = worker_pid()
    assert pdf_in_worker(a_document()).startswith(b"%PDF")
    assert worker_pid() == started
