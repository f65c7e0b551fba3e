"""The DynamoDB ledger: one partition per run holds the run, its targets and its deletions.

Items and access patterns are documented in docs/ARCHITECTURE.md ("Ledger"). Writes are batched
(25 per BatchWriteItem), reads are paginated Queries on one partition; nothing scans.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from rds_snapshot_manager.adapters import error_code
from rds_snapshot_manager.domain.model import (
    Deletion,
    Outcome,
    Snapshot,
    SourceRef,
    SourceType,
    TargetOutcome,
)
from rds_snapshot_manager.domain.retention import Selection
from rds_snapshot_manager.iterables import chunked

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The table's keys (ARCHITECTURE.md; Terraform creates the real table): for tests and benchmarks.
TABLE_KEYS: dict[str, Any] = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
}
BATCH_SIZE = 25
MAX_BATCH_ATTEMPTS = 8
RUN_SK = "RUN"
TARGET_PREFIX = "TARGETS#"
DELETION_PREFIX = "DELETED#"
PLAN_PREFIX = "PLAN#"
# Targets, deletions and prune candidates are many and small: 100 rows to an item keeps every
# step's ledger traffic at a few calls even for thousands of them (items stay far below 400 KB).
PER_ITEM = 100
MESSAGE_LIMIT = 1000


class LedgerError(RuntimeError):
    """The ledger could not be written; the Task fails and the state machine retries it."""


@dataclass
class RunRecord:
    """Everything the ledger holds about one run."""

    run_id: str
    started_at: str = ""
    dry_run: bool = False
    published_at: str = ""
    outcomes: list[TargetOutcome] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    prune_plan: Selection | None = None  # what Create's listing selected for Prune


def _pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _encode(item: Mapping[str, Any]) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, bool):
            encoded[key] = {"BOOL": value}
        elif isinstance(value, int | float):
            encoded[key] = {"N": str(value)}
        else:
            encoded[key] = {"S": str(value)}
    return encoded


def _decode(item: Mapping[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for key, value in item.items():
        if "BOOL" in value:
            decoded[key] = value["BOOL"]
        elif "N" in value:
            decoded[key] = float(value["N"])
        else:
            decoded[key] = value.get("S", "")
    return decoded


def _unless_condition_failed(write: Callable[[], object]) -> bool:
    """Runs a conditional write: True when it happened, False when its condition failed."""
    try:
        write()
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _outcome_row(o: TargetOutcome) -> list[str]:
    return [
        o.source_type or "",
        o.source_id,
        o.outcome,
        o.snapshot_id,
        o.status,
        o.reason,
        o.error_code,
        o.message[:MESSAGE_LIMIT],
    ]


class LedgerAdapter:
    def __init__(self, client: DynamoDBClient, table: str, ttl_days: float) -> None:
        self._client = client
        self._table = table
        self._ttl = timedelta(days=ttl_days)

    def _expires_at(self, now: datetime) -> int:
        return int((now + self._ttl).timestamp())

    # -- writes ----------------------------------------------------------------------------------
    def start_run(self, run_id: str, started_at: str, dry_run: bool, now: datetime) -> bool:
        """Records the run once. False when it already exists: this Create is a retry."""
        item = {
            "pk": _pk(run_id),
            "sk": RUN_SK,
            "run_id": run_id,
            "started_at": started_at,
            "dry_run": dry_run,
            "expires_at": self._expires_at(now),
        }
        return _unless_condition_failed(
            lambda: self._client.put_item(
                TableName=self._table,
                Item=_encode(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        )

    def mark_published(self, run_id: str, now: datetime) -> bool:
        """Notes that the report went out. False when an earlier attempt already did."""
        return _unless_condition_failed(
            lambda: self._client.update_item(
                TableName=self._table,
                Key=_encode({"pk": _pk(run_id), "sk": RUN_SK}),
                UpdateExpression=(
                    "SET published_at = :t, expires_at = if_not_exists(expires_at, :e)"
                ),
                ConditionExpression="attribute_not_exists(published_at)",
                ExpressionAttributeValues=_encode(
                    {":t": now.isoformat(), ":e": self._expires_at(now)}
                ),
            )
        )

    def record_outcomes(
        self, run_id: str, outcomes: Sequence[TargetOutcome], now: datetime
    ) -> None:
        """All of the run's target outcomes, one row per target, 100 to an item. Re-recording (a
        retried Create, or Check's status update) rewrites the set."""
        self._put_chunks(
            run_id,
            TARGET_PREFIX,
            [_outcome_row(o) for o in outcomes],
            now,
        )

    def record_deletions(self, run_id: str, deletions: Sequence[Deletion], now: datetime) -> None:
        """Prune's results, 100 to an item; a retried Prune overwrites the same items."""
        self._put_chunks(
            run_id,
            DELETION_PREFIX,
            [
                [
                    d.source.source_type,
                    d.source.source_id,
                    d.snapshot_id,
                    d.deleted,
                    d.error_code,
                    d.message,
                ]
                for d in deletions
            ],
            now,
        )

    def record_prune_plan(self, run_id: str, plan: Selection, now: datetime) -> None:
        """Create's selection for Prune, so Prune need not list every snapshot again."""
        rows = [[s.source.source_type, s.source.source_id, s.snapshot_id] for s in plan.expired]
        self._put_chunks(run_id, PLAN_PREFIX, rows, now, kept=plan.kept)

    def _put_chunks(
        self, run_id: str, prefix: str, rows: Sequence[list[Any]], now: datetime, **first: Any
    ) -> None:
        """Rows 100 to an item under `<prefix><index>`; the first item counts the items, so a
        rewrite with fewer rows leaves no stale item that a reader would take for current."""
        chunks = list(chunked(rows, PER_ITEM)) or [[]]
        self._put_all(
            {
                "pk": _pk(run_id),
                "sk": f"{prefix}{index:05d}",
                "rows": json.dumps(chunk, separators=(",", ":")),
                "updated_at": now.isoformat(),
                "expires_at": self._expires_at(now),
                **({"chunks": len(chunks), **first} if index == 0 else {}),
            }
            for index, chunk in enumerate(chunks)
        )

    def _put_all(self, items: Iterable[Mapping[str, Any]]) -> None:
        for batch in chunked(items, BATCH_SIZE):
            self._write_batch([{"PutRequest": {"Item": _encode(item)}} for item in batch])

    def _write_batch(self, requests: Sequence[Any]) -> None:
        pending = list(requests)
        for attempt in range(MAX_BATCH_ATTEMPTS):
            response = self._client.batch_write_item(RequestItems={self._table: pending})
            pending = list(response.get("UnprocessedItems", {}).get(self._table, []))
            if not pending:
                return
            time.sleep(min(0.05 * 2**attempt, 2.0))
        raise LedgerError(f"{len(pending)} ledger writes stayed unprocessed in {self._table}")

    # -- reads -----------------------------------------------------------------------------------
    def read_run(self, run_id: str, prefix: str = "") -> RunRecord:
        """The run's items (those whose sort key starts with `prefix`) by paginated Query on its
        partition, never a Scan."""
        condition = "pk = :pk"
        values: dict[str, Any] = {":pk": _pk(run_id)}
        if prefix:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = prefix
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=_encode(values),
        )
        record = RunRecord(run_id)
        chunks: dict[str, int] = {}
        for page in pages:
            for raw in page.get("Items", []):
                self._add(record, _decode(raw), chunks)
        return record

    @staticmethod
    def _add(record: RunRecord, item: Mapping[str, Any], chunks: dict[str, int]) -> None:
        sk = str(item["sk"])
        if sk == RUN_SK:
            record.started_at = str(item.get("started_at", ""))
            record.dry_run = bool(item.get("dry_run", False))
            record.published_at = str(item.get("published_at", ""))
            return
        prefix, _, index = sk.rpartition("#")
        prefix += "#"
        if index == "00000":  # sort keys ascend, so the first item of each kind comes first
            chunks[prefix] = int(item.get("chunks", 1))
        if int(index) >= chunks.get(prefix, 0):
            return  # left over from an earlier, longer write of the same kind
        rows = json.loads(item["rows"])
        if prefix == TARGET_PREFIX:
            record.outcomes.extend(
                TargetOutcome(
                    source_id, SourceType(kind) if kind else None, Outcome(outcome),
                    snapshot_id, status, reason, code, message,
                )
                for kind, source_id, outcome, snapshot_id, status, reason, code, message in rows
            )  # fmt: skip
        elif prefix == DELETION_PREFIX:
            record.deletions.extend(
                Deletion(
                    snapshot_id, SourceRef(SourceType(kind), source_id), deleted, code, message
                )
                for kind, source_id, snapshot_id, deleted, code, message in rows
            )
        elif prefix == PLAN_PREFIX:
            if record.prune_plan is None:  # the first item, which alone holds `kept`
                record.prune_plan = Selection([], int(item.get("kept", 0)))
            record.prune_plan.expired.extend(
                Snapshot(snapshot_id, SourceRef(SourceType(kind), source_id), "available", None)
                for kind, source_id, snapshot_id in rows
            )
