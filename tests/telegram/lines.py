"""What the bot says and shows, in a given written standard, straight from the catalogs."""

from __future__ import annotations

import html

from dialogs.draft import Language
from dialogs.events import ParamValue, Reply
from dialogs.render import message, render


def say(language: str, key: str, **params: ParamValue) -> str:
    """A message as the bot sends it (HTML parse mode: parameters escaped)."""
    return render(Language(language), Reply(key, dict(params)), html.escape).text


def label(language: str, key: str) -> str:
    """A button's label as the person sees it."""
    return message(Language(language), key)


def first_sentence(language: str, key: str) -> str:
    """Enough of a message to recognise it, without its placeholders."""
    text = message(Language(language), key)
    return text.split("{", 1)[0].split(". ", 1)[0]
