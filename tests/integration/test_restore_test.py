"""Restore tests in LocalStack (issue 11 item 5): a restore-test execution restores the newest
snapshot of an instance and of an Aurora cluster, measures the time to available, reports it and
deletes the temporary databases; with the extension's fault mode making the restores fail, the
run is PARTIAL on the failure topic and still leaves no temporary database behind.
Notify's log (tests/integration/function_logs.py) carries the EMF metrics: RestoreSeconds per
measured restore, RestoreTestsFailed, and no MaxNewestSnapshotAgeHours (no target is measured).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from rds_snapshot_manager.domain.naming import ownership_prefix
from tests import emf
from tests.integration.function_logs import notify_lines
from tools.localstack.harness import Databases, Deployment, chaos, client, unique_name

pytestmark = pytest.mark.integration


@dataclass
class RestoreSetup:
    deployment: Deployment
    instance: str
    cluster: str

    def temporary_databases(self) -> list[str]:
        """Every instance or cluster named as this deployment's temporary databases are."""
        rds = client("rds")
        mark = ownership_prefix(self.deployment.name) + "rt-"
        names = [db["DBInstanceIdentifier"] for db in rds.describe_db_instances()["DBInstances"]]
        names += [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]]
        return [name for name in names if name.startswith(mark)]


@pytest.fixture(scope="module")
def setup(
    deploy: Callable[[str, dict[str, Any]], Deployment], databases: Databases
) -> RestoreSetup:
    name = unique_name("it-restore")
    instance = databases.add_instance(f"{name}-db")
    cluster = databases.add_cluster(f"{name}-aurora")
    deployment = deploy(
        name,
        {
            "db_instance_identifiers": [instance],
            "db_cluster_identifiers": [cluster],
            "restore_test": {
                "db_instance_identifiers": [instance],
                "db_cluster_identifiers": [cluster],
                "instance_class": "db.t3.medium",
                "timeout_minutes": 10,
            },
        },
    )
    _, backup = deployment.run()  # the snapshots a restore test restores
    assert len(backup["created"]) == 2, backup
    return RestoreSetup(deployment, instance, cluster)


@pytest.fixture
def failing_restores() -> Iterator[None]:
    chaos("POST", {"seed": 11, "fail_restore": 1.0})
    try:
        yield
    finally:
        chaos("DELETE")  # never leave faults on for the tests that follow


def test_restore_test_runs_end_to_end_and_leaves_nothing(setup: RestoreSetup) -> None:
    execution, report = setup.deployment.run({"restore_test": True})
    assert execution["status"] == "SUCCEEDED"
    assert report["status"] == "OK", report
    assert (report["created"], report["deleted"]) == ([], [])  # no snapshot work
    tests = {test["source_type"]: test for test in report["restore_tests"]}
    assert set(tests) == {"instance", "cluster"}
    for test in tests.values():
        assert test["status"] == "restored"
        assert test["deleted"] is True
        assert 0 <= test["restore_seconds"] < 600
        assert test["restored_id"].startswith(ownership_prefix(setup.deployment.name) + "rt-")
    assert tests["instance"]["source_id"] == setup.instance
    assert setup.temporary_databases() == []
    lines = notify_lines(setup.deployment.name, execution["name"])
    data = emf.data(line for line in lines if execution["name"] in line)
    deployment = (("Deployment", setup.deployment.name),)
    restores = sorted((d.dimensions, d.value) for d in data if d.name == "RestoreSeconds")
    expected = [(deployment, float(t["restore_seconds"])) for t in tests.values()]
    expected += [
        ((*deployment, ("SourceType", t["source_type"]), ("SourceId", t["source_id"])),
         float(t["restore_seconds"]))
        for t in tests.values()
    ]  # fmt: skip
    assert restores == sorted(expected)
    names = {d.name: d.value for d in data if d.dimensions == deployment}
    assert (names["RunsOK"], names["RestoreTestsFailed"]) == (1, 0)
    assert "MaxNewestSnapshotAgeHours" not in names


@pytest.mark.usefixtures("failing_restores")
def test_failed_restores_are_failures_and_still_deleted(setup: RestoreSetup) -> None:
    execution, report = setup.deployment.run({"restore_test": True})
    assert execution["status"] == "SUCCEEDED"
    assert report["status"] == "PARTIAL", report
    for test in report["restore_tests"]:
        assert (test["status"], test["error_code"], test["deleted"]) == (
            "failed", "RestoreFailed", True,
        )  # fmt: skip
    failure = setup.deployment.report(setup.deployment.failure_queue, execution["name"])
    assert failure["restore_tests"] == report["restore_tests"]
    assert setup.temporary_databases() == []
