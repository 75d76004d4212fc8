"""A Bot API that never leaves the process, lean enough for hundreds of thousands of updates,
and people who talk to a bot through `Application.process_update`.

The same approach as the handler tests (tests/telegram/offline.py): PTB sends its requests
through a `BaseRequest` that answers with canned Bot API JSON, and each person builds real
`Update` objects from dicts. Unlike the tests' version it keeps no call log and only the
messages that still carry inline buttons (the ones a person can press), and forgets a chat when
its person is done, so the harness's own memory stays flat however many chats it drives.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bench.offline_config import BOT


class LeanOfflineRequest(BaseRequest):
    """Answers like Telegram; remembers per chat only the messages with inline buttons."""

    def __init__(self) -> None:
        self.buttons: dict[int, dict[int, dict[str, Any]]] = {}  # chat -> id -> message
        self.counts: dict[str, int] = {}
        self._ids = itertools.count(1000)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None, pool_timeout: Any = None,
                         ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        self.counts[endpoint] = self.counts.get(endpoint, 0) + 1
        return 200, json.dumps({"ok": True, "result": self._result(endpoint, params,
                                                                   request_data)}).encode()

    def _result(self, endpoint: str, p: dict[str, Any], data: RequestData | None) -> Any:
        if endpoint == "getMe":
            return BOT
        if endpoint in ("sendMessage", "sendDocument"):
            chat_id = int(p["chat_id"])
            message: dict[str, Any] = {
                "message_id": next(self._ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"}, "from": BOT,
            }
            if endpoint == "sendMessage":
                message["text"] = p["text"]
            else:
                message["document"] = {"file_id": "doc", "file_unique_id": "doc"}
            markup = p.get("reply_markup") or {}
            if "inline_keyboard" in markup:
                message["reply_markup"] = markup
                self.buttons.setdefault(chat_id, {})[message["message_id"]] = message
            return message
        if endpoint in ("editMessageText", "editMessageReplyMarkup"):
            chat_id, message_id = int(p["chat_id"]), int(p["message_id"])
            chat = self.buttons.setdefault(chat_id, {})
            message = chat.pop(message_id, {}) or {
                "message_id": message_id, "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"}, "from": BOT, "text": ""}
            if "text" in p:
                message["text"] = p["text"]
            markup = p.get("reply_markup") or {}
            if "inline_keyboard" in markup:
                message["reply_markup"] = markup
                chat[message_id] = message
            else:
                message.pop("reply_markup", None)
            message["edit_date"] = int(time.time())
            return message
        return True

    def forget(self, chat_id: int) -> None:
        self.buttons.pop(chat_id, None)


_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def next_update_id() -> int:
    return next(_update_ids)


def start_update_ids_at(first: int) -> None:
    """Update ids are claimed per bot in the database; a reused database needs fresh ones."""
    global _update_ids
    _update_ids = itertools.count(first)


# When a question the script does not know comes first (a step added to the dialog since), the
# person answers it with the first of these its buttons offer, else its first button.
DETOURS = ("no", "skip", "continue", "done", "review")


@dataclass(frozen=True)
class Say:
    """A step of a scripted conversation: write text, or press the button of this option id.

    Buttons are found by the option id in their callback data ("turn:step:option"), not by
    label, so a reworded label or a step that shows "Save" instead of "Send" keeps working, on
    the newest message with buttons only (older ones are stale). A question in between that
    the script does not know is answered on the way (see DETOURS).
    """

    text: str
    press: bool = False


class Person:
    """One person in a private chat, building real updates as Telegram would deliver them."""

    def __init__(self, app: Application, request: LeanOfflineRequest, chat_id: int,
                 language_code: str = "nb") -> None:
        self.app, self.request, self.chat_id = app, request, chat_id
        self.user = {"id": chat_id, "is_bot": False, "first_name": "Kari",
                     "language_code": language_code}
        self.typed: list[str] = []  # what the person did, each press as its button's label

    def update_for(self, step: Say) -> tuple[dict[str, Any], bool]:
        """The update for this step, and whether it completes the step (False: it answers a
        question in between)."""
        if step.press:
            found = self._button(step.text)
            done = True
            if found is None:
                found, done = self._detour(), False
            if found is None:
                raise RuntimeError(f"chat {self.chat_id}: no button for {step.text!r} on screen")
            message, data = found
            self.typed.append(next(button["text"] for row in
                                   message["reply_markup"]["inline_keyboard"] for button in row
                                   if button.get("callback_data") == data))
            return {"update_id": next_update_id(), "callback_query": {
                "id": str(next_update_id()), "from": self.user, "chat_instance": str(self.chat_id),
                "message": message, "data": data}}, done
        self.typed.append(step.text)
        fields: dict[str, Any] = {"text": step.text}
        if step.text.startswith("/"):
            fields["entities"] = [{"type": "bot_command", "offset": 0,
                                   "length": len(step.text.split()[0])}]
        return {"update_id": next_update_id(), "message": {
            "message_id": next(_message_ids), "date": int(time.time()),
            "chat": {"id": self.chat_id, "type": "private", "first_name": "Kari"},
            "from": self.user, **fields}}, True

    def _newest(self) -> dict[str, Any] | None:
        messages = self.request.buttons.get(self.chat_id, {})
        return messages[max(messages)] if messages else None

    def _options(self, message: dict[str, Any]) -> list[str]:
        return [button.get("callback_data") or "" for row in
                message["reply_markup"]["inline_keyboard"] for button in row]

    def _button(self, option: str) -> tuple[dict[str, Any], str] | None:
        newest = self._newest()
        if newest is None:
            return None
        for data in self._options(newest):
            if data.rsplit(":", 1)[-1] == option:
                return newest, data
        return None

    def _detour(self) -> tuple[dict[str, Any], str] | None:
        newest = self._newest()
        if newest is None:
            return None
        offered = [data for data in self._options(newest) if data]
        for option in DETOURS:
            for data in offered:
                if data.rsplit(":", 1)[-1] == option:
                    return newest, data
        return (newest, offered[0]) if offered else None
