"""How each step reads what the person wrote or chose, as data for the dialog engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers

from dialogs import choices as c
from dialogs.draft import (
    Answer,
    Basis,
    Conversation,
    DraftPlan,
    Language,
    Relation,
    RequestKind,
    Role,
    Service,
)
from dialogs.events import ChoiceEvent, Option, ParamValue, Reply, TextEvent
from dialogs.municipalities import by_number, match_municipality
from dialogs.prompts import routing_options, service_options
from dialogs.review import relevant_editable_steps
from dialogs.routing import KIND_ASKED_AT
from dialogs.steps import QUESTION_STEPS, Step

PRIVACY_NOTICE_VERSION = "2026-11-23"
MAX_NAME_LENGTH = 80
MAX_ANSWER_LENGTH = 4000
MAX_SHORT_TEXT_LENGTH = 300


@dataclass(frozen=True)
class Advance:
    """Fire this trigger on the machine."""

    trigger: str = "proceed"


@dataclass(frozen=True)
class Stay:
    """Stay at the step: say these replies, then (if `ask_again`) the question again."""

    replies: list[Reply] = field(default_factory=list)
    ask_again: bool = True


@dataclass(frozen=True)
class Invalid:
    """The input does not fit: explain, then ask the same question again."""

    key: str
    params: dict[str, ParamValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Resume:
    """Go back to the step the person was at before an interruption."""


Result = Advance | Stay | Invalid | Resume
Input = TextEvent | ChoiceEvent
Reader = Callable[[Conversation, Input, datetime], Result]


def _choice(event: Input) -> str | None:
    return event.option if isinstance(event, ChoiceEvent) else None


def _text(event: Input) -> str | None:
    return event.text.strip() if isinstance(event, TextEvent) else None


def _pick(event: Input, options: tuple[Option, ...]) -> str | None:
    option = _choice(event)
    return option if option in {o.id for o in options} else None


def _expects_choice(key: str = "invalid.choose_option") -> Invalid:
    return Invalid(key)


def _read_language(conv: Conversation, event: Input, now: datetime) -> Result:
    picked = _pick(event, c.LANGUAGE_OPTIONS)
    if picked is None:
        return _expects_choice()
    conv.language = Language(picked)
    return Resume() if conv.return_to else Advance()


def _read_intro(conv: Conversation, event: Input, now: datetime) -> Result:
    return Advance() if _pick(event, (c.CONTINUE,)) else _expects_choice()


def _read_consent(conv: Conversation, event: Input, now: datetime) -> Result:
    picked = _pick(event, (c.CONSENT, c.DECLINE))
    if picked == c.CONSENT.id:
        conv.consented_at, conv.declined_at = now, None
        conv.consent_version = PRIVACY_NOTICE_VERSION
        return Advance("consent")
    if picked == c.DECLINE.id:
        conv.declined_at, conv.consented_at, conv.wants_reminder = now, None, None
        conv.draft = DraftPlan()
        return Advance("decline")
    return _expects_choice("invalid.consent")


def _read_resting(conv: Conversation, event: Input, now: datetime) -> Result:
    return Stay()


def _read_reminder(conv: Conversation, event: Input, now: datetime) -> Result:
    picked = _pick(event, (c.YES_REMIND, c.NO_REMIND))
    if picked is None:
        return _expects_choice()
    conv.wants_reminder = picked == c.YES_REMIND.id
    return Advance()


def _read_role(conv: Conversation, event: Input, now: datetime) -> Result:
    picked = _pick(event, (c.FOR_MYSELF, c.FOR_SOMEONE_ELSE))
    if picked is None:
        return _expects_choice()
    draft = conv.draft
    draft.role = Role(picked)
    if draft.role is Role.SELF:
        # Data minimisation: nothing about a relative is kept when there is none.
        draft.person_name = draft.relation = draft.basis = None
    return Advance()


def _valid_name(text: str) -> bool:
    return 0 < len(text) <= MAX_NAME_LENGTH and any(ch.isalpha() for ch in text)


def _read_name(setter: Callable[[DraftPlan, str], None],
               current: Callable[[DraftPlan], str | None]) -> Reader:
    def read(conv: Conversation, event: Input, now: datetime) -> Result:
        if _choice(event) == c.KEEP.id and current(conv.draft):
            return Advance()
        text = _text(event)
        if text is None:
            return Invalid("invalid.write_name")
        if not _valid_name(text):
            return Invalid("invalid.name", {"max": MAX_NAME_LENGTH})
        setter(conv.draft, " ".join(text.split()))
        return Advance()
    return read


def _set_person_name(draft: DraftPlan, name: str) -> None:
    draft.person_name = name


def _set_contact_name(draft: DraftPlan, name: str) -> None:
    draft.contact_name = name


def _read_enum(options: tuple[Option, ...], store: Callable[[DraftPlan, str], None]) -> Reader:
    def read(conv: Conversation, event: Input, now: datetime) -> Result:
        picked = _pick(event, options)
        if picked is None:
            return _expects_choice()
        store(conv.draft, picked)
        return Advance()
    return read


def _set_relation(draft: DraftPlan, value: str) -> None:
    draft.relation = Relation(value)


def _set_basis(draft: DraftPlan, value: str) -> None:
    draft.basis = Basis(value)


def _set_request(draft: DraftPlan, value: str) -> None:
    draft.request = RequestKind(value)


def _question_reader(step: Step) -> Reader:
    def read(conv: Conversation, event: Input, now: datetime) -> Result:
        answers = conv.draft.answers
        previous = answers.get(step)
        option = _choice(event)
        if option == c.SHOW_EXAMPLES.id:
            return Stay([Reply(f"examples.{step.value}")])
        if option == c.SKIP.id:
            answers[step] = Answer(None, previous.shared if previous else True)
            return Advance()
        if option == c.KEEP.id and previous and previous.text:
            return Advance()
        text = _text(event)
        if text is None:
            return _expects_choice("invalid.write_answer")
        if not text:
            return Invalid("invalid.empty_answer")
        if len(text) > MAX_ANSWER_LENGTH:
            return Invalid("invalid.too_long", {"max": MAX_ANSWER_LENGTH})
        answers[step] = Answer(text, previous.shared if previous else True)
        return Advance()
    return read


def _read_services(conv: Conversation, event: Input, now: datetime) -> Result:
    draft = conv.draft
    option = _pick(event, service_options(conv))
    if option is None:
        return _expects_choice("invalid.choose_services")
    if option == c.DONE.id:
        draft.services_answered = True
        return Advance()
    if option == c.SKIP.id:
        draft.services, draft.services_answered = [], False
        return Advance()
    service = Service(option)
    if service in draft.services:
        draft.services.remove(service)
    else:
        # Keep the order of the list the person saw, not the order of tapping.
        draft.services = [s for s in Service if s in {*draft.services, service}]
    return Stay()


def _read_coordinator_wish(conv: Conversation, event: Input, now: datetime) -> Result:
    draft = conv.draft
    picked = _pick(event, (c.YES_WISH, c.NO_WISH, c.SKIP))
    if picked is None:
        return _expects_choice()
    draft.wishes_coordinator = {c.YES_WISH.id: True, c.NO_WISH.id: False}.get(picked)
    if not draft.wishes_coordinator:
        draft.coordinator_wish = None
    return Advance()


def _read_coordinator_wish_text(conv: Conversation, event: Input, now: datetime) -> Result:
    if _choice(event) == c.KEEP.id and conv.draft.coordinator_wish:
        return Advance()
    text = _text(event)
    if not text:
        return Invalid("invalid.write_answer")
    if len(text) > MAX_SHORT_TEXT_LENGTH:
        return Invalid("invalid.too_long", {"max": MAX_SHORT_TEXT_LENGTH})
    conv.draft.coordinator_wish = text
    return Advance()


def normalize_phone(text: str) -> str | None:
    """A Norwegian phone number in international format, or None if it is not one."""
    try:
        number = phonenumbers.parse(text, "NO")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 47 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _read_phone(conv: Conversation, event: Input, now: datetime) -> Result:
    if _choice(event) == c.KEEP.id and conv.draft.phone:
        return Advance()
    text = _text(event)
    if text is None:
        return Invalid("invalid.write_phone")
    phone = normalize_phone(text)
    if phone is None:
        return Invalid("invalid.phone")
    conv.draft.phone = phone
    return Advance()


def _read_reach_time(conv: Conversation, event: Input, now: datetime) -> Result:
    draft = conv.draft
    option = _choice(event)
    if option == c.KEEP.id and draft.reach_time:
        return Advance()
    if option == c.SKIP.id:
        draft.reach_time = None
        return Advance()
    if option is not None:
        if _pick(event, c.REACH_TIME_OPTIONS) is None:
            return _expects_choice()
        draft.reach_time = option
        return Advance()
    text = _text(event) or ""
    if not text:
        return Invalid("invalid.write_answer")
    if len(text) > MAX_SHORT_TEXT_LENGTH:
        return Invalid("invalid.too_long", {"max": MAX_SHORT_TEXT_LENGTH})
    draft.reach_time = text
    return Advance()


def municipality_options(conv: Conversation) -> tuple[Option, ...]:
    found = [m for m in map(by_number, conv.municipality_suggestions) if m]
    return tuple(Option(f"municipality:{m.number}", "option.municipality",
                        {"name": m.name, "county": m.county}) for m in found)


def _read_municipality(conv: Conversation, event: Input, now: datetime) -> Result:
    draft = conv.draft
    option = _choice(event)
    if option == c.KEEP.id and draft.municipality_number:
        return Advance()
    if option is not None:
        picked = _pick(event, municipality_options(conv))
        if picked is None:
            return Invalid("invalid.write_municipality")
        _set_municipality(draft, picked.split(":", 1)[1])
        conv.municipality_suggestions = []
        return Advance()
    text = _text(event) or ""
    if not text:
        return Invalid("invalid.write_municipality")
    match = match_municipality(text)
    if match.found:
        _set_municipality(draft, match.found.number)
        conv.municipality_suggestions = []
        return Advance()
    if match.suggestions:
        conv.municipality_suggestions = [m.number for m in match.suggestions]
        return Stay([Reply("municipality.did_you_mean", {"text": text},
                           municipality_options(conv))], ask_again=False)
    return Invalid("municipality.not_found", {"text": text})


def _set_municipality(draft: DraftPlan, number: str) -> None:
    if number != draft.municipality_number:
        # Target groups and districts belong to one municipality's units.
        draft.target_group = draft.district = None
    draft.municipality_number = number


def _read_routing(conv: Conversation, event: Input, now: datetime) -> Result:
    picked = _pick(event, routing_options(conv))
    if picked is None:
        return _expects_choice()
    if KIND_ASKED_AT[conv.step] == "target_group":
        if picked != conv.draft.target_group:
            conv.draft.district = None  # another group may be routed without districts
        conv.draft.target_group = picked
    else:
        conv.draft.district = picked
    return Advance()


def _read_review(conv: Conversation, event: Input, now: datetime) -> Result:
    picked = _pick(event, (c.SEND, c.CHANGE_ANSWER, c.CHOOSE_SHARING))
    triggers = {c.SEND.id: "send", c.CHANGE_ANSWER.id: "change_answer",
                c.CHOOSE_SHARING.id: "choose_sharing"}
    return Advance(triggers[picked]) if picked else _expects_choice()


def _read_answer_to_edit(conv: Conversation, event: Input, now: datetime) -> Result:
    option = _choice(event)
    if option == c.BACK_TO_REVIEW.id:
        return Advance()
    steps = {step.value: step for step in relevant_editable_steps(conv.draft)}
    if option not in steps:
        return _expects_choice()
    conv.editing = True
    return Advance(f"edit_{option}")


def _read_sharing(conv: Conversation, event: Input, now: datetime) -> Result:
    option = _choice(event)
    if option == c.DONE.id:
        return Advance()
    steps = {step.value: step for step in QUESTION_STEPS}
    answer = conv.draft.answers.get(steps[option]) if option in steps else None
    if answer is None or answer.text is None:
        return _expects_choice()
    answer.shared = not answer.shared
    return Stay()


def _read_confirmation(conv: Conversation, event: Input, now: datetime) -> Result:
    picked = _choice(event)
    if picked == "yes":
        return Advance("confirm")
    if picked == c.NO_KEEP_GOING.id:
        return Resume()
    return _expects_choice()


READERS: dict[Step, Reader] = {
    Step.CHOOSE_LANGUAGE: _read_language,
    Step.READ_INTRO: _read_intro,
    Step.GIVE_CONSENT: _read_consent,
    Step.DECLINED: _read_resting,
    Step.CHOOSE_REMINDER: _read_reminder,
    Step.CHOOSE_ROLE: _read_role,
    Step.GIVE_PERSON_NAME: _read_name(_set_person_name, lambda d: d.person_name),
    Step.CHOOSE_RELATION: _read_enum(c.options_for(c.RELATION_LABELS), _set_relation),
    Step.CHOOSE_BASIS: _read_enum(c.options_for(c.BASIS_LABELS), _set_basis),
    Step.CHOOSE_REQUEST: _read_enum(c.options_for(c.REQUEST_LABELS), _set_request),
    **{step: _question_reader(step) for step in QUESTION_STEPS},
    Step.CHOOSE_SERVICES: _read_services,
    Step.CHOOSE_COORDINATOR_WISH: _read_coordinator_wish,
    Step.GIVE_COORDINATOR_WISH: _read_coordinator_wish_text,
    Step.GIVE_CONTACT_NAME: _read_name(_set_contact_name, lambda d: d.contact_name),
    Step.GIVE_PHONE: _read_phone,
    Step.GIVE_REACH_TIME: _read_reach_time,
    Step.GIVE_MUNICIPALITY: _read_municipality,
    Step.CHOOSE_TARGET_GROUP: _read_routing,
    Step.CHOOSE_DISTRICT: _read_routing,
    Step.REVIEW: _read_review,
    Step.CHOOSE_ANSWER_TO_EDIT: _read_answer_to_edit,
    Step.CHOOSE_SHARING: _read_sharing,
    Step.SENT: _read_resting,
    Step.CANCELLED: _read_resting,
    Step.CONFIRM_CANCEL: _read_confirmation,
    Step.CONFIRM_ERASE: _read_confirmation,
    Step.CONFIRM_WITHDRAW: _read_confirmation,
}
