"""The steps of the conversation: what the person is doing right now."""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    CHOOSE_LANGUAGE = "choose_language"
    READ_INTRO = "read_intro"
    GIVE_CONSENT = "give_consent"
    DECLINED = "declined"
    CHOOSE_REMINDER = "choose_reminder"
    CHOOSE_ROLE = "choose_role"
    GIVE_PERSON_NAME = "give_person_name"
    CHOOSE_RELATION = "choose_relation"
    CHOOSE_BASIS = "choose_basis"
    CHOOSE_REQUEST = "choose_request"
    ASK_STRENGTHS = "ask_strengths"
    ASK_WHAT_MATTERS_IN_LIFE = "ask_what_matters_in_life"
    ASK_WHAT_MATTERS_EVERYDAY = "ask_what_matters_everyday"
    ASK_WHAT_IT_TAKES = "ask_what_it_takes"
    ASK_WHAT_FIRST = "ask_what_first"
    ASK_WHAT_WORKS_NOW = "ask_what_works_now"
    CHOOSE_SERVICES = "choose_services"
    CHOOSE_COORDINATOR_WISH = "choose_coordinator_wish"
    GIVE_COORDINATOR_WISH = "give_coordinator_wish"
    GIVE_CONTACT_NAME = "give_contact_name"
    GIVE_PHONE = "give_phone"
    GIVE_REACH_TIME = "give_reach_time"
    GIVE_MUNICIPALITY = "give_municipality"
    CHOOSE_TARGET_GROUP = "choose_target_group"
    CHOOSE_DISTRICT = "choose_district"
    REVIEW = "review"
    CHOOSE_ANSWER_TO_EDIT = "choose_answer_to_edit"
    CHOOSE_SHARING = "choose_sharing"
    SENT = "sent"
    CANCELLED = "cancelled"
    CONFIRM_CANCEL = "confirm_cancel"
    CONFIRM_ERASE = "confirm_erase"
    CONFIRM_WITHDRAW = "confirm_withdraw"


# The six preparation questions of the Bergen brochure (seed 001, "Hvordan kan du forberede deg?"),
# in the brochure's order.
QUESTION_STEPS: tuple[Step, ...] = (
    Step.ASK_STRENGTHS,
    Step.ASK_WHAT_MATTERS_IN_LIFE,
    Step.ASK_WHAT_MATTERS_EVERYDAY,
    Step.ASK_WHAT_IT_TAKES,
    Step.ASK_WHAT_FIRST,
    Step.ASK_WHAT_WORKS_NOW,
)

# Steps whose answer the person can change from the review.
EDITABLE_STEPS: tuple[Step, ...] = (
    Step.CHOOSE_ROLE,
    Step.GIVE_PERSON_NAME,
    Step.CHOOSE_RELATION,
    Step.CHOOSE_BASIS,
    Step.CHOOSE_REQUEST,
    *QUESTION_STEPS,
    Step.CHOOSE_SERVICES,
    Step.CHOOSE_COORDINATOR_WISH,
    Step.GIVE_COORDINATOR_WISH,
    Step.GIVE_CONTACT_NAME,
    Step.GIVE_PHONE,
    Step.GIVE_REACH_TIME,
    Step.GIVE_MUNICIPALITY,
    Step.CHOOSE_TARGET_GROUP,
    Step.CHOOSE_DISTRICT,
)

# Steps that interrupt another step and return to it when answered.
INTERRUPTING_STEPS: frozenset[Step] = frozenset({Step.CONFIRM_CANCEL, Step.CONFIRM_ERASE,
                                                 Step.CONFIRM_WITHDRAW})

# Steps where the conversation has ended and only commands (like /start) lead on.
RESTING_STEPS: frozenset[Step] = frozenset({Step.DECLINED, Step.SENT, Step.CANCELLED})
