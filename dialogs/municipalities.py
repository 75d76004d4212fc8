"""Norway's 357 municipalities (from 2024-01-01) and matching of what a person types.

The data is `data/municipalities.csv` (see the source note on its first line). Matching is
forgiving about how people actually write place names in a chat: any case, extra spaces, hyphens
or none, a trailing "kommune", æ/ø/å typed as ae/o/oe/aa/a, Sami letters without diacritics, and
the official Sami and Kven names. Only an unambiguous exact match is `found`; anything less
(a typo, or a name that two municipalities share) comes back as `suggestions` for the person to
choose from, so nothing is ever sent to the wrong municipality on a guess.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "Municipality",
    "MunicipalityMatch",
    "all_municipalities",
    "by_number",
    "match_municipality",
]

_DATA_FILE = Path(__file__).with_name("data") / "municipalities.csv"

MAX_SUGGESTIONS = 3

# How alike (difflib ratio, 0..1) a typo must be to a name to be offered as a suggestion. Real
# typos ("Bergne", "Trondhiem") score above 0.8 and most unrelated words far lower; a word that
# ends like a name ("ingen" ~ Lødingen) can get through, harmlessly: it is only offered.
_FUZZY_CUTOFF = 0.75

# Shorter input is not guessed at: "hei" or "ja" would otherwise look like Heim or Hå. The same
# length makes a prefix worth offering ("Trond" -> Trondheim).
_MIN_FUZZY_LENGTH = 4

# Words that say "municipality" in Norwegian, Sami and Kven; people add them to the name.
_MUNICIPALITY_WORDS = frozenset(
    {"kommune", "kommunen", "kommuna", "suohkan", "gielda", "tjielte", "kunta", "komuuni"}
)

# Letters that Unicode decomposition does not reduce to a base letter. æ/ø/å go to one vowel
# because people write them as "a"/"o" as often as "ae"/"oe"/"aa" (collapsed below).
_LETTERS = str.maketrans({"æ": "a", "ø": "o", "å": "a", "đ": "d", "ŋ": "n", "ŧ": "t", "ß": "ss"})

# Two-letter spellings of æ/ø/å ("baerum", "tromsoe", "aalesund").
_DIGRAPHS = re.compile(r"aa|ae|oe")
_DIGRAPH_LETTER = {"aa": "a", "ae": "a", "oe": "o"}

_NUMBER = re.compile(r"\d{4}")

# Where an official multi-language name or a "number name" pair is pasted, its parts are split
# on these: "Guovdageaidnu - Kautokeino", "Unjárga gielda/Nesseby kommune", "4601 Bergen".
_PART_SEPARATORS = re.compile(r"\s+[-–—]\s+|[/,;|]|(?<=\d)\s+|\s+(?=\d)")


@dataclass(frozen=True, slots=True)
class Municipality:
    number: str  # four digits, e.g. "4601"; the key, since names are not unique
    name: str  # Norwegian name, e.g. "Bergen"
    other_names: tuple[str, ...]  # official Sami and Kven names
    county: str  # county name, what tells "Herøy" from "Herøy" apart


@dataclass(frozen=True, slots=True)
class MunicipalityMatch:
    found: Municipality | None  # a single certain match
    suggestions: tuple[Municipality, ...]  # up to 3 candidates when not certain


_NO_MATCH = MunicipalityMatch(found=None, suggestions=())


def _skeleton(text: str) -> str:
    """Reduce a name to the letters and digits that survive every common way of typing it."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    text = text.replace("&", " og ")
    words = [w for w in re.split(r"[^0-9a-z]+", text) if w]
    # Drop "kommune" and the like, unless that is all there is.
    kept = [w for w in words if w not in _MUNICIPALITY_WORDS] or words
    return _DIGRAPHS.sub(lambda m: _DIGRAPH_LETTER[m.group()], "".join(kept))


def _load(lines: Iterable[str]) -> tuple[Municipality, ...]:
    rows = csv.DictReader(line for line in lines if not line.startswith("#"))
    return tuple(
        Municipality(
            number=row["number"],
            name=row["name"],
            other_names=tuple(n for n in row["other_names"].split("|") if n),
            county=row["county"],
        )
        for row in rows
    )


@cache
def all_municipalities() -> tuple[Municipality, ...]:
    """All municipalities, ordered by number."""
    with _DATA_FILE.open(encoding="utf-8", newline="") as f:
        return _load(f)


@cache
def _by_number() -> dict[str, Municipality]:
    return {m.number: m for m in all_municipalities()}


@cache
def _name_index() -> dict[str, tuple[Municipality, ...]]:
    """Skeleton of every name (Norwegian, Sami, Kven) -> the municipalities that carry it."""
    index: dict[str, list[Municipality]] = {}
    for m in all_municipalities():
        for key in {_skeleton(name) for name in (m.name, *m.other_names)}:
            index.setdefault(key, []).append(m)
    return {key: tuple(ms) for key, ms in index.items()}


@cache
def _qualified_index() -> dict[str, Municipality]:
    """Names made certain by their county: "Herøy (Nordland)", "Våler i Østfold"."""
    index: dict[str, Municipality] = {}
    for m in all_municipalities():
        for name in (m.name, *m.other_names):
            index[_skeleton(f"{name} {m.county}")] = m
            index[_skeleton(f"{name} i {m.county}")] = m
    return index


def by_number(number: str) -> Municipality | None:
    """The municipality with this four-digit number, or None (also for pre-2024 numbers)."""
    return _by_number().get(number.strip())


def _exact(text: str) -> tuple[Municipality, ...]:
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        found = by_number(stripped)
        return (found,) if found else ()
    key = _skeleton(stripped)
    if not key:
        return ()
    if key in _name_index():
        return _name_index()[key]
    qualified = _qualified_index().get(key)
    return (qualified,) if qualified else ()


def _from_parts(text: str) -> Municipality | None:
    """One municipality when every part of "Deatnu - Tana" or "4601 Bergen" names that same one."""
    parts = [p for p in _PART_SEPARATORS.split(text) if p.strip()]
    if len(parts) < 2:
        return None
    matches = {_exact(part) for part in parts}
    if len(matches) == 1:
        (only,) = matches
        if len(only) == 1:
            return only[0]
    return None


def _closest(key: str) -> tuple[Municipality, ...]:
    """Up to MAX_SUGGESTIONS municipalities whose names are most like `key`, best first."""
    matcher = difflib.SequenceMatcher(b=key)
    scored: list[tuple[float, str]] = []
    for name_key in _name_index():
        matcher.set_seq1(name_key)
        score = matcher.ratio()
        if name_key.startswith(key):
            score = max(score, _FUZZY_CUTOFF)
        if score >= _FUZZY_CUTOFF:
            scored.append((score, name_key))
    scored.sort(key=lambda item: (-item[0], item[1]))
    result: list[Municipality] = []
    for _, name_key in scored:
        for m in _name_index()[name_key]:
            if m not in result:
                result.append(m)
    return tuple(result[:MAX_SUGGESTIONS])


def match_municipality(text: str) -> MunicipalityMatch:
    """Match what a person typed to a municipality: certain, suggestions, or nothing."""
    exact = _exact(text)
    if len(exact) == 1:
        return MunicipalityMatch(found=exact[0], suggestions=())
    if exact:
        # A name two municipalities share: the caller shows the counties to choose between.
        return MunicipalityMatch(found=None, suggestions=exact[:MAX_SUGGESTIONS])
    from_parts = _from_parts(text)
    if from_parts:
        return MunicipalityMatch(found=from_parts, suggestions=())
    key = _skeleton(text)
    if len(key) < _MIN_FUZZY_LENGTH or key.isdigit():
        return _NO_MATCH
    return MunicipalityMatch(found=None, suggestions=_closest(key))
