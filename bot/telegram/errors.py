"""What a failed Bot API call tells: may it be sent again, and how long flood control asks to wait.

Needs `telegram.error` only, not PTB's `telegram.ext`: the workers' commands (`dinplan deliver`,
`dinplan notify`) read failures this way without loading the Application machinery.
`retrying.py` builds the bot's rate limiter on the same rules.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter

# Doing these twice leaves the chat as doing them once.
REPEATABLE_METHODS = frozenset({
    "answerCallbackQuery", "deleteMessage", "deleteMyCommands", "deleteWebhook",
    "editMessageReplyMarkup", "editMessageText", "getChat", "getFile", "getMe", "getMyCommands",
    "sendChatAction", "setMyCommands", "setWebhook",
})
# The request was not sent: no connection was made, or none was free.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def safe_to_retry(endpoint: str, error: NetworkError) -> bool:
    """Whether sending again cannot deliver the call twice."""
    if isinstance(error, BadRequest):  # Telegram read it and said no; again is no better
        return False
    return endpoint in REPEATABLE_METHODS or isinstance(error.__cause__, NOT_SENT)


def retry_after(error: RetryAfter) -> timedelta:
    """How long Telegram's flood control asks to wait."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 deprecates the int form; both are read here
        value = error.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))
