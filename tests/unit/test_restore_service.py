"""Restore tests end to end under moto (issue 11 item 5): restore, wait, measure, delete; a failed
restore, a timeout and the cleanup after each; Notify's cleanup; the sweeper; the lease."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rds_snapshot_manager.adapters.ledger import RESTORE_LEASE_KEY, LeaseState
from rds_snapshot_manager.domain.restore import RestoreTestConfig, is_temp_db
from rds_snapshot_manager.services.engine import Engine
from rds_snapshot_manager.services.run import RunContext
from tests.unit.conftest import NAME, OURS, Account, answer, context, inject_error

SNAPSHOT = f"{OURS}db-a-202611250100-0123abcd"
CLUSTER_SNAPSHOT = f"{OURS}aurora-1-202611250100-0123abcd"


def restore_engine(account: Account, **config: Any) -> Engine:
    return account.engine(
        db_instance_identifiers=("db-a",),
        db_cluster_identifiers=("aurora-1",),
        restore_test=RestoreTestConfig(**{"db_instance_identifiers": ("db-a",), **config}),
    )


def fleet(account: Account) -> None:
    account.instance("db-a")
    account.snapshot("db-a", SNAPSHOT)
    account.snapshot("db-a", "db-a-by-hand", managed_by=None)  # never restored: not ours


def temp_instances(account: Account) -> dict[str, dict[str, str]]:
    return {
        db["DBInstanceIdentifier"]: {t["Key"]: t["Value"] for t in db.get("TagList", [])}
        for db in account.rds.describe_db_instances()["DBInstances"]
        if is_temp_db(db["DBInstanceIdentifier"],
                      {t["Key"]: t["Value"] for t in db.get("TagList", [])}, NAME)
    }  # fmt: skip


def restore_run(**overrides: Any) -> RunContext:
    return context(run_id="restore-1", restore_test=True, **overrides)


def test_restore_is_measured_deleted_and_reported(account: Account) -> None:
    fleet(account)
    engine = restore_engine(account)
    ctx = restore_run()
    assert engine.restore.start(ctx).summary()["restoring"] == 1
    (restored,) = temp_instances(account).items()
    assert restored[1] == {"ManagedBy": NAME, "RunId": "restore-1", "RestoreTestOf": SNAPSHOT}
    polled = engine.restore.poll(restore_run(now=ctx.now + timedelta(seconds=90)))
    assert polled.summary() == {
        "restoring": 0, "restored": 1, "failed": 0, "done": True, "timed_out": False,
    }  # fmt: skip
    assert temp_instances(account) == {}  # deleted as soon as it was measured
    result = engine.notify.run(restore_run(now=ctx.now + timedelta(seconds=95)))
    assert result.status == "OK"
    report = account.messages(account.report_queue)[0]
    assert report["restore_tests"] == [
        {
            "source_id": "db-a",
            "source_type": "instance",
            "snapshot_id": SNAPSHOT,
            "restored_id": restored[0],
            "status": "restored",
            "restore_seconds": 90.0,
            "deleted": True,
        }
    ]
    assert report["created"] == []
    assert account.messages(account.failure_queue) == []


def test_failed_restore_call_is_a_failure_on_the_failure_topic(account: Account) -> None:
    fleet(account)
    engine = restore_engine(account)
    inject_error(account.rds, "RestoreDBInstanceFromDBSnapshot", "InsufficientDBInstanceCapacity")
    ctx = restore_run()
    assert engine.restore.start(ctx).summary()["failed"] == 1
    assert engine.restore.poll(ctx).summary()["done"] is True
    assert engine.notify.run(ctx).status == "PARTIAL"
    (test,) = account.messages(account.failure_queue)[0]["restore_tests"]
    assert (test["status"], test["error_code"], test["deleted"]) == (
        "failed", "InsufficientDBInstanceCapacity", True,
    )  # fmt: skip
    assert temp_instances(account) == {}


def test_restore_that_ends_failed_is_deleted_and_reported(account: Account) -> None:
    fleet(account)
    engine = restore_engine(account)
    ctx = restore_run()
    engine.restore.start(ctx)
    (temp_id,) = temp_instances(account)
    deleted: list[str] = []
    account.rds.meta.events.register(
        "before-parameter-build.rds.DeleteDBInstance",
        lambda params, **_: deleted.append(params["DBInstanceIdentifier"]),
    )
    answer(
        account.rds,
        "DescribeDBInstances",
        {
            "DBInstances": [
                {"DBInstanceIdentifier": temp_id, "DBInstanceStatus": "incompatible-restore"}
            ]
        },
    )
    polled = engine.restore.poll(ctx).summary()
    assert (polled["failed"], polled["done"]) == (1, True)
    assert deleted == [temp_id]
    (test,) = engine.restore.finish(ctx)
    assert (test["status"], test["error_code"]) == ("failed", "RestoreFailed")
    assert "incompatible-restore" in test["message"]


def test_restore_not_available_within_the_timeout_is_timed_out_and_deleted(
    account: Account,
) -> None:
    fleet(account)
    engine = restore_engine(account, timeout_minutes=30)
    ctx = restore_run()
    engine.restore.start(ctx)
    (temp_id,) = temp_instances(account)
    still = {"DBInstances": [{"DBInstanceIdentifier": temp_id, "DBInstanceStatus": "creating"}]}
    answer(account.rds, "DescribeDBInstances", still)
    early = engine.restore.poll(restore_run(now=ctx.now + timedelta(minutes=29)))
    assert early.summary()["done"] is False
    late = engine.restore.poll(restore_run(now=ctx.now + timedelta(minutes=30)))
    assert late.summary() == {
        "restoring": 0, "restored": 0, "failed": 1, "done": True, "timed_out": False,
    }  # fmt: skip
    account.rds.meta.events.unregister("before-call.rds.DescribeDBInstances")
    (test,) = engine.restore.finish(ctx)
    assert (test["status"], test["error_code"], test["deleted"]) == (
        "timed_out", "RestoreTimedOut", True,
    )  # fmt: skip


def test_notify_deletes_what_a_broken_run_left_and_reports_it_unfinished(
    account: Account,
) -> None:
    fleet(account)
    engine = restore_engine(account)
    ctx = restore_run()
    engine.restore.start(ctx)
    assert len(temp_instances(account)) == 1
    # Check never ran (e.g. the Parallel state failed): Notify runs on the Catch path.
    broken = restore_run(error={"Error": "States.TaskFailed", "Cause": "boom"})
    assert engine.notify.run(broken).status == "FAILED"
    assert temp_instances(account) == {}
    (test,) = account.messages(account.failure_queue)[0]["restore_tests"]
    assert (test["status"], test["deleted"]) == ("restoring", True)


def test_retried_start_restores_once(account: Account) -> None:
    fleet(account)
    engine = restore_engine(account)
    calls: list[str] = []
    account.rds.meta.events.register(
        "before-call.rds.RestoreDBInstanceFromDBSnapshot", lambda **_: calls.append("restore")
    )
    ctx = restore_run()
    engine.restore.start(ctx)
    engine.restore.start(ctx)
    assert calls == ["restore"]
    assert len(temp_instances(account)) == 1


def test_aurora_cluster_is_restored_with_one_writer_and_both_deleted(account: Account) -> None:
    account.cluster("aurora-1")
    account.snapshot("aurora-1", CLUSTER_SNAPSHOT, cluster=True)
    engine = restore_engine(
        account, db_instance_identifiers=(), db_cluster_identifiers=("aurora-1",)
    )
    ctx = restore_run()
    engine.restore.start(ctx)
    clusters = [c["DBClusterIdentifier"] for c in account.rds.describe_db_clusters()["DBClusters"]]
    (temp_cluster,) = [c for c in clusters if c.startswith(OURS + "rt-")]
    (writer,) = temp_instances(account)
    polled = engine.restore.poll(restore_run(now=ctx.now + timedelta(seconds=60)))
    assert polled.summary()["restored"] == 1
    assert temp_instances(account) == {}
    remaining = [c["DBClusterIdentifier"] for c in account.rds.describe_db_clusters()["DBClusters"]]
    assert temp_cluster not in remaining
    assert writer != temp_cluster


def test_no_snapshot_and_not_a_target_are_reported_failed(account: Account) -> None:
    account.instance("db-a")  # no snapshot of ours yet
    engine = restore_engine(account, db_instance_identifiers=("db-a", "payments-db"))
    ctx = restore_run()
    engine.restore.start(ctx)
    codes = sorted(t["error_code"] for t in engine.restore.finish(ctx))
    assert codes == ["NoAvailableSnapshot", "NotATarget"]


def test_sweeper_deletes_only_old_temporary_databases(account: Account) -> None:
    fleet(account)
    engine = restore_engine(account)
    ctx = restore_run()
    engine.restore.start(ctx)  # a test whose run then died: nothing deleted it
    (leftover,) = temp_instances(account)
    snapshot_arn = f"arn:aws:rds:us-east-1:123456789012:snapshot:{SNAPSHOT}"
    for identifier, tags in (
        (f"{OURS}rt-untagged-0123abcd", [{"Key": "ManagedBy", "Value": NAME}]),  # no RestoreTestOf
        ("orders-db-copy", [{"Key": "ManagedBy", "Value": NAME},
                            {"Key": "RestoreTestOf", "Value": snapshot_arn}]),  # no prefix
    ):  # fmt: skip
        account.rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier=identifier, DBSnapshotIdentifier=SNAPSHOT, Tags=tags
        )
    backup_run = context(run_id="backup-2", now=ctx.now + timedelta(hours=23))
    engine.prune.run(backup_run)
    assert leftover in temp_instances(account)  # younger than leftover_max_age_hours
    engine.prune.run(context(run_id="backup-3", now=ctx.now + timedelta(hours=24, minutes=1)))
    names = {
        db["DBInstanceIdentifier"] for db in account.rds.describe_db_instances()["DBInstances"]
    }
    assert leftover not in names
    assert {f"{OURS}rt-untagged-0123abcd", "orders-db-copy", "db-a"} <= names


def test_restore_tests_and_backups_hold_separate_leases(account: Account) -> None:
    fleet(account)
    engine = restore_engine(account)
    ctx = restore_run()
    engine.restore.start(ctx)
    engine.create.run(context(run_id="backup-1"))
    assert account.ledger().read_run("backup-1").lease is LeaseState.HELD  # not blocked
    second = engine.restore.start(context(run_id="restore-2", restore_test=True))
    assert second.summary()["restoring"] == 0  # one restore test at a time
    lease = account.ledger().acquire_lease("restore-3", ctx.now, 60, key=RESTORE_LEASE_KEY)
    assert (lease.held, lease.holder) == (False, "restore-1")


def test_multi_az_db_cluster_is_reported_not_supported_and_nothing_restored(
    account: Account,
) -> None:
    account.rds.create_db_cluster(
        DBClusterIdentifier="maz-1", Engine="postgres", MasterUsername="admin",
        MasterUserPassword="password123", DBClusterInstanceClass="db.m6gd.large",
        AllocatedStorage=100, StorageType="io1", Iops=1000,
    )  # fmt: skip
    account.snapshot("maz-1", f"{OURS}maz-1-202611250100-0123abcd", cluster=True)
    engine = account.engine(
        db_cluster_identifiers=("maz-1",),
        restore_test=RestoreTestConfig(db_cluster_identifiers=("maz-1",)),
    )
    ctx = restore_run()
    engine.restore.start(ctx)
    (test,) = engine.restore.finish(ctx)
    assert (test["status"], test["error_code"], test["restored_id"]) == (
        "failed",
        "NotSupported",
        "",
    )
    assert [c["DBClusterIdentifier"] for c in account.rds.describe_db_clusters()["DBClusters"]] == [
        "maz-1"
    ]
