"""Bot API errors: RetryAfter is waited out as told; network failures are retried with backoff
only where a retry cannot send a message twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.engine import Engine
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.telegram.errors import safe_to_retry
from bot.telegram.retrying import PatientRateLimiter
from dialogs.steps import Step
from tests.telegram.lines import label, say
from tests.telegram.offline import OfflineRequest, Person, api_error
from tests.telegram.walk import stored


# PTB itself reads RetryAfter.retry_after, whose type changes in PTB 23.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_waits_as_long_as_telegram_says(
        person: Callable[..., Person], offline: OfflineRequest) -> None:
    kari = person(language_code="nb")
    offline.script["sendMessage"] = [api_error(429, "Too Many Requests: retry after 1",
                                               retry_after=1)]
    started = time.monotonic()
    calls = await kari.write("/start")
    assert time.monotonic() - started >= 1.0
    assert [c.endpoint for c in calls] == ["sendMessage", "sendMessage"]
    assert len(kari.screen()) == 1  # delivered once


async def test_a_message_that_never_left_is_sent_again(
        person: Callable[..., Person], offline: OfflineRequest) -> None:
    kari = person(language_code="nb")
    offline.script["sendMessage"] = [httpx.ConnectError("connection refused"),
                                     httpx.PoolTimeout("no free connection")]
    calls = await kari.write("/start")
    assert [c.endpoint for c in calls] == ["sendMessage"] * 3
    assert len(kari.screen()) == 1


async def test_a_message_that_may_have_arrived_is_not_sent_twice(
        person: Callable[..., Person], offline: OfflineRequest, sqlite_engine: Engine,
        caplog: pytest.LogCaptureFixture) -> None:
    kari = person(language_code="nb")
    offline.script["sendMessage"] = [httpx.ReadTimeout("no answer in time")]
    with caplog.at_level(logging.ERROR, logger="bot.telegram.handlers"):
        calls = await kari.write("/start")
    assert [c.endpoint for c in calls] == ["sendMessage"]
    assert "handling an update failed: TimedOut" in caplog.text
    assert "/start" not in caplog.text  # never what the person wrote
    # The turn was saved before the reply: /start again says where the person is.
    assert stored(sqlite_engine, kari.chat_id).step is Step.READ_INTRO


async def test_an_edit_is_repeated_after_a_timeout(
        person: Callable[..., Person], offline: OfflineRequest) -> None:
    kari = person(language_code="nb")
    await kari.write("/start")
    offline.script["editMessageText"] = [httpx.ReadTimeout("slow"),
                                         httpx.RemoteProtocolError("closed")]
    calls = await kari.press(label("nb", "option.continue"))
    assert [c.endpoint for c in calls].count("editMessageText") == 3
    assert say("nb", "privacy.ask_consent") in [c.text for c in calls][-1]


async def test_network_retries_give_up_in_the_end(
        person: Callable[..., Person], offline: OfflineRequest) -> None:
    kari = person(language_code="nb")
    offline.script["sendMessage"] = [httpx.ConnectError("down")] * 10
    calls = await kari.write("/start")
    assert [c.endpoint for c in calls] == ["sendMessage"] * 4  # network_attempts


def test_which_failures_are_safe_to_retry() -> None:
    def failure(cause: Exception, error: type[NetworkError] = NetworkError) -> NetworkError:
        try:
            raise error("failed") from cause
        except NetworkError as raised:
            return raised

    refused = failure(httpx.ConnectError("refused"))
    late = failure(httpx.ReadTimeout("late"), TimedOut)
    assert safe_to_retry("sendMessage", refused)
    assert not safe_to_retry("sendMessage", late)
    assert not safe_to_retry("sendDocument", late)
    assert safe_to_retry("editMessageText", late)
    assert safe_to_retry("answerCallbackQuery", late)
    assert not safe_to_retry("editMessageText", BadRequest("message is not modified"))


def test_backoff_grows_and_is_capped() -> None:
    limiter = PatientRateLimiter(backoff=1.0, max_backoff=5.0)
    delays = [limiter.delay(attempt) for attempt in range(6)]
    assert 0.5 <= delays[0] <= 1.0
    assert 2.0 <= delays[2] <= 4.0
    assert all(d <= 5.0 for d in delays)
