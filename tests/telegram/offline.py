"""A Bot API that never leaves the process, and a person who uses the bot through it.

`OfflineRequest` is what PTB sends requests through: it records every call and answers with
canned Bot API JSON, keeping the chat's messages (with their edits) as Telegram would show
them. `Person` builds real `Update` objects from small dicts and pushes them through
`Application.process_update`, like Telegram delivering them.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

# OFFLINE is re-exported for the tests that import it from here; it is defined once for tests
# and bench (bench/offline_config.py).
from bench.offline_config import BOT, copies_sent
from bench.offline_config import OFFLINE as OFFLINE

Scripted = BaseException | tuple[int, dict[str, Any]]


@dataclass
class Call:
    endpoint: str
    params: dict[str, Any]
    files: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return str(self.params.get("text", self.params.get("caption", "")))

    @property
    def markup(self) -> dict[str, Any]:
        return self.params.get("reply_markup") or {}

    def buttons(self) -> list[dict[str, Any]]:
        return [b for row in self.markup.get("inline_keyboard", []) for b in row]


class OfflineRequest(BaseRequest):
    """Records calls; answers like Telegram; fails on cue (`script`)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.script: dict[str, list[Scripted]] = {}
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}  # chat -> id -> message
        self.on_call: Callable[[Call], None] | None = None
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
        params = dict(request_data.parameters) if request_data else {}
        files = dict(request_data.multipart_data) if request_data else {}
        call = Call(endpoint, params, files)
        self.calls.append(call)
        if self.on_call:
            self.on_call(call)
        queue = self.script.get(endpoint)
        if queue:
            scripted = queue.pop(0)
            if isinstance(scripted, httpx.TimeoutException):
                raise TimedOut from scripted  # as HTTPXRequest does
            if isinstance(scripted, httpx.HTTPError):
                raise NetworkError(f"httpx.{type(scripted).__name__}: {scripted}") from scripted
            if isinstance(scripted, BaseException):
                raise scripted
            status, body = scripted
            return status, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": self._result(call)}).encode()

    def _result(self, call: Call) -> Any:
        p = call.params
        if call.endpoint == "getMe":
            return BOT
        if call.endpoint in ("sendMessage", "sendDocument"):
            chat_id = int(p["chat_id"])
            message: dict[str, Any] = {
                "message_id": next(self._ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"}, "from": BOT,
            }
            if call.endpoint == "sendMessage":
                message["text"] = p["text"]
            else:
                name, _content, mime = call.files["document"]
                message["document"] = {"file_id": "doc", "file_unique_id": "doc",
                                       "file_name": name, "mime_type": mime}
                message["caption"] = p.get("caption", "")
            if "inline_keyboard" in (p.get("reply_markup") or {}):
                message["reply_markup"] = p["reply_markup"]
            self.messages.setdefault(chat_id, {})[message["message_id"]] = message
            return message
        if call.endpoint in ("editMessageText", "editMessageReplyMarkup"):
            message = self.messages[int(p["chat_id"])][int(p["message_id"])]
            if "text" in p:
                message["text"] = p["text"]
            if "inline_keyboard" in (p.get("reply_markup") or {}):
                message["reply_markup"] = p["reply_markup"]
            else:
                message.pop("reply_markup", None)
            message["edit_date"] = int(time.time())
            return message
        return True

    # -- what the tests read -------------------------------------------------------------------

    def sent(self, endpoint: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.endpoint == endpoint
                and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)]

    def take(self) -> list[Call]:
        """The calls since the last take."""
        calls, self.calls = self.calls, []
        return calls


def api_error(code: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def next_update_id() -> int:
    return next(_update_ids)


class Person:
    """Someone using the bot from a phone: writes, presses buttons, sends stickers."""

    def __init__(self, app: Application, request: OfflineRequest, *,
                 chat_id: int, language_code: str | None = "nb", name: str = "Kari") -> None:
        self.app, self.request = app, request
        self.chat_id, self.language_code, self.name = chat_id, language_code, name

    @property
    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.chat_id, "is_bot": False, "first_name": self.name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def message(self, **fields: Any) -> dict[str, Any]:
        return {"message_id": next(_message_ids), "date": int(time.time()),
                "chat": {"id": self.chat_id, "type": "private", "first_name": self.name},
                "from": self.user, **fields}

    def text_update(self, text: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [{"type": "bot_command", "offset": 0,
                                   "length": len(text.split()[0])}]
        return {"update_id": next_update_id(), "message": self.message(**fields)}

    async def deliver(self, data: dict[str, Any]) -> list[Call]:
        """Telegram delivers one update; the calls the bot made while handling it, and in the
        tasks it started for it (the copy of a sent draft)."""
        self.request.take()
        await self.app.process_update(Update.de_json(data, self.app.bot))
        await copies_sent(self.app)
        return self.request.take()

    async def write(self, text: str) -> list[Call]:
        return await self.deliver(self.text_update(text))

    async def send(self, **fields: Any) -> list[Call]:
        """Any other kind of message: a sticker, a photo, a contact..."""
        return await self.deliver({"update_id": next_update_id(),
                                   "message": self.message(**fields)})

    def screen(self) -> list[dict[str, Any]]:
        """The bot's messages in this chat as they look now, oldest first."""
        return list(self.request.messages.get(self.chat_id, {}).values())

    def button(self, label: str, *, message_id: int | None = None
               ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The newest message with a button so labelled (or the given message), and the button."""
        for message in reversed(self.screen()):
            if message_id is not None and message["message_id"] != message_id:
                continue
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return message, button
        raise AssertionError(f"no button {label!r} on screen: {self.labels()}")

    def labels(self) -> list[str]:
        return [b["text"] for m in self.screen()
                for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row]

    def press_update(self, label: str, *, message_id: int | None = None) -> dict[str, Any]:
        message, button = self.button(label, message_id=message_id)
        return {"update_id": next_update_id(), "callback_query": {
            "id": str(next_update_id()), "from": self.user, "chat_instance": str(self.chat_id),
            "message": json.loads(json.dumps(message)), "data": button["callback_data"]}}

    async def press(self, label: str, *, message_id: int | None = None) -> list[Call]:
        return await self.deliver(self.press_update(label, message_id=message_id))


def texts(calls: list[Call]) -> str:
    """Everything the bot said in these calls, as one string to search."""
    return "\n".join(c.text for c in calls if c.endpoint in ("sendMessage", "editMessageText",
                                                             "sendDocument",
                                                             "answerCallbackQuery"))
