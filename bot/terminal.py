"""The terminal chat: the same dialog as Telegram, on stdin and stdout.

On a terminal it prompts; otherwise it reads one line per turn, so scripts and tests can drive
it. Options are printed numbered and may be answered with the number or the label.
"""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from bot.choices import read_typed
from bot.runner import DialogRunner, Turn
from dialogs.draft import Language
from dialogs.events import Reply
from dialogs.render import RenderedOption, render

CHANNEL = "terminal"


def default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


class TerminalChat:
    def __init__(self, runner: DialogRunner, user: str, *, stdin: TextIO = sys.stdin,
                 stdout: TextIO = sys.stdout) -> None:
        self.runner = runner
        self.user = user
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = stdin.isatty()
        self.options: tuple[RenderedOption, ...] = ()
        self.language: Language | None = None

    def show(self, turn: Turn) -> None:
        self.language = turn.language
        self.options = ()
        for reply in turn.replies:
            print(reply.text, file=self.stdout)
            for number, option in enumerate(reply.options, start=1):
                print(f"  {number}) {option.label}", file=self.stdout)
            if reply.options:
                self.options = reply.options
            print(file=self.stdout)
        self.stdout.flush()

    def run(self, language: Language | None = None) -> int:
        self.show(self.runner.open(CHANNEL, self.user, language))
        while True:
            if self.interactive:
                print("> ", end="", file=self.stdout, flush=True)
            try:
                line = self.stdin.readline()
            except KeyboardInterrupt:
                line = ""
            if not line:
                print(render(self.language, Reply("goodbye")).text, file=self.stdout)
                return 0
            line = line.rstrip("\n")
            if not line.strip():
                continue
            event = read_typed(line, self.options, by_number=True)
            self.show(self.runner.handle(CHANNEL, self.user, event))
