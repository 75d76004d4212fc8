"""What phones and Telegram throw at the bot: stickers, edits, old buttons, repeated updates,
group chats, restarts. Each leaves the conversation as it was."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bench.offline_config import OFFLINE, offline_limiter
from bot.runner import DialogRunner
from bot.telegram.app import build_application
from dialogs.steps import Step
from storage.db import unit_of_work
from storage.models import StoredConversation
from tests.telegram.lines import label, say
from tests.telegram.offline import OfflineRequest, Person, api_error, next_update_id, texts
from tests.telegram.walk import stored, to_questions

NOT_TEXT: dict[str, dict[str, Any]] = {
    "sticker": {"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular",
                            "width": 512, "height": 512, "is_animated": False,
                            "is_video": False}},
    "photo": {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}]},
    "voice": {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 3}},
    "video": {"video": {"file_id": "w", "file_unique_id": "w", "width": 1, "height": 1,
                        "duration": 1}},
    "document": {"document": {"file_id": "d", "file_unique_id": "d", "file_name": "x.pdf"}},
    "location": {"location": {"latitude": 60.39, "longitude": 5.32}},
    "poll": {"poll": {"id": "1", "question": "?", "options": [
        {"text": "a", "voter_count": 0, "persistent_id": "a"},
        {"text": "b", "voter_count": 0, "persistent_id": "b"}],
        "total_voter_count": 0, "is_closed": False, "is_anonymous": True, "type": "regular",
        "allows_multiple_answers": False, "allows_revoting": False, "members_only": False}},
}


@pytest.mark.parametrize("kind", list(NOT_TEXT))
async def test_anything_but_text_gets_a_friendly_word_and_changes_nothing(
        kind: str, person: Callable[..., Person], sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    await to_questions(kari, "nb")
    before = stored(sqlite_engine, kari.chat_id)
    calls = await kari.send(**NOT_TEXT[kind])
    said = texts(calls)
    assert said.startswith(say("nb", "invalid.unsupported"))
    assert say("nb", "question.ask_strengths.self") in said  # the question, again
    after = stored(sqlite_engine, kari.chat_id)
    assert (after.step, after.draft) == (before.step, before.draft)


async def test_a_contact_where_no_phone_is_asked_is_not_an_answer(
        person: Callable[..., Person], sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    await to_questions(kari, "nb")
    calls = await kari.send(contact={"phone_number": "4791234567", "first_name": "Kari"})
    assert say("nb", "invalid.unsupported") in texts(calls)
    assert stored(sqlite_engine, kari.chat_id).draft.answers == {}


async def test_an_edited_message_does_not_become_the_answer(
        person: Callable[..., Person], sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    await to_questions(kari, "nb")
    answer = kari.text_update("Jeg er god til å lage mat.")
    await kari.deliver(answer)
    before = stored(sqlite_engine, kari.chat_id)
    edited = {"update_id": next_update_id(),
              "edited_message": {**answer["message"], "text": "Noe helt annet",
                                 "edit_date": answer["message"]["date"] + 5}}
    calls = await kari.deliver(edited)
    assert texts(calls) == say("nb", "telegram.edited_message")
    assert "/endre" in texts(calls)
    after = stored(sqlite_engine, kari.chat_id)
    assert after.draft == before.draft
    assert after.turn == before.turn


async def test_an_old_button_after_going_back_is_no_longer_active(
        person: Callable[..., Person], sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    await to_questions(kari, "nb")
    question = kari.screen()[-1]
    await kari.write("/tilbake")  # back to "what do you ask for?"
    before = stored(sqlite_engine, kari.chat_id)
    calls = await kari.press(label("nb", "option.show_examples"),
                             message_id=question["message_id"])
    [answer] = [c for c in calls if c.endpoint == "answerCallbackQuery"]
    assert answer.params["text"] == say("nb", "telegram.stale_button")
    said = texts([c for c in calls if c.endpoint == "sendMessage"])
    assert said.startswith(say("nb", "telegram.stale_button.repeat"))
    assert say("nb", "ask_request.self") in said  # where the person is now
    assert "reply_markup" not in question  # the stale buttons are gone
    after = stored(sqlite_engine, kari.chat_id)
    assert (after.step, after.turn, after.draft) == (before.step, before.turn, before.draft)


async def test_an_old_button_still_works_while_it_is_the_current_question(
        person: Callable[..., Person]) -> None:
    kari = person(language_code="nb")
    await kari.write("/start")
    calls = await kari.press(label("nb", "option.continue"))
    assert say("nb", "privacy.ask_consent") in texts(calls)


async def test_buttons_survive_a_restart_and_stale_ones_are_caught(
        person: Callable[..., Person], offline: OfflineRequest, sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    await kari.write("/start")
    go_on = kari.press_update(label("nb", "option.continue"))
    await kari.deliver(go_on)
    # A new process: nothing kept in memory, everything in the database.
    restarted = build_application(OFFLINE, DialogRunner(sqlite_engine, escape=html.escape),
                                  request=offline, rate_limiter=offline_limiter())
    await restarted.initialize()
    try:
        kari.app = restarted
        calls = await kari.press(label("nb", "option.consent"))
        assert say("nb", "ask_reminder") in texts(calls)
        # The intro's button pressed again (from a second phone that still shows it).
        calls = await kari.deliver({**go_on, "update_id": next_update_id()})
        assert say("nb", "telegram.stale_button") in texts(calls)
        assert stored(sqlite_engine, kari.chat_id).step is Step.CHOOSE_REMINDER
    finally:
        await restarted.shutdown()


async def test_the_same_update_twice_is_handled_once(
        person: Callable[..., Person], sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    await to_questions(kari, "nb")
    answer = kari.text_update("Jeg er god til å lage mat.")
    first = await kari.deliver(answer)
    turn = stored(sqlite_engine, kari.chat_id).turn
    second = await kari.deliver(answer)
    assert first
    assert second == []
    conv = stored(sqlite_engine, kari.chat_id)
    assert conv.turn == turn
    assert conv.step is Step.ASK_WHAT_MATTERS_IN_LIFE


async def test_a_button_press_delivered_twice_is_answered_once(
        person: Callable[..., Person]) -> None:
    kari = person(language_code="nb")
    await kari.write("/start")
    press = kari.press_update(label("nb", "option.continue"))
    assert await kari.deliver(press)
    assert await kari.deliver(press) == []


async def test_in_a_group_the_bot_asks_to_be_written_to_privately(
        person: Callable[..., Person], offline: OfflineRequest, sqlite_engine: Engine) -> None:
    kari = person(language_code="nn")
    group = {"id": -100123, "type": "supergroup", "title": "Familien"}
    update = kari.text_update("/start@DinPlanBot")
    update["message"]["chat"] = group
    calls = await kari.deliver(update)
    [notice] = [c for c in calls if c.endpoint == "sendMessage"]
    assert notice.params["chat_id"] == -100123
    assert notice.text == say("nn", "telegram.group_chat")
    [[button]] = notice.markup["inline_keyboard"]
    assert button["url"] == "https://t.me/DinPlanBot"
    plain = kari.text_update("Hei alle sammen")
    plain["message"]["chat"] = group
    assert await kari.deliver(plain) == []  # ordinary group talk is left alone
    with unit_of_work(sqlite_engine) as session:
        assert session.exec(select(StoredConversation)).all() == []


async def test_erasing_everything_leaves_nothing_stored(
        person: Callable[..., Person], sqlite_engine: Engine) -> None:
    kari = person(language_code="nb")
    await to_questions(kari, "nb")
    await kari.write("Svar som skal bort.")
    calls = await kari.write("/slett")
    assert say("nb", "ask_confirm_erase") in texts(calls)
    calls = await kari.press(label("nb", "option.yes_erase"))
    assert say("nb", "erased") in texts(calls)
    with unit_of_work(sqlite_engine) as session:
        assert session.exec(select(StoredConversation)).all() == []


async def test_a_press_answered_too_late_still_counts(
        person: Callable[..., Person], offline: OfflineRequest, sqlite_engine: Engine) -> None:
    """After a restart Telegram may refuse the answer to an old press; the choice still counts."""
    kari = person(language_code="nb")
    await kari.write("/start")
    offline.script["answerCallbackQuery"] = [
        api_error(400, "Bad Request: query is too old and response timeout expired")]
    calls = await kari.press(label("nb", "option.continue"))
    assert say("nb", "privacy.ask_consent") in texts(calls)
    assert stored(sqlite_engine, kari.chat_id).step is Step.GIVE_CONSENT
