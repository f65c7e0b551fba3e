"""The lease in the deployed system: a run that meets another run's lease changes nothing and is
reported SKIPPED; an expired lease (a crashed run's) is taken over and freed by the run's Notify.

The other run is stood in for by its lease item, so the overlap is certain rather than a race.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from rds_snapshot_manager.domain.naming import ownership_prefix
from tools.localstack.harness import (
    LEASE_KEY,
    Databases,
    Deployment,
    client,
    hold_lease,
    managed_snapshots,
    receive,
    unique_name,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def leased(deploy: Callable[[str, dict[str, Any]], Deployment], databases: Databases) -> Deployment:
    name = unique_name("it-lease")
    instance = databases.add_instance(f"{name}-pg")
    # Every run is due, so only the lease can keep a run from snapshotting.
    return deploy(name, {"db_instance_identifiers": [instance], "backup_interval_hours": 0.0001})


def test_a_run_that_meets_a_held_lease_is_skipped_and_changes_nothing(
    leased: Deployment,
) -> None:
    hold_lease(leased, "another-execution", time.time() + 3600)
    before = set(managed_snapshots(leased.name))

    execution, report = leased.run()

    assert execution["status"] == "SUCCEEDED"
    assert (report["status"], report["created"], report["deleted"]) == ("SKIPPED", [], [])
    assert "run another-execution held the lease" in report["reason"]
    assert set(managed_snapshots(leased.name)) == before
    failures = [json.loads(json.loads(body)["Message"]) for body in receive(leased.failure_queue)]
    assert execution["name"] not in {failure["run_id"] for failure in failures}


def test_an_expired_lease_is_taken_over_and_freed_by_notify(leased: Deployment) -> None:
    hold_lease(leased, "crashed-execution", time.time() - 1)

    _, report = leased.run()

    assert report["status"] == "OK"
    [created] = report["created"]
    assert created["snapshot_id"].startswith(ownership_prefix(leased.name))
    assert created["snapshot_id"] in managed_snapshots(leased.name)
    lease = client("dynamodb").get_item(
        TableName=leased.outputs["dynamodb_table_name"], Key=LEASE_KEY, ConsistentRead=True
    )
    assert "Item" not in lease
