"""Every message is in both catalogs, correct in its written standard and easy to read.

The people who use Din plan may be tired, ill, old, young, or writing for someone they care for,
so the catalogs are checked like code: complete, consistent with the source, spelled right
(hunspell with Debian's nb_NO and nn_NO), Bokmål kept out of Nynorsk and the other way round,
and short sentences with few long words (LIX).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest

from dialogs.events import parse_command

from .catalogs import (
    LANGUAGES,
    ROOT,
    catalog,
    entries,
    extracted,
    ident,
    po_path,
    raw_header,
    registry,
    template,
    translations,
)
from .wording import (
    Readability,
    commands,
    figures,
    placeholders,
    read_word_list,
    readability,
    unknown_words,
    words,
)

PLURAL_FORMS = "nplurals=2; plural=(n != 1);"
REVIEWED_WORDS = ROOT / "locales" / "reviewed-words.txt"

# Readability of what a citizen reads (issue 9). LIX = words/sentences + 100 * long/words.
MEDIAN_LIX = 35
MAX_LIX = 50
MAX_WORDS = 60
# Below five words one long word moves LIX by 20 points or more: the label «Kommune» scores 101.
# So the maximum applies from five words on; the median and the word limit take every message,
# option labels and titles included.
LIX_MIN_WORDS = 5


def _forms(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Forms of the other written standard that must never appear, matched as whole words. Nynorsk as
# in seeds 003 and 004 (ikkje, kva, korleis, eg, tenester, koordinerande eining, pårørande,
# samtykkje), Bokmål as in seeds 000 and 001.
BOKMAL_ONLY = _forms("""
    ikke hva hvordan hvorfor hvem hvilken hvilket hvilke hvis jeg bare også mye noen noe nå
    tjeneste tjenesten tjenester tjenestene tjenesteyter enhet enheten pårørende koordinerende
""")
NYNORSK_ONLY = _forms("""
    ikkje kva korleis kvifor kven kvar eg berre òg mykje nokon noko nokre no ein eit dei frå
    vere teneste tenesta tenester tenestene tenesteytar eining eininga pårørande koordinerande
    samtykkje samtykkjer
""")
FOREIGN_FORMS = {"nn": BOKMAL_ONLY, "nb": NYNORSK_ONLY}
# «nå» is also the verb «reach», which is Nynorsk too (seed 003: «slik at du kan nå måla dine»);
# only the adverb «now» (Nynorsk «no») is Bokmål. The verb comes up to three words after «å» or a
# modal verb («kan koordinerande eining nå deg»).
VERB_NAA_AFTER = frozenset({"å", "kan", "kunne", "skal", "skulle", "vil", "ville", "må", "får"})


def _citizen_texts(language: str) -> dict[str, str]:
    """Each citizen-facing translation (every form of a plural) by its key."""
    known = registry()
    texts: dict[str, str] = {}
    for message in translations(language):
        if message.key not in known or not message.citizen_facing:
            continue
        for index, text in enumerate(message.text):
            texts[message.key if index == 0 else f"{message.key}[{index}]"] = text
    return texts


# --- complete and consistent ----------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    cat = catalog(language)
    assert not cat.fuzzy, f"the header of {po_path(language)} is marked fuzzy"
    untranslated, fuzzy = [], []
    for message in entries(cat).values():
        if message.fuzzy:
            fuzzy.append(message.context)
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        if len(strings) != (2 if message.pluralizable else 1) or not all(strings):
            untranslated.append(message.context)
    problems = {"no translation": untranslated, "fuzzy (check, then drop the flag)": fuzzy}
    assert not any(problems.values()), f"{language}: " + "; ".join(
        f"{what}: {keys}" for what, keys in problems.items() if keys)


@pytest.mark.parametrize("language", LANGUAGES)
def test_header(language: str) -> None:
    headers = raw_header(po_path(language))
    assert headers.get("Plural-Forms") == PLURAL_FORMS, (
        f"{language}: Plural-Forms must be {PLURAL_FORMS!r}, not {headers.get('Plural-Forms')!r}")
    assert headers.get("Language") == language
    assert "charset=utf-8" in headers.get("Content-Type", "").lower()


@pytest.mark.parametrize("language", LANGUAGES)
def test_msgfmt_check(language: str, tmp_path: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "msgfmt (Debian package gettext) is missing: run `make system-deps`"
    result = subprocess.run([msgfmt, "--check", "-o", str(tmp_path / "out.mo"),
                             str(po_path(language))],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, f"msgfmt --check {po_path(language)}:\n{result.stderr}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match(language: str) -> None:
    wrong = []
    for message in translations(language):
        for index, text in enumerate(message.text):
            # A plural's first form answers the English singular, the others its plural.
            source = message.source[min(index, len(message.source) - 1)]
            try:
                expected, found = placeholders(source), placeholders(text)
            except ValueError as error:
                wrong.append(f"{message.key}: {error}")
                continue
            if expected != found:
                wrong.append(f"{message.key}: {sorted(expected)} in English, {sorted(found)} "
                             f"in {language}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("language", LANGUAGES)
def test_commands_in_translations_exist(language: str) -> None:
    unknown = {f"{m.key}: /{name}" for m in translations(language)
               for text in m.text for name in commands(text) if parse_command(name) is None}
    assert not unknown, f"{language}: commands the bot does not know: {sorted(unknown)}"


def _keys(ids: Iterable[tuple[str | None, object]]) -> list[str]:
    """Message ids as their keys (the msgctxt), which is what a person looks up."""
    return sorted(str(ctx) for ctx, _msgid in ids)


def test_catalogs_match_the_code() -> None:
    """Babel's extraction (as `make catalogs-update` runs it), the .pot, both .po files and the
    registry `dialogs.messages.MESSAGES` hold the same messages: nothing missing, nothing old."""
    code = set(entries(extracted()))
    missing: dict[tuple[str, ...], list[str]] = {}
    problems = []
    for name, cat in [("locales/dinplan.pot", template())] + [
            (str(po_path(lang).relative_to(ROOT)), catalog(lang)) for lang in LANGUAGES]:
        held = set(entries(cat))
        missing.setdefault(tuple(_keys(code - held)), []).append(name)
        if stale := _keys(held - code):
            problems.append(f"{name} holds messages the code no longer has (or whose English "
                            f"changed): {stale}")
        if cat.obsolete:
            obsolete = _keys(ident(m) for m in cat.obsolete.values())
            problems.append(f"{name} holds obsolete (#~) entries: {obsolete}")
    problems += [f"{', '.join(names)} lack {list(keys)}" for keys, names in missing.items() if keys]
    assert not problems, "run `make catalogs-update`, translate, drop old entries:\n" + "\n".join(
        problems)

    registered = {(key, source) for key, source in registry().items()}
    extracted_ids = {(ctx, msgid if isinstance(msgid, str) else msgid[0]) for ctx, msgid in code}
    unseen = _keys(registered - extracted_ids)
    assert not unseen, ("messages in dialogs.messages.MESSAGES that pybabel does not extract "
                        f"(not a literal `text(...)`, or a folder missing from the mapping in "
                        f"pyproject.toml): {unseen}")
    unregistered = _keys(extracted_ids - registered)
    assert not unregistered, f"`text(...)` outside a `catalog(...)` call: {unregistered}"


# --- no user-facing text outside the catalogs -------------------------------------------------

# Calls that show text to a person: the terminal (print) and Telegram (python-telegram-bot).
SHOWS_TEXT = frozenset({
    "print", "reply_text", "reply_html", "reply_markdown", "reply_markdown_v2", "send_message",
    "edit_message_text", "edit_message_caption", "answer", "send_photo", "send_document",
    "InlineKeyboardButton", "KeyboardButton", "BotCommand", "set_chat_menu_button",
})
TEXT_KEYWORDS = frozenset({"text", "caption", "description"})
HTML_TAG = re.compile(r"</?[a-z][a-z0-9]*>")  # Telegram HTML markup around catalog text
SCANNED = ("dialogs", "bot")
# The `dinplan` command's operator subcommands (bot/cli.py, bot/forwarding_cli.py) speak English
# to whoever runs the service, never to a citizen; the citizen's terminal chat is bot/terminal.py.
OPERATOR_MODULE = re.compile(r"(?:^|_)cli\.py$|^__main__\.py$")


def _literal_parts(node: ast.expr) -> list[str]:
    """The literal text an argument is built from: a string, an f-string, `+`, `%`, `.format`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [re.sub(r"\{[^{}]*\}", "", node.value)]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values
                if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return _literal_parts(node.left) + _literal_parts(node.right)
    if isinstance(node, ast.IfExp):
        return _literal_parts(node.body) + _literal_parts(node.orelse)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"format", "join"}):
        return _literal_parts(node.func.value)
    return []


def _goes_to_stderr(call: ast.Call) -> bool:
    return any(k.arg == "file" and isinstance(k.value, ast.Attribute) and k.value.attr == "stderr"
               for k in call.keywords)


def hardcoded_texts(source: str, filename: str) -> list[str]:
    """String literals with letters passed to a call that shows text to a person.

    Rule: a literal counts when it holds a letter outside `{...}` fields and HTML tags and is a
    positional argument, or `text=`/`caption=`/`description=`, of a call in SHOWS_TEXT. Symbols,
    spacing, markup and numbering (`"> "`, `f"  {n}) {label}"`, `f"<b>{title}</b>"`) pass; so
    does `print(..., file=sys.stderr)`, which is for the operator, and logging, which never
    reaches the person.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else (
            func.attr if isinstance(func, ast.Attribute) else None)
        if name not in SHOWS_TEXT or _goes_to_stderr(node):
            continue
        arguments = [*node.args, *(k.value for k in node.keywords if k.arg in TEXT_KEYWORDS)]
        for argument in arguments:
            for part in _literal_parts(argument):
                if any(ch.isalpha() for ch in HTML_TAG.sub("", part)):
                    where = f"{filename}:{argument.lineno}"
                    found.append((argument.lineno, f"{where}: {name}({part!r})"))
    return [line for _number, line in sorted(found)]


def test_no_user_facing_text_outside_the_catalogs() -> None:
    found = []
    for package in SCANNED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if OPERATOR_MODULE.search(path.name):
                continue
            relative = str(path.relative_to(ROOT))
            found += hardcoded_texts(path.read_text(encoding="utf-8"), relative)
    assert not found, ("text shown to a person must come from the catalogs "
                       "(`text(...)` in a `catalog(...)`, rendered by dialogs.render):\n"
                       + "\n".join(found))


def test_the_scan_finds_hardcoded_text() -> None:
    source = '\n'.join([
        'print("Hei, velkommen")',
        'await update.message.reply_text(f"Takk, {name}!")',
        'bot.send_message(chat_id, text="Noko gjekk gale: " + reason)',
        'print("> ", end="")',
        'print(f"  {number}) {option.label}")',
        'await message.reply_html(f"<b>{title}</b>\\n{body}")',
        'print(render(language, Reply("goodbye")).text)',
        'print("could not connect", file=sys.stderr)',
        'log.info("turn failed")',
    ])
    found = hardcoded_texts(source, "example.py")
    assert [line.split(":")[1] for line in found] == ["1", "2", "3"]


# --- spelling and written standard ------------------------------------------------------------

def _reviewed_words() -> dict[str, set[str]]:
    """The reviewed list: word -> the languages it is accepted in (a word alone: both)."""
    accepted: dict[str, set[str]] = {}
    for entry in read_word_list(REVIEWED_WORDS):
        word, *tags = entry.split()
        assert set(tags) <= set(LANGUAGES), f"{REVIEWED_WORDS.name}: unknown language in {entry!r}"
        accepted[word] = set(tags) or set(LANGUAGES)
    return accepted


def _words_by_language() -> dict[str, dict[str, set[str]]]:
    """word -> keys of the messages it is in, per language; hyphenated words also by part."""
    found: dict[str, dict[str, set[str]]] = {}
    for language in LANGUAGES:
        table = found.setdefault(language, {})
        for message in translations(language):
            for text in message.text:
                for word in words(text):
                    for item in {word, *re.split(r"[-'’]", word)}:
                        table.setdefault(item, set()).add(message.key)
    return found


def _unknown(language: str) -> dict[str, set[str]]:
    table = _words_by_language()[language]
    return {word: table.get(word, set()) for word in unknown_words(language, table)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_spelling(language: str) -> None:
    """hunspell with Debian's nb_NO or nn_NO knows every word, or it is on the reviewed list."""
    reviewed = _reviewed_words()
    misspelled = {word: sorted(keys) for word, keys in _unknown(language).items()
                  if language not in reviewed.get(word, set())}
    assert not misspelled, (
        f"{language}: words hunspell ({language}_NO) does not know; fix the spelling, or add a "
        f"checked name or term to {REVIEWED_WORDS.relative_to(ROOT)}: {misspelled}")


def test_reviewed_words_are_all_needed() -> None:
    """The list stays short: every entry is a word hunspell rejects in a catalog that uses it."""
    unknown = {language: _unknown(language) for language in LANGUAGES}
    stale = sorted(f"{word} ({language})" for word, languages in _reviewed_words().items()
                   for language in languages if word not in unknown[language])
    assert not stale, (f"{REVIEWED_WORDS.relative_to(ROOT)}: drop these, hunspell knows them or "
                       f"no catalog uses them: {stale}")


def foreign_forms(language: str, text: str) -> list[str]:
    """Whole words of the other written standard in a text (hyphenated words by part)."""
    foreign = FOREIGN_FORMS[language]
    tokens = [t.casefold() for word in words(text) for t in re.split(r"[-'’]", word) if t]
    return [token for index, token in enumerate(tokens) if token in foreign
            and not (token == "nå" and VERB_NAA_AFTER & set(tokens[max(index - 3, 0):index]))]


@pytest.mark.parametrize("language", LANGUAGES)
def test_written_standard(language: str) -> None:
    """No Bokmål forms in Nynorsk, no Nynorsk forms in Bokmål (whole words, any case)."""
    found = [f"{message.key}: «{form}»" for message in translations(language)
             for text in message.text for form in foreign_forms(language, text)]
    assert not found, f"{language}: forms of the other written standard: {found}"


def test_written_standard_check_finds_forms() -> None:
    assert foreign_forms("nn", "Nå kan eininga nå deg, og du kan nå måla dine.") == ["nå"]
    assert foreign_forms("nn", "Slik at koordinerande eining kan nå deg; best å nå: i dag") == []
    assert foreign_forms("nn", "Hva vil du? Jeg vet IKKE, men også tjenester.") == [
        "hva", "jeg", "ikke", "også", "tjenester"]
    assert foreign_forms("nn", "Ikkje noko nytt frå helsenorge.no, skriv /hjelp.") == []
    assert foreign_forms("nb", "Kva er ein pårørande? Sjå helsenorge.no.") == [
        "kva", "ein", "pårørande"]
    assert foreign_forms("nb", "Korleis-skjema og noen tjenester") == ["korleis"]


def test_written_standard_lists_are_not_shared() -> None:
    assert not BOKMAL_ONLY & NYNORSK_ONLY


# --- readability ------------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_readability(language: str, language_report: list[str]) -> None:
    scores: dict[str, Readability] = {key: readability(text)
                                      for key, text in _citizen_texts(language).items()}
    scores = {key: score for key, score in scores.items() if score.words}
    sized = {key: score for key, score in scores.items() if score.words >= LIX_MIN_WORDS}
    overall, running_text = figures(scores), figures(sized)
    language_report.append(
        f"{language}: {overall.count} citizen-facing messages, LIX median "
        f"{overall.median_lix:.1f} (limit {MEDIAN_LIX}); LIX max {running_text.max_lix:.1f} "
        f"({running_text.max_lix_key}) over the {running_text.count} of {LIX_MIN_WORDS}+ words "
        f"(limit {MAX_LIX}); words median {overall.median_words:g}, longest "
        f"{overall.max_words} ({overall.max_words_key}, limit {MAX_WORDS})")
    too_hard = {key: round(score.lix, 1) for key, score in sized.items() if score.lix > MAX_LIX}
    too_long = {key: score.words for key, score in scores.items() if score.words > MAX_WORDS}
    assert overall.median_lix <= MEDIAN_LIX, (
        f"{language}: LIX median {overall.median_lix:.1f} is over {MEDIAN_LIX}")
    assert not too_hard, (f"{language}: LIX over {MAX_LIX}; write shorter sentences with fewer "
                          f"long words: {too_hard}")
    assert not too_long, f"{language}: over {MAX_WORDS} words: {too_long}"


def test_readability_counts_like_lix() -> None:
    # 9 words, 2 sentences, 2 words of more than six letters (fastlegen, kontaktar).
    score = readability("Kva heiter fastlegen din? Han kontaktar deg i dag.")
    assert (score.words, score.sentences, score.long_words) == (9, 2, 2)
    assert round(score.lix, 1) == round(9 / 2 + 100 * 2 / 9, 1)
    listed = readability("Døme:\n• Eg likar å gå tur\n• Eg gir ikkje opp")
    assert listed.sentences == 3
    assert readability("Skriv /status eller les helsenorge.no.").sentences == 1
    assert Counter(words("Sjå {name} på helsenorge.no, skriv /hjelp eller ring 55 56 55 56.")) \
        == Counter(["Sjå", "på", "skriv", "eller", "ring"])
