import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from rds_snapshot_manager.adapters import ledger as ledger_module
from rds_snapshot_manager.adapters.ledger import (
    FIELD_LIMIT,
    PLAN_PREFIX,
    TARGET_PREFIX,
    Lease,
    LeaseState,
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
    assert account.calls == {"BatchWriteItem": 1}  # 3 plan items
    adapter.record_deletions(
        "run-1", [Deletion(s.snapshot_id, DB_A, True) for s in expired], NOW, dry_run=True
    )
    assert account.calls == {"BatchWriteItem": 2}  # 3 deletion items; a dry run deletes nothing
    plan = adapter.read_run("run-1", prefix=PLAN_PREFIX).prune_plan
    assert plan is not None
    assert plan.kept == 7
    assert [s.snapshot_id for s in plan.expired] == [s.snapshot_id for s in expired]
    assert len(adapter.read_run("run-1").deletions) == 250


def test_run_without_a_prune_plan_reads_as_none(account: Account) -> None:
    adapter = account.ledger()
    adapter.record_outcomes("run-1", outcomes(1), NOW)
    assert adapter.read_run("run-1").prune_plan is None


# -- the lease --------------------------------------------------------------------------------
def test_lease_is_taken_when_free_and_denied_to_another_run_naming_the_holder(
    account: Account,
) -> None:
    adapter = account.ledger()
    assert adapter.acquire_lease("run-a", NOW, 600) == Lease(
        True, "run-a", int(NOW.timestamp()) + 600
    )
    denied = adapter.acquire_lease("run-b", NOW + timedelta(seconds=30), 600)
    assert denied == Lease(False, "run-a", int(NOW.timestamp()) + 600)


def test_lease_of_the_same_run_is_kept_and_an_expired_one_taken_over(account: Account) -> None:
    adapter = account.ledger()
    adapter.acquire_lease("run-a", NOW, 600)
    assert adapter.acquire_lease("run-a", NOW + timedelta(seconds=60), 600).held
    assert not adapter.acquire_lease("run-b", NOW + timedelta(seconds=659), 600).held
    assert adapter.acquire_lease("run-b", NOW + timedelta(seconds=661), 600).held


def test_lease_is_released_only_by_its_holder(account: Account) -> None:
    adapter = account.ledger()
    adapter.acquire_lease("run-a", NOW, 600)
    assert adapter.release_lease("run-b") is False
    assert adapter.release_lease("run-a") is True
    assert adapter.release_lease("run-a") is False  # a retried Notify
    assert adapter.acquire_lease("run-b", NOW, 600).held


def test_run_item_records_the_lease_decision_and_a_retry_updates_it(account: Account) -> None:
    adapter = account.ledger()
    adapter.start_run("run-b", NOW.isoformat(), False, NOW, Lease(False, "run-a", 123))
    record = adapter.read_run("run-b")
    assert (record.lease, record.lease_holder, record.lease_until) == (
        LeaseState.DENIED, "run-a", 123,
    )  # fmt: skip
    assert (
        adapter.start_run("run-b", NOW.isoformat(), False, NOW, Lease(True, "run-b", 456)) is False
    )
    record = adapter.read_run("run-b")
    assert (record.lease, record.lease_holder, record.lease_until) == (LeaseState.HELD, "", 456)


# -- schema v1, history and lifecycle ----------------------------------------------------------
def raw_items(account: Account) -> list[dict[str, Any]]:
    return list(account.dynamodb.scan(TableName=TABLE)["Items"])  # test inspection only


def test_every_item_has_the_schema_version_and_named_fields(account: Account) -> None:
    adapter = account.ledger()
    adapter.acquire_lease("run-1", NOW, 600)
    adapter.start_run("run-1", NOW.isoformat(), False, NOW, Lease(True, "run-1", 1))
    created = outcomes(2)
    adapter.record_outcomes("run-1", created, NOW, changed=created, run_started_at=NOW)
    adapter.record_prune_plan("run-1", Selection([Snapshot("old", DB_A, "available", NOW)], 1), NOW)
    adapter.record_deletions("run-1", [Deletion("old", DB_A, True)], NOW)
    adapter.mark_topic_published("run-1", "report", "OK", NOW)
    items = raw_items(account)
    assert len(items) == 8  # lease, run, targets, 2 snapshots, plan, deletions, 1 deleted
    assert {item["v"]["N"] for item in items} == {"1"}
    for item in items:
        rows = json.loads(item.get("rows", {}).get("S", "[]"))
        assert all(isinstance(row, dict) for row in rows)  # named fields, never positional


def test_history_index_answers_recent_runs_newest_first(account: Account) -> None:
    adapter = account.ledger()
    for day in range(3):
        started = NOW + timedelta(days=day)
        adapter.start_run(f"run-{day}", started.isoformat(), False, started)
    # aws dynamodb query --index-name history --key-condition-expression "history_pk = :r"
    #   --expression-attribute-values '{":r":{"S":"RUNS"}}' --no-scan-index-forward --limit 2
    items = account.dynamodb.query(
        TableName=TABLE,
        IndexName="history",
        KeyConditionExpression="history_pk = :r",
        ExpressionAttributeValues={":r": {"S": "RUNS"}},
        ScanIndexForward=False,
        Limit=2,
    )["Items"]
    assert [i["run_id"]["S"] for i in items] == ["run-2", "run-1"]


def test_snapshot_lifecycle_created_available_deleted_by_query_on_its_pk(
    account: Account,
) -> None:
    adapter = account.ledger()
    new = TargetOutcome.created(DB_A, "rsm-x-db-a-1", "creating")
    adapter.record_outcomes("run-1", [new], NOW, changed=[new], run_started_at=NOW)
    available_at = NOW + timedelta(minutes=7)
    done = TargetOutcome.created(DB_A, "rsm-x-db-a-1", "available")
    adapter.record_outcomes("run-1", [done], available_at, changed=[done], run_started_at=NOW)
    deleted_at = NOW + timedelta(days=8)
    adapter.record_deletions("run-9", [Deletion("rsm-x-db-a-1", DB_A, True)], deleted_at)
    # aws dynamodb query --key-condition-expression "pk = :p"
    #   --expression-attribute-values '{":p":{"S":"SNAPSHOT#rsm-x-db-a-1"}}'
    items = account.dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "SNAPSHOT#rsm-x-db-a-1"}},
    )["Items"]
    by_sk = {i["sk"]["S"]: {k: next(iter(v.values())) for k, v in i.items()} for i in items}
    assert by_sk["SNAPSHOT"]["created_by_run"] == "run-1"
    assert by_sk["SNAPSHOT"]["created_at"] == NOW.isoformat()
    assert by_sk["SNAPSHOT"]["status"] == "available"
    assert by_sk["SNAPSHOT"]["available_at"] == available_at.isoformat()
    assert by_sk["DELETED"]["deleted_by_run"] == "run-9"
    assert by_sk["DELETED"]["deleted_at"] == deleted_at.isoformat()


def test_history_index_answers_a_databases_snapshot_history(account: Account) -> None:
    adapter = account.ledger()
    for day in range(3):
        run_time = NOW + timedelta(days=day)
        new = TargetOutcome.created(DB_A, f"rsm-x-db-a-{day}", "available")
        other = TargetOutcome.created(
            SourceRef(SourceType.CLUSTER, "db-a"), f"c-{day}", "available"
        )
        adapter.record_outcomes(f"run-{day}", [new, other], run_time, changed=[new, other])
    deleted_at = NOW + timedelta(days=2, hours=1)
    adapter.record_deletions("run-2", [Deletion("rsm-x-db-a-0", DB_A, True)], deleted_at)
    # aws dynamodb query --index-name history --key-condition-expression "history_pk = :s"
    #   --expression-attribute-values '{":s":{"S":"SOURCE#instance#db-a"}}'
    items = account.dynamodb.query(
        TableName=TABLE,
        IndexName="history",
        KeyConditionExpression="history_pk = :s",
        ExpressionAttributeValues={":s": {"S": "SOURCE#instance#db-a"}},
    )["Items"]
    events = [(i["snapshot_id"]["S"], i["status"]["S"]) for i in items]
    assert events == [
        ("rsm-x-db-a-0", "available"),
        ("rsm-x-db-a-1", "available"),
        ("rsm-x-db-a-2", "available"),
        ("rsm-x-db-a-0", "deleted"),
    ]


def test_dry_run_outcomes_and_targets_without_snapshot_get_no_snapshot_item(
    account: Account,
) -> None:
    adapter = account.ledger()
    written = [
        TargetOutcome.created(DB_A, "would-be", "not created (dry run)"),
        TargetOutcome.skipped(DB_A, "not due"),
        TargetOutcome.failed("ghost", SourceType.INSTANCE, "NotFound", "gone"),
    ]
    adapter.record_outcomes("run-1", written, NOW, changed=written)
    assert [i["sk"]["S"] for i in raw_items(account)] == ["TARGETS#00000"]


def test_items_stay_far_below_400_kb_whatever_the_lengths(account: Account) -> None:
    adapter = account.ledger()
    huge = [
        TargetOutcome.failed("x" * 5000 + str(i), SourceType.INSTANCE, "E" * 5000, "é" * 50_000)
        for i in range(300)
    ]
    adapter.record_outcomes("run-1", huge, NOW)
    items = raw_items(account)
    # The JSON of an item (type descriptors included) overstates DynamoDB's size of it.
    assert max(len(json.dumps(i, ensure_ascii=False).encode()) for i in items) < 320_000
    read = adapter.read_run("run-1").outcomes
    assert len(read) == 300
    assert {len(o.message) for o in read} == {FIELD_LIMIT}
