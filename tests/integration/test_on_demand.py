"""On-demand runs and tiered retention in the deployed system: an execution input with `targets`,
`force` and `reason` snapshots only the named database, now, tagged `RunReason`; an unselected id
fails `NotATarget`; a dry run limited to one target plans Prune for it alone by the deployed
`retention_policy`; and an on-demand run that meets a held lease is SKIPPED on both topics.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tools.localstack.harness import (
    LEASE_KEY,
    Databases,
    Deployment,
    client,
    hold_lease,
    managed_snapshots,
    unique_name,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def on_demand(
    deploy: Callable[[str, dict[str, Any]], Deployment], databases: Databases
) -> Deployment:
    name = unique_name("it-demand")
    first = databases.add_instance(f"{name}-a")
    second = databases.add_instance(f"{name}-b")
    return deploy(
        name,
        {
            "db_instance_identifiers": [first, second],
            "backup_interval_hours": 24,  # after the first run, only `force` snapshots again
            "retention_policy": {"daily": 1},  # per database, the newest of each day is kept
        },
    )


def tags(snapshot: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in snapshot.get("TagList", [])}


def test_on_demand_run_snapshots_only_the_named_target_now_and_prunes_by_the_tiers(
    on_demand: Deployment,
) -> None:
    first = on_demand.variables["db_instance_identifiers"][0]
    _, scheduled = on_demand.run({"dry_run": False})
    assert scheduled["status"] == "OK"
    assert "on_demand" not in scheduled
    assert len(scheduled["created"]) == 2

    execution, report = on_demand.run(
        {
            "targets": {"db_instance_identifiers": [first.upper(), "not-selected"]},
            "force": True,
            "reason": "pre-migration #1",
        }
    )

    assert execution["status"] == "SUCCEEDED"
    assert report["on_demand"] == {"reason": "pre-migration #1", "force": True, "targets": 2}
    assert report["status"] == "PARTIAL"  # not-selected failed
    [created] = report["created"]
    assert (created["source_id"], created["status"]) == (first, "available")
    [failed] = report["failed"]
    assert (failed["source_id"], failed["error_code"]) == ("not-selected", "NotATarget")
    assert report["skipped"] == []  # the second database is not part of this run
    snapshot = managed_snapshots(on_demand.name)[created["snapshot_id"]]
    assert tags(snapshot)["RunReason"] == "pre-migration _1"
    assert on_demand.report(on_demand.failure_queue, execution["name"]) == report

    # Two snapshots of the first database today: daily=1 keeps the newest. A dry run limited to
    # it shows Prune's plan for it alone (the second database's one snapshot is not considered).
    _, dry = on_demand.run({"targets": {"db_instance_identifiers": [first]}, "dry_run": True})
    assert dry["on_demand"] == {"reason": None, "force": False, "targets": 1}
    assert [item["source_id"] for item in dry["skipped"]] == [first]  # not due, not forced
    assert [item["snapshot_id"] for item in dry["would_delete"]] == [
        item["snapshot_id"] for item in scheduled["created"] if item["source_id"] == first
    ]
    assert dry["deleted"] == []


def test_on_demand_run_meeting_a_held_lease_is_skipped_on_both_topics(
    on_demand: Deployment,
) -> None:
    hold_lease(on_demand, "scheduled-execution", time.time() + 3600)
    before = set(managed_snapshots(on_demand.name))
    try:
        execution, report = on_demand.run({"force": True, "reason": "hotfix"})
    finally:
        client("dynamodb").delete_item(
            TableName=on_demand.outputs["dynamodb_table_name"], Key=LEASE_KEY
        )

    assert execution["status"] == "SUCCEEDED"
    assert (report["status"], report["created"]) == ("SKIPPED", [])
    assert report["reason"].startswith("run scheduled-execution held the lease")
    assert report["on_demand"] == {"reason": "hotfix", "force": True, "targets": 0}
    assert set(managed_snapshots(on_demand.name)) == before
    # A person asked for it: the skipped report also reaches the failure topic.
    assert on_demand.report(on_demand.failure_queue, execution["name"]) == report
