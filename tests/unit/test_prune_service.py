import time
from typing import Any

from botocore.exceptions import ReadTimeoutError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.rds.models import rds_backends

from rds_snapshot_manager.domain.retention import Tiers
from rds_snapshot_manager.services.engine import Engine
from rds_snapshot_manager.services.run import RunContext
from tests.unit.conftest import (
    OURS,
    REGION,
    Account,
    context,
    count_calls,
    hold_lease,
    inject_error,
    inject_exception,
    later,
    slow_down,
)


def fleet(account: Account) -> None:
    """db-a: three of ours, one other deployment's, one untagged; aurora-1: two of ours."""
    account.instance("db-a")
    for index in range(3):
        account.snapshot("db-a", f"{OURS}ours-a-{index}")
        time.sleep(0.002)  # distinct create times, so "newest" is well defined
    account.snapshot("db-a", "theirs", managed_by="other-deployment")
    account.snapshot("db-a", "untagged", managed_by=None)
    account.cluster("aurora-1")
    for index in range(2):
        account.snapshot("aurora-1", f"{OURS}ours-c-{index}", cluster=True)
        time.sleep(0.002)


def leased(account: Account, **overrides: Any) -> RunContext:
    """A run two days on (unless told otherwise) that holds the lease, as after its Create."""
    ctx = context(**{"now": later(days=2), **overrides})
    hold_lease(account, ctx)
    return ctx


def fleet_after_create(account: Account) -> tuple[Engine, RunContext]:
    """The fleet two days on, after a Create that planned Prune (1-day retention)."""
    fleet(account)
    engine = account.engine(db_instance_identifiers=("db-a",), retention_days=1)
    ctx = context(now=later(days=2))
    engine.create.run(ctx)
    return engine, ctx


def test_prune_deletes_expired_managed_snapshots_but_keeps_newest_and_foreign_ones(
    account: Account,
) -> None:
    fleet(account)
    automated = account.snapshot_ids(snapshot_type="automated")
    result = account.engine(retention_days=1, min_snapshots_to_keep=1).prune.run(leased(account))
    assert result.summary() == {"deleted": 3, "failed": 0, "kept": 2}
    assert account.snapshot_ids() == {OURS + "ours-a-2", "theirs", "untagged"}
    assert account.snapshot_ids(cluster=True) == {OURS + "ours-c-1"}
    assert account.snapshot_ids(snapshot_type="automated") == automated != set()
    deletions = account.ledger().read_run("run-1").deletions
    assert sorted(d.snapshot_id for d in deletions) == [
        OURS + "ours-a-0",
        OURS + "ours-a-1",
        OURS + "ours-c-0",
    ]


def test_prune_keeps_snapshots_younger_than_the_retention(account: Account) -> None:
    fleet(account)
    result = account.engine(retention_days=3, min_snapshots_to_keep=0).prune.run(leased(account))
    assert result.summary() == {"deleted": 0, "failed": 0, "kept": 5}


def test_tiered_retention_replaces_the_retention_days(account: Account) -> None:
    """All made today: 3-day retention would keep them; daily=1 keeps each database's newest."""
    fleet(account)
    engine = account.engine(
        retention_days=3, min_snapshots_to_keep=0, retention_policy=Tiers(daily=1)
    )
    result = engine.prune.run(leased(account))
    assert result.summary() == {"deleted": 3, "failed": 0, "kept": 2}
    assert account.snapshot_ids() == {OURS + "ours-a-2", "theirs", "untagged"}
    assert account.snapshot_ids(cluster=True) == {OURS + "ours-c-1"}


def test_fractional_retention_expires_snapshots_after_minutes(account: Account) -> None:
    fleet(account)
    result = account.engine(retention_days=0.001, min_snapshots_to_keep=0).prune.run(
        leased(account, now=later(hours=0.1))
    )
    assert result.summary()["deleted"] == 5
    assert account.snapshot_ids() == {"theirs", "untagged"}


def test_failed_deletion_is_reported_and_the_others_still_deleted(account: Account) -> None:
    fleet(account)
    inject_error(
        account.rds,
        "DeleteDBSnapshot",
        "InvalidDBSnapshotState",
        when=lambda params: params["DBSnapshotIdentifier"] == OURS + "ours-a-0",
    )
    result = account.engine(retention_days=1, min_snapshots_to_keep=1).prune.run(leased(account))
    assert result.summary() == {"deleted": 2, "failed": 1, "kept": 2}
    assert OURS + "ours-a-0" in account.snapshot_ids()
    failed = [d for d in result.deletions if not d.deleted]
    assert [(d.snapshot_id, d.error_code) for d in failed] == [
        (OURS + "ours-a-0", "InvalidDBSnapshotState")
    ]


def test_dry_run_prune_reports_but_deletes_nothing(account: Account) -> None:
    fleet(account)
    before = account.snapshot_ids() | account.snapshot_ids(cluster=True)
    result = account.engine(retention_days=1).prune.run(leased(account, dry_run=True))
    assert result.summary() == {"deleted": 0, "would_delete": 3, "failed": 0, "kept": 2}
    assert account.snapshot_ids() | account.snapshot_ids(cluster=True) == before


def test_prune_switched_off_touches_nothing(account: Account) -> None:
    fleet(account)
    ctx = leased(account)
    count_calls(account)
    result = account.engine(delete_old_snapshots=False, retention_days=0.001).prune.run(ctx)
    assert result.summary() == {"deleted": 0, "failed": 0, "kept": 0}
    assert sum(account.calls.values()) == 0


def test_prune_still_frees_room_when_the_quota_is_exhausted(account: Account) -> None:
    fleet(account)
    engine = account.engine(
        db_instance_identifiers=("db-a",), manual_snapshot_quota=5, retention_days=1
    )
    ctx = context(now=later(days=2))
    created = engine.create.run(ctx)
    assert [o.error_code for o in created.outcomes] == ["SnapshotQuotaExceeded"]
    assert engine.prune.run(ctx).summary()["deleted"] == 3


def test_deletes_run_with_bounded_concurrency_and_never_list_tags(account: Account) -> None:
    account.instance("db-a")
    for index in range(10):
        account.snapshot("db-a", f"{OURS}ours-{index}")
    slow_down(account.rds, "DeleteDBSnapshot")
    count_calls(account)
    engine = account.engine(retention_days=1, min_snapshots_to_keep=0, max_concurrency=4)
    result = engine.prune.run(leased(account))
    assert result.summary()["deleted"] == 10
    assert 1 < result.max_in_flight <= 4
    assert account.calls["DescribeDBSnapshots"] == 1
    assert "ListTagsForResource" not in account.calls
    assert account.snapshot_ids() == set()


def test_prune_after_create_uses_creates_listing_and_lists_nothing_itself(
    account: Account,
) -> None:
    engine, ctx = fleet_after_create(account)
    count_calls(account)
    result = engine.prune.run(ctx)
    assert result.summary() == {"deleted": 3, "failed": 0, "kept": 2}
    assert "DescribeDBSnapshots" not in account.calls
    assert "DescribeDBClusterSnapshots" not in account.calls
    assert account.snapshot_ids() >= {OURS + "ours-a-2", "theirs", "untagged"}


def test_snapshot_already_gone_counts_as_deleted_so_a_retried_prune_succeeds(
    account: Account,
) -> None:
    engine, ctx = fleet_after_create(account)
    engine.prune.run(ctx)
    retried = engine.prune.run(ctx)
    assert retried.summary() == {"deleted": 3, "failed": 0, "kept": 2}
    assert {d.message for d in retried.deletions} == {"already gone"}


def test_any_exception_on_one_delete_fails_that_deletion_alone(account: Account) -> None:
    engine, ctx = fleet_after_create(account)
    calls = iter(range(100))
    inject_exception(
        account.rds, "DeleteDBSnapshot",
        lambda: ReadTimeoutError(endpoint_url="https://rds.amazonaws.com"),
        when=lambda params: next(calls) == 0,  # the first instance snapshot's delete only
    )  # fmt: skip
    inject_exception(account.rds, "DeleteDBClusterSnapshot", lambda: RuntimeError("bug"))
    result = engine.prune.run(ctx)
    outcomes = sorted((d.source.source_type, d.deleted, d.error_code) for d in result.deletions)
    assert outcomes == [
        ("cluster", False, "RuntimeError"),
        ("instance", False, "ReadTimeoutError"),
        ("instance", True, ""),
    ]
    recorded = account.ledger().read_run(ctx.run_id).deletions
    assert sorted(d.snapshot_id for d in recorded) == sorted(
        d.snapshot_id for d in result.deletions
    )


def test_a_persons_copy_with_copied_tags_survives_while_our_original_goes(
    account: Account,
) -> None:
    account.instance("db-a")
    account.snapshot("db-a", OURS + "old")
    account.rds.copy_db_snapshot(
        SourceDBSnapshotIdentifier=OURS + "old",
        TargetDBSnapshotIdentifier="keep-me-copy",
        CopyTags=True,
    )
    account.snapshot("db-a", "legacy-unprefixed")  # made by an older version: ManagedBy only
    engine = account.engine(retention_days=1, min_snapshots_to_keep=0)
    result = engine.prune.run(leased(account))
    assert [d.snapshot_id for d in result.deletions] == [OURS + "old"]
    assert account.snapshot_ids() == {"keep-me-copy", "legacy-unprefixed"}


def test_prune_of_a_run_without_the_lease_neither_lists_nor_deletes(account: Account) -> None:
    fleet(account)
    before = account.snapshot_ids()
    ledger = account.ledger()
    holder = context(run_id="holder", now=later(days=2))
    hold_lease(account, holder)
    ctx = context(run_id="second", now=later(days=2))
    ledger.start_run("second", ctx.started_at.isoformat(), False, ctx.now,
                     ledger.acquire_lease("second", ctx.now, 3600))  # fmt: skip
    count_calls(account)
    result = account.engine(retention_days=1, min_snapshots_to_keep=0).prune.run(ctx)
    assert result.summary() == {"deleted": 0, "failed": 0, "kept": 0}
    assert not {"DescribeDBSnapshots", "DeleteDBSnapshot", "BatchWriteItem"} & set(account.calls)
    assert account.snapshot_ids() == before


def test_prune_invoked_for_an_unknown_run_lists_and_deletes_nothing(account: Account) -> None:
    fleet(account)
    before = account.snapshot_ids()
    result = account.engine(retention_days=1).prune.run(context(now=later(days=2)))
    assert result.summary() == {"deleted": 0, "failed": 0, "kept": 0}
    assert account.snapshot_ids() == before


def test_a_failed_snapshot_of_ours_is_deleted_at_once_and_protects_nothing(
    account: Account,
) -> None:
    account.instance("db-a")
    account.snapshot("db-a", OURS + "good")
    account.snapshot("db-a", OURS + "broken")
    backend = rds_backends[DEFAULT_ACCOUNT_ID][REGION]
    backend.database_snapshots[OURS + "broken"].status = "failed"  # RDS's word for a failed one
    # Seven days' retention: the good one is young, and min_snapshots_to_keep=1 keeps it anyway.
    engine = account.engine(db_instance_identifiers=("db-a",), retention_days=7)
    ctx = context(now=later(hours=1))
    engine.create.run(ctx)
    result = engine.prune.run(ctx)
    assert [d.snapshot_id for d in result.deletions] == [OURS + "broken"]
    assert OURS + "good" in account.snapshot_ids()
