"""Every keyboard the bot shows, and the short callback data its buttons carry.

A button's data names the option and the conversation's turn and step when it was shown, so a
press on an old message (after /tilbake, after sending, after a restart) is recognised as stale.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.constants import InlineKeyboardButtonLimit

from dialogs.render import RenderedOption
from dialogs.steps import Step

MAX_CALLBACK_DATA = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # bytes


def step_code(step: Step) -> str:
    """Four characters naming a step, stable however the steps are ordered."""
    return hashlib.blake2s(step.value.encode(), digest_size=2).hexdigest()


@dataclass(frozen=True)
class ButtonPress:
    """What a button says: which option, shown at which turn of which step."""

    turn: int
    step: str
    option: str

    def encode(self) -> str:
        data = f"{self.turn}:{self.step}:{self.option}"
        if len(data.encode()) > MAX_CALLBACK_DATA:
            raise ValueError(f"callback data over {MAX_CALLBACK_DATA} bytes for {self.option!r}")
        return data

    @classmethod
    def parse(cls, data: str | None) -> ButtonPress | None:
        """The press, or None for data this bot did not make (or an older format)."""
        turn, _, rest = (data or "").partition(":")
        step, _, option = rest.partition(":")
        if not (turn.isdigit() and len(step) == 4 and option):
            return None
        return cls(int(turn), step, option)

    def is_current(self, *, turn: int, step: Step) -> bool:
        return self.turn == turn and self.step == step_code(step)


def button_label(option: RenderedOption) -> str:
    """Buttons show plain text, so undo the HTML escaping of the rendered label."""
    return html.unescape(option.label)


def choices(options: tuple[RenderedOption, ...], *, turn: int,
            step: Step) -> InlineKeyboardMarkup:
    """One button per row: labels are whole phrases, and phones are narrow."""
    code = step_code(step)
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(button_label(option),
                              callback_data=ButtonPress(turn, code, option.id).encode())]
        for option in options
    ])


def share_phone(label: str, options: tuple[RenderedOption, ...]) -> ReplyKeyboardMarkup:
    """Telegram's own button that shares the person's number, and the step's options as text.

    A message carries one keyboard, so the options ride here as reply buttons: pressing one
    sends its label, which is read back as that option.
    """
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label, request_contact=True)],
         *[[KeyboardButton(button_label(option))] for option in options]],
        resize_keyboard=True, one_time_keyboard=True,
    )


def private_chat(label: str, username: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, url=f"https://t.me/{username}")]])


def pressed_label(markup: InlineKeyboardMarkup | None, data: str | None) -> str | None:
    """The label of the button that was pressed, read from the message it sits on."""
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None
