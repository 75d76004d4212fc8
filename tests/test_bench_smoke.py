"""The benchmark runner works end to end (bench/): tiny sizes, so it proves the machinery in a
few seconds and measures nothing. The real run is `make bench`, never part of `make test`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_runner_writes_its_results(tmp_path: Path) -> None:
    # Both files in this test's own folder: a run beside it (or an old file) cannot interfere.
    results, raw = tmp_path / "RESULTS.md", tmp_path / "results-small.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--small", "--only", "1,4", "--results", str(results),
         "--raw", str(raw)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "== Results ==" in done.stdout
    text = results.read_text()
    assert "1. Durable throughput" in text
    assert "4. Export" in text
    assert "(not measured)" not in text
    # Every scripted conversation got to the end, on our bot and on the peer.
    assert "Din plan finished 3 of 3 conversations" in text
    assert "p99 of the updates with no PDF copy being made" in text
    # The peer's count is only in the raw results, written by this run.
    [throughput] = [section for section in json.loads(raw.read_text())["sections"]
                    if section["title"].startswith("1. ")]
    [ours] = throughput["data"]["ours"]
    assert 0 <= ours["beside_copies"] < ours["updates"]  # the first updates come before any copy
    # Ours again with many chats' updates at once: everyone still got to the end.
    assert "chats' updates in the application at once" in text
    [together] = throughput["data"]["together"]
    assert together["completed"] == together["sent"] == together["users"] == 3
    assert together["updates"] == ours["updates"]
    peers = throughput["data"]["peers"]
    assert set(peers) == {"none", "interval", "every"}
    for name, rounds in peers.items():
        assert rounds, name
        for got in rounds:
            assert got["completed"] == got["users"] > 0, (name, got)


def test_latencies_are_split_by_whether_a_copy_was_being_made() -> None:
    from bench.harness import Drive

    drive = Drive(latencies=[0.001, 0.002, 0.010, 0.020], beside_copies=[False, False, True, True])
    assert drive.percentile_ms(100) == 20.0
    assert drive.percentile_ms(100, beside_copies=False) == 2.0
    assert drive.percentile_ms(50, beside_copies=True) == 10.0


def test_percentile_is_the_nearest_rank() -> None:
    from bench.harness import percentile

    assert percentile([], 99) == 0.0
    assert percentile([3.0, 1.0], 50) == 1.0  # half the values at or below it
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([float(n) for n in range(1, 101)], 99) == 99.0
    assert percentile([1.0, 2.0], 0) == 1.0
    assert percentile([1.0, 2.0], 100) == 2.0


def test_two_processes_can_gain_no_more_than_the_cores_left_allow() -> None:
    from bench.postgres import two_process_ceiling

    # One process: 720 updates at 225/s, each taking 6.1 CPU ms in all (4.4 CPU seconds).
    one = {"updates": 720, "per_second": 225.0,
           "cpu": {"bots": 3.3, "postgres": 0.3, "emulator": 0.7, "harness": 0.1}}
    assert round(two_process_ceiling(one, cores=2), 2) == 1.45  # 2 / 0.0061 = 327 updates/s
    assert two_process_ceiling(one, cores=8) == 2.0  # never more than twice one process


def test_the_postgresql_section_reports_ratios_and_the_ceiling_from_its_rounds() -> None:
    # Section 6 needs PostgreSQL and the emulator, so the smoke run above leaves it out: its
    # table is checked here from rounds written by hand.
    from bench.postgres import section

    def webhook_round(processes: int, per_second: float) -> dict[str, object]:
        return {"processes": processes, "updates": 720, "claimed": 720, "users": 60,
                "at_services": 60, "seconds": 720 / per_second, "per_second": per_second,
                "resent": 0,
                "cpu": {"bots": 3.3, "postgres": 0.3, "emulator": 0.7, "harness": 0.1}}

    def offline_round(per_second: float) -> dict[str, object]:
        return {"per_second": per_second, "users": 60, "cpu": 1.8, "sent": 60}

    limited = {n: {"per_second": 34.0 * n, "updates": 240, "claimed": 240} for n in (1, 2)}
    got = section({1: [webhook_round(1, 225.0)], 2: [webhook_round(2, 315.0)]},
                  {1: [offline_round(500.0)], 2: [offline_round(950.0)]}, limited, 1, 64)
    values = {row.metric.split(":")[0]: (row.value, row.met) for row in got.rows}
    assert values["(a) webhook"] == ("1.40×", False)
    assert values["(b) process_update"] == ("1.90×", True)
    [ceiling] = [row for row in got.rows if row.metric.startswith("(a) the most 2 processes")]
    assert ceiling.met is None  # shown, not judged
    assert "emulator 0.7" in got.notes[1]
