"""Calls to the Bot API that survive flood limits and short network trouble.

PTB's AIORateLimiter keeps within Telegram's flood limits and, on RetryAfter, waits as long as
Telegram says. On top of it, NetworkError and TimedOut are retried with backoff, but only where a
retry cannot send a message twice: calls that are safe to repeat (edits, answers to button
presses, the command menu), and any call that provably never reached Telegram (no connection).
Which those are is told in errors.py, which needs no `telegram.ext`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import NetworkError
from telegram.ext import AIORateLimiter

from bot.telegram.errors import safe_to_retry

log = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]


class PatientRateLimiter(AIORateLimiter):
    """AIORateLimiter, plus backoff and retry of network failures that cannot duplicate."""

    def __init__(self, *, retry_after_attempts: int = 3, network_attempts: int = 4,
                 backoff: float = 0.5, max_backoff: float = 10.0, **limits: float) -> None:
        """`limits` are AIORateLimiter's flood limits (overall_max_rate and the like)."""
        super().__init__(max_retries=retry_after_attempts, **limits)
        self.network_attempts = network_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter, so many chats do not retry in step."""
        return min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        attempt = 1
        while True:
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data,
                                                     rate_limit_args)
            except NetworkError as error:  # TimedOut is a NetworkError
                if attempt >= self.network_attempts or not safe_to_retry(endpoint, error):
                    raise
                delay = self.delay(attempt - 1)
                log.warning("%s failed (%s); attempt %d of %d in %.1f s", endpoint,
                            type(error).__name__, attempt + 1, self.network_attempts, delay)
                await asyncio.sleep(delay)
                attempt += 1
