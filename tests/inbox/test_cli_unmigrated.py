"""`dinplan staff ...` and `dinplan audit` on a database without the schema: a one-line hint to
run `dinplan db upgrade` (exit 2), as the bot's commands give, not a traceback."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.cli import main
from storage.db import make_engine
from storage.settings import get_settings

from .conftest import GULEN

HINT = re.compile(r"dinplan: the database is not ready \((OperationalError|ProgrammingError)\); "
                  r"run `dinplan db upgrade` first\n")


@pytest.fixture
def unmigrated(empty_database_url: str, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`dinplan` pointed at a database with no tables, and nothing else from the environment."""
    monkeypatch.chdir(tmp_path)  # no .env
    for name in [n for n in os.environ if n.startswith("DINPLAN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DINPLAN_DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    yield empty_database_url
    get_settings.cache_clear()


@pytest.mark.parametrize("command", [
    ["staff", "list"],
    ["staff", "list", "--unit", GULEN],
    ["staff", "add", "--unit", GULEN, "--name", "Åse Ødegård", "--lang", "nn"],
    ["staff", "disable", "siri.saebo"],
    ["audit"],
    ["audit", "--unit", GULEN, "--reference", "abcd-2345", "--days", "7"],
], ids=" ".join)
def test_staff_commands_on_an_unmigrated_database_say_to_migrate(
        command: list[str], unmigrated: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(command)
    out, err = capsys.readouterr()
    assert code == 2
    assert HINT.fullmatch(err), err
    assert "Traceback" not in err
    assert out == ""  # not even a table's heading
    engine = make_engine(unmigrated)
    try:
        assert inspect(engine).get_table_names() == []  # and nothing was made on the way
    finally:
        engine.dispose()
