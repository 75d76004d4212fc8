"""The conversation at handler level: real Updates through `Application.process_update`, a Bot
API that answers from memory, and a real SQLite database."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select
from telegram import Update

from bench.offline_config import copies_sent
from bot.telegram.conversation import TelegramConversations
from bot.telegram.documents import DraftCopy
from bot.telegram.keyboards import MAX_CALLBACK_DATA, ButtonPress
from dialogs.draft import Conversation, Language
from dialogs.inputs import normalize_phone
from dialogs.review import format_reference
from dialogs.steps import Step
from storage.db import unit_of_work
from storage.exports.pdf import printable
from storage.models import Submission
from tests.fakes import flat, pdf_text
from tests.telegram.lines import label, say
from tests.telegram.offline import OfflineRequest, Person, texts
from tests.telegram.walk import (
    QUESTIONS,
    route_in_bergen,
    stored,
    to_contact,
    to_questions,
    to_review,
)

SAMI_AND_MARKUP = "<b>Fet</b> & «sterk» 💪🏽 – áčđŋšŧž"


async def test_start_in_bokmal_app_skips_the_language_question(
        person: Callable[..., Person]) -> None:
    kari = person(language_code="nb")
    calls = await kari.write("/start")
    [message] = [c for c in calls if c.endpoint == "sendMessage"]
    assert message.text.startswith(say("nb", "language.preselected"))
    assert say("nb", "intro.what_happens_here") in message.text
    assert message.params["parse_mode"] == "HTML"
    [button] = message.buttons()
    assert button["text"] == label("nb", "option.continue")
    press = ButtonPress.parse(button["callback_data"])
    assert press is not None
    assert press.option == "continue"
    assert press.turn == 1
    assert len(button["callback_data"].encode()) <= MAX_CALLBACK_DATA


async def test_nynorsk_app_gets_nynorsk(person: Callable[..., Person],
                                        sqlite_engine: Engine) -> None:
    ola = person(language_code="nn-NO")
    calls = await ola.write("/start")
    assert say("nn", "language.preselected") in texts(calls)
    assert stored(sqlite_engine, ola.chat_id).language is Language.NYNORSK


async def test_other_app_languages_are_asked(person: Callable[..., Person],
                                             sqlite_engine: Engine) -> None:
    anna = person(language_code="sv")
    calls = await anna.write("/start")
    assert say("nb", "choose_language") in texts(calls)
    assert anna.labels() == [label("nb", "option.bokmal"), label("nb", "option.nynorsk")]
    calls = await anna.press("Nynorsk")
    assert say("nn", "intro.what_happens_here") in texts(calls)
    assert stored(sqlite_engine, anna.chat_id).language is Language.NYNORSK


async def test_a_typed_label_counts_as_pressing_it(person: Callable[..., Person],
                                                   sqlite_engine: Engine) -> None:
    anna = person(language_code=None)
    await anna.write("/start")
    calls = await anna.write("nynorsk")
    assert say("nn", "intro.what_happens_here") in texts(calls)


async def test_a_first_hello_opens_the_chat_like_start(person: Callable[..., Person]) -> None:
    kari = person(language_code="nb")
    calls = await kari.write("Hei!")
    assert say("nb", "language.preselected") in texts(calls)


async def test_a_pressed_choice_loses_its_buttons_and_shows_what_was_chosen(
        person: Callable[..., Person]) -> None:
    kari = person(language_code="nb")
    await kari.write("/start")
    first = kari.screen()[0]
    calls = await kari.press(label("nb", "option.continue"))
    assert [c.endpoint for c in calls][:2] == ["answerCallbackQuery", "editMessageText"]
    assert "reply_markup" not in first
    assert first["text"].endswith(say("nb", "telegram.chosen", label=label("nb",
                                                                           "option.continue")))
    assert say("nb", "privacy.ask_consent") in texts(calls)


async def test_whole_conversation_ends_with_receipt_and_own_copy(
        person: Callable[..., Person], offline: OfflineRequest, sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    review = await to_review(kari, "nb", first_answer=SAMI_AND_MARKUP)
    assert say("nb", "review.heading") in texts(review)
    calls = await kari.press(label("nb", "option.send"))
    conv = stored(sqlite_engine, kari.chat_id)
    assert conv.step is Step.SENT
    assert conv.submission is not None
    said = texts([c for c in calls if c.endpoint == "sendMessage"])
    assert "Bergen" in said
    assert "Vurderingskontoret Fana–Ytrebygda" in said
    assert conv.submission.reference[:4] in said
    [document] = [c for c in calls if c.endpoint == "sendDocument"]
    name, content, mime = document.files["document"]
    # The copy names the reference the turn stored.
    assert name == f"dinplan-{format_reference(conv.submission.reference)}.pdf"
    assert mime == "application/pdf"
    copy = flat(pdf_text(content))
    assert format_reference(conv.submission.reference).replace(" ", "") in copy
    # A file shows text as it is: what the person wrote, unescaped, in their language.
    # (the emoji the PDF font cannot draw shows as "�", the rest as written).
    assert printable(SAMI_AND_MARKUP).replace(" ", "") in copy
    assert "áčđŋšŧž" in copy
    assert "KariNordmann" in copy
    assert "VurderingskontoretFana–Ytrebygda" in copy
    assert document.params["caption"] == say("nb", "telegram.document.caption")


async def test_the_copy_is_made_outside_the_chats_turn(
        person: Callable[..., Person], offline: OfflineRequest, sqlite_engine: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The receipt ends the sending update; the chat's next update need not wait for the PDF."""
    kari = person(language_code="nb")
    await to_review(kari, "nb")
    making = threading.Event()
    release = threading.Event()
    make_copy = TelegramConversations.copy_of_sent_draft

    def slow_copy(self: TelegramConversations, conv: Conversation) -> DraftCopy | None:
        making.set()
        assert release.wait(10)
        return make_copy(self, conv)
    monkeypatch.setattr(TelegramConversations, "copy_of_sent_draft", slow_copy)
    app = kari.app
    offline.take()
    send = Update.de_json(kari.press_update(label("nb", "option.send")), app.bot)
    await app.update_processor.process_update(send, app.process_update(send))
    assert await asyncio.to_thread(making.wait, 10)
    receipt = offline.take()
    assert stored(sqlite_engine, kari.chat_id).step is Step.SENT
    assert "Vurderingskontoret Fana–Ytrebygda" in texts(receipt)
    assert not [c for c in receipt if c.endpoint == "sendDocument"]
    status = Update.de_json(kari.text_update("/status"), app.bot)
    await asyncio.wait_for(app.update_processor.process_update(status,
                                                               app.process_update(status)), 10)
    assert [c.endpoint for c in offline.take()] == ["sendMessage"]  # answered, copy not yet
    release.set()
    await copies_sent(app)
    [document] = offline.take()
    assert document.endpoint == "sendDocument"
    assert document.files["document"][0].endswith(".pdf")


async def test_a_copy_that_fails_is_logged_by_its_type_only(
        person: Callable[..., Person], sqlite_engine: Engine,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    kari = person(language_code="nb")
    await to_review(kari, "nb", first_answer=SAMI_AND_MARKUP)

    def broken(self: TelegramConversations, conv: Conversation) -> DraftCopy | None:
        raise ValueError(SAMI_AND_MARKUP)
    monkeypatch.setattr(TelegramConversations, "copy_of_sent_draft", broken)
    with caplog.at_level(logging.WARNING):
        calls = await kari.press(label("nb", "option.send"))
    assert stored(sqlite_engine, kari.chat_id).step is Step.SENT
    assert "Vurderingskontoret Fana–Ytrebygda" in texts(calls)  # the receipt
    assert not [c for c in calls if c.endpoint == "sendDocument"]
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.getMessage() == "the copy of a sent draft was not sent: ValueError"
    assert record.exc_info is None
    assert "Fet" not in caplog.text


async def test_what_the_person_wrote_is_escaped_and_catalog_text_is_not(
        person: Callable[..., Person]) -> None:
    kari = person(language_code="nb")
    review = await to_review(kari, "nb", first_answer=SAMI_AND_MARKUP)
    said = texts(review)
    assert "&lt;b&gt;Fet&lt;/b&gt; &amp; «sterk» 💪🏽 – áčđŋšŧž" in said
    assert "<b>" not in said
    assert say("nb", "review.heading") in said  # catalog text as it is


async def test_a_relative_in_nynorsk(person: Callable[..., Person],
                                     sqlite_engine: Engine) -> None:
    mor = person(language_code="nn", name="Marit")
    await mor.write("/start")
    await mor.press(label("nn", "option.continue"))
    await mor.press(label("nn", "option.consent"))
    calls = await mor.press(label("nn", "option.yes_remind"))
    assert say("nn", "ask_role") in texts(calls)
    await mor.press(label("nn", "option.for_someone_else"))
    calls = await mor.write("Jon")
    assert say("nn", "ask_relation", name="Jon") in texts(calls)
    await mor.press(label("nn", "relation.parent"))
    await mor.press(label("nn", "basis.parent_of_child_under_16"))
    calls = await mor.press(label("nn", "request.coordinator_only"))
    assert say("nn", "question.ask_strengths.relative", name="Jon") in texts(calls)
    for _ in range(QUESTIONS):
        await mor.write("/hopp")
    await mor.press(label("nn", "option.dont_know_now"))
    await mor.press(label("nn", "option.no_coordinator_wish"))
    await mor.write("Marit Dale")
    await mor.write("+47 55 56 55 56")
    await mor.press(label("nn", "option.dont_know_now"))
    review = await mor.write("Gulen")  # one unit for everything: no routing questions
    assert say("nn", "review.prepared_by.relative", name="Jon",
               relation=label("nn", "relation.parent"),
               basis=label("nn", "basis.parent_of_child_under_16")) in texts(review)
    calls = await mor.press(label("nn", "option.send"))
    assert "Gulen" in texts(calls)
    assert "Gulen kommune, koordinerande eining" in texts(calls)
    conv = stored(sqlite_engine, mor.chat_id)
    assert conv.step is Step.SENT
    assert conv.draft.person_name == "Jon"
    assert conv.wants_reminder is True
    assert (conv.draft.target_group, conv.draft.district) == (None, None)


async def test_toggling_a_service_redraws_the_same_message(person: Callable[..., Person],
                                                           offline: OfflineRequest) -> None:
    kari = person(language_code="nb")
    await to_questions(kari, "nb")
    for _ in range(QUESTIONS):
        await kari.write("/hopp")
    services, _ = kari.button(label("nb", "service.gp"))
    calls = await kari.press(label("nb", "service.gp"))
    assert [c.endpoint for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert calls[1].params["message_id"] == services["message_id"]
    assert say("nb", "option.selected", label=label("nb", "service.gp")) in kari.labels()
    calls = await kari.press(say("nb", "option.selected", label=label("nb", "service.gp")))
    assert label("nb", "service.gp") in kari.labels()


async def test_examples_are_shown_in_place(person: Callable[..., Person]) -> None:
    kari = person(language_code="nb")
    await to_questions(kari, "nb")
    calls = await kari.press(label("nb", "option.show_examples"))
    assert [c.endpoint for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert say("nb", "examples.ask_strengths") in calls[1].text


async def test_the_phone_number_can_be_shared_with_telegrams_contact_button(
        person: Callable[..., Person], sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    await to_questions(kari, "nb")
    await to_contact(kari, "nb", "Svar")
    calls = await kari.write("Kari Nordmann")
    [question] = [c for c in calls if c.endpoint == "sendMessage"]
    assert say("nb", "ask_phone") in question.text
    keyboard = question.markup["keyboard"]
    assert keyboard[0][0] == {"text": label("nb", "telegram.share_phone"),
                              "request_contact": True}
    calls = await kari.send(contact={"phone_number": "4791234567", "first_name": "Kari",
                                     "user_id": kari.chat_id})
    assert stored(sqlite_engine, kari.chat_id).draft.phone == normalize_phone("+4791234567")
    # The phone keyboard goes once the question has moved on (the next question has buttons
    # too, so it is added by an edit).
    sends = [c for c in calls if c.endpoint == "sendMessage"]
    assert sends[0].markup == {"remove_keyboard": True}
    assert say("nb", "ask_reach_time") in sends[0].text
    [edit] = [c for c in calls if c.endpoint == "editMessageReplyMarkup"]
    assert label("nb", "reach_time.morning") in [b["text"] for row in
                                                 edit.markup["inline_keyboard"] for b in row]


async def test_a_typed_phone_number_works_too(person: Callable[..., Person],
                                              sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    await to_questions(kari, "nb")
    await to_contact(kari, "nb", "Svar")
    await kari.write("Kari Nordmann")
    calls = await kari.write("12")
    assert say("nb", "invalid.phone") in texts(calls)
    assert "keyboard" in [c for c in calls if c.endpoint == "sendMessage"][-1].markup
    await kari.write("55 56 55 56")
    assert stored(sqlite_engine, kari.chat_id).draft.phone == normalize_phone("55565556")


async def test_a_long_review_is_split_at_sentences_with_buttons_on_the_last_part(
        person: Callable[..., Person]) -> None:
    kari = person(language_code="nb")
    # Within the dialog's 4,000 characters, but longer than 4,096 once "&" is escaped.
    long_answer = ("Mat & drikke. " * 285).strip()
    assert len(long_answer) <= 4000
    await to_questions(kari, "nb")
    await kari.write(long_answer)
    for _ in range(QUESTIONS - 1):
        await kari.write("/hopp")
    await kari.press(label("nb", "option.done"))
    await kari.press(label("nb", "option.no_coordinator_wish"))
    await kari.write("Kari")
    await kari.write("912 34 567")
    await kari.press(label("nb", "option.dont_know_now"))
    await kari.write("Bergen")
    calls = await route_in_bergen(kari, "nb")
    sends = [c for c in calls if c.endpoint == "sendMessage"]
    assert len(sends) >= 2
    assert all(len(c.text.encode("utf-16-le")) // 2 <= 4096 for c in sends)
    assert sends[0].text.endswith("drikke.")  # cut after a sentence, not in "&amp;"
    assert sum(c.text.count("&amp;") for c in sends) == long_answer.count("&")
    assert [bool(c.buttons()) for c in sends] == [False] * (len(sends) - 1) + [True]


async def test_one_submission_however_often_send_is_pressed(
        person: Callable[..., Person], sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    await to_review(kari, "nb")
    send = kari.press_update(label("nb", "option.send"))
    await kari.deliver(send)
    again = {**send, "update_id": send["update_id"] + 10_000}
    calls = await kari.deliver(again)
    assert say("nb", "telegram.stale_button") in texts(calls)
    with unit_of_work(sqlite_engine) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == 1


async def test_the_written_standard_can_be_changed_any_time(
        person: Callable[..., Person], sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    await to_questions(kari, "nb")
    calls = await kari.write("/sprak")
    assert say("nb", "choose_language") in texts(calls)
    calls = await kari.press("Nynorsk")
    assert say("nn", "question.ask_strengths.self") in texts(calls)  # back where she was
    assert stored(sqlite_engine, kari.chat_id).language is Language.NYNORSK
