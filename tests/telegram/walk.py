"""Whole stretches of the conversation, played by a `Person` at handler level."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.telegram.conversation import CHANNEL
from dialogs.draft import Conversation
from storage.conversations import load_conversation
from storage.db import unit_of_work
from tests.telegram.lines import label
from tests.telegram.offline import Call, Person

QUESTIONS = 6


async def to_questions(person: Person, language: str) -> None:
    """From /start (language preselected by the app) to the first preparation question."""
    await person.write("/start")
    await person.press(label(language, "option.continue"))
    await person.press(label(language, "option.consent"))
    await person.press(label(language, "option.no_remind"))
    await person.press(label(language, "option.for_myself"))
    await person.press(label(language, "request.plan_and_coordinator"))


async def to_contact(person: Person, language: str, first_answer: str) -> None:
    """Answer the first question, skip the rest, pick a service, no particular coordinator."""
    await person.write(first_answer)
    for _ in range(QUESTIONS - 1):
        await person.write("/hopp")
    await person.press(label(language, "service.gp"))
    await person.press(label(language, "option.done"))
    await person.press(label(language, "option.no_coordinator_wish"))


async def route_in_bergen(person: Person, language: str, group: str = "elderly",
                          district: str = "Fana") -> list[Call]:
    """Bergen's routing questions: the target group, then (for this group) the district."""
    await person.press(label(language, f"target_group.{group}"))
    return await person.press(district)


async def to_review(person: Person, language: str, first_answer: str = "Jeg lager god mat.",
                    ) -> list[Call]:
    """To the review, in Bergen (elderly, Fana)."""
    await to_questions(person, language)
    await to_contact(person, language, first_answer)
    await person.write("Kari Nordmann")
    await person.write("912 34 567")
    await person.press(label(language, "reach_time.morning"))
    await person.write("Bergen")
    return await route_in_bergen(person, language)


def stored(engine: Engine, chat_id: int) -> Conversation:
    with unit_of_work(engine) as session:
        return load_conversation(session, channel=CHANNEL, chat_id=str(chat_id))
