"""Generated tests for every step of the conversation.

Each step is reached through the real dialog: a breadth-first walk from a fresh conversation
answers with the options each reply offers (or a plain text where text is asked for) and the
commands, and keeps the shortest path to every step, once for a person writing for themselves
and once for a relative. The dialog has the real units directory: the walk writes "Bergen", so
the routing questions (target group, then district) are asked, and a third walk writes "Oslo"
(not in the directory) at the municipality, so a draft that is saved, not sent, is tested too.
A second walk starts at the review, so each step is also tested after the review was reached.
From each reached step the commands (/tilbake, /hopp, /endre, /sprak, /avbryt, /slett,
/trekk_samtykke, /mine_data ...) and invalid input are tried. A new step in `Step` is picked up
by the walk, and `test_every_step_is_reached` fails if the walk cannot reach it.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from transitions.core import EventData, Transition

from dialogs import choices as c
from dialogs.draft import Conversation, DraftPlan, Language, Role
from dialogs.events import (
    ChoiceEvent,
    Effect,
    Event,
    Expect,
    Outcome,
    Reply,
    TextEvent,
    UnsupportedEvent,
)
from dialogs.flow import TRANSITIONS
from dialogs.machine import Dialog
from dialogs.municipalities import by_number
from dialogs.prompts import prompt_for
from dialogs.render import message, render
from dialogs.steps import EDITABLE_STEPS, QUESTION_STEPS, Step
from storage.units import RoutingStatus, default_directory, default_router, route

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
DIALOG = Dialog(router=default_router())

# What the walk writes where text is asked for: a valid name, answer and municipality at once
# (Bergen, whose units need a target group and, for some groups, a district).
WRITTEN = {Expect.TEXT: "Bergen", Expect.PHONE: "91234567"}
BERGEN = "4601"
# A municipality the units directory does not know: its draft is saved, not sent.
UNLISTED, UNLISTED_NUMBER = "Oslo", "0301"
COMMANDS = ("/tilbake", "/hopp", "/endre", "/sprak", "/avbryt", "/slett", "/start", "/status",
            "/hjelp", "/om", "/rettigheter", "/trekk_samtykke", "/mine_data")

# Spelled out here, not taken from the engine: where /avbryt has no draft to cancel, and the
# steps where a conversation rests until /start.
NOTHING_TO_CANCEL = frozenset({Step.CHOOSE_LANGUAGE, Step.READ_INTRO, Step.GIVE_CONSENT,
                               Step.DECLINED, Step.SENT, Step.CANCELLED})
RESTING = frozenset({Step.DECLINED, Step.SENT, Step.CANCELLED})
INTERRUPTIONS = frozenset({Step.CONFIRM_CANCEL, Step.CONFIRM_ERASE, Step.CONFIRM_WITHDRAW})
PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*\}")


# -- walking the dialog ---------------------------------------------------------------------------

def handle(conv: Conversation, event: Event) -> Outcome:
    return DIALOG.handle(conv, event, NOW)


def replay(path: tuple[Event, ...]) -> tuple[Conversation, list[Reply]]:
    conv = Conversation()
    replies = DIALOG.greet(conv).replies
    for event in path:
        replies = handle(conv, event).replies
    return conv, replies


def _offered(replies: list[Reply]) -> list[str]:
    ids: list[str] = []
    for reply in replies:
        ids.extend(o.id for o in reply.options if o.id not in ids)
    return ids


def _written(conv: Conversation, expect: Expect, municipality: str) -> str:
    return municipality if conv.step is Step.GIVE_MUNICIPALITY else WRITTEN[expect]


def _candidates(conv: Conversation, replies: list[Reply], role: Role,
                municipality: str) -> Iterator[Event]:
    other_role = {Role.SELF: Role.RELATIVE, Role.RELATIVE: Role.SELF}[role].value
    for option in _offered(replies):
        if not (conv.step is Step.CHOOSE_ROLE and option == other_role):
            yield ChoiceEvent(option)
    if replies and replies[-1].expect in WRITTEN:
        yield TextEvent(_written(conv, replies[-1].expect, municipality))
    for command in COMMANDS:
        yield TextEvent(command)


WALK_FAILURES: list[str] = []


def walk(start: tuple[Event, ...], role: Role,
         keep: Callable[[Conversation], bool] = lambda conv: True,
         municipality: str = "Bergen") -> dict[Step, tuple[Event, ...]]:
    """The shortest path from `start` to every step reachable with `keep` holding on the way."""
    conv, replies = replay(start)
    found = {conv.step: start}
    queue = deque([(start, conv, replies)])
    while queue:
        path, conv, replies = queue.popleft()
        for event in _candidates(conv, replies, role, municipality):
            twin = copy.deepcopy(conv)
            try:
                outcome = handle(twin, event)
            except Exception as error:  # reported by test_the_walk_never_fails
                WALK_FAILURES.append(f"{conv.step.value} + {event}: {error!r}")
                continue
            if twin.step in found or not keep(twin):
                continue
            found[twin.step] = (*path, event)
            queue.append((found[twin.step], twin, outcome.replies))
    return found


@dataclass(frozen=True)
class Case:
    step: Step
    variant: str
    path: tuple[Event, ...]

    def __str__(self) -> str:
        return f"{self.step.value}-{self.variant}"


@cache
def all_cases() -> tuple[Case, ...]:
    cases: list[Case] = []
    for role in Role:
        for step, path in walk((), role).items():
            conv, _ = replay(path)
            if conv.draft.role is None:
                # Reached before the role is chosen: the same for both roles, tested once.
                if role is Role.SELF:
                    cases.append(Case(step, "before-role", path))
                continue
            cases.append(Case(step, role.value, path))
    for role in Role:
        review = next(case for case in cases
                      if case.step is Step.REVIEW and case.variant == role.value)
        for step, path in walk(review.path, role, lambda conv: conv.reached_review).items():
            cases.append(Case(step, f"{role.value}-after-review", path))
        # Each answer the review offers to change, opened from the review (editing), on a draft
        # that wishes for a coordinator and has a target group routed by district (Bergen), so
        # that the wish, the group and the district are among them.
        wish = next(case for case in cases
                    if case.step is Step.GIVE_COORDINATOR_WISH and case.variant == role.value)
        to_district = walk(wish.path, role)[Step.CHOOSE_DISTRICT]
        to_review = (*to_district, ChoiceEvent(_offered(replay(to_district)[1])[0]))
        assert replay(to_review)[0].step is Step.REVIEW
        change = (*to_review, ChoiceEvent(c.CHANGE_ANSWER.id))
        for option in _offered(replay(change)[1]):
            if option != c.BACK_TO_REVIEW.id:
                cases.append(Case(Step(option), f"{role.value}-editing",
                                  (*change, ChoiceEvent(option))))
    # A municipality the directory does not know: no routing questions, a saved draft. Every
    # step reachable once it is written, for a person writing for themselves.
    municipality = next(case for case in cases
                        if case.step is Step.GIVE_MUNICIPALITY and case.variant == "self")
    unlisted = walk((*municipality.path, TextEvent(UNLISTED)), Role.SELF,
                    lambda conv: conv.draft.municipality_number == UNLISTED_NUMBER,
                    municipality=UNLISTED)
    for step, path in unlisted.items():
        cases.append(Case(step, "self-unlisted", path))
    # Back from the district to the municipality, the target group still chosen: the same
    # municipality again goes straight on to the district.
    district = next(case for case in cases
                    if case.step is Step.CHOOSE_DISTRICT and case.variant == "self")
    cases.append(Case(Step.GIVE_MUNICIPALITY, "self-group-chosen",
                      (*district.path, TextEvent("/tilbake"), TextEvent("/tilbake"))))
    return tuple(cases)


CASES = all_cases()


@cache
def _arrived(case: Case) -> tuple[Conversation, list[Reply]]:
    return replay(case.path)


def arrive(case: Case) -> tuple[Conversation, Conversation]:
    """A conversation at the case's step, and an untouched copy to compare with."""
    conv, _ = _arrived(case)
    return copy.deepcopy(conv), copy.deepcopy(conv)


# -- what every reply must be ---------------------------------------------------------------------

def keys(outcome: Outcome) -> list[str]:
    return [reply.key for reply in outcome.replies]


def assert_renders(replies: list[Reply]) -> None:
    for language in Language:
        for reply in replies:
            shown = render(language, reply)
            for text in (shown.text, *(option.label for option in shown.options)):
                assert text.strip(), f"{reply.key} renders empty in {language.value}"
                assert not PLACEHOLDER.search(text), f"{reply.key} in {language.value}: {text!r}"


def assert_leads_on(replies: list[Reply]) -> None:
    """Never a dead end: options, a question to write to, or a word on how to go on."""
    assert replies, "no reply at all"
    last = replies[-1]
    assert last.options or last.expect in (Expect.TEXT, Expect.PHONE) \
        or "/start" in render(Language.BOKMAL, last).text, f"dead end after {last.key}"


def assert_asks_again(outcome: Outcome, before: Conversation, after: Conversation,
                      explanation: str | None) -> None:
    """An explanation, then the very question the person was at, with nothing changed.

    `explanation` is the message key, or a prefix ending in "." ("invalid."), or None for none.
    """
    prompt = prompt_for(before)
    assert outcome.replies[len(outcome.replies) - len(prompt):] == prompt
    said = [reply.key for reply in outcome.replies[:len(outcome.replies) - len(prompt)]]
    if explanation is None:
        assert said == []
    elif explanation.endswith("."):
        assert len(said) == 1
        assert said[0].startswith(explanation), said
    else:
        assert said == [explanation]
    assert after.step is before.step
    assert after.draft == before.draft
    assert not outcome.effects


def _written_answer(step: Step, draft: DraftPlan, language: Language) -> str | None:
    if step in QUESTION_STEPS:
        answer = draft.answers.get(step)
        return answer.text if answer else None
    if step is Step.GIVE_REACH_TIME and draft.reach_time:
        presets = {option.id: option.key for option in c.REACH_TIME_OPTIONS}
        preset = presets.get(draft.reach_time)
        return message(language, preset) if preset else draft.reach_time
    if step is Step.GIVE_MUNICIPALITY:
        municipality = by_number(draft.municipality_number or "")
        return municipality.name if municipality else None
    return {
        Step.GIVE_PERSON_NAME: draft.person_name,
        Step.GIVE_COORDINATOR_WISH: draft.coordinator_wish,
        Step.GIVE_CONTACT_NAME: draft.contact_name,
        Step.GIVE_PHONE: draft.phone,
    }.get(step)


def _chosen(conv: Conversation) -> set[str] | None:
    def one(value: Any) -> set[str] | None:
        return {value.value} if value is not None else None
    step, draft = conv.step, conv.draft
    if step is Step.CHOOSE_REMINDER:
        wants = conv.wants_reminder
        return None if wants is None else {c.YES_REMIND.id if wants else c.NO_REMIND.id}
    if step is Step.CHOOSE_SERVICES:
        return {service.value for service in draft.services}
    if step is Step.CHOOSE_COORDINATOR_WISH:
        wishes = draft.wishes_coordinator
        return None if wishes is None else {c.YES_WISH.id if wishes else c.NO_WISH.id}
    if step is Step.CHOOSE_TARGET_GROUP:
        return {draft.target_group} if draft.target_group else None
    if step is Step.CHOOSE_DISTRICT:
        return {draft.district} if draft.district else None
    return one({Step.CHOOSE_ROLE: draft.role, Step.CHOOSE_RELATION: draft.relation,
                Step.CHOOSE_BASIS: draft.basis, Step.CHOOSE_REQUEST: draft.request}.get(step))


def assert_shows_earlier_answer(conv: Conversation, replies: list[Reply]) -> None:
    """At a step that already has an answer, the question shows it, ready to keep or change."""
    language = conv.language or Language.BOKMAL
    written = _written_answer(conv.step, conv.draft, language)
    if written:
        texts = [render(language, reply).text for reply in replies]
        assert any(written in text for text in texts), f"{written!r} not shown at {conv.step}"
        assert c.KEEP.id in {o.id for o in replies[-1].options}
    chosen = _chosen(conv)
    if chosen is not None:
        options = render(language, replies[-1]).options
        ticked = {o.id for o in options if o.label.startswith("✓")}
        assert ticked == chosen, f"{conv.step}: ticked {ticked}, chosen {chosen}"


# -- the checks, one per command or kind of input -------------------------------------------------

def check_arrival(case: Case) -> None:
    conv, replies = _arrived(case)
    assert conv.step is case.step
    if case.variant == "self-group-chosen":
        assert (conv.draft.municipality_number, conv.draft.district) == (BERGEN, None)
        assert conv.draft.target_group is not None
    assert_renders(replies)
    assert_leads_on(replies)
    assert_renders(prompt_for(conv))
    assert_shows_earlier_answer(conv, prompt_for(conv))


def check_back(case: Case) -> None:
    conv, before = arrive(case)
    outcome = handle(conv, TextEvent("/tilbake"))
    if before.step in INTERRUPTIONS or before.return_to is not None:
        # Back from an interruption returns to the step it interrupted.
        assert conv.step is (before.return_to or Step.CHOOSE_LANGUAGE)
        assert outcome.replies == prompt_for(conv)
        assert conv.draft == before.draft
        assert conv.return_to is None
    elif before.step in (Step.SENT, Step.CANCELLED) or not before.history:
        assert_asks_again(outcome, before, conv, "back.not_possible")
    else:
        assert conv.step is before.history[-1]
        assert outcome.replies == prompt_for(conv)
        assert conv.draft == before.draft
        assert_shows_earlier_answer(conv, outcome.replies)
    assert_renders(outcome.replies)
    assert_leads_on(outcome.replies)


def check_skip(case: Case) -> None:
    conv, before = arrive(case)
    outcome = handle(conv, TextEvent("/hopp"))
    if c.SKIP.id in {o.id for o in prompt_for(before)[-1].options}:
        # /hopp is the same as pressing "Vet ikke nå".
        twin = copy.deepcopy(before)
        pressed = handle(twin, ChoiceEvent(c.SKIP.id))
        assert conv.step is twin.step
        assert conv.step is not before.step
        assert conv.draft == twin.draft
        assert outcome.replies == pressed.replies
    else:
        assert_asks_again(outcome, before, conv, "skip.not_possible")
    assert_renders(outcome.replies)
    assert_leads_on(outcome.replies)


def check_edit(case: Case) -> None:
    conv, before = arrive(case)
    outcome = handle(conv, TextEvent("/endre"))
    if before.reached_review and before.step not in RESTING:
        assert conv.step is Step.REVIEW
        assert outcome.replies == prompt_for(conv)
        assert conv.draft == before.draft
        # And /tilbake from the review leads to where the person was (not to an interruption).
        origin = before.return_to or before.step
        if origin is not Step.REVIEW:
            handle(conv, TextEvent("/tilbake"))
            assert conv.step is origin
    else:
        assert_asks_again(outcome, before, conv, "edit.not_yet")
    assert_renders(outcome.replies)
    assert_leads_on(outcome.replies)


INVALID_INPUT: dict[str, Event] = {
    "stale-choice": ChoiceEvent("no-such-option"),
    "empty-text": TextEvent(""),
    "blank-text": TextEvent("   "),
    "sticker": UnsupportedEvent(),
    "unknown-command": TextEvent("/finnesikke"),
}


def _check_invalid(kind: str) -> Callable[[Case], None]:
    def check(case: Case) -> None:
        conv, before = arrive(case)
        outcome = handle(conv, INVALID_INPUT[kind])
        if kind == "sticker":
            assert_asks_again(outcome, before, conv, "invalid.unsupported")
        elif kind == "unknown-command":
            assert_asks_again(outcome, before, conv, "unknown_command")
        elif before.step in RESTING:
            # Resting: the resting message itself says how to go on.
            assert_asks_again(outcome, before, conv, None)
        else:
            assert_asks_again(outcome, before, conv, "invalid.")
        assert_renders(outcome.replies)
        assert_leads_on(outcome.replies)
    return check


def check_language_switch(case: Case) -> None:
    conv, before = arrive(case)
    outcome = handle(conv, TextEvent("/sprak"))
    assert conv.step is Step.CHOOSE_LANGUAGE
    assert outcome.replies == prompt_for(conv)
    other = Language.NYNORSK if before.language is not Language.NYNORSK else Language.BOKMAL
    outcome = handle(conv, ChoiceEvent(other.value))
    assert conv.language is other
    origin = before.return_to or before.step
    if origin in INTERRUPTIONS or origin is Step.CHOOSE_LANGUAGE:
        # Nothing interrupted but the first language choice: it goes on to the introduction.
        assert conv.step is Step.READ_INTRO
    else:
        assert conv.step is origin
        assert outcome.replies == prompt_for(conv)
    assert conv.draft == before.draft
    assert conv.return_to is None
    assert_renders(outcome.replies)
    assert_leads_on(outcome.replies)


def check_cancel(case: Case) -> None:
    conv, before = arrive(case)
    outcome = handle(conv, TextEvent("/avbryt"))
    origin = before.return_to or before.step
    if origin in NOTHING_TO_CANCEL:
        assert_asks_again(outcome, before, conv, "cancel.nothing_to_cancel")
        return
    assert conv.step is Step.CONFIRM_CANCEL
    assert outcome.replies == prompt_for(conv)
    assert not outcome.effects
    twin = copy.deepcopy(conv)
    outcome = handle(conv, ChoiceEvent(c.NO_KEEP_GOING.id))
    assert conv.step is origin
    assert conv.draft == before.draft
    assert outcome.replies == prompt_for(conv)
    outcome = handle(twin, ChoiceEvent(c.YES_CANCEL.id))
    assert twin.step is Step.CANCELLED
    assert outcome.effects == [Effect.DISCARD_DRAFT]
    assert twin.draft == DraftPlan()
    assert keys(outcome) == ["cancelled.resting"]
    assert_leads_on(outcome.replies)


def check_erase(case: Case) -> None:
    conv, before = arrive(case)
    outcome = handle(conv, TextEvent("/slett"))
    assert conv.step is Step.CONFIRM_ERASE
    assert outcome.replies == prompt_for(conv)
    assert not outcome.effects
    twin = copy.deepcopy(conv)
    outcome = handle(conv, ChoiceEvent(c.NO_KEEP_GOING.id))
    origin = before.return_to or before.step
    assert conv.step is (Step.CHOOSE_LANGUAGE if origin in INTERRUPTIONS else origin)
    assert conv.draft == before.draft
    assert outcome.replies == prompt_for(conv)
    outcome = handle(twin, ChoiceEvent(c.YES_ERASE.id))
    assert outcome.effects == [Effect.ERASE_EVERYTHING]
    assert keys(outcome) == ["erased"]
    assert twin.step is Step.CHOOSE_LANGUAGE
    assert (twin.draft, twin.history, twin.submission, twin.consented_at) == (
        DraftPlan(), [], None, None)
    assert_renders(outcome.replies)
    assert_leads_on(outcome.replies)


def check_withdraw(case: Case) -> None:
    conv, before = arrive(case)
    outcome = handle(conv, TextEvent("/trekk_samtykke"))
    if before.consented_at is None:
        assert_asks_again(outcome, before, conv, "consent.nothing_to_withdraw")
        return
    assert conv.step is Step.CONFIRM_WITHDRAW
    assert outcome.replies == prompt_for(conv)
    assert not outcome.effects
    twin = copy.deepcopy(conv)
    outcome = handle(conv, ChoiceEvent(c.NO_KEEP_GOING.id))
    origin = before.return_to or before.step
    assert conv.step is (Step.CHOOSE_LANGUAGE if origin in INTERRUPTIONS else origin)
    assert conv.draft == before.draft
    assert conv.consented_at == before.consented_at
    assert outcome.replies == prompt_for(conv)
    assert not outcome.effects
    outcome = handle(twin, ChoiceEvent(c.YES_WITHDRAW.id))
    assert outcome.effects == [Effect.WITHDRAW_CONSENT]
    assert outcome.replies[0].key == "consent.withdrawn"
    assert twin.step is Step.DECLINED
    assert (twin.draft, twin.history, twin.return_to) == (DraftPlan(), [], None)
    assert (twin.consented_at, twin.declined_at, twin.wants_reminder) == (None, NOW, None)
    assert not twin.reached_review
    assert twin.submission == before.submission  # what was sent stays the unit's
    assert_renders(outcome.replies)
    assert_leads_on(outcome.replies)


def check_my_data(case: Case) -> None:
    conv, before = arrive(case)
    outcome = handle(conv, TextEvent("/mine_data"))
    assert outcome.effects == [Effect.EXPORT_MY_DATA]
    assert outcome.replies[0].key == "my_data.sent"
    assert outcome.replies[1:] == prompt_for(before)
    assert conv.step is before.step
    assert conv.draft == before.draft
    assert_renders(outcome.replies)
    assert_leads_on(outcome.replies)


def _check_informing(command: str, first_key: str) -> Callable[[Case], None]:
    def check(case: Case) -> None:
        conv, before = arrive(case)
        outcome = handle(conv, TextEvent(command))
        assert outcome.replies[0].key == first_key
        assert conv.step is before.step
        assert conv.draft == before.draft
        assert_renders(outcome.replies)
        assert_leads_on(outcome.replies)
    return check


def check_status(case: Case) -> None:
    conv, before = arrive(case)
    outcome = handle(conv, TextEvent("/status"))
    if before.submission is None:
        expected = "status.not_sent"
    elif case.variant == "self-unlisted":
        expected = "status.saved"  # Oslo is not in the units directory: nothing was sent
    else:
        expected = "status.sent"
    assert outcome.replies[0].key == expected
    assert conv.step is before.step
    assert_renders(outcome.replies)
    assert_leads_on(outcome.replies)


def check_start(case: Case) -> None:
    conv, before = arrive(case)
    outcome = handle(conv, TextEvent("/start"))
    if before.step in RESTING:
        assert outcome.effects == [Effect.START_DRAFT]
        assert conv.step is Step.READ_INTRO
        assert conv.draft == DraftPlan()
        assert conv.submission == before.submission
    elif before == Conversation(turn=before.turn):
        assert outcome.replies == prompt_for(before)
    else:
        # /start in the middle greets and asks the same question again; nothing is lost.
        assert outcome.replies[0].key == "welcome_back"
        assert outcome.replies[1:] == prompt_for(before)
        assert conv.step is before.step
        assert conv.draft == before.draft
    assert_renders(outcome.replies)
    assert_leads_on(outcome.replies)


def check_answers(case: Case) -> None:
    """Every option offered, and a written answer where one is asked for, leads on."""
    start, replies = _arrived(case)
    answers: list[Event] = [ChoiceEvent(option) for option in _offered(replies)]
    if replies[-1].expect in WRITTEN:
        answers.append(TextEvent(WRITTEN[replies[-1].expect]))
    for event in answers:
        conv = copy.deepcopy(start)
        outcome = handle(conv, event)
        assert outcome.replies, event
        assert_renders(outcome.replies)
        assert_leads_on(outcome.replies)


CHECKS: dict[str, Callable[[Case], None]] = {
    "arrival": check_arrival,
    "back": check_back,
    "skip": check_skip,
    "edit": check_edit,
    **{f"invalid-{kind}": _check_invalid(kind) for kind in INVALID_INPUT},
    "language": check_language_switch,
    "cancel": check_cancel,
    "erase": check_erase,
    "withdraw": check_withdraw,
    "my-data": check_my_data,
    "help": _check_informing("/hjelp", "help.commands"),
    "about": _check_informing("/om", "intro.what_is_a_plan"),
    "rights": _check_informing("/rettigheter", "rights.plan"),
    "status": check_status,
    "start": check_start,
    "answers": check_answers,
}


# -- the tests ------------------------------------------------------------------------------------

def test_the_walk_never_fails() -> None:
    assert CASES
    assert not WALK_FAILURES


def test_every_step_is_reached() -> None:
    assert {case.step for case in CASES} == set(Step)
    assert set(DIALOG.machine.states) == {step.name for step in Step}


def test_steps_for_a_relative_are_reached_only_as_a_relative() -> None:
    relative_only = {Step.GIVE_PERSON_NAME, Step.CHOOSE_RELATION, Step.CHOOSE_BASIS}
    by_variant: dict[str, set[Step]] = {}
    for case in CASES:
        by_variant.setdefault(case.variant, set()).add(case.step)
    assert relative_only <= by_variant["relative"]
    assert not relative_only & by_variant["self"]
    assert set(EDITABLE_STEPS) <= by_variant["relative-after-review"]
    assert set(EDITABLE_STEPS) - relative_only <= by_variant["self-after-review"]
    # Every answer the review lists can be changed.
    assert set(EDITABLE_STEPS) == by_variant["relative-editing"]
    assert set(EDITABLE_STEPS) - relative_only == by_variant["self-editing"]


def test_routing_steps_are_reached_for_bergen_only_and_an_unlisted_municipality_saves() -> None:
    by_variant: dict[str, dict[Step, Case]] = {}
    for case in CASES:
        by_variant.setdefault(case.variant, {})[case.step] = case
    routing = {Step.CHOOSE_TARGET_GROUP, Step.CHOOSE_DISTRICT}
    for variant in ("self", "relative"):
        assert routing <= set(by_variant[variant])
        conv, _ = _arrived(by_variant[variant][Step.SENT])
        assert conv.draft.municipality_number == BERGEN
        assert conv.submission is not None
        assert conv.submission.status == "sent"
        assert conv.draft.target_group is not None
        routed = route(default_directory(), BERGEN, conv.draft.target_group, conv.draft.district)
        assert routed.status is RoutingStatus.ROUTED
        assert routed.unit is not None
        assert conv.submission.unit_name == routed.unit.name(conv.language or Language.BOKMAL)
    unlisted = by_variant["self-unlisted"]
    assert {Step.REVIEW, Step.SENT} <= set(unlisted)
    assert not routing & set(unlisted)
    conv, replies = _arrived(unlisted[Step.SENT])
    assert conv.submission is not None
    assert (conv.submission.status, conv.submission.unit_name) == ("saved", None)
    assert [reply.key for reply in replies] == ["receipt.saved_not_sent",
                                                "receipt.how_to_reach_the_unit", "receipt.next"]


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("case", CASES, ids=str)
def test_step(case: Case, check: str) -> None:
    CHECKS[check](case)


# -- every row of the transition table is used ----------------------------------------------------

# Trigger, source, dest and the transition's conditions (`transitions` takes names or callables).
Fired = tuple[str, str, str, tuple[str | Callable[..., bool | None], ...]]


@contextmanager
def recording_transitions(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[Fired]]:
    fired: set[Fired] = set()
    original = Transition.execute

    def execute(self: Transition, event_data: EventData) -> bool:
        done = original(self, event_data)
        if done:
            assert self.dest is not None  # every row of TRANSITIONS has a dest
            conditions = tuple(condition.func for condition in self.conditions)
            fired.add((event_data.event.name, self.source, self.dest, conditions))
        return done

    monkeypatch.setattr(Transition, "execute", execute)
    yield fired


def _row_conditions(row: dict[str, Any]) -> tuple[str, ...]:
    conditions = row.get("conditions", ())
    return (conditions,) if isinstance(conditions, str) else tuple(conditions)


def _row_sources(row: dict[str, Any]) -> set[str] | None:
    """The step names a row leaves from; None for "*" (any step)."""
    source = row["source"]
    if source == "*":
        return None
    return {step.name for step in (source if isinstance(source, list) else [source])}


def _rows_of(fired: Fired) -> list[int]:
    trigger, source, dest, conditions = fired
    return [index for index, row in enumerate(TRANSITIONS)
            if row["trigger"] == trigger and row["dest"].name == dest
            and _row_conditions(row) == conditions
            and (_row_sources(row) is None or source in (_row_sources(row) or set()))]


def restart_without_language(step: Step) -> Outcome:
    """/start at a resting step of a conversation that has no language.

    No path through the dialog rests without a language (it is the first choice, and an erasure
    leaves no conversation behind); this is the table's fallback for one stored without it.
    """
    conv = Conversation(step=step, history=[Step.GIVE_CONSENT])
    outcome = handle(conv, TextEvent("/start"))
    assert conv.step is Step.CHOOSE_LANGUAGE
    assert outcome.effects == [Effect.START_DRAFT]
    return outcome


@pytest.mark.parametrize("step", sorted(RESTING))
def test_restart_without_a_language_asks_for_it(step: Step) -> None:
    assert restart_without_language(step).replies == [Reply("choose_language", {},
                                                            c.LANGUAGE_OPTIONS, Expect.CHOICE)]


def test_every_transition_row_is_exercised(monkeypatch: pytest.MonkeyPatch) -> None:
    with recording_transitions(monkeypatch) as fired:
        for case in CASES:
            replay(case.path)  # the paths themselves (arrivals are cached outside this test)
            for check in CHECKS.values():
                check(case)
        for step in RESTING:
            restart_without_language(step)
    used: dict[int, set[str]] = {}
    for transition in fired:
        rows = _rows_of(transition)
        assert len(rows) == 1, f"{transition} matches rows {rows}"
        used.setdefault(rows[0], set()).add(transition[1])
    for index, row in enumerate(TRANSITIONS):
        sources = _row_sources(row)
        if sources is None:
            assert used.get(index), f"row {index} ({row['trigger']} from any step) never fired"
        else:
            missing = sources - used.get(index, set())
            assert not missing, f"row {index} ({row['trigger']} -> {row['dest'].name}) " \
                                f"never fired from {sorted(missing)}"
