"""Restore tests (issue 11 item 5): which targets to test, the temporary database's name, and how
a restore's progress reads. Pure: no boto3, time passed in.

A restore-test run restores the newest available snapshot of ours of each chosen target into a
temporary instance (or cluster plus one instance), measures the time until it is available (the
RTO), and deletes it. Ids are deterministic per (run, snapshot), so a retried step meets its own
database (docs/OPERATIONS.md, "Restore tests").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rds_snapshot_manager.domain.model import SourceRef, SourceType
from rds_snapshot_manager.domain.naming import HASH_LENGTH, ownership_prefix, sanitise

# D8: the temporary database's id is `<prefix>rt-<stem>-<hash8>`; instance and cluster ids are at
# most 63 characters.
TEMP_MARK = "rt-"
TEMP_ID_MAX = 63
# D7: the tag on a temporary database naming the snapshot it was restored from.
TAG_RESTORE_TEST_OF = "RestoreTestOf"
# An Aurora cluster restored from a snapshot has no instance; the test adds one (its writer).
WRITER_SALT = "writer"
# Statuses in which a restored database will never become available by itself (RDS User Guide,
# "Viewing Amazon RDS DB instance status"; Aurora: "Viewing DB cluster status").
FAILED_DB_STATUSES = frozenset(
    {
        "failed",
        "incompatible-restore",
        "incompatible-network",
        "incompatible-parameters",
        "incompatible-option-group",
        "inaccessible-encryption-credentials",
        "inaccessible-encryption-credentials-recoverable",
        "restore-error",
        "storage-full",
    }
)
# A database RDS is deleting, or no longer lists, counts as deleted.
DELETING_STATUSES = frozenset({"deleting"})
# The error codes a restore test is reported failed with.
TIMED_OUT = "RestoreTimedOut"
RESTORE_FAILED = "RestoreFailed"
NO_SNAPSHOT = "NoAvailableSnapshot"
NOT_A_TARGET = "NotATarget"


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a restore-test call did not do what it asked (an AWS error code, or the exception's
    class name, and its message)."""

    error_code: str
    message: str


@dataclass(frozen=True, slots=True)
class TempDb:
    """A database a restore test made (or may have made): an instance, or a cluster and its
    writer instance."""

    source_type: SourceType
    db_id: str
    writer_id: str = ""  # a cluster's one instance

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.db_id, self.writer_id) if self.writer_id else (self.db_id,)


@dataclass(frozen=True, slots=True)
class RestoreTestConfig:
    """RSM_RESTORE_TEST (D6), parsed and bounded by Settings."""

    db_instance_identifiers: tuple[str, ...] = ()
    db_cluster_identifiers: tuple[str, ...] = ()
    sample_size: int | None = None
    instance_class: str = "db.t3.micro"
    db_subnet_group_name: str | None = None
    vpc_security_group_ids: tuple[str, ...] = ()
    timeout_minutes: int = 120
    leftover_max_age_hours: float = 24.0

    @property
    def listed(self) -> tuple[SourceRef, ...]:
        return tuple(SourceRef(SourceType.INSTANCE, i) for i in self.db_instance_identifiers) + (
            tuple(SourceRef(SourceType.CLUSTER, i) for i in self.db_cluster_identifiers)
        )


@dataclass(frozen=True, slots=True)
class Choice:
    """The targets a run tests, and the listed ids that are not targets of the deployment."""

    chosen: tuple[SourceRef, ...]
    not_targets: tuple[SourceRef, ...]


def _key(ref: SourceRef) -> tuple[SourceType, str]:
    return ref.source_type, ref.source_id.lower()  # RDS ids are case-insensitive


def choose_targets(config: RestoreTestConfig, targets: Iterable[SourceRef], run_id: str) -> Choice:
    """The listed ids that are among the deployment's targets (or every target when none are
    listed), at most `sample_size` of them. The sample is ranked by a hash of (run, target): the
    same for a retried step, a different one for each run, so tests rotate over the fleet."""
    by_key = {_key(ref): ref for ref in targets}
    listed = config.listed
    if listed:
        pool = [by_key[_key(ref)] for ref in listed if _key(ref) in by_key]
        not_targets = tuple(ref for ref in listed if _key(ref) not in by_key)
    else:
        pool, not_targets = list(by_key.values()), ()
    pool = sorted(set(pool), key=lambda ref: _rank(run_id, ref))
    size = config.sample_size if config.sample_size is not None else (len(pool) if listed else 1)
    return Choice(tuple(pool[:size]), not_targets)


def _rank(run_id: str, ref: SourceRef) -> str:
    text = "\n".join((run_id, ref.source_type, ref.source_id.lower()))
    return hashlib.sha256(text.encode()).hexdigest()


def temp_db_id(name: str, run_id: str, snapshot_id: str, source_id: str, salt: str = "") -> str:
    """D8: `<prefix>rt-<sanitised source id, cut>-<hash8(run id, snapshot id)>`, at most 63
    characters. `salt` gives a cluster's writer instance an id of its own."""
    digest = hashlib.sha256(
        "\n".join(part for part in (run_id, snapshot_id, salt) if part).encode()
    ).hexdigest()[:HASH_LENGTH]
    head = ownership_prefix(name) + TEMP_MARK
    room = TEMP_ID_MAX - len(head) - len(digest) - 1
    stem = sanitise(source_id)[:room].strip("-")
    return head + (f"{stem}-" if stem else "") + digest


def writer_id(name: str, run_id: str, snapshot_id: str, source_id: str) -> str:
    """The id of the one instance a restored cluster gets."""
    return temp_db_id(name, run_id, snapshot_id, source_id, WRITER_SALT)


def is_temp_db(db_id: str, tags: Mapping[str, str], name: str) -> bool:
    """A temporary database of this deployment's restore tests: the prefix and `rt-`, ManagedBy =
    name, and RestoreTestOf present (the same marks IAM requires for a delete)."""
    return (
        db_id.startswith(ownership_prefix(name) + TEMP_MARK)
        and tags.get("ManagedBy") == name
        and TAG_RESTORE_TEST_OF in tags
    )


def is_leftover(created_at: datetime | None, now: datetime, max_age_hours: float) -> bool:
    """A temporary database older than the limit. One without a create time (RDS sets it once the
    instance exists) is still being created and is left for a later sweep."""
    return created_at is not None and now - created_at >= timedelta(hours=max_age_hours)


def timed_out(started_at: datetime, now: datetime, timeout_minutes: int) -> bool:
    return now - started_at >= timedelta(minutes=timeout_minutes)


def db_progress(statuses: Sequence[str | None]) -> str:
    """One restore's progress from the statuses of its databases (an instance; or a cluster and
    its writer): `failed` when any is in a failed status, `available` when all are, else
    `restoring` (a database a describe does not list yet is still being created: describes are
    eventually consistent)."""
    if any(status in FAILED_DB_STATUSES for status in statuses):
        return "failed"
    if statuses and all(status == "available" for status in statuses):
        return "available"
    return "restoring"


def restore_seconds(started_at: datetime, available_at: datetime) -> float:
    """The measured RTO: from the restore call to the poll that saw the database available (so an
    upper bound, by at most one poll interval)."""
    return round((available_at - started_at).total_seconds(), 1)
