"""One measured run of one scenario, in a process of its own (`python -m bench.cycle`).

A fresh process per run gives every run a cold engine, as a new Lambda container would have
(the handlers cache their settings and clients for the life of the process).

It builds the fixture, then drives the real handlers in the state machine's order, passing the
state dicts of docs/ARCHITECTURE.md: Create, then the Parallel branches (Check looped until
done, and Prune), then Notify with the Parallel's result under `parallel`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.rds.models import rds_backends

from bench import fixtures, moto_rds
from bench.probe import ApiProbe, create_calls
from bench.scenarios import BY_NAME, REGION, Scenario

Handler = Callable[[dict[str, Any], object], dict[str, Any]]
# The state machine polls Check with a Wait between; here a new snapshot is available by the
# first poll (bench/moto_rds.py), so the bound is only a guard. Copies to another region take
# longer: RDS allows 5 in flight per destination, so each poll starts at most 5 more (1,000 new
# snapshots: 200 polls; with the module's defaults the state machine polls 120 times, and the next
# run carries on).
MAX_POLLS = 250
MB = 1024 * 1024


class LambdaContext:
    """The few attributes of Lambda's context object a handler may read."""

    function_name = "rds-snapshot-manager-bench"
    memory_limit_in_mb = 128
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 900_000


def payload_bytes(state: dict[str, Any]) -> int:
    return len(json.dumps(state).encode())


class Meter:
    """Per-phase figures: API calls (from the probe), wall time, traced memory, payloads."""

    def __init__(self, probe: ApiProbe, trace_memory: bool) -> None:
        self._probe = probe
        self._trace = trace_memory
        self.phases: dict[str, dict[str, Any]] = {}
        self.report: dict[str, Any] | None = None  # the published run report (default protocol)

    def run(self, phase: str, step: Callable[[], list[int]]) -> None:
        """`step` runs the phase's handler calls and returns the size of every state it passed
        to a handler or produced from a handler's result."""
        self._probe.take()
        if self._trace:
            tracemalloc.reset_peak()
        started, cpu_started = time.perf_counter(), time.process_time()
        sizes = step()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        calls = self._probe.take()
        if calls.largest_sns_message:
            self.report = json.loads(json.loads(calls.largest_sns_message)["default"])
        self.phases[phase] = {
            "api_calls": sum(calls.by_op.values()),
            "api_calls_by_op": dict(sorted(calls.by_op.items())),
            "wall_s": wall,
            # CPU time of every thread: unlike wall time, barely moved by other load on the host.
            "cpu_s": cpu,
            "api_seconds_by_op": {op: round(t, 3) for op, t in sorted(calls.seconds_by_op.items())},
            "peak_mem_mb": tracemalloc.get_traced_memory()[1] / MB if self._trace else None,
            "max_state_payload_bytes": max(sizes),
            "max_sns_message_bytes": calls.max_sns_message_bytes,
            "max_in_flight_mutations": calls.max_in_flight_mutations,
            "remote_calls_by_op": dict(sorted(calls.remote_by_op.items())),
            "share_calls": calls.shares,
            "unshare_calls": calls.unshares,
        }


def drive(scenario: Scenario, run_id: str, meter: Meter, started: datetime) -> dict[str, Any]:
    handlers = importlib.import_module("rds_snapshot_manager.handlers")
    context = LambdaContext()
    state: dict[str, Any] = {
        "run_id": run_id,
        "started_at": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "input": {},
    }
    branches: dict[str, dict[str, Any]] = {}
    polls = [0]

    def task(key: str, handler: Handler, event: dict[str, Any]) -> list[int]:
        """One Task state: the handler gets the whole state, its result goes under `key`."""
        given = payload_bytes(event)
        event[key] = handler(event, context)
        return [given, payload_bytes(event)]

    def create() -> list[int]:
        return task("create", handlers.create_handler, state)

    def check() -> list[int]:
        branch = branches["check"] = dict(state)
        sizes = []
        for poll in range(1, MAX_POLLS + 1):
            sizes += task("check", handlers.check_handler, branch)
            polls[0] = poll
            if branch["check"]["done"]:
                break
        return sizes

    def prune() -> list[int]:
        branch = branches["prune"] = dict(state)
        return task("prune", handlers.prune_handler, branch)

    def notify() -> list[int]:
        # The Parallel state's output: one state per branch, stored under `parallel`.
        state["parallel"] = [branches.get("check", state), branches.get("prune", state)]
        return task("notify", handlers.notify_handler, state)

    steps = {"create": create, "check": check, "prune": prune, "notify": notify}
    for phase in scenario.phases:
        meter.run(phase, steps[phase])
    return {
        "create": state.get("create"),
        "check": branches.get("check", {}).get("check"),
        "polls": polls[0],
        "prune": branches.get("prune", {}).get("prune"),
        "notify": state.get("notify"),
    }


def verify(
    scenario: Scenario, fleet: fixtures.Fleet, results: dict[str, Any], meter: Meter
) -> list[str]:
    """What the cycle must have done to the fixture; a benchmark of a wrong result is no result."""
    rds = rds_backends[DEFAULT_ACCOUNT_ID][REGION]
    existing = set(rds.database_snapshots) | set(rds.cluster_snapshots)
    created, skipped = fleet.creatable(), scenario.targets - fleet.due
    refused = fleet.due - created  # by the quota, in advance
    problems = []
    expected = {"created": created, "skipped": skipped, "failed": refused, "dry_run": False}
    if results["create"] != expected:
        problems.append(f"create returned {results['create']}, expected {expected}")
    creates = create_calls(meter.phases["create"]["api_calls_by_op"])
    if creates != created:
        problems.append(f"{creates} create calls, expected {created} (the quota's room)")
    if results["check"] is not None and results["check"]["available"] != created:
        problems.append(f"check returned {results['check']}, expected {created} available")
    if results["prune"] is not None:
        # Copy regions prune their expired copies in the same step (issue 10).
        expected_deleted = len(fleet.expired_managed) + len(fleet.expired_copies)
        if results["prune"]["deleted"] != expected_deleted:
            problems.append(
                f"prune returned {results['prune']}, expected {expected_deleted} deleted"
            )
        if fleet.expired_managed & existing:
            problems.append(f"{len(fleet.expired_managed & existing)} expired snapshots remain")
    if fleet.unmanaged - existing:
        problems.append(f"unmanaged snapshots were deleted: {sorted(fleet.unmanaged - existing)}")
    if scenario.disaster_recovery:
        problems += verify_disaster_recovery(scenario, fleet, meter.report or {}, existing)
    if results["notify"] is not None:
        status = "PARTIAL" if refused else "OK"
        if results["notify"] != {"status": status, "published": True}:
            problems.append(f"notify returned {results['notify']}, expected {status}")
        quota_failures = [
            f
            for f in (meter.report or {}).get("failed", [])
            if f["error_code"] == "SnapshotQuotaExceeded"
        ]
        if len(quota_failures) != refused:
            problems.append(
                f"report lists {len(quota_failures)} SnapshotQuotaExceeded, expected {refused}"
            )
    return problems


def _count(report: dict[str, Any], key: str) -> int:
    """A report list's full size (`counts` holds it when the list was cut to fit SNS)."""
    return int(report.get("counts", {}).get(key, len(report.get(key, []))))


def verify_disaster_recovery(
    scenario: Scenario, fleet: fixtures.Fleet, report: dict[str, Any], existing: set[str]
) -> list[str]:
    """Every new snapshot copied to each copy region (tagged as our copy) and shared with exactly
    the listed accounts; the expired copies deleted there, a same-named deployment's own
    snapshots there kept; the report counts them all."""
    home = rds_backends[DEFAULT_ACCOUNT_ID][REGION]
    everything: dict[str, Any] = {**home.database_snapshots, **home.cluster_snapshots}
    new = {
        snapshot_id: snapshot
        for snapshot_id, snapshot in everything.items()
        if snapshot.snapshot_type == "manual" and snapshot_id not in fleet.before
    }
    problems = []
    for region in scenario.copy_regions:
        there = rds_backends[DEFAULT_ACCOUNT_ID][region]
        copies = {**there.database_snapshots, **there.cluster_snapshots}
        missing = [i for i in new if i not in copies]
        untagged = [
            i
            for i in new
            if i in copies and {"Key": "CopySourceRegion", "Value": REGION} not in copies[i].tags
        ]
        if missing or untagged:
            problems.append(f"{region}: {len(missing)} new snapshots not copied, {len(untagged)} "
                            "copies without CopySourceRegion")  # fmt: skip
        left = {i for r, i in fleet.expired_copies if r == region} & set(copies)
        if left:
            problems.append(f"{region}: {len(left)} expired copies remain")
        gone = {i for r, i in fleet.foreign_in_copy_regions if r == region} - set(copies)
        if gone:
            problems.append(f"{region}: a same-named deployment's own snapshots deleted: {gone}")
    unshared = [
        i for i, s in new.items() if s.attributes["restore"] != list(scenario.share_accounts)
    ]
    if scenario.share_accounts and unshared:
        problems.append(f"{len(unshared)} new snapshots not shared with exactly the accounts")
    copied, shared = _count(report, "copied"), _count(report, "shared")
    if copied != len(new) * len(scenario.copy_regions):
        problems.append(f"report lists {copied} copies, expected {len(new)} x regions")
    if scenario.share_accounts and shared != len(new):
        problems.append(f"report lists {shared} shares, expected {len(new)}")
    return problems


def run_once(scenario: Scenario, run_number: int, trace_memory: bool) -> dict[str, Any]:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "MOTO_RDS_SNAPSHOT_LIMIT": str(scenario.quota),
        }
    )
    moto_rds.install()
    with mock_aws():
        started = datetime.now(UTC)
        build_started = time.perf_counter()
        fleet = fixtures.build(scenario, started)
        build_s = time.perf_counter() - build_started
        os.environ.update(fleet.env)
        probe = ApiProbe(scenario.mutation_latency_s)
        probe.install()
        if trace_memory:
            tracemalloc.start()  # after the fixture: only the cycle's allocations count
        meter = Meter(probe, trace_memory)
        results = drive(scenario, f"bench-{scenario.name}-{run_number}", meter, started)
        problems = verify(scenario, fleet, results, meter)
    return {
        "scenario": scenario.name,
        "run": run_number,
        "traced": trace_memory,
        "fixture_build_s": build_s,
        "due": fleet.due,
        "expired": len(fleet.expired_managed),
        "results": results,
        "phases": meter.phases,
        "problems": problems,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", choices=sorted(BY_NAME))
    parser.add_argument("--run", type=int, default=1)
    parser.add_argument("--trace-memory", action="store_true")
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON result")
    args = parser.parse_args(argv)
    result = run_once(BY_NAME[args.scenario], args.run, args.trace_memory)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
