"""The bot set up to talk to no Telegram at all: shared by the bench and the tests.

`OFFLINE` is a configuration whose Bot API URLs are never reached: the application is built with
a `BaseRequest` that answers from memory (bench/offline.py, tests/telegram/offline.py).
`offline_limiter` is the real rate limiter with Telegram's flood limits off, so that a bot fed
from memory is measured (or tested) rather than held to 30 messages a second.

It lives under bench/ because bench/ never imports tests/, while tests may import this: it
depends on the bot's own modules only, none of the bench's machinery.
"""

from __future__ import annotations

from bot.telegram.config import TelegramConfig
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
