"""The gettext catalogs (Bokmål and Nynorsk) and lookup of one message in one of them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import Translations

DOMAIN = "dinplan"
LOCALE_DIR = Path(__file__).parent
LANGUAGES = ("nb", "nn")


class CatalogMissingError(RuntimeError):
    """The compiled catalogs are not there: the set-up (`make catalogs`) has not run."""


@cache
def translations(language: str) -> Translations:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    mo = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.is_file():
        raise CatalogMissingError(f"{mo} is missing; run `make catalogs` to compile the catalogs")
    with mo.open("rb") as handle:
        return Translations(handle, domain=DOMAIN)


def translate(language: str, key: str, source: str) -> str:
    """The translation of one message; the key is its gettext context."""
    return str(translations(language).pgettext(key, source))


def translate_plural(language: str, key: str, singular: str, plural: str, count: int) -> str:
    """The translation of a message with a count, in the form the catalog's Plural-Forms picks
    for that count; the key is its gettext context."""
    return str(translations(language).npgettext(key, singular, plural, count))
