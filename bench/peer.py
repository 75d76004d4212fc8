"""The peer bot: the same questions as Din plan, written the way PTB's examples write a bot.

A `ConversationHandler` with one state per question, answers kept in `context.user_data`, and
optionally `PicklePersistence`. It shows the same catalog texts with the same buttons (callback
data ends in the same option ids, so `bench.offline.Person` drives both bots with one script),
edits a pressed message as Din plan does, and sends a copy of the draft at the end. It does not
validate phone numbers or municipalities, claim update ids, or store anything durably unless its
persistence is told to.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    Defaults,
    MessageHandler,
    PicklePersistence,
    filters,
)

from bench.offline import LeanOfflineRequest
from bench.offline_config import OFFLINE
from dialogs import choices
from dialogs.choices import REACH_TIME_OPTIONS, REQUEST_LABELS, SERVICE_LABELS
from dialogs.draft import Language
from dialogs.messages import MESSAGES
from dialogs.render import message
from dialogs.steps import QUESTION_STEPS

(INTRO, CONSENT, ROLE, REQUEST, QUESTION, SERVICES, COORDINATOR, NAME, PHONE, REACH,
 MUNICIPALITY, REVIEW) = range(12)
NB = Language.BOKMAL
Context = ContextTypes.DEFAULT_TYPE


def say(key: str) -> str:
    """The catalog's Bokmål text (the key itself if the dialog has renamed it since)."""
    return message(NB, key) if key in MESSAGES else key


def buttons(options: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """(option id, label key) pairs, one per row; callback data ends in the option id."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(say(key), callback_data=f"peer:{option}")]
                                 for option, key in options])


def option_of(update: Update) -> str:
    query = update.callback_query
    assert query is not None
    return (query.data or "").rsplit(":", 1)[-1]


async def settle(update: Update) -> None:
    """Answer the press, take the buttons off and write the choice under the question."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    message_ = query.message
    if isinstance(message_, Message) and message_.text:
        await message_.edit_text(f"{message_.text_html}\n\n✓", reply_markup=None)


async def ask(update: Update, text: str, markup: Any = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await update.get_bot().send_message(chat.id, text, reply_markup=markup)


def ask_question(index: int) -> tuple[str, InlineKeyboardMarkup]:
    step = QUESTION_STEPS[index]
    return (say(f"question.{step.value}.self"),
            buttons([(choices.SHOW_EXAMPLES.id, choices.SHOW_EXAMPLES.key),
                      (choices.SKIP.id, choices.SKIP.key)]))


def user_data(context: Context) -> dict[str, Any]:
    """The answers so far. PTB types `user_data` as optional: it is None only for an update
    without a user, and every update this conversation handles has one."""
    data = context.user_data
    assert data is not None
    return data


# -- handlers, one per state ---------------------------------------------------------------------

async def start(update: Update, context: Context) -> int:
    user_data(context).clear()
    await ask(update, say("intro.what_happens_here"),
              buttons([(choices.CONTINUE.id, choices.CONTINUE.key)]))
    return INTRO


async def intro(update: Update, context: Context) -> int:
    await settle(update)
    await ask(update, say("privacy.ask_consent"), buttons([
        (choices.CONSENT.id, choices.CONSENT.key), (choices.DECLINE.id, choices.DECLINE.key)]))
    return CONSENT


async def consent(update: Update, context: Context) -> int:
    await settle(update)
    user_data(context)["consented"] = True
    await ask(update, say("ask_role"), buttons([
        (choices.FOR_MYSELF.id, choices.FOR_MYSELF.key),
        (choices.FOR_SOMEONE_ELSE.id, choices.FOR_SOMEONE_ELSE.key)]))
    return ROLE


async def role(update: Update, context: Context) -> int:
    await settle(update)
    user_data(context)["role"] = option_of(update)
    await ask(update, say("ask_request.self"),
              buttons([(kind.value, key) for kind, key in REQUEST_LABELS.items()]))
    return REQUEST


async def request(update: Update, context: Context) -> int:
    await settle(update)
    user_data(context)["request"] = option_of(update)
    user_data(context)["question"] = 0
    await ask(update, *ask_question(0))
    return QUESTION


async def _next_question(update: Update, context: Context, answer: str | None) -> int:
    data = user_data(context)
    index = data["question"]
    data.setdefault("answers", {})[QUESTION_STEPS[index].value] = answer
    data["question"] = index + 1
    if index + 1 < len(QUESTION_STEPS):
        await ask(update, *ask_question(index + 1))
        return QUESTION
    data["services"] = []
    await ask(update, say("ask_services.self"), services_keyboard([]))
    return SERVICES


async def answer(update: Update, context: Context) -> int:
    assert update.effective_message is not None
    return await _next_question(update, context, update.effective_message.text)


async def skip(update: Update, context: Context) -> int:
    return await _next_question(update, context, None)


def services_keyboard(chosen: list[str]) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(("✓ " if service.value in chosen else "") + say(key),
                                  callback_data=f"peer:{service.value}")]
            for service, key in SERVICE_LABELS.items()]
    rows.append([InlineKeyboardButton(say(choices.DONE.key),
                                      callback_data=f"peer:{choices.DONE.id}")])
    return InlineKeyboardMarkup(rows)


async def service(update: Update, context: Context) -> int:
    query = update.callback_query
    assert query is not None
    chosen: list[str] = user_data(context)["services"]
    option = option_of(update)
    if option == choices.DONE.id:
        await settle(update)
        await ask(update, say("ask_coordinator_wish.self"), buttons([
            (choices.YES_WISH.id, choices.YES_WISH.key),
            (choices.NO_WISH.id, choices.NO_WISH.key)]))
        return COORDINATOR
    if option in chosen:
        chosen.remove(option)
    else:
        chosen.append(option)
    await query.answer()
    await query.edit_message_reply_markup(services_keyboard(chosen))
    return SERVICES


async def coordinator(update: Update, context: Context) -> int:
    await settle(update)
    user_data(context)["coordinator"] = option_of(update)
    await ask(update, say("ask_contact_name.self"))
    return NAME


async def name(update: Update, context: Context) -> int:
    assert update.effective_message is not None
    user_data(context)["name"] = update.effective_message.text
    await ask(update, say("ask_phone"), ReplyKeyboardMarkup(
        [[KeyboardButton(say("telegram.share_phone"), request_contact=True)]],
        resize_keyboard=True, one_time_keyboard=True))
    return PHONE


async def phone(update: Update, context: Context) -> int:
    assert update.effective_message is not None
    user_data(context)["phone"] = update.effective_message.text
    await ask(update, say("ask_reach_time"),
              buttons([(option.id, option.key) for option in REACH_TIME_OPTIONS]))
    return REACH


async def reach(update: Update, context: Context) -> int:
    await settle(update)
    user_data(context)["reach"] = option_of(update)
    await ask(update, say("ask_municipality.self"), ReplyKeyboardRemove())
    return MUNICIPALITY


def summary(data: dict[str, Any]) -> str:
    answers = "\n".join(f"{step}: {html.escape(text or '-')}"
                        for step, text in data.get("answers", {}).items())
    return (f"{say('review.heading')}\n\n{answers}\n{html.escape(data.get('name') or '')}, "
            f"{html.escape(data.get('phone') or '')}, {html.escape(data.get('place') or '')}")


async def municipality(update: Update, context: Context) -> int:
    assert update.effective_message is not None
    user_data(context)["place"] = update.effective_message.text
    await ask(update, summary(user_data(context)), buttons([
        (choices.SEND.id, choices.SEND.key), (choices.CHANGE_ANSWER.id, choices.CHANGE_ANSWER.key),
        (choices.CHOOSE_SHARING.id, choices.CHOOSE_SHARING.key)]))
    return REVIEW


async def send(update: Update, context: Context) -> int:
    await settle(update)
    chat = update.effective_chat
    assert chat is not None
    await ask(update, say("review.heading"))
    copy = summary(user_data(context)).encode()
    await update.get_bot().send_document(chat.id, InputFile(copy, filename="draft.txt"))
    return ConversationHandler.END


def conversation(*, persistent: bool) -> ConversationHandler:
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states={
            INTRO: [CallbackQueryHandler(intro)],
            CONSENT: [CallbackQueryHandler(consent)],
            ROLE: [CallbackQueryHandler(role)],
            REQUEST: [CallbackQueryHandler(request)],
            QUESTION: [MessageHandler(text, answer), CommandHandler("hopp", skip)],
            SERVICES: [CallbackQueryHandler(service)],
            COORDINATOR: [CallbackQueryHandler(coordinator)],
            NAME: [MessageHandler(text, name)],
            PHONE: [MessageHandler(text, phone)],
            REACH: [CallbackQueryHandler(reach)],
            MUNICIPALITY: [MessageHandler(text, municipality)],
            REVIEW: [CallbackQueryHandler(send)],
        },
        fallbacks=[CommandHandler("start", start)],
        name="din_plan_peer", persistent=persistent,
    )


async def peer_application(persistence_file: Path | None) -> tuple[Application, LeanOfflineRequest]:
    """The peer on an offline request; with a pickle file, PicklePersistence at its defaults."""
    request = LeanOfflineRequest()
    builder = (ApplicationBuilder().token(OFFLINE.token).base_url(OFFLINE.base_url)
               .defaults(Defaults(parse_mode=ParseMode.HTML))
               .request(request).get_updates_request(request))
    if persistence_file is not None:
        builder = builder.persistence(PicklePersistence(persistence_file))
    app = builder.build()
    app.add_handler(conversation(persistent=persistence_file is not None))
    await app.initialize()
    return app, request
