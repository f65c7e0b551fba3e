"""Check: which of this run's snapshots are still creating, and which became available or failed."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from rds_snapshot_manager import logs
from rds_snapshot_manager.adapters import fault
from rds_snapshot_manager.adapters.ledger import LedgerAdapter
from rds_snapshot_manager.adapters.rds import RdsAdapter
from rds_snapshot_manager.domain.model import Outcome, SnapshotStatus, SourceType, TargetOutcome
from rds_snapshot_manager.services.reconcile import Reconciler, unsettled
from rds_snapshot_manager.services.run import RunContext
from rds_snapshot_manager.settings import Settings

FAILED_STATUSES = frozenset({"failed", "error", "incompatible-restore", "incompatible-parameters"})
KNOWN_STATUSES = frozenset(str(status) for status in SnapshotStatus)
# The note on a snapshot of this run that RDS had not listed when the wait timed out: it stays
# `creating` (the run is PARTIAL), as any snapshot still creating then.
NOT_CONFIRMED = "not confirmed: RDS did not list it before the wait timed out"


@dataclass(frozen=True)
class CheckResult:
    counts: Counter[str]
    timed_out: bool
    work_open: int = 0  # copies and shares not settled yet (D11)

    def summary(self) -> dict[str, Any]:
        creating = self.counts[SnapshotStatus.CREATING]
        waiting = creating + self.work_open
        return {
            "creating": creating,
            "available": self.counts[SnapshotStatus.AVAILABLE],
            "failed": self.counts[SnapshotStatus.FAILED],
            "work": self.work_open,
            "done": waiting == 0 or self.timed_out,
            "timed_out": self.timed_out and waiting > 0,
        }


def classify(rds_status: str | None) -> SnapshotStatus:
    """RDS status to ledger status. A snapshot a describe does not list (yet) is still creating:
    describes are eventually consistent, so only the wait timeout ends the wait for it."""
    if rds_status in FAILED_STATUSES:
        return SnapshotStatus.FAILED
    if rds_status == "available":
        return SnapshotStatus.AVAILABLE
    return SnapshotStatus.CREATING


def _unconfirmed(outcome: TargetOutcome) -> bool:
    """A create that raised (its response may have been lost): the snapshot may exist."""
    return outcome.outcome is Outcome.FAILED and bool(outcome.snapshot_id) and not outcome.status


class CheckService:
    def __init__(
        self,
        settings: Settings,
        rds: RdsAdapter,
        ledger: LedgerAdapter,
        reconciler: Reconciler,
    ) -> None:
        self._settings = settings
        self._rds = rds
        self._ledger = ledger
        self._reconciler = reconciler

    def run(self, ctx: RunContext) -> CheckResult:
        record = self._ledger.read_targets_and_work(ctx.run_id)
        outcomes = record.outcomes
        pending = [
            o
            for o in outcomes
            if (o.outcome is Outcome.CREATED and o.status == SnapshotStatus.CREATING)
            or _unconfirmed(o)
        ]
        statuses = self._statuses(ctx, pending)
        timed_out = (
            ctx.now - ctx.started_at
        ).total_seconds() >= self._settings.wait_timeout_seconds
        settled: dict[str, TargetOutcome] = {}
        for outcome in pending:
            raw = statuses.get(outcome.snapshot_id)
            if _unconfirmed(outcome) and raw is None:
                continue  # not listed: the create's failure stands (a later run sees the truth)
            status = classify(raw)
            if status is SnapshotStatus.CREATING and not _unconfirmed(outcome):
                if timed_out and raw is None and not outcome.reason:  # a member's reason stays
                    settled[outcome.key] = replace(outcome, reason=NOT_CONFIRMED)
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
        # Per snapshot, not per row: a listed cluster member's row shares its cluster's snapshot.
        by_snapshot = {
            o.snapshot_id: counted for o in outcomes if (counted := self._status_of(o)) is not None
        }
        counts: Counter[str] = Counter(by_snapshot.values())
        # The reconcile loop (D11): copies and shares advance on the same polls.
        work = self._reconciler.run(ctx.run_id, record.work, ctx.now)
        if work != record.work:
            self._ledger.write_work(ctx.run_id, work, ctx.now)
        return CheckResult(counts, timed_out=timed_out, work_open=unsettled(work))

    def _statuses(self, ctx: RunContext, pending: list[TargetOutcome]) -> dict[str, str]:
        """Status by snapshot id, one filtered describe per kind. A kind whose describe fails
        (after botocore's retries) is left unknown this time: its snapshots stay as they are and
        the next poll asks again, so one dropped connection does not fail the step."""
        kinds: dict[str, SourceType] = {}
        for outcome in pending:  # a cluster member's row carries its cluster's snapshot id
            if outcome.source_type and kinds.get(outcome.snapshot_id) is not SourceType.CLUSTER:
                kinds[outcome.snapshot_id] = outcome.source_type
        statuses: dict[str, str] = {}
        for kind in SourceType:
            ids = [snapshot_id for snapshot_id, of in kinds.items() if of is kind]
            if not ids:
                continue
            try:
                found = self._rds.snapshots_by_id(kind, ids)
                statuses.update({snapshot_id: s.status for snapshot_id, s in found.items()})
            except Exception as error:  # noqa: BLE001 - any fault: unknown this poll (above)
                code, message = fault(error)
                logs.decision(
                    ctx.run_id,
                    "-",
                    "check",
                    f"describe failed: {code}",
                    level=logging.WARNING,
                    source_type=str(kind),
                    error_message=message,
                )
        return statuses

    @staticmethod
    def _settled(outcome: TargetOutcome, status: SnapshotStatus, raw: str | None) -> TargetOutcome:
        if status is not SnapshotStatus.FAILED:  # found: available, or an unconfirmed create
            return replace(
                outcome, outcome=Outcome.CREATED, status=str(status), error_code="", message=""
            )
        return replace(
            outcome,
            outcome=Outcome.FAILED,
            status=str(status),
            error_code="SnapshotFailed",
            message=f"snapshot {outcome.snapshot_id} ended in status {raw}",
        )

    @staticmethod
    def _status_of(outcome: TargetOutcome) -> str | None:
        """The status a snapshot of this run counts under; None for targets without a snapshot
        (skipped, failed before creating) and for a dry run's."""
        if outcome.outcome is Outcome.FAILED:
            return SnapshotStatus.FAILED if outcome.snapshot_id else None
        return outcome.status if outcome.status in KNOWN_STATUSES else None
