"""The database side of a Telegram chat: blocking calls, which handlers run in a thread.

`receive` takes one update as one turn of `DialogRunner` (one transaction under the chat's lock:
claim the update id, load, decide, handle, save, commit). A second delivery of the update, to this
process or another, gets None. The handler's `decide` reads what the person has on screen (the
turn and step that tell a live button from a stale one, the options a typed answer may name)
inside that transaction, so no other process's turn of the chat can come between the reading and
the handling.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from bot.runner import AlreadyHandled, DialogRunner, Turn, TurnScope, UpdateKey
from bot.telegram.channel import CHANNEL
from bot.telegram.documents import DraftCopy, draft_copy
from dialogs.draft import Conversation, Language
from dialogs.events import Event, Expect
from dialogs.prompts import prompt_for
from dialogs.render import RenderedOption, render
from dialogs.steps import Step

log = logging.getLogger(__name__)

# Telegram's language_code (IETF tag) to the written standard; others are asked.
LANGUAGE_CODES = {"nn": Language.NYNORSK, "nb": Language.BOKMAL, "no": Language.BOKMAL}


def language_from_code(code: str | None) -> Language | None:
    return LANGUAGE_CODES.get((code or "").replace("_", "-").split("-", 1)[0].lower())


@dataclass(frozen=True)
class Screen:
    """Where the conversation stood when an update arrived."""

    turn: int
    step: Step
    language: Language | None
    options: tuple[RenderedOption, ...]  # plain-text labels of the question on screen
    expect: str

    @property
    def is_new(self) -> bool:
        return self.turn == 0

    @property
    def asks_for_phone(self) -> bool:
        return self.expect == Expect.PHONE.value


BLANK_SCREEN = Screen(0, Step.CHOOSE_LANGUAGE, None, (), Expect.NOTHING.value)


def screen_of(conv: Conversation) -> Screen:
    asked = [reply for reply in prompt_for(conv) if reply.options or reply.expect is not
             Expect.NOTHING]
    question = render(conv.language, asked[-1]) if asked else None
    return Screen(conv.turn, conv.step, conv.language,
                  question.options if question else (),
                  question.expect if question else Expect.NOTHING.value)


class Action(Enum):
    """What an update asks of the dialog when it is no event for it."""

    OPEN = "open"  # open the chat as /start does (a first "hei")
    AGAIN = "again"  # the question on screen, asked again; nothing stored (a stale button)
    NOTHING = "nothing"  # no turn, only a notice (an edited message, a group chat)


Decision = Event | Action
Decide = Callable[[Screen], Decision]


@dataclass(frozen=True)
class Arrival:
    """An update taken: the screen it met, what was decided, and the turn to show.

    `decision` is None when the turn failed (nothing of it stored, the update not claimed); the
    turn then says so."""

    screen: Screen
    decision: Decision | None
    turn: Turn | None
    # The conversation as the turn left it (and committed it): a sent draft's copy is made from
    # it, with no second read of what the turn has just written.
    conversation: Conversation | None = None


class TelegramConversations:
    def __init__(self, runner: DialogRunner) -> None:
        self.runner = runner

    def receive(self, *, bot_id: int, update_id: int, chat_id: str | None, decide: Decide,
                language: Language | None) -> Arrival | None:
        """Take the update as one turn of its chat; None if it was taken before.

        Without a chat (a group's update) only the id is claimed and nothing is decided.
        """
        key = UpdateKey(bot_id, update_id)
        if chat_id is None:
            return Arrival(BLANK_SCREEN, Action.NOTHING, None) if self.runner.claim(key) else None

        def work(scope: TurnScope) -> Arrival:
            screen = screen_of(scope.conversation)
            decision = decide(screen)
            turn: Turn | None
            if decision is Action.NOTHING:
                turn = None
            elif decision is Action.AGAIN:
                turn = scope.again()
            elif decision is Action.OPEN:
                turn = scope.open(language)
            else:
                turn = scope.handle(decision, language)
            return Arrival(screen, decision, turn, scope.conversation)

        try:
            arrival = self.runner.within(CHANNEL, chat_id, work, update=key)
        except Exception:
            # Never the update itself: it may hold health information.
            log.exception("turn failed for a %s conversation", CHANNEL)
            return Arrival(BLANK_SCREEN, None, self.runner.failed(language))
        return None if isinstance(arrival, AlreadyHandled) else arrival

    def copy_of_sent_draft(self, conv: Conversation) -> DraftCopy | None:
        """The PDF copy of the draft the turn that left `conv` sent (made in the PDF worker)."""
        return draft_copy(conv)
