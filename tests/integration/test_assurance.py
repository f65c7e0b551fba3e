"""Backup assurance end to end (issue 11): one deployed run's report carries each target's RPO and
the storage figure, and its Notify function's log in CloudWatch Logs carries the EMF metrics and,
on every line, the Lambda request id and the cold-start flag.

The Notify log is read as tests/integration/function_logs.py says.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rds_snapshot_manager.domain.naming import ownership_prefix
from tests import emf
from tests.integration.function_logs import notify_lines
from tools.localstack.harness import Databases, Deployment, client, unique_name

pytestmark = pytest.mark.integration
STALE_HOURS = 30  # the stopped database's newest backup: older than the default RPO


@dataclass
class AssuredRun:
    deployment: Deployment
    due: str
    stopped: str
    missing: str
    run_id: str
    report: dict[str, Any]
    execution: dict[str, Any]


@pytest.fixture(scope="module")
def assured(
    deploy: Callable[[str, dict[str, Any]], Deployment], databases: Databases
) -> AssuredRun:
    name = unique_name("it-assure")
    due = databases.add_instance(f"{name}-due")
    stopped = databases.add_instance(f"{name}-stopped")
    rds = client("rds")
    backup_time = datetime.now(UTC) - timedelta(hours=STALE_HOURS)
    rds.create_db_snapshot(  # a backup an earlier run made, 30 h ago by its RunStartedAt
        DBInstanceIdentifier=stopped,
        DBSnapshotIdentifier=f"{ownership_prefix(name)}{stopped}-earlier",
        Tags=[
            {"Key": "ManagedBy", "Value": name},
            {"Key": "RunStartedAt", "Value": f"{backup_time:%Y-%m-%dT%H:%M:%SZ}"},
        ],
    )
    rds.stop_db_instance(DBInstanceIdentifier=stopped)
    missing = f"{name}-missing"
    deployment = deploy(name, {"db_instance_identifiers": [due, stopped, missing]})
    execution, report = deployment.run()
    return AssuredRun(deployment, due, stopped, missing, execution["name"], report, execution)


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["source_id"]: i for name in ("created", "skipped", "failed") for i in report[name]}


def test_report_carries_rpo_and_storage_per_target(assured: AssuredRun) -> None:
    report = assured.report
    items = by_id(report)
    assert assured.execution["status"] == "SUCCEEDED"
    assert report["status"] == "PARTIAL"
    due, stopped, missing = (items[i] for i in (assured.due, assured.stopped, assured.missing))
    # made by this run and seen available by Check: age 0
    assert (due["status"], due["newest_snapshot_age_hours"], due["rpo_breached"]) == (
        "available",
        0.0,
        False,
    )
    assert "stopped" in stopped["reason"]
    assert stopped["newest_snapshot_age_hours"] == pytest.approx(STALE_HOURS, abs=0.1)
    assert stopped["rpo_breached"] is True
    assert (stopped["managed_snapshot_count"], stopped["managed_snapshot_gib"]) == (1, 20.0)
    assert (missing["error_code"], missing["newest_snapshot_age_hours"]) == ("NotFound", None)
    assert missing["rpo_breached"] is True
    assert report["storage"]["snapshot_count"] == 1
    assert report["storage"]["allocated_gib"] == 20.0
    assert report["storage"]["estimated_monthly_cost_usd"] == round(20 * 0.095, 2)


def test_breach_goes_to_the_failure_topic(assured: AssuredRun) -> None:
    failure = assured.deployment.report(assured.deployment.failure_queue, assured.run_id)
    assert failure == assured.report


def test_notify_log_carries_the_documented_metrics(assured: AssuredRun) -> None:
    lines = notify_lines(assured.deployment.name, assured.run_id)
    mine = [line for line in lines if emf.is_emf(line) and assured.run_id in line]
    values = emf.values(mine)
    rpo = assured.report["rpo_hours"]
    run = (("Deployment", assured.deployment.name),)
    assert {name: value for (name, dims), value in values.items() if dims == run} == {
        "Runs": 1, "RunsOK": 0, "RunsPartial": 1, "RunsFailed": 0, "RunsSkipped": 0,
        "SnapshotsCreated": 1, "SnapshotsDeleted": 0, "TargetsSkipped": 1, "TargetsFailed": 1,
        "RunDurationSeconds": values[("RunDurationSeconds", run)], "RpoBreaches": 2,
        "MaxNewestSnapshotAgeHours": 2 * rpo,  # the missing database: no backup at all
        "SnapshotsCopied": 0, "SnapshotsShared": 0, "WorkFailed": 0,
    }  # fmt: skip
    assert 0 < values[("RunDurationSeconds", run)] < 600

    def age(source_id: str) -> float:
        return values[
            ("NewestSnapshotAgeHours", (*run, ("SourceType", "instance"), ("SourceId", source_id)))
        ]

    assert age(assured.due) == 0.0
    assert age(assured.stopped) == pytest.approx(STALE_HOURS, abs=0.1)
    assert age(assured.missing) == 2 * rpo


def test_every_function_line_carries_the_request_id_and_cold_start(assured: AssuredRun) -> None:
    lines = notify_lines(assured.deployment.name, assured.run_id)
    reports = [line for line in lines if line.startswith("REPORT RequestId: ")]
    request_ids = {line.split()[2] for line in reports}
    ours = [json.loads(line) for line in lines if line.startswith("{")]
    assert ours, "no JSON line from the function"
    for line in ours:
        assert line["function_request_id"] in request_ids, line
        assert isinstance(line["cold_start"], bool), line
    # This deployment's Notify ran once, in a fresh process: its lines are a cold start.
    assert {line["cold_start"] for line in ours if line.get("run_id") == assured.run_id} == {True}
