"""The catalogs as the tests read them: the .pot, both .po files, a fresh extraction and the
message registry in the code."""

from __future__ import annotations

import ast
import importlib
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from locales import DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
POT = LOCALE_DIR / f"{DOMAIN}.pot"
PACKAGES = ("dialogs", "bot", "storage", "inbox")
# Staff texts are not read by citizens: the coordinating unit's web inbox, and the alert of a new
# request in the unit's staff chat (bot/texts.py). They are spelled and checked like the rest, but
# the readability limits for citizens do not apply to them.
STAFF_PREFIXES = ("inbox.", "alert.")

MessageId = tuple[str | None, str]  # (msgctxt, msgid); a plural is keyed by its singular


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


@cache
def catalog(language: str) -> Catalog:
    return read_catalog(po_path(language), language)


@cache
def template() -> Catalog:
    return read_catalog(POT)


def entries(cat: Catalog) -> dict[MessageId, Message]:
    """The entries of a catalog, header and obsolete entries left out."""
    return {ident(m): m for m in cat if m.id}


def ident(message: Message) -> MessageId:
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return (message.context, msgid)


def forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, tuple | list) else (value,)


@dataclass(frozen=True)
class Translation:
    """One non-empty translation: the key (msgctxt), the English and each translated form."""

    key: str
    source: tuple[str, ...]
    text: tuple[str, ...]

    @property
    def citizen_facing(self) -> bool:
        return not self.key.startswith(STAFF_PREFIXES)


def raw_header(path: Path) -> dict[str, str]:
    """The header fields as the file writes them (Babel fills in missing ones from the locale)."""
    header = []
    in_header = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith('msgid ""'):
            in_header = True
        elif in_header and line.startswith('msgstr "'):
            header.append(line[len("msgstr "):])
        elif in_header and line.startswith('"') and header:
            header.append(line)
        elif in_header and header:
            break
    text = "".join(ast.literal_eval(part) for part in header)
    fields = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {name.strip(): value.strip() for name, value in fields}


def translations(language: str) -> list[Translation]:
    return [Translation(m.context or "", forms(m.id), forms(m.string))
            for m in entries(catalog(language)).values()
            if any(forms(m.string))]


def babel_keywords() -> list[str]:
    """The keyword options of the Makefile's catalogs-update, so the test extracts the same."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^BABEL_KEYWORDS\s*:?=(.*)$", makefile, re.MULTILINE)
    if found is None:
        raise AssertionError("BABEL_KEYWORDS is not set in the Makefile")
    return shlex.split(found.group(1))


@cache
def extracted() -> Catalog:
    """What `make catalogs-update` would put in the .pot now, read without touching locales/."""
    with tempfile.TemporaryDirectory(prefix="dinplan-extract-") as folder:
        output = Path(folder) / f"{DOMAIN}.pot"
        command = [sys.executable, "-m", "babel.messages.frontend", "--quiet", "extract",
                   "-F", "pyproject.toml", *babel_keywords(), "--sort-by-file",
                   "-o", str(output), "."]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False,
                                timeout=120)
        if result.returncode != 0:
            raise AssertionError(f"pybabel extract failed:\n{result.stderr}")
        return read_catalog(output)


def _modules_with_messages() -> list[str]:
    """Every module of the app that registers messages (`catalog(` in its source)."""
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            if "catalog(" in path.read_text(encoding="utf-8"):
                names.append(".".join(relative.with_suffix("").parts).removesuffix(".__init__"))
    return names


@cache
def registry() -> dict[str, str]:
    """dialogs.messages.MESSAGES once every module that adds to it is imported: key -> English."""
    for name in _modules_with_messages():
        importlib.import_module(name)
    from dialogs.messages import MESSAGES

    return {key: message.source for key, message in MESSAGES.items()}


__all__ = ["LANGUAGES", "ROOT", "Translation", "catalog", "entries", "extracted", "po_path",
           "registry", "template", "translations"]
