"""`dinplan` commands that work on the database, on one without the schema: a hint to run
`dinplan db upgrade` (exit 2), not a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from storage.settings import get_settings

HINT = "dinplan: the database is not ready (OperationalError); run `dinplan db upgrade` first\n"


@pytest.mark.parametrize("command", [["retention"], ["deliver"], ["notify"], ["status"]])
def test_an_empty_sqlite_database_gets_the_upgrade_hint(
        command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in [n for n in os.environ if n.startswith("DINPLAN_")]:
        monkeypatch.delenv(name)  # no bot token either: nothing is sent
    monkeypatch.setenv("DINPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    get_settings.cache_clear()
    try:
        code = main(command)
    finally:
        get_settings.cache_clear()
    assert code == 2
    err = capsys.readouterr().err
    assert err.endswith(HINT)
    assert "Traceback" not in err
