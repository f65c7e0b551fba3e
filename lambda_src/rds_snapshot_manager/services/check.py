"""Check: which of this run's snapshots are still creating, and which became available or failed."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from rds_snapshot_manager import logs
from rds_snapshot_manager.adapters.ledger import TARGET_PREFIX, LedgerAdapter
from rds_snapshot_manager.adapters.rds import RdsAdapter
from rds_snapshot_manager.domain.model import Outcome, SnapshotStatus, SourceType, TargetOutcome
from rds_snapshot_manager.services.run import RunContext
from rds_snapshot_manager.settings import Settings

FAILED_STATUSES = frozenset({"failed", "error", "incompatible-restore", "incompatible-parameters"})
KNOWN_STATUSES = frozenset(str(status) for status in SnapshotStatus)


@dataclass(frozen=True)
class CheckResult:
    counts: Counter[str]
    timed_out: bool

    def summary(self) -> dict[str, Any]:
        creating = self.counts[SnapshotStatus.CREATING]
        return {
            "creating": creating,
            "available": self.counts[SnapshotStatus.AVAILABLE],
            "failed": self.counts[SnapshotStatus.FAILED],
            "done": creating == 0 or self.timed_out,
            "timed_out": self.timed_out and creating > 0,
        }


def classify(rds_status: str | None) -> SnapshotStatus:
    """RDS status to ledger status; a snapshot that vanished while creating counts as failed."""
    if rds_status is None or rds_status in FAILED_STATUSES:
        return SnapshotStatus.FAILED
    if rds_status == "available":
        return SnapshotStatus.AVAILABLE
    return SnapshotStatus.CREATING


class CheckService:
    def __init__(self, settings: Settings, rds: RdsAdapter, ledger: LedgerAdapter) -> None:
        self._settings = settings
        self._rds = rds
        self._ledger = ledger

    def run(self, ctx: RunContext) -> CheckResult:
        outcomes = self._ledger.read_run(ctx.run_id, prefix=TARGET_PREFIX).outcomes
        pending = [
            o
            for o in outcomes
            if o.outcome is Outcome.CREATED and o.status == SnapshotStatus.CREATING
        ]
        statuses: dict[str, str] = {}
        for kind in SourceType:
            ids = [o.snapshot_id for o in pending if o.source_type is kind]
            if ids:
                statuses.update(self._rds.snapshot_statuses(kind, ids))
        settled: dict[str, TargetOutcome] = {}
        for outcome in pending:
            raw = statuses.get(outcome.snapshot_id)
            status = classify(raw)
            if status is SnapshotStatus.CREATING:
                continue
            settled[outcome.key] = self._settled(outcome, status, raw)
            logs.decision(
                ctx.run_id,
                outcome.source_id,
                "check",
                str(status),
                level=logging.WARNING if status is SnapshotStatus.FAILED else logging.INFO,
                snapshot_id=outcome.snapshot_id,
            )
        outcomes = [settled.get(o.key, o) for o in outcomes]
        if settled:
            self._ledger.record_outcomes(
                ctx.run_id,
                outcomes,
                ctx.now,
                changed=settled.values(),
                run_started_at=ctx.started_at,
            )
        counts: Counter[str] = Counter(
            counted for o in outcomes if (counted := self._status_of(o)) is not None
        )
        elapsed = (ctx.now - ctx.started_at).total_seconds()
        return CheckResult(counts, timed_out=elapsed >= self._settings.wait_timeout_seconds)

    @staticmethod
    def _settled(outcome: TargetOutcome, status: SnapshotStatus, raw: str | None) -> TargetOutcome:
        if status is SnapshotStatus.AVAILABLE:
            return replace(outcome, status=str(status))
        message = f"snapshot {outcome.snapshot_id} " + (
            f"ended in status {raw}" if raw else "disappeared while being created"
        )
        return replace(
            outcome,
            outcome=Outcome.FAILED,
            status=str(status),
            error_code="SnapshotFailed",
            message=message,
        )

    @staticmethod
    def _status_of(outcome: TargetOutcome) -> str | None:
        """The status a snapshot of this run counts under; None for targets without a snapshot
        (skipped, failed before creating) and for a dry run's."""
        if outcome.outcome is Outcome.FAILED:
            return SnapshotStatus.FAILED if outcome.snapshot_id else None
        return outcome.status if outcome.status in KNOWN_STATUSES else None
