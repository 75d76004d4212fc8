"""Routing through the real dialog and `bot.runner.DialogRunner`: the questions a municipality's
units need (Bergen: target group, then district where it matters; Gulen: none), the outbox entry
a sent request gets, and the saved draft of a municipality the directory does not know.

The expected unit of each answer is read straight from storage/data/units.toml here, not through
`storage.units.route`, so a routing bug cannot hide behind itself. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.runner import DialogRunner, Turn
from dialogs.draft import Conversation, Language
from dialogs.events import ChoiceEvent, Event, TextEvent
from dialogs.render import message
from dialogs.steps import Step
from storage.conversations import load_conversation
from storage.models import OutboxEntry, Submission
from storage.units import SHIPPED_FILE

NB, NN = Language.BOKMAL, Language.NYNORSK
CHANNEL = "terminal"
BERGEN, GULEN, OSLO = "4601", "4635", "0301"

DIRECTORY: dict[str, Any] = tomllib.loads(SHIPPED_FILE.read_text(encoding="utf-8"))
BERGEN_DISTRICTS: dict[str, str] = {
    d["id"]: d["name"] for m in DIRECTORY["municipalities"] if m["number"] == BERGEN
    for d in m["districts"]}
BERGEN_GROUPS: list[str] = sorted({
    group for unit in DIRECTORY["units"] if unit["municipality"] == BERGEN
    for route in unit.get("routes", []) for group in route.get("target_groups", [])})


def units_taking(municipality: str, group: str | None,
                 district: str | None) -> list[dict[str, Any]]:
    """The units of units.toml whose routes take this request."""
    def takes(route: dict[str, Any]) -> bool:
        groups, districts = route.get("target_groups", []), route.get("districts", [])
        return (not groups or group in groups) and (not districts or district in districts)
    return [unit for unit in DIRECTORY["units"] if unit["municipality"] == municipality
            and (not unit.get("routes") or any(takes(route) for route in unit["routes"]))]


def needs_district(group: str) -> bool:
    """Whether Bergen's units split this group by district (several units take it)."""
    return len({unit["id"] for district in BERGEN_DISTRICTS
                for unit in units_taking(BERGEN, group, district)}) > 1


def expected_unit(municipality: str, group: str | None,
                  district: str | None) -> dict[str, Any]:
    [unit] = units_taking(municipality, group, district)
    return unit


# -- a person in the terminal channel, through the runner -----------------------------------------

@dataclass
class Person:
    runner: DialogRunner
    chat_id: str
    language: Language = NB
    turns: list[Turn] = field(default_factory=list)

    def send(self, event: Event) -> Turn:
        turn = self.runner.handle(CHANNEL, self.chat_id, event)
        assert turn.replies[0].text != message(self.language, "error.internal")
        self.turns.append(turn)
        return turn

    def say(self, text: str) -> Turn:
        return self.send(TextEvent(text))

    def press(self, option: str) -> Turn:
        assert option in self.offered(), f"{option!r} not offered at {self.step}"
        return self.send(ChoiceEvent(option))

    def offered(self) -> dict[str, str]:
        return {o.id: o.label for reply in self.turns[-1].replies for o in reply.options}

    @property
    def step(self) -> Step:
        return self.turns[-1].step

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.turns[-1].replies)

    def says(self, key: str, **params: object) -> str:
        return message(self.language, key).format(**params)

    def play(self, events: Iterable[str]) -> Turn:
        """"text:..." is written, "/..." a command, anything else an option pressed."""
        for event in events:
            if event.startswith("text:"):
                self.say(event.removeprefix("text:"))
            elif event.startswith("/"):
                self.say(event)
            else:
                self.press(event)
        return self.turns[-1]

    def to_municipality(self) -> None:
        """From the first message to the question about the municipality, quickly."""
        self.say("/start")
        self.play([self.language.value, "continue", "consent", "no", "self",
                   "coordinator_only", *["/hopp"] * 6, "skip", "skip", "text:Ola Nordmann",
                   "text:912 34 567", "/hopp"])
        assert self.step is Step.GIVE_MUNICIPALITY

    def stored(self) -> Conversation:
        with Session(self.runner.engine) as session:
            return load_conversation(session, channel=CHANNEL, chat_id=self.chat_id)


def submission_and_outbox(engine: Engine, conversation: Conversation
                          ) -> tuple[Submission, list[OutboxEntry]]:
    assert conversation.submission is not None
    with Session(engine) as session:
        submission = session.exec(select(Submission).where(
            Submission.reference == conversation.submission.reference)).one()
        entries = list(session.exec(select(OutboxEntry).where(
            OutboxEntry.submission_id == submission.id)))
        return submission, entries


def assert_sent_to(person: Person, unit: dict[str, Any], group: str | None,
                   district: str | None) -> None:
    """The receipt names the unit; one pending outbox entry for it, with the routing answers."""
    assert person.step is Step.SENT
    assert unit["name"][person.language.value] in person.text
    conv = person.stored()
    submission, entries = submission_and_outbox(person.runner.engine, conv)
    assert (submission.status, submission.unit_id) == ("sent", unit["id"])
    assert [(e.unit_id, e.target_group, e.district, e.status) for e in entries] == [
        (unit["id"], group, district, "pending")]


@pytest.fixture
def person(runner: DialogRunner) -> Person:
    return Person(runner, "routing-1")


def test_the_directory_is_read_as_expected() -> None:
    """The expectations below come from units.toml: it has what these tests rely on."""
    assert len(BERGEN_DISTRICTS) == 8
    assert set(BERGEN_GROUPS) == {"elderly", "disabled", "somatic_illness", "unspecified",
                                  "intellectual_disability", "child_mental_health",
                                  "adult_mental_health"}
    by_district = [g for g in BERGEN_GROUPS if needs_district(g)]
    assert sorted(by_district) == ["disabled", "elderly", "somatic_illness", "unspecified"]


# -- Bergen: every target group and every district ------------------------------------------------

@pytest.mark.parametrize("group", BERGEN_GROUPS)
def test_every_bergen_target_group_and_district_reaches_its_unit(runner: DialogRunner,
                                                                  group: str) -> None:
    districts: list[str | None] = list(BERGEN_DISTRICTS) if needs_district(group) else [None]
    for number, district in enumerate(districts):
        person = Person(runner, f"bergen-{group}-{number}")
        person.to_municipality()
        person.say("Bergen")
        assert person.step is Step.CHOOSE_TARGET_GROUP
        assert person.says("ask_target_group.self") in person.text
        assert set(person.offered()) == set(BERGEN_GROUPS)
        person.press(group)
        if district is None:
            assert person.step is Step.REVIEW  # the whole city: no district asked
        else:
            assert person.step is Step.CHOOSE_DISTRICT
            assert person.offered() == BERGEN_DISTRICTS  # the place names themselves
            person.press(district)
            assert person.step is Step.REVIEW
            assert person.says("review.district", district=BERGEN_DISTRICTS[district]) \
                in person.text
        assert person.says("review.target_group",
                           group=message(NB, f"target_group.{group}")) in person.text
        person.press("send")
        assert_sent_to(person, expected_unit(BERGEN, group, district), group, district)


# -- Gulen: nothing to route by -------------------------------------------------------------------

@pytest.mark.parametrize("language", [NB, NN])
def test_gulen_asks_no_routing_questions(runner: DialogRunner, language: Language) -> None:
    person = Person(runner, f"gulen-{language.value}", language)
    person.to_municipality()
    person.say("Gulen")
    assert person.step is Step.REVIEW
    assert person.says("review.ask_send") in person.text
    person.press("send")
    unit = expected_unit(GULEN, None, None)
    assert_sent_to(person, unit, None, None)
    submission = person.stored().submission
    assert submission is not None
    reference = f"{submission.reference[:4]}-{submission.reference[4:]}"
    assert person.turns[-1].replies[0].text == person.says(
        "receipt.sent_to_unit", unit=unit["name"][language.value], municipality="Gulen",
        reference=reference)
    draft = person.stored().draft
    assert (draft.target_group, draft.district) == (None, None)


# -- a municipality not in the directory: a saved draft, the brochure's advice ---------------------

@pytest.mark.parametrize("language", [NB, NN])
def test_an_unknown_municipality_gets_a_saved_draft_and_advice(
        runner: DialogRunner, engine: Engine, language: Language) -> None:
    person = Person(runner, f"oslo-{language.value}", language)
    person.to_municipality()
    person.say("Oslo")
    assert person.step is Step.REVIEW  # no routing questions where no unit is known
    assert person.says("review.not_in_directory", municipality="Oslo") in person.text
    assert person.says("review.ask_save") in person.text
    assert person.offered()["send"] == message(language, "option.save")
    person.press("send")
    assert person.step is Step.SENT
    conv = person.stored()
    assert conv.submission is not None
    reference = f"{conv.submission.reference[:4]}-{conv.submission.reference[4:]}"
    texts = [reply.text for reply in person.turns[-1].replies]
    assert texts[0] == person.says("receipt.saved_not_sent", reference=reference,
                                   municipality="Oslo")
    # Seed 003: ask the coordinating unit; if you do not know how, ask health personnel or
    # call the municipality's switchboard.
    advice = {NB: ("koordinerende enhet", "helsepersonell", "sentralbordet i kommunen"),
              NN: ("koordinerande eining", "helsepersonell", "sentralbordet i kommunen")}
    assert texts[1] == person.says("receipt.how_to_reach_the_unit")
    assert all(words in texts[1] for words in advice[language])
    assert "/start" in texts[-1]
    submission, entries = submission_and_outbox(engine, conv)
    assert (submission.status, submission.unit_id, submission.municipality_number) == (
        "saved", None, OSLO)
    assert entries == []
    with Session(engine) as session:
        assert list(session.exec(select(OutboxEntry))) == []
    assert conv.submission.status == "saved"
    turn = person.say("/status")
    assert turn.replies[0].text == person.says(
        "status.saved", reference=reference,
        sent_on={NB: "31. januar 2026", NN: "31. januar 2026"}[language])


# -- changing and going back ----------------------------------------------------------------------

def to_review_in_bergen(person: Person, group: str = "elderly", district: str = "fana") -> None:
    person.to_municipality()
    person.say("Bergen")
    person.press(group)
    person.press(district)
    assert person.step is Step.REVIEW


def test_changing_the_municipality_at_the_review_resets_the_routing_answers(
        person: Person) -> None:
    to_review_in_bergen(person)
    person.press("change")
    assert {Step.CHOOSE_TARGET_GROUP.value, Step.CHOOSE_DISTRICT.value} <= set(person.offered())
    person.press(Step.GIVE_MUNICIPALITY.value)
    person.say("Gulen")
    assert person.step is Step.REVIEW
    draft = person.stored().draft
    assert (draft.municipality_number, draft.target_group, draft.district) == (GULEN, None, None)
    assert person.says("review.district", district="Fana") not in person.text
    person.press("change")
    assert not {Step.CHOOSE_TARGET_GROUP.value, Step.CHOOSE_DISTRICT.value} & set(
        person.offered())
    # Back to Bergen: the questions are asked again, with nothing chosen yet.
    person.press(Step.GIVE_MUNICIPALITY.value)
    person.say("Bergen")
    assert person.step is Step.CHOOSE_TARGET_GROUP
    assert not [label for label in person.offered().values() if label.startswith("✓")]
    person.press("disabled")
    assert person.step is Step.CHOOSE_DISTRICT
    assert not [label for label in person.offered().values() if label.startswith("✓")]
    person.press("laksevag")
    assert person.step is Step.REVIEW
    person.press("send")
    assert_sent_to(person, expected_unit(BERGEN, "disabled", "laksevag"), "disabled", "laksevag")


def test_the_same_municipality_again_keeps_the_routing_answers(person: Person) -> None:
    to_review_in_bergen(person)
    person.press("change")
    person.press(Step.GIVE_MUNICIPALITY.value)
    person.say("Bergen")
    assert person.step is Step.REVIEW
    draft = person.stored().draft
    assert (draft.target_group, draft.district) == ("elderly", "fana")


def test_changing_the_group_at_the_review_asks_the_district_only_where_needed(
        person: Person) -> None:
    to_review_in_bergen(person)
    person.press("change")
    person.press(Step.CHOOSE_TARGET_GROUP.value)
    assert person.offered()["elderly"].startswith("✓")
    person.press("child_mental_health")  # the whole city: no district
    assert person.step is Step.REVIEW
    assert (person.stored().draft.district) is None
    person.press("change")
    person.press(Step.CHOOSE_TARGET_GROUP.value)
    person.press("somatic_illness")  # by district again: asked, then back to the review
    assert person.step is Step.CHOOSE_DISTRICT
    person.press("arna")
    assert person.step is Step.REVIEW
    person.press("send")
    assert_sent_to(person, expected_unit(BERGEN, "somatic_illness", "arna"),
                   "somatic_illness", "arna")


def test_back_goes_through_the_routing_questions_showing_the_answers(person: Person) -> None:
    to_review_in_bergen(person)
    person.say("/tilbake")
    assert person.step is Step.CHOOSE_DISTRICT
    assert person.offered()["fana"] == person.says("option.selected", label="Fana")
    person.say("/tilbake")
    assert person.step is Step.CHOOSE_TARGET_GROUP
    offered = person.offered()
    assert set(offered) == set(BERGEN_GROUPS)  # the groups again, not the districts
    assert offered["elderly"] == person.says("option.selected",
                                             label=message(NB, "target_group.elderly"))
    person.say("/tilbake")
    assert person.step is Step.GIVE_MUNICIPALITY
    person.press("keep")
    assert person.step is Step.REVIEW  # both answers still given: not asked again
    person.say("/tilbake")
    assert person.step is Step.GIVE_MUNICIPALITY
    person.press("keep")
    person.press("send")
    assert_sent_to(person, expected_unit(BERGEN, "elderly", "fana"), "elderly", "fana")


def test_back_to_the_group_and_another_group_drops_the_district(person: Person) -> None:
    to_review_in_bergen(person)
    person.say("/tilbake")
    person.say("/tilbake")
    assert person.step is Step.CHOOSE_TARGET_GROUP
    person.press("adult_mental_health")
    assert person.step is Step.REVIEW  # the district is not asked for this group
    assert person.stored().draft.district is None
    assert person.says("review.district", district="Fana") not in person.text
    person.press("send")
    assert_sent_to(person, expected_unit(BERGEN, "adult_mental_health", None),
                   "adult_mental_health", None)


def test_back_from_an_open_district_question_asks_the_group(person: Person) -> None:
    person.to_municipality()
    person.say("Bergen")
    person.press("elderly")
    assert person.step is Step.CHOOSE_DISTRICT
    person.say("/tilbake")
    assert person.step is Step.CHOOSE_TARGET_GROUP
    assert set(person.offered()) == set(BERGEN_GROUPS)
    # A district where the group is asked is no answer (a stale button, say).
    before = person.stored().draft
    person.send(ChoiceEvent("fana"))
    assert person.step is Step.CHOOSE_TARGET_GROUP
    assert person.says("invalid.choose_option") in person.text
    assert person.stored().draft == before
    person.say("/tilbake")
    assert person.step is Step.GIVE_MUNICIPALITY
    person.press("keep")  # the group is chosen, the district is not: asked next
    assert person.step is Step.CHOOSE_DISTRICT
    person.press("ytrebygda")
    person.press("send")
    assert_sent_to(person, expected_unit(BERGEN, "elderly", "ytrebygda"), "elderly", "ytrebygda")


def test_routing_questions_cannot_be_skipped(person: Person) -> None:
    person.to_municipality()
    person.say("Bergen")
    person.say("/hopp")
    assert person.turns[-1].replies[0].text == person.says("skip.not_possible")
    assert person.step is Step.CHOOSE_TARGET_GROUP
    person.say("eldre")  # written, not pressed: the options are the answer
    assert person.step is Step.CHOOSE_TARGET_GROUP
    assert person.turns[-1].replies[0].text == person.says("invalid.choose_option")
    assert person.stored().draft.target_group is None
