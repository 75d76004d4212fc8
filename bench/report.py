"""Results as rows: printed as a table, and written to bench/RESULTS.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Row:
    metric: str
    value: str
    target: str = ""
    met: bool | None = None  # None: no target, or nothing to judge

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: ""}[self.met]


@dataclass
class Section:
    title: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # raw results, kept in the JSON
    seconds: float = 0.0


def failed(title: str, error: BaseException) -> Section:
    """A benchmark that could not run still gets its section, saying why."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return Section(title, [Row("(not measured)", f"{type(error).__name__}", "", False)],
                   [f"Failed: {line}" for line in lines[-12:]])


def table(sections: list[Section]) -> str:
    """A plain-text table for the terminal."""
    width = max([len(r.metric) for s in sections for r in s.rows] + [20])
    value_width = max([len(r.value) for s in sections for r in s.rows] + [10])
    out: list[str] = []
    for section in sections:
        out.append(f"\n{section.title}  ({section.seconds:.0f} s)")
        for row in section.rows:
            out.append(f"  {row.metric:<{width}}  {row.value:>{value_width}}  "
                       f"{row.target:<12} {row.verdict}")
    return "\n".join(out)


def markdown(sections: list[Section]) -> str:
    out: list[str] = []
    for section in sections:
        out += [f"### {section.title}", "", "| metric | value | target | |",
                "| --- | ---: | --- | --- |"]
        out += [f"| {r.metric} | {r.value} | {r.target} | {r.verdict} |" for r in section.rows]
        if section.notes:
            out.append("")
            out += [f"- {note}" for note in section.notes]
        out.append(f"- Took {section.seconds:.0f} s.")
        out.append("")
    return "\n".join(out)
