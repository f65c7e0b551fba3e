"""Chaos in the deployed system (issue 8): many cycles under RDS faults, then the truth is checked.

The deployment snapshots three instances and an Aurora cluster with an interval so short that
every cycle is due, and a retention so short that Prune deletes during the run. Next to the
managed snapshots live three that no run may delete: an untagged one, another deployment's one,
and a person's copy of a managed snapshot made with CopyTags (it carries ``ManagedBy`` but not the
deployment's identifier prefix, D1). LocalStack's fault mode (``localstack_offline/chaos.py``)
then throttles, drops and corrupts RDS calls, hides new snapshots from describes for a while and
fails some of them, from a seeded generator, for ``CYCLES`` cycles, some of them two executions
started at once. The faults stop, one more run follows, and then:

- no database has two snapshots from one due slot (runs that could act at the same time);
- no snapshot outside the deployment's own was deleted;
- every report matches what RDS really did (the fault mode's audit is the ground truth);
- every database converges to a fresh available snapshot.

Every violation is collected and the test fails once with all of them, so one run gives the
whole picture. The seed and the figures are printed; ``RSM_CHAOS_SEED=<seed>`` reruns a seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import urllib.error
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError
from botocore.parsers import ResponseParserError

from tools.localstack.harness import (
    Databases,
    Deployment,
    chaos,
    client,
    execution_history,
    finished_execution,
    managed_snapshots,
    start_execution,
    unique_name,
    wait_until,
)

pytestmark = pytest.mark.integration

SEED = int(os.environ.get("RSM_CHAOS_SEED") or random.SystemRandom().randrange(2**31))
FAULTS: dict[str, float] = {
    # Throttles slow the engine's adaptive client most; with bursts these keep the faulty cycles
    # near 2 minutes on a shared 2-core machine.
    "throttle": 0.03,  # of RDS calls: 400 Throttling
    "drop": 0.04,  # connection closed, call not run
    "drop_after": 0.04,  # call run, response lost
    "corrupt": 0.015,  # call run, unparsable answer: reaches the engine past botocore's retries
    "burst": 1,  # a throttle or drop repeats on the next attempt of the same call
    "invisible": 0.4,  # of new snapshots: absent from describes for invisible_seconds
    "invisible_seconds": 3,
    "fail_snapshot": 0.15,  # of new snapshots: end `failed`
}
# Executions started together per cycle: 10 cycles, 3 of them overlapping starts.
CYCLES = (1, 2, 1, 1, 2, 1, 1, 2, 1, 1)
RETENTION_DAYS = 0.0003  # 26 s: snapshots of the first cycles expire while the test runs
SKIPPED = "SKIPPED"


def ownership_prefix(name: str) -> str:
    """D1, written out here rather than imported from the engine: the test checks the engine."""
    return f"rsm-{hashlib.sha256(name.encode()).hexdigest()[:8]}-"


@dataclass
class Run:
    cycle: int
    execution: dict[str, Any]
    report: dict[str, Any] | None
    active: tuple[datetime, datetime]  # from entering Create to leaving Notify

    @property
    def run_id(self) -> str:
        return str(self.execution["name"])

    @property
    def window(self) -> tuple[datetime, datetime]:
        return self.execution["startDate"], self.execution["stopDate"]


@dataclass
class ChaosRun:
    deployment: Deployment
    instances: list[str]
    cluster: str
    protected: dict[str, str]  # snapshot id -> why no run may delete it
    runs: list[Run]
    final: Run
    state: dict[str, Any]  # the fault mode's counters, audit and fault log
    wall_seconds: float

    @property
    def targets(self) -> set[str]:
        return {*self.instances, self.cluster}


def active_window(execution: dict[str, Any]) -> tuple[datetime, datetime]:
    """When the run could act: from entering Create (which takes the lease) to leaving Notify
    (which releases it); the execution's own start and stop where a state is missing."""
    history = execution_history(execution["executionArn"])

    def times(event_type: str, details: str, state: str) -> list[datetime]:
        return [
            e["timestamp"]
            for e in history
            if e["type"] == event_type and e[details]["name"] == state
        ]

    entered = times("TaskStateEntered", "stateEnteredEventDetails", "Create")
    left = times("TaskStateExited", "stateExitedEventDetails", "Notify")
    return (
        min(entered, default=execution["startDate"]),
        max(left, default=execution["stopDate"]),
    )


def run_cycle(deployment: Deployment, cycle: int, starts: int) -> list[Run]:
    """Starts ``starts`` executions at once and waits for all of them and their reports."""
    arns = [start_execution(deployment.state_machine_arn) for _ in range(starts)]
    runs = []
    for arn in arns:
        execution = finished_execution(arn, timeout=240)
        try:
            report: dict[str, Any] | None = deployment.report(
                deployment.report_queue, execution["name"]
            )
        except AssertionError:
            report = None
        runs.append(Run(cycle, execution, report, active_window(execution)))
    return runs


def make_protected_snapshots(
    deployment: Deployment, instance: str, cluster: str, first: dict[str, Any]
) -> dict[str, str]:
    """Snapshots no run of this deployment may delete, all older than the retention soon."""
    rds = client("rds")
    name = deployment.name
    other = f"{name}-other"
    created = {
        f"{instance}-by-hand": "an untagged snapshot made by hand",
        f"{ownership_prefix(other)}{instance}-202601010000-0000abcd": "another deployment's",
        f"{name}-copy-of-instance-snapshot": "a person's CopyTags copy of a managed snapshot",
        f"{name}-copy-of-cluster-snapshot": "a person's CopyTags copy of a managed snapshot",
    }
    ids = list(created)
    rds.create_db_snapshot(DBInstanceIdentifier=instance, DBSnapshotIdentifier=ids[0])
    rds.create_db_snapshot(
        DBInstanceIdentifier=instance,
        DBSnapshotIdentifier=ids[1],
        Tags=[{"Key": "ManagedBy", "Value": other}],
    )
    by_source = {entry["source_id"]: entry["snapshot_id"] for entry in first["created"]}
    rds.copy_db_snapshot(
        SourceDBSnapshotIdentifier=by_source[instance],
        TargetDBSnapshotIdentifier=ids[2],
        CopyTags=True,
    )
    rds.copy_db_cluster_snapshot(
        SourceDBClusterSnapshotIdentifier=by_source[cluster],
        TargetDBClusterSnapshotIdentifier=ids[3],
        CopyTags=True,
    )
    copies = managed_snapshots(name)
    assert {ids[2], ids[3]} <= set(copies), "the CopyTags copies must carry ManagedBy"
    return created


@pytest.fixture(scope="module")
def chaos_run(
    deploy: Callable[[str, dict[str, Any]], Deployment], databases: Databases
) -> ChaosRun:
    name = unique_name("it-chaos")
    instances = [databases.add_instance(f"{name}-pg-{number}") for number in (1, 2, 3)]
    cluster = databases.add_cluster(f"{name}-aurora")
    deployment = deploy(
        name,
        {
            "db_instance_identifiers": instances,
            "db_cluster_identifiers": [cluster],
            "backup_interval_hours": 0.0001,  # 0.36 s: every cycle is due
            "retention_days": RETENTION_DAYS,
            "min_snapshots_to_keep": 1,
            "wait_timeout_minutes": 2,
        },
    )
    first = run_cycle(deployment, 0, 1)[0]
    assert first.report is not None, "the quiet first run must report"
    protected = make_protected_snapshots(deployment, instances[0], cluster, first.report)
    # Shown with the failing test's captured output (and in the LocalStack log).
    print(f"chaos: seed {SEED} (rerun with RSM_CHAOS_SEED={SEED}), faults {FAULTS}")
    started = time.monotonic()
    chaos("POST", {"seed": SEED, **FAULTS})
    try:
        runs = [
            run
            for cycle, starts in enumerate(CYCLES, 1)
            for run in run_cycle(deployment, cycle, starts)
        ]
    finally:
        chaos("DELETE")  # never leave faults on for the tests that follow
    # Faults stopped: let snapshots made by calls whose answer was lost finish creating, since a
    # managed snapshot still creating rightly keeps its database from being due.
    wait_until(lambda: None if creating(deployment.name) else True, 60, "our snapshots to settle")
    final = run_cycle(deployment, len(CYCLES) + 1, 1)[0]
    return ChaosRun(
        deployment, instances, cluster, protected, runs, final, chaos("GET"),
        time.monotonic() - started,
    )  # fmt: skip


def creating(name: str) -> list[str]:
    return [i for i, s in managed_snapshots(name).items() if s["Status"] == "creating"]


def created_by(run: ChaosRun, run_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The snapshots RDS really created for these runs (RunId tag), from the audit."""
    return {
        snapshot_id: entry
        for snapshot_id, entry in run.state["snapshots"].items()
        if entry["created_at"] and entry["tags"].get("RunId") in run_ids
    }


def unreported_fault(run: ChaosRun, snapshot_id: str, action: str) -> bool:
    """The engine cannot know what its ``action`` (Create or Delete) call on this snapshot did:
    the call ran (a lost or unparsable answer), and no attempt got a real answer (unparsable,
    which is not retried, or a fault on the last attempt)."""
    faults = [
        f
        for f in run.state["faults"]
        if f["resource"] == snapshot_id and f["operation"].startswith(action)
    ]
    ran = any(f["kind"] in ("corrupt", "drop_after") for f in faults)
    return ran and any(f["kind"] == "corrupt" or f["last_attempt"] for f in faults)


def due_slots(runs: list[Run]) -> list[list[Run]]:
    """Runs whose active windows overlap share one due slot: at most one of them may act.

    Two executions started together usually overlap; if one ran entirely before the other
    took its first step, the later one is a slot of its own (the interval is 0.36 s).
    """
    slots: list[list[Run]] = []
    for run in sorted(runs, key=lambda r: r.active[0]):
        if slots and run.active[0] <= max(r.active[1] for r in slots[-1]):
            slots[-1].append(run)
        else:
            slots.append([run])
    return slots


def test_no_database_has_two_snapshots_from_one_due_slot(chaos_run: ChaosRun) -> None:
    doubles = []
    for slot in due_slots([*chaos_run.runs, chaos_run.final]):
        run_ids = {run.run_id for run in slot}
        per_source = Counter(e["source_id"] for e in created_by(chaos_run, run_ids).values())
        doubles += [
            f"cycle {slot[0].cycle} (runs {sorted(run_ids)}): {count} snapshots of {source}"
            for source, count in per_source.items()
            if count > 1
        ]
    assert doubles == [], "\n".join(doubles)


def test_no_snapshot_outside_the_deployments_own_is_deleted(chaos_run: ChaosRun) -> None:
    name, prefix = chaos_run.deployment.name, ownership_prefix(chaos_run.deployment.name)
    wrongly_deleted = [
        f"{snapshot_id} ({chaos_run.protected.get(snapshot_id, entry['tags'])})"
        for snapshot_id, entry in chaos_run.state["snapshots"].items()
        if entry["deleted_at"]
        and not (snapshot_id.startswith(prefix) and entry["tags"].get("ManagedBy") == name)
    ]
    rds = client("rds")
    remaining = {
        s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]
    } | {s["DBClusterSnapshotIdentifier"]
         for s in rds.describe_db_cluster_snapshots()["DBClusterSnapshots"]}  # fmt: skip
    missing = sorted(set(chaos_run.protected) - remaining)
    assert (wrongly_deleted, missing) == ([], []), (wrongly_deleted, missing)


def report_violations(chaos_run: ChaosRun, run: Run) -> list[str]:
    """What one run's report says that RDS did not do, or leaves out of what it did."""
    report, where = run.report, f"run {run.run_id} (cycle {run.cycle})"
    if report is None:
        return [f"{where}: no report reached the report topic ({run.execution['status']})"]
    audit = chaos_run.state["snapshots"]
    problems = []
    for entry in report["created"]:
        real = audit.get(entry["snapshot_id"])
        if real is None or real["tags"].get("RunId") != run.run_id:
            problems.append(f"{where}: reports created {entry['snapshot_id']}, RDS has no such")
        elif entry.get("status") == "available" and real["fate"] == "failed":
            problems.append(f"{where}: reports {entry['snapshot_id']} available; it failed")
    reported = {e["snapshot_id"] for e in report["created"]}
    failed_sources = {e["source_id"] for e in report["failed"]}
    for snapshot_id, real in created_by(chaos_run, {run.run_id}).items():
        if snapshot_id in reported:
            continue
        if real["source_id"] not in failed_sources:
            problems.append(f"{where}: created {snapshot_id} in RDS but does not report it")
        elif real["fate"] != "failed" and not unreported_fault(chaos_run, snapshot_id, "Create"):
            problems.append(
                f"{where}: reports {real['source_id']} failed, but its snapshot {snapshot_id} "
                "exists and did not fail"
            )
    start, stop = run.window
    for entry in report["deleted"]:
        real = audit.get(entry["snapshot_id"])
        if real is None or not real["deleted_at"]:
            problems.append(f"{where}: reports deleted {entry['snapshot_id']}, RDS still has it")
        elif not start <= datetime.fromisoformat(real["deleted_at"]) <= stop:
            problems.append(f"{where}: reports deleted {entry['snapshot_id']}, deleted by another")
    for entry in report.get("delete_failed", []):
        real = audit.get(entry["snapshot_id"])
        deleted_at = real and real["deleted_at"]
        if (
            deleted_at
            and start <= datetime.fromisoformat(deleted_at) <= stop
            and not unreported_fault(chaos_run, entry["snapshot_id"], "Delete")
        ):
            problems.append(f"{where}: reports deleting {entry['snapshot_id']} failed; RDS did it")
    if report["status"] == SKIPPED and (report["created"] or report["deleted"]):
        problems.append(f"{where}: SKIPPED, yet reports created or deleted snapshots")
    holders = {other.run_id for other in chaos_run.runs} - {run.run_id}
    if report["status"] == SKIPPED and not any(h in report.get("reason", "") for h in holders):
        problems.append(f"{where}: SKIPPED without a reason naming the run holding the lease")
    listed = [e["source_id"] for name in ("created", "skipped", "failed") for e in report[name]]
    # A run that broke before it had targets (a fault past the retries on a listing call) is
    # true as FAILED with its error and an empty list; the checks above prove it hid nothing.
    broke_early = report["status"] == "FAILED" and "error" in report and not listed
    if (
        report["status"] != SKIPPED
        and not broke_early
        and sorted(listed) != sorted(chaos_run.targets)
    ):
        problems.append(f"{where}: targets listed {sorted(listed)}, not each target once")
    if not report.get("truncated"):
        counts = {name: len(report[name]) for name in report.get("counts", {})}
        if counts != report.get("counts", {}):
            problems.append(f"{where}: counts {report.get('counts')} but lists {counts}")
    return problems


def test_every_report_matches_what_rds_did(chaos_run: ChaosRun) -> None:
    problems = [p for run in chaos_run.runs for p in report_violations(chaos_run, run)]
    reported_deletions = Counter(
        entry["snapshot_id"]
        for run in [*chaos_run.runs, chaos_run.final]
        if run.report
        for entry in run.report["deleted"]
    )
    for snapshot_id, entry in chaos_run.state["snapshots"].items():
        if not entry["deleted_at"]:
            continue
        if reported_deletions[snapshot_id] > 1:
            problems.append(
                f"{snapshot_id}: deleted once, reported by {reported_deletions[snapshot_id]} runs"
            )
        elif reported_deletions[snapshot_id] == 0 and not unreported_fault(
            chaos_run, snapshot_id, "Delete"
        ):
            problems.append(f"{snapshot_id}: deleted in RDS, reported by no run")
    assert problems == [], "\n".join(problems)


def test_every_database_converges_to_a_fresh_snapshot_once_faults_stop(chaos_run: ChaosRun) -> None:
    final = chaos_run.final
    assert final.execution["status"] == "SUCCEEDED", final.execution
    assert final.report is not None
    newest: dict[str, dict[str, Any]] = {}
    for snapshot in managed_snapshots(chaos_run.deployment.name).values():
        source = snapshot.get("DBInstanceIdentifier") or snapshot["DBClusterIdentifier"]
        if (
            source not in newest
            or snapshot["SnapshotCreateTime"] > newest[source]["SnapshotCreateTime"]
        ):
            newest[source] = snapshot
    fresh = {
        source: (snapshot["Status"], {t["Key"]: t["Value"] for t in snapshot["TagList"]}["RunId"])
        for source, snapshot in newest.items()
    }
    assert fresh == dict.fromkeys(chaos_run.targets, ("available", final.run_id)), fresh
    assert final.report["status"] == "OK", final.report
    assert report_violations(chaos_run, final) == []


def test_faults_of_every_kind_were_injected_figures_printed(
    chaos_run: ChaosRun, capsys: pytest.CaptureFixture[str]
) -> None:
    counters = chaos_run.state["counters"]
    statuses = Counter(
        (run.execution["status"], run.report["status"] if run.report else "no report")
        for run in chaos_run.runs
    )
    run_seconds = [
        (stop - start).total_seconds() for start, stop in (r.window for r in chaos_run.runs)
    ]
    figures = {
        "seed": SEED,
        "cycles": len(CYCLES),
        "runs": len(chaos_run.runs),
        "overlapping_starts": sum(1 for starts in CYCLES if starts > 1),
        "execution_and_report_status": {f"{e}/{r}": n for (e, r), n in sorted(statuses.items())},
        "snapshots_created": sum(
            1 for e in chaos_run.state["snapshots"].values() if e["created_at"]
        ),
        "snapshots_deleted": sum(
            1 for e in chaos_run.state["snapshots"].values() if e["deleted_at"]
        ),
        "rds_calls": counters.get("calls", 0),
        "botocore_retries": counters.get("retries", 0),
        "calls_failed_by_kind": {
            k: counters.get(k, 0) for k in ("throttle", "drop", "drop_after", "corrupt", "burst")
        },
        "faults_past_retries": counters.get("exhausted", 0) + counters.get("corrupt", 0),
        "snapshots_hidden": counters.get("invisible", 0),
        "describes_missing_a_snapshot": counters.get("invisible_misses", 0),
        "snapshots_failed": counters.get("fail_snapshot", 0),
        "slowest_run_seconds": round(max(run_seconds)),
        "mean_run_seconds": round(sum(run_seconds) / len(run_seconds), 1),
        "wall_seconds": round(chaos_run.wall_seconds),
    }
    with capsys.disabled():
        print(f"\nchaos figures: {json.dumps(figures)}")
    injected = {
        kind
        for kind in ("throttle", "drop", "drop_after", "invisible", "fail_snapshot")
        if counters.get(kind)
    }
    assert injected == {"throttle", "drop", "drop_after", "invisible", "fail_snapshot"}, counters
    assert counters["retries"] > 0, counters


# -- the fault mode itself -------------------------------------------------------------------------
RETRIES = 2  # botocore's max_attempts counts retries: 3 attempts in all


@pytest.fixture
def fault_session() -> Iterator[Callable[[dict[str, Any]], dict[str, Any]]]:
    """Starts a fault session with the given settings (seed 1 unless given); stops it after."""
    yield lambda settings: chaos("POST", {"seed": 1, **settings})
    chaos("DELETE")


@pytest.fixture(scope="module")
def probe_instance(databases: Databases) -> str:
    return databases.add_instance(unique_name("chaos-probe"))


def retrying_rds() -> Any:
    return client("rds", config=Config(retries={"mode": "standard", "max_attempts": RETRIES}))


@pytest.mark.parametrize(
    ("kind", "error", "attempts"),
    [
        ("throttle", ClientError, RETRIES + 1),
        ("drop", ConnectionClosedError, RETRIES + 1),
        ("drop_after", ConnectionClosedError, RETRIES + 1),
        ("corrupt", ResponseParserError, 1),  # not retried: it reaches the caller at once
    ],
)
def test_fault_mode_fails_rds_calls_by_kind(
    fault_session: Callable[[dict[str, Any]], dict[str, Any]],
    probe_instance: str,
    kind: str,
    error: type[Exception],
    attempts: int,
) -> None:
    fault_session({kind: 1.0})

    with pytest.raises(error):
        retrying_rds().describe_db_instances(DBInstanceIdentifier=probe_instance)

    counters = chaos("GET")["counters"]
    assert (counters[kind], counters.get("retries", 0)) == (attempts, attempts - 1), counters


def test_fault_mode_burst_outlasts_the_retries_of_one_call(
    fault_session: Callable[[dict[str, Any]], dict[str, Any]], probe_instance: str
) -> None:
    fault_session({"seed": 3, "throttle": 0.5, "burst": RETRIES})
    rds = retrying_rds()
    outcomes = []
    for _ in range(6):
        try:
            rds.describe_db_instances(DBInstanceIdentifier=probe_instance)
            outcomes.append("ok")
        except ClientError as failure:
            outcomes.append(failure.response["Error"]["Code"])

    counters = chaos("GET")["counters"]
    assert "Throttling" in outcomes, (outcomes, counters)
    assert counters["exhausted"] == outcomes.count("Throttling"), counters


def test_fault_mode_same_seed_same_faults(
    fault_session: Callable[[dict[str, Any]], dict[str, Any]], probe_instance: str
) -> None:
    rds = client("rds", config=Config(retries={"mode": "standard", "max_attempts": 0}))

    def pattern() -> list[bool]:
        fault_session({"seed": 42, "throttle": 0.5})
        failed = []
        for _ in range(16):
            try:
                rds.describe_db_instances(DBInstanceIdentifier=probe_instance)
                failed.append(False)
            except ClientError:
                failed.append(True)
        return failed

    first, second = pattern(), pattern()
    assert first == second
    assert 0 < sum(first) < len(first), first


def test_fault_mode_hides_a_new_snapshot_then_shows_it(
    fault_session: Callable[[dict[str, Any]], dict[str, Any]], probe_instance: str
) -> None:
    fault_session({"invisible": 1.0, "invisible_seconds": 2})
    rds = client("rds")
    snapshot_id = unique_name("chaos-hidden")
    rds.create_db_snapshot(DBInstanceIdentifier=probe_instance, DBSnapshotIdentifier=snapshot_id)

    listed = rds.describe_db_snapshots(DBInstanceIdentifier=probe_instance)["DBSnapshots"]
    assert snapshot_id not in {s["DBSnapshotIdentifier"] for s in listed}
    with pytest.raises(ClientError, match="DBSnapshotNotFound"):
        rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)
    time.sleep(2)
    assert rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"]
    rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot_id)
    assert chaos("GET")["snapshots"][snapshot_id]["deleted_at"]


def test_fault_mode_fails_a_new_snapshot(
    fault_session: Callable[[dict[str, Any]], dict[str, Any]], probe_instance: str
) -> None:
    fault_session({"fail_snapshot": 1.0})
    rds = client("rds")
    snapshot_id = unique_name("chaos-failing")
    rds.create_db_snapshot(DBInstanceIdentifier=probe_instance, DBSnapshotIdentifier=snapshot_id)

    def settled() -> str | None:
        status = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"][0]
        return None if status["Status"] == "creating" else str(status["Status"])

    assert wait_until(settled, 20, f"{snapshot_id} to settle") == "failed"
    rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot_id)


def test_fault_mode_rejects_unknown_settings_by_name() -> None:
    with pytest.raises(urllib.error.HTTPError) as rejected:
        chaos("POST", {"seed": 1, "throttel": 0.5})

    assert rejected.value.code == 400
    assert "throttel" in rejected.value.read().decode()
