"""CloudWatch metrics in the Embedded Metric Format (D12): JSON documents that Notify prints to
its log at the end of a run; CloudWatch Logs turns them into metrics, with no API call.

Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
(at most 100 metrics per directive, 30 dimensions per dimension set; a dimension's value is a
member of the document, so every target gets a document of its own). Pure: built from the report.
The dashboard and alarms of the module use exactly these names (docs/OPERATIONS.md, "Metrics").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rds_snapshot_manager.domain.naming import VALID_ID
from rds_snapshot_manager.domain.report import TARGET_LISTS, restore_test_passed

NAMESPACE = "RdsSnapshotManager"
DEPLOYMENT = "Deployment"
SOURCE_TYPE = "SourceType"
SOURCE_ID = "SourceId"
RUN_DIMENSIONS = [[DEPLOYMENT]]
TARGET_DIMENSIONS = [[DEPLOYMENT, SOURCE_TYPE, SOURCE_ID]]
MAX_METRICS_PER_DOCUMENT = 100

# Per run, dimensions [["Deployment"]].
RUNS = "Runs"
RUNS_OK = "RunsOK"
RUNS_PARTIAL = "RunsPartial"
RUNS_FAILED = "RunsFailed"
RUNS_SKIPPED = "RunsSkipped"
SNAPSHOTS_CREATED = "SnapshotsCreated"
SNAPSHOTS_DELETED = "SnapshotsDeleted"
TARGETS_SKIPPED = "TargetsSkipped"
TARGETS_FAILED = "TargetsFailed"
RUN_DURATION_SECONDS = "RunDurationSeconds"
RPO_BREACHES = "RpoBreaches"
MAX_NEWEST_SNAPSHOT_AGE_HOURS = "MaxNewestSnapshotAgeHours"
SNAPSHOTS_COPIED = "SnapshotsCopied"
SNAPSHOTS_SHARED = "SnapshotsShared"
WORK_FAILED = "WorkFailed"
RESTORE_TESTS_FAILED = "RestoreTestsFailed"  # only in a run that reports `restore_tests`
# Per target, dimensions [["Deployment", "SourceType", "SourceId"]], within the target limit.
NEWEST_SNAPSHOT_AGE_HOURS = "NewestSnapshotAgeHours"
# Per measured restore, dimensions [["Deployment"]] plus, within the limit, the per-target set.
RESTORE_SECONDS = "RestoreSeconds"

RUN_STATUS_METRICS = {
    "OK": RUNS_OK,
    "PARTIAL": RUNS_PARTIAL,
    "FAILED": RUNS_FAILED,
    "SKIPPED": RUNS_SKIPPED,
}
# CloudWatch has no unit for hours.
UNITS = {
    RUN_DURATION_SECONDS: "Seconds",
    RESTORE_SECONDS: "Seconds",
    MAX_NEWEST_SNAPSHOT_AGE_HOURS: "None",
    NEWEST_SNAPSHOT_AGE_HOURS: "None",
}
# A target without any available managed snapshot has no age; its metrics count it as this
# many RPOs old, so it trips an alarm on `> rpo_hours` and stays on a dashboard's scale.
NO_BACKUP_RPO_FACTOR = 2


@dataclass(frozen=True, slots=True)
class MetricContext:
    """What the documents need besides the report."""

    deployment: str
    run_started_at: datetime
    now: datetime
    rpo_hours: float
    target_limit: int  # RSM_METRIC_TARGET_LIMIT


def target_ages(report: Mapping[str, Any], rpo_hours: float) -> list[tuple[str, str, float]]:
    """(source type, source id, age in hours) of every measured target, oldest first: the
    report's `newest_snapshot_age_hours`, or NO_BACKUP_RPO_FACTOR x the RPO for a target that
    breaches without any available snapshot. Unmeasured targets (no age, no breach) are left out."""
    ages: dict[tuple[str, str], float] = {}
    for name in TARGET_LISTS:
        for item in report.get(name, ()):
            age = item.get("newest_snapshot_age_hours")
            if age is None and item.get("rpo_breached"):
                age = NO_BACKUP_RPO_FACTOR * rpo_hours
            if age is not None and item.get("source_type"):
                ages[(str(item["source_type"]), str(item["source_id"]))] = float(age)
    ordered = sorted(ages.items(), key=lambda entry: (-entry[1], entry[0]))
    return [(kind, source_id, age) for (kind, source_id), age in ordered]


def documents(
    report: Mapping[str, Any], context: MetricContext, properties: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The run's EMF documents: one for the run, one per target within the limit (oldest
    first), one per measured restore. `properties` (run id, request id, ...) go into each as
    plain members, which CloudWatch Logs keeps searchable and does not turn into metrics."""
    timestamp = int(context.now.timestamp() * 1000)
    shared = {DEPLOYMENT: context.deployment, **properties}
    ages = target_ages(report, context.rpo_hours)
    # An id RDS would refuse (an `InvalidIdentifier` target: any text) never becomes a dimension
    # value (CloudWatch wants ASCII there); the aggregate still counts it.
    within = [age for age in ages if VALID_ID.match(age[1])][: context.target_limit]
    run = _run_values(report, context, ages)
    docs = [
        _document(timestamp, RUN_DIMENSIONS, run)
        | shared
        | {"targets_beyond_metric_limit": len(ages) - len(within)}
    ]
    docs += [
        _document(timestamp, TARGET_DIMENSIONS, {NEWEST_SNAPSHOT_AGE_HOURS: age})
        | shared
        | {SOURCE_TYPE: kind, SOURCE_ID: source_id}
        for kind, source_id, age in within
    ]
    measured = sorted(
        (
            (str(item.get("source_type")), str(item.get("source_id")), item["restore_seconds"])
            for item in report.get("restore_tests", ())
            if item.get("restore_seconds") is not None
        ),
        key=lambda entry: entry[:2],
    )
    per_target = 0
    for kind, source_id, seconds in measured:
        dimensions = RUN_DIMENSIONS
        if per_target < context.target_limit and VALID_ID.match(source_id):
            dimensions = RUN_DIMENSIONS + TARGET_DIMENSIONS
            per_target += 1
        document = _document(timestamp, dimensions, {RESTORE_SECONDS: float(seconds)}) | shared
        docs.append(document | {SOURCE_TYPE: kind, SOURCE_ID: source_id})
    return docs


def _run_values(
    report: Mapping[str, Any], context: MetricContext, ages: list[tuple[str, str, float]]
) -> dict[str, float]:
    status = str(report.get("status", ""))
    copied = list(report.get("copied", ()))
    shared = list(report.get("shared", ()))
    values: dict[str, float] = {RUNS: 1}
    values |= {metric: int(status == run) for run, metric in RUN_STATUS_METRICS.items()}
    values |= {
        SNAPSHOTS_CREATED: len({item.get("snapshot_id") for item in report.get("created", ())}),
        SNAPSHOTS_DELETED: len(report.get("deleted", ())),
        TARGETS_SKIPPED: len(report.get("skipped", ())),
        TARGETS_FAILED: len(report.get("failed", ())),
        RUN_DURATION_SECONDS: round(
            max((context.now - context.run_started_at).total_seconds(), 0.0), 3
        ),
        RPO_BREACHES: sum(
            1 for name in TARGET_LISTS for item in report.get(name, ()) if item.get("rpo_breached")
        ),
        SNAPSHOTS_COPIED: _count(copied, "available"),
        SNAPSHOTS_SHARED: _count(shared, "shared"),
        WORK_FAILED: _count(copied + shared, "failed"),
    }
    # The fleet's maximum needs the whole fleet: a run that measured no target (SKIPPED, or failed
    # before Create listed) has none, and neither has an on-demand run limited to named targets,
    # whose fresh snapshots would otherwise hide the rest of the fleet's age from the RPO alarm.
    if ages and not report.get("on_demand", {}).get("targets"):
        values[MAX_NEWEST_SNAPSHOT_AGE_HOURS] = ages[0][2]
    if "restore_tests" in report:
        # Failed, timed out, or its temporary database left behind (deleted false): the report's
        # own rule for a test that makes the run PARTIAL.
        values[RESTORE_TESTS_FAILED] = sum(
            1 for item in report["restore_tests"] if not restore_test_passed(item)
        )
    return values


def _count(items: Iterable[Mapping[str, Any]], status: str) -> int:
    return sum(1 for item in items if item.get("status") == status)


def _document(
    timestamp: int, dimensions: list[list[str]], values: Mapping[str, float]
) -> dict[str, Any]:
    return {
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": dimensions,
                    "Metrics": [
                        {"Name": name, "Unit": UNITS.get(name, "Count")} for name in values
                    ],
                }
            ],
        },
        **values,
    }
