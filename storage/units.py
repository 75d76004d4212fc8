"""The directory of coordinating units (koordinerende enhet) and routing a request to one of them.

The directory is data: `storage/data/units.toml` ships with Din plan, `DINPLAN_UNITS_FILE` points
to another. A municipality joins by adding its units there; no code changes. Each unit has routes
(target groups and districts it serves); a unit without routes takes every request of its
municipality. `dinplan units check FILE` validates a file: that every combination of target group
and district of a municipality reaches exactly one unit, so `route` never has to guess.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

import dialogs.messages  # noqa: F401  (registers the target group labels the router hands out)
from dialogs.draft import Language
from dialogs.municipalities import by_number
from dialogs.routing import RoutingQuestion as DialogRoutingQuestion

__all__ = [
    "DirectoryError",
    "District",
    "MunicipalityEntry",
    "Route",
    "RoutingQuestion",
    "RoutingResult",
    "RoutingStatus",
    "TargetGroup",
    "Unit",
    "UnitsDirectory",
    "check_file",
    "default_directory",
    "load_directory",
    "route",
    "routing_questions",
]

SHIPPED_FILE = Path(__file__).with_name("data") / "units.toml"


class TargetGroup(StrEnum):
    """Who a request is for, as municipalities split their coordinating work (seed 000)."""

    ELDERLY = "elderly"
    DISABLED = "disabled"
    SOMATIC_ILLNESS = "somatic_illness"
    INTELLECTUAL_DISABILITY = "intellectual_disability"
    CHILD_MENTAL_HEALTH = "child_mental_health"
    ADULT_MENTAL_HEALTH = "adult_mental_health"
    # Nobody has to name a diagnosis: a person may not know, or not want to say.
    UNSPECIFIED = "unspecified"


# Catalog keys of the target groups (dialogs/messages.py), for options, alerts and documents.
TARGET_GROUP_LABELS: dict[TargetGroup, str] = {group: f"target_group.{group.value}"
                                               for group in TargetGroup}

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError("use lowercase letters a-z, digits and single hyphens, like 'fana'")
    return value


def _municipality_number(value: str) -> str:
    if not re.fullmatch(r"\d{4}", value):
        raise ValueError("a municipality number has four digits, like '4601'")
    if by_number(value) is None:
        raise ValueError(f"there is no municipality {value} (numbers from 2024-01-01)")
    return value


def _phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "NO")
    except phonenumbers.NumberParseException as error:
        raise ValueError(f"not a phone number: {value!r}") from error
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"not a valid phone number: {value!r}")
    return value


Slug = Annotated[str, Field(max_length=64), AfterValidator(_slug)]
MunicipalityNumber = Annotated[str, AfterValidator(_municipality_number)]
Phone = Annotated[str, AfterValidator(_phone)]
Text = Annotated[str, Field(min_length=1)]


class _Data(BaseModel):
    # Unknown keys are typos; reject them instead of silently ignoring a route.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Names(_Data):
    nb: Text
    nn: Text

    def __call__(self, language: Language | None) -> str:
        return self.nn if language is Language.NYNORSK else self.nb


class District(_Data):
    id: Slug
    name: Text  # a place name, the same in Bokmål and Nynorsk


class MunicipalityEntry(_Data):
    """What a municipality has beyond its units: districts to route by, a general number."""

    number: MunicipalityNumber
    phone: Phone | None = None
    website: Text | None = None
    districts: tuple[District, ...] = ()

    def district(self, district_id: str) -> District | None:
        return next((d for d in self.districts if d.id == district_id), None)


class Route(_Data):
    """Requests this unit takes: any of these target groups (empty: all) in these districts
    (empty: all)."""

    target_groups: tuple[TargetGroup, ...] = ()
    districts: tuple[Slug, ...] = ()

    def takes(self, group: TargetGroup | None, district: str | None) -> bool:
        return ((not self.target_groups or group in self.target_groups)
                and (not self.districts or district in self.districts))


class Unit(_Data):
    id: Slug
    municipality: MunicipalityNumber
    # The language the unit works in: its alerts are written in it.
    language: Language = Language.BOKMAL
    name: Names
    address: Text | None = None
    phone: Phone | None = None
    # How requests reach the unit: its web inbox (the only way so far) ...
    inbox: Literal["web"] = "web"
    # ... and, optionally, an alert (reference and dates only) to the staff's Telegram chat.
    telegram_chat_id: int | None = None
    routes: tuple[Route, ...] = ()

    def takes(self, group: TargetGroup | None, district: str | None) -> bool:
        return not self.routes or any(r.takes(group, district) for r in self.routes)


class UnitsDirectory(_Data):
    municipalities: tuple[MunicipalityEntry, ...] = ()
    units: tuple[Unit, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> UnitsDirectory:
        problems = list(_problems(self))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def unit(self, unit_id: str) -> Unit | None:
        return next((u for u in self.units if u.id == unit_id), None)

    def municipality(self, number: str) -> MunicipalityEntry | None:
        """The municipality's entry; one with units but no entry gets an empty one."""
        entry = next((m for m in self.municipalities if m.number == number), None)
        if entry is None and self.units_of(number):
            return MunicipalityEntry(number=number)
        return entry

    def units_of(self, number: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.municipality == number)

    def contact_phone(self, unit: Unit) -> str | None:
        """The unit's own number, else its municipality's general one."""
        entry = self.municipality(unit.municipality)
        return unit.phone or (entry.phone if entry else None)


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({v for v in values if v in seen or seen.add(v)})  # type: ignore[func-returns-value]


def _asked_groups(units: tuple[Unit, ...]) -> tuple[TargetGroup, ...]:
    """The target groups a municipality's routes name, in the catalog order; empty: not asked."""
    named = {g for u in units for r in u.routes for g in r.target_groups}
    return tuple(g for g in TargetGroup if g in named)


def _problems(directory: UnitsDirectory) -> Iterable[str]:
    for unit_id in _duplicates(u.id for u in directory.units):
        yield f"unit id {unit_id!r} is used twice"
    for number in _duplicates(m.number for m in directory.municipalities):
        yield f"municipality {number} has two [[municipalities]] entries"
    for entry in directory.municipalities:
        for district_id in _duplicates(d.id for d in entry.districts):
            yield f"municipality {entry.number}: district {district_id!r} is listed twice"
        if not directory.units_of(entry.number):
            yield f"municipality {entry.number} has no units"
    numbers = {u.municipality for u in directory.units}
    for number in sorted(numbers):
        yield from _municipality_problems(directory, number)


def _municipality_problems(directory: UnitsDirectory, number: str) -> Iterable[str]:
    entry = directory.municipality(number)
    assert entry is not None
    name = f"{by_number(number).name} ({number})"  # type: ignore[union-attr]
    units = directory.units_of(number)
    known = {d.id for d in entry.districts}
    for unit in units:
        for district_id in sorted({d for r in unit.routes for d in r.districts} - known):
            yield (f"unit {unit.id!r}: district {district_id!r} is not a district of {name} "
                   f"(its [[municipalities]] entry lists: {', '.join(sorted(known)) or 'none'})")
    groups: tuple[TargetGroup | None, ...] = _asked_groups(units) or (None,)
    districts: tuple[str | None, ...] = tuple(sorted(known)) or (None,)
    for group in groups:
        for district in districts:
            takers = [u.id for u in units if u.takes(group, district)]
            if len(takers) == 1:
                continue
            where = " in ".join(filter(None, [
                f"target group {group.value!r}" if group else "",
                f"district {district!r}" if district else "",
            ])) or "a request"
            if takers:
                yield f"{name}: {where} goes to more than one unit: {', '.join(takers)}"
            else:
                yield f"{name}: no unit takes {where}"


class DirectoryError(ValueError):
    """A units file that cannot be used; `problems` are one line each, for people to fix."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


def _where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """A pydantic error location as a reader finds it in the file: units[2] (id 'x').routes[0]."""
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            node = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id") or node.get("number"), str):
                label += f" ({node.get('id') or node.get('number')})"
            parts.append(label)
        else:
            parts.append(f".{item}" if parts else str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


def _explain(error: ValidationError, data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for detail in error.errors():
        message = str(detail["msg"]).removeprefix("Value error, ")
        where = _where(tuple(detail["loc"]), data)
        if where:
            problems.append(f"{where}: {message}")
        else:
            problems.extend(message.splitlines())
    return problems


def parse_directory(text: str, path: Path = Path("<text>")) -> UnitsDirectory:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DirectoryError(path, [f"not valid TOML: {error}"]) from error
    try:
        return UnitsDirectory.model_validate(data)
    except ValidationError as error:
        raise DirectoryError(path, _explain(error, data)) from error


def load_directory(path: Path | None = None) -> UnitsDirectory:
    """The directory in `path`, or the configured one (DINPLAN_UNITS_FILE), or the shipped one."""
    path = path or configured_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DirectoryError(path, [f"cannot read the file: {error.strerror}"]) from error
    return parse_directory(text, path)


def configured_path() -> Path:
    from storage.settings import get_settings

    return get_settings().units_file or SHIPPED_FILE


@cache
def default_directory() -> UnitsDirectory:
    """The configured directory, read once per process."""
    return load_directory()


def check_file(path: Path) -> list[str]:
    """Every problem of a units file, one line each; empty when it is good."""
    try:
        load_directory(path)
    except DirectoryError as error:
        return error.problems
    return []


# Routing -------------------------------------------------------------------------------------


class RoutingStatus(StrEnum):
    ROUTED = "routed"
    NEEDS_ANSWER = "needs_answer"
    NOT_IN_DIRECTORY = "not_in_directory"


@dataclass(frozen=True)
class RoutingQuestion:
    """A question the dialog asks so the request reaches the right unit.

    `kind` is "target_group" (options: TargetGroup values, labels TARGET_GROUP_LABELS) or
    "district" (options: district ids, labels the district names).
    """

    kind: Literal["target_group", "district"]
    options: tuple[str, ...]
    labels: tuple[str, ...]  # catalog keys for target groups, place names for districts


@dataclass(frozen=True)
class RoutingResult:
    status: RoutingStatus
    unit: Unit | None = None
    question: RoutingQuestion | None = None


def _group_question(units: tuple[Unit, ...]) -> RoutingQuestion | None:
    groups = _asked_groups(units)
    if not groups:
        return None
    return RoutingQuestion("target_group", tuple(g.value for g in groups),
                           tuple(TARGET_GROUP_LABELS[g] for g in groups))


def _district_question(entry: MunicipalityEntry) -> RoutingQuestion | None:
    if not entry.districts:
        return None
    return RoutingQuestion("district", tuple(d.id for d in entry.districts),
                           tuple(d.name for d in entry.districts))


def routing_questions(directory: UnitsDirectory, municipality_number: str
                      ) -> tuple[RoutingQuestion, ...]:
    """Every question this municipality may need, in the order to ask them; `route` tells which
    of them a given request still needs (Bergen needs no district for some groups)."""
    entry = directory.municipality(municipality_number)
    if entry is None:
        return ()
    units = directory.units_of(municipality_number)
    return tuple(q for q in (_group_question(units), _district_question(entry)) if q)


def _target_group(value: TargetGroup | str | None) -> TargetGroup | None:
    if value is None or isinstance(value, TargetGroup):
        return value
    try:
        return TargetGroup(value)
    except ValueError:
        return None


def route(directory: UnitsDirectory, municipality_number: str,
          target_group: TargetGroup | str | None, district: str | None) -> RoutingResult:
    """The unit for this request, or the question still needed, or NOT_IN_DIRECTORY.

    An answer the municipality does not use (a district that is not one of its own) counts as not
    given, so the dialog asks again rather than send the request on a guess.
    """
    entry = directory.municipality(municipality_number)
    if entry is None:
        return RoutingResult(RoutingStatus.NOT_IN_DIRECTORY)
    units = directory.units_of(municipality_number)
    group_question = _group_question(units)
    group = _target_group(target_group)
    if group_question is not None:
        if group is None or group.value not in group_question.options:
            return RoutingResult(RoutingStatus.NEEDS_ANSWER, question=group_question)
    else:
        group = None
    if entry.districts:
        candidates = [u for u in units if any(u.takes(group, d.id) for d in entry.districts)]
    else:
        candidates = [u for u in units if u.takes(group, None)]
    if len(candidates) > 1:
        # Several units take this group: the person's district decides.
        if entry.district(district or "") is None:
            return RoutingResult(RoutingStatus.NEEDS_ANSWER, question=_district_question(entry))
        candidates = [u for u in candidates if u.takes(group, district)]
    if len(candidates) != 1:
        # A validated directory has exactly one; anything else is treated as not covered.
        return RoutingResult(RoutingStatus.NOT_IN_DIRECTORY)
    return RoutingResult(RoutingStatus.ROUTED, unit=candidates[0])


class DirectoryRouter:
    """The units directory as the dialog's `Router` (dialogs/routing.py)."""

    def __init__(self, directory: UnitsDirectory) -> None:
        self.directory = directory

    def in_directory(self, municipality_number: str) -> bool:
        return self.directory.municipality(municipality_number) is not None

    def next_question(self, municipality_number: str, target_group: str | None,
                      district: str | None) -> DialogRoutingQuestion | None:
        result = route(self.directory, municipality_number, target_group, district)
        if result.status is not RoutingStatus.NEEDS_ANSWER or result.question is None:
            return None
        question = result.question
        return DialogRoutingQuestion(question.kind, question.options, question.labels)

    def unit_name(self, municipality_number: str, target_group: str | None,
                  district: str | None, language: Language) -> str | None:
        result = route(self.directory, municipality_number, target_group, district)
        return result.unit.name(language) if result.unit else None

    def district_name(self, municipality_number: str, district: str) -> str | None:
        entry = self.directory.municipality(municipality_number)
        found = entry.district(district) if entry else None
        return found.name if found else None


def default_router() -> DirectoryRouter:
    return DirectoryRouter(default_directory())
