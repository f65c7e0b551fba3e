"""Configurations that need time to pass: retention (a real wait) and the EventBridge schedule.

Each has its own deployment. The scheduled one is applied first, so that its one-minute wait for
EventBridge runs while the expiry test waits for its snapshots to age.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tools.localstack.harness import (
    Databases,
    Deployment,
    client,
    finished_execution,
    managed_snapshots,
    seconds_since,
    unique_name,
    wait_until,
)

pytestmark = pytest.mark.integration

RETENTION_DAYS = 0.0008  # 69.12 s
RETENTION_SECONDS = RETENTION_DAYS * 86400


@pytest.fixture(scope="module", autouse=True)
def scheduled(
    deploy: Callable[[str, dict[str, Any]], Deployment], databases: Databases
) -> tuple[Deployment, float]:
    name = unique_name("it-sched")
    instance = databases.add_instance(f"{name}-pg")
    deployment = deploy(
        name, {"db_instance_identifiers": [instance], "schedule_expression": "rate(1 minute)"}
    )
    return deployment, time.monotonic()


@pytest.fixture(scope="module")
def expiring(
    deploy: Callable[[str, dict[str, Any]], Deployment], databases: Databases
) -> tuple[Deployment, str]:
    name = unique_name("it-exp")
    instance = databases.add_instance(f"{name}-pg")
    deployment = deploy(
        name,
        {
            "db_instance_identifiers": [instance],
            "retention_days": RETENTION_DAYS,
            "backup_interval_hours": 0.0001,  # every run is due
            "min_snapshots_to_keep": 1,
        },
    )
    return deployment, instance


def create_unmanaged_snapshots(instance: str) -> list[str]:
    """An untagged snapshot and one of another deployment: deletion must never touch them."""
    rds = client("rds")
    untagged, foreign = f"{instance}-manual", f"{instance}-foreign"
    rds.create_db_snapshot(DBInstanceIdentifier=instance, DBSnapshotIdentifier=untagged)
    rds.create_db_snapshot(
        DBInstanceIdentifier=instance,
        DBSnapshotIdentifier=foreign,
        Tags=[{"Key": "ManagedBy", "Value": "another-deployment"}],
    )
    return [untagged, foreign]


def snapshot_of_one_run(deployment: Deployment) -> dict[str, Any]:
    """Runs the deployment, which must create exactly one snapshot, and returns that snapshot."""
    created = deployment.run()[1]["created"]
    assert len(created) == 1, created
    return managed_snapshots(deployment.name)[created[0]["snapshot_id"]]


def test_expired_managed_snapshot_is_deleted_younger_and_unmanaged_survive(
    expiring: tuple[Deployment, str],
) -> None:
    deployment, instance = expiring
    unmanaged = create_unmanaged_snapshots(instance)
    oldest = snapshot_of_one_run(deployment)
    time.sleep(max(0.0, RETENTION_SECONDS / 2 - seconds_since(oldest["SnapshotCreateTime"])))
    younger = snapshot_of_one_run(deployment)
    time.sleep(max(0.0, RETENTION_SECONDS + 5 - seconds_since(oldest["SnapshotCreateTime"])))

    third, report = deployment.run()

    assert third["status"] == "SUCCEEDED"
    assert [entry["snapshot_id"] for entry in report["deleted"]] == [oldest["DBSnapshotIdentifier"]]
    remaining = managed_snapshots(deployment.name)
    assert oldest["DBSnapshotIdentifier"] not in remaining
    assert younger["DBSnapshotIdentifier"] in remaining
    assert seconds_since(younger["SnapshotCreateTime"]) < RETENTION_SECONDS
    all_ids = {
        s["DBSnapshotIdentifier"]
        for s in client("rds").describe_db_snapshots(DBInstanceIdentifier=instance)["DBSnapshots"]
    }
    assert set(unmanaged) <= all_ids


def test_schedule_starts_an_execution_by_itself(scheduled: tuple[Deployment, float]) -> None:
    deployment, applied_at = scheduled
    sfn = client("stepfunctions")

    def first_execution() -> str | None:
        executions = sfn.list_executions(stateMachineArn=deployment.state_machine_arn)
        return executions["executions"][-1]["executionArn"] if executions["executions"] else None

    remaining = 150 - (time.monotonic() - applied_at)
    execution = finished_execution(wait_until(first_execution, remaining, "a scheduled run"))

    assert execution["status"] == "SUCCEEDED"
    assert len(managed_snapshots(deployment.name)) == 1
