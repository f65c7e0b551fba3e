"""Is a target due for a new snapshot? Decided from the newest managed snapshot's create time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class DueDecision:
    due: bool
    reason: str


def is_due(
    newest: datetime | None, interval_hours: float, now: datetime, in_progress: bool = False
) -> DueDecision:
    """Due when no managed snapshot exists or the newest is at least `interval_hours` old."""
    if in_progress:
        return DueDecision(False, "not due: a managed snapshot is still being created")
    if newest is None:
        return DueDecision(True, "due: no managed snapshot yet")
    age = now - newest
    if age >= timedelta(hours=interval_hours):
        return DueDecision(True, f"due: newest snapshot {_hours(age)} h old")
    return DueDecision(
        False,
        f"not due: newest snapshot {_hours(age)} h old, interval {interval_hours:g} h",
    )


def _hours(age: timedelta) -> str:
    hours = max(age.total_seconds(), 0) / 3600
    return f"{hours:.0f}" if hours >= 10 else f"{hours:.1f}".removesuffix(".0")
