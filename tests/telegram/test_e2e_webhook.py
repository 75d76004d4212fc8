"""End to end: `dinplan run --webhook` takes updates only with Telegram's secret header."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from tests.telegram.emulator import Bots, Emulator, Phone, free_port, text_of
from tests.telegram.lines import say

SECRET = "e2e-webhook_secret-0123456789"


def post(url: str, update: dict[str, object], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_webhook_refuses_requests_without_the_secret(emulator: Emulator, bots: Bots,
                                                     phone: Callable[..., Phone]) -> None:
    token = emulator.new_token()
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    bots.start(token, "--webhook", DINPLAN_WEBHOOK_URL=url, DINPLAN_WEBHOOK_SECRET=SECRET,
               DINPLAN_WEBHOOK_LISTEN="127.0.0.1", DINPLAN_WEBHOOK_PORT=str(port))
    kari = phone(token, language_code="nb")

    def update(update_id: int, command: str = "/start") -> dict[str, object]:
        return {"update_id": update_id, "message": {
            "message_id": update_id, "date": int(time.time()), "text": command,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
            "chat": {"id": kari.chat_id, "type": "private"}, "from": kari.user}}

    assert post(url, update(1), secret=None) == 403
    assert post(url, update(2), secret="wrong-secret") == 403
    kari.expect_nothing_more(0.5)  # neither reached the dialog
    assert post(url, update(3), secret=SECRET) == 200
    kari.expect(say("nb", "intro.what_happens_here"))
    assert post(url, update(3), secret=SECRET) == 200  # Telegram retrying a delivery
    kari.expect_nothing_more(0.5)
    # A slow bot passes that too. The chat's updates are handled in turn, so once the reply to
    # a fresh update is in, a second answer to the retry would have come before it.
    assert post(url, update(4, "/hjelp"), secret=SECRET) == 200
    # The help, then the intro's question again: the end of the help's reply.
    since_retry = [text_of(item) for item in kari.expect(say("nb", "intro.what_happens_here"))]
    assert since_retry[0].startswith(say("nb", "help.commands")), since_retry
    assert sum(say("nb", "intro.what_happens_here") in text for text in since_retry) == 1, \
        since_retry
    kari.expect_nothing_more(0.5)
