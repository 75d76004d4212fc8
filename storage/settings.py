"""All configuration in one place, read from the environment (prefix DINPLAN_) or a .env file.

It lives in `storage/` because every process (bot, inbox, tools) shares storage and imports it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from storage.crypto import Keyring

DEFAULT_DATA_DIR = Path("var")
TELEGRAM_API = "https://api.telegram.org/bot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DINPLAN_", env_file=".env", extra="ignore")

    environment: str = "development"
    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'dinplan.sqlite3'}"
    log_level: str = "INFO"

    # Encryption at rest: a key (base64, 32 bytes; several comma-separated, newest first, while
    # rotating) or a key file. In development a key file is made on first use.
    encryption_key: SecretStr | None = None
    encryption_key_file: Path = DEFAULT_DATA_DIR / "dinplan.key"

    telegram_token: SecretStr | None = None
    telegram_base_url: str = TELEGRAM_API
    telegram_base_file_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443

    # The coordinating units (storage/units.py); unset: the directory shipped with Din plan.
    units_file: Path | None = None
    # Delivery to the units: how often the worker runs, and when a delivery still failing is
    # logged and shown by `dinplan status` as overdue.
    delivery_interval_seconds: int = 30
    delivery_overdue_after_minutes: int = 60

    # The staff web inbox (`dinplan inbox`): where it listens, the address staff open (set-up
    # links start with it), and whether cookies are sent over HTTPS only (off only for a local
    # try-out over plain http).
    inbox_listen: str = "127.0.0.1"
    inbox_port: int = 8000
    inbox_url: str = "http://127.0.0.1:8000"
    inbox_secure_cookies: bool = True

    # Retention (storage/privacy.py, bot/retention.py; PRIVACY.md says the same to people): an
    # unsent draft is deleted this many days after it was started, with a reminder some days
    # before to those who asked for one; a sent request this many days after the unit
    # acknowledged it (received, in progress or closed), or after it was sent if the unit never
    # did (or it was only saved); a chat that holds nothing else after this many idle days.
    draft_retention_days: int = 30
    draft_reminder_days_before: int = 7
    request_retention_days: int = 90
    unacknowledged_request_retention_days: int = 365
    idle_conversation_retention_days: int = 30
    retention_interval_minutes: int = 60

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def keyring(self) -> Keyring:
        from storage.crypto import load_keyring

        return load_keyring(
            key_setting=self.encryption_key.get_secret_value() if self.encryption_key else None,
            key_file=self.encryption_key_file,
            create_if_missing=not self.is_production,
        )


@cache
def get_settings() -> Settings:
    return Settings()
