"""The key at start-up: in production a missing key stops `dinplan run`, `inbox` and `chat` with
one clear line (exit 2); in development (`make chat`) a local key file is made on first use and
kept."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from storage.crypto import Keyring, read_key_file

# What `make chat` runs, in this order (Makefile).
MAKE_CHAT = (["db", "upgrade"], ["chat", "--user", "kari"])


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any Din plan setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINPLAN_")}
    return {**env, "PYTHONIOENCODING": "utf-8", **extra}


def dinplan(*args: str, cwd: Path, env: dict[str, str], stdin: str = ""
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env,
                          input=stdin, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("command", [["run"], ["inbox"], ["chat"], ["run", "--webhook"]])
def test_production_without_a_key_stops_with_one_line(command: list[str], tmp_path: Path) -> None:
    env = clean_env(DINPLAN_ENVIRONMENT="production",
                    DINPLAN_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                    DINPLAN_ENCRYPTION_KEY_FILE=str(tmp_path / "missing.key"),
                    DINPLAN_TELEGRAM_TOKEN="123:abc")
    result = dinplan(*command, cwd=tmp_path, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"dinplan {command[0]}: error: no encryption key")
    assert "DINPLAN_ENCRYPTION_KEY" in lines[0]
    assert not (tmp_path / "missing.key").exists()
    assert not (tmp_path / "db.sqlite3").exists()  # nothing was started


def test_production_with_a_broken_key_stops_with_one_line(tmp_path: Path) -> None:
    env = clean_env(DINPLAN_ENVIRONMENT="production", DINPLAN_ENCRYPTION_KEY="not-a-key",
                    DINPLAN_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = dinplan("chat", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_make_chat_creates_a_local_key_once(tmp_path: Path) -> None:
    """In development (the default) the first run makes var/dinplan.key, readable by its owner
    only, and every later run uses the same key."""
    env = clean_env()
    for args in MAKE_CHAT:
        result = dinplan(*args, cwd=tmp_path, env=env,
                         stdin="1\n1\n1\n1\n2\nKanarinavn Testesen\n")
        assert result.returncode == 0, result.stderr
    key_file = tmp_path / "var" / "dinplan.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = key_file.read_bytes()
    [key] = read_key_file(key_file)
    with sqlite3.connect(tmp_path / "var" / "dinplan.sqlite3") as db:
        [stored] = db.execute("SELECT person_name FROM draft_plan").fetchone()
    assert stored.startswith("enc1:")
    assert Keyring([key]).decrypt(stored) == "Kanarinavn Testesen"

    for args in MAKE_CHAT:
        assert dinplan(*args, cwd=tmp_path, env=env).returncode == 0
    assert key_file.read_bytes() == first
