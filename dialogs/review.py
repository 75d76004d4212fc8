"""The review of a draft before it is sent, the per-answer sharing choice, and the receipt."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dialogs import choices as c
from dialogs.draft import Conversation, DraftPlan, Role, SubmissionInfo
from dialogs.events import Label, LabelList, Option, ParamValue, Reply
from dialogs.municipalities import by_number
from dialogs.routing import NoDirectory, Router
from dialogs.steps import EDITABLE_STEPS, QUESTION_STEPS, Step

NORWAY = ZoneInfo("Europe/Oslo")


def title(step: Step) -> Label:
    return Label(f"title.{step.value}")


def reach_time_value(value: str) -> ParamValue:
    presets = {option.id: option.key for option in c.REACH_TIME_OPTIONS}
    return Label(presets[value]) if value in presets else value


def review_lines(draft: DraftPlan, router: Router | None = None) -> list[Reply]:
    router = router or NoDirectory()
    lines = [_prepared_by(draft)]
    if draft.request:
        lines.append(Reply("review.request", {"request": Label(c.REQUEST_LABELS[draft.request])}))
    lines.extend(_answer_line(number, step, draft)
                 for number, step in enumerate(QUESTION_STEPS, start=1))
    lines.append(_services_line(draft))
    lines.append(_coordinator_line(draft))
    lines.append(_contact_line(draft))
    municipality = by_number(draft.municipality_number or "")
    if municipality:
        lines.append(Reply("review.municipality", {"municipality": municipality.name}))
    lines.extend(_routing_lines(draft, router))
    return lines


def _routing_lines(draft: DraftPlan, router: Router) -> list[Reply]:
    lines = []
    if draft.target_group:
        lines.append(Reply("review.target_group",
                           {"group": Label(f"target_group.{draft.target_group}")}))
    district = (router.district_name(draft.municipality_number or "", draft.district)
                if draft.district else None)
    if district:
        lines.append(Reply("review.district", {"district": district}))
    return lines


def _prepared_by(draft: DraftPlan) -> Reply:
    if draft.role is Role.RELATIVE and draft.relation and draft.basis:
        return Reply("review.prepared_by.relative", {
            "name": draft.person_name or "",
            "relation": Label(c.RELATION_LABELS[draft.relation]),
            "basis": Label(c.BASIS_LABELS[draft.basis]),
        })
    return Reply("review.prepared_by.self")


def _answer_line(number: int, step: Step, draft: DraftPlan) -> Reply:
    answer = draft.answers.get(step)
    params: dict[str, ParamValue] = {"number": number, "title": title(step)}
    if answer is None or answer.text is None:
        return Reply("review.answer.skipped", params)
    params["answer"] = answer.text
    return Reply("review.answer.shared" if answer.shared else "review.answer.not_shared", params)


def _services_line(draft: DraftPlan) -> Reply:
    if not draft.services:
        return Reply("review.services.none")
    return Reply("review.services", {
        "services": LabelList(tuple(c.SERVICE_LABELS[s] for s in draft.services)),
    })


def _coordinator_line(draft: DraftPlan) -> Reply:
    if draft.wishes_coordinator and draft.coordinator_wish:
        return Reply("review.coordinator_wish", {"wish": draft.coordinator_wish})
    return Reply("review.coordinator_wish.none")


def _contact_line(draft: DraftPlan) -> Reply:
    params: dict[str, ParamValue] = {"name": draft.contact_name or "", "phone": draft.phone or ""}
    if draft.reach_time:
        params["reach_time"] = reach_time_value(draft.reach_time)
        return Reply("review.contact", params)
    return Reply("review.contact.no_reach_time", params)


def relevant_editable_steps(draft: DraftPlan) -> list[Step]:
    """The answers the person can change, leaving out follow-ups that do not apply."""
    relative_only = {Step.GIVE_PERSON_NAME, Step.CHOOSE_RELATION, Step.CHOOSE_BASIS}
    return [
        step for step in EDITABLE_STEPS
        if not (step in relative_only and draft.role is not Role.RELATIVE)
        and not (step is Step.GIVE_COORDINATOR_WISH and not draft.wishes_coordinator)
        and not (step is Step.CHOOSE_TARGET_GROUP and not draft.target_group)
        and not (step is Step.CHOOSE_DISTRICT and not draft.district)
    ]


def editable_options(draft: DraftPlan) -> tuple[Option, ...]:
    return tuple(Option(step.value, title(step).key) for step in relevant_editable_steps(draft))


def sharing_options(draft: DraftPlan) -> tuple[Option, ...]:
    options = []
    for step in QUESTION_STEPS:
        answer = draft.answers.get(step)
        if answer is None or answer.text is None:
            continue
        key = "option.shared" if answer.shared else "option.not_shared"
        options.append(Option(step.value, key, {"label": title(step)}))
    return tuple(options)


def add_one_month(day: date) -> date:
    """The same day next month, or that month's last day (31 January gives 28/29 February)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def answer_deadline(submitted_at: datetime) -> date:
    """The day the unit must answer by: one month after the request was sent, counted from the
    day it was sent in Norway (pasient- og brukerrettighetsloven, seed 004)."""
    return add_one_month(local_date(submitted_at))


def format_reference(reference: str) -> str:
    return f"{reference[:4]}-{reference[4:]}"


def local_date(moment: datetime) -> date:
    """The date in Norway: a request sent at 00:30 Norwegian time is sent that day, not the
    day before as in UTC. A naive time is an error, not a guess: every stored time is read back
    aware (storage.models.UTCDateTime), and so is every clock's."""
    if moment.utcoffset() is None:
        raise ValueError("a naive datetime: its date in Norway is unknown")
    return moment.astimezone(NORWAY).date()


def receipt(conv: Conversation) -> list[Reply]:
    submission = conv.submission
    if submission is None:
        return [Reply("sent.resting")]
    municipality = by_number(conv.draft.municipality_number or "")
    place = municipality.name if municipality else ""
    reference = format_reference(submission.reference)
    if submission.status == "saved":
        return [
            Reply("receipt.saved_not_sent", {"reference": reference, "municipality": place}),
            Reply("receipt.how_to_reach_the_unit"),
            Reply("receipt.next"),
        ]
    sent_to = (Reply("receipt.sent_to_unit", {"reference": reference, "unit": submission.unit_name,
                                              "municipality": place})
               if submission.unit_name else
               Reply("receipt.sent", {"reference": reference, "municipality": place}))
    return [
        sent_to,
        Reply("receipt.deadline", {"deadline": answer_deadline(submission.submitted_at)}),
        Reply("receipt.complaint"),
        Reply("receipt.next"),
    ]


def status_reply(submission: SubmissionInfo) -> Reply:
    """Where a sent request stands: sent, saved, received, in progress or closed."""
    sent_on = local_date(submission.submitted_at)
    changed = submission.status_changed_at
    return Reply(f"status.{submission.status}", {
        "reference": format_reference(submission.reference),
        "sent_on": sent_on,
        "deadline": answer_deadline(submission.submitted_at),
        "changed_on": local_date(changed) if changed else sent_on,
    })
