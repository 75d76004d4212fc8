"""The bot's settings, checked once at start-up so a mistake is one clear line, not a traceback."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from storage.settings import Settings

# "<bot id>:<secret>", as BotFather hands it out (test servers use shorter secrets).
TOKEN_PATTERN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,128}")
# Telegram's rule for setWebhook's secret_token.
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
PLACEHOLDERS = frozenset({"changethis", "changeme", "secret"})


class ConfigurationError(Exception):
    """The bot cannot start with these settings; the message says what to fix."""


@dataclass(frozen=True)
class Webhook:
    url: str
    path: str
    listen: str
    port: int
    secret: str


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    base_url: str
    base_file_url: str
    webhook: Webhook | None

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])


def file_url_for(base_url: str) -> str:
    """Telegram serves files beside its API: `.../bot` gives `.../file/bot`."""
    stem = base_url.rstrip("/")
    return f"{stem[:-len('/bot')]}/file/bot" if stem.endswith("/bot") else f"{stem}/file/bot"


def token_given(settings: Settings) -> str | None:
    """DINPLAN_TELEGRAM_TOKEN without surrounding space; None if unset or blank."""
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token \
        else ""
    return token or None


def telegram_config(settings: Settings, *, webhook: bool) -> TelegramConfig:
    token = token_given(settings)
    if token is None:
        raise ConfigurationError("DINPLAN_TELEGRAM_TOKEN is not set; get a token from @BotFather")
    if not TOKEN_PATTERN.fullmatch(token):
        # Never echo the token: it is a secret even when it is wrong.
        raise ConfigurationError("DINPLAN_TELEGRAM_TOKEN is not a bot token "
                                 "(expected <bot id>:<secret>, as @BotFather gives it)")
    base_url = settings.telegram_base_url.strip()
    if urlsplit(base_url).scheme not in ("http", "https"):
        raise ConfigurationError("DINPLAN_TELEGRAM_BASE_URL must be an http(s) URL")
    return TelegramConfig(
        token=token,
        base_url=base_url,
        base_file_url=settings.telegram_base_file_url or file_url_for(base_url),
        webhook=_webhook(settings) if webhook else None,
    )


def _webhook(settings: Settings) -> Webhook:
    if not settings.webhook_url:
        raise ConfigurationError("--webhook needs DINPLAN_WEBHOOK_URL, the public https URL "
                                 "Telegram posts updates to")
    parts = urlsplit(settings.webhook_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError("DINPLAN_WEBHOOK_URL must be an http(s) URL")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not secret:
        raise ConfigurationError("--webhook needs DINPLAN_WEBHOOK_SECRET, so that only Telegram "
                                 "can post updates")
    if not SECRET_PATTERN.fullmatch(secret):
        raise ConfigurationError("DINPLAN_WEBHOOK_SECRET may only hold A-Z, a-z, 0-9, _ and -, "
                                 "at most 256 characters")
    if secret.lower() in PLACEHOLDERS and settings.environment != "development":
        raise ConfigurationError("DINPLAN_WEBHOOK_SECRET is a placeholder; set a random secret")
    return Webhook(url=settings.webhook_url, path=parts.path.strip("/"),
                   listen=settings.webhook_listen, port=settings.webhook_port, secret=secret)
