"""The bot's handlers: each turns one kind of update into a dialog event, or says one notice.

Every handler first claims its update (a second delivery stops there) and reads the chat's
screen; the dialog turn itself is `DialogRunner`'s unit of work, run in a thread. Nothing here
logs what a person wrote.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.choices import read_typed
from bot.runner import Turn
from bot.telegram import keyboards, replies
from bot.telegram.conversation import Screen, TelegramConversations, language_from_code
from bot.telegram.keyboards import ButtonPress
from dialogs.draft import Language
from dialogs.events import ChoiceEvent, Event, TextEvent, UnsupportedEvent
from dialogs.render import DEFAULT_LANGUAGE
from dialogs.steps import Step

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE


def app_language(update: Update) -> Language | None:
    user = update.effective_user
    return language_from_code(user.language_code if user else None)


def contact_number(phone: str) -> str:
    """Telegram gives a shared number in international form, often without the plus."""
    digits = phone.strip()
    return digits if digits.startswith("+") or len(digits) <= 8 else f"+{digits}"


class ChatHandlers:
    def __init__(self, conversations: TelegramConversations) -> None:
        self.conversations = conversations

    def register(self, app: Application) -> None:
        """The handler table, in the order PTB tries it."""
        private, new = filters.ChatType.PRIVATE, filters.UpdateType.MESSAGE
        app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & private,
                                       self.on_edited_message))
        app.add_handler(MessageHandler(new & ~private & filters.COMMAND, self.on_group_chat))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageHandler(new & private & filters.CONTACT, self.on_contact))
        app.add_handler(MessageHandler(new & private & filters.TEXT, self.on_text))
        app.add_handler(MessageHandler(new & private & ~filters.StatusUpdate.ALL,
                                       self.on_unsupported))
        app.add_error_handler(self.on_error)

    # -- handlers ------------------------------------------------------------------------------

    async def on_text(self, update: Update, context: Context) -> None:
        """Hand what the person wrote to the dialog, as a choice if it names an option."""
        screen = await self.arrive(update, context)
        if screen is None or update.effective_message is None:
            return
        event = read_typed(update.effective_message.text or "", screen.options, by_number=False)
        await self.take_turn(update, context, screen, event)

    async def on_contact(self, update: Update, context: Context) -> None:
        """Take a shared contact as the phone number, where the dialog asks for one."""
        screen = await self.arrive(update, context)
        message = update.effective_message
        if screen is None or message is None or message.contact is None:
            return
        event: Event = (TextEvent(contact_number(message.contact.phone_number))
                        if screen.asks_for_phone else UnsupportedEvent())
        await self.take_turn(update, context, screen, event)

    async def on_unsupported(self, update: Update, context: Context) -> None:
        """Say what the bot can read when it gets a sticker, photo, voice, poll or the like."""
        screen = await self.arrive(update, context)
        if screen is not None:
            await self.take_turn(update, context, screen, UnsupportedEvent())

    async def on_button(self, update: Update, context: Context) -> None:
        """Hand a live button's choice to the dialog; for a stale one, repeat the question."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None:
            return
        if chat.type != ChatType.PRIVATE:
            await self.on_group_chat(update, context)
            return
        screen = await self.arrive(update, context)
        if screen is None:
            return
        press = ButtonPress.parse(query.data)
        language = screen.language or app_language(update)
        if press is None or not press.is_current(turn=screen.turn, step=screen.step):
            await replies.acknowledge(query, replies.say(language, "telegram.stale_button").text)
            await self.stale_button(update, context, screen)
            return
        await replies.acknowledge(query)
        turn = await asyncio.to_thread(self.conversations.handle, str(chat.id),
                                       ChoiceEvent(press.option), app_language(update))
        if turn.step is screen.step and await replies.replace(query, turn):
            return
        await replies.settle(query, turn.language or language)
        await self.show(update, context, screen, turn)

    async def on_edited_message(self, update: Update, context: Context) -> None:
        """Say that an edit does not change an answer, and how to change one."""
        screen = await self.arrive(update, context)
        if screen is not None and update.effective_chat is not None:
            language = screen.language or app_language(update)
            await context.bot.send_message(
                update.effective_chat.id, replies.say(language, "telegram.edited_message").text)

    async def on_group_chat(self, update: Update, context: Context) -> None:
        """Say that the conversation happens in a private chat, never in a group."""
        if update.effective_chat is None or await self.arrive(update, context,
                                                              private=False) is None:
            return
        language = app_language(update) or DEFAULT_LANGUAGE
        notice = replies.say(language, "telegram.group_chat").text
        if update.callback_query is not None:
            await replies.acknowledge(update.callback_query, notice, alert=True)
            return
        button = keyboards.private_chat(replies.say(language, "telegram.open_private_chat").text,
                                        context.bot.username)
        await context.bot.send_message(update.effective_chat.id, notice, reply_markup=button)

    async def on_error(self, update: object, context: Context) -> None:
        """Log what failed, never the update: it may hold health information."""
        error = context.error
        if isinstance(error, Forbidden):
            log.info("a chat has blocked the bot or left: %s", error)
            return
        log.error("handling an update failed: %s", type(error).__name__,
                  exc_info=(type(error), error, error.__traceback__) if error else None)

    # -- steps shared by the handlers ----------------------------------------------------------

    async def arrive(self, update: Update, context: Context, *,
                     private: bool = True) -> Screen | None:
        chat = update.effective_chat
        chat_id = str(chat.id) if private and chat is not None else None
        return await asyncio.to_thread(self.conversations.arrive, bot_id=context.bot.id,
                                       update_id=update.update_id, chat_id=chat_id)

    async def take_turn(self, update: Update, context: Context, screen: Screen,
                        event: Event) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        chat_id, language = str(chat.id), app_language(update)
        typed = isinstance(event, TextEvent) and not event.text.strip().startswith("/")
        if screen.is_new and typed:
            # A first "hei" opens the chat as /start does (in the app's language if known).
            turn = await asyncio.to_thread(self.conversations.open, chat_id, language)
        else:
            turn = await asyncio.to_thread(self.conversations.handle, chat_id, event, language)
        await self.show(update, context, screen, turn)

    async def show(self, update: Update, context: Context, screen: Screen, turn: Turn) -> None:
        chat = update.effective_chat
        assert chat is not None
        await replies.show(context.bot, chat.id, turn,
                           phone_keyboard_shown=screen.asks_for_phone)
        if screen.step is Step.REVIEW and turn.step is Step.SENT:
            copy = await asyncio.to_thread(self.conversations.copy_of_sent_draft, str(chat.id))
            if copy is not None:
                await replies.send_copy(context.bot, chat.id, copy)

    async def stale_button(self, update: Update, context: Context, screen: Screen) -> None:
        query, chat = update.callback_query, update.effective_chat
        assert query is not None
        assert chat is not None
        try:
            await query.edit_message_reply_markup(None)
        except TelegramError as error:  # an old message may no longer be editable
            log.info("could not take the buttons off a stale message: %s", type(error).__name__)
        turn = await asyncio.to_thread(self.conversations.again, str(chat.id))
        lead = replies.say(turn.language or app_language(update), "telegram.stale_button.repeat")
        await replies.show(context.bot, chat.id, turn, lead=lead)
