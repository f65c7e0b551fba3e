from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from rds_snapshot_manager.adapters import ledger as ledger_module
from rds_snapshot_manager.adapters.ledger import (
    PLAN_PREFIX,
    TARGET_PREFIX,
    LedgerError,
)
from rds_snapshot_manager.domain.model import (
    Deletion,
    Snapshot,
    SourceRef,
    SourceType,
    TargetOutcome,
)
from rds_snapshot_manager.domain.retention import Selection
from tests.unit.conftest import TABLE, Account, count_calls, inject_error

NOW = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)
DB_A = SourceRef(SourceType.INSTANCE, "db-a")


def outcomes(count: int) -> list[TargetOutcome]:
    return [
        TargetOutcome.created(
            SourceRef(SourceType.INSTANCE, f"db-{i:04d}"), f"snap-{i}", "creating"
        )
        for i in range(count)
    ]


def test_run_is_recorded_once_and_a_retry_is_recognised(account: Account) -> None:
    adapter = account.ledger()
    assert adapter.start_run("run-1", NOW.isoformat(), False, NOW) is True
    assert adapter.start_run("run-1", NOW.isoformat(), True, NOW) is False
    record = adapter.read_run("run-1")
    assert (record.started_at, record.dry_run) == (NOW.isoformat(), False)


def test_conditional_check_failure_on_start_means_retry_other_errors_raise(
    account: Account,
) -> None:
    adapter = account.ledger()
    inject_error(account.dynamodb, "PutItem", "ConditionalCheckFailedException")
    assert adapter.start_run("run-1", NOW.isoformat(), False, NOW) is False
    inject_error(account.dynamodb, "UpdateItem", "ProvisionedThroughputExceededException")
    with pytest.raises(ClientError):
        adapter.mark_published("run-1", NOW)


def test_outcomes_are_written_100_to_an_item_with_ttl_and_read_back_by_query(
    account: Account,
) -> None:
    adapter = account.ledger()
    count_calls(account)
    adapter.record_outcomes("run-1", outcomes(3000), NOW)
    assert account.calls == {"BatchWriteItem": 2}  # 30 items, 25 to a call
    items = account.dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "RUN#run-1"}},
    )["Items"]
    assert {int(i["expires_at"]["N"]) for i in items} == {
        int((NOW + timedelta(days=400)).timestamp())
    }
    assert len(items) == 30
    assert account.ledger().read_run("run-1").outcomes == outcomes(3000)


def test_rewriting_fewer_outcomes_hides_the_stale_items_of_a_longer_write(
    account: Account,
) -> None:
    adapter = account.ledger()
    adapter.record_outcomes("run-1", outcomes(250), NOW)
    adapter.record_outcomes("run-1", outcomes(120), NOW)
    assert adapter.read_run("run-1").outcomes == outcomes(120)


def test_re_recording_an_outcome_overwrites_it(account: Account) -> None:
    adapter = account.ledger()
    adapter.record_outcomes("run-1", outcomes(1), NOW)
    failed = TargetOutcome.failed("db-0000", SourceType.INSTANCE, "SnapshotFailed", "broken")
    adapter.record_outcomes("run-1", [failed], NOW)
    assert adapter.read_run("run-1", prefix=TARGET_PREFIX).outcomes == [failed]


def test_deletions_and_targets_share_the_run_partition(account: Account) -> None:
    adapter = account.ledger()
    adapter.start_run("run-1", NOW.isoformat(), False, NOW)
    adapter.record_outcomes("run-1", outcomes(2), NOW)
    deletions = [Deletion("old-1", DB_A, True), Deletion("old-2", DB_A, False, "X", "no")]
    adapter.record_deletions("run-1", deletions, NOW)
    adapter.record_outcomes("run-2", outcomes(5), NOW)
    record = adapter.read_run("run-1")
    assert (len(record.outcomes), record.deletions) == (2, deletions)
    assert adapter.read_run("run-1", prefix=TARGET_PREFIX).deletions == []


def test_mark_published_happens_once(account: Account) -> None:
    adapter = account.ledger()
    adapter.start_run("run-1", NOW.isoformat(), False, NOW)
    assert adapter.mark_published("run-1", NOW) is True
    assert adapter.mark_published("run-1", NOW) is False
    assert adapter.read_run("run-1").published_at == NOW.isoformat()


def test_large_run_is_read_with_a_paginated_query_never_a_scan(account: Account) -> None:
    adapter = account.ledger()
    big = [
        TargetOutcome.skipped(SourceRef(SourceType.INSTANCE, f"db-{i:05d}"), "r" * 900)
        for i in range(1500)
    ]
    adapter.record_outcomes("run-1", big, NOW)
    count_calls(account)
    assert len(adapter.read_run("run-1").outcomes) == 1500
    assert account.calls["Query"] >= 2
    assert "Scan" not in account.calls


def test_unprocessed_items_are_retried_then_reported(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_module.time, "sleep", lambda _: None)
    adapter = account.ledger()
    real = account.dynamodb.batch_write_item
    calls = []

    def flaky(**kwargs: object) -> dict[str, object]:
        calls.append(kwargs)
        if len(calls) == 1:
            return {"UnprocessedItems": kwargs["RequestItems"]}
        return real(**kwargs)

    monkeypatch.setattr(account.dynamodb, "batch_write_item", flaky)
    adapter.record_outcomes("run-1", outcomes(3), NOW)
    assert len(calls) == 2
    assert len(adapter.read_run("run-1").outcomes) == 3

    monkeypatch.setattr(
        account.dynamodb, "batch_write_item", lambda **kw: {"UnprocessedItems": kw["RequestItems"]}
    )
    with pytest.raises(LedgerError, match="stayed unprocessed"):
        adapter.record_outcomes("run-1", outcomes(3), NOW)


def test_prune_plan_and_deletions_are_stored_100_to_an_item(account: Account) -> None:
    adapter = account.ledger()
    expired = [
        Snapshot(f"old-{i:03d}", DB_A, "available", None, managed_by="rsm") for i in range(250)
    ]
    count_calls(account)
    adapter.record_prune_plan("run-1", Selection(expired, kept=7), NOW)
    adapter.record_deletions("run-1", [Deletion(s.snapshot_id, DB_A, True) for s in expired], NOW)
    assert account.calls == {"BatchWriteItem": 2}
    plan = adapter.read_run("run-1", prefix=PLAN_PREFIX).prune_plan
    assert plan is not None
    assert plan.kept == 7
    assert [s.snapshot_id for s in plan.expired] == [s.snapshot_id for s in expired]
    assert len(adapter.read_run("run-1").deletions) == 250


def test_run_without_a_prune_plan_reads_as_none(account: Account) -> None:
    adapter = account.ledger()
    adapter.record_outcomes("run-1", outcomes(1), NOW)
    assert adapter.read_run("run-1").prune_plan is None
