"""The command menu: Bokmål by default and for nb/no apps, Nynorsk for nn apps."""

from __future__ import annotations

from telegram.ext import Application

from bot.telegram.menu import MENU, menu_commands, set_command_menus
from dialogs.events import Command
from tests.telegram.lines import label
from tests.telegram.offline import OfflineRequest, api_error


async def test_menus_are_set_per_app_language(app: Application,
                                              offline: OfflineRequest) -> None:
    await set_command_menus(app.bot)
    calls = offline.sent("setMyCommands")
    assert [c.params.get("language_code") for c in calls] == [None, "nb", "no", "nn"]
    for call in calls:
        assert call.params["scope"] == {"type": "default"}
    nb, nn = calls[1].params["commands"], calls[3].params["commands"]
    assert calls[0].params["commands"] == nb == calls[2].params["commands"]
    assert {"command": "sprak", "description": label("nb", "telegram.command.language")} in nb
    assert {"command": "rettigheter", "description": label("nb", "telegram.command.rights")} in nb
    assert {"command": "rettar", "description": label("nn", "telegram.command.rights")} in nn
    assert all(1 <= len(c["description"]) <= 256 for c in nb + nn)


def test_every_menu_command_is_one_the_dialog_knows() -> None:
    assert menu_commands() == set(Command)
    assert all(name.isascii() and name.islower() for entry in MENU for name in entry[:2])


async def test_a_failed_menu_does_not_stop_the_bot(app: Application,
                                                   offline: OfflineRequest) -> None:
    offline.script["setMyCommands"] = [api_error(400, "Bad Request: bad commands")]
    await set_command_menus(app.bot)
    assert len(offline.sent("setMyCommands")) == 4
