"""`dinplan run` refuses to start with a clear line (exit 2) when its settings are wrong."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect

from bot.cli import main
from bot.telegram.app import ensure_schema
from bot.telegram.config import ConfigurationError, file_url_for, telegram_config
from storage.db import make_engine
from storage.migrate import upgrade
from storage.settings import Settings, get_settings

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """A clean environment in an empty folder (no .env), and fresh settings."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("DINPLAN_")]:
        monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("DINPLAN_DATABASE_URL", url)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["run", *args])
    return code, capsys.readouterr().err


def test_no_token(environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys)
    assert code == 2
    assert err == "dinplan run: error: DINPLAN_TELEGRAM_TOKEN is not set; get a token from " \
                  "@BotFather\n"


def test_malformed_token_is_not_echoed(environment: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    environment.setenv("DINPLAN_TELEGRAM_TOKEN", "secret-but-wrong")
    code, err = run(capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "not a bot token" in err
    assert "secret-but-wrong" not in err


def test_schema_behind_the_code(environment: pytest.MonkeyPatch, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    environment.setenv("DINPLAN_TELEGRAM_TOKEN", TOKEN)
    environment.setenv("DINPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(f"sqlite:///{tmp_path / 'old.sqlite3'}", "0001")
    code, err = run(capsys)
    assert code == 2
    assert err == "dinplan run: error: the database schema is not up to date; run `dinplan db " \
                  "upgrade` first\n"


def test_the_embedded_default_database_upgrades_itself(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'dinplan.sqlite3'}"
    ensure_schema(url, embedded_default=url)
    engine = make_engine(url)
    assert "processed_update" in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.parametrize(("variables", "says"), [
    ({}, "DINPLAN_WEBHOOK_URL"),
    ({"DINPLAN_WEBHOOK_URL": "https://bot.example.org/telegram"}, "DINPLAN_WEBHOOK_SECRET"),
    ({"DINPLAN_WEBHOOK_URL": "https://bot.example.org/telegram",
      "DINPLAN_WEBHOOK_SECRET": "has spaces"}, "may only hold"),
    ({"DINPLAN_WEBHOOK_URL": "bot.example.org", "DINPLAN_WEBHOOK_SECRET": "s3cr3t"}, "http(s)"),
])
def test_webhook_needs_its_url_and_secret(environment: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str],
                                          variables: dict[str, str], says: str) -> None:
    environment.setenv("DINPLAN_TELEGRAM_TOKEN", TOKEN)
    for name, value in variables.items():
        environment.setenv(name, value)
    code, err = run(capsys, "--webhook")
    assert code == 2
    assert says in err
    assert err.count("\n") == 1


def test_a_placeholder_secret_is_refused_outside_development() -> None:
    settings = Settings(telegram_token=SecretStr(TOKEN), webhook_url="https://x.example/t",
                        webhook_secret=SecretStr("changethis"), environment="production")
    with pytest.raises(ConfigurationError, match="placeholder"):
        telegram_config(settings, webhook=True)


def test_webhook_path_comes_from_its_url() -> None:
    settings = Settings(telegram_token=SecretStr(TOKEN),
                        webhook_url="https://bot.example.org/dinplan/telegram",
                        webhook_secret=SecretStr("s3cr3t-token_1"))
    config = telegram_config(settings, webhook=True)
    assert config.webhook is not None
    assert config.webhook.path == "dinplan/telegram"
    assert config.bot_id == 123456


def test_file_url_sits_beside_the_api() -> None:
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:9000/bot/") == "http://127.0.0.1:9000/file/bot"
