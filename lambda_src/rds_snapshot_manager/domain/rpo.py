"""RPO and storage: how old each target's newest available managed snapshot is, whether that
breaches the recovery point objective, and what the managed snapshots hold (docs/ARCHITECTURE.md,
"RPO"). Pure: the figures come from Create's one listing, so they cost no API call."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rds_snapshot_manager.domain.model import Outcome, SnapshotStatus, TargetOutcome

MAX_RPO_HOURS = 87_600.0  # ten years, the module's bound
# USD per GiB-month of RDS backup storage beyond the free allowance (us-east-1; D6). An upper
# bound for our snapshots: see STORAGE_NOTE.
DEFAULT_PRICE_PER_GIB_MONTH = 0.095
STORAGE_NOTE = (
    "upper bound: the allocated GiB of the targets' managed snapshots, as listed at the start of "
    "the run, times price_per_gib_month. RDS snapshots are incremental (only changed blocks are "
    "stored, and backup storage up to the size of the databases is free), so the allocated size "
    "overstates them; Aurora cluster snapshots report no meaningful allocated size"
)


def default_rpo_hours(backup_interval_hours: float, wait_timeout_seconds: float) -> float:
    """The module's default `rpo_hours`: one interval, plus the longest a run may wait for its
    snapshot, plus an hour for the scheduler's lag."""
    return backup_interval_hours + wait_timeout_seconds / 3600 + 1


@dataclass(frozen=True, slots=True)
class Assurance:
    """What the report needs to judge RPO and price storage."""

    run_started_at: datetime
    rpo_hours: float
    price_per_gib_month: float


def newest_age_hours(outcome: TargetOutcome, run_started_at: datetime) -> float | None:
    """Hours from the backup time of the target's newest available managed snapshot (its
    `RunStartedAt`, else its create time: the interval rule's clock) to this run's start; 0.0
    when this run's own snapshot is available (Check saw it); None when it has none available,
    or was not measured."""
    if outcome.outcome is Outcome.CREATED and outcome.status == SnapshotStatus.AVAILABLE:
        return 0.0
    if outcome.backups is None or outcome.backups.newest_at is None:
        return None
    seconds = (run_started_at - outcome.backups.newest_at).total_seconds()
    return round(max(seconds, 0.0) / 3600, 2)


def rpo_breached(outcome: TargetOutcome, age_hours: float | None, rpo_hours: float) -> bool:
    """Older than the RPO, or no available managed snapshot at all, whatever the run did with
    the target (skipped, failed, forbidden state, or a first snapshot still creating when the
    wait ended). A target that was not measured (not a database, or a row written by an older
    version) never breaches."""
    if age_hours is None:
        return outcome.backups is not None
    return age_hours > rpo_hours


def rpo_fields(outcome: TargetOutcome, assurance: Assurance) -> dict[str, Any]:
    """The per-target report fields (D9)."""
    age = newest_age_hours(outcome, assurance.run_started_at)
    backups = outcome.backups
    return {
        "newest_snapshot_age_hours": age,
        "rpo_breached": rpo_breached(outcome, age, assurance.rpo_hours),
        "managed_snapshot_count": backups.count if backups else None,
        "managed_snapshot_gib": round(backups.gib, 2) if backups else None,
    }


def storage(outcomes: Iterable[TargetOutcome], price_per_gib_month: float) -> dict[str, Any]:
    """The report's top-level `storage` (D9): the sum over the run's targets (a cluster member's
    row counts none: its snapshots are its cluster's)."""
    measured = [o.backups for o in outcomes if o.backups is not None]
    gib = round(sum(b.gib for b in measured), 2)
    return {
        "snapshot_count": sum(b.count for b in measured),
        "allocated_gib": gib,
        "estimated_monthly_cost_usd": round(gib * price_per_gib_month, 2),
        "price_per_gib_month": price_per_gib_month,
        "note": STORAGE_NOTE,
    }
