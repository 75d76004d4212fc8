"""The bot's connections to the Bot API: a small pool that requests wait for, not PTB's 256
(httpx checks every pooled connection before each request, so a large pool costs CPU)."""

from __future__ import annotations

import httpx
from telegram.request import HTTPXRequest

from bot.runner import DialogRunner
from bot.telegram.app import SEND_CONNECTIONS, WAIT_FOR_CONNECTION, build_application
from tests.telegram.offline import OFFLINE


def test_the_bot_sends_over_a_small_pool_and_waits_for_a_connection(
        telegram_runner: DialogRunner) -> None:
    app = build_application(OFFLINE, telegram_runner)
    request = app.bot.request
    assert isinstance(request, HTTPXRequest)
    # PTB has no public getter: the arguments it builds its httpx client from.
    limits: httpx.Limits = request._client_kwargs["limits"]
    timeout: httpx.Timeout = request._client_kwargs["timeout"]
    assert limits.max_connections == SEND_CONNECTIONS == 16
    assert timeout.pool == WAIT_FOR_CONNECTION
