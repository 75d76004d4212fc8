"""Build the PTB Application and run it: long polling, or a webhook server behind a secret.

State lives in the database (through `DialogRunner`), not in PTB persistence, so a restart
mid-conversation loses nothing. Start here to see how the parts fit together. At start-up the
bot also puts its workers on PTB's JobQueue: the delivery worker (requests to the units' inboxes,
alerts to their staff chats, bot/delivery.py) and the notifier (a unit's receipt or status
change, told to the citizen, bot/notifier.py).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from telegram import Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    Defaults,
)
from telegram.request import BaseRequest

from bot.delivery import schedule_delivery
from bot.notifier import schedule_notifier
from bot.pdf_process import start_worker
from bot.retention import dialog_from_settings, schedule_retention
from bot.runner import DialogRunner
from bot.telegram.config import ConfigurationError, TelegramConfig, telegram_config
from bot.telegram.conversation import TelegramConversations
from bot.telegram.handlers import ChatHandlers
from bot.telegram.jobs import repeat_in_thread
from bot.telegram.menu import set_command_menus
from bot.telegram.ordering import PerChatUpdateProcessor
from bot.telegram.retrying import PatientRateLimiter
from storage.db import checkpoint_wal, configured_engine, defer_checkpoints, unit_of_work
from storage.models import utcnow
from storage.settings import Settings, get_settings
from storage.units import UnitsDirectory
from storage.updates import forget_updates_before

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
# Telegram keeps an unconfirmed update for 24 hours; remember handled ids a while longer.
REMEMBER_UPDATES = timedelta(days=2)
# Connections to the Bot API. PTB's default of 256 costs CPU on every request: httpx's pool
# checks each connection it holds, with a socket poll, before it sends (httpcore #924); with
# 256 concurrent updates it grew to that. Telegram takes 30 messages a second from a bot, a few
# in flight at a time: 16 is plenty (the webhook benchmark: a third less CPU per update). A
# request waits for a free connection rather than failing after PTB's 1 s.
SEND_CONNECTIONS = 16
WAIT_FOR_CONNECTION = 20.0  # seconds
FORGET_EVERY = timedelta(hours=6)
CHECKPOINT_EVERY = timedelta(seconds=1)  # SQLite: the WAL back into the database, between turns


class StartupError(Exception):
    """The bot could not start for a reason outside its settings (the network, say)."""


def build_application(
    config: TelegramConfig,
    runner: DialogRunner,
    *,
    request: BaseRequest | None = None,
    rate_limiter: BaseRateLimiter | None = None,
    update_processor: BaseUpdateProcessor | None = None,
    settings: Settings | None = None,
    directory: UnitsDirectory | None = None,
) -> Application:
    """The bot with its handlers; `request` replaces the network in tests. `settings` (default:
    the environment's) and `directory` (default: the configured units) are for the workers the
    bot starts with."""
    builder = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.base_url)
        .base_file_url(config.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .concurrent_updates(update_processor or PerChatUpdateProcessor())
        .rate_limiter(rate_limiter or PatientRateLimiter())
        .post_init(_on_start(runner.engine, settings, directory))
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        builder = builder.connection_pool_size(SEND_CONNECTIONS).pool_timeout(WAIT_FOR_CONNECTION)
    app = builder.build()
    ChatHandlers(TelegramConversations(runner)).register(app)
    return app


def forget_old_updates(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return forget_updates_before(session, before=utcnow() - REMEMBER_UPDATES)


def _on_start(engine: Engine, settings: Settings | None, directory: UnitsDirectory | None,
              ) -> Callable[[Application], Coroutine[Any, Any, None]]:
    async def on_start(app: Application) -> None:
        """Set the command menus, start the PDF worker, the delivery worker, the notifier and
        retention, and keep the table of handled updates short."""
        start_worker()
        await set_command_menus(app.bot)
        workers = settings or get_settings()
        schedule_delivery(app, engine, workers, directory)
        schedule_notifier(app, engine, workers, directory)
        schedule_retention(app, engine, workers)  # these raise without a job queue
        schedule_checkpoints(app, engine)
        repeat_in_thread(app, lambda: forget_old_updates(engine), interval=FORGET_EVERY,
                         first=timedelta(seconds=5), name="forget handled updates")
    return on_start


def schedule_checkpoints(app: Application, engine: Engine) -> None:
    """On SQLite, checkpoint the WAL from a job every second instead of inside a turn
    (storage.db.defer_checkpoints); nothing on PostgreSQL."""
    # Without a job queue SQLite keeps checkpointing inside the turns, as by default.
    if app.job_queue is None or not defer_checkpoints(engine):
        return
    repeat_in_thread(app, lambda: checkpoint_wal(engine), interval=CHECKPOINT_EVERY,
                     first=CHECKPOINT_EVERY, name="checkpoint the WAL")


def ensure_schema(database_url: str, *, embedded_default: str) -> None:
    """Refuse to run on a schema behind the code.

    A shared database (PostgreSQL, or any URL someone chose) is migrated deliberately with
    `dinplan db upgrade`, by whoever deploys. The embedded default SQLite file belongs to this
    process alone, like the terminal chat's, so the bot brings it up to date itself.
    """
    from storage.migrate import SchemaStatus, check_schema, upgrade

    if database_url == embedded_default:
        upgrade(database_url)
        return
    check = check_schema(database_url)
    if check.status is SchemaStatus.NOT_REACHABLE:
        raise ConfigurationError(f"cannot open the database (DINPLAN_DATABASE_URL): "
                                 f"{type(check.error).__name__}") from check.error
    if check.status is not SchemaStatus.CURRENT:
        raise ConfigurationError("the database schema is not up to date; run `dinplan db "
                                 "upgrade` first")


def quiet_logs() -> None:
    """httpx logs every URL, and a bot's URLs hold its token; PTB's debug log holds updates."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    telegram_log = logging.getLogger("telegram")
    telegram_log.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))


def run_bot(settings: Settings, *, webhook: bool) -> int:
    """Run until stopped (SIGINT, SIGTERM); ConfigurationError if it cannot start."""
    config = telegram_config(settings, webhook=webhook)
    default_url = Settings.model_fields["database_url"].default
    ensure_schema(settings.database_url, embedded_default=default_url)
    quiet_logs()
    with configured_engine(settings.database_url) as engine:
        runner = DialogRunner(engine, dialog=dialog_from_settings(settings), escape=html.escape)
        app = build_application(config, runner, settings=settings)
        try:
            if config.webhook is None:
                app.run_polling(allowed_updates=ALLOWED_UPDATES)
            else:
                hook = config.webhook
                app.run_webhook(listen=hook.listen, port=hook.port, url_path=hook.path,
                                webhook_url=hook.url, secret_token=hook.secret,
                                allowed_updates=ALLOWED_UPDATES)
        except InvalidToken as error:
            raise ConfigurationError("Telegram rejected DINPLAN_TELEGRAM_TOKEN") from error
        except NetworkError as error:
            raise StartupError(f"cannot reach the Bot API at {config.base_url}: "
                               f"{type(error).__name__}") from error
    return 0


__all__ = ["ConfigurationError", "StartupError", "build_application", "run_bot",
           "telegram_config"]
