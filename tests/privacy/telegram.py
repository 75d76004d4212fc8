"""The bot at handler level for the privacy tests: real Updates through an offline Application,
on any engine, and a person who answers with the canaries by pressing and writing."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import Engine
from telegram.ext import Application

from bench.offline_config import OFFLINE, offline_limiter
from bot.runner import DialogRunner
from bot.telegram.app import build_application
from bot.telegram.conversation import CHANNEL
from dialogs.events import ChoiceEvent, TextEvent
from dialogs.machine import Dialog
from dialogs.prompts import prompt_for
from dialogs.render import render_option
from dialogs.steps import Step
from storage.conversations import load_conversation
from storage.db import unit_of_work
from storage.units import default_router
from tests.privacy.helpers import Clock, Person
from tests.telegram.offline import OfflineRequest
from tests.telegram.offline import Person as Phone


@asynccontextmanager
async def offline_bot(engine: Engine, clock: Clock) -> AsyncIterator[
        tuple[Application, OfflineRequest]]:
    request = OfflineRequest()
    runner = DialogRunner(engine, dialog=Dialog(router=default_router()), clock=clock,
                          escape=html.escape)
    app = build_application(OFFLINE, runner, request=request, rate_limiter=offline_limiter())
    await app.initialize()
    request.take()
    try:
        yield app, request
    finally:
        await app.shutdown()


async def walk(phone: Phone, engine: Engine, answers: Person, target: Step) -> None:
    """Answer what the bot asks, as `answers` would, until the chat is at `target`."""
    await phone.write("/start")
    for _ in range(80):
        with unit_of_work(engine) as session:
            conv = load_conversation(session, channel=CHANNEL, chat_id=str(phone.chat_id))
        conv.router = default_router()  # as the bot's dialog lends it
        if conv.step is target:
            return
        event = answers.answer(conv.step)
        if isinstance(event, TextEvent):
            await phone.write(event.text)
            continue
        assert isinstance(event, ChoiceEvent)
        options = [o for reply in prompt_for(conv) for o in reply.options
                   if o.id == event.option]
        assert options, f"no option {event.option} at {conv.step}"
        await phone.press(render_option(conv.language, options[0]))
    raise AssertionError(f"the chat did not reach {target}")
