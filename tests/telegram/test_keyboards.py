"""Callback data is short, typed, and tells a live button from a stale one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.telegram.keyboards import MAX_CALLBACK_DATA, ButtonPress, choices, step_code
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
    SubmissionInfo,
)
from dialogs.prompts import PROMPTS
from dialogs.render import render
from dialogs.steps import QUESTION_STEPS, Step


def a_full_conversation(step: Step) -> Conversation:
    """A relative's conversation with every answer given, so every option is offered."""
    draft = DraftPlan(role=Role.RELATIVE, person_name="Jon", relation=Relation.PARENT,
                      basis=Basis.POWER_OF_ATTORNEY, request=RequestKind.NOT_SURE,
                      answers={s: Answer("svar") for s in QUESTION_STEPS},
                      services=[Service.GP], services_answered=True, wishes_coordinator=True,
                      coordinator_wish="fastlegen", contact_name="Kari", phone="+47 55 56 55 56",
                      reach_time="morning", municipality_number="4601")
    return Conversation(step=step, language=Language.NYNORSK, draft=draft, reached_review=True,
                        municipality_suggestions=["4601", "1811", "3020"],
                        submission=SubmissionInfo("ABCD1234", datetime(2026, 1, 1, tzinfo=UTC)))


@pytest.mark.parametrize("step", list(PROMPTS))
def test_every_button_of_every_step_fits_in_64_bytes(step: Step) -> None:
    conv = a_full_conversation(step)
    for reply in PROMPTS[step](conv):
        rendered = render(conv.language, reply)
        if rendered.options:
            markup = choices(rendered.options, turn=10**12, step=step)
            for row in markup.inline_keyboard:
                data = row[0].callback_data  # PTB: `str | object` (arbitrary callback data)
                assert isinstance(data, str | None)
                assert len((data or "").encode()) <= MAX_CALLBACK_DATA


def test_a_press_reads_back_what_was_shown() -> None:
    press = ButtonPress(42, step_code(Step.GIVE_MUNICIPALITY), "municipality:4601")
    assert ButtonPress.parse(press.encode()) == press
    assert press.is_current(turn=42, step=Step.GIVE_MUNICIPALITY)
    assert not press.is_current(turn=43, step=Step.GIVE_MUNICIPALITY)
    assert not press.is_current(turn=42, step=Step.REVIEW)


@pytest.mark.parametrize("data", [None, "", "send", "x:abcd:send", "1:abc:send", "1:abcd:",
                                  "-1:abcd:send"])
def test_foreign_data_is_no_press(data: str | None) -> None:
    assert ButtonPress.parse(data) is None


def test_too_long_data_is_refused_when_made() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        ButtonPress(1, "abcd", "x" * 60).encode()


def test_step_codes_are_short_and_distinct() -> None:
    codes = {step_code(step) for step in Step}
    assert len(codes) == len(Step)
    assert all(len(code) == 4 for code in codes)
