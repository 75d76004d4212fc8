"""End-to-end helpers: the Bot API emulator, the real `dinplan run`, and a person on a phone.

The emulator (`/work/shared/telegram-emulator`, see its README) is copied into `.cache/` and
installed with `npm ci` once; it runs as a subprocess on 127.0.0.1. The bot is the real console
script, pointed at it with DINPLAN_TELEGRAM_BASE_URL. Every process is stopped by its PID.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("DINPLAN_TELEGRAM_EMULATOR_SOURCE",
                             "/work/shared/telegram-emulator"))
INSTALL = ROOT / ".cache" / "telegram-emulator"
FILES = ("emulator.js", "shim.js", "package.json", "package-lock.json")
DINPLAN = Path(sys.executable).with_name("dinplan")
WAIT = 15.0  # seconds for anything the bot should do


class SetupError(RuntimeError):
    """The end-to-end set-up is missing something; the message says what."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install_emulator() -> Path:
    """Copy the emulator into .cache/ and `npm ci` it, unless this very version is there."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise SetupError("node and npm are needed for the Telegram end-to-end tests: run "
                         "`make system-deps` (.ci/system-deps installs nodejs and npm)")
    missing = [name for name in FILES if not (SHARED / name).is_file()]
    if missing:
        raise SetupError(f"the Telegram emulator is not in {SHARED}: {', '.join(missing)} missing")
    digest = hashlib.sha256(b"".join((SHARED / name).read_bytes() for name in FILES)).hexdigest()
    stamp = INSTALL / ".installed"
    with _locked(INSTALL.parent / "telegram-emulator.lock"):
        if stamp.is_file() and stamp.read_text() == digest and (INSTALL / "node_modules").is_dir():
            return INSTALL
        INSTALL.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copyfile(SHARED / name, INSTALL / name)
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=INSTALL,
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise SetupError(f"npm ci failed in {INSTALL}:\n{done.stdout}\n{done.stderr}")
        stamp.write_text(digest)
    return INSTALL


def wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes],
                  timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace") if log.exists() else ""
        for line in content.splitlines():
            if text in line:
                return line
        if process.poll() is not None:
            raise SetupError(f"process exited ({process.returncode}) before {text!r}:\n{content}")
        time.sleep(0.05)
    raise SetupError(f"no {text!r} after {timeout:.0f} s:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """SIGTERM by PID, then SIGKILL if it does not go."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@dataclass
class Emulator:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    _tokens: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_token(self) -> str:
        """A bot token of its own for each bot, so no test reads another's updates."""
        return f"{700000 + next(self._tokens)}:TEST-e2e-token"

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        if not answer.get("ok"):
            raise AssertionError(f"emulator {path}: {answer}")
        return answer.get("result")

    def download(self, token: str, file_id: str) -> bytes:
        info = self.bot_call(token, "getFile", {"file_id": file_id})
        url = f"{self.url}/file/bot{token}/{info['file_path']}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return bytes(response.read())

    def bot_call(self, token: str, method: str, body: dict[str, Any]) -> Any:
        return self.post(f"/bot{token}/{method}", body)


def start_emulator(folder: Path, log: Path) -> Emulator:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([shutil.which("node") or "node", "emulator.js", str(port)],
                                   cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "EMU_LOG": "0"})
    try:
        line = wait_for_line(log, "EMULATOR_READY", process, 30)
    except BaseException:
        stop(process)
        raise
    return Emulator(line.split()[1], process, log)


@dataclass
class BotProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Bots:
    """Starts `dinplan run` against the emulator on a migrated SQLite file; stops them all."""

    def __init__(self, emulator: Emulator, folder: Path) -> None:
        self.emulator, self.folder = emulator, folder
        self.database_url = f"sqlite:///{folder / 'dinplan.sqlite3'}"
        self.started: list[BotProcess] = []
        self._logs = itertools.count(1)
        done = self.dinplan("db", "upgrade")
        if done.returncode != 0:
            raise SetupError(f"dinplan db upgrade failed:\n{done.stdout}\n{done.stderr}")

    def env(self, token: str, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("DINPLAN_")}
        return {**env, "DINPLAN_TELEGRAM_TOKEN": token,
                "DINPLAN_TELEGRAM_BASE_URL": f"{self.emulator.url}/bot",
                "DINPLAN_DATABASE_URL": self.database_url, "DINPLAN_LOG_LEVEL": "INFO", **extra}

    def dinplan(self, *args: str, token: str = "1:unused", **extra: str,
                ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(DINPLAN), *args], cwd=self.folder, env=self.env(token, **extra),
                              capture_output=True, text=True, timeout=60, check=False)

    def start(self, token: str, *args: str, ready: str = "Application started",
              **extra: str) -> BotProcess:
        log = self.folder / f"bot-{next(self._logs)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([str(DINPLAN), "run", *args], cwd=self.folder,
                                       env=self.env(token, **extra), stdout=out,
                                       stderr=subprocess.STDOUT)
        bot = BotProcess(process, log)
        self.started.append(bot)
        wait_for_line(log, ready, process, 30)
        return bot

    def kill(self, bot: BotProcess) -> None:
        """SIGKILL: no goodbye, no clean shutdown, as when the machine dies."""
        bot.process.kill()
        bot.process.wait(5)

    def stop_all(self) -> None:
        for bot in self.started:
            stop(bot.process)


class Phone:
    """A person in Telegram, talking to one bot through the emulator's client API."""

    def __init__(self, emulator: Emulator, token: str, *, chat_id: int,
                 language_code: str | None, name: str = "Kari") -> None:
        self.emulator, self.token = emulator, token
        self.chat_id, self.language_code, self.name = chat_id, language_code, name
        self.inbox: list[dict[str, Any]] = []  # every bot message read so far, as first seen
        self.seen = 0  # how much of the inbox `expect` has gone through

    @property
    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.chat_id, "is_bot": False, "first_name": self.name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _message(self, **fields: Any) -> dict[str, Any]:
        return {"botToken": self.token, "from": self.user, "date": int(time.time()),
                "chat": {"id": self.chat_id, "type": "private", "first_name": self.name},
                **fields}

    def write(self, text: str) -> None:
        if text.startswith("/"):
            entity = {"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}
            self.emulator.post("/sendCommand", self._message(text=text, entities=[entity]))
        else:
            self.emulator.post("/sendMessage", self._message(text=text))

    def send(self, **fields: Any) -> None:
        """A message without text: a sticker, a photo, a location..."""
        self.emulator.post("/sendMessage", self._message(**fields))

    def history(self) -> list[dict[str, Any]]:
        """The bot's messages in this chat as they look now (edits applied), oldest first."""
        items = self.emulator.post("/getUpdatesHistory", {"token": self.token})
        return [item for item in items if "chat_id" in item.get("message", {})
                and str(item["message"]["chat_id"]) == str(self.chat_id)]

    def button(self, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
        for item in reversed(self.history()):
            for row in (item["message"].get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return item, button
        raise AssertionError(f"no button {label!r} in chat {self.chat_id}")

    def press(self, label: str, *, on: dict[str, Any] | None = None) -> None:
        """Press the newest button with this label (or the one on the given old message)."""
        if on is None:
            item, button = self.button(label)
        else:
            item = on
            button = next(b for row in on["message"]["reply_markup"]["inline_keyboard"]
                          for b in row if b["text"] == label)
        self.emulator.post("/sendCallback", {
            "botToken": self.token, "from": self.user, "data": button["callback_data"],
            "chat_instance": str(self.chat_id),
            "message": {"message_id": item["messageId"], "chat": {"id": self.chat_id}},
        })

    def read(self) -> list[dict[str, Any]]:
        """New bot messages (as the client API gives them: `message` holds the fields)."""
        fresh = self.emulator.post("/getUpdates", {"token": self.token, "chatId": self.chat_id})
        self.inbox.extend(fresh)
        return list(fresh)

    def expect(self, fragment: str, *, timeout: float = WAIT) -> list[dict[str, Any]]:
        """Wait for a bot message containing `fragment`: the messages up to it not yet seen by
        an earlier `expect`."""
        deadline = time.monotonic() + timeout
        while True:
            for index in range(self.seen, len(self.inbox)):
                if fragment in text_of(self.inbox[index]):
                    got, self.seen = self.inbox[self.seen:index + 1], index + 1
                    return got
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"chat {self.chat_id}: no message with {fragment!r} in {timeout} s; got "
                    f"{[text_of(item) for item in self.inbox[self.seen:]]}")
            self.read()
            time.sleep(0.02)

    def expect_nothing_more(self, seconds: float = 0.5) -> None:
        """Nothing arrives within `seconds` beyond what `expect` has gone through."""
        time.sleep(seconds)
        self.read()
        extra = [text_of(item) for item in self.inbox[self.seen:]]
        assert not extra, f"chat {self.chat_id}: unexpected {extra}"


def text_of(item: dict[str, Any]) -> str:
    message = item.get("message", item)
    return str(message.get("text") or message.get("caption") or "")


def eventually(check: Callable[[], Any], *, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
