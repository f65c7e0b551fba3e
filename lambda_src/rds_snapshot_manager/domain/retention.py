"""Which managed snapshots Prune deletes. Pure, so hypothesis can prove the invariants."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rds_snapshot_manager.domain.model import Snapshot, SourceRef

_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    managed_by: str
    retention_days: float
    min_to_keep: int


@dataclass(frozen=True, slots=True)
class Selection:
    expired: list[Snapshot]
    kept: int


def select_expired(
    snapshots: Iterable[Snapshot], policy: RetentionPolicy, now: datetime
) -> Selection:
    """Deletable = managed by this deployment, `available`, older than the retention, and not
    among the newest `min_to_keep` available managed snapshots of its database.

    Anything else (other deployments', untagged, still creating, no create time) is kept.
    """
    cutoff = now - timedelta(days=policy.retention_days)
    by_source: dict[SourceRef, list[Snapshot]] = defaultdict(list)
    kept = 0
    for snapshot in snapshots:
        if (
            snapshot.managed_by == policy.managed_by
            and snapshot.status == "available"
            and snapshot.created_at is not None
        ):
            by_source[snapshot.source].append(snapshot)
        else:
            kept += 1
    expired: list[Snapshot] = []
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
