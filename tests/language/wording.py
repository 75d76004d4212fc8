"""Reading a translation as a person does: its words, its sentences, its LIX and its spelling.

What is not prose is taken out before spelling and written-standard checks: placeholders
(`{name}`), commands (`/sprak`), web addresses (`helsenorge.no`) and numbers. Readability keeps
them, because the person reads them too: a placeholder counts as one short word.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Formatter

PLACEHOLDER = re.compile(r"\{[^{}]*\}")
COMMAND = re.compile(r"(?<![\w/])/[^\W\d_]\w*")
WEB_ADDRESS = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:no|com|org|net|eu|gov|io)\b(?:/\S*)?",
    re.IGNORECASE,
)
# A word is letters, with hyphens or apostrophes only inside it (ende-til-ende-kryptert).
WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
# A sentence ends at . ! ? or : followed by a space, a closing quote or bracket, or the end;
# a line that ends without one (a list item, a label) ends a sentence too.
SENTENCE_END = re.compile(r"[.!?:]+(?=[\s»”\"')\]]|$)")
LINE_END_MARK = re.compile(r"[.!?:][»”\"')\]]*$")

LONG_WORD = 6  # LIX: a long word has more than six letters
HUNSPELL_DIRS = (Path("/usr/share/hunspell"), Path("/usr/share/myspell/dicts"),
                 Path("/usr/share/myspell"))
DICTIONARIES = {"nb": "nb_NO", "nn": "nn_NO"}


def placeholders(template: str) -> set[str]:
    """The `{...}` fields of a str.format template; raises ValueError on a stray brace."""
    fields = set()
    for _literal, name, spec, conversion in Formatter().parse(template):
        if name is not None:
            fields.add("{" + name + (f"!{conversion}" if conversion else "")
                       + (f":{spec}" if spec else "") + "}")
    return fields


def commands(text: str) -> set[str]:
    return {match.group()[1:] for match in COMMAND.finditer(PLACEHOLDER.sub(" ", text))}


def prose(text: str) -> str:
    """The text without placeholders, web addresses, commands and numbers."""
    text = PLACEHOLDER.sub(" ", text)
    text = WEB_ADDRESS.sub(" ", text)
    return COMMAND.sub(" ", text)


def words(text: str) -> list[str]:
    """The words of the prose, for spelling and written-standard checks."""
    return WORD.findall(prose(text))


@dataclass(frozen=True)
class Readability:
    words: int
    sentences: int
    long_words: int

    @property
    def lix(self) -> float:
        if not self.words:
            return 0.0
        return self.words / self.sentences + 100 * self.long_words / self.words


def readability(text: str) -> Readability:
    """LIX counts as in Björnsson's definition: words split on spaces, long is > 6 letters."""
    text = PLACEHOLDER.sub("X", text)
    n_words = n_long = n_sentences = 0
    for line in text.splitlines():
        tokens = [t for t in line.split() if any(ch.isalnum() for ch in t)]
        if not tokens:
            continue
        n_words += len(tokens)
        n_long += sum(1 for t in tokens if sum(ch.isalpha() for ch in t) > LONG_WORD)
        n_sentences += len(SENTENCE_END.findall(line))
        if not LINE_END_MARK.search(line.rstrip()):
            n_sentences += 1
    return Readability(n_words, max(n_sentences, 1 if n_words else 0), n_long)


@dataclass(frozen=True)
class Figures:
    count: int
    median_lix: float
    max_lix: float
    max_lix_key: str
    median_words: float
    max_words: int
    max_words_key: str


def figures(scores: Mapping[str, Readability]) -> Figures:
    lix = {key: score.lix for key, score in scores.items()}
    max_lix_key = max(lix, key=lambda key: (lix[key], key))
    max_words_key = max(scores, key=lambda key: (scores[key].words, key))
    return Figures(len(scores), statistics.median(lix.values()), lix[max_lix_key], max_lix_key,
                   statistics.median(score.words for score in scores.values()),
                   scores[max_words_key].words, max_words_key)


class HunspellMissingError(RuntimeError):
    """hunspell or Debian's Norwegian dictionaries are not installed (`make system-deps`)."""


def dictionary(language: str) -> Path:
    name = DICTIONARIES[language]
    for folder in HUNSPELL_DIRS:
        if (folder / f"{name}.dic").is_file() and (folder / f"{name}.aff").is_file():
            return folder / name
    raise HunspellMissingError(
        f"the hunspell dictionary {name} is missing; install the Debian package hunspell-no "
        "(`make system-deps`)")


def unknown_words(language: str, candidates: Iterable[str]) -> set[str]:
    """The words hunspell does not know in nb_NO or nn_NO."""
    program = shutil.which("hunspell")
    if program is None:
        raise HunspellMissingError("hunspell is not installed; `make system-deps` installs it")
    unique = sorted(set(candidates))
    result = subprocess.run(
        [program, "-i", "utf-8", "-d", str(dictionary(language)), "-l"],
        input="\n".join(unique) + "\n", capture_output=True, text=True, encoding="utf-8",
        check=True, timeout=60,
    )
    return {line.strip() for line in result.stdout.splitlines() if line.strip()}


def read_word_list(path: Path) -> dict[str, int]:
    """A list of one word a line, `#` comments and blank lines ignored; word -> line number."""
    found: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        word = line.split("#", 1)[0].strip()
        if word:
            found[word] = number
    return found
