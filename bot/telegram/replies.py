"""Show a turn in the chat: its replies as few messages as fit, each question with its keyboard."""

from __future__ import annotations

import dataclasses
import logging

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest

from bot import my_data
from bot.runner import Turn
from bot.telegram import keyboards
from bot.telegram.documents import DraftCopy
from bot.telegram.formatting import PARAGRAPH, Outgoing, escape, length, pack
from dialogs.draft import Language
from dialogs.events import Reply
from dialogs.render import RenderedReply, render
from storage.privacy import PersonalData

log = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def say(language: Language | None, key: str, **params: str) -> RenderedReply:
    """One of the bot's own messages, with what the person wrote escaped."""
    return render(language, Reply(key, dict(params)), escape)


def keyboard(message: Outgoing, turn: Turn) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if message.asks_for_phone:
        return keyboards.share_phone(say(turn.language, "telegram.share_phone").text,
                                     message.options)
    if message.options:
        return keyboards.choices(message.options, turn=turn.turn, step=turn.step)
    return None


async def show(bot: Bot, chat_id: int, turn: Turn, *, phone_keyboard_shown: bool = False,
               lead: RenderedReply | None = None) -> None:
    """Send the turn's replies; take away the phone keyboard once the question has moved on."""
    messages = pack([lead, *turn.replies] if lead else turn.replies)
    markups: list[Markup | None] = [keyboard(message, turn) for message in messages]
    add_later: InlineKeyboardMarkup | None = None
    if phone_keyboard_shown and not any(m.asks_for_phone for m in messages) and messages:
        free = next((i for i, markup in enumerate(markups) if markup is None), None)
        if free is None:
            # Every message has buttons, and a message carries one keyboard: send the first
            # without its buttons, then add them by an edit.
            add_later, free = markups[0], 0  # type: ignore[assignment]
        markups[free] = ReplyKeyboardRemove()
    for index, (message, markup) in enumerate(zip(messages, markups, strict=True)):
        sent = await bot.send_message(chat_id, message.text, reply_markup=markup)
        if index == 0 and add_later is not None:
            await sent.edit_reply_markup(add_later)


async def acknowledge(query: CallbackQuery, text: str | None = None, *,
                      alert: bool = False) -> None:
    """Stop the button's spinner; a press answered too late (after a restart) still counts."""
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as error:
        log.info("could not answer a button press: %s", type(error).__name__)


async def replace(query: CallbackQuery, turn: Turn) -> bool:
    """Show the turn in the pressed message itself (a toggle, examples): True if it fits."""
    messages = pack(turn.replies)
    message = query.message
    if len(messages) != 1 or not messages[0].options or messages[0].asks_for_phone \
            or not isinstance(message, Message):
        return False
    markup = keyboards.choices(messages[0].options, turn=turn.turn, step=turn.step)
    try:
        await message.edit_text(messages[0].text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            return False
    return True


async def settle(query: CallbackQuery, language: Language | None) -> None:
    """Take the buttons off the pressed message and write the choice under it."""
    message = query.message
    label = keyboards.pressed_label(message.reply_markup if isinstance(message, Message) else None,
                                    query.data)
    try:
        if isinstance(message, Message) and message.text and label:
            chosen = say(language, "telegram.chosen", label=label).text
            text = f"{message.text_html}{PARAGRAPH}{chosen}"
            if length(text) <= 4096:
                await message.edit_text(text, reply_markup=None)
                return
        await query.edit_message_reply_markup(None)
    except BadRequest as error:
        # Too old to edit, or already without buttons: the turn check guards it anyway.
        log.info("could not take the buttons off a message: %s", type(error).__name__)


async def send_copy(bot: Bot, chat_id: int, copy: DraftCopy) -> None:
    # The file name's extension gives the type (text/plain for .txt).
    await bot.send_document(chat_id, InputFile(copy.content, filename=copy.filename),
                            caption=copy.caption)


async def show_my_data(bot: Bot, chat_id: int, turn: Turn, data: PersonalData | None, *,
                       phone_keyboard_shown: bool = False) -> None:
    """/mine_data: "Here is everything..." with the readable summary, the JSON file, then the
    question the person is at."""
    before, after = my_data.split_turn(turn, turn.language)
    summary = [render(turn.language, reply, escape) for reply in my_data.summary(data)]
    await show(bot, chat_id, dataclasses.replace(before, replies=[*before.replies, *summary]),
               phone_keyboard_shown=phone_keyboard_shown)
    await bot.send_document(chat_id, InputFile(my_data.json_bytes(data),
                                               filename=my_data.filename(data)),
                            caption=say(turn.language, "privacy.export.caption").text)
    if after.replies:
        await show(bot, chat_id, after)
