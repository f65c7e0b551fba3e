"""Prune: delete expired snapshots this deployment made, never anything else."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rds_snapshot_manager import logs
from rds_snapshot_manager.adapters import fault
from rds_snapshot_manager.adapters.ledger import LeaseState, LedgerAdapter
from rds_snapshot_manager.adapters.rds import RdsAdapter
from rds_snapshot_manager.domain.model import Deletion, Snapshot, SourceType
from rds_snapshot_manager.domain.naming import is_our_copy, is_our_share_copy, is_ours
from rds_snapshot_manager.domain.retention import RetentionPolicy, Selection, select_expired
from rds_snapshot_manager.services.concurrency import run_bounded
from rds_snapshot_manager.services.restore import RestoreService
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


def plan_home_prune(
    managed: Sequence[Snapshot],
    share_copies: Iterable[Snapshot],
    settings: Settings,
    now: datetime,
) -> Selection:
    """The home region's selection: ours by the retention rule, plus each re-encrypted share
    copy (D8) whose original is selected, or gone (a share copy left by a failed deletion)."""
    selection = select_expired(managed, retention_policy(settings), now)
    expired = {s.snapshot_id for s in selection.expired}
    live = {s.snapshot_id for s in managed}
    kept = 0
    for copy in share_copies:
        if copy.share_copy_of in expired or copy.share_copy_of not in live:
            selection.expired.append(copy)
        else:
            kept += 1
    return Selection(selection.expired, selection.kept + kept)


def plan_region_prune(copies: Iterable[Snapshot], settings: Settings, now: datetime) -> Selection:
    """A destination region's selection: our copies there (ours-as-copy, D8), by the region's
    retention_days, else the home rule (retention_days, or the retention_policy tiers when set),
    and min_snapshots_to_keep. `select_expired` applies the home ownership rule, which a copy
    passes once its `CopySourceRegion` (already proven ours by `is_our_copy`) is set aside."""
    return select_expired(
        [replace(copy, copy_source_region=None) for copy in copies],
        retention_policy(settings),
        now,
    )


class PruneService:
    def __init__(
        self,
        settings: Settings,
        rds: RdsAdapter,
        ledger: LedgerAdapter,
        rds_in: Callable[[str], RdsAdapter],
        restore: RestoreService,
    ) -> None:
        self._settings = settings
        self._rds = rds
        self._ledger = ledger
        self._rds_in = rds_in
        self._restore = restore

    def run(self, ctx: RunContext) -> PruneResult:
        # Leftover restore-test databases are swept in every run while restore tests are on
        # (daily backups find an execution that timed out long before the next weekly test).
        self._restore.sweep(ctx)
        if ctx.restore_test:
            return PruneResult([], 0, 0)  # a restore-test run deletes no snapshot
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
        work: list[tuple[str, Snapshot]] = [("", s) for s in plan.expired]
        kept = plan.kept
        for region in self._settings.copy_to_regions:  # one listing pass per destination
            selection = self._region_plan(ctx, region.region, region.retention_days)
            work += [(region.region, s) for s in selection.expired]
            kept += selection.kept
        batch = run_bounded(
            lambda job: self._delete(ctx, *job),
            work,
            self._settings.max_concurrency,
            on_error=lambda job, error: Deletion(
                job[1].snapshot_id, job[1].source, False, *fault(error), region=job[0]
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
        return PruneResult(batch.results, kept, batch.max_in_flight, ctx.dry_run)

    def _plan(self, ctx: RunContext) -> Selection:
        name = self._settings.name
        # Only this deployment's snapshots are kept in memory: slim records, one pass per kind.
        # A targets-limited run prunes only the databases it names (their clusters' snapshots,
        # for a named cluster member, only when Create planned: it resolved the membership); a
        # share copy carries its original's SourceId/SourceType (D8).
        listed = [
            snapshot
            for kind in SourceType
            for snapshot in self._rds.manual_snapshots(kind)
            if ctx.targets is None or ctx.targets.names(snapshot.source)
        ]
        return plan_home_prune(
            [s for s in listed if is_ours(s, name)],
            [s for s in listed if is_our_share_copy(s, name)],
            self._settings,
            ctx.now,
        )

    def _region_plan(self, ctx: RunContext, region: str, days: float | None) -> Selection:
        settings = self._settings
        if days is not None:  # the region's own days replace the home rule, tiers included
            settings = replace(settings, retention_days=days, retention_policy=None)
        try:
            copies = [
                s
                for kind in SourceType
                for s in self._rds_in(region).manual_snapshots(kind)
                if is_our_copy(s, settings.name, settings.home_region)
                # a targets-limited run prunes only the copies of the databases it names
                and (ctx.targets is None or ctx.targets.names(s.source))
            ]
        except Exception as error:  # noqa: BLE001 - that region waits for the next run
            code, message = fault(error)
            logs.decision(ctx.run_id, "-", "prune", f"listing {region} failed: {code}",
                          level=logging.WARNING, region=region, error_message=message)  # fmt: skip
            return Selection([], 0)
        return plan_region_prune(copies, settings, ctx.now)

    def _delete(self, ctx: RunContext, region: str, snapshot: Snapshot) -> Deletion:
        if ctx.dry_run:
            return Deletion(snapshot.snapshot_id, snapshot.source, True, region=region)
        settings = self._settings
        shares = region == "" or any(
            r.region == region and r.share for r in settings.copy_to_regions
        )
        rds = self._rds_in(region) if region else self._rds
        deletion = rds.delete_snapshot(
            snapshot, unshare=settings.share_with_account_ids if shares else ()
        )
        return replace(deletion, region=region)
