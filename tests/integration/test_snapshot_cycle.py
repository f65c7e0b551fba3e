"""The deployed system end to end: examples/localstack applied into LocalStack, real executions.

One deployment (the session's main configuration) serves every test here: two instances, an
Aurora cluster and a missing identifier, plus selection by tag. The runs happen in a fixed order
through fixtures: first run, second run within the interval, then a dry run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tools.localstack.harness import (
    Databases,
    Deployment,
    client,
    ledger_items,
    managed_snapshots,
    unique_name,
)

pytestmark = pytest.mark.integration


@dataclass
class Run:
    execution: dict[str, Any]
    report: dict[str, Any]

    @property
    def run_id(self) -> str:
        return str(self.execution["name"])


@dataclass
class MainSetup:
    deployment: Deployment
    instances: list[str]
    cluster: str
    missing: str
    selection_tag: dict[str, str]


@pytest.fixture(scope="session")
def main(deploy: Callable[[str, dict[str, Any]], Deployment], databases: Databases) -> MainSetup:
    name = unique_name("it-main")
    instances = [databases.add_instance(f"{name}-pg-{n}") for n in (1, 2)]
    cluster = databases.add_cluster(f"{name}-aurora")
    missing = f"{name}-missing"
    selection_tag = {"rsm-it": name}
    deployment = deploy(
        name,
        {
            "db_instance_identifiers": [*instances, missing],
            "db_cluster_identifiers": [cluster],
            "selection_tags": selection_tag,
            "backup_interval_hours": 24,
        },
    )
    return MainSetup(deployment, instances, cluster, missing, selection_tag)


@pytest.fixture(scope="session")
def first_run(main: MainSetup) -> Run:
    return Run(*main.deployment.run())


@pytest.fixture(scope="session")
def second_run(main: MainSetup, first_run: Run) -> Run:
    return Run(*main.deployment.run())


def source_ids(entries: list[dict[str, Any]]) -> set[str]:
    return {entry["source_id"] for entry in entries}


def test_deployment_is_stable_a_second_plan_changes_nothing(main: MainSetup) -> None:
    assert main.deployment.plan_changes() == ""


def test_first_run_snapshots_listed_instances_and_cluster_tagged_managed_by(
    main: MainSetup, first_run: Run
) -> None:
    snapshots = managed_snapshots(main.deployment.name)

    sources = {
        snapshot.get("DBInstanceIdentifier") or snapshot["DBClusterIdentifier"]
        for snapshot in snapshots.values()
    }
    assert sources == {*main.instances, main.cluster}
    assert {snapshot["Status"] for snapshot in snapshots.values()} == {"available"}
    assert all(
        {"Key": "RunId", "Value": first_run.run_id} in snapshot["TagList"]
        for snapshot in snapshots.values()
    )


def test_first_run_execution_succeeds_with_a_partial_report(first_run: Run) -> None:
    assert first_run.execution["status"] == "SUCCEEDED"
    assert first_run.report["status"] == "PARTIAL"
    assert first_run.report["dry_run"] is False


def test_report_follows_the_contract_and_lists_every_target_once(
    main: MainSetup, first_run: Run
) -> None:
    report = first_run.report

    assert set(report) >= {"run_id", "status", "dry_run", "created", "deleted", "skipped", "failed"}
    assert report["run_id"] == first_run.run_id
    created = {(e["source_id"], e["source_type"]) for e in report["created"]}
    assert created == {(i, "instance") for i in main.instances} | {(main.cluster, "cluster")}
    assert set(managed_snapshots(main.deployment.name)) == {
        e["snapshot_id"] for e in report["created"]
    }
    outcomes = [*report["created"], *report["skipped"], *report["failed"]]
    assert sorted(source_ids(outcomes)) == sorted(e["source_id"] for e in outcomes)
    assert report["deleted"] == []


def test_missing_database_is_failed_and_reaches_the_failure_topic(
    main: MainSetup, first_run: Run
) -> None:
    assert source_ids(first_run.report["failed"]) == {main.missing}
    assert first_run.report["failed"][0]["error_code"]

    failure = main.deployment.report(main.deployment.failure_queue, first_run.run_id)
    assert source_ids(failure["failed"]) == {main.missing}


def test_ledger_holds_the_run_and_every_target(main: MainSetup, first_run: Run) -> None:
    items = ledger_items(main.deployment.outputs["dynamodb_table_name"], first_run.run_id)

    assert "RUN" in {item["sk"]["S"] for item in items}
    recorded = json.dumps(items)  # the item layout is the Lambda code's; the facts must be there
    for source in (*main.instances, main.cluster, main.missing):
        assert source in recorded
    for entry in first_run.report["created"]:
        assert entry["snapshot_id"] in recorded


def test_second_run_within_interval_creates_nothing(main: MainSetup, second_run: Run) -> None:
    before = set(managed_snapshots(main.deployment.name))

    assert second_run.report["created"] == []
    assert source_ids(second_run.report["skipped"]) == {*main.instances, main.cluster}
    assert all(entry["reason"] for entry in second_run.report["skipped"])
    assert set(managed_snapshots(main.deployment.name)) == before


def test_dry_run_input_reports_but_changes_nothing(
    main: MainSetup, second_run: Run, databases: Databases
) -> None:
    # A newly tagged database is due, so a real run would snapshot it.
    tagged = databases.add_instance(f"{main.deployment.name}-tagged", tags=main.selection_tag)
    before = set(managed_snapshots(main.deployment.name))

    dry = Run(*main.deployment.run({"dry_run": True}))

    assert dry.execution["status"] == "SUCCEEDED"
    assert dry.report["dry_run"] is True
    assert source_ids(dry.report["would_create"]) == {tagged}
    assert dry.report["created"] == []
    assert set(managed_snapshots(main.deployment.name)) == before
    snapshots = client("rds").describe_db_snapshots(DBInstanceIdentifier=tagged)["DBSnapshots"]
    assert [s for s in snapshots if s["SnapshotType"] == "manual"] == []
