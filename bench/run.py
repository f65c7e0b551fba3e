"""Runs the scenarios, each run in a fresh process, and prints one JSON line per scenario and
phase with the medians over the runs, the budgets that apply and whether they hold.

Exit status: 0 when every budget holds and every run did what it should, 1 otherwise (the
failures are named on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import budgets
from bench.probe import create_calls
from bench.scenarios import (
    BY_NAME,
    LAMBDA_TIMEOUT_S,
    REAL_AWS_CALL_S,
    SCENARIOS,
    Scenario,
)

ROOT = Path(__file__).resolve().parent.parent
PHASE_KEYS = (
    "api_calls",
    "wall_s",
    "cpu_s",
    "max_state_payload_bytes",
    "max_sns_message_bytes",
)


def run_child(scenario: Scenario, number: int, trace: bool, workdir: Path) -> dict[str, Any]:
    """One run in its own process; the engine's JSON logs go to a file next to the result."""
    stem = f"{scenario.name}-{number}{'-traced' if trace else ''}"
    out, log = workdir / f"{stem}.json", workdir / f"{stem}.log"
    command = [sys.executable, "-m", "bench.cycle", scenario.name, "--run", str(number)]
    command += ["--out", str(out)] + (["--trace-memory"] if trace else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "lambda_src"), str(ROOT)]))
    with log.open("w") as log_file:
        done = subprocess.run(  # noqa: S603 (our own interpreter and module)
            command, check=False, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        tail = log.read_text().splitlines()[-25:]
        raise RuntimeError(f"run {stem} failed (exit {done.returncode}):\n" + "\n".join(tail))
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def cycle_figures(run: dict[str, Any]) -> dict[str, Any]:
    """A whole cycle's figures from one run's phases (sums, and maxima where the peak counts)."""
    phases = run["phases"].values()
    by_op: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    remote: Counter[str] = Counter()
    for phase in phases:
        by_op.update(phase["api_calls_by_op"])
        seconds.update(phase["api_seconds_by_op"])
        remote.update(phase["remote_calls_by_op"])
    mems = [p["peak_mem_mb"] for p in phases if p["peak_mem_mb"] is not None]
    return {
        "api_calls": sum(p["api_calls"] for p in phases),
        "api_calls_by_op": dict(sorted(by_op.items())),
        "api_seconds_by_op": {op: round(t, 3) for op, t in sorted(seconds.items())},
        "wall_s": sum(p["wall_s"] for p in phases),
        "cpu_s": sum(p["cpu_s"] for p in phases),
        "peak_mem_mb": max(mems) if mems else None,
        "max_state_payload_bytes": max(p["max_state_payload_bytes"] for p in phases),
        "max_sns_message_bytes": max(p["max_sns_message_bytes"] for p in phases),
        "max_in_flight_mutations": max(p["max_in_flight_mutations"] for p in phases),
        "remote_calls_by_op": dict(sorted(remote.items())),
        "share_calls": sum(p["share_calls"] for p in phases),
        "unshare_calls": sum(p["unshare_calls"] for p in phases),
    }


def aggregate(figures: list[dict[str, Any]], traced: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the timed runs; peak memory from the traced runs (tracemalloc slows a run
    several times over, so it never runs in a timed one)."""
    line: dict[str, Any] = {key: median([f[key] for f in figures]) for key in PHASE_KEYS}
    for key in ("api_calls", "max_state_payload_bytes", "max_sns_message_bytes"):
        line[key] = int(line[key])
    ops = sorted({op for f in figures for op in f["api_calls_by_op"]})
    line["api_calls_by_op"] = {
        op: int(median([f["api_calls_by_op"].get(op, 0) for f in figures])) for op in ops
    }
    line["wall_s"] = round(line["wall_s"], 3)
    line["cpu_s"] = round(line["cpu_s"], 3)
    mems = [t["peak_mem_mb"] for t in traced if t["peak_mem_mb"] is not None]
    line["peak_mem_mb"] = round(median(mems), 1) if mems else None
    line["memory_runs"] = len(mems)
    line["max_in_flight_mutations"] = max(f["max_in_flight_mutations"] for f in figures)
    line["api_seconds_by_op"] = {
        op: round(median([f["api_seconds_by_op"].get(op, 0.0) for f in figures]), 3) for op in ops
    }
    remote = sorted({op for f in figures for op in f["remote_calls_by_op"]})
    line["remote_calls_by_op"] = {
        op: int(median([f["remote_calls_by_op"].get(op, 0) for f in figures])) for op in remote
    }
    for key in ("share_calls", "unshare_calls"):
        line[key] = int(median([f[key] for f in figures]))
    return line


def scenario_lines(
    scenario: Scenario, runs: list[dict[str, Any]], traced: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    head = {
        "scenario": scenario.name,
        "targets": scenario.targets,
        "snapshots": scenario.snapshots,
        "unmanaged_snapshots": scenario.unmanaged,
        "runs": len(runs),
    }
    lines = []
    for phase in scenario.phases:
        figures = [r["phases"][phase] for r in runs]
        mem = [t["phases"][phase] for t in traced]
        lines.append({**head, "phase": phase, **aggregate(figures, mem)})
    if len(scenario.phases) > 1:
        cycle = aggregate([cycle_figures(r) for r in runs], [cycle_figures(t) for t in traced])
        results = runs[0]["results"]
        cycle["created"] = results["create"]["created"]
        cycle["deleted"] = results["prune"]["deleted"] if results["prune"] else 0
        cycle["check_polls"] = results["polls"]
        lines.append({**head, "phase": "cycle", **cycle})
    return lines


def add_real_aws_arithmetic(line: dict[str, Any]) -> None:
    """The concurrency scenario: creates x 200 ms / concurrency, next to the measured time."""
    creates = create_calls(line["api_calls_by_op"])
    concurrency = line["max_in_flight_mutations"]
    projected = creates * REAL_AWS_CALL_S / max(concurrency, 1)
    line["real_aws"] = {
        "creates": creates,
        "call_s": REAL_AWS_CALL_S,
        "max_in_flight": concurrency,
        "projected_s": round(projected, 1),
        "measured_s": line["wall_s"],
        "lambda_timeout_s": LAMBDA_TIMEOUT_S,
        "arithmetic": f"{creates} creates x {REAL_AWS_CALL_S * 1000:.0f} ms / {concurrency} "
        f"in flight = {projected:.1f} s (measured {line['wall_s']:.1f} s; Lambda allows "
        f"{LAMBDA_TIMEOUT_S} s)",
    }


def bench(scenarios: list[Scenario], runs: int | None, workdir: Path, serial: bool) -> list[str]:
    """Runs every scenario, prints its lines, and returns the failed budgets.

    The traced (memory) runs take several times longer than timed ones and measure no time, so
    they run in a second process beside the timed runs of the scenarios whose wall time has no
    budget (concurrency, payload), or after all timed runs when `serial`.
    """
    counts = {s.name: runs or s.runs for s in scenarios}
    timed: dict[str, list[dict[str, Any]]] = {}
    traced: dict[str, list[Future[dict[str, Any]]]] = {}
    with ThreadPoolExecutor(max_workers=1) as tracer:

        def start_tracing() -> None:
            for s in scenarios:
                numbers = range(1, min(counts[s.name], s.memory_runs) + 1)
                traced[s.name] = [tracer.submit(run_child, s, n, True, workdir) for n in numbers]

        for scenario in scenarios:
            if scenario.traced_runs_beside and not (serial or traced):
                start_tracing()
            started = time.perf_counter()
            load = os.getloadavg()[0]
            timed[scenario.name] = [
                run_child(scenario, n, False, workdir) for n in range(1, counts[scenario.name] + 1)
            ]
            for run in timed[scenario.name]:
                run["load_avg_1m"] = load
            print(
                f"# {scenario.name}: {counts[scenario.name]} timed runs in "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
        if not traced:
            start_tracing()
        failures: list[str] = []
        baseline_payload: int | None = None
        for scenario in scenarios:
            baseline_payload = report(
                scenario,
                timed=timed[scenario.name],
                traced=[future.result() for future in traced[scenario.name]],
                baseline_payload=baseline_payload,
                failures=failures,
            )
    return failures


def report(
    scenario: Scenario,
    *,
    timed: list[dict[str, Any]],
    traced: list[dict[str, Any]],
    baseline_payload: int | None,
    failures: list[str],
) -> int | None:
    """Prints the scenario's lines, adds its failed budgets to `failures`, and returns the
    baseline state payload for the payload scenario (the small scenario's, once known)."""
    problems = sorted({p for r in timed + traced for p in r["problems"]})
    for line in scenario_lines(scenario, timed, traced):
        checks = budgets.check(scenario, line["phase"], line, baseline_payload)
        if scenario.name == "concurrency":
            add_real_aws_arithmetic(line)
            checks.append(budgets.real_aws_create_budget(line))
        if line["phase"] in (scenario.phases[-1], "cycle"):
            checks.append(
                budgets.Budget("cycle_did_the_right_thing", len(problems), 0, not problems)
            )
            line["problems"] = problems
        line["budgets"] = [b.as_dict() for b in checks]
        line["budget_ok"] = all(b.ok for b in checks)
        line["load_avg_1m"] = round(median([r["load_avg_1m"] for r in timed]), 2)
        failures += [
            f"{scenario.name}/{line['phase']}: {b.name} = {b.value} (limit {b.limit})"
            for b in checks
            if not b.ok
        ]
        if scenario.name == "small" and line["phase"] == "cycle":
            baseline_payload = line["max_state_payload_bytes"]
        print(json.dumps(line), flush=True)
    return baseline_payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "scenarios", nargs="*", choices=[[], *BY_NAME], help="default: every scenario"
    )
    parser.add_argument("--runs", type=int, help="timed runs per scenario (default: its own)")
    parser.add_argument(
        "--serial", action="store_true", help="run the traced runs after the timed ones, not beside"
    )
    args = parser.parse_args(argv)
    chosen = [BY_NAME[name] for name in args.scenarios] or list(SCENARIOS)
    with tempfile.TemporaryDirectory(prefix="rsm-bench-") as workdir:
        try:
            failures = bench(chosen, args.runs, Path(workdir), args.serial)
        except RuntimeError as error:
            print(f"BENCH ERROR: {error}", file=sys.stderr)
            return 1
    for failure in failures:
        print(f"BUDGET FAILED: {failure}", file=sys.stderr)
    print(
        f"# {len(failures)} budget(s) failed" if failures else "# every budget holds",
        file=sys.stderr,
    )
    return 1 if failures else 0
