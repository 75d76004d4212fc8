"""What the dialog needs to know about routing, without knowing where the directory lives.

The units directory (storage/units.py) implements `Router`; the dialog asks only the questions
the chosen municipality needs (Bergen: target group, then district where it matters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from dialogs.steps import Step

if TYPE_CHECKING:  # draft.py holds a Router; these are only annotations here
    from dialogs.draft import DraftPlan, Language


RoutingKind = Literal["target_group", "district"]

# The step that asks each kind of routing question; the dialog's other modules go by these.
ASKED_AT: dict[RoutingKind, Step] = {"target_group": Step.CHOOSE_TARGET_GROUP,
                                     "district": Step.CHOOSE_DISTRICT}
KIND_ASKED_AT: dict[Step, RoutingKind] = {step: kind for kind, step in ASKED_AT.items()}


@dataclass(frozen=True)
class RoutingQuestion:
    """`labels` are catalog keys for target groups and place names for districts."""

    kind: RoutingKind
    options: tuple[str, ...]
    labels: tuple[str, ...]


class Router(Protocol):
    def in_directory(self, municipality_number: str) -> bool: ...

    def next_question(self, municipality_number: str, target_group: str | None,
                      district: str | None) -> RoutingQuestion | None: ...

    def unit_name(self, municipality_number: str, target_group: str | None,
                  district: str | None, language: Language) -> str | None: ...

    def district_name(self, municipality_number: str, district: str) -> str | None: ...


class NoDirectory:
    """A router that knows no units: every draft is saved, none is sent."""

    def in_directory(self, municipality_number: str) -> bool:
        return False

    def next_question(self, municipality_number: str, target_group: str | None,
                      district: str | None) -> RoutingQuestion | None:
        return None

    def unit_name(self, municipality_number: str, target_group: str | None,
                  district: str | None, language: Language) -> str | None:
        return None

    def district_name(self, municipality_number: str, district: str) -> str | None:
        return None


def pending_question(router: Router, draft: DraftPlan) -> RoutingQuestion | None:
    if not draft.municipality_number:
        return None
    return router.next_question(draft.municipality_number, draft.target_group, draft.district)


def pending_step(router: Router, draft: DraftPlan) -> Step | None:
    """The step of the routing question the municipality still needs answered; None if none."""
    question = pending_question(router, draft)
    return ASKED_AT[question.kind] if question is not None else None
