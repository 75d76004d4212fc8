"""The units directory: the shipped entries from the seeds, routing, and `dinplan units check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from storage.settings import get_settings
from storage.units import (
    SHIPPED_FILE,
    RoutingStatus,
    TargetGroup,
    UnitsDirectory,
    check_file,
    configured_path,
    load_directory,
    parse_directory,
    route,
    routing_questions,
)

BERGEN, GULEN, OSLO = "4601", "4635", "0301"
DISTRICT_OFFICES = {
    "arna": "bergen-vurderingskontoret-arna-asane-bergenhus-arstad",
    "asane": "bergen-vurderingskontoret-arna-asane-bergenhus-arstad",
    "bergenhus": "bergen-vurderingskontoret-arna-asane-bergenhus-arstad",
    "arstad": "bergen-vurderingskontoret-arna-asane-bergenhus-arstad",
    "fyllingsdalen": "bergen-vurderingskontoret-fyllingsdalen-laksevag",
    "laksevag": "bergen-vurderingskontoret-fyllingsdalen-laksevag",
    "fana": "bergen-vurderingskontoret-fana-ytrebygda",
    "ytrebygda": "bergen-vurderingskontoret-fana-ytrebygda",
}
# Seed 000: the assessment offices take these groups; seed 001: the district's coordinating unit
# also takes a person who would rather not name one.
BY_DISTRICT = (TargetGroup.ELDERLY, TargetGroup.DISABLED, TargetGroup.SOMATIC_ILLNESS,
               TargetGroup.UNSPECIFIED)
CITY_WIDE = {
    TargetGroup.INTELLECTUAL_DISABILITY: "bergen-forvaltning-utviklingshemmede",
    TargetGroup.CHILD_MENTAL_HEALTH: "bergen-forvaltning-barn-og-unge",
    TargetGroup.ADULT_MENTAL_HEALTH: "bergen-forvaltningsenheten-psykisk-helse",
}


@pytest.fixture(scope="module")
def shipped() -> UnitsDirectory:
    return load_directory(SHIPPED_FILE)


def test_the_shipped_directory_is_valid() -> None:
    assert check_file(SHIPPED_FILE) == []


def test_the_shipped_units_are_those_of_the_seeds(shipped: UnitsDirectory) -> None:
    office = shipped.unit("bergen-vurderingskontoret-fana-ytrebygda")
    assert office is not None
    assert office.address == "Wollert Konows plass 2, Pb 85 Nesttun, 5852 Bergen"
    assert office.phone == "55 56 51 90"
    disabled = shipped.unit("bergen-forvaltning-utviklingshemmede")
    assert disabled is not None
    assert disabled.phone == "408 18 874"
    adults = shipped.unit("bergen-forvaltningsenheten-psykisk-helse")
    assert adults is not None
    assert adults.phone is None
    # Without a number of its own, the coordinating unit's general number (seed 001) is shown.
    assert shipped.contact_phone(adults) == "55 56 55 56"
    gulen = shipped.unit("gulen-koordinerande-eining")
    assert gulen is not None
    assert gulen.address == "Eivindvikvegen 1149, 5966 Eivindvik"
    assert gulen.name.nn == "Gulen kommune, koordinerande eining"
    assert gulen.language.value == "nn"
    # No personal names in the directory (seed 004 names its coordinator; we do not).
    text = SHIPPED_FILE.read_text(encoding="utf-8")
    for name in ("Wenche", "Leite", "Molland", "Elde"):
        assert name not in text


@pytest.mark.parametrize("district", sorted(DISTRICT_OFFICES))
@pytest.mark.parametrize("group", BY_DISTRICT)
def test_bergen_routes_by_district(shipped: UnitsDirectory, group: TargetGroup,
                                   district: str) -> None:
    result = route(shipped, BERGEN, group, district)
    assert result.status is RoutingStatus.ROUTED
    assert result.unit is not None
    assert result.unit.id == DISTRICT_OFFICES[district]


@pytest.mark.parametrize("group", BY_DISTRICT)
def test_bergen_asks_the_district_when_it_decides(shipped: UnitsDirectory,
                                                  group: TargetGroup) -> None:
    result = route(shipped, BERGEN, group.value, None)
    assert result.status is RoutingStatus.NEEDS_ANSWER
    assert result.question is not None
    assert result.question.kind == "district"
    assert set(result.question.options) == set(DISTRICT_OFFICES)
    assert "Åsane" in result.question.labels
    assert "Laksevåg" in result.question.labels


@pytest.mark.parametrize("district", [None, *sorted(DISTRICT_OFFICES)])
@pytest.mark.parametrize(("group", "unit_id"), sorted(CITY_WIDE.items()))
def test_bergen_city_wide_units_need_no_district(shipped: UnitsDirectory, group: TargetGroup,
                                                 unit_id: str, district: str | None) -> None:
    result = route(shipped, BERGEN, group, district)
    assert result.status is RoutingStatus.ROUTED
    assert result.unit is not None
    assert result.unit.id == unit_id


def test_bergen_asks_the_target_group_first(shipped: UnitsDirectory) -> None:
    result = route(shipped, BERGEN, None, "fana")
    assert result.status is RoutingStatus.NEEDS_ANSWER
    assert result.question is not None
    assert result.question.kind == "target_group"
    assert result.question.options == tuple(g.value for g in TargetGroup)
    assert result.question.labels[0] == "target_group.elderly"
    questions = routing_questions(shipped, BERGEN)
    assert [q.kind for q in questions] == ["target_group", "district"]


def test_answers_bergen_does_not_use_are_asked_again(shipped: UnitsDirectory) -> None:
    unknown_group = route(shipped, BERGEN, "martians", "fana")
    assert unknown_group.status is RoutingStatus.NEEDS_ANSWER
    assert unknown_group.question is not None
    assert unknown_group.question.kind == "target_group"
    unknown_district = route(shipped, BERGEN, TargetGroup.ELDERLY, "grünerløkka")
    assert unknown_district.status is RoutingStatus.NEEDS_ANSWER
    assert unknown_district.question is not None
    assert unknown_district.question.kind == "district"


@pytest.mark.parametrize("group", [None, *TargetGroup])
def test_gulen_has_one_unit_and_asks_nothing(shipped: UnitsDirectory,
                                             group: TargetGroup | None) -> None:
    assert routing_questions(shipped, GULEN) == ()
    result = route(shipped, GULEN, group, None)
    assert result.status is RoutingStatus.ROUTED
    assert result.unit is not None
    assert result.unit.id == "gulen-koordinerande-eining"


@pytest.mark.parametrize("number", [OSLO, "9999", ""])
def test_a_municipality_not_in_the_directory(shipped: UnitsDirectory, number: str) -> None:
    assert routing_questions(shipped, number) == ()
    result = route(shipped, number, TargetGroup.ELDERLY, "fana")
    assert result.status is RoutingStatus.NOT_IN_DIRECTORY
    assert result.unit is None
    assert result.question is None


def test_a_municipality_joins_by_adding_an_entry() -> None:
    text = SHIPPED_FILE.read_text(encoding="utf-8") + """
[[units]]
id = "oslo-test"
municipality = "0301"
name.nb = "Koordinerende enhet"
name.nn = "Koordinerande eining"
"""
    directory = parse_directory(text)
    result = route(directory, OSLO, None, None)
    assert result.status is RoutingStatus.ROUTED
    assert result.unit is not None
    assert result.unit.id == "oslo-test"


def test_the_setting_chooses_another_file(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "units.toml"
    other.write_text(SHIPPED_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("DINPLAN_UNITS_FILE", str(other))
    get_settings.cache_clear()
    try:
        assert configured_path() == other
    finally:
        monkeypatch.delenv("DINPLAN_UNITS_FILE")
        get_settings.cache_clear()
    assert configured_path() == SHIPPED_FILE


# dinplan units check ---------------------------------------------------------------------------

GOOD = """
[[municipalities]]
number = "4601"
districts = [{ id = "arna", name = "Arna" }, { id = "fana", name = "Fana" }]

[[units]]
id = "east"
municipality = "4601"
name = { nb = "Øst", nn = "Aust" }
routes = [{ target_groups = ["elderly"], districts = ["arna"] }]

[[units]]
id = "south"
municipality = "4601"
name = { nb = "Sør", nn = "Sør" }
telegram_chat_id = -1001234567890
routes = [{ target_groups = ["elderly"], districts = ["fana"] },
          { target_groups = ["adult_mental_health"] }]
"""

BAD = {
    "syntax": ("[[units]\nid = 'x'", ["not valid TOML"]),
    "unknown key": (GOOD.replace('id = "east"', 'id = "east"\nadress = "Gata 1"'),
                    ["units[0] (east).adress: Extra inputs are not permitted"]),
    "bad id": (GOOD.replace('id = "east"', 'id = "Øst kontor"'),
               ["units[0] (Øst kontor).id: use lowercase letters"]),
    "no such municipality": (GOOD.replace('municipality = "4601"\nname = { nb = "Øst"',
                                          'municipality = "1201"\nname = { nb = "Øst"'),
                             ["units[0] (east).municipality: there is no municipality 1201"]),
    "unknown target group": (GOOD.replace('["adult_mental_health"]', '["martians"]'),
                             ["units[1] (south).routes[1].target_groups[0]: Input should be "
                              "'elderly'"]),
    "missing name": (GOOD.replace('name = { nb = "Sør", nn = "Sør" }', 'name = { nb = "Sør" }'),
                     ["units[1] (south).name.nn: Field required"]),
    "bad phone": (GOOD.replace('name = { nb = "Øst", nn = "Aust" }',
                               'name = { nb = "Øst", nn = "Aust" }\nphone = "12"'),
                  ["units[0] (east).phone: not a valid phone number: '12'"]),
    "gap": (GOOD.replace('districts = ["fana"]', 'districts = ["arna"]'),
            ["Bergen (4601): no unit takes target group 'elderly' in district 'fana'",
             "Bergen (4601): target group 'elderly' in district 'arna' goes to more than one "
             "unit: east, south"]),
    "district not listed": (GOOD.replace('districts = ["arna"]', 'districts = ["arna", "sentrum"]'),
                            ["unit 'east': district 'sentrum' is not a district of Bergen (4601)"]),
    "id used twice": (GOOD.replace('id = "south"', 'id = "east"'),
                      ["unit id 'east' is used twice"]),
}


def test_units_check_accepts_a_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    path = tmp_path / "good.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["units", "check", str(path)]) == 0
    assert "OK, 2 units in 1 municipalities" in capsys.readouterr().out
    directory = load_directory(path)
    south = route(directory, "4601", "adult_mental_health", None)
    assert south.unit is not None
    assert south.unit.telegram_chat_id == -1001234567890


@pytest.mark.parametrize("case", sorted(BAD))
def test_units_check_explains_a_bad_file(case: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    text, expected = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["units", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err
    for line in expected:
        assert line in err, err


def test_units_check_of_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    assert main(["units", "check", str(tmp_path / "nowhere.toml")]) == 1
    assert "cannot read the file" in capsys.readouterr().err


def test_units_list_shows_the_directory_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["units", "list"]) == 0
    out = capsys.readouterr().out
    assert str(SHIPPED_FILE) in out
    assert "4601 Bergen, general phone 55 56 55 56" in out
    assert "gulen-koordinerande-eining" in out
