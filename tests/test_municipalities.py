"""The municipality list (2024-01-01) and matching of what a person types."""

from __future__ import annotations

import ast
import dataclasses
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

import dialogs.municipalities as municipalities_module
from dialogs.municipalities import (
    Municipality,
    MunicipalityMatch,
    all_municipalities,
    by_number,
    match_municipality,
)

COUNTIES_2024 = {
    "03": "Oslo",
    "11": "Rogaland",
    "15": "Møre og Romsdal",
    "18": "Nordland",
    "31": "Østfold",
    "32": "Akershus",
    "33": "Buskerud",
    "34": "Innlandet",
    "39": "Vestfold",
    "40": "Telemark",
    "42": "Agder",
    "46": "Vestland",
    "50": "Trøndelag",
    "55": "Troms",
    "56": "Finnmark",
}

# Municipalities per county from 2024-01-01 (SSB).
COUNTY_SIZES = {
    "03": 1,
    "11": 23,
    "15": 27,
    "18": 41,
    "31": 12,
    "32": 21,
    "33": 18,
    "34": 46,
    "39": 6,
    "40": 17,
    "42": 25,
    "46": 43,
    "50": 38,
    "55": 21,
    "56": 18,
}


def _found(text: str) -> Municipality:
    match = match_municipality(text)
    assert match.found is not None, f"{text!r} gave no match: {match}"
    assert match.suggestions == ()
    return match.found


def _numbers(ms: tuple[Municipality, ...]) -> list[str]:
    return [m.number for m in ms]


def _plain(name: str) -> str:
    """A name as typed on a keyboard without Sami letters: no diacritics, ŋ as n."""
    name = name.translate(str.maketrans("ŋđŧ", "ndt"))
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


# --- the data ---------------------------------------------------------------------------------


def test_there_are_357_municipalities_with_unique_numbers() -> None:
    ms = all_municipalities()
    assert len(ms) == 357
    assert len({m.number for m in ms}) == 357


def test_numbers_are_four_digits_in_order() -> None:
    numbers = [m.number for m in all_municipalities()]
    assert all(len(n) == 4 and n.isdigit() for n in numbers)
    assert numbers == sorted(numbers)


def test_every_number_starts_with_its_2024_county_code() -> None:
    for m in all_municipalities():
        assert m.number[:2] in COUNTIES_2024, m
        assert m.county == COUNTIES_2024[m.number[:2]], m


def test_county_sizes_match_2024() -> None:
    assert Counter(m.number[:2] for m in all_municipalities()) == COUNTY_SIZES


def test_names_are_clean() -> None:
    for m in all_municipalities():
        assert m.name, m
        assert m.name == m.name.strip(), m
        assert all(n and n == n.strip() and n != m.name for n in m.other_names), m


@pytest.mark.parametrize(
    ("number", "name", "county"),
    [
        ("0301", "Oslo", "Oslo"),
        ("1103", "Stavanger", "Rogaland"),
        ("1508", "Ålesund", "Møre og Romsdal"),
        ("1580", "Haram", "Møre og Romsdal"),
        ("1804", "Bodø", "Nordland"),
        ("1867", "Bø", "Nordland"),
        ("3101", "Halden", "Østfold"),
        ("3103", "Moss", "Østfold"),
        ("3105", "Sarpsborg", "Østfold"),
        ("3107", "Fredrikstad", "Østfold"),
        ("3110", "Hvaler", "Østfold"),
        ("3118", "Indre Østfold", "Østfold"),
        ("3201", "Bærum", "Akershus"),
        ("3203", "Asker", "Akershus"),
        ("3205", "Lillestrøm", "Akershus"),
        ("3228", "Nes", "Akershus"),
        ("3234", "Lunner", "Akershus"),
        ("3236", "Jevnaker", "Akershus"),
        ("3301", "Drammen", "Buskerud"),
        ("3303", "Kongsberg", "Buskerud"),
        ("3338", "Nore og Uvdal", "Buskerud"),
        ("3403", "Hamar", "Innlandet"),
        ("3905", "Tønsberg", "Vestfold"),
        ("3911", "Færder", "Vestfold"),
        ("4001", "Porsgrunn", "Telemark"),
        ("4003", "Skien", "Telemark"),
        ("4020", "Midt-Telemark", "Telemark"),
        ("4204", "Kristiansand", "Agder"),
        ("4601", "Bergen", "Vestland"),
        ("4635", "Gulen", "Vestland"),
        ("5001", "Trondheim", "Trøndelag"),
        ("5501", "Tromsø", "Troms"),
        ("5503", "Harstad", "Troms"),
        ("5540", "Kåfjord", "Troms"),
        ("5601", "Alta", "Finnmark"),
        ("5603", "Hammerfest", "Finnmark"),
        ("5610", "Karasjok", "Finnmark"),
        ("5612", "Kautokeino", "Finnmark"),
        ("5628", "Tana", "Finnmark"),
        ("5636", "Nesseby", "Finnmark"),
    ],
)
def test_spot_checks(number: str, name: str, county: str) -> None:
    m = by_number(number)
    assert m is not None
    assert (m.name, m.county) == (name, county)


@pytest.mark.parametrize(
    ("number", "other_names"),
    [
        ("5612", ("Guovdageaidnu",)),
        ("5540", ("Gáivuotna", "Kaivuono")),
        ("5622", ("Porsáŋgu", "Porsanki")),
        ("5628", ("Deatnu",)),
        ("5636", ("Unjárga",)),
        ("5610", ("Kárášjohka",)),
        ("5041", ("Snåase",)),
        ("5043", ("Raarvihke",)),
        ("1826", ("Aarborte",)),
        ("1875", ("Hábmer",)),
        ("5538", ("Omasvuotna", "Omasvuono")),
        ("5544", ("Ráisa", "Raisi")),
        ("5001", ("Tråante",)),
        ("1833", ("Raane",)),
        ("5516", ("Rivtták",)),
        ("4601", ()),
        ("1806", ()),
    ],
)
def test_official_sami_and_kven_names(number: str, other_names: tuple[str, ...]) -> None:
    m = by_number(number)
    assert m is not None
    assert m.other_names == other_names


def test_dissolved_municipalities_are_gone() -> None:
    names = {m.name for m in all_municipalities()}
    # Tysfjord (split 2020), Bø i Telemark and Sande i Vestfold (merged 2020).
    assert "Tysfjord" not in names
    assert [m.number for m in all_municipalities() if m.name == "Bø"] == ["1867"]
    assert [m.number for m in all_municipalities() if m.name == "Sande"] == ["1514"]


@pytest.mark.parametrize("old_number", ["1507", "3024", "3803", "5401", "5430", "3001"])
def test_numbers_from_before_2024_are_unknown(old_number: str) -> None:
    assert by_number(old_number) is None
    assert match_municipality(old_number) == MunicipalityMatch(found=None, suggestions=())


def test_by_number() -> None:
    assert by_number("4601") == _found("Bergen")
    assert by_number(" 4601 ") == _found("Bergen")
    assert by_number("9999") is None
    assert by_number("Bergen") is None


def test_the_list_is_loaded_once() -> None:
    assert all_municipalities() is all_municipalities()


def test_values_are_frozen() -> None:
    m = all_municipalities()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.name = "Christiania"  # type: ignore[misc]  # on purpose: mypy refuses it too


def test_the_module_uses_the_standard_library_only() -> None:
    tree = ast.parse(Path(municipalities_module.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
    }
    assert imported
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


# --- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        # Case and spacing.
        ("Bergen", "4601"),
        ("bergen", "4601"),
        ("BERGEN", "4601"),
        ("  Bergen  ", "4601"),
        ("Indre  Østfold", "3118"),
        ("indre østfold", "3118"),
        # Hyphens, spaces, neither.
        ("Nord-Fron", "3436"),
        ("Nord Fron", "3436"),
        ("nordfron", "3436"),
        ("Aurskog Høland", "3226"),
        ("Aurskog - Høland", "3226"),
        ("Midt Telemark", "4020"),
        ("Sør Varanger", "5605"),
        ("Nore & Uvdal", "3338"),
        # "kommune" and its Sami and other forms.
        ("Bergen kommune", "4601"),
        ("Oslo Kommune", "0301"),
        ("Bergen kommuna", "4601"),
        ("Guovdageaidnu suohkan", "5612"),
        ("Kautokeino kommune", "5612"),
        # æ/ø/å typed otherwise.
        ("baerum", "3201"),
        ("Barum", "3201"),
        ("Bærum", "3201"),
        ("tromso", "5501"),
        ("Tromsoe", "5501"),
        ("Tromsö", "5501"),
        ("alesund", "1508"),
        ("Aalesund", "1508"),
        ("Lillestrom", "3205"),
        ("Orsta", "1520"),
        ("Faerder", "3911"),
        ("Bodo", "1804"),
        ("aas", "3218"),
        ("As", "3218"),
        ("Ha", "1119"),
        ("Bo", "1867"),
        # Four-digit numbers.
        ("4601", "4601"),
        (" 0301 ", "0301"),
        ("1580", "1580"),
        # A name whose county is given.
        ("Herøy i Nordland", "1818"),
        ("Herøy (Møre og Romsdal)", "1515"),
        ("heroy more og romsdal", "1515"),
        ("Våler Østfold", "3114"),
        ("Våler i Innlandet", "3419"),
        # Pasted official forms and number-name pairs.
        ("Guovdageaidnu - Kautokeino", "5612"),
        ("Gáivuotna - Kåfjord - Kaivuono", "5540"),
        ("Unjárga gielda/Nesseby kommune", "5636"),
        ("4601 Bergen", "4601"),
    ],
)
def test_tolerant_matching(text: str, number: str) -> None:
    assert _found(text).number == number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Guovdageaidnu", "5612"),
        ("guovdageaidnu", "5612"),
        ("Kárášjohka", "5610"),
        ("karasjohka", "5610"),
        ("Porsáŋgu", "5622"),
        ("porsangu", "5622"),
        ("Porsanki", "5622"),
        ("Gáivuotna", "5540"),
        ("gaivuotna", "5540"),
        ("Kaivuono", "5540"),
        ("Deatnu", "5628"),
        ("Unjárga", "5636"),
        ("unjarga", "5636"),
        ("Snåase", "5041"),
        ("snaase", "5041"),
        ("Raarvihke", "5043"),
        ("Aarborte", "1826"),
        ("Hábmer", "1875"),
        ("habmer", "1875"),
        ("Tråante", "5001"),
        ("Ráisa", "5544"),
        ("Raisi", "5544"),
        ("Omasvuono", "5538"),
        ("Evenášši", "1853"),
        ("evenassi", "1853"),
        ("Dielddanuorri", "5512"),
        ("Loabák", "5518"),
        ("Hámmerfeasta", "5603"),
    ],
)
def test_sami_and_kven_names(text: str, number: str) -> None:
    assert _found(text).number == number


def test_every_name_finds_its_municipality() -> None:
    for m in all_municipalities():
        if m.name in {"Herøy", "Våler"}:
            continue
        for name in (m.name, *m.other_names):
            assert _found(name) == m, name
            assert _found(_plain(name)) == m, _plain(name)
            assert _found(f"{name.upper()} kommune") == m, name
        assert _found(m.number) == m


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bergne", "4601"),
        ("Trondhiem", "5001"),
        ("Kristiansnad", "4204"),
        ("Frederikstad", "3107"),
        ("hamerfest", "5603"),
        ("Stavnger", "1103"),
        ("Guovdageidnu", "5612"),
        ("Trond", "5001"),
    ],
)
def test_typos_give_suggestions_not_a_match(text: str, expected: str) -> None:
    match = match_municipality(text)
    assert match.found is None
    assert 1 <= len(match.suggestions) <= 3
    assert match.suggestions[0].number == expected


def test_a_typo_between_two_names_suggests_both() -> None:
    match = match_municipality("Kristiansnad")
    assert match.found is None
    assert {"4204", "1505"} <= set(_numbers(match.suggestions))


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Herøy", ["1515", "1818"]),
        ("heroy", ["1515", "1818"]),
        ("Herøy kommune", ["1515", "1818"]),
        ("Våler", ["3114", "3419"]),
        ("Valer", ["3114", "3419"]),
        ("Heröy", ["1515", "1818"]),
    ],
)
def test_shared_names_are_not_guessed(text: str, numbers: list[str]) -> None:
    match = match_municipality(text)
    assert match.found is None
    assert _numbers(match.suggestions) == numbers
    # The county is what tells them apart.
    assert len({m.county for m in match.suggestions}) == len(numbers)


def test_herøy_and_våler_are_the_only_shared_names() -> None:
    shared = {m.name for m in all_municipalities() if match_municipality(m.name).found is None}
    assert shared == {"Herøy", "Våler"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!!",
        "-",
        "kommune",
        "asdfgh",
        "qwertyuiop",
        "xyzzy",
        "hei",
        "ja",
        "nei",
        "Jeg vet ikke",
        "1234",
        "12345",
        "46011",
        "hallo",
        "Norge",
        "Svalbard",  # not a municipality
    ],
)
def test_garbage_gives_nothing(text: str) -> None:
    assert match_municipality(text) == MunicipalityMatch(found=None, suggestions=())


def test_suggestions_never_exceed_three() -> None:
    for text in ("Nord", "Sør", "Vest", "Øst", "Kvin", "Ringe", "Hol", "Aus"):
        match = match_municipality(text)
        assert len(match.suggestions) <= 3, text
