"""The bot's handlers: each turns one kind of update into a dialog event, or says one notice.

Every handler hands its update to `TelegramConversations.receive` with a `decide`: what the update
means for the screen the person has. Claiming the update (a second delivery stops there), reading
the screen, deciding and the dialog turn are one unit of work under the chat's lock, run in a
thread; the replies are sent after its commit. The copy of a sent draft is made and sent after
that, in a task of its own, outside the chat's lock. Nothing here logs what a person wrote.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot import my_data
from bot.choices import read_typed
from bot.runner import Turn
from bot.telegram import keyboards, replies
from bot.telegram.conversation import (
    CHANNEL,
    Action,
    Arrival,
    Decide,
    Decision,
    Screen,
    TelegramConversations,
    language_from_code,
)
from bot.telegram.keyboards import ButtonPress
from dialogs.draft import Conversation, Language
from dialogs.events import ChoiceEvent, Effect, Event, TextEvent, UnsupportedEvent
from dialogs.render import DEFAULT_LANGUAGE
from dialogs.steps import Step
from storage.db import one_writer_at_a_time

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
        # Copies being made and sent, held so none is dropped unawaited; one thread makes them,
        # so a burst of sent drafts does not take every worker thread the turns need.
        self.copies: set[asyncio.Task[None]] = set()
        self._copy_maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="draft-copy")
        # On SQLite the turns write one at a time anyway: they wait here, in order, not in
        # SQLite's busy handler. None: the event loop's own threads, for PostgreSQL.
        self._turns = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="turn")
                       if one_writer_at_a_time(conversations.runner.engine) else None)

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
        if update.effective_message is None:
            return
        text = update.effective_message.text or ""
        await self.take_turn(update, context,
                             lambda screen: read_typed(text, screen.options, by_number=False))

    async def on_contact(self, update: Update, context: Context) -> None:
        """Take a shared contact as the phone number, where the dialog asks for one."""
        message = update.effective_message
        if message is None or message.contact is None:
            return
        number = contact_number(message.contact.phone_number)

        def decide(screen: Screen) -> Event:
            return TextEvent(number) if screen.asks_for_phone else UnsupportedEvent()
        await self.take_turn(update, context, decide)

    async def on_unsupported(self, update: Update, context: Context) -> None:
        """Say what the bot can read when it gets a sticker, photo, voice, poll or the like."""
        await self.take_turn(update, context, lambda screen: UnsupportedEvent())

    async def on_button(self, update: Update, context: Context) -> None:
        """Hand a live button's choice to the dialog; for a stale one, repeat the question."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None:
            return
        if chat.type != ChatType.PRIVATE:
            await self.on_group_chat(update, context)
            return
        press = ButtonPress.parse(query.data)

        def decide(screen: Screen) -> Decision:
            if press is None or not press.is_current(turn=screen.turn, step=screen.step):
                return Action.AGAIN
            return ChoiceEvent(press.option)
        arrival = await self.receive(update, context, decide)
        if arrival is None or arrival.turn is None:
            return
        screen, turn = arrival.screen, arrival.turn
        language = screen.language or app_language(update)
        if arrival.decision is Action.AGAIN:
            await replies.acknowledge(query, replies.say(language, "telegram.stale_button").text)
            await self.stale_button(update, context, turn)
            return
        await replies.acknowledge(query)
        if turn.step is screen.step and await replies.replace(query, turn):
            return
        await replies.settle(query, turn.language or language)
        await self.show(update, context, arrival)

    async def on_edited_message(self, update: Update, context: Context) -> None:
        """Say that an edit does not change an answer, and how to change one."""
        arrival = await self.receive(update, context, lambda screen: Action.NOTHING)
        if arrival is None or update.effective_chat is None:
            return
        if arrival.turn is not None:  # the turn failed
            await self.show(update, context, arrival)
            return
        language = arrival.screen.language or app_language(update)
        await context.bot.send_message(
            update.effective_chat.id, replies.say(language, "telegram.edited_message").text)

    async def on_group_chat(self, update: Update, context: Context) -> None:
        """Say that the conversation happens in a private chat, never in a group."""
        if update.effective_chat is None or await self.receive(
                update, context, lambda screen: Action.NOTHING, private=False) is None:
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
            log.info("a chat has blocked the bot or left: %s", type(error).__name__)
            return
        log.error("handling an update failed: %s", type(error).__name__,
                  exc_info=(type(error), error, error.__traceback__) if error else None)

    # -- steps shared by the handlers ----------------------------------------------------------

    async def receive(self, update: Update, context: Context, decide: Decide, *,
                      private: bool = True) -> Arrival | None:
        chat = update.effective_chat
        chat_id = str(chat.id) if private and chat is not None else None
        turn = partial(self.conversations.receive, bot_id=context.bot.id,
                       update_id=update.update_id, chat_id=chat_id, decide=decide,
                       language=app_language(update))
        return await asyncio.get_running_loop().run_in_executor(self._turns, turn)

    async def take_turn(self, update: Update, context: Context,
                        read: Callable[[Screen], Event]) -> None:
        if update.effective_chat is None:
            return

        def decide(screen: Screen) -> Decision:
            event = read(screen)
            typed = isinstance(event, TextEvent) and not event.text.strip().startswith("/")
            # A first "hei" opens the chat as /start does (in the app's language if known).
            return Action.OPEN if screen.is_new and typed else event
        arrival = await self.receive(update, context, decide)
        if arrival is not None and arrival.turn is not None:
            await self.show(update, context, arrival)

    async def show(self, update: Update, context: Context, arrival: Arrival) -> None:
        """The arrival's turn; after the turn that sent the draft, the PDF copy follows (made
        from the conversation as that turn left it)."""
        chat = update.effective_chat
        screen, turn, conversation = arrival.screen, arrival.turn, arrival.conversation
        assert chat is not None
        assert turn is not None, "an arrival with a turn to show"
        if Effect.EXPORT_MY_DATA in turn.effects:
            await self.show_my_data(context, chat.id, screen, turn)
            return
        await replies.show(context.bot, chat.id, turn,
                           phone_keyboard_shown=screen.asks_for_phone)
        if screen.step is Step.REVIEW and turn.step is Step.SENT and conversation is not None:
            self.send_copy_later(update, context, chat.id, conversation)

    def send_copy_later(self, update: Update, context: Context, chat_id: int,
                        conversation: Conversation) -> None:
        """The receipt is shown; the PDF copy (made in the PDF worker) follows without holding the
        chat's lock. The turn was committed, so a second sending cannot happen meanwhile."""
        coroutine = self.send_copy(context, chat_id, conversation)
        application = context.application
        # A running application awaits its tasks when it stops; one merely initialized (tests,
        # the bench) does not, and warns: there the set below is what holds the task.
        task = (application.create_task(coroutine, update=update, name="draft-copy")
                if application.running else asyncio.create_task(coroutine, name="draft-copy"))
        self.copies.add(task)
        task.add_done_callback(self.copies.discard)

    async def send_copy(self, context: Context, chat_id: int, conversation: Conversation) -> None:
        """Make and send the copy; a failure is logged by its type only, never its content."""
        try:
            copy = await asyncio.get_running_loop().run_in_executor(
                self._copy_maker, self.conversations.copy_of_sent_draft, conversation)
            if copy is not None:
                await replies.send_copy(context.bot, chat_id, copy)
        except Forbidden as error:
            log.info("a chat has blocked the bot or left: %s", type(error).__name__)
        except Exception as error:  # in a task, an error not logged here would go unseen
            log.warning("the copy of a sent draft was not sent: %s", type(error).__name__)

    async def copies_sent(self) -> None:
        """Wait for the copies under way (tests; shutting down)."""
        while self.copies:
            await asyncio.gather(*self.copies, return_exceptions=True)

    async def show_my_data(self, context: Context, chat_id: int, screen: Screen,
                           turn: Turn) -> None:
        """/mine_data: the turn, with everything stored about the person as a summary and a
        JSON file (read after the turn's commit)."""
        runner = self.conversations.runner
        data = await asyncio.to_thread(
            my_data.fetch, runner.engine, channel=CHANNEL, chat_id=str(chat_id),
            now=runner.clock(), draft_retention_days=runner.dialog.draft_retention_days)
        await replies.show_my_data(context.bot, chat_id, turn, data,
                                   phone_keyboard_shown=screen.asks_for_phone)

    async def stale_button(self, update: Update, context: Context, turn: Turn) -> None:
        """Take the buttons off the old message and ask the current question again."""
        query, chat = update.callback_query, update.effective_chat
        assert query is not None
        assert chat is not None
        try:
            await query.edit_message_reply_markup(None)
        except TelegramError as error:  # an old message may no longer be editable
            log.info("could not take the buttons off a stale message: %s", type(error).__name__)
        lead = replies.say(turn.language or app_language(update), "telegram.stale_button.repeat")
        await replies.show(context.bot, chat.id, turn, lead=lead)

