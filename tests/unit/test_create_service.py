import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from rds_snapshot_manager.adapters.rds import tag_time
from rds_snapshot_manager.domain.model import (
    DRY_RUN_STATUS,
    Outcome,
    SourceRef,
    SourceType,
    TargetOutcome,
)
from rds_snapshot_manager.domain.naming import snapshot_id
from rds_snapshot_manager.domain.report import RunSummary, build_report
from rds_snapshot_manager.services.create import CreateResult
from tests.unit.conftest import (
    NAME,
    OURS,
    Account,
    answer,
    context,
    count_calls,
    inject_error,
    inject_errors_by,
    inject_exception,
    later,
    slow_down,
)


def by_source(result: CreateResult) -> dict[str, TargetOutcome]:
    return {o.source_id: o for o in result.outcomes}


def test_due_targets_are_snapshotted_and_recent_ones_skipped_with_reason(account: Account) -> None:
    account.instance("db-old")
    account.instance("db-new")
    account.snapshot("db-old", OURS + "db-old-earlier")
    account.snapshot("db-new", OURS + "db-new-earlier")
    engine = account.engine(db_instance_identifiers=("db-old", "db-new"), backup_interval_hours=24)
    account.rds.delete_db_snapshot(DBSnapshotIdentifier=OURS + "db-old-earlier")
    outcomes = by_source(engine.create.run(context(now=later(hours=3))))
    assert outcomes["db-old"].outcome is Outcome.CREATED
    assert outcomes["db-old"].snapshot_id in account.snapshot_ids()
    assert outcomes["db-new"].outcome is Outcome.SKIPPED
    assert outcomes["db-new"].reason == "not due: newest snapshot 3 h old, interval 24 h"


def test_only_this_deployments_snapshots_count_towards_the_interval(account: Account) -> None:
    account.instance("db-a")
    account.snapshot("db-a", "someone-elses", managed_by="other-deployment")
    account.snapshot("db-a", "untagged", managed_by=None)
    account.snapshot("db-a", "a-persons-copy")  # CopyTags: our ManagedBy tag, not our prefix
    result = account.engine(db_instance_identifiers=("db-a",)).create.run(context())
    assert by_source(result)["db-a"].outcome is Outcome.CREATED


def test_cluster_members_of_any_engine_are_snapshotted_once_at_cluster_level(
    account: Account,
) -> None:
    account.cluster("aurora-my", engine="aurora-mysql", members=2, encrypted=True)
    account.cluster("aurora-pg", engine="aurora-postgresql", members=1)
    engine = account.engine(
        db_instance_identifiers=("aurora-my-1", "aurora-my-2", "aurora-pg-1"),
        db_cluster_identifiers=("aurora-my",),
    )
    result = engine.create.run(context())
    assert sorted((o.source_id, o.source_type, o.outcome) for o in result.outcomes) == [
        ("aurora-my", "cluster", Outcome.CREATED),
        ("aurora-my-1", "instance", Outcome.CREATED),  # listed members: their own outcome,
        ("aurora-my-2", "instance", Outcome.CREATED),  # pointing at their cluster's snapshot
        ("aurora-pg", "cluster", Outcome.CREATED),
        ("aurora-pg-1", "instance", Outcome.CREATED),
    ]
    outcomes = by_source(result)
    assert outcomes["aurora-my-2"].snapshot_id == outcomes["aurora-my"].snapshot_id
    assert outcomes["aurora-my-2"].reason == "covered by the snapshot of cluster aurora-my"
    assert len(account.snapshot_ids(cluster=True)) == 2
    assert all(len(i) <= 63 for i in account.snapshot_ids(cluster=True))


def test_selection_tags_and_list_file_add_targets_and_unknown_ids_fail_not_found(
    account: Account,
) -> None:
    account.instance("tagged", tags={"backup": "true"})
    account.instance("listed")
    account.s3.create_bucket(Bucket="lists")
    account.s3.put_object(Bucket="lists", Key="list.txt", Body=b"listed\r\nghost\r\n")
    engine = account.engine(
        selection_tags={"backup": "true"}, targets_s3_bucket="lists", targets_s3_key="list.txt"
    )
    outcomes = by_source(engine.create.run(context()))
    assert outcomes["tagged"].outcome is Outcome.CREATED
    assert outcomes["listed"].outcome is Outcome.CREATED
    assert (outcomes["ghost"].outcome, outcomes["ghost"].error_code) == (Outcome.FAILED, "NotFound")


def test_missing_list_file_is_a_reported_failure_and_other_targets_go_on(account: Account) -> None:
    account.instance("db-a")
    account.s3.create_bucket(Bucket="lists")
    engine = account.engine(
        db_instance_identifiers=("db-a",), targets_s3_bucket="lists", targets_s3_key="gone.txt"
    )
    outcomes = by_source(engine.create.run(context()))
    assert outcomes["db-a"].outcome is Outcome.CREATED
    failure = outcomes["s3://lists/gone.txt"]
    assert (failure.outcome, failure.error_code) == (Outcome.FAILED, "NoSuchKey")


def test_stopped_instance_is_skipped_with_its_state(account: Account) -> None:
    account.instance("db-a")
    account.instance("db-stopped")
    account.rds.stop_db_instance(DBInstanceIdentifier="db-stopped")
    engine = account.engine(db_instance_identifiers=("db-a", "db-stopped"))
    outcomes = by_source(engine.create.run(context()))
    assert outcomes["db-a"].outcome is Outcome.CREATED
    assert outcomes["db-stopped"].outcome is Outcome.SKIPPED
    assert outcomes["db-stopped"].reason.startswith("instance is stopped")


def test_faults_of_one_target_are_reported_and_the_others_still_snapshotted(
    account: Account,
) -> None:
    faults = {
        "db-throttled": "Throttling",
        "db-quota": "SnapshotQuotaExceeded",
        "db-vanished": "DBInstanceNotFound",
        "db-busy": "InvalidDBInstanceState",
    }
    for identifier in [*faults, "db-fine"]:
        account.instance(identifier)
    inject_errors_by(account.rds, "CreateDBSnapshot", "DBInstanceIdentifier", faults)
    engine = account.engine(db_instance_identifiers=(*faults, "db-fine"))
    outcomes = by_source(engine.create.run(context()))
    assert {k: (o.outcome, o.error_code) for k, o in outcomes.items()} == {
        "db-throttled": (Outcome.FAILED, "Throttling"),
        "db-quota": (Outcome.FAILED, "SnapshotQuotaExceeded"),
        "db-vanished": (Outcome.FAILED, "NotFound"),
        "db-busy": (Outcome.SKIPPED, ""),
        "db-fine": (Outcome.CREATED, ""),
    }


def test_targets_beyond_the_quota_fail_in_advance_without_a_create_call(account: Account) -> None:
    for identifier in ("db-a", "db-b", "db-c"):
        account.instance(identifier)
    account.snapshot("db-a", "unmanaged-1", managed_by=None)
    count_calls(account)
    engine = account.engine(
        db_instance_identifiers=("db-a", "db-b", "db-c"), manual_snapshot_quota=2
    )
    outcomes = by_source(engine.create.run(context()))
    assert [o.outcome for o in outcomes.values()].count(Outcome.CREATED) == 1
    refused = [o for o in outcomes.values() if o.outcome is Outcome.FAILED]
    assert [o.error_code for o in refused] == ["SnapshotQuotaExceeded"] * 2
    assert "1 manual instance snapshots exist and the quota is 2" in refused[0].message
    assert account.calls["CreateDBSnapshot"] == 1


def test_run_input_quota_overrides_the_fallback(account: Account) -> None:
    account.instance("db-a")
    account.snapshot("db-a", "unmanaged-1", managed_by=None)
    engine = account.engine(db_instance_identifiers=("db-a",), manual_snapshot_quota=1)
    result = engine.create.run(context(quota_override=5))
    assert result.outcomes[0].outcome is Outcome.CREATED


def test_retried_create_meets_its_own_snapshots_and_makes_no_second_one(account: Account) -> None:
    account.instance("db-a")
    account.cluster("aurora-1")
    engine = account.engine(db_instance_identifiers=("db-a",), db_cluster_identifiers=("aurora-1",))
    ctx = context(run_id="exec-42")
    first = engine.create.run(ctx)
    before = (account.snapshot_ids(), account.snapshot_ids(cluster=True))
    retried = engine.create.run(context(run_id="exec-42", now=later(hours=1), started_at=ctx.now))
    assert retried.summary() == first.summary() == {
        "created": 2, "skipped": 0, "failed": 0, "dry_run": False,
    }  # fmt: skip
    assert sorted(o.snapshot_id for o in retried.outcomes) == sorted(
        o.snapshot_id for o in first.outcomes
    )
    assert (account.snapshot_ids(), account.snapshot_ids(cluster=True)) == before


def test_conditional_check_failure_on_the_run_item_does_not_stop_create(account: Account) -> None:
    account.instance("db-a")
    inject_error(
        account.dynamodb,
        "PutItem",
        "ConditionalCheckFailedException",
        when=lambda params: params["Item"]["sk"]["S"] == "RUN",
    )
    result = account.engine(db_instance_identifiers=("db-a",)).create.run(context())
    assert result.summary()["created"] == 1


def test_dry_run_creates_nothing_but_reports_what_it_would_do(account: Account) -> None:
    account.instance("db-a")
    before = account.snapshot_ids()
    engine = account.engine(db_instance_identifiers=("db-a",))
    result = engine.create.run(context(dry_run=True))
    assert result.summary() == {
        "created": 0, "would_create": 1, "skipped": 0, "failed": 0, "dry_run": True,
    }  # fmt: skip
    assert result.outcomes[0].status == DRY_RUN_STATUS
    assert account.snapshot_ids() == before


def test_creates_run_with_bounded_concurrency(account: Account) -> None:
    identifiers = [f"db-{i:02d}" for i in range(12)]
    for identifier in identifiers:
        account.instance(identifier)
    slow_down(account.rds, "CreateDBSnapshot")
    engine = account.engine(db_instance_identifiers=tuple(identifiers), max_concurrency=3)
    result = engine.create.run(context())
    assert result.summary()["created"] == 12
    assert 1 < result.max_in_flight <= 3


def test_create_phase_calls_do_not_grow_with_existing_snapshots(account: Account) -> None:
    for index in range(10):
        account.instance(f"db-{index}")
        for age in range(10):
            account.snapshot(f"db-{index}", f"{OURS}db-{index}-old-{age}")
    count_calls(account)
    engine = account.engine(
        db_instance_identifiers=tuple(f"db-{i}" for i in range(10)), manual_snapshot_quota=1000
    )
    engine.create.run(context(now=later(days=2)))
    assert account.calls["CreateDBSnapshot"] == 10
    assert account.calls["DescribeDBSnapshots"] == 1
    assert "ListTagsForResource" not in account.calls
    assert "AddTagsToResource" not in account.calls
    assert sum(account.calls.values()) <= 10 + 9  # 9: listing, quota, lease, run item, ledger


def test_listing_that_stays_throttled_fails_the_task_before_any_snapshot(
    account: Account,
) -> None:
    account.instance("db-a")
    # Only the engine's listing (it pages with MaxRecords), not this test's own look-up below.
    inject_error(account.rds, "DescribeDBSnapshots", "Throttling", when=lambda p: "MaxRecords" in p)
    with pytest.raises(ClientError, match="Throttling"):
        account.engine(db_instance_identifiers=("db-a",)).create.run(context())
    # The state machine retries the Task, then Notify reports the caught error as FAILED.
    assert account.snapshot_ids() == set()


def managed_id(run_id: str) -> str:
    """The id this deployment gives db-a's snapshot of run `run_id`, so it counts as its own."""
    when = datetime(2026, 11, 1, tzinfo=UTC)
    return snapshot_id(NAME, run_id, SourceRef(SourceType.INSTANCE, "db-a"), when)


def listed(*snapshots: dict[str, object]) -> dict[str, object]:
    """A DescribeDBSnapshots answer with the given managed snapshots of db-a."""
    return {
        "DBSnapshots": [
            {
                "DBInstanceIdentifier": "db-a",
                "SnapshotType": "manual",
                "TagList": [{"Key": "ManagedBy", "Value": NAME}, {"Key": "RunId", "Value": "old"}],
                **snapshot,
            }
            for snapshot in snapshots
        ]
    }


def test_run_on_schedule_snapshots_although_yesterdays_create_time_is_seconds_later(
    account: Account,
) -> None:
    """The issue's default-settings bug: 01:00 cron, yesterday's snapshot got its create time a few
    seconds after its run started; today's run comes on time and must snapshot."""
    account.instance("db-a")
    today = datetime(2026, 11, 25, 1, 0, 2, tzinfo=UTC)
    yesterday = today - timedelta(days=1)
    answer(account.rds, "DescribeDBSnapshots", listed({
        "DBSnapshotIdentifier": managed_id("yesterdays"), "Status": "available",
        "SnapshotCreateTime": yesterday + timedelta(seconds=9),
    }))  # fmt: skip
    result = account.engine(db_instance_identifiers=("db-a",)).create.run(
        context(now=today, started_at=today - timedelta(seconds=1))
    )
    assert by_source(result)["db-a"].outcome is Outcome.CREATED


def test_new_snapshot_is_tagged_with_the_runs_start(account: Account) -> None:
    account.instance("db-a")
    started = datetime(2026, 11, 25, 1, 0, 7, 123000, tzinfo=UTC)
    result = account.engine(db_instance_identifiers=("db-a",)).create.run(
        context(started_at=started, now=started + timedelta(seconds=3))
    )
    [snapshot] = account.rds.describe_db_snapshots(
        DBSnapshotIdentifier=result.outcomes[0].snapshot_id
    )["DBSnapshots"]
    tags = {t["Key"]: t["Value"] for t in snapshot["TagList"]}
    assert tags["RunStartedAt"] == "2026-11-25T01:00:07Z"


def test_failed_managed_snapshot_is_no_backup_and_the_database_is_due(account: Account) -> None:
    account.instance("db-a")
    now = later()
    answer(account.rds, "DescribeDBSnapshots", listed({
        "DBSnapshotIdentifier": managed_id("broken"), "Status": "failed",
        "SnapshotCreateTime": now - timedelta(hours=1),
    }))  # fmt: skip
    result = account.engine(db_instance_identifiers=("db-a",)).create.run(context(now=now))
    assert by_source(result)["db-a"].outcome is Outcome.CREATED


def stuck_since(account: Account, hours: float) -> datetime:
    """db-a has a managed snapshot still creating, without create time, whose run started
    `hours` before the returned run start."""
    account.instance("db-a")
    now = later()
    tags = [
        {"Key": "ManagedBy", "Value": NAME},
        {"Key": "RunStartedAt", "Value": tag_time(now - timedelta(hours=hours))},
    ]
    answer(
        account.rds,
        "DescribeDBSnapshots",
        {
            "DBSnapshots": [
                {
                    "DBSnapshotIdentifier": managed_id("stuck"),
                    "DBInstanceIdentifier": "db-a",
                    "SnapshotType": "manual",
                    "Status": "creating",
                    "TagList": tags,
                }
            ]
        },
    )  # fmt: skip (and no SnapshotCreateTime yet)
    return now


def test_snapshot_creating_without_create_time_blocks_its_database_for_a_while(
    account: Account,
) -> None:
    now = stuck_since(account, hours=1 + 59 / 60)  # wait timeout 1 h + margin 1 h: not over yet
    engine = account.engine(db_instance_identifiers=("db-a",), wait_timeout_seconds=3600)
    blocked = by_source(engine.create.run(context(now=now)))["db-a"]
    assert (blocked.outcome, blocked.reason) == (
        Outcome.SKIPPED,
        "not due: a managed snapshot is still being created",
    )


def test_snapshot_creating_without_create_time_stops_blocking_after_timeout_and_margin(
    account: Account,
) -> None:
    now = stuck_since(account, hours=2 + 1 / 60)
    engine = account.engine(db_instance_identifiers=("db-a",), wait_timeout_seconds=3600)
    assert by_source(engine.create.run(context(now=now)))["db-a"].outcome is Outcome.CREATED


FAULTS: dict[str, Callable[[], Exception]] = {
    "db-timeout": lambda: ReadTimeoutError(endpoint_url="https://rds.amazonaws.com"),
    "db-unreachable": lambda: EndpointConnectionError(endpoint_url="https://rds.amazonaws.com"),
    "db-closed": lambda: ConnectionClosedError(endpoint_url="https://rds.amazonaws.com"),
    "db-bug": lambda: RuntimeError("something unexpected"),
}


def test_any_exception_on_one_create_fails_that_target_alone_and_all_reach_the_ledger(
    account: Account,
) -> None:
    for identifier in [*FAULTS, "db-fine"]:
        account.instance(identifier)
    for identifier, make in FAULTS.items():
        inject_exception(
            account.rds, "CreateDBSnapshot", make,
            when=lambda p, i=identifier: p["DBInstanceIdentifier"] == i,
        )  # fmt: skip
    engine = account.engine(db_instance_identifiers=(*FAULTS, "db-fine"), max_concurrency=4)
    outcomes = by_source(engine.create.run(context()))
    assert {k: (o.outcome, o.error_code) for k, o in outcomes.items()} == {
        "db-timeout": (Outcome.FAILED, "ReadTimeoutError"),
        "db-unreachable": (Outcome.FAILED, "EndpointConnectionError"),
        "db-closed": (Outcome.FAILED, "ConnectionClosedError"),
        "db-bug": (Outcome.FAILED, "RuntimeError"),
        "db-fine": (Outcome.CREATED, ""),
    }
    assert outcomes["db-bug"].message == "something unexpected"
    recorded = {o.source_id: o.outcome for o in account.ledger().read_run("run-1").outcomes}
    assert recorded == {k: o.outcome for k, o in outcomes.items()}


def test_create_whose_response_was_lost_is_found_by_the_retry_and_the_next_run(
    account: Account,
) -> None:
    account.instance("db-a")
    account.instance("db-b")
    inject_exception(
        account.rds, "CreateDBSnapshot",
        lambda: ReadTimeoutError(endpoint_url="https://rds.amazonaws.com"),
        when=lambda p: p["DBInstanceIdentifier"] == "db-a", after=True,
    )  # fmt: skip
    engine = account.engine(db_instance_identifiers=("db-a", "db-b"))
    ctx = context(run_id="exec-1")
    first = by_source(engine.create.run(ctx))
    assert (first["db-a"].outcome, first["db-a"].error_code) == (Outcome.FAILED, "ReadTimeoutError")
    assert first["db-a"].snapshot_id in account.snapshot_ids()  # RDS did make it
    # The state machine's retry of the same run meets it as its own: no second snapshot.
    retried = by_source(engine.create.run(ctx))
    assert (retried["db-a"].outcome, retried["db-a"].snapshot_id) == (
        Outcome.CREATED,
        first["db-a"].snapshot_id,
    )
    # And a later run counts it as the newest backup.
    # (4 h on: also past the run lease of exec-1, which no Notify released here)
    later_run = by_source(engine.create.run(context(run_id="exec-2", now=later(hours=4))))
    assert later_run["db-a"].outcome is Outcome.SKIPPED
    assert len(account.snapshot_ids()) == 2


def test_list_file_in_cp1252_fails_alone_and_explicit_databases_are_snapshotted(
    account: Account,
) -> None:
    account.instance("db-a")
    account.s3.create_bucket(Bucket="lists")
    account.s3.put_object(Bucket="lists", Key="l.txt", Body="café-db\r\n".encode("cp1252"))
    engine = account.engine(
        db_instance_identifiers=("db-a",), targets_s3_bucket="lists", targets_s3_key="l.txt"
    )
    outcomes = by_source(engine.create.run(context()))
    assert outcomes["db-a"].outcome is Outcome.CREATED
    assert outcomes["s3://lists/l.txt"].error_code == "InvalidEncoding"


def test_absurdly_long_ids_are_short_failures_and_no_ledger_item_grows_large(
    account: Account,
) -> None:
    account.instance("db-a")
    account.s3.create_bucket(Bucket="lists")
    lines = [f"db-{i}-" + "x" * 100_000 for i in range(30)] + ["db-a"]
    account.s3.put_object(Bucket="lists", Key="l.txt", Body="\n".join(lines).encode())
    engine = account.engine(targets_s3_bucket="lists", targets_s3_key="l.txt")
    result = engine.create.run(context())
    failed = [o for o in result.outcomes if o.outcome is Outcome.FAILED]
    assert len(failed) == 30
    assert {o.error_code for o in failed} == {"InvalidIdentifier"}
    assert max(len(o.source_id) for o in failed) <= 63
    assert (
        "(100005 characters)" in by_source(result)["db-0-" + "x" * 38 + "...(100005 chars)"].message
    )
    assert by_source(result)["db-a"].outcome is Outcome.CREATED
    items = account.dynamodb.scan(TableName="rsm-test-ledger")["Items"]  # a test may scan
    assert max(len(json.dumps(item)) for item in items) < 20_000


def test_messages_are_capped_so_outcomes_stay_small(account: Account) -> None:
    account.instance("db-a")
    inject_error(account.rds, "CreateDBSnapshot", "InternalFailure", message="m" * 100_000)
    [outcome] = account.engine(db_instance_identifiers=("db-a",)).create.run(context()).outcomes
    assert outcome.error_code == "InternalFailure"
    assert len(outcome.message) == 1000


def test_mixed_case_ids_are_matched_and_reported_as_the_user_wrote_them(account: Account) -> None:
    account.instance("orders-db")
    account.cluster("billing", members=1)
    engine = account.engine(
        db_instance_identifiers=("Orders-DB", "Billing-1"), db_cluster_identifiers=("BILLING",)
    )
    outcomes = by_source(engine.create.run(context()))
    assert sorted(outcomes) == ["BILLING", "Billing-1", "Orders-DB"]
    assert outcomes["Orders-DB"].outcome is Outcome.CREATED
    assert outcomes["Billing-1"].snapshot_id == outcomes["BILLING"].snapshot_id
    assert outcomes["Billing-1"].reason == "covered by the snapshot of cluster BILLING"
    new_id = outcomes["Orders-DB"].snapshot_id
    [snapshot] = account.rds.describe_db_snapshots(DBSnapshotIdentifier=new_id)["DBSnapshots"]
    assert {t["Key"]: t["Value"] for t in snapshot["TagList"]}["SourceId"] == "orders-db"


def test_instance_and_cluster_with_one_id_are_both_snapshotted_and_reported_once_each(
    account: Account,
) -> None:
    account.instance("shared")
    account.cluster("shared")
    engine = account.engine(
        db_instance_identifiers=("shared", "lonely"), db_cluster_identifiers=("shared",)
    )
    account.cluster("lonely")
    result = engine.create.run(context())
    assert sorted((o.source_id, str(o.source_type), o.outcome) for o in result.outcomes) == [
        ("lonely", "instance", Outcome.FAILED),
        ("shared", "cluster", Outcome.CREATED),
        ("shared", "instance", Outcome.CREATED),
    ]
    [lonely] = [o for o in result.outcomes if o.source_id == "lonely"]
    assert "a DB cluster lonely exists" in lonely.message
    report = build_report(
        RunSummary("run-1", False, account.ledger().read_run("run-1").outcomes, [])
    )
    assert [(i["source_id"], i["source_type"]) for i in report["created"]] == [
        ("shared", "cluster"), ("shared", "instance"),
    ]  # fmt: skip
