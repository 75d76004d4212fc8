"""End to end: a person on a phone, the Bot API emulator, and the real `dinplan run`."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from storage.db import make_engine
from storage.exports.pdf import printable
from tests.fakes import flat, pdf_text
from tests.telegram.emulator import Bots, Emulator, Phone, eventually, text_of
from tests.telegram.lines import first_sentence, label, say

SAMI_AND_MARKUP = "<b>Fet</b> & «sterk» 💪🏽 – áčđŋšŧž"


def count(bots: Bots, table: str) -> int:
    engine = make_engine(bots.database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(f"select count(*) from {table}")).scalar_one())
    finally:
        engine.dispose()


def toggle(person: Phone, language: str, service_key: str) -> None:
    """Press a service and wait until the same message shows it ticked."""
    person.press(label(language, service_key))
    ticked = say(language, "option.selected", label=label(language, service_key))
    eventually(lambda: person.button(ticked))


def test_whole_conversation_in_bokmal(emulator: Emulator, bots: Bots,
                                      phone: Callable[..., Phone]) -> None:
    token = emulator.new_token()
    bots.start(token)
    kari = phone(token, language_code="nb")

    kari.write("/start")
    kari.expect(say("nb", "intro.what_happens_here"))
    kari.press(label("nb", "option.continue"))
    kari.expect(say("nb", "privacy.ask_consent"))
    kari.press(label("nb", "option.consent"))
    kari.expect(say("nb", "ask_reminder"))
    kari.press(label("nb", "option.yes_remind"))
    kari.expect(say("nb", "ask_role"))
    kari.press(label("nb", "option.for_myself"))
    kari.expect(say("nb", "ask_request.self"))
    kari.press(label("nb", "request.plan_and_coordinator"))
    kari.expect(say("nb", "question.ask_strengths.self"))
    kari.write(SAMI_AND_MARKUP)
    kari.expect(say("nb", "question.ask_what_matters_in_life.self"))
    for _ in range(5):  # written fast, handled in order
        kari.write("/hopp")
    kari.expect(say("nb", "ask_services.self"))
    toggle(kari, "nb", "service.gp")
    toggle(kari, "nb", "service.home_care")
    kari.press(label("nb", "option.done"))
    kari.expect(say("nb", "ask_coordinator_wish.self"))
    kari.press(label("nb", "option.has_coordinator_wish"))
    kari.expect(first_sentence("nb", "ask_coordinator_wish_text"))
    kari.write("Fastlegen min")
    kari.expect(say("nb", "ask_contact_name.self"))
    kari.write("Kari Nordmann")
    kari.expect(first_sentence("nb", "ask_phone"))
    kari.write("912 34 567")
    kari.expect(say("nb", "ask_reach_time"))
    kari.press(label("nb", "reach_time.morning"))
    kari.expect(say("nb", "ask_municipality.self"))
    kari.write("Bergen")
    kari.expect(say("nb", "ask_target_group.self"))
    kari.press(label("nb", "target_group.elderly"))
    kari.expect(say("nb", "ask_district.self"))
    kari.press("Fana")
    review = kari.expect(say("nb", "review.ask_send"))
    shown = "\n".join(text_of(item) for item in review)
    assert "&lt;b&gt;Fet&lt;/b&gt; &amp; «sterk» 💪🏽 – áčđŋšŧž" in shown
    assert say("nb", "review.coordinator_wish", wish="Fastlegen min") in shown
    assert say("nb", "review.district", district="Fana") in shown

    review_message, _ = kari.button(label("nb", "option.send"))
    kari.press(label("nb", "option.send"))
    receipt = kari.expect(first_sentence("nb", "receipt.sent_to_unit"))
    assert "Vurderingskontoret Fana–Ytrebygda" in "\n".join(text_of(item) for item in receipt)
    [document] = [item for item in kari.expect(say("nb", "telegram.document.caption"))
                  if "document" in item["message"]]
    copy = flat(pdf_text(emulator.download(token, document["message"]["document"]["file_id"])))
    assert printable(SAMI_AND_MARKUP).replace(" ", "") in copy
    assert "KariNordmann" in copy

    # Send pressed again on the old review (a second tap, another device): never twice.
    kari.press(label("nb", "option.send"), on=review_message)
    kari.expect(say("nb", "telegram.stale_button.repeat"))
    assert count(bots, "submission") == 1
    assert count(bots, "outbox") == 1  # queued for the unit with the submission


def test_whole_conversation_as_a_relative_in_nynorsk(emulator: Emulator, bots: Bots,
                                                     phone: Callable[..., Phone]) -> None:
    token = emulator.new_token()
    bots.start(token)
    marit = phone(token, language_code="nn", name="Marit")

    marit.write("/start")
    intro = marit.expect(say("nn", "intro.what_happens_here"))
    assert say("nn", "language.preselected") in text_of(intro[0])
    marit.press(label("nn", "option.continue"))
    marit.expect(say("nn", "privacy.ask_consent"))
    marit.press(label("nn", "option.consent"))
    marit.expect(say("nn", "ask_reminder"))
    marit.press(label("nn", "option.no_remind"))
    marit.expect(say("nn", "ask_role"))
    marit.press(label("nn", "option.for_someone_else"))
    marit.expect(say("nn", "ask_person_name"))
    marit.write("Jon")
    marit.expect(say("nn", "ask_relation", name="Jon"))
    marit.press(label("nn", "relation.parent"))
    marit.expect(say("nn", "ask_basis", name="Jon"))
    marit.press(label("nn", "basis.parent_of_child_under_16"))
    marit.expect(say("nn", "ask_request.relative", name="Jon"))
    marit.press(label("nn", "request.plan_and_coordinator"))
    marit.expect(say("nn", "question.ask_strengths.relative", name="Jon"))
    marit.write("Jon er flink med dyr, og han er god til å teikne.")
    marit.expect(say("nn", "question.ask_what_matters_in_life.relative", name="Jon"))
    for _ in range(5):
        marit.write("/hopp")
    marit.expect(say("nn", "ask_services.relative", name="Jon"))
    toggle(marit, "nn", "service.school")
    marit.press(label("nn", "option.done"))
    marit.expect(say("nn", "ask_coordinator_wish.relative", name="Jon"))
    marit.press(label("nn", "option.no_coordinator_wish"))
    marit.expect(first_sentence("nn", "ask_contact_name.relative"))
    marit.write("Marit Dale")
    marit.expect(first_sentence("nn", "ask_phone"))
    marit.write("+47 55 56 55 56")
    marit.expect(say("nn", "ask_reach_time"))
    marit.press(label("nn", "option.dont_know_now"))
    marit.expect(say("nn", "ask_municipality.relative", name="Jon"))
    marit.write("Gulen")  # one unit for everything: no routing questions
    review = marit.expect(say("nn", "review.ask_send"))
    assert say("nn", "review.prepared_by.relative", name="Jon",
               relation=label("nn", "relation.parent"),
               basis=label("nn", "basis.parent_of_child_under_16")) in \
        "\n".join(text_of(item) for item in review)
    marit.press(label("nn", "option.send"))
    receipt = marit.expect(say("nn", "telegram.document.caption"))
    assert "Gulen kommune, koordinerande eining" in "\n".join(text_of(item) for item in receipt)
    assert count(bots, "submission") == 1
    assert count(bots, "outbox") == 1
