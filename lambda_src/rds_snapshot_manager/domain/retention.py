"""Which snapshots Prune deletes. Pure, so hypothesis can prove the invariants."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rds_snapshot_manager.domain.model import Snapshot, SnapshotStatus, SourceRef
from rds_snapshot_manager.domain.naming import is_ours

_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    managed_by: str  # the deployment's name: the ManagedBy tag value and the ownership prefix's
    retention_days: float
    min_to_keep: int


@dataclass(frozen=True, slots=True)
class Selection:
    expired: list[Snapshot]
    kept: int


def select_expired(
    snapshots: Iterable[Snapshot], policy: RetentionPolicy, now: datetime
) -> Selection:
    """Deletable = ours (`naming.is_ours`: prefix AND ManagedBy; the listing holds manual
    snapshots only) and either
    - `failed`: whatever its age, since it is no backup and only fills the quota; or
    - `available`, older than the retention, and not among the newest `min_to_keep` available
      snapshots of ours of its database (failed ones never count towards those).

    Anything else (other deployments', a person's copies, older versions' un-prefixed ones,
    still creating, no create time) is kept.
    """
    cutoff = now - timedelta(days=policy.retention_days)
    by_source: dict[SourceRef, list[Snapshot]] = defaultdict(list)
    expired: list[Snapshot] = []
    kept = 0
    for snapshot in snapshots:
        if not is_ours(snapshot, policy.managed_by):
            kept += 1
        elif snapshot.status == SnapshotStatus.FAILED:
            expired.append(snapshot)
        elif snapshot.status == SnapshotStatus.AVAILABLE and snapshot.created_at is not None:
            by_source[snapshot.source].append(snapshot)
        else:
            kept += 1
    for group in by_source.values():
        group.sort(key=lambda s: (s.created_at or _OLDEST, s.snapshot_id), reverse=True)
        protected, candidates = group[: policy.min_to_keep], group[policy.min_to_keep :]
        kept += len(protected)
        for snapshot in candidates:
            if snapshot.created_at is not None and snapshot.created_at < cutoff:
                expired.append(snapshot)
            else:
                kept += 1
    expired.sort(key=lambda s: (s.source, s.snapshot_id))
    return Selection(expired, kept)
