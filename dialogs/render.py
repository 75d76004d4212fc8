"""Turn replies into text in the person's written standard, for any transport."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from babel.lists import format_list

from dialogs.draft import Language
from dialogs.events import Label, LabelList, Option, ParamValue, Reply
from dialogs.messages import MESSAGES
from locales import translate

DEFAULT_LANGUAGE = Language.BOKMAL

# Transports escape what the person wrote (for Telegram's HTML) without touching catalog text.
Escape = Callable[[str], str]


@dataclass(frozen=True)
class RenderedOption:
    id: str
    label: str


@dataclass(frozen=True)
class RenderedReply:
    text: str
    options: tuple[RenderedOption, ...]
    expect: str


def message(language: Language | None, key: str) -> str:
    lang = (language or DEFAULT_LANGUAGE).value
    return translate(lang, key, MESSAGES[key].source)


def _value(language: Language | None, value: ParamValue, escape: Escape) -> str:
    lang = (language or DEFAULT_LANGUAGE).value
    if isinstance(value, Label):
        return message(language, value.key)
    if isinstance(value, LabelList):
        return format_list([message(language, key) for key in value.keys], locale=lang)
    if isinstance(value, date):
        return format_date(value, format="long", locale=lang)
    if isinstance(value, int):
        return str(value)
    return escape(value)


def _fill(language: Language | None, key: str, params: dict[str, ParamValue],
          escape: Escape) -> str:
    template = message(language, key)
    return template.format_map({name: _value(language, v, escape) for name, v in params.items()})


def render_option(language: Language | None, option: Option, escape: Escape = str) -> str:
    return _fill(language, option.key, option.params, escape)


def render(language: Language | None, reply: Reply, escape: Escape = str) -> RenderedReply:
    return RenderedReply(
        text=_fill(language, reply.key, reply.params, escape),
        options=tuple(RenderedOption(o.id, render_option(language, o, escape))
                      for o in reply.options),
        expect=reply.expect.value,
    )
