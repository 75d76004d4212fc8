"""End to end: a killed bot, stale buttons, stickers, erasure and many chats at once."""

from __future__ import annotations

from collections.abc import Callable

from tests.telegram.emulator import Bots, Emulator, Phone, eventually, text_of
from tests.telegram.lines import label, say
from tests.telegram.test_e2e_conversation import count


def to_first_question(person: Phone, language: str = "nb") -> None:
    person.write("/start")
    person.expect(say(language, "intro.what_happens_here"))
    person.press(label(language, "option.continue"))
    person.expect(say(language, "privacy.ask_consent"))
    person.press(label(language, "option.consent"))
    person.expect(say(language, "ask_reminder"))
    person.press(label(language, "option.no_remind"))
    person.expect(say(language, "ask_role"))
    person.press(label(language, "option.for_myself"))
    person.expect(say(language, "ask_request.self"))
    person.press(label(language, "request.plan_and_coordinator"))
    person.expect(say(language, "question.ask_strengths.self"))


def callback_answers(emulator: Emulator, token: str) -> list[str | None]:
    return [answer.get("text") for answer in
            emulator.post("/getCallbackAnswers", {"token": token})]


def test_a_killed_bot_resumes_where_the_person_was(emulator: Emulator, bots: Bots,
                                                    phone: Callable[..., Phone]) -> None:
    token = emulator.new_token()
    bot = bots.start(token)
    kari = phone(token, language_code="nb")
    to_first_question(kari)
    first_question, _ = kari.button(label("nb", "option.show_examples"))
    kari.write("Jeg er god til å lage mat.")
    kari.expect(say("nb", "question.ask_what_matters_in_life.self"))

    bots.kill(bot)  # SIGKILL: no clean shutdown
    bots.start(token)

    kari.write("Å bo hjemme.")
    third = kari.expect(say("nb", "question.ask_what_matters_everyday.self"))[-1]
    assert text_of(third).startswith(say("nb", "question.progress", number=3, total=6))
    # A button from before the crash, on a question already answered.
    kari.press(label("nb", "option.show_examples"), on=first_question)
    again = kari.expect(say("nb", "telegram.stale_button.repeat"))[-1]
    assert say("nb", "question.ask_what_matters_everyday.self") in text_of(again)
    assert say("nb", "telegram.stale_button") in callback_answers(emulator, token)


def test_a_button_from_before_going_back_is_stale(emulator: Emulator, bots: Bots,
                                                  phone: Callable[..., Phone]) -> None:
    token = emulator.new_token()
    bots.start(token)
    kari = phone(token, language_code="nb")
    to_first_question(kari)
    question, _ = kari.button(label("nb", "option.dont_know_now"))
    kari.write("/tilbake")
    kari.expect(say("nb", "ask_request.self"))
    kari.press(label("nb", "option.dont_know_now"), on=question)
    again = kari.expect(say("nb", "telegram.stale_button.repeat"))[-1]
    assert say("nb", "ask_request.self") in text_of(again)  # asked again, not skipped
    # The stale buttons are taken off the old message.
    eventually(lambda: _no_buttons(kari, question["messageId"]))
    kari.press(label("nb", "request.coordinator_only"))
    kari.expect(say("nb", "question.ask_strengths.self"))


def _no_buttons(person: Phone, message_id: int) -> None:
    [item] = [i for i in person.history() if i["messageId"] == message_id]
    assert not (item["message"].get("reply_markup") or {}).get("inline_keyboard")


def test_a_sticker_is_not_an_answer(emulator: Emulator, bots: Bots,
                                    phone: Callable[..., Phone]) -> None:
    token = emulator.new_token()
    bots.start(token)
    kari = phone(token, language_code="nb")
    to_first_question(kari)
    kari.send(sticker={"file_id": "CAAC", "file_unique_id": "AgAD", "type": "regular",
                       "width": 512, "height": 512, "is_animated": False, "is_video": False,
                       "emoji": "👍"})
    kari.expect(say("nb", "invalid.unsupported"))
    kari.write("Jeg er sta.")
    kari.expect(say("nb", "question.progress", number=2, total=6))


def test_erasing_everything(emulator: Emulator, bots: Bots,
                            phone: Callable[..., Phone]) -> None:
    token = emulator.new_token()
    bots.start(token)
    kari = phone(token, language_code="nb")
    to_first_question(kari)
    kari.write("Noe jeg angrer på.")
    kari.expect(say("nb", "question.ask_what_matters_in_life.self"))
    assert count(bots, "conversation") == 1
    kari.write("/slett")
    kari.expect(say("nb", "ask_confirm_erase"))
    kari.press(label("nb", "option.yes_erase"))
    kari.expect(say("nb", "erased"))
    assert count(bots, "conversation") == 0
    assert count(bots, "answer") == 0


def test_many_chats_writing_fast(emulator: Emulator, bots: Bots,
                                 phone: Callable[..., Phone]) -> None:
    """Each chat's messages are written without waiting for replies; each is read in order."""
    token = emulator.new_token()
    bots.start(token)
    people = [phone(token, language_code="nb", name=f"P{n}") for n in range(8)]
    script = ["/start", label("nb", "option.continue"), label("nb", "option.consent"),
              label("nb", "option.no_remind"), label("nb", "option.for_myself")]
    for line in script:
        for person in people:
            person.write(line)
    for person in people:
        person.expect(say("nb", "ask_request.self"))
    assert count(bots, "conversation") == len(people)
