"""adapters/rds.py, restore tests: restore, a cluster's writer, statuses, delete (moto)."""

from __future__ import annotations

from rds_snapshot_manager.adapters.rds import RdsAdapter
from rds_snapshot_manager.domain.model import Snapshot, SourceRef, SourceType
from rds_snapshot_manager.domain.restore import RestoreTestConfig, TempDb
from tests.unit.conftest import Account, inject_error

CONFIG = RestoreTestConfig()
TAGS = {"ManagedBy": "rsm-test", "RunId": "run-1", "RestoreTestOf": "snap-a"}


def test_instance_restore_is_tagged_idempotent_and_deleted(account: Account) -> None:
    account.instance("db-a")
    account.snapshot("db-a", "snap-a")
    rds = RdsAdapter(account.rds)
    snapshot = Snapshot("snap-a", SourceRef(SourceType.INSTANCE, "db-a"), "available", None)
    temp = TempDb(SourceType.INSTANCE, "rt-db-a")
    assert rds.restore(snapshot, temp, CONFIG, TAGS) is None
    assert rds.restore(snapshot, temp, CONFIG, TAGS) is None  # a retry meets its own database
    restored = account.rds.describe_db_instances(DBInstanceIdentifier="rt-db-a")["DBInstances"][0]
    assert {t["Key"]: t["Value"] for t in restored["TagList"]} == TAGS
    assert restored["DBInstanceClass"] == "db.t3.micro"
    assert rds.db_statuses(SourceType.INSTANCE, ["rt-db-a", "db-gone"]) == {"rt-db-a": "available"}
    assert rds.delete_temp_db(temp) is None
    assert rds.delete_temp_db(temp) is None  # already gone counts as deleted
    assert rds.db_statuses(SourceType.INSTANCE, ["rt-db-a"]) == {}


def test_aurora_restore_gets_one_writer_and_both_are_deleted(account: Account) -> None:
    account.cluster("aurora-1")
    account.snapshot("aurora-1", "snap-c", cluster=True)
    rds = RdsAdapter(account.rds)
    assert rds.cluster_snapshot_engine("snap-c") == "aurora-postgresql"
    snapshot = Snapshot(
        "snap-c", SourceRef(SourceType.CLUSTER, "aurora-1"), "available", None,
        engine="aurora-postgresql",
    )  # fmt: skip
    temp = TempDb(SourceType.CLUSTER, "rt-aurora", "rt-aurora-writer")
    assert rds.restore(snapshot, temp, CONFIG, TAGS) is None
    writer = account.rds.describe_db_instances(DBInstanceIdentifier="rt-aurora-writer")
    assert writer["DBInstances"][0]["DBClusterIdentifier"] == "rt-aurora"
    statuses = rds.db_statuses(SourceType.CLUSTER, ["rt-aurora"])
    assert statuses == {"rt-aurora": "available"}
    assert rds.delete_temp_db(temp) is None
    assert rds.db_statuses(SourceType.CLUSTER, ["rt-aurora"]) == {}
    assert rds.db_statuses(SourceType.INSTANCE, ["rt-aurora-writer"]) == {}


def test_a_refused_restore_or_delete_is_a_problem_not_an_exception(account: Account) -> None:
    rds = RdsAdapter(account.rds)
    snapshot = Snapshot("snap-x", SourceRef(SourceType.INSTANCE, "db-a"), "available", None)
    problem = rds.restore(snapshot, TempDb(SourceType.INSTANCE, "rt-x"), CONFIG, TAGS)
    assert problem is not None
    assert problem.error_code.startswith("DBSnapshotNotFound")
    inject_error(account.rds, "DeleteDBInstance", "AccessDenied")
    problem = rds.delete_temp_db(TempDb(SourceType.INSTANCE, "rt-x"))
    assert problem is not None
    assert problem.error_code == "AccessDenied"
