"""The citizen conversation as people meet it: whole conversations and each feature in turn.

Replies are checked rendered, in the person's written standard; catalog texts are looked up with
`dialogs.render.message` so the tests follow the catalogs, with a few real Norwegian sentences
where the words themselves matter.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from dialogs import choices as c
from dialogs.draft import (
    Basis,
    Conversation,
    DraftPlan,
    Language,
    Relation,
    RequestKind,
    Role,
    Service,
)
from dialogs.events import ChoiceEvent, Effect, Event, Outcome, TextEvent
from dialogs.machine import Dialog
from dialogs.reference import ALPHABET, LENGTH
from dialogs.render import RenderedReply, message, render
from dialogs.review import add_one_month
from dialogs.steps import QUESTION_STEPS, Step
from storage.units import default_router

NB, NN = Language.BOKMAL, Language.NYNORSK
NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)  # a month later is 28 February 2026
ANSWERS = {
    Step.ASK_STRENGTHS: "Jeg er god til å lage mat",
    Step.ASK_WHAT_MATTERS_IN_LIFE: "Å bo hjemme så lenge som mulig",
    Step.ASK_WHAT_MATTERS_EVERYDAY: "Å komme meg ut hver dag",
    Step.ASK_WHAT_IT_TAKES: "Hjelp til innkjøp",
    Step.ASK_WHAT_FIRST: "Hjelp om morgenen",
    Step.ASK_WHAT_WORKS_NOW: "Fastlegen kjenner meg godt",
}


class Chat:
    """One person talking to the dialog; every reply is rendered as the person would see it.

    The dialog has the real units directory: Bergen asks a target group (and for some a district),
    Gulen asks nothing more, a municipality not in the directory gets a saved draft.
    """

    def __init__(self) -> None:
        self.dialog = Dialog(router=default_router())
        self.conv = Conversation()
        self.outcome = self.dialog.greet(self.conv)

    def send(self, event: Event) -> Outcome:
        self.outcome = self.dialog.handle(self.conv, event, NOW)
        return self.outcome

    def say(self, text: str) -> Outcome:
        return self.send(TextEvent(text))

    def press(self, option: str) -> Outcome:
        offered = [o.id for reply in self.outcome.replies for o in reply.options]
        assert option in offered, f"{option!r} is not offered at {self.step}: {offered}"
        return self.send(ChoiceEvent(option))

    @property
    def step(self) -> Step:
        return self.conv.step

    @property
    def draft(self) -> DraftPlan:
        return self.conv.draft

    @property
    def shown(self) -> list[RenderedReply]:
        return [render(self.conv.language, reply) for reply in self.outcome.replies]

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.shown)

    @property
    def keys(self) -> list[str]:
        return [reply.key for reply in self.outcome.replies]

    def labels(self) -> dict[str, str]:
        return {o.id: o.label for reply in self.shown for o in reply.options}


def says(chat: Chat, key: str) -> bool:
    """The last turn said this catalog message (without parameters) in the person's language."""
    return message(chat.conv.language, key) in chat.text


def begin(language: Language = NB) -> Chat:
    chat = Chat()
    chat.press(language.value)
    chat.press(c.CONTINUE.id)
    chat.press(c.CONSENT.id)
    assert chat.step is Step.CHOOSE_REMINDER
    chat.press(c.NO_REMIND.id)
    assert chat.step is Step.CHOOSE_ROLE
    return chat


def as_relative(chat: Chat, name: str = "Kari") -> None:
    chat.press(c.FOR_SOMEONE_ELSE.id)
    chat.say(name)
    chat.press(Relation.PARENT.value)
    chat.press(Basis.PARENT_OF_CHILD_UNDER_16.value)


def answer_questions(chat: Chat) -> None:
    for step in QUESTION_STEPS:
        assert chat.step is step
        chat.say(ANSWERS[step])


def route_in_bergen(chat: Chat, group: str = "elderly", district: str = "fana") -> None:
    """Bergen's routing questions: the target group, then (for this group) the district."""
    assert chat.step is Step.CHOOSE_TARGET_GROUP
    chat.press(group)
    assert chat.step is Step.CHOOSE_DISTRICT
    chat.press(district)


def to_review(chat: Chat, municipality: str = "Bergen") -> None:
    chat.press(RequestKind.PLAN_AND_COORDINATOR.value)
    answer_questions(chat)
    chat.press(Service.GP.value)
    chat.press(c.DONE.id)
    chat.press(c.NO_WISH.id)
    chat.say("Ola Nordmann")
    chat.say("912 34 567")
    chat.press("morning")
    chat.say(municipality)
    if municipality == "Bergen":
        route_in_bergen(chat)
    assert chat.step is Step.REVIEW


def at_review(language: Language = NB, role: Role = Role.SELF) -> Chat:
    chat = begin(language)
    if role is Role.RELATIVE:
        as_relative(chat)
    else:
        chat.press(c.FOR_MYSELF.id)
    to_review(chat)
    return chat


# -- whole conversations --------------------------------------------------------------------------

@pytest.mark.parametrize("language", [NB, NN])
def test_whole_conversation_for_oneself(language: Language) -> None:
    chat = Chat()
    assert chat.keys == ["choose_language"]
    chat.press(language.value)
    assert says(chat, "intro.what_is_a_plan")
    chat.press(c.CONTINUE.id)
    assert says(chat, "privacy.ask_consent")
    chat.press(c.CONSENT.id)
    assert chat.conv.consented_at == NOW
    assert says(chat, "ask_reminder")
    assert message(language, "reminder.explained").format(days=30) in chat.text
    chat.press(c.YES_REMIND.id)
    assert chat.conv.wants_reminder is True
    assert says(chat, "ask_role")
    chat.press(c.FOR_MYSELF.id)
    assert says(chat, "ask_request.self")
    chat.press(RequestKind.COORDINATOR_ONLY.value)
    for number, step in enumerate(QUESTION_STEPS, start=1):
        assert f"Spørsmål {number} av 6" in chat.text
        assert says(chat, f"question.{step.value}.self")
        chat.say(ANSWERS[step])
    assert says(chat, "ask_services.self")
    chat.press(Service.HOME_CARE.value)
    chat.press(c.DONE.id)
    chat.press(c.NO_WISH.id)
    assert says(chat, "ask_contact_name.self")
    chat.say("Ola Nordmann")
    chat.say("91234567")
    chat.press("afternoon")
    assert says(chat, "ask_municipality.self")
    chat.say("Gulen")
    assert chat.step is Step.REVIEW  # Gulen's one unit takes every request: nothing to route by
    assert says(chat, "review.prepared_by.self")
    for answer in ANSWERS.values():
        assert answer in chat.text
    assert "Gulen" in chat.text
    assert "+47 91 23 45 67" in chat.text
    assert message(language, "service.home_care") in chat.text
    assert message(language, "reach_time.afternoon") in chat.text
    chat.press(c.SEND.id)
    assert chat.step is Step.SENT
    assert chat.outcome.effects == [Effect.SUBMIT]
    assert chat.keys[0] == "receipt.sent_to_unit"
    unit = {NB: "Gulen kommune, koordinerende enhet",
            NN: "Gulen kommune, koordinerande eining"}[language]
    assert unit in chat.text
    draft = chat.draft
    assert (draft.role, draft.request, draft.services, draft.phone, draft.municipality_number) == (
        Role.SELF, RequestKind.COORDINATOR_ONLY, [Service.HOME_CARE], "+47 91 23 45 67", "4635")
    assert {step: answer.text for step, answer in draft.answers.items()} == ANSWERS


@pytest.mark.parametrize("language", [NB, NN])
def test_whole_conversation_as_a_relative_names_the_person(language: Language) -> None:
    chat = begin(language)
    chat.press(c.FOR_SOMEONE_ELSE.id)
    assert says(chat, "ask_person_name")
    chat.say("  Kari   Marie ")
    assert chat.draft.person_name == "Kari Marie"
    assert chat.text == message(language, "ask_relation").format(name="Kari Marie")
    chat.press(Relation.CHILD.value)
    assert chat.text == message(language, "ask_basis").format(name="Kari Marie")
    chat.press(Basis.POWER_OF_ATTORNEY.value)
    assert message(language, "ask_request.relative").format(name="Kari Marie") in chat.text
    chat.press(RequestKind.PLAN_AND_COORDINATOR.value)
    for step in QUESTION_STEPS:
        question = message(language, f"question.{step.value}.relative").format(name="Kari Marie")
        assert question in chat.text
        assert message(language, f"question.{step.value}.self") not in chat.text
        chat.say(ANSWERS[step])
    for key in ("ask_services", "ask_coordinator_wish"):
        assert message(language, f"{key}.relative").format(name="Kari Marie") in chat.text
        chat.press(c.SKIP.id)
    assert message(language, "ask_contact_name.relative").format(name="Kari Marie") in chat.text
    chat.say("Ola Nordmann")
    chat.say("+47 912 34 567")
    chat.press(c.SKIP.id)
    assert message(language, "ask_municipality.relative").format(name="Kari Marie") in chat.text
    chat.say("Bergen")
    assert chat.step is Step.CHOOSE_TARGET_GROUP
    assert message(language, "ask_target_group.relative").format(name="Kari Marie") in chat.text
    chat.press("disabled")
    assert chat.step is Step.CHOOSE_DISTRICT
    assert message(language, "ask_district.relative").format(name="Kari Marie") in chat.text
    assert chat.labels()["asane"] == "Åsane"
    chat.press("asane")
    assert chat.step is Step.REVIEW
    assert message(language, "review.prepared_by.relative").format(
        name="Kari Marie", relation=message(language, "relation.child"),
        basis=message(language, "basis.power_of_attorney")) in chat.text
    assert message(language, "review.target_group").format(
        group=message(language, "target_group.disabled")) in chat.text
    assert message(language, "review.district").format(district="Åsane") in chat.text
    chat.press(c.SEND.id)
    assert chat.step is Step.SENT
    assert (chat.draft.role, chat.draft.relation, chat.draft.basis) == (
        Role.RELATIVE, Relation.CHILD, Basis.POWER_OF_ATTORNEY)
    assert (chat.draft.target_group, chat.draft.district) == ("disabled", "asane")
    assert "Vurderingskontoret Arna–Åsane–Bergenhus–Årstad" in chat.text


def test_nynorsk_is_not_bokmal() -> None:
    chat = begin(NN)
    chat.press(c.FOR_MYSELF.id)
    chat.press(RequestKind.NOT_SURE.value)
    assert message(NN, "question.ask_strengths.self") in chat.text
    assert message(NN, "question.ask_strengths.self") != message(NB, "question.ask_strengths.self")
    assert "Hva " not in chat.text


# -- consent --------------------------------------------------------------------------------------

def test_declining_consent_keeps_only_the_choice() -> None:
    chat = Chat()
    chat.press(NB.value)
    chat.press(c.CONTINUE.id)
    chat.press(c.DECLINE.id)
    assert chat.step is Step.DECLINED
    assert says(chat, "declined.resting")
    assert (chat.conv.declined_at, chat.conv.consented_at) == (NOW, None)
    assert chat.draft == DraftPlan()
    chat.say("Jeg vil likevel fortelle noe")
    assert chat.step is Step.DECLINED
    assert chat.draft == DraftPlan()


def test_declining_after_going_back_drops_what_was_written() -> None:
    chat = begin()
    chat.press(c.FOR_MYSELF.id)
    chat.press(RequestKind.NOT_SURE.value)
    chat.say(ANSWERS[Step.ASK_STRENGTHS])
    for _ in range(5):  # the strengths, the request, the role, the reminder, the consent
        chat.say("/tilbake")
    assert chat.step is Step.GIVE_CONSENT
    assert chat.conv.wants_reminder is False
    chat.press(c.DECLINE.id)
    assert chat.conv.consented_at is None
    assert chat.conv.wants_reminder is None
    assert chat.draft == DraftPlan()


# -- language, examples, skipping, going back -----------------------------------------------------

def test_language_switch_mid_question_returns_to_the_same_question() -> None:
    chat = at_question(Step.ASK_WHAT_MATTERS_EVERYDAY)
    assert message(NB, "question.ask_what_matters_everyday.self") in chat.text
    chat.say("/sprak")
    assert chat.step is Step.CHOOSE_LANGUAGE
    chat.press(NN.value)
    assert chat.step is Step.ASK_WHAT_MATTERS_EVERYDAY
    assert chat.conv.language is NN
    assert "Spørsmål 3 av 6" in chat.text
    assert message(NN, "question.ask_what_matters_everyday.self") in chat.text
    assert message(NB, "question.ask_what_matters_everyday.self") not in chat.text
    assert chat.draft.answers[Step.ASK_STRENGTHS].text == ANSWERS[Step.ASK_STRENGTHS]
    chat.say("/språk")
    chat.press(NB.value)
    assert chat.step is Step.ASK_WHAT_MATTERS_EVERYDAY
    assert message(NB, "question.ask_what_matters_everyday.self") in chat.text


def at_question(step: Step, language: Language = NB) -> Chat:
    chat = begin(language)
    chat.press(c.FOR_MYSELF.id)
    chat.press(RequestKind.PLAN_AND_COORDINATOR.value)
    while chat.step is not step:
        chat.say(ANSWERS[chat.step])
    return chat


@pytest.mark.parametrize("step", QUESTION_STEPS)
def test_examples_then_the_question_again(step: Step) -> None:
    chat = at_question(step)
    chat.press(c.SHOW_EXAMPLES.id)
    assert chat.keys[0] == f"examples.{step.value}"
    assert chat.text.startswith("Eksempler:")
    assert message(NB, f"question.{step.value}.self") in chat.text
    assert chat.step is step
    assert step not in chat.draft.answers


def test_examples_come_from_the_brochure() -> None:
    chat = at_question(Step.ASK_WHAT_MATTERS_IN_LIFE, NN)
    chat.press(c.SHOW_EXAMPLES.id)
    assert "Døme:" in chat.text
    assert "Å bu heime så lenge som mogleg" in chat.text


@pytest.mark.parametrize("how", ["button", "/hopp"])
def test_dont_know_now_skips_the_question(how: str) -> None:
    chat = at_question(Step.ASK_WHAT_IT_TAKES)
    if how == "button":
        assert chat.labels()[c.SKIP.id] == "Vet ikke nå"
        chat.press(c.SKIP.id)
    else:
        chat.say("/hopp")
    assert chat.step is Step.ASK_WHAT_FIRST
    assert chat.draft.answers[Step.ASK_WHAT_IT_TAKES].text is None
    while chat.step in QUESTION_STEPS:
        chat.say(ANSWERS[chat.step])
    chat.press(c.SKIP.id)  # services
    chat.press(c.SKIP.id)  # coordinator wish
    chat.say("Ola Nordmann")
    chat.say("91234567")
    chat.say("/hopp")  # best time to call
    assert chat.draft.reach_time is None
    chat.say("Gulen")
    title = message(NB, "title.ask_what_it_takes")
    assert message(NB, "review.answer.skipped").format(number=4, title=title) in chat.text


def test_steps_that_cannot_be_skipped_say_so() -> None:
    chat = begin()
    chat.say("/hopp")
    assert chat.keys[0] == "skip.not_possible"
    assert says(chat, "ask_role")
    assert chat.step is Step.CHOOSE_ROLE


def test_back_shows_the_earlier_answer_with_keep() -> None:
    chat = at_question(Step.ASK_WHAT_MATTERS_IN_LIFE)
    chat.say("/tilbake")
    assert chat.step is Step.ASK_STRENGTHS
    assert message(NB, "previous_answer").format(answer=ANSWERS[Step.ASK_STRENGTHS]) in chat.text
    assert chat.labels()[c.KEEP.id] == "Behold svaret"
    chat.press(c.KEEP.id)
    assert chat.step is Step.ASK_WHAT_MATTERS_IN_LIFE
    assert chat.draft.answers[Step.ASK_STRENGTHS].text == ANSWERS[Step.ASK_STRENGTHS]
    chat.say("/tilbake")
    chat.say("Jeg gir meg aldri")
    assert chat.draft.answers[Step.ASK_STRENGTHS].text == "Jeg gir meg aldri"


def test_back_to_a_choice_shows_what_was_chosen() -> None:
    chat = begin()
    as_relative(chat)
    chat.say("/tilbake")
    assert chat.step is Step.CHOOSE_BASIS
    labels = chat.labels()
    assert labels[Basis.PARENT_OF_CHILD_UNDER_16.value] == \
        "✓ " + message(NB, "basis.parent_of_child_under_16")
    assert labels[Basis.PERSON_AGREES.value] == message(NB, "basis.person_agrees")
    chat.say("/tilbake")
    chat.say("/tilbake")
    assert chat.step is Step.GIVE_PERSON_NAME
    assert "«Kari»" in chat.text
    assert c.KEEP.id in chat.labels()


def test_back_at_the_first_question_is_not_possible() -> None:
    chat = Chat()
    chat.say("/tilbake")
    assert chat.keys == ["back.not_possible", "choose_language"]


def test_edit_before_the_review_explains() -> None:
    chat = at_question(Step.ASK_WHAT_FIRST)
    chat.say("/endre")
    assert chat.keys[0] == "edit.not_yet"
    assert chat.step is Step.ASK_WHAT_FIRST


# -- services, coordinator, phone, municipality ---------------------------------------------------

def test_services_are_a_multiple_choice_with_toggles() -> None:
    chat = at_question(Step.ASK_WHAT_WORKS_NOW)
    chat.say(ANSWERS[Step.ASK_WHAT_WORKS_NOW])
    assert chat.step is Step.CHOOSE_SERVICES
    for service in (Service.NAV, Service.GP, Service.HOME_CARE, Service.GP):
        chat.press(service.value)
        assert chat.step is Step.CHOOSE_SERVICES
    # In the order of the list, not of pressing; the GP was pressed twice, so it is off again.
    assert chat.draft.services == [Service.HOME_CARE, Service.NAV]
    labels = chat.labels()
    assert labels[Service.NAV.value] == "✓ NAV"
    assert labels[Service.HOME_CARE.value] == "✓ " + message(NB, "service.home_care")
    assert labels[Service.GP.value] == message(NB, "service.gp")
    chat.say("fastlege")
    assert chat.keys[0] == "invalid.choose_services"
    chat.press(c.DONE.id)
    assert chat.step is Step.CHOOSE_COORDINATOR_WISH
    assert chat.draft.services_answered


@pytest.mark.parametrize("language", [NB, NN])
def test_coordinator_wish(language: Language) -> None:
    chat = at_question(Step.ASK_WHAT_WORKS_NOW, language)
    chat.say("Det går bra")
    chat.press(c.DONE.id)
    assert says(chat, "coordinator_wish.explained")
    chat.press(c.YES_WISH.id)
    assert chat.step is Step.GIVE_COORDINATOR_WISH
    chat.say("")
    assert chat.keys[0] == "invalid.write_answer"
    chat.say("Sykepleier i hjemmetjenesten")
    assert chat.step is Step.GIVE_CONTACT_NAME
    assert chat.draft.coordinator_wish == "Sykepleier i hjemmetjenesten"
    chat.say("/tilbake")
    chat.say("/tilbake")
    assert chat.step is Step.CHOOSE_COORDINATOR_WISH
    chat.press(c.NO_WISH.id)
    assert chat.step is Step.GIVE_CONTACT_NAME
    assert (chat.draft.wishes_coordinator, chat.draft.coordinator_wish) == (False, None)


def at_phone() -> Chat:
    chat = at_question(Step.ASK_WHAT_WORKS_NOW)
    chat.say("Det går bra")
    chat.press(c.SKIP.id)
    chat.press(c.SKIP.id)
    chat.say("Ola Nordmann")
    assert chat.step is Step.GIVE_PHONE
    return chat


@pytest.mark.parametrize(("typed", "stored"), [
    ("91234567", "+47 91 23 45 67"),
    ("+47 912 34 567", "+47 91 23 45 67"),
    ("0047 55 56 55 56", "+47 55 56 55 56"),
    ("55 56 55 56", "+47 55 56 55 56"),
])
def test_valid_phone_numbers_are_stored_normalised(typed: str, stored: str) -> None:
    chat = at_phone()
    chat.say(typed)
    assert chat.step is Step.GIVE_REACH_TIME
    assert chat.draft.phone == stored


@pytest.mark.parametrize("typed", ["12", "123456789", "+46 70 123 45 67", "abc"])
def test_invalid_phone_numbers_are_explained(typed: str) -> None:
    chat = at_phone()
    chat.say(typed)
    assert chat.step is Step.GIVE_PHONE
    assert chat.keys == ["invalid.phone", "ask_phone"]
    assert "912 34 567" in chat.text
    assert chat.draft.phone is None


def at_municipality() -> Chat:
    chat = at_phone()
    chat.say("91234567")
    chat.press("any_time")
    assert chat.step is Step.GIVE_MUNICIPALITY
    return chat


def test_municipality_typo_gives_suggestions_to_choose_from() -> None:
    chat = at_municipality()
    chat.say("Bergne")
    assert chat.step is Step.GIVE_MUNICIPALITY
    assert chat.text == message(NB, "municipality.did_you_mean").format(text="Bergne")
    assert chat.labels() == {"municipality:4601": "Bergen (Vestland)"}
    chat.press("municipality:4601")
    assert chat.step is Step.CHOOSE_TARGET_GROUP  # Bergen routes by target group
    assert chat.draft.municipality_number == "4601"


def test_ambiguous_municipality_is_told_apart_by_county() -> None:
    chat = at_municipality()
    chat.say("Herøy")
    assert chat.step is Step.GIVE_MUNICIPALITY
    assert chat.draft.municipality_number is None
    assert chat.labels() == {"municipality:1515": "Herøy (Møre og Romsdal)",
                             "municipality:1818": "Herøy (Nordland)"}
    chat.press("municipality:1818")
    assert chat.draft.municipality_number == "1818"
    assert "Herøy" in chat.text


def test_unknown_municipality_and_empty_text_are_explained() -> None:
    chat = at_municipality()
    chat.say("Atlantis")
    assert chat.keys == ["municipality.not_found", "ask_municipality.self"]
    assert "«Atlantis»" in chat.text
    chat.say("")
    assert chat.keys == ["invalid.write_municipality", "ask_municipality.self"]
    chat.send(ChoiceEvent("municipality:4601"))  # never offered here
    assert chat.keys[0] == "invalid.write_municipality"
    assert chat.draft.municipality_number is None


# -- review, editing, sharing ---------------------------------------------------------------------

def test_changing_an_answer_returns_to_the_review() -> None:
    chat = at_review()
    chat.press(c.CHANGE_ANSWER.id)
    assert chat.step is Step.CHOOSE_ANSWER_TO_EDIT
    labels = chat.labels()
    assert Step.GIVE_PERSON_NAME.value not in labels  # not a relative
    assert labels[Step.ASK_WHAT_FIRST.value] == message(NB, "title.ask_what_first")
    chat.press(Step.ASK_WHAT_FIRST.value)
    assert chat.step is Step.ASK_WHAT_FIRST
    assert ANSWERS[Step.ASK_WHAT_FIRST] in chat.text
    chat.say("Å få skoleplass")
    assert chat.step is Step.REVIEW
    assert "Å få skoleplass" in chat.text
    assert ANSWERS[Step.ASK_WHAT_FIRST] not in chat.text


def test_changing_to_a_relative_asks_the_follow_ups_then_returns_to_the_review() -> None:
    chat = at_review()
    chat.press(c.CHANGE_ANSWER.id)
    chat.press(Step.CHOOSE_ROLE.value)
    assert chat.labels()[c.FOR_MYSELF.id].startswith("✓ ")
    chat.press(c.FOR_SOMEONE_ELSE.id)
    assert chat.step is Step.GIVE_PERSON_NAME
    chat.say("Per")
    chat.press(Relation.PARTNER.value)
    chat.press(Basis.PERSON_AGREES.value)
    assert chat.step is Step.REVIEW
    assert "Per" in chat.text


def test_sending_with_a_follow_up_left_open_asks_it_first() -> None:
    chat = at_review()
    chat.press(c.CHANGE_ANSWER.id)
    chat.press(Step.CHOOSE_ROLE.value)
    chat.press(c.FOR_SOMEONE_ELSE.id)
    chat.say("/endre")  # straight to the review, the relative's name not given
    assert chat.step is Step.REVIEW
    chat.press(c.SEND.id)
    assert chat.step is Step.GIVE_PERSON_NAME
    assert not chat.outcome.effects
    assert chat.conv.submission is None
    chat.say("Per")
    chat.press(Relation.OTHER.value)
    chat.press(Basis.PERSON_AGREES.value)
    assert chat.step is Step.REVIEW
    chat.press(c.SEND.id)
    assert chat.step is Step.SENT


def test_edit_from_an_interruption_goes_back_to_where_the_person_was() -> None:
    chat = at_review()
    chat.press(c.CHANGE_ANSWER.id)
    chat.press(Step.ASK_STRENGTHS.value)
    chat.say("/sprak")
    chat.say("/endre")
    assert chat.step is Step.REVIEW
    assert chat.conv.return_to is None
    chat.say("/tilbake")
    assert chat.step is Step.ASK_STRENGTHS  # not the language choice, not the introduction


def test_each_answer_can_be_kept_from_sharing() -> None:
    chat = at_review(NN)
    chat.press(c.CHOOSE_SHARING.id)
    assert chat.step is Step.CHOOSE_SHARING
    title = message(NN, "title.ask_what_matters_in_life")
    assert chat.labels()[Step.ASK_WHAT_MATTERS_IN_LIFE.value].endswith(title)
    chat.press(Step.ASK_WHAT_MATTERS_IN_LIFE.value)
    assert chat.step is Step.CHOOSE_SHARING
    assert chat.draft.answers[Step.ASK_WHAT_MATTERS_IN_LIFE].shared is False
    assert chat.labels()[Step.ASK_WHAT_MATTERS_IN_LIFE.value] == \
        message(NN, "option.not_shared").format(label=title)
    assert chat.labels()[Step.ASK_STRENGTHS.value].startswith("✓")
    chat.press(c.DONE.id)
    assert chat.step is Step.REVIEW
    assert message(NN, "review.answer.not_shared").format(
        number=2, title=title, answer=ANSWERS[Step.ASK_WHAT_MATTERS_IN_LIFE]) in chat.text
    chat.press(c.CHOOSE_SHARING.id)
    chat.press(Step.ASK_WHAT_MATTERS_IN_LIFE.value)
    assert chat.draft.answers[Step.ASK_WHAT_MATTERS_IN_LIFE].shared is True


def test_a_skipped_answer_is_not_offered_for_sharing() -> None:
    chat = at_question(Step.ASK_STRENGTHS)
    chat.press(c.SKIP.id)
    while chat.step in QUESTION_STEPS:
        chat.say(ANSWERS[chat.step])
    chat.press(c.SKIP.id)
    chat.press(c.SKIP.id)
    chat.say("Ola")
    chat.say("91234567")
    chat.press("morning")
    chat.say("Gulen")
    chat.press(c.CHOOSE_SHARING.id)
    assert Step.ASK_STRENGTHS.value not in chat.labels()
    chat.send(ChoiceEvent(Step.ASK_STRENGTHS.value))
    assert chat.keys[0] == "invalid.choose_option"


# -- sending, status, starting again --------------------------------------------------------------

REFERENCE = re.compile(rf"\b([{ALPHABET}]{{4}})-([{ALPHABET}]{{4}})\b")


@pytest.mark.parametrize("language", [NB, NN])
def test_sending_gives_a_receipt(language: Language) -> None:
    chat = at_review(language)
    chat.press(c.SEND.id)
    assert chat.step is Step.SENT
    assert chat.keys == ["receipt.sent_to_unit", "receipt.deadline", "receipt.complaint",
                         "receipt.next"]
    assert "Vurderingskontoret Fana–Ytrebygda" in chat.text
    reference = chat.conv.submission.reference if chat.conv.submission else ""
    assert len(reference) == LENGTH == 8
    assert set(reference) <= set(ALPHABET)
    assert not set(reference) & set("0O1I")
    assert f"{reference[:4]}-{reference[4:]}" in chat.text
    assert REFERENCE.search(chat.text)
    assert "Bergen" in chat.text
    deadline = {NB: "28. februar 2026", NN: "28. februar 2026"}[language]
    assert deadline in chat.text
    complaint = {NB: "klage til statsforvalteren", NN: "klage til statsforvaltaren"}[language]
    assert complaint in chat.text
    assert chat.conv.submission is not None
    assert chat.conv.submission.submitted_at == NOW


@pytest.mark.parametrize(("sent", "deadline"), [
    (date(2026, 1, 31), date(2026, 2, 28)),
    (date(2024, 1, 31), date(2024, 2, 29)),
    (date(2026, 3, 31), date(2026, 4, 30)),
    (date(2026, 12, 15), date(2027, 1, 15)),
    (date(2026, 6, 1), date(2026, 7, 1)),
])
def test_the_deadline_is_one_month_later(sent: date, deadline: date) -> None:
    assert add_one_month(sent) == deadline


def test_status_before_and_after_sending() -> None:
    chat = at_review()
    chat.say("/status")
    assert chat.keys[0] == "status.not_sent"
    assert chat.step is Step.REVIEW
    assert chat.keys[-1] == "review.ask_send"
    chat.press(c.SEND.id)
    reference = chat.conv.submission.reference if chat.conv.submission else ""
    chat.say("/status")
    assert chat.keys[0] == "status.sent"
    assert f"{reference[:4]}-{reference[4:]}" in chat.text
    assert "31. januar 2026" in chat.text
    assert "28. februar 2026" in chat.text
    assert "/start" in chat.text


def test_start_after_sending_begins_a_new_draft() -> None:
    chat = at_review()
    chat.press(c.SEND.id)
    sent = chat.conv.submission
    chat.say("/start")
    assert chat.outcome.effects == [Effect.START_DRAFT]
    assert chat.step is Step.READ_INTRO
    assert chat.draft == DraftPlan()
    assert chat.conv.submission == sent
    assert not chat.conv.reached_review
    chat.press(c.CONTINUE.id)
    chat.press(c.CONSENT.id)
    chat.say("/status")
    assert chat.keys[0] == "status.sent"
    chat.press(c.NO_REMIND.id)
    chat.press(c.FOR_MYSELF.id)
    to_review(chat, municipality="Gulen")
    chat.press(c.SEND.id)
    assert chat.conv.submission is not None
    assert sent is not None
    assert chat.conv.submission.reference != sent.reference


def test_after_sending_nothing_goes_back() -> None:
    chat = at_review()
    chat.press(c.SEND.id)
    for command in ("/tilbake", "/endre", "/avbryt"):
        chat.say(command)
        assert chat.step is Step.SENT
        assert "/start" in chat.text
    chat.say("Hei igjen")
    assert chat.step is Step.SENT
    assert chat.keys[0] == "receipt.sent_to_unit"


# -- cancelling and erasing -----------------------------------------------------------------------

def test_cancel_asks_first_then_deletes_the_draft() -> None:
    chat = at_question(Step.ASK_WHAT_FIRST)
    chat.say("/avbryt")
    assert chat.step is Step.CONFIRM_CANCEL
    assert says(chat, "ask_confirm_cancel")
    chat.press(c.NO_KEEP_GOING.id)
    assert chat.step is Step.ASK_WHAT_FIRST
    assert len(chat.draft.answers) == 4
    chat.say("/avbryt")
    chat.press(c.YES_CANCEL.id)
    assert chat.step is Step.CANCELLED
    assert chat.outcome.effects == [Effect.DISCARD_DRAFT]
    assert chat.draft == DraftPlan()
    assert says(chat, "cancelled.resting")
    chat.say("/start")
    assert chat.step is Step.READ_INTRO


def test_cancel_while_switching_language_cancels_the_draft() -> None:
    chat = at_question(Step.ASK_WHAT_FIRST)
    chat.say("/sprak")
    chat.say("/avbryt")
    assert chat.step is Step.CONFIRM_CANCEL
    chat.press(c.NO_KEEP_GOING.id)
    assert chat.step is Step.ASK_WHAT_FIRST


def test_cancel_before_consent_has_nothing_to_cancel() -> None:
    chat = Chat()
    chat.press(NB.value)
    chat.say("/avbryt")
    assert chat.keys[0] == "cancel.nothing_to_cancel"
    assert chat.step is Step.READ_INTRO


def test_erase_asks_first_then_erases_everything() -> None:
    chat = at_review()
    chat.press(c.SEND.id)
    chat.say("/slett")
    assert chat.step is Step.CONFIRM_ERASE
    assert says(chat, "ask_confirm_erase")
    chat.press(c.NO_KEEP_GOING.id)
    assert chat.step is Step.SENT
    assert chat.conv.submission is not None
    chat.say("/slett")
    chat.press(c.YES_ERASE.id)
    assert chat.outcome.effects == [Effect.ERASE_EVERYTHING]
    assert chat.keys == ["erased"]
    assert "/start" in chat.text
    assert chat.step is Step.CHOOSE_LANGUAGE
    assert (chat.draft, chat.conv.submission, chat.conv.consented_at) == (DraftPlan(), None, None)


def test_erase_from_the_first_question_can_be_declined() -> None:
    chat = Chat()
    chat.say("/slett")
    chat.press(c.NO_KEEP_GOING.id)
    assert chat.step is Step.CHOOSE_LANGUAGE
    assert chat.keys == ["choose_language"]
    chat.say("/slett")
    chat.say("/tilbake")
    assert chat.step is Step.CHOOSE_LANGUAGE
    chat.say("/slett")
    chat.say("/avbryt")
    assert chat.keys[0] == "cancel.nothing_to_cancel"


# -- stale and wrong input ------------------------------------------------------------------------

@pytest.mark.parametrize(("where", "stale", "explained"), [
    (Step.ASK_STRENGTHS, c.SEND.id, "invalid.write_answer"),
    (Step.ASK_STRENGTHS, "morning", "invalid.write_answer"),
    (Step.CHOOSE_SERVICES, c.SEND.id, "invalid.choose_services"),
    (Step.CHOOSE_ROLE, c.CONSENT.id, "invalid.choose_option"),
    (Step.GIVE_PHONE, c.SEND.id, "invalid.write_phone"),
    (Step.GIVE_CONTACT_NAME, c.SEND.id, "invalid.write_name"),
    (Step.GIVE_MUNICIPALITY, c.SEND.id, "invalid.write_municipality"),
    (Step.REVIEW, c.DONE.id, "invalid.choose_option"),
])
def test_stale_choices_are_rejected(where: Step, stale: str, explained: str) -> None:
    chat = at_review()
    if where is not Step.REVIEW:
        chat.press(c.CHANGE_ANSWER.id)
        chat.press(where.value)
    before = (chat.step, chat.conv.draft.__dict__.copy(), chat.outcome.replies[-1])
    chat.send(ChoiceEvent(stale))
    assert chat.keys[0] == explained
    assert chat.outcome.replies[-1] == before[2]
    assert (chat.step, chat.conv.draft.__dict__) == before[:2]
    assert chat.conv.submission is None
    assert not chat.outcome.effects


def test_a_stale_send_before_the_review_sends_nothing() -> None:
    chat = at_question(Step.ASK_WHAT_IT_TAKES)
    chat.send(ChoiceEvent(c.SEND.id))
    assert chat.step is Step.ASK_WHAT_IT_TAKES
    assert chat.conv.submission is None
    assert Effect.SUBMIT not in chat.outcome.effects


def test_long_answers_are_refused() -> None:
    chat = at_question(Step.ASK_STRENGTHS)
    chat.say("x" * 4001)
    assert chat.keys[0] == "invalid.too_long"
    assert "4000" in chat.text
    assert chat.step is Step.ASK_STRENGTHS
