"""One turn of the dialog as one unit of work: load, handle, save, commit, then render.

Every transport (terminal, Telegram) goes through here, so no handler repeats the session
handling, and each step is committed before its reply is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from dialogs.draft import Conversation, Language
from dialogs.events import CommandEvent, Command, Event, Outcome, Reply
from dialogs.machine import Dialog
from dialogs.render import Escape, RenderedReply, render
from dialogs.steps import Step
from storage.conversations import load_conversation, save_conversation
from storage.db import unit_of_work
from storage.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """What a transport needs to show after one event."""

    language: Language | None
    step: Step
    turn: int
    replies: list[RenderedReply]


class DialogRunner:
    def __init__(self, engine: Engine, *, dialog: Dialog | None = None,
                 clock: Callable[[], datetime] = utcnow, escape: Escape = str) -> None:
        self.engine = engine
        self.dialog = dialog or Dialog()
        self.clock = clock
        self.escape = escape

    def open(self, channel: str, chat_id: str, language: Language | None = None) -> Turn:
        """The person opens the chat: a known language starts at once, else welcome (back)."""
        with unit_of_work(self.engine) as session:
            conv = load_conversation(session, channel=channel, chat_id=chat_id)
            if conv.language is None and language is not None and conv.step is Step.CHOOSE_LANGUAGE:
                conv.language = language
                return self._handle_in(session, channel, chat_id, conv, CommandEvent(Command.START))
            return self._render(conv, self.dialog.greet(conv))

    def handle(self, channel: str, chat_id: str, event: Event,
               language: Language | None = None) -> Turn:
        """Handle one event; `language` preselects the written standard of a new conversation."""
        try:
            with unit_of_work(self.engine) as session:
                conv = load_conversation(session, channel=channel, chat_id=chat_id)
                if conv.language is None and language is not None \
                        and conv.step is Step.CHOOSE_LANGUAGE:
                    conv.language = language
                return self._handle_in(session, channel, chat_id, conv, event)
        except Exception:
            # Never the event itself: it may hold health information.
            log.exception("turn failed for a %s conversation", channel)
            return Turn(language, Step.CHOOSE_LANGUAGE, 0,
                        [render(language, Reply("error.internal"), self.escape)])

    def _handle_in(self, session, channel: str, chat_id: str, conv: Conversation,  # type: ignore[no-untyped-def]
                   event: Event) -> Turn:
        language_before = conv.language
        outcome = self.dialog.handle(conv, event, self.clock())
        save_conversation(session, channel=channel, chat_id=chat_id, conv=conv,
                          effects=outcome.effects, now=self.clock())
        # An erasure's goodbye is said in the language the person was using.
        shown_in = conv.language or language_before
        return self._render(conv, outcome, shown_in)

    def _render(self, conv: Conversation, outcome: Outcome,
                language: Language | None = None) -> Turn:
        lang = language or conv.language
        return Turn(lang, conv.step, conv.turn,
                    [render(lang, reply, self.escape) for reply in outcome.replies])
