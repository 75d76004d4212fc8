"""Stand-ins shared by the test packages: a clock that moves only when told, a Telegram sender
that records what it sends and raises the faults it is given, and a PDF's text read back."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, /, **parts: float) -> None:
        """`advance(timedelta(days=1))` or `advance(days=1)`."""
        self.now += (delta or timedelta()) + timedelta(**parts)


@dataclass
class FakeTelegram:
    """Stands in for PTB's bot.send_message: raises the queued faults first, then sends."""

    faults: list[BaseException] = field(default_factory=list)
    sent: list[tuple[int, str]] = field(default_factory=list)
    calls: int = 0

    async def __call__(self, chat_id: int, text: str) -> None:
        self.calls += 1
        if self.faults:
            raise self.faults.pop(0)
        self.sent.append((chat_id, text))

    def to_chat(self, chat_id: int | str) -> list[str]:
        return [text for sent_to, text in self.sent if sent_to == int(chat_id)]


def pdf_text(content: bytes) -> str:
    """The PDF's text as pdftotext reads it (with the line breaks and spaces it puts in)."""
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is installed by .ci/system-deps"
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=content,
                          capture_output=True, check=True)
    return done.stdout.decode()


def flat(text: str) -> str:
    """Without line breaks and spaces, so text the PDF wrapped can be compared."""
    return re.sub(r"\s+", "", text)
