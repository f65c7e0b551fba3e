"""Value objects shared by the domain, the adapters and the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

# The status a dry run reports for the snapshot it would have created.
DRY_RUN_STATUS = "not created (dry run)"
# Reasons and error messages are cut to this many characters (AWS messages, exception texts): with
# ids capped too, no outcome can grow a ledger item or the report without bound.
TEXT_LIMIT = 1000


def cap_text(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_utc(value: str) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (naive means UTC); None when unparsable."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class SourceType(StrEnum):
    INSTANCE = "instance"
    CLUSTER = "cluster"


class Outcome(StrEnum):
    CREATED = "created"
    SKIPPED = "skipped"
    FAILED = "failed"


class SnapshotStatus(StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, order=True)
class SourceRef:
    """A database the tool snapshots: an instance, or a cluster (snapshotted at cluster level)."""

    source_type: SourceType
    source_id: str


@dataclass(frozen=True, slots=True)
class Database:
    """What a describe call says about an instance or a cluster, slimmed to what decisions need."""

    ref: SourceRef
    status: str
    tags: tuple[tuple[str, str], ...] = ()
    cluster_id: str | None = None  # for an instance that is a cluster member (any engine)
    created_at: datetime | None = None  # InstanceCreateTime / ClusterCreateTime, once RDS sets it


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A manual snapshot, slim: the fields retention, interval and reporting need, nothing else."""

    snapshot_id: str
    source: SourceRef
    status: str
    created_at: datetime | None
    managed_by: str | None = None
    run_id: str | None = None
    run_started_at: datetime | None = None  # the `RunStartedAt` tag: when the making run started
    engine: str = ""  # what a restore test passes to RestoreDBClusterFromSnapshot (required there)
    # Disaster recovery (D8): the `CopySourceRegion` tag of a cross-region copy, the `ShareCopyOf`
    # tag of a re-encrypted shareable copy, the KMS key (None: unencrypted) and the region a copy
    # was copied from according to RDS (a copy in flight counts against the per-region limit).
    copy_source_region: str | None = None
    share_copy_of: str | None = None
    kms_key_id: str | None = None
    copied_from_region: str | None = None
    allocated_gib: float = 0.0  # RDS's AllocatedStorage of the snapshot (storage figure)


@dataclass(frozen=True, slots=True)
class Backups:
    """What Create's listing says about one target's managed snapshots (docs/ARCHITECTURE.md,
    "RPO"): the backup time of the newest available one (None: none available), and how many of
    any status there are, with their allocated GiB. Measured at the run's start, before this run
    created or deleted anything."""

    newest_at: datetime | None
    count: int
    gib: float


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    """What happened to one target in one run: created, skipped (with reason) or failed."""

    source_id: str
    source_type: SourceType | None
    outcome: Outcome
    snapshot_id: str = ""
    status: str = ""
    reason: str = ""
    error_code: str = ""
    message: str = ""
    backups: Backups | None = None  # None: not measured (not a database, or an older row)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", cap_text(self.reason))
        object.__setattr__(self, "error_code", cap_text(self.error_code, 100))
        object.__setattr__(self, "message", cap_text(self.message))

    @classmethod
    def created(cls, ref: SourceRef, snapshot_id: str, status: str) -> TargetOutcome:
        return cls(ref.source_id, ref.source_type, Outcome.CREATED, snapshot_id, status)

    @classmethod
    def skipped(cls, ref: SourceRef, reason: str) -> TargetOutcome:
        return cls(ref.source_id, ref.source_type, Outcome.SKIPPED, reason=reason)

    @classmethod
    def failed(
        cls,
        source_id: str,
        source_type: SourceType | None,
        error_code: str,
        message: str,
        snapshot_id: str = "",
    ) -> TargetOutcome:
        """`snapshot_id` set on a failure whose snapshot may exist (a create whose response was
        lost, a snapshot that ended `failed`)."""
        return cls(
            source_id,
            source_type,
            Outcome.FAILED,
            snapshot_id,
            error_code=error_code,
            message=message,
        )

    @property
    def key(self) -> str:
        return f"{self.source_type or 'unknown'}#{self.source_id}"


@dataclass(frozen=True, slots=True)
class Deletion:
    """Prune's result for one expired snapshot: deleted (or would be, in a dry run) or failed."""

    snapshot_id: str
    source: SourceRef
    deleted: bool
    error_code: str = ""
    message: str = ""
    region: str = ""  # a copy's destination region; empty: the home region

    def __post_init__(self) -> None:
        object.__setattr__(self, "error_code", cap_text(self.error_code, 100))
        object.__setattr__(self, "message", cap_text(self.message))


@dataclass(frozen=True, slots=True)
class Quota:
    """Manual snapshot quotas of the account and region, one per snapshot kind."""

    instance: int
    cluster: int

    def for_type(self, source_type: SourceType) -> int:
        return self.instance if source_type is SourceType.INSTANCE else self.cluster
