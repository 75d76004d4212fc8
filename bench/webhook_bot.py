"""`dinplan run --webhook` as `bot.telegram.app.run_bot` runs it, but with the flood limiter's
limits off (as in the handler tests), so that a benchmark measures the bot and its database
rather than Telegram's 30 messages a second, which PatientRateLimiter enforces per process.
Settings come from the same DINPLAN_* variables."""

from __future__ import annotations

import html
import logging
import sys

from bench.offline_config import offline_limiter
from bot.runner import DialogRunner
from bot.telegram.app import ALLOWED_UPDATES, build_application, quiet_logs
from bot.telegram.config import telegram_config
from storage.db import make_engine
from storage.settings import get_settings


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("transitions").setLevel(logging.WARNING)
    quiet_logs()
    config = telegram_config(settings, webhook=True)
    assert config.webhook is not None
    engine = make_engine(settings.database_url)
    app = build_application(config, DialogRunner(engine, escape=html.escape),
                            rate_limiter=offline_limiter())
    hook = config.webhook
    try:
        app.run_webhook(listen=hook.listen, port=hook.port, url_path=hook.path,
                        webhook_url=hook.url, secret_token=hook.secret,
                        allowed_updates=ALLOWED_UPDATES)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
