"""Telegram's command menu, in Bokmål and in Nynorsk by the app's language (default Bokmål)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeDefault
from telegram.error import TelegramError

from dialogs.draft import Language
from dialogs.events import Command, parse_command
from dialogs.render import message

log = logging.getLogger(__name__)

# (command in Bokmål, command in Nynorsk, description); all are names `parse_command` knows.
MENU: tuple[tuple[str, str, str], ...] = (
    ("start", "start", "telegram.command.start"),
    ("hjelp", "hjelp", "telegram.command.help"),
    ("tilbake", "tilbake", "telegram.command.back"),
    ("hopp", "hopp", "telegram.command.skip"),
    ("endre", "endre", "telegram.command.edit"),
    ("sprak", "sprak", "telegram.command.language"),
    ("om", "om", "telegram.command.about"),
    ("rettigheter", "rettar", "telegram.command.rights"),
    ("status", "status", "telegram.command.status"),
    ("avbryt", "avbryt", "telegram.command.cancel"),
    ("mine_data", "mine_data", "telegram.command.my_data"),
    ("trekk_samtykke", "trekk_samtykke", "telegram.command.withdraw_consent"),
    ("slett", "slett", "telegram.command.erase"),
)

# Which app languages see which menu; None is everyone else (the default menu).
MENU_LANGUAGES: dict[str | None, Language] = {
    None: Language.BOKMAL, "nb": Language.BOKMAL, "no": Language.BOKMAL,
    "nn": Language.NYNORSK,
}


def commands(language: Language) -> list[BotCommand]:
    column = 1 if language is Language.NYNORSK else 0
    return [BotCommand(entry[column], message(language, entry[2])) for entry in MENU]


def menu_commands() -> set[Command]:
    found = {parse_command(entry[column]) for entry in MENU for column in (0, 1)}
    return {command for command in found if command is not None}


async def set_command_menus(bot: Bot) -> None:
    """Set the menus; a failure is logged, not fatal: the commands work without a menu."""
    for code, language in MENU_LANGUAGES.items():
        try:
            await bot.set_my_commands(commands(language), scope=BotCommandScopeDefault(),
                                      language_code=code)
        except TelegramError as error:
            log.warning("could not set the %s command menu: %s", code or "default",
                        type(error).__name__)
