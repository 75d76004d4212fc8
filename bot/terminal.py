"""The terminal chat: the same dialog as Telegram, on stdin and stdout.

On a terminal it prompts; otherwise it reads one line per turn, so scripts and tests can drive
it. Options are printed numbered and may be answered with the number or the label.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import TextIO

from bot import my_data
from bot.choices import read_typed
from bot.runner import DialogRunner, Turn
from dialogs.draft import Language
from dialogs.events import Effect, Reply
from dialogs.render import RenderedOption, render

CHANNEL = "terminal"


def default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


class TerminalChat:
    def __init__(self, runner: DialogRunner, user: str, *, stdin: TextIO = sys.stdin,
                 stdout: TextIO = sys.stdout, export_dir: Path | None = None) -> None:
        self.runner = runner
        # Where /mine_data writes the file with everything stored (the current folder).
        self.export_dir = export_dir
        self.user = user
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = stdin.isatty()
        self.options: tuple[RenderedOption, ...] = ()
        self.language: Language | None = None

    def show(self, turn: Turn) -> None:
        if Effect.EXPORT_MY_DATA in turn.effects:
            before, after = my_data.split_turn(turn, turn.language)
            self._print(before)
            self.export(turn.language)
            self._print(after)
        else:
            self._print(turn)
        self.language = turn.language

    def export(self, language: Language | None) -> None:
        """The summary of everything stored, and the whole of it in a file only the user reads."""
        data = my_data.fetch(self.runner.engine, channel=CHANNEL, chat_id=self.user,
                             now=self.runner.clock(),
                             draft_retention_days=self.runner.dialog.draft_retention_days)
        for reply in my_data.summary(data):
            print(render(language, reply).text, file=self.stdout)
        path = (self.export_dir or Path.cwd()) / my_data.filename(data)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(my_data.json_bytes(data))
        print(render(language, Reply("privacy.export.saved_to", {"path": str(path)})).text,
              file=self.stdout)
        print(file=self.stdout)

    def _print(self, turn: Turn) -> None:
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
