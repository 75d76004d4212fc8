"""The conversation as a transition table, read top to bottom as the person meets it.

Triggers name what the person did; conditions name what must hold. `transitions` tries the
rows of one trigger and source in order, so the first matching row wins.
"""

from __future__ import annotations

from typing import Any

from dialogs.steps import EDITABLE_STEPS, QUESTION_STEPS, RESTING_STEPS, Step

S = Step


def _row(trigger: str, source: Any, dest: Step, **extra: Any) -> dict[str, Any]:
    return {"trigger": trigger, "source": source, "dest": dest, **extra}


def _in_order(steps: frozenset[Step]) -> list[Step]:
    """A set of steps in the order of the Enum, so the table (and its diagram) is stable."""
    return [step for step in Step if step in steps]


def _question_rows() -> list[dict[str, Any]]:
    after_questions = (*QUESTION_STEPS[1:], S.CHOOSE_SERVICES)
    return [_row("proceed", q, nxt) for q, nxt in zip(QUESTION_STEPS, after_questions, strict=True)]


TRANSITIONS: list[dict[str, Any]] = [
    # An edit started from the review goes straight back to it, unless the new answer needs
    # a follow-up question first (a relative's name, the wished coordinator).
    _row("proceed", list(EDITABLE_STEPS), S.REVIEW,
         conditions=["is_editing", "has_everything_for_review"]),

    _row("proceed", S.CHOOSE_LANGUAGE, S.READ_INTRO),
    _row("proceed", S.READ_INTRO, S.GIVE_CONSENT),
    _row("consent", S.GIVE_CONSENT, S.CHOOSE_REMINDER),
    _row("proceed", S.CHOOSE_REMINDER, S.CHOOSE_ROLE),
    _row("decline", S.GIVE_CONSENT, S.DECLINED),

    _row("proceed", S.CHOOSE_ROLE, S.GIVE_PERSON_NAME, conditions="is_relative"),
    _row("proceed", S.CHOOSE_ROLE, S.CHOOSE_REQUEST),
    _row("proceed", S.GIVE_PERSON_NAME, S.CHOOSE_RELATION),
    _row("proceed", S.CHOOSE_RELATION, S.CHOOSE_BASIS),
    _row("proceed", S.CHOOSE_BASIS, S.CHOOSE_REQUEST),
    _row("proceed", S.CHOOSE_REQUEST, QUESTION_STEPS[0]),
    *_question_rows(),

    _row("proceed", S.CHOOSE_SERVICES, S.CHOOSE_COORDINATOR_WISH),
    _row("proceed", S.CHOOSE_COORDINATOR_WISH, S.GIVE_COORDINATOR_WISH,
         conditions="wishes_particular_coordinator"),
    _row("proceed", S.CHOOSE_COORDINATOR_WISH, S.GIVE_CONTACT_NAME),
    _row("proceed", S.GIVE_COORDINATOR_WISH, S.GIVE_CONTACT_NAME),
    _row("proceed", S.GIVE_CONTACT_NAME, S.GIVE_PHONE),
    _row("proceed", S.GIVE_PHONE, S.GIVE_REACH_TIME),
    _row("proceed", S.GIVE_REACH_TIME, S.GIVE_MUNICIPALITY),
    # Only where the municipality routes by them (the units directory says).
    _row("proceed", S.GIVE_MUNICIPALITY, S.CHOOSE_TARGET_GROUP, conditions="needs_target_group"),
    _row("proceed", S.GIVE_MUNICIPALITY, S.CHOOSE_DISTRICT, conditions="needs_district"),
    _row("proceed", S.GIVE_MUNICIPALITY, S.REVIEW),
    _row("proceed", S.CHOOSE_TARGET_GROUP, S.CHOOSE_DISTRICT, conditions="needs_district"),
    _row("proceed", S.CHOOSE_TARGET_GROUP, S.REVIEW),
    _row("proceed", S.CHOOSE_DISTRICT, S.REVIEW),

    _row("send", S.REVIEW, S.SENT, conditions="has_everything_for_review"),
    _row("change_answer", S.REVIEW, S.CHOOSE_ANSWER_TO_EDIT),
    _row("choose_sharing", S.REVIEW, S.CHOOSE_SHARING),
    _row("proceed", S.CHOOSE_SHARING, S.REVIEW),
    _row("proceed", S.CHOOSE_ANSWER_TO_EDIT, S.REVIEW),
    *[_row(f"edit_{step.value}", S.CHOOSE_ANSWER_TO_EDIT, step) for step in EDITABLE_STEPS],

    _row("restart", _in_order(RESTING_STEPS), S.READ_INTRO, conditions="has_language"),
    _row("restart", _in_order(RESTING_STEPS), S.CHOOSE_LANGUAGE),

    # Interruptions, possible from any step; answering them returns to where the person was.
    _row("switch_language", "*", S.CHOOSE_LANGUAGE),
    _row("ask_cancel", "*", S.CONFIRM_CANCEL),
    _row("ask_erase", "*", S.CONFIRM_ERASE),
    _row("ask_withdraw", "*", S.CONFIRM_WITHDRAW),
    _row("confirm", S.CONFIRM_CANCEL, S.CANCELLED),
    _row("confirm", S.CONFIRM_ERASE, S.CHOOSE_LANGUAGE),
    _row("confirm", S.CONFIRM_WITHDRAW, S.DECLINED),
]
