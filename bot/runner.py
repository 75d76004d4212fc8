"""One turn of the dialog as one unit of work: lock, claim, load, handle, save, commit, render.

Every transport (terminal, Telegram) goes through here, so no handler repeats the session
handling, and each step is committed before its reply is shown.

A turn's transaction first takes its chat's lock (storage/locks.py), so turns of one chat run one
at a time even across processes, and each sees the one before it. A transport that may get an
update twice (Telegram) passes its `UpdateKey`: the update is claimed in the same transaction
(storage/updates.py), so it is applied exactly once, and a turn that fails or a process that dies
before the commit leaves neither the claim nor the turn behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar, overload

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialogs.draft import Conversation, Language
from dialogs.events import Command, CommandEvent, Effect, Event, Outcome, Reply
from dialogs.machine import Dialog
from dialogs.prompts import prompt_for
from dialogs.render import Escape, RenderedReply, render
from dialogs.steps import Step
from storage.conversations import StoredState, load_turn, save_turn
from storage.db import unit_of_work
from storage.locks import lock_conversation
from storage.models import utcnow
from storage.units import default_router
from storage.updates import claim_update

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Turn:
    """What a transport needs to show after one event."""

    language: Language | None
    step: Step
    turn: int
    replies: list[RenderedReply]
    # What the dialog asked the transport to do besides showing replies (EXPORT_MY_DATA).
    effects: list[Effect] = field(default_factory=list)


@dataclass(frozen=True)
class UpdateKey:
    """One delivery from a transport that may deliver it again (a Telegram update)."""

    bot_id: int
    update_id: int


class AlreadyHandled:
    """What `DialogRunner.within` gives for an update handled before: nothing to do or say."""


ALREADY_HANDLED = AlreadyHandled()


class TurnScope:
    """One chat inside its turn's transaction: locked, the update claimed, the conversation
    loaded. A transport that must read the screen before it knows the event (a typed answer that
    names an option, a button from an older message) reads `conversation` here, so that it reads
    what the turn will change and nothing can come between."""

    def __init__(self, runner: DialogRunner, session: Session, channel: str, chat_id: str,
                 ) -> None:
        self._runner, self._session = runner, session
        self.channel, self.chat_id = channel, chat_id
        self.conversation, self._stored = load_turn(session, channel=channel, chat_id=chat_id)
        self.handled = False

    def handle(self, event: Event, language: Language | None = None) -> Turn:
        """Handle one event; `language` preselects the written standard of a new conversation."""
        conv = self._use()
        if conv.language is None and language is not None and conv.step is Step.CHOOSE_LANGUAGE:
            conv.language = language
        return self._runner._handle_in(self._session, self._stored, self.channel, self.chat_id,
                                       conv, event)

    def open(self, language: Language | None = None) -> Turn:
        """The person opens the chat: a known language starts at once, else welcome (back)."""
        conv = self._use()
        if conv.language is None and language is not None and conv.step is Step.CHOOSE_LANGUAGE:
            conv.language = language
            return self._runner._handle_in(self._session, self._stored, self.channel,
                                           self.chat_id, conv, CommandEvent(Command.START))
        return self._runner._render(conv, self._runner.dialog.greet(conv))

    def again(self) -> Turn:
        """The question the person is at, asked again; nothing is stored."""
        conv = self._use()
        return self._runner._render(conv, Outcome(replies=prompt_for(conv)))

    def _use(self) -> Conversation:
        if self.handled:
            raise RuntimeError("one event per turn")
        self.handled = True
        return self.conversation


class DialogRunner:
    def __init__(self, engine: Engine, *, dialog: Dialog | None = None,
                 clock: Callable[[], datetime] = utcnow, escape: Escape = str) -> None:
        self.engine = engine
        self.dialog = dialog or Dialog(router=default_router())
        self.clock = clock
        self.escape = escape

    def within(self, channel: str, chat_id: str, work: Callable[[TurnScope], T], *,
               update: UpdateKey | None = None) -> T | AlreadyHandled:
        """Run `work` as the chat's turn: one transaction, under the chat's lock, with the
        update claimed; ALREADY_HANDLED (and `work` not run) if it was claimed before.

        Errors are raised, after the rollback: the update stays unclaimed.
        """
        with unit_of_work(self.engine) as session:
            lock_conversation(session, channel=channel, chat_id=chat_id)
            # Stamped with the real time, not the dialog's clock: it counts Telegram's
            # redelivery window (bot/telegram/app.py forgets the ids after it).
            if update is not None and not claim_update(session, bot_id=update.bot_id,
                                                       update_id=update.update_id):
                return ALREADY_HANDLED
            return work(TurnScope(self, session, channel, chat_id))

    def claim(self, update: UpdateKey) -> bool:
        """Claim an update that belongs to no conversation (a group chat); False if claimed
        before."""
        with unit_of_work(self.engine) as session:
            return claim_update(session, bot_id=update.bot_id, update_id=update.update_id)

    @overload
    def open(self, channel: str, chat_id: str, language: Language | None = None) -> Turn: ...

    @overload
    def open(self, channel: str, chat_id: str, language: Language | None = None, *,
             update: UpdateKey) -> Turn | None: ...

    def open(self, channel: str, chat_id: str, language: Language | None = None, *,
             update: UpdateKey | None = None) -> Turn | None:
        """The person opens the chat: a known language starts at once, else welcome (back).
        None if `update` was handled before."""
        return self._turn(channel, chat_id, lambda scope: scope.open(language), language, update)

    @overload
    def handle(self, channel: str, chat_id: str, event: Event,
               language: Language | None = None) -> Turn: ...

    @overload
    def handle(self, channel: str, chat_id: str, event: Event,
               language: Language | None = None, *, update: UpdateKey) -> Turn | None: ...

    def handle(self, channel: str, chat_id: str, event: Event,
               language: Language | None = None, *, update: UpdateKey | None = None,
               ) -> Turn | None:
        """Handle one event; `language` preselects the written standard of a new conversation.
        None if `update` was handled before."""
        return self._turn(channel, chat_id, lambda scope: scope.handle(event, language),
                          language, update)

    def failed(self, language: Language | None) -> Turn:
        """What the person is told when a turn failed (and nothing of it was stored)."""
        return Turn(language, Step.CHOOSE_LANGUAGE, 0,
                    [render(language, Reply("error.internal"), self.escape)])

    def _turn(self, channel: str, chat_id: str, work: Callable[[TurnScope], Turn],
              language: Language | None, update: UpdateKey | None) -> Turn | None:
        try:
            turn = self.within(channel, chat_id, work, update=update)
        except Exception:
            # Never the event itself: it may hold health information.
            log.exception("turn failed for a %s conversation", channel)
            return self.failed(language)
        return None if isinstance(turn, AlreadyHandled) else turn

    def _handle_in(self, session: Session, stored: StoredState, channel: str, chat_id: str,
                   conv: Conversation, event: Event) -> Turn:
        language_before = conv.language
        now = self.clock()  # one moment for the turn: what it decides and when it is saved
        outcome = self.dialog.handle(conv, event, now)
        save_turn(session, stored, channel=channel, chat_id=chat_id, conv=conv,
                  effects=outcome.effects, now=now)
        # An erasure's goodbye is said in the language the person was using.
        shown_in = conv.language or language_before
        return self._render(conv, outcome, shown_in)

    def _render(self, conv: Conversation, outcome: Outcome,
                language: Language | None = None) -> Turn:
        lang = language or conv.language
        return Turn(lang, conv.step, conv.turn,
                    [render(lang, reply, self.escape) for reply in outcome.replies],
                    list(outcome.effects))
