"""Prune: delete expired snapshots this deployment made, never anything else."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from rds_snapshot_manager import logs
from rds_snapshot_manager.adapters import fault
from rds_snapshot_manager.adapters.ledger import LeaseState, LedgerAdapter
from rds_snapshot_manager.adapters.rds import RdsAdapter
from rds_snapshot_manager.domain.model import Deletion, Snapshot, SourceType
from rds_snapshot_manager.domain.naming import is_ours
from rds_snapshot_manager.domain.retention import RetentionPolicy, Selection, select_expired
from rds_snapshot_manager.services.concurrency import run_bounded
from rds_snapshot_manager.services.run import RunContext
from rds_snapshot_manager.settings import Settings


@dataclass(frozen=True)
class PruneResult:
    deletions: list[Deletion]
    kept: int
    max_in_flight: int

    dry_run: bool = False

    def summary(self) -> dict[str, Any]:
        deleted = sum(1 for d in self.deletions if d.deleted)
        # A dry run deletes nothing: what it would delete is counted apart (`would_delete`).
        counted = "would_delete" if self.dry_run else "deleted"
        return {
            "deleted": 0,
            counted: deleted,
            "failed": len(self.deletions) - deleted,
            "kept": self.kept,
        }


def retention_policy(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        managed_by=settings.name,
        retention_days=settings.retention_days,
        min_to_keep=settings.min_snapshots_to_keep,
        tiers=settings.retention_policy,
    )


class PruneService:
    def __init__(self, settings: Settings, rds: RdsAdapter, ledger: LedgerAdapter) -> None:
        self._settings = settings
        self._rds = rds
        self._ledger = ledger

    def run(self, ctx: RunContext) -> PruneResult:
        if not self._settings.delete_old_snapshots:
            logs.decision(ctx.run_id, "-", "prune", "disabled by delete_old_snapshots")
            return PruneResult([], 0, 0)
        record = self._ledger.read_plan_and_lease(ctx.run_id)
        if record.lease not in (LeaseState.HELD, LeaseState.NOT_NEEDED):
            # Another run held the lease (or no Create of this version started the run): this
            # run deletes nothing, and does not list or select either.
            logs.decision(
                ctx.run_id, "-", "prune", "skipped: this run does not hold the lease",
                lease=str(record.lease) or "none", holder=record.lease_holder,
            )  # fmt: skip
            return PruneResult([], 0, 0)
        plan = record.prune_plan
        if plan is None:  # Create planned nothing (e.g. deletion switched on mid-run): select here
            plan = self._plan(ctx)
        batch = run_bounded(
            lambda snapshot: self._delete(ctx, snapshot),
            plan.expired,
            self._settings.max_concurrency,
            on_error=lambda snapshot, error: Deletion(
                snapshot.snapshot_id, snapshot.source, False, *fault(error)
            ),
        )
        for deletion in batch.results:
            logs.decision(
                ctx.run_id,
                deletion.source.source_id,
                "prune",
                "deleted" if deletion.deleted else f"failed: {deletion.error_code}",
                level=logging.INFO if deletion.deleted else logging.WARNING,
                snapshot_id=deletion.snapshot_id,
                dry_run=ctx.dry_run,
                error_message=deletion.message,
            )
        self._ledger.record_deletions(ctx.run_id, batch.results, ctx.now, dry_run=ctx.dry_run)
        return PruneResult(batch.results, plan.kept, batch.max_in_flight, ctx.dry_run)

    def _plan(self, ctx: RunContext) -> Selection:
        policy = retention_policy(self._settings)
        # Only this deployment's snapshots are kept in memory: slim records, one pass per kind.
        # A targets-limited run prunes only the databases it names (their clusters' snapshots,
        # for a named cluster member, only when Create planned: it resolved the membership).
        managed = [
            snapshot
            for kind in SourceType
            for snapshot in self._rds.manual_snapshots(kind)
            if is_ours(snapshot, policy.managed_by)
            and (ctx.targets is None or ctx.targets.names(snapshot.source))
        ]
        return select_expired(managed, policy, ctx.now)

    def _delete(self, ctx: RunContext, snapshot: Snapshot) -> Deletion:
        if ctx.dry_run:
            return Deletion(snapshot.snapshot_id, snapshot.source, True)
        return self._rds.delete_snapshot(snapshot)
