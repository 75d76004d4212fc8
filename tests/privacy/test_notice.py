"""The privacy notice in the dialog and PRIVACY.md say the same: what is stored and how, for how
long (from the settings), who sees it, the person's rights, and the Telegram caveat; in nb and nn.
"""

from __future__ import annotations

import re
from typing import TypedDict, Unpack

import pytest

from dialogs.draft import Conversation, Language
from dialogs.events import parse_command
from dialogs.machine import Dialog
from dialogs.render import message, render
from dialogs.steps import Step
from storage.settings import Settings
from tests.conftest import ROOT

NOTICE = ("privacy.what_is_stored", "privacy.who_receives", "privacy.how_long",
          "privacy.your_rights", "privacy.telegram_caveat", "privacy.ask_consent")
PRIVACY_MD = (ROOT / "PRIVACY.md").read_text(encoding="utf-8")


class RetentionDays(TypedDict, total=False):
    draft_retention_days: int
    request_retention_days: int


def consent_screen(language: Language, **days: Unpack[RetentionDays]) -> list[str]:
    conv = Conversation(step=Step.GIVE_CONSENT, language=language)
    return [render(language, reply).text for reply in Dialog(**days).greet(conv).replies]


@pytest.mark.parametrize("language", list(Language))
def test_the_consent_screen_is_the_whole_notice(language: Language) -> None:
    shown = consent_screen(language, draft_retention_days=45, request_retention_days=60)
    keys = [key for key in NOTICE if message(language, key).split("{")[0][:30]
            in "\n".join(shown)]
    assert keys == list(NOTICE)
    text = "\n".join(shown)
    assert "45" in text  # the configured periods, not fixed numbers
    assert "60" in text
    for command in ("/mine_data", "/trekk_samtykke", "/slett"):
        assert command in text
        assert parse_command(command) is not None
    assert "Telegram" in text


def test_the_notice_is_written_for_nb_and_nn() -> None:
    for key in NOTICE:
        assert message(Language.BOKMAL, key) != message(Language.NYNORSK, key)
    assert "kryptert" in message(Language.BOKMAL, "privacy.what_is_stored")
    assert "kryptert" in message(Language.NYNORSK, "privacy.what_is_stored")


def test_privacy_md_states_the_configured_defaults() -> None:
    defaults = Settings.model_fields
    for name in ("draft_retention_days", "draft_reminder_days_before", "request_retention_days",
                 "unacknowledged_request_retention_days", "idle_conversation_retention_days"):
        variable = f"DINPLAN_{name.upper()}"
        default = defaults[name].default
        assert re.search(rf"`{variable}` \({default}\)", PRIVACY_MD), variable


def test_privacy_md_covers_what_the_issue_asks() -> None:
    for heading in ("## What is stored", "## Where", "## For how long", "## Who sees it",
                    "## Telegram", "## What people can do", "## Logs"):
        assert heading in PRIVACY_MD
    for promise in ("/mine_data", "/trekk_samtykke", "/slett", "end-to-end", "AES-256-GCM",
                    "dinplan keys rotate", 'DINPLAN_ENCRYPTION_KEY="NEW,OLD"', "privacy_event"):
        assert promise in PRIVACY_MD
