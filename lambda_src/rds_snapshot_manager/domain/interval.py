"""Is a target due for a new snapshot? Decided on the run's clock, with a tolerance for the
scheduler's lag and jitter (docs/ARCHITECTURE.md, "When is a database due?").

Every time compared here is a *run* time where one exists: the execution's start (`now`) against
the start of the run that made the newest snapshot (its `RunStartedAt` tag). So how long a create
took, or how long after the trigger the snapshot got its `SnapshotCreateTime`, never moves the
next due time; only the scheduler's lag does, and the tolerance absorbs that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# A run on schedule is at most (lag + early trigger) late relative to the previous one: EventBridge
# lag of up to ~15 min and early triggers of up to a minute. One third of the interval covers that
# for an hourly schedule (20 min > 16 min) and still refuses a second snapshot to a run that comes
# within two thirds of the interval (a duplicate delivery, a manual start). The cap keeps the
# tolerance below an hour, so a schedule that runs hourly with a longer interval takes its
# snapshot at the run one interval later (not an hour early each time: the period does not drift).
TOLERANCE_FRACTION = 1 / 3
TOLERANCE_CAP = timedelta(minutes=30)
# A snapshot still `creating` blocks its database for the wait timeout plus this margin (the
# execution timeout adds an hour to the wait, D5); after that it no longer blocks a new snapshot.
IN_PROGRESS_MARGIN = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class DueDecision:
    due: bool
    reason: str


def tolerance(interval_hours: float) -> timedelta:
    """How much younger than the interval the newest snapshot may be and still be due."""
    return min(timedelta(hours=interval_hours) * TOLERANCE_FRACTION, TOLERANCE_CAP)


def backup_time(created_at: datetime | None, run_started_at: datetime | None) -> datetime | None:
    """The time a managed snapshot counts from: the start of the run that made it (its
    `RunStartedAt` tag) or, for snapshots without the tag (older versions), its create time;
    the earlier of the two when both are known (a tag can never push the time forward)."""
    known = [time for time in (created_at, run_started_at) if time is not None]
    return min(known) if known else None


def still_blocks(started: datetime | None, now: datetime, wait_timeout_seconds: float) -> bool:
    """Whether a managed snapshot still `creating` keeps its database from a new snapshot: only
    for the wait timeout plus a margin after its run started, and never without a known time."""
    if started is None:
        return False
    return now - started < timedelta(seconds=wait_timeout_seconds) + IN_PROGRESS_MARGIN


def is_due(
    newest: datetime | None, interval_hours: float, now: datetime, in_progress: bool = False
) -> DueDecision:
    """Due when no managed snapshot exists or the newest is at least `interval_hours` minus
    `tolerance(interval_hours)` old. `now` is the run's start, `newest` a `backup_time`."""
    if in_progress:
        return DueDecision(False, "not due: a managed snapshot is still being created")
    if newest is None:
        return DueDecision(True, "due: no managed snapshot yet")
    age = now - newest
    if age >= timedelta(hours=interval_hours) - tolerance(interval_hours):
        return DueDecision(True, f"due: newest snapshot {_hours(age)} h old")
    return DueDecision(
        False,
        f"not due: newest snapshot {_hours(age)} h old, interval {interval_hours:g} h",
    )


def _hours(age: timedelta) -> str:
    hours = max(age.total_seconds(), 0) / 3600
    return f"{hours:.0f}" if hours >= 10 else f"{hours:.1f}".removesuffix(".0")
