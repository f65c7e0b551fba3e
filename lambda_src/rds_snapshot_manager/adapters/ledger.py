"""The DynamoDB ledger: runs, their targets and deletions, one item per snapshot, and the lease.

Items, schema versions and access patterns are documented in docs/ARCHITECTURE.md ("Ledger").
Writes are batched (25 per BatchWriteItem), reads are paginated Queries; nothing scans. Every item
carries the schema version `v` and named fields; items of every earlier version stay readable
(v0: positional JSON rows, written before `v` existed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from rds_snapshot_manager.adapters import error_code
from rds_snapshot_manager.domain.model import (
    DRY_RUN_STATUS,
    TEXT_LIMIT,
    Backups,
    Deletion,
    Outcome,
    Snapshot,
    SnapshotStatus,
    SourceRef,
    SourceType,
    TargetOutcome,
    parse_utc,
)
from rds_snapshot_manager.domain.retention import Selection
from rds_snapshot_manager.domain.work import WorkItem, WorkKind, WorkState
from rds_snapshot_manager.iterables import chunked

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
SCHEMA_VERSION = 1
HISTORY_INDEX = "history"
# The table's keys and its GSI (ARCHITECTURE.md; Terraform creates the real table): for tests and
# benchmarks.
TABLE_KEYS: dict[str, Any] = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"}
        for name in ("pk", "sk", "history_pk", "history_sk")
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": HISTORY_INDEX,
            "KeySchema": [
                {"AttributeName": "history_pk", "KeyType": "HASH"},
                {"AttributeName": "history_sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
}
BATCH_SIZE = 25
MAX_BATCH_ATTEMPTS = 8
RUN_SK = "RUN"
RUNS_HISTORY = "RUNS"
LEASE_KEY = "LEASE"
# Restore-test runs hold their own lease item (pk LEASE, sk RESTORE): one restore test at a time,
# and never in the way of a backup run (docs/OPERATIONS.md, "Restore tests").
RESTORE_LEASE_KEY = "RESTORE"
SNAPSHOT_SK = "SNAPSHOT"
SNAPSHOT_DELETED_SK = "DELETED"
TARGET_PREFIX = "TARGETS#"
DELETION_PREFIX = "DELETED#"
PLAN_PREFIX = "PLAN#"
WORK_PREFIX = "WORK#"  # sorts last in a run's partition: TARGETS# < WORK#
# How many earlier runs Create looks at (newest first) to find the one whose work it carries over.
PREVIOUS_RUNS = 10
TOPICS = ("report", "failure")
# Targets, deletions and prune candidates are many and small: up to 100 rows to an item keeps every
# step's ledger traffic at a few calls even for thousands of them. A chunk's rows are one JSON text
# of objects (named fields): far cheaper to parse, in Lambda as under moto, than thousands of
# DynamoDB maps. Every string in a row is cut to FIELD_LIMIT characters (at most 4 KB of UTF-8), and
# a chunk closes before its JSON passes ITEM_BUDGET_BYTES, so an item stays under 300 KB + 2 KB of
# keys and counters: far below DynamoDB's 400 KB, whatever the ids, reasons and messages.
PER_ITEM = 100
FIELD_LIMIT = TEXT_LIMIT  # the domain's cap, enforced again here as the storage guarantee
ITEM_BUDGET_BYTES = 300_000


class LedgerError(RuntimeError):
    """The ledger could not be written; the Task fails and the state machine retries it."""


class LeaseState(StrEnum):
    """What the run item says about the run's lease (D5)."""

    HELD = "held"  # this run holds the lease: it may create and delete
    DENIED = "denied"  # another run held it: this run creates and deletes nothing
    NOT_NEEDED = "not needed"  # a dry run changes nothing, so it neither takes nor waits for one
    NONE = ""  # no run item, or one written before leases existed (v0): nothing may be deleted


@dataclass(frozen=True, slots=True)
class Lease:
    """The answer to a lease request: held by this run, or by `holder` until `until` (epoch s)."""

    held: bool
    holder: str
    until: int

    @property
    def state(self) -> LeaseState:
        return LeaseState.HELD if self.held else LeaseState.DENIED


@dataclass
class RunRecord:
    """Everything the ledger holds about one run."""

    run_id: str
    started_at: str = ""
    dry_run: bool = False
    published_at: str = ""  # set once every topic the report went to is marked
    published_topics: set[str] = field(default_factory=set)  # of TOPICS, marked one by one
    lease: LeaseState = LeaseState.NONE
    lease_holder: str = ""  # the run that held the lease when this one was denied it
    lease_until: int = 0
    outcomes: list[TargetOutcome] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    prune_plan: Selection | None = None  # what Create's listing selected for Prune
    work: list[WorkItem] = field(default_factory=list)  # copies, shares, restore tests (D11)


def _pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _snapshot_pk(snapshot_id: str) -> str:
    return f"SNAPSHOT#{snapshot_id}"


def _source_history(source: SourceRef) -> str:
    # RDS ids are case-insensitive (stored lowercase); reports keep the user's spelling.
    return f"SOURCE#{source.source_type}#{source.source_id.lower()}"


def _encode(item: Mapping[str, Any]) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, bool):
            encoded[key] = {"BOOL": value}
        elif isinstance(value, int | float):
            encoded[key] = {"N": str(value)}
        elif value is not None:
            encoded[key] = {"S": str(value)}
    return encoded


def _decode(item: Mapping[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for key, value in item.items():
        if "BOOL" in value:
            decoded[key] = value["BOOL"]
        elif "N" in value:
            number = str(value["N"])
            decoded[key] = float(number) if any(c in number for c in ".eE") else int(number)
        else:
            decoded[key] = value.get("S", "")
    return decoded


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _unless_condition_failed(write: Callable[[], object]) -> bool:
    """Runs a conditional write: True when it happened, False when its condition failed."""
    try:
        write()
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _named(**fields: Any) -> dict[str, Any]:
    """A row or item body: empty strings left out (readers default them), strings capped."""
    return {
        key: value[:FIELD_LIMIT] if isinstance(value, str) else value
        for key, value in fields.items()
        if value != "" and value is not None
    }


def _outcome_row(o: TargetOutcome) -> dict[str, Any]:
    backups = o.backups
    return _named(
        source_type=o.source_type or "",
        source_id=o.source_id,
        outcome=str(o.outcome),
        snapshot_id=o.snapshot_id,
        status=o.status,
        reason=o.reason,
        error_code=o.error_code,
        message=o.message,
        # Create's listing, for the report's RPO and storage figures (added in v1: rows without
        # them read as "not measured").
        newest_backup_at=backups.newest_at.isoformat() if backups and backups.newest_at else "",
        managed_snapshot_count=backups.count if backups else None,
        managed_snapshot_gib=backups.gib if backups else None,
    )


def _deletion_row(d: Deletion) -> dict[str, Any]:
    return _named(
        source_type=str(d.source.source_type),
        source_id=d.source.source_id,
        snapshot_id=d.snapshot_id,
        deleted=d.deleted,
        error_code=d.error_code,
        message=d.message,
        region=d.region,
    )


def _plan_row(s: Snapshot) -> dict[str, Any]:
    return _named(
        source_type=str(s.source.source_type),
        source_id=s.source.source_id,
        snapshot_id=s.snapshot_id,
        status=s.status,
        created_at=s.created_at.isoformat() if s.created_at else "",
    )


def _work_row(w: WorkItem) -> dict[str, Any]:
    return _named(
        kind=str(w.kind),
        key=w.key,
        snapshot_id=w.snapshot_id,
        source_id=w.source.source_id,
        source_type=str(w.source.source_type),
        region=w.region,
        target_id=w.target_id,
        state=str(w.state),
        started_at=w.started_at,
        done_at=w.done_at,
        error_code=w.error_code,
        message=w.message,
        from_run=w.from_run,
        snapshot_at=w.snapshot_at,
    )


def _work_item(row: Mapping[str, Any]) -> WorkItem:
    # Empty fields are left out when written: a restore test of a target without a snapshot to
    # restore has neither a snapshot id nor a target id.
    return WorkItem(
        WorkKind(row["kind"]),
        row.get("snapshot_id", ""),
        SourceRef(SourceType(row["source_type"]), row["source_id"]),
        row["region"],
        row.get("target_id", ""),
        WorkState(row.get("state", "pending")),
        row.get("started_at", ""),
        row.get("done_at", ""),
        row.get("error_code", ""),
        row.get("message", ""),
        row.get("from_run", ""),
        row.get("snapshot_at", ""),
    )


def _row_chunks(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Rows in order as JSON arrays, at most PER_ITEM rows and ITEM_BUDGET_BYTES to a chunk; at
    least one (empty) chunk, so a rewrite with no rows still replaces a longer earlier write. Each
    row is serialised once: its text both sizes the chunk and goes into it."""
    chunks: list[list[str]] = [[]]
    size = 0
    for row in rows:
        text = _json(row)
        row_size = len(text.encode()) + 1
        if len(chunks[-1]) >= PER_ITEM or (chunks[-1] and size + row_size > ITEM_BUDGET_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(text)
        size += row_size
    return [f"[{','.join(chunk)}]" for chunk in chunks]


class LedgerAdapter:
    def __init__(self, client: DynamoDBClient, table: str, ttl_days: float) -> None:
        self._client = client
        self._table = table
        self._ttl = timedelta(days=ttl_days)

    def _expires_at(self, now: datetime) -> int:
        return int((now + self._ttl).timestamp())

    def _item(self, pk: str, sk: str, now: datetime, **fields: Any) -> dict[str, Any]:
        return {"pk": pk, "sk": sk, "v": SCHEMA_VERSION, "expires_at": self._expires_at(now)} | (
            _named(**fields)
        )

    # -- the lease (one run at a time) -----------------------------------------------------------
    def acquire_lease(
        self, run_id: str, now: datetime, seconds: float, *, key: str = LEASE_KEY
    ) -> Lease:
        """Takes the deployment's lease for `seconds` when it is free, expired, or already this
        run's (a retried Create keeps it). Otherwise says who holds it, and until when. `key` is
        the lease item's sort key: LEASE_KEY for backup runs, RESTORE_LEASE_KEY for restore
        tests."""
        until = int(now.timestamp() + seconds)
        for _ in range(2):  # the holder may release between our write and our read: try again
            taken = _unless_condition_failed(
                lambda: self._client.put_item(
                    TableName=self._table,
                    Item=_encode(
                        {
                            "pk": LEASE_KEY,
                            "sk": key,
                            "v": SCHEMA_VERSION,
                            "holder": run_id,
                            "lease_until": until,
                            "acquired_at": now.isoformat(),
                            "expires_at": until + 86_400,  # TTL tidies a lease nobody released
                        }
                    ),
                    ConditionExpression=(
                        "attribute_not_exists(pk) OR lease_until < :now OR holder = :me"
                    ),
                    ExpressionAttributeValues=_encode(
                        {":now": int(now.timestamp()), ":me": run_id}
                    ),
                )
            )
            if taken:
                return Lease(True, run_id, until)
            current = self._client.get_item(
                TableName=self._table,
                Key=_encode({"pk": LEASE_KEY, "sk": key}),
                ConsistentRead=True,
            ).get("Item")
            if current:
                held = _decode(current)
                return Lease(False, str(held.get("holder", "")), int(held.get("lease_until", 0)))
        return Lease(False, "", 0)  # released and taken again in between: another run is on

    def release_lease(self, run_id: str, *, key: str = LEASE_KEY) -> bool:
        """Frees the lease if this run still holds it. False when it does not (already released,
        or expired and taken over), which is fine: the lease was not ours to free."""
        return _unless_condition_failed(
            lambda: self._client.delete_item(
                TableName=self._table,
                Key=_encode({"pk": LEASE_KEY, "sk": key}),
                ConditionExpression="holder = :me",
                ExpressionAttributeValues=_encode({":me": run_id}),
            )
        )

    # -- writes ----------------------------------------------------------------------------------
    def start_run(
        self,
        run_id: str,
        started_at: str,
        dry_run: bool,
        now: datetime,
        lease: Lease | None = None,
    ) -> bool:
        """Records the run once, with its lease decision. False when it already exists: this
        Create is a retry (its lease decision is then brought up to date)."""
        state = lease.state if lease else LeaseState.NOT_NEEDED if dry_run else LeaseState.NONE
        lease_fields = {
            "lease": str(state),
            "lease_holder": "" if lease is None or lease.held else lease.holder,
            "lease_until": lease.until if lease else None,
        }
        item = self._item(
            _pk(run_id),
            RUN_SK,
            now,
            run_id=run_id,
            started_at=started_at,
            dry_run=dry_run,
            history_pk=RUNS_HISTORY,
            history_sk=started_at,
            **lease_fields,
        )
        first = _unless_condition_failed(
            lambda: self._client.put_item(
                TableName=self._table,
                Item=_encode(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        )
        if not first and lease is not None:
            values = _named(**lease_fields)
            self._client.update_item(
                TableName=self._table,
                Key=_encode({"pk": _pk(run_id), "sk": RUN_SK}),
                UpdateExpression="SET "
                + ", ".join(f"{name} = :{name}" for name in values)
                + (" REMOVE lease_holder" if "lease_holder" not in values else ""),
                ExpressionAttributeValues=_encode({f":{k}": v for k, v in values.items()}),
            )
        return first

    def mark_topic_published(self, run_id: str, topic: str, status: str, now: datetime) -> bool:
        """Notes that the report went to `topic` (one of TOPICS), with the run's status. False
        when an earlier attempt already marked it, so a retry publishes only what is missing."""
        marker = f"published_{topic}_at"
        return _unless_condition_failed(
            lambda: self._client.update_item(
                TableName=self._table,
                Key=_encode({"pk": _pk(run_id), "sk": RUN_SK}),
                UpdateExpression=(
                    f"SET {marker} = :t, run_status = :s, v = if_not_exists(v, :v),"
                    " expires_at = if_not_exists(expires_at, :e)"
                ),
                ConditionExpression=f"attribute_not_exists({marker})",
                ExpressionAttributeValues=_encode(
                    {
                        ":t": now.isoformat(),
                        ":s": status,
                        ":v": SCHEMA_VERSION,
                        ":e": self._expires_at(now),
                    }
                ),
            )
        )

    def mark_published(self, run_id: str, now: datetime) -> bool:
        """Notes that the report went out to every topic. False when an earlier attempt did."""
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
        self,
        run_id: str,
        outcomes: Sequence[TargetOutcome],
        now: datetime,
        *,
        changed: Iterable[TargetOutcome] = (),
        run_started_at: datetime | None = None,
    ) -> None:
        """All of the run's target outcomes, one row per target, up to 100 to an item.
        Re-recording (a retried Create, or Check's status update) rewrites the set.

        `changed` are the outcomes whose snapshot's own item (pk `SNAPSHOT#<id>`) is written too,
        in the same batches: Create passes what it created, Check what settled. The snapshot's
        `created_at` is the run's start (`run_started_at`), the time in its id."""
        created_at = (run_started_at or now).isoformat()
        # One item per snapshot: a listed cluster member's row carries its cluster's snapshot id,
        # and the cluster's row owns the item (DynamoDB refuses one key twice in a batch).
        owners: dict[str, TargetOutcome] = {}
        for o in changed:
            recordable = o.snapshot_id and o.source_type and o.status != DRY_RUN_STATUS
            if recordable and (o.snapshot_id not in owners or o.source_type is SourceType.CLUSTER):
                owners[o.snapshot_id] = o
        snapshot_items = [self._snapshot_item(run_id, o, created_at, now) for o in owners.values()]
        rows = self._chunk_items(run_id, TARGET_PREFIX, outcomes, _outcome_row, now)
        self._put_all(rows + snapshot_items)

    def _snapshot_item(
        self, run_id: str, o: TargetOutcome, created_at: str, now: datetime
    ) -> dict[str, Any]:
        source = SourceRef(o.source_type or SourceType.INSTANCE, o.source_id)
        failed = o.outcome is Outcome.FAILED
        return self._item(
            _snapshot_pk(o.snapshot_id),
            SNAPSHOT_SK,
            now,
            snapshot_id=o.snapshot_id,
            source_id=o.source_id,
            source_type=str(source.source_type),
            status=str(SnapshotStatus.FAILED) if failed else o.status,
            created_by_run=run_id,
            created_at=created_at,
            available_at=now.isoformat() if o.status == SnapshotStatus.AVAILABLE else "",
            error_code=o.error_code if failed else "",
            message=o.message if failed else "",
            history_pk=_source_history(source),
            history_sk=created_at,
        )

    def record_deletions(
        self, run_id: str, deletions: Sequence[Deletion], now: datetime, *, dry_run: bool = False
    ) -> None:
        """Prune's results, up to 100 to an item; a retried Prune overwrites the same items. Each
        snapshot really deleted also gets its deletion item (pk `SNAPSHOT#<id>`, sk `DELETED`)."""
        deleted_items = [
            self._item(
                _snapshot_pk(d.snapshot_id),
                SNAPSHOT_DELETED_SK,
                now,
                snapshot_id=d.snapshot_id,
                source_id=d.source.source_id,
                source_type=str(d.source.source_type),
                status="deleted",
                deleted_by_run=run_id,
                deleted_at=now.isoformat(),
                history_pk=_source_history(d.source),
                history_sk=now.isoformat(),
            )
            for d in deletions
            if d.deleted and not dry_run and not d.region  # a copy's id is its original's
        ]
        rows = self._chunk_items(run_id, DELETION_PREFIX, deletions, _deletion_row, now)
        self._put_all(rows + deleted_items)

    def record_prune_plan(self, run_id: str, plan: Selection, now: datetime) -> None:
        """Create's selection for Prune, so Prune need not list every snapshot again."""
        self._put_all(
            self._chunk_items(run_id, PLAN_PREFIX, plan.expired, _plan_row, now, kept=plan.kept)
        )

    def write_work(self, run_id: str, items: Sequence[WorkItem], now: datetime) -> None:
        """The run's work rows (D11), all of them, up to 100 rows / 300 KB to an item, written
        whole like the other chunked kinds: a rewrite with fewer rows leaves nothing stale."""
        self._put_all(self._chunk_items(run_id, WORK_PREFIX, items, _work_row, now))

    def work(self, run_id: str) -> list[WorkItem]:
        """The run's work rows (one paginated Query on the WORK# items of its partition)."""
        return self.read_run(run_id, prefix=WORK_PREFIX).work

    def read_targets_and_work(self, run_id: str) -> RunRecord:
        """Target outcomes and work rows in one paginated Query (TARGETS# < WORK# sort last)."""
        return self._query_run(
            run_id, "pk = :pk AND sk >= :targets", {":pk": _pk(run_id), ":targets": TARGET_PREFIX}
        )

    def previous_run(self, run_id: str, started_at: str) -> str | None:
        """The newest earlier run that held the lease (the one whose unfinished work this run
        takes over): one Query of the `history` index, newest first, at most PREVIOUS_RUNS
        items. Runs without the lease (or dry runs) made no work and are passed over."""
        response = self._client.query(
            TableName=self._table,
            IndexName=HISTORY_INDEX,
            KeyConditionExpression="history_pk = :runs AND history_sk < :me",
            ExpressionAttributeValues=_encode({":runs": RUNS_HISTORY, ":me": started_at}),
            ScanIndexForward=False,
            Limit=PREVIOUS_RUNS,
        )
        for raw in response.get("Items", []):
            item = _decode(raw)
            if item.get("run_id") != run_id and item.get("lease") == LeaseState.HELD:
                return str(item["run_id"])
        return None

    def _chunk_items(
        self,
        run_id: str,
        prefix: str,
        entries: Sequence[T],
        row: Callable[[T], dict[str, Any]],
        now: datetime,
        **first: Any,
    ) -> list[dict[str, Any]]:
        """Rows under `<prefix><index>`; the first item counts the items, so a rewrite with fewer
        rows leaves no stale item that a reader would take for current."""
        chunks = _row_chunks(row(entry) for entry in entries)
        return [
            self._item(
                _pk(run_id),
                f"{prefix}{index:05d}",
                now,
                updated_at=now.isoformat(),
                **({"chunks": len(chunks), **first} if index == 0 else {}),
            )
            | {"rows": chunk}  # not capped: its strings are, row by row
            for index, chunk in enumerate(chunks)
        ]

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
        return self._query_run(run_id, condition, values)

    def read_plan_and_lease(self, run_id: str) -> RunRecord:
        """The run item (its lease) and the prune plan, in one Query: `PLAN#…` and `RUN` are
        neighbours in the partition's sort order (DELETED# < PLAN# < RUN < TARGETS#)."""
        return self._query_run(
            run_id,
            "pk = :pk AND sk BETWEEN :plan AND :run",
            {":pk": _pk(run_id), ":plan": PLAN_PREFIX, ":run": RUN_SK},
        )

    def _query_run(self, run_id: str, condition: str, values: Mapping[str, Any]) -> RunRecord:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=_encode(values),
        )
        record = RunRecord(run_id)
        chunks: dict[str, int] = {}
        for page in pages:
            for raw in page.get("Items", []):
                _add(record, _decode(raw), chunks)
        return record


def _add(record: RunRecord, item: Mapping[str, Any], chunks: dict[str, int]) -> None:
    sk = str(item["sk"])
    if sk == RUN_SK:
        _add_run(record, item)
        return
    prefix, _, index = sk.rpartition("#")
    prefix += "#"
    if index == "00000":  # sort keys ascend, so the first item of each kind comes first
        chunks[prefix] = int(item.get("chunks", 1))
    if int(index) >= chunks.get(prefix, 0):
        return  # left over from an earlier, longer write of the same kind
    rows = _rows(item)
    if prefix == TARGET_PREFIX:
        record.outcomes.extend(_outcome(row) for row in rows)
    elif prefix == DELETION_PREFIX:
        record.deletions.extend(
            Deletion(
                row["snapshot_id"],
                SourceRef(SourceType(row["source_type"]), row["source_id"]),
                bool(row.get("deleted", False)),
                row.get("error_code", ""),
                row.get("message", ""),
                row.get("region", ""),
            )
            for row in rows
        )
    elif prefix == PLAN_PREFIX:
        if record.prune_plan is None:  # the first item, which alone holds `kept`
            record.prune_plan = Selection([], int(item.get("kept", 0)))
        record.prune_plan.expired.extend(
            Snapshot(
                row["snapshot_id"],
                SourceRef(SourceType(row["source_type"]), row["source_id"]),
                row.get("status", "available"),
                datetime.fromisoformat(row["created_at"]) if row.get("created_at") else None,
            )
            for row in rows
        )
    elif prefix == WORK_PREFIX:
        record.work.extend(_work_item(row) for row in rows)


def _add_run(record: RunRecord, item: Mapping[str, Any]) -> None:
    record.started_at = str(item.get("started_at", ""))
    record.dry_run = bool(item.get("dry_run", False))
    record.published_at = str(item.get("published_at", ""))
    record.published_topics = {t for t in TOPICS if item.get(f"published_{t}_at")}
    if record.published_at:  # v0 marked the report published once, after every topic
        record.published_topics = set(TOPICS)
    record.lease = LeaseState(item.get("lease", ""))
    record.lease_holder = str(item.get("lease_holder", ""))
    record.lease_until = int(item.get("lease_until", 0))


# Field order of v0's positional rows, per kind (read-only: v0 is never written again).
_V0_FIELDS = {
    TARGET_PREFIX: ("source_type", "source_id", "outcome", "snapshot_id", "status", "reason",
                    "error_code", "message"),
    DELETION_PREFIX: ("source_type", "source_id", "snapshot_id", "deleted", "error_code",
                      "message"),
    PLAN_PREFIX: ("source_type", "source_id", "snapshot_id"),
}  # fmt: skip


def _rows(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A chunk item's rows as named fields, whatever the item's schema version."""
    rows: list[Any] = json.loads(item["rows"])
    if int(item.get("v", 0)) >= 1:
        return rows
    fields = _V0_FIELDS[str(item["sk"]).rpartition("#")[0] + "#"]
    return [dict(zip(fields, row, strict=True)) for row in rows]


def _outcome(row: Mapping[str, Any]) -> TargetOutcome:
    kind = row.get("source_type", "")
    newest = row.get("newest_backup_at")
    backups = (
        Backups(
            parse_utc(newest) if newest else None,
            int(row["managed_snapshot_count"]),
            float(row.get("managed_snapshot_gib", 0)),
        )
        if "managed_snapshot_count" in row
        else None
    )
    return TargetOutcome(
        row["source_id"],
        SourceType(kind) if kind else None,
        Outcome(row["outcome"]),
        row.get("snapshot_id", ""),
        row.get("status", ""),
        row.get("reason", ""),
        row.get("error_code", ""),
        row.get("message", ""),
        backups,
    )
