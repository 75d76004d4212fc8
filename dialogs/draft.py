"""The plain data a conversation works on: the draft plan and where the person is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dialogs.routing import NoDirectory, Router
from dialogs.steps import Step


class Language(StrEnum):
    BOKMAL = "nb"
    NYNORSK = "nn"


class Role(StrEnum):
    SELF = "self"
    RELATIVE = "relative"


class Relation(StrEnum):
    PARENT = "parent"
    CHILD = "child"
    PARTNER = "partner"
    OTHER_FAMILY = "other_family"
    GUARDIAN = "guardian"
    OTHER = "other"


class Basis(StrEnum):
    """Why a relative may act for the person."""

    PERSON_AGREES = "person_agrees"
    PARENT_OF_CHILD_UNDER_16 = "parent_of_child_under_16"
    APPOINTED_GUARDIAN = "appointed_guardian"
    POWER_OF_ATTORNEY = "power_of_attorney"


class RequestKind(StrEnum):
    PLAN_AND_COORDINATOR = "plan_and_coordinator"
    COORDINATOR_ONLY = "coordinator_only"
    NOT_SURE = "not_sure"


class Service(StrEnum):
    GP = "gp"
    HOME_CARE = "home_care"
    NAV = "nav"
    SCHOOL = "school"
    CHILD_WELFARE = "child_welfare"
    SPECIALIST = "specialist"
    OTHER = "other"


@dataclass
class Answer:
    """One answer to a preparation question; `text` is None when skipped."""

    text: str | None
    shared: bool = True


@dataclass
class DraftPlan:
    role: Role | None = None
    person_name: str | None = None
    relation: Relation | None = None
    basis: Basis | None = None
    request: RequestKind | None = None
    answers: dict[Step, Answer] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    services_answered: bool = False
    wishes_coordinator: bool | None = None
    coordinator_wish: str | None = None
    contact_name: str | None = None
    phone: str | None = None
    reach_time: str | None = None
    municipality_number: str | None = None
    # Asked only where the municipality routes by them (Bergen); ids from the units directory.
    target_group: str | None = None
    district: str | None = None


@dataclass(frozen=True)
class SubmissionInfo:
    """What the person may know about the request they sent."""

    reference: str
    submitted_at: datetime
    # "sent" (to a unit), "saved" (municipality not in the directory), "received",
    # "in_progress" or "closed" (set by the unit).
    status: str = "sent"
    status_changed_at: datetime | None = None
    unit_name: str | None = None


@dataclass
class Conversation:
    """Everything the dialog needs between two messages; storage keeps it."""

    step: Step = Step.CHOOSE_LANGUAGE
    language: Language | None = None
    history: list[Step] = field(default_factory=list)
    return_to: Step | None = None
    editing: bool = False
    reached_review: bool = False
    consented_at: datetime | None = None
    consent_version: str | None = None
    # A reminder before an unsent draft is deleted (retention), only if the person asks for it.
    wants_reminder: bool | None = None
    declined_at: datetime | None = None
    # Counts handled events, so a transport can tell a stale button from a live one.
    turn: int = 0
    # Municipality suggestions offered after a typo, kept until the person picks one.
    municipality_suggestions: list[str] = field(default_factory=list)
    draft: DraftPlan = field(default_factory=DraftPlan)
    submission: SubmissionInfo | None = None
    # Not stored: the units directory, lent by the Dialog for the turn it handles.
    router: Router = field(default_factory=NoDirectory, compare=False, repr=False)
    # Not stored: how long an unsent draft is kept (the operator's setting), for the notice.
    draft_retention_days: int = field(default=30, compare=False, repr=False)
    # Not stored: how long Din plan keeps a request after the unit confirmed it, for the notice.
    request_retention_days: int = field(default=90, compare=False, repr=False)
