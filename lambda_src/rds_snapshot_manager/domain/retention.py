"""Which snapshots Prune deletes. Pure, so hypothesis can prove the invariants."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

from rds_snapshot_manager.domain.interval import backup_time
from rds_snapshot_manager.domain.model import Snapshot, SnapshotStatus, SourceRef
from rds_snapshot_manager.domain.naming import is_ours

_OLDEST = datetime.min.replace(tzinfo=UTC)
# The largest count a tier accepts (Terraform's retention_policy validation says the same).
MAX_TIER_COUNT = 1000


@dataclass(frozen=True, slots=True)
class Tiers:
    """Grandfather-father-son retention (shelvery's semantics): for each tier, the newest snapshot
    in each of the `n` most recent periods that have one is kept. Periods are UTC calendar days,
    ISO 8601 weeks (Monday to Sunday; 2026-12-31 and 2027-01-01 are both in 2026-W53), calendar
    months and calendar years. A count of 0 switches its tier off."""

    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0

    def __post_init__(self) -> None:
        counts = {tier.name: getattr(self, tier.name) for tier in fields(self)}
        if any(type(n) is not int or not 0 <= n <= MAX_TIER_COUNT for n in counts.values()):
            raise ValueError(f"tier counts must be whole numbers from 0 to 1000; got {counts}")
        if not any(counts.values()):
            raise ValueError("at least one tier count must be greater than 0")


# The period each tier groups by: snapshots whose backup times map to equal keys share a period.
PERIODS: dict[str, Callable[[datetime], tuple[int, ...]]] = {
    "daily": lambda t: (t.year, t.month, t.day),
    "weekly": lambda t: tuple(t.isocalendar())[:2],
    "monthly": lambda t: (t.year, t.month),
    "yearly": lambda t: (t.year,),
}


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    managed_by: str  # the deployment's name: the ManagedBy tag value and the ownership prefix's
    retention_days: float
    min_to_keep: int
    tiers: Tiers | None = None  # when set, replaces retention_days (module input retention_policy)


@dataclass(frozen=True, slots=True)
class Selection:
    expired: list[Snapshot]
    kept: int


def kept_by_tiers(group: Sequence[Snapshot], tiers: Tiers) -> set[str]:
    """The ids the tiers keep among one database's available snapshots (each with a create time).

    A snapshot's period is taken from its backup time (`interval.backup_time`: the start of the
    run that made it, else its create time) in UTC, so a run that starts at 23:59:50 and whose
    snapshot RDS stamps at 00:00:05 counts for the day the run started.
    """
    newest_first = sorted(
        group, key=lambda s: (_backup_time(s).astimezone(UTC), s.snapshot_id), reverse=True
    )
    kept: set[str] = set()
    for tier, period_of in PERIODS.items():
        count = getattr(tiers, tier)
        periods: set[tuple[int, ...]] = set()
        for snapshot in newest_first:
            if len(periods) == count:
                break
            period = period_of(_backup_time(snapshot).astimezone(UTC))
            if period not in periods:  # the first one met in a period is its newest
                periods.add(period)
                kept.add(snapshot.snapshot_id)
    return kept


def select_expired(
    snapshots: Iterable[Snapshot], policy: RetentionPolicy, now: datetime
) -> Selection:
    """Deletable = ours (`naming.is_ours`: prefix AND ManagedBy; the listing holds manual
    snapshots only) and either
    - `failed`: whatever its age, since it is no backup and only fills the quota; or
    - `available`, not among the newest `min_to_keep` available snapshots of ours of its database
      (failed ones never count towards those), and
      - without tiers: older than the retention;
      - with tiers: kept by no tier (`kept_by_tiers`); `retention_days` then plays no part.

    Anything else (other deployments', a person's copies, older versions' un-prefixed ones,
    still creating, no create time) is kept. Nothing here depends on the region: the same
    selection serves copies in other regions.
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
        tier_kept = kept_by_tiers(group, policy.tiers) if policy.tiers else None
        kept += len(protected)
        for snapshot in candidates:
            if tier_kept is None:
                goes = snapshot.created_at is not None and snapshot.created_at < cutoff
            else:
                goes = snapshot.snapshot_id not in tier_kept
            if goes:
                expired.append(snapshot)
            else:
                kept += 1
    expired.sort(key=lambda s: (s.source, s.snapshot_id))
    return Selection(expired, kept)


def _backup_time(snapshot: Snapshot) -> datetime:
    return backup_time(snapshot.created_at, snapshot.run_started_at) or _OLDEST
