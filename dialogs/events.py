"""What goes into the dialog (events) and what comes out (replies and effects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Command(StrEnum):
    START = "start"
    HELP = "help"
    BACK = "back"
    SKIP = "skip"
    EDIT = "edit"
    LANGUAGE = "language"
    ABOUT = "about"
    RIGHTS = "rights"
    STATUS = "status"
    CANCEL = "cancel"
    ERASE = "erase"
    MY_DATA = "my_data"
    WITHDRAW_CONSENT = "withdraw_consent"


# Norwegian command names first (they are what the menus show), English aliases after.
COMMAND_NAMES: dict[str, Command] = {
    "start": Command.START,
    "hjelp": Command.HELP,
    "tilbake": Command.BACK,
    "hopp": Command.SKIP,
    "endre": Command.EDIT,
    "sprak": Command.LANGUAGE,
    "språk": Command.LANGUAGE,
    "om": Command.ABOUT,
    "rettar": Command.RIGHTS,
    "rettigheter": Command.RIGHTS,
    "status": Command.STATUS,
    "avbryt": Command.CANCEL,
    "slett": Command.ERASE,
    "mine_data": Command.MY_DATA,
    "trekk_samtykke": Command.WITHDRAW_CONSENT,
    "help": Command.HELP,
    "back": Command.BACK,
    "skip": Command.SKIP,
    "edit": Command.EDIT,
    "language": Command.LANGUAGE,
    "about": Command.ABOUT,
    "rights": Command.RIGHTS,
    "cancel": Command.CANCEL,
    "delete": Command.ERASE,
    "my_data": Command.MY_DATA,
    "withdraw_consent": Command.WITHDRAW_CONSENT,
}


def parse_command(name: str) -> Command | None:
    """The command a person typed, without the slash and any @botname."""
    return COMMAND_NAMES.get(name.lstrip("/").split("@", 1)[0].strip().lower())


@dataclass(frozen=True)
class TextEvent:
    text: str


@dataclass(frozen=True)
class ChoiceEvent:
    option: str


@dataclass(frozen=True)
class CommandEvent:
    command: Command


@dataclass(frozen=True)
class UnsupportedEvent:
    """Something a transport cannot turn into text or a choice (a sticker, a photo...)."""


Event = TextEvent | ChoiceEvent | CommandEvent | UnsupportedEvent


@dataclass(frozen=True)
class Label:
    """A parameter that is itself a catalog message, translated when rendered."""

    key: str


@dataclass(frozen=True)
class LabelList:
    """Several catalog messages, translated and joined as a list in the reader's language."""

    keys: tuple[str, ...]


ParamValue = str | int | date | Label | LabelList


@dataclass(frozen=True)
class Option:
    id: str
    key: str
    params: dict[str, ParamValue] = field(default_factory=dict)


class Expect(StrEnum):
    """What kind of input the current step wants, so a transport can offer the right control."""

    CHOICE = "choice"
    TEXT = "text"
    PHONE = "phone"
    NOTHING = "nothing"


@dataclass(frozen=True)
class Reply:
    key: str
    params: dict[str, ParamValue] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    expect: Expect = Expect.NOTHING


class Effect(StrEnum):
    """Work the dialog asks its host to do in the same unit of work as saving the step."""

    SUBMIT = "submit"
    START_DRAFT = "start_draft"
    DISCARD_DRAFT = "discard_draft"
    ERASE_EVERYTHING = "erase_everything"
    # Send the person everything stored about them (JSON and a readable summary).
    EXPORT_MY_DATA = "export_my_data"
    # Consent withdrawn: stop everything that is pending for the person (delivery, reminders).
    WITHDRAW_CONSENT = "withdraw_consent"


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
