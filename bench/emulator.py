"""The Bot API emulator for the benchmarks that run the real `dinplan run`.

As the end-to-end tests do it (/work/shared/telegram-emulator/README.md): the emulator's files
are copied into .cache/telegram-emulator and installed with `npm ci` once (the same folder,
stamp and lock as the tests, so either may install it), and `node emulator.js PORT` runs as a
subprocess on 127.0.0.1, stopped by its PID.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import ROOT

SHARED = Path(os.environ.get("DINPLAN_TELEGRAM_EMULATOR_SOURCE",
                             "/work/shared/telegram-emulator"))
INSTALL = ROOT / ".cache" / "telegram-emulator"
FILES = ("emulator.js", "shim.js", "package.json", "package-lock.json")


class EmulatorError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def install() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise EmulatorError("node and npm are needed: run `make system-deps`")
    digest = hashlib.sha256(b"".join((SHARED / name).read_bytes() for name in FILES)).hexdigest()
    stamp = INSTALL / ".installed"
    INSTALL.parent.mkdir(parents=True, exist_ok=True)
    with (INSTALL.parent / "telegram-emulator.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == digest and (INSTALL / "node_modules").is_dir():
            return INSTALL
        INSTALL.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            target = INSTALL / name
            target.unlink(missing_ok=True)
            shutil.copyfile(SHARED / name, target)
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=INSTALL,
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise EmulatorError(f"npm ci failed:\n{done.stdout}\n{done.stderr}")
        stamp.write_text(digest)
    return INSTALL


def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM by PID, SIGKILL if it does not go."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def wait_for(log: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if text in line:
                return line
        if process.poll() is not None:
            raise EmulatorError(f"exited ({process.returncode}) before {text!r}:\n"
                                f"{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.01)
    raise EmulatorError(f"no {text!r} after {timeout:.0f} s:\n"
                        f"{log.read_text(errors='replace')[-3000:]}")


@contextmanager
def running_emulator(folder: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The emulator's base URL (http://127.0.0.1:PORT) and its process, while the block runs."""
    installed = install()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "emulator.log"
    with log.open("wb") as out:
        process = subprocess.Popen([shutil.which("node") or "node", "emulator.js",
                                    str(free_port())], cwd=installed, stdout=out,
                                   stderr=subprocess.STDOUT, env={**os.environ, "EMU_LOG": "0"})
    try:
        line = wait_for(log, "EMULATOR_READY", process, 30)
        yield line.split()[1], process
    finally:
        stop(process)
