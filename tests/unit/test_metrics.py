"""EMF documents (D12): parsed as CloudWatch would, they give exactly the documented metrics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rds_snapshot_manager.domain import metrics
from rds_snapshot_manager.domain.metrics import MetricContext, documents, target_ages
from tests import emf
from tests.unit.conftest import NAME, OURS, Account, context

START = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
END = START + timedelta(seconds=95.5)
RPO = 27.0
RUN = (("Deployment", "prod"),)


def target(source_id: str, age: float | None, breached: bool, **item: Any) -> dict[str, Any]:
    return {"source_id": source_id, "source_type": "instance",
            "newest_snapshot_age_hours": age, "rpo_breached": breached, **item}  # fmt: skip


def parsed(report: dict[str, Any], limit: int = 50) -> dict[Any, float]:
    context = MetricContext("prod", START, END, RPO, limit)
    lines = [json.dumps(d) for d in documents(report, context, {"run_id": "run-1"})]
    return emf.values(lines)


def per_target(source_id: str, kind: str = "instance") -> tuple[tuple[str, str], ...]:
    return (*RUN, ("SourceType", kind), ("SourceId", source_id))


PARTIAL = {
    "status": "PARTIAL",
    "created": [
        target("aurora-1", 0.0, False, snapshot_id="s-1", source_type="cluster"),
        target("aurora-1-1", 0.0, False, snapshot_id="s-1"),  # a member: same snapshot
        target("db-a", 0.0, False, snapshot_id="s-2"),
    ],
    "deleted": [{"snapshot_id": "old-1"}, {"snapshot_id": "old-2"}],
    "skipped": [target("db-stopped", 30.0, True)],
    "failed": [target("ghost", None, True)],
    "copied": [{"status": "available"}, {"status": "copying"}, {"status": "failed"}],
    "shared": [{"status": "shared"}, {"status": "failed"}],
}


def test_run_metrics_of_a_partial_run() -> None:
    values = parsed(PARTIAL)
    run = {name: value for (name, dims), value in values.items() if dims == RUN}
    assert run == {
        "Runs": 1, "RunsOK": 0, "RunsPartial": 1, "RunsFailed": 0, "RunsSkipped": 0,
        "SnapshotsCreated": 2, "SnapshotsDeleted": 2, "TargetsSkipped": 1, "TargetsFailed": 1,
        "RunDurationSeconds": 95.5, "RpoBreaches": 2,
        # ghost has no available snapshot: counted as twice the RPO, so > rpo_hours trips
        "MaxNewestSnapshotAgeHours": 54.0,
        "SnapshotsCopied": 1, "SnapshotsShared": 1, "WorkFailed": 2,
    }  # fmt: skip


def test_per_target_age_for_every_measured_target() -> None:
    values = parsed(PARTIAL)
    ages = {
        dims[-1][1]: value
        for (name, dims), value in values.items()
        if name == "NewestSnapshotAgeHours"
    }
    assert ages == {"ghost": 54.0, "db-stopped": 30.0, "aurora-1": 0.0, "aurora-1-1": 0.0,
                    "db-a": 0.0}  # fmt: skip
    assert values[("NewestSnapshotAgeHours", per_target("aurora-1", "cluster"))] == 0.0


def test_documented_names_units_and_dimensions_only() -> None:
    data = emf.data(
        json.dumps(d)
        for d in documents(
            PARTIAL | {"restore_tests": [{"source_type": "instance", "source_id": "db-a",
                                          "status": "restored", "restore_seconds": 300}]},
            MetricContext("prod", START, END, RPO, 50),
            {},
        )
    )  # fmt: skip
    assert {d.namespace for d in data} == {"RdsSnapshotManager"}
    documented = {
        metrics.RUNS, metrics.RUNS_OK, metrics.RUNS_PARTIAL, metrics.RUNS_FAILED,
        metrics.RUNS_SKIPPED, metrics.SNAPSHOTS_CREATED, metrics.SNAPSHOTS_DELETED,
        metrics.TARGETS_SKIPPED, metrics.TARGETS_FAILED, metrics.RUN_DURATION_SECONDS,
        metrics.RPO_BREACHES, metrics.MAX_NEWEST_SNAPSHOT_AGE_HOURS, metrics.SNAPSHOTS_COPIED,
        metrics.SNAPSHOTS_SHARED, metrics.WORK_FAILED, metrics.NEWEST_SNAPSHOT_AGE_HOURS,
        metrics.RESTORE_SECONDS, metrics.RESTORE_TESTS_FAILED,
    }  # fmt: skip
    assert {d.name for d in data} == documented
    assert {tuple(k for k, _ in d.dimensions) for d in data} == {
        ("Deployment",),
        ("Deployment", "SourceType", "SourceId"),
    }
    units = {d.name: d.unit for d in data}
    assert units["RunDurationSeconds"] == units["RestoreSeconds"] == "Seconds"
    assert units["MaxNewestSnapshotAgeHours"] == units["NewestSnapshotAgeHours"] == "None"
    assert units["Runs"] == "Count"


def test_per_target_dimensions_stop_at_the_limit_oldest_first() -> None:
    report = {"status": "OK", "skipped": [target(f"db-{i}", float(i), False) for i in range(5)]}
    values = parsed(report, limit=2)
    per = {dims[-1][1] for (name, dims) in values if name == "NewestSnapshotAgeHours"}
    assert per == {"db-4", "db-3"}
    # the fleet aggregate still covers every target
    assert values[("MaxNewestSnapshotAgeHours", RUN)] == 4.0
    assert not any(name == "NewestSnapshotAgeHours" for name, _ in parsed(report, limit=0))


def test_targets_beyond_the_limit_are_counted_in_the_run_document() -> None:
    report = {"status": "OK", "skipped": [target(f"db-{i}", float(i), False) for i in range(5)]}
    [run, *_] = documents(report, MetricContext("prod", START, END, RPO, 2), {})
    assert run["targets_beyond_metric_limit"] == 3


def test_an_id_rds_would_refuse_is_never_a_dimension_value_but_counts_in_the_aggregate() -> None:
    """An `InvalidIdentifier` target's id is any text the user wrote (CloudWatch wants ASCII)."""
    report = {"status": "PARTIAL", "failed": [target("bad id ü", None, True)]}
    values = parsed(report)
    assert values[("MaxNewestSnapshotAgeHours", RUN)] == 2 * RPO
    assert not any(name == "NewestSnapshotAgeHours" for name, _ in values)


def test_skipped_run_counts_the_run_but_reports_no_age() -> None:
    """A run without the lease measured nothing: no MaxNewestSnapshotAgeHours datum. The run that
    held the lease emits it; if runs stop altogether, the RPO alarm's missing data breaches."""
    values = parsed({"status": "SKIPPED", "created": [], "skipped": [], "failed": []})
    assert values[("Runs", RUN)] == values[("RunsSkipped", RUN)] == 1
    assert ("MaxNewestSnapshotAgeHours", RUN) not in values
    assert not any(dims != RUN for _, dims in values)


def test_an_on_demand_run_of_named_targets_reports_no_fleet_maximum() -> None:
    """Its targets were just snapshotted; the fleet's oldest may be a database it did not name, so
    its maximum would hide a breach from the RPO alarm. Its per-target ages still count."""
    named = PARTIAL | {"on_demand": {"reason": "pre-migration", "force": True, "targets": 1}}
    values = parsed(named)
    assert ("MaxNewestSnapshotAgeHours", RUN) not in values
    assert values[("NewestSnapshotAgeHours", per_target("db-stopped"))] == 30.0
    whole_fleet = PARTIAL | {"on_demand": {"reason": None, "force": True, "targets": 0}}
    assert parsed(whole_fleet)[("MaxNewestSnapshotAgeHours", RUN)] == 54.0


def test_unmeasured_targets_are_left_out() -> None:
    report = {"status": "FAILED", "failed": [target("s3://b/k", None, False, source_type=None)]}
    assert ("MaxNewestSnapshotAgeHours", RUN) not in parsed(report)
    assert target_ages(report, RPO) == []


def test_copy_share_counts_are_zero_without_those_fields() -> None:
    values = parsed({"status": "OK"})
    assert values[("SnapshotsCopied", RUN)] == values[("SnapshotsShared", RUN)] == 0
    assert values[("WorkFailed", RUN)] == 0
    assert ("RestoreTestsFailed", RUN) not in values


def test_restore_tests_give_restore_seconds_and_failures() -> None:
    restores = [
        {"source_type": "instance", "source_id": "db-a", "status": "restored",
         "restore_seconds": 420.5, "deleted": True},
        {"source_type": "cluster", "source_id": "aurora-1", "status": "restored",
         "restore_seconds": 900, "deleted": True},
        {"source_type": "instance", "source_id": "db-b", "status": "timed_out", "deleted": True},
        {"source_type": "instance", "source_id": "db-c", "status": "failed", "deleted": True},
    ]  # fmt: skip
    values = parsed({"status": "PARTIAL", "restore_tests": restores}, limit=1)
    assert values[("RestoreTestsFailed", RUN)] == 2
    # A restore that worked but left its temporary database behind fails too (the report's rule).
    left = [
        *restores,
        {"source_type": "instance", "source_id": "db-d", "status": "restored",
         "restore_seconds": 300, "deleted": False},
    ]  # fmt: skip
    assert parsed({"status": "PARTIAL", "restore_tests": left})[("RestoreTestsFailed", RUN)] == 3
    # Both measured restores reach the deployment-wide set; only the first (by source) within
    # the limit gets its per-target set too.
    datums = emf.data(
        json.dumps(d)
        for d in documents(
            {"status": "PARTIAL", "restore_tests": restores},
            MetricContext("prod", START, END, RPO, 1),
            {},
        )
    )
    seconds = sorted((d.dimensions, d.value) for d in datums if d.name == "RestoreSeconds")
    assert seconds == sorted(
        [(RUN, 900.0), (per_target("aurora-1", "cluster"), 900.0), (RUN, 420.5)]
    )


# -- Notify prints them (moto) --------------------------------------------------------------------
def emitted(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if emf.is_emf(line)]


def test_notify_prints_the_metrics_once_per_run(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    account.instance("db-a")
    account.snapshot("db-a", OURS + "db-a-1",
                     run_started_at=datetime.now(UTC) - timedelta(hours=25))  # fmt: skip
    engine = account.engine(db_instance_identifiers=("db-a", "ghost"), delete_old_snapshots=False)
    ctx = context()
    engine.create.run(ctx)
    capsys.readouterr()
    engine.notify.run(ctx)
    lines = emitted(capsys)
    values = emf.values(lines)
    run = (("Deployment", NAME),)
    assert values[("Runs", run)] == values[("RunsPartial", run)] == 1
    assert values[("SnapshotsCreated", run)] == values[("TargetsFailed", run)] == 1
    assert values[("RpoBreaches", run)] == 1  # ghost: no backup at all
    assert values[("MaxNewestSnapshotAgeHours", run)] == 2 * 27.0
    db_a = (*run, ("SourceType", "instance"), ("SourceId", "db-a"))
    assert values[("NewestSnapshotAgeHours", db_a)] == 0.0  # created now, available
    assert all(json.loads(line)["run_id"] == "run-1" for line in lines)

    engine.notify.run(ctx)  # a retried Notify: published already, no second set of metrics
    assert emitted(capsys) == []
