"""Messages the bot sends on its own initiative: staff alerts, status notices, reminders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Bot

PlainSender = Callable[[int | str, str], Awaitable[None]]


def plain_text_sender(bot: Bot) -> PlainSender:
    """Sends as plain text: nothing in these messages needs markup, and the application's bot
    defaults to HTML, where a unit named "A & B" would be refused."""
    async def send(chat_id: int | str, text: str) -> None:
        await bot.send_message(chat_id=int(chat_id), text=text, parse_mode=None)

    return send
