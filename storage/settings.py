"""All configuration in one place, read from the environment (prefix DINPLAN_) or a .env file.

It lives in `storage/` because every process (bot, inbox, tools) shares storage and imports it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")
TELEGRAM_API = "https://api.telegram.org/bot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DINPLAN_", env_file=".env", extra="ignore")

    environment: str = "development"
    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'dinplan.sqlite3'}"
    log_level: str = "INFO"

    telegram_token: SecretStr | None = None
    telegram_base_url: str = TELEGRAM_API
    telegram_base_file_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443


@cache
def get_settings() -> Settings:
    return Settings()
