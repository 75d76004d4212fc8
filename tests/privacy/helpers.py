"""A clock, people who answer with canaries, and a walk over every row of every table."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, column, select, table
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage
from bot.runner import DialogRunner, Turn
from dialogs.draft import Language
from dialogs.events import ChoiceEvent, Command, CommandEvent, Event, TextEvent
from dialogs.machine import Dialog
from dialogs.steps import QUESTION_STEPS, Step
from storage.crypto import EncryptedText, active_keyring
from storage.units import default_router
from tests import fakes

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# What a person writes; each holds a word found nowhere else, searched for in bytes and logs.
PERSON_NAME = "Ingrid Kanarinavn"
ANSWER = "Eg likar KANARISVAR7Q og turar i skogen."
OTHER_ANSWERS = "Anna svar KANARIANNA5"
COORDINATOR_WISH = "Sjukepleiar KANARIONSKE"
CONTACT_NAME = "Kari Kanarikontakt"
PHONE_TYPED = "913 57 246"
REACH_TIME = "Etter KANARITID kl. 15"
CANARIES = ("Kanarinavn", "KANARISVAR7Q", "KANARIANNA5", "KANARIONSKE", "Kanarikontakt",
            "91357246", "913 57 246", "91 35 72 46", "KANARITID")
PHONE_STORED = "+47 91 35 72 46"


# What someone else writes.
PLAIN = {
    Step.GIVE_PERSON_NAME: "Per", Step.GIVE_COORDINATOR_WISH: "Fastlegen",
    Step.GIVE_CONTACT_NAME: "Ola Hansen", Step.GIVE_PHONE: "55 56 55 56",
    Step.GIVE_REACH_TIME: "Når som helst",
    **{step: "Ho likar å lese." for step in QUESTION_STEPS},
}


@dataclass
class Clock(fakes.Clock):
    now: datetime = START


def runner_for(engine: Engine, clock: Clock, *, draft_days: int = 30,
               request_days: int = 90) -> DialogRunner:
    dialog = Dialog(router=default_router(), draft_retention_days=draft_days,
                    request_retention_days=request_days)
    return DialogRunner(engine, dialog=dialog, clock=clock)


@dataclass
class Person:
    """Someone going through the dialog as a relative, answering with canaries."""

    runner: DialogRunner
    chat_id: str
    language: Language = Language.NYNORSK
    channel: str = "terminal"
    wants_reminder: bool = True
    municipality: str = "Gulen"
    # False: someone else, who writes ordinary words instead of the canaries.
    canaries: bool = True
    turns: list[Turn] = field(default_factory=list)
    chosen: set[str] = field(default_factory=set)

    @property
    def turn(self) -> Turn:
        return self.turns[-1]

    def say(self, event: Event) -> Turn:
        turn = self.runner.handle(self.channel, self.chat_id, event)
        self.turns.append(turn)
        return turn

    def command(self, command: Command) -> Turn:
        return self.say(CommandEvent(command))

    def text(self) -> str:
        return "\n".join(reply.text for reply in self.turn.replies)

    def answer(self, step: Step) -> Event:
        if not self.canaries and step in PLAIN:
            return TextEvent(PLAIN[step])
        by_step: dict[Step, Event] = {
            Step.CHOOSE_LANGUAGE: ChoiceEvent(self.language.value),
            Step.READ_INTRO: ChoiceEvent("continue"),
            Step.GIVE_CONSENT: ChoiceEvent("consent"),
            Step.CHOOSE_REMINDER: ChoiceEvent("yes" if self.wants_reminder else "no"),
            Step.CHOOSE_ROLE: ChoiceEvent("relative"),
            Step.GIVE_PERSON_NAME: TextEvent(PERSON_NAME),
            Step.CHOOSE_RELATION: ChoiceEvent("child"),
            Step.CHOOSE_BASIS: ChoiceEvent("person_agrees"),
            Step.CHOOSE_REQUEST: ChoiceEvent("plan_and_coordinator"),
            Step.CHOOSE_COORDINATOR_WISH: ChoiceEvent("yes"),
            Step.GIVE_COORDINATOR_WISH: TextEvent(COORDINATOR_WISH),
            Step.GIVE_CONTACT_NAME: TextEvent(CONTACT_NAME),
            Step.GIVE_PHONE: TextEvent(PHONE_TYPED),
            Step.GIVE_REACH_TIME: TextEvent(REACH_TIME),
            Step.GIVE_MUNICIPALITY: TextEvent(self.municipality),
            Step.REVIEW: ChoiceEvent("send"),
        }
        if step is QUESTION_STEPS[0]:
            return TextEvent(ANSWER)
        if step in QUESTION_STEPS:
            return TextEvent(f"{OTHER_ANSWERS} {step.value}")
        if step is Step.CHOOSE_SERVICES:
            if "gp" in self.chosen:
                return ChoiceEvent("done")
            self.chosen.add("gp")
            return ChoiceEvent("gp")
        if step in by_step:
            return by_step[step]
        options = [o.id for reply in self.turn.replies for o in reply.options]
        assert options, f"the dialog asks for text at {step} and the test has none"
        return ChoiceEvent(options[0])

    def go_to(self, target: Step) -> Turn:
        """Answer whatever is asked until the dialog is at `target`."""
        if not self.turns:
            self.turns.append(self.runner.open(self.channel, self.chat_id))
        for _ in range(80):
            if self.turn.step is target:
                return self.turn
            self.say(self.answer(self.turn.step))
        raise AssertionError(f"the dialog did not reach {target}, stuck at {self.turn.step}")

    def send_request(self) -> Turn:
        return self.go_to(Step.SENT)


# -- every row of every table ------------------------------------------------------------------

def import_every_table() -> None:
    for module in pkgutil.walk_packages(storage.__path__, "storage."):
        if not module.name.startswith("storage.migrations"):
            importlib.import_module(module.name)


def clear(value: Any) -> Any:
    """A stored value as the person wrote it: decrypted where it is encrypted at rest."""
    if isinstance(value, str) and value.startswith("enc1:"):
        return active_keyring().decrypt(value)
    return value


def every_row(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the models, read past the column types, values decrypted."""
    import_every_table()
    rows: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for model_table in SQLModel.metadata.sorted_tables:
            raw = table(model_table.name, *(
                column(c.name, Text() if isinstance(c.type, EncryptedText) else c.type)
                for c in model_table.columns))
            rows[model_table.name] = [
                {name: clear(value) for name, value in row._mapping.items()}
                for row in connection.execute(select(*raw.c))]
    return rows
