"""What the assistant says when the person arrives at a step: the question and its options."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dialogs import choices as c
from dialogs.draft import Conversation, DraftPlan, Role
from dialogs.events import Expect, Label, Option, ParamValue, Reply
from dialogs.municipalities import by_number
from dialogs.review import (
    editable_options,
    reach_time_value,
    receipt,
    review_lines,
    sharing_options,
)
from dialogs.routing import KIND_ASKED_AT, RoutingQuestion, pending_question
from dialogs.steps import QUESTION_STEPS, Step

Prompt = Callable[[Conversation], list[Reply]]


def phrased(draft: DraftPlan, key: str) -> tuple[str, dict[str, ParamValue]]:
    """The self or relative variant of a message: two whole sentences in the catalogs."""
    if draft.role is Role.RELATIVE and draft.person_name:
        return f"{key}.relative", {"name": draft.person_name}
    return f"{key}.self", {}


def ask(conv: Conversation, key: str, options: tuple[Option, ...] = (), *,
        expect: Expect = Expect.CHOICE, params: Mapping[str, ParamValue] | None = None) -> Reply:
    return Reply(key, dict(params or {}), options, expect)


def _marked(options: tuple[Option, ...], chosen: str | None) -> tuple[Option, ...]:
    """The options with the current choice ticked, so going back or editing shows it."""
    return tuple(Option(o.id, "option.selected", {"label": Label(o.key)}) if o.id == chosen
                 else o for o in options)


def _previous_text(value: str | None) -> list[Reply]:
    return [Reply("previous_answer", {"answer": value})] if value else []


def _choose_language(conv: Conversation) -> list[Reply]:
    return [ask(conv, "choose_language", c.LANGUAGE_OPTIONS)]


def _read_intro(conv: Conversation) -> list[Reply]:
    return [Reply("intro.what_is_a_plan"), Reply("intro.what_is_a_coordinator"),
            ask(conv, "intro.what_happens_here", (c.CONTINUE,))]


def _give_consent(conv: Conversation) -> list[Reply]:
    # The privacy notice; PRIVACY.md says the same at length.
    return [Reply("privacy.what_is_stored", {"days": conv.draft_retention_days}),
            Reply("privacy.who_receives"),
            Reply("privacy.how_long", {"days": conv.request_retention_days}),
            Reply("privacy.your_rights"),
            Reply("privacy.telegram_caveat"),
            ask(conv, "privacy.ask_consent", (c.CONSENT, c.DECLINE))]


def _declined(conv: Conversation) -> list[Reply]:
    return [Reply("declined.resting")]


def _choose_reminder(conv: Conversation) -> list[Reply]:
    chosen = (None if conv.wants_reminder is None
              else c.YES_REMIND.id if conv.wants_reminder else c.NO_REMIND.id)
    return [Reply("reminder.explained", {"days": conv.draft_retention_days}),
            ask(conv, "ask_reminder", _marked((c.YES_REMIND, c.NO_REMIND), chosen))]


def _choose_role(conv: Conversation) -> list[Reply]:
    role = conv.draft.role
    return [ask(conv, "ask_role", _marked((c.FOR_MYSELF, c.FOR_SOMEONE_ELSE),
                                          role.value if role else None))]


def _give_person_name(conv: Conversation) -> list[Reply]:
    return [*_previous_text(conv.draft.person_name),
            ask(conv, "ask_person_name", _keep_if(conv.draft.person_name), expect=Expect.TEXT)]


def _choose_relation(conv: Conversation) -> list[Reply]:
    relation = conv.draft.relation
    return [ask(conv, "ask_relation", _marked(c.options_for(c.RELATION_LABELS),
                                              relation.value if relation else None),
                params={"name": conv.draft.person_name or ""})]


def _choose_basis(conv: Conversation) -> list[Reply]:
    basis = conv.draft.basis
    return [ask(conv, "ask_basis", _marked(c.options_for(c.BASIS_LABELS),
                                           basis.value if basis else None),
                params={"name": conv.draft.person_name or ""})]


def _choose_request(conv: Conversation) -> list[Reply]:
    key, params = phrased(conv.draft, "ask_request")
    request = conv.draft.request
    return [Reply("request.explained"),
            ask(conv, key, _marked(c.options_for(c.REQUEST_LABELS),
                                   request.value if request else None), params=params)]


def question_prompt(step: Step) -> Prompt:
    def prompt(conv: Conversation) -> list[Reply]:
        key, params = phrased(conv.draft, f"question.{step.value}")
        answer = conv.draft.answers.get(step)
        previous = answer.text if answer else None
        options = (c.SHOW_EXAMPLES, c.SKIP, *_keep_if(previous))
        return [Reply("question.progress",
                      {"number": QUESTION_STEPS.index(step) + 1, "total": len(QUESTION_STEPS)}),
                *_previous_text(previous),
                ask(conv, key, options, expect=Expect.TEXT, params=params)]
    return prompt


def service_options(conv: Conversation) -> tuple[Option, ...]:
    chosen = set(conv.draft.services)
    return (*(Option(service.value, "option.selected" if service in chosen else "option.unselected",
                     {"label": Label(key)})
              for service, key in c.SERVICE_LABELS.items()),
            c.DONE, c.SKIP)


def _choose_services(conv: Conversation) -> list[Reply]:
    key, params = phrased(conv.draft, "ask_services")
    return [ask(conv, key, service_options(conv), params=params)]


def _choose_coordinator_wish(conv: Conversation) -> list[Reply]:
    key, params = phrased(conv.draft, "ask_coordinator_wish")
    wishes = conv.draft.wishes_coordinator
    chosen = None if wishes is None else (c.YES_WISH if wishes else c.NO_WISH).id
    return [Reply("coordinator_wish.explained"),
            ask(conv, key, _marked((c.YES_WISH, c.NO_WISH, c.SKIP), chosen), params=params)]


def _give_coordinator_wish(conv: Conversation) -> list[Reply]:
    previous = conv.draft.coordinator_wish
    return [*_previous_text(previous),
            ask(conv, "ask_coordinator_wish_text", _keep_if(previous), expect=Expect.TEXT)]


def _give_contact_name(conv: Conversation) -> list[Reply]:
    key, params = phrased(conv.draft, "ask_contact_name")
    previous = conv.draft.contact_name
    return [Reply("contact.explained"), *_previous_text(previous),
            ask(conv, key, _keep_if(previous), expect=Expect.TEXT, params=params)]


def _give_phone(conv: Conversation) -> list[Reply]:
    previous = conv.draft.phone
    return [*_previous_text(previous),
            ask(conv, "ask_phone", _keep_if(previous), expect=Expect.PHONE)]


def _give_reach_time(conv: Conversation) -> list[Reply]:
    previous = conv.draft.reach_time
    shown = [Reply("previous_answer", {"answer": reach_time_value(previous)})] if previous else []
    options = (*c.REACH_TIME_OPTIONS, c.SKIP, *_keep_if(previous))
    return [*shown, ask(conv, "ask_reach_time", options, expect=Expect.TEXT)]


def _give_municipality(conv: Conversation) -> list[Reply]:
    key, params = phrased(conv.draft, "ask_municipality")
    current = by_number(conv.draft.municipality_number or "")
    previous = [Reply("previous_answer", {"answer": current.name})] if current else []
    return [*previous, ask(conv, key, _keep_if(current), expect=Expect.TEXT, params=params)]


def routing_options(conv: Conversation) -> tuple[Option, ...]:
    """The options of the routing question the municipality needs now (none if none)."""
    kind = KIND_ASKED_AT.get(conv.step)
    question = pending_question(conv.router, conv.draft) if kind else None
    if question is None or question.kind != kind:
        # Back at the group with the district still to answer asks the group, not the district.
        question = _asked_again(conv)
    if question is None or question.kind != kind:
        return ()
    if question.kind == "target_group":
        options = tuple(Option(o, key) for o, key in zip(question.options, question.labels,
                                                         strict=True))
        return _marked(options, conv.draft.target_group)
    # A place name is no catalog key: ticked here, with the name itself as the label.
    return tuple(Option(o, "option.selected", {"label": name}) if o == conv.draft.district
                 else Option(o, "option.place", {"name": name})
                 for o, name in zip(question.options, question.labels, strict=True))


def _asked_again(conv: Conversation) -> RoutingQuestion | None:
    """Going back or editing: the question as asked, though it is answered now."""
    draft = conv.draft
    wanted = KIND_ASKED_AT.get(conv.step)
    number = draft.municipality_number or ""
    if wanted == "target_group":
        return conv.router.next_question(number, None, None)
    if wanted == "district":
        return conv.router.next_question(number, draft.target_group, None)
    return None


def _choose_target_group(conv: Conversation) -> list[Reply]:
    key, params = phrased(conv.draft, "ask_target_group")
    return [Reply("target_group.explained"), ask(conv, key, routing_options(conv), params=params)]


def _choose_district(conv: Conversation) -> list[Reply]:
    key, params = phrased(conv.draft, "ask_district")
    return [ask(conv, key, routing_options(conv), params=params)]


def _review(conv: Conversation) -> list[Reply]:
    lines = [Reply("review.heading"), *review_lines(conv.draft, conv.router)]
    number = conv.draft.municipality_number or ""
    if conv.router.in_directory(number):
        return [*lines, ask(conv, "review.ask_send", (c.SEND, c.CHANGE_ANSWER, c.CHOOSE_SHARING))]
    # No unit to send to yet: the person still keeps a saved draft and their own copy.
    municipality = by_number(number)
    return [*lines, Reply("review.not_in_directory",
                          {"municipality": municipality.name if municipality else ""}),
            ask(conv, "review.ask_save", (c.SAVE, c.CHANGE_ANSWER, c.CHOOSE_SHARING))]


def _choose_answer_to_edit(conv: Conversation) -> list[Reply]:
    return [ask(conv, "ask_which_answer", (*editable_options(conv.draft), c.BACK_TO_REVIEW))]


def _choose_sharing(conv: Conversation) -> list[Reply]:
    return [Reply("sharing.explained"),
            ask(conv, "ask_sharing", (*sharing_options(conv.draft), c.DONE))]


def _sent(conv: Conversation) -> list[Reply]:
    return receipt(conv)


def _cancelled(conv: Conversation) -> list[Reply]:
    return [Reply("cancelled.resting")]


def _confirm_cancel(conv: Conversation) -> list[Reply]:
    return [ask(conv, "ask_confirm_cancel", (c.YES_CANCEL, c.NO_KEEP_GOING))]


def _confirm_withdraw(conv: Conversation) -> list[Reply]:
    return [ask(conv, "ask_confirm_withdraw", (c.YES_WITHDRAW, c.NO_KEEP_GOING))]


def _confirm_erase(conv: Conversation) -> list[Reply]:
    return [ask(conv, "ask_confirm_erase", (c.YES_ERASE, c.NO_KEEP_GOING))]


def _keep_if(previous: object) -> tuple[Option, ...]:
    return (c.KEEP,) if previous else ()


PROMPTS: dict[Step, Prompt] = {
    Step.CHOOSE_LANGUAGE: _choose_language,
    Step.READ_INTRO: _read_intro,
    Step.GIVE_CONSENT: _give_consent,
    Step.DECLINED: _declined,
    Step.CHOOSE_REMINDER: _choose_reminder,
    Step.CHOOSE_ROLE: _choose_role,
    Step.GIVE_PERSON_NAME: _give_person_name,
    Step.CHOOSE_RELATION: _choose_relation,
    Step.CHOOSE_BASIS: _choose_basis,
    Step.CHOOSE_REQUEST: _choose_request,
    **{step: question_prompt(step) for step in QUESTION_STEPS},
    Step.CHOOSE_SERVICES: _choose_services,
    Step.CHOOSE_COORDINATOR_WISH: _choose_coordinator_wish,
    Step.GIVE_COORDINATOR_WISH: _give_coordinator_wish,
    Step.GIVE_CONTACT_NAME: _give_contact_name,
    Step.GIVE_PHONE: _give_phone,
    Step.GIVE_REACH_TIME: _give_reach_time,
    Step.GIVE_MUNICIPALITY: _give_municipality,
    Step.CHOOSE_TARGET_GROUP: _choose_target_group,
    Step.CHOOSE_DISTRICT: _choose_district,
    Step.CONFIRM_WITHDRAW: _confirm_withdraw,
    Step.REVIEW: _review,
    Step.CHOOSE_ANSWER_TO_EDIT: _choose_answer_to_edit,
    Step.CHOOSE_SHARING: _choose_sharing,
    Step.SENT: _sent,
    Step.CANCELLED: _cancelled,
    Step.CONFIRM_CANCEL: _confirm_cancel,
    Step.CONFIRM_ERASE: _confirm_erase,
}


def prompt_for(conv: Conversation) -> list[Reply]:
    return PROMPTS[conv.step](conv)
