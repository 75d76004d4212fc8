"""The database side of a Telegram chat: blocking calls, which handlers run in a thread.

Each turn still goes through `DialogRunner` (one unit of work: load, handle, save, commit). Before
it, `arrive` claims the update id (a second delivery gets None) and reads what the person has on
screen: the turn and step that tell a live button from a stale one, and the options a typed
answer may name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.runner import DialogRunner, Turn
from bot.telegram.documents import DraftCopy, draft_copy
from dialogs.draft import Conversation, Language
from dialogs.events import Event, Expect
from dialogs.prompts import prompt_for
from dialogs.render import RenderedOption, render
from dialogs.steps import Step
from storage.conversations import load_conversation
from storage.db import unit_of_work
from storage.updates import claim_update

CHANNEL = "telegram"

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


def screen_of(conv: Conversation) -> Screen:
    asked = [reply for reply in prompt_for(conv) if reply.options or reply.expect is not
             Expect.NOTHING]
    question = render(conv.language, asked[-1]) if asked else None
    return Screen(conv.turn, conv.step, conv.language,
                  question.options if question else (),
                  question.expect if question else Expect.NOTHING.value)


class TelegramConversations:
    def __init__(self, runner: DialogRunner) -> None:
        self.runner = runner

    @property
    def engine(self) -> Engine:
        return self.runner.engine

    def arrive(self, *, bot_id: int, update_id: int, chat_id: str | None) -> Screen | None:
        """Claim the update and read the chat's screen; None if the update was handled before."""
        try:
            with unit_of_work(self.engine) as session:
                if not claim_update(session, bot_id=bot_id, update_id=update_id):
                    return None
                conv = (load_conversation(session, channel=CHANNEL, chat_id=chat_id)
                        if chat_id is not None else Conversation())
        except IntegrityError:
            return None  # claimed at the same moment elsewhere
        return screen_of(conv)

    def open(self, chat_id: str, language: Language | None) -> Turn:
        return self.runner.open(CHANNEL, chat_id, language)

    def handle(self, chat_id: str, event: Event, language: Language | None) -> Turn:
        return self.runner.handle(CHANNEL, chat_id, event, language=language)

    def again(self, chat_id: str) -> Turn:
        """The question the person is at, asked again; nothing is stored."""
        with unit_of_work(self.engine) as session:
            conv = load_conversation(session, channel=CHANNEL, chat_id=chat_id)
        return Turn(conv.language, conv.step, conv.turn,
                    [render(conv.language, reply, self.runner.escape)
                     for reply in prompt_for(conv)])

    def copy_of_sent_draft(self, chat_id: str) -> DraftCopy | None:
        with unit_of_work(self.engine) as session:
            conv = load_conversation(session, channel=CHANNEL, chat_id=chat_id)
        return draft_copy(conv)
