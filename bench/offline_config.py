"""The bot set up to talk to no Telegram at all: shared by the bench and the tests.

`OFFLINE` is a configuration whose Bot API URLs are never reached: the application is built with
a `BaseRequest` that answers from memory (bench/offline.py, tests/telegram/offline.py).
`offline_limiter` is the real rate limiter with Telegram's flood limits off, so that a bot fed
from memory is measured (or tested) rather than held to 30 messages a second. `copies_sent`
waits for the PDF copies an application merely initialized has left under way.

It lives under bench/ because bench/ never imports tests/, while tests may import this: it
depends on the bot's own modules only, none of the bench's machinery.
"""

from __future__ import annotations

from telegram.ext import Application

from bot.telegram.config import TelegramConfig
from bot.telegram.handlers import ChatHandlers
from bot.telegram.retrying import PatientRateLimiter

# The bot the offline Bot APIs answer getMe with: its id is the token's first part.
BOT = {"id": 123456, "is_bot": True, "first_name": "Din plan", "username": "DinPlanBot",
       "can_join_groups": True, "can_read_all_group_messages": False,
       "supports_inline_queries": False}
TOKEN = f"{BOT['id']}:offline-token"
OFFLINE = TelegramConfig(token=TOKEN, base_url="http://bot-api.invalid/bot",
                         base_file_url="http://bot-api.invalid/file/bot", webhook=None)


def offline_limiter() -> PatientRateLimiter:
    """The limiter's machinery (RetryAfter still waits as told, quick backoff), but no flood
    limits: there is no Telegram to protect."""
    return PatientRateLimiter(backoff=0.01, max_backoff=0.05, overall_max_rate=0,
                              group_max_rate=0)


def chat_handlers(app: Application) -> ChatHandlers | None:
    """The ChatHandlers whose callbacks `app` runs; None for an application without ours."""
    for handlers in app.handlers.values():
        for handler in handlers:
            # Not every handler has a callback of its own (a ConversationHandler has not).
            owner = getattr(getattr(handler, "callback", None), "__self__", None)
            if isinstance(owner, ChatHandlers):
                return owner
    return None


async def copies_sent(app: Application) -> None:
    """Wait for the copies of sent drafts that `app`'s handlers are still making and sending.

    An application merely initialized (the handler tests, the bench) does not await the tasks it
    started when it stops; this does. An application without our handlers has none to wait for.
    """
    owner = chat_handlers(app)
    if owner is not None:
        await owner.copies_sent()
