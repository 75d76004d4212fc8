"""The fixed choices of the conversation, as data: option ids and their catalog labels."""

from __future__ import annotations

from collections.abc import Mapping

from dialogs.draft import Basis, Language, Relation, RequestKind, Service
from dialogs.events import Option

LANGUAGE_OPTIONS = (
    Option(Language.BOKMAL.value, "option.bokmal"),
    Option(Language.NYNORSK.value, "option.nynorsk"),
)

CONTINUE = Option("continue", "option.continue")
CONSENT = Option("consent", "option.consent")
DECLINE = Option("decline", "option.decline")
FOR_MYSELF = Option("self", "option.for_myself")
FOR_SOMEONE_ELSE = Option("relative", "option.for_someone_else")
SHOW_EXAMPLES = Option("examples", "option.show_examples")
SKIP = Option("skip", "option.dont_know_now")
KEEP = Option("keep", "option.keep_answer")
DONE = Option("done", "option.done")
YES_WISH = Option("yes", "option.has_coordinator_wish")
NO_WISH = Option("no", "option.no_coordinator_wish")
SEND = Option("send", "option.send")
CHANGE_ANSWER = Option("change", "option.change_answer")
CHOOSE_SHARING = Option("sharing", "option.choose_sharing")
BACK_TO_REVIEW = Option("review", "option.back_to_review")
YES_CANCEL = Option("yes", "option.yes_cancel")
YES_ERASE = Option("yes", "option.yes_erase")
YES_REMIND = Option("yes", "option.yes_remind")
NO_REMIND = Option("no", "option.no_remind")
YES_WITHDRAW = Option("yes", "option.yes_withdraw")
SAVE = Option("send", "option.save")
NO_KEEP_GOING = Option("no", "option.no_continue")

RELATION_LABELS: dict[Relation, str] = {
    Relation.PARENT: "relation.parent",
    Relation.CHILD: "relation.child",
    Relation.PARTNER: "relation.partner",
    Relation.OTHER_FAMILY: "relation.other_family",
    Relation.GUARDIAN: "relation.guardian",
    Relation.OTHER: "relation.other",
}

BASIS_LABELS: dict[Basis, str] = {
    Basis.PERSON_AGREES: "basis.person_agrees",
    Basis.PARENT_OF_CHILD_UNDER_16: "basis.parent_of_child_under_16",
    Basis.APPOINTED_GUARDIAN: "basis.appointed_guardian",
    Basis.POWER_OF_ATTORNEY: "basis.power_of_attorney",
}

REQUEST_LABELS: dict[RequestKind, str] = {
    RequestKind.PLAN_AND_COORDINATOR: "request.plan_and_coordinator",
    RequestKind.COORDINATOR_ONLY: "request.coordinator_only",
    RequestKind.NOT_SURE: "request.not_sure",
}

SERVICE_LABELS: dict[Service, str] = {
    Service.GP: "service.gp",
    Service.HOME_CARE: "service.home_care",
    Service.NAV: "service.nav",
    Service.SCHOOL: "service.school",
    Service.CHILD_WELFARE: "service.child_welfare",
    Service.SPECIALIST: "service.specialist",
    Service.OTHER: "service.other",
}

REACH_TIME_OPTIONS = (
    Option("morning", "reach_time.morning"),
    Option("afternoon", "reach_time.afternoon"),
    Option("any_time", "reach_time.any_time"),
)


def options_for(labels: Mapping[Relation, str] | Mapping[Basis, str]
                | Mapping[RequestKind, str]) -> tuple[Option, ...]:
    """One option per enum member, in declaration order."""
    return tuple(Option(member.value, key) for member, key in labels.items())
