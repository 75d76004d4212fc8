"""Run the benchmarks, print the table, write bench/RESULTS.md (and raw numbers as JSON).

    python -m bench                 # everything, the issue's sizes (`make bench`, ~15 min)
    python -m bench --quick         # smaller sizes (~5 min): 400 people, peer (c) 300, memory
                                    # 3,000 projected to 10,000
    python -m bench --users 500     # fewer people in the throughput run
    python -m bench --only 1,4      # some of them: 1 throughput, 2 growth, 3 memory, 4 export,
                                    # 5 start-up, 6 PostgreSQL, 7 profiles
    python -m bench --small         # tiny sizes: proves the machinery, measures nothing
    python -m bench --small --raw /tmp/raw.json   # the raw numbers elsewhere than bench/out/

Every measurement runs in a process of its own; see bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.harness import OUT, ROOT
from bench.report import Section, failed, markdown, table

FINDINGS = ROOT / "bench" / "findings.md"


@dataclass
class Sizes:
    """Default sizes: the issue's, where it names them (2,000 people through the whole
    conversation for us and every peer, memory at 10,000 conversations); about 15 minutes on 2
    shared cores, most of it peer (c), whose every update rewrites the pickle of all 2,000.
    RESULTS.md says which sizes a run used."""

    users: int = 2_000  # 1: people through the whole conversation, per variant
    # 1: people for peer (c) if not `users` (it rewrites its whole pickle file after every
    # update, so its cost per update grows with the people stored).
    every_users: int | None = None
    rounds: int = 1  # 1: rounds of all four variants
    growth_sizes: list[int] = field(default_factory=lambda: [0, 100_000, 1_000_000])
    growth_users: int = 120
    growth_batch: int = 10  # 2: people on one database before the next takes its turn
    memory_many: int = 10_000  # 3: the target's size (smaller: projected linearly)
    memory_few: int = 100
    memory_steps: int = 5
    pdf_runs: int = 40
    fhir_runs: int = 500
    starts: int = 5
    webhook_users: int = 60
    offline_users: int = 60
    limited_users: int = 20
    pg_rounds: int = 2
    profile_users: int = 60
    pyspy: bool = True


# `--quick`: what a full run took before it ran at the sizes, about 5 minutes.
QUICK = Sizes(users=400, every_users=300, memory_many=3_000)
SMALL = Sizes(users=3, every_users=None, rounds=1, growth_sizes=[0, 200], growth_users=2,
              growth_batch=1, memory_many=30, memory_few=5, memory_steps=3, pdf_runs=3,
              fhir_runs=20, starts=1, webhook_users=4, offline_users=4, limited_users=2,
              profile_users=3, pyspy=False)


def benchmarks(sizes: Sizes) -> dict[str, tuple[str, Callable[[], Section]]]:
    from bench import export, growth, memory, postgres, profiles, startup, throughput

    return {
        "1": ("durable throughput", lambda: throughput.run(
            users=sizes.users, rounds=sizes.rounds, every_users=sizes.every_users)),
        "2": ("growth", lambda: growth.run(sizes=sizes.growth_sizes, users=sizes.growth_users,
                                          batch=sizes.growth_batch)),
        "3": ("memory", lambda: memory.run(many=sizes.memory_many, few=sizes.memory_few,
                                          steps=sizes.memory_steps)),
        "4": ("export", lambda: export.run(pdf_runs=sizes.pdf_runs, fhir_runs=sizes.fhir_runs)),
        "5": ("start-up", lambda: startup.run(starts=sizes.starts)),
        "6": ("PostgreSQL", lambda: postgres.run(
            webhook_users=sizes.webhook_users, offline_users=sizes.offline_users,
            limited_users=sizes.limited_users, rounds=sizes.pg_rounds)),
        "7": ("profiles", lambda: profiles.run(users=sizes.profile_users, pyspy=sizes.pyspy)),
    }


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def machine() -> list[str]:
    import sqlalchemy
    import telegram

    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    # The previous run's RESULTS.md is rewritten by every run: not a change to the code measured.
    dirty = _git("status", "--porcelain", "--", ".", ":(exclude)bench/RESULTS.md")
    return [
        f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}",
        f"Python {platform.python_version()}, python-telegram-bot {telegram.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}, SQLite {__import__('sqlite3').sqlite_version}",
        f"code: {_git('rev-parse', '--short', 'HEAD') or '?'}"
        + (f" with {len(dirty.splitlines())} uncommitted change(s) in the tree" if dirty else ""),
    ]


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def results_markdown(sections: list[Section], sizes: Sizes, started: dt.datetime,
                     seconds: float, loads: list[str], small: bool,
                     machine_lines: list[str] | None = None) -> str:
    verdicts = [row for section in sections for row in section.rows if row.met is not None]
    met = sum(1 for row in verdicts if row.met)
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand: the run replaces it. "
        "How the benchmarks work: bench/README.md.",
        "",
        f"- Run {started:%Y-%m-%d %H:%M} UTC, took {seconds / 60:.1f} min"
        + (" with `--small` sizes: these numbers prove the machinery, not the speed." if small
           else "."),
        *[f"- {line}" for line in machine_lines or machine()],
        f"- Load average (1, 5, 15 min) before / after: {loads[0]} / {loads[-1]}. The machine "
        "is shared and noisy: compare ratios taken in the same run, not absolute times.",
        f"- Sizes: {json.dumps(asdict(sizes))}",
        f"- Targets met: {met} of {len(verdicts)}.",
        "",
        "## Summary",
        "",
        "| benchmark | metric | value | target | |",
        "| --- | --- | ---: | --- | --- |",
    ]
    for section in sections:
        number = section.title.split(".", 1)[0]
        for row in section.rows:
            if row.met is not None or section is sections[0]:
                lines.append(f"| {number} | {row.metric} | {row.value} | {row.target} | "
                             f"{row.verdict} |")
    lines += ["", "## Details", "", markdown(sections)]
    if FINDINGS.exists():
        lines += ["## What limits it, and the fixes proposed", "",
                  FINDINGS.read_text().strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int,
                        help="people in the throughput run (default 2,000)")
    parser.add_argument("--rounds", type=int, help="rounds of the throughput run (default 1)")
    parser.add_argument("--only", help="comma-separated benchmark numbers (default: all)")
    parser.add_argument("--small", action="store_true", help="tiny sizes, a smoke run")
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes, about 5 minutes (400 people, peer (c) 300, memory "
                             "3,000 projected to 10,000)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md",
                        help="where to write the results (default bench/RESULTS.md)")
    parser.add_argument("--raw", type=Path,
                        help="where to write every raw number as JSON (default "
                             "bench/out/results.json, with --small bench/out/results-small.json); "
                             "--rewrite reads it from there")
    parser.add_argument("--no-profile", action="store_true", help="leave out py-spy")
    parser.add_argument("--rewrite", action="store_true",
                        help="measure nothing: write the results file again from the last run's "
                             "raw numbers (bench/out/results.json, or --raw) after editing "
                             "bench/findings.md")
    return parser.parse_args(argv)


def raw_path(args: argparse.Namespace) -> Path:
    """Where the raw numbers go (and --rewrite reads them from)."""
    if args.raw is not None:
        return Path(args.raw)
    return OUT / ("results-small.json" if args.small else "results.json")


def rewrite(results: Path, raw_file: Path) -> int:
    from bench.report import Row

    raw = json.loads(raw_file.read_text())
    sections = [Section(s["title"], [Row(**row) for row in s["rows"]], s["notes"], s["data"],
                        s["seconds"]) for s in raw["sections"]]
    meta = raw["meta"]
    results.write_text(results_markdown(
        sections, Sizes(**raw["sizes"]), dt.datetime.fromisoformat(meta["started"]),
        meta["seconds"], meta["loads"], meta["small"], machine_lines=meta["machine"]))
    print(f"wrote {results} from {raw_file}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rewrite:
        return rewrite(args.results, raw_path(args))
    sizes = SMALL if args.small else QUICK if args.quick else Sizes()
    if args.users:
        sizes.users = args.users
    if args.rounds:
        sizes.rounds = args.rounds
    if args.no_profile:
        sizes.pyspy = False
    chosen = benchmarks(sizes)
    keys = [key.strip() for key in args.only.split(",")] if args.only else list(chosen)
    unknown = [key for key in keys if key not in chosen]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(chosen)}",
              file=sys.stderr)
        return 2
    started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
    loads = [load_average()]
    sections: list[Section] = []
    for key in keys:
        name, run = chosen[key]
        print(f"[bench] {key}. {name} ... (load {load_average()})", flush=True)
        begin = time.perf_counter()
        try:
            section = run()
        except Exception as error:  # one broken benchmark still leaves the others' results
            traceback.print_exc()
            section = failed(f"{key}. {name}", error)
        section.seconds = time.perf_counter() - begin
        sections.append(section)
        print(table([section]), flush=True)
    loads.append(load_average())
    seconds = time.perf_counter() - clock
    print("\n== Results ==" + table(sections))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(results_markdown(sections, sizes, started, seconds, loads,
                                             args.small))
    raw = raw_path(args)
    raw.parent.mkdir(parents=True, exist_ok=True)
    meta = {"started": started.isoformat(), "seconds": seconds, "loads": loads,
            "small": args.small, "machine": machine()}
    raw.write_text(json.dumps({"meta": meta, "sizes": asdict(sizes), "sections": [
        {"title": s.title, "rows": [asdict(r) for r in s.rows], "notes": s.notes,
         "data": s.data, "seconds": s.seconds} for s in sections]}, indent=1, default=str))
    print(f"\nwrote {args.results} and {raw} in {seconds / 60:.1f} min")
    broken = [s.title for s in sections if s.rows and s.rows[0].metric == "(not measured)"]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
