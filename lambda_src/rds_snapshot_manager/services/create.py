"""Create: resolve targets, decide who is due, respect the quota, snapshot concurrently.

Its one listing of the manual snapshots also plans Prune (recorded in the ledger), so a cycle
lists every snapshot once, not twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rds_snapshot_manager import logs
from rds_snapshot_manager.adapters import fault
from rds_snapshot_manager.adapters.ledger import LedgerAdapter
from rds_snapshot_manager.adapters.rds import (
    TAG_MANAGED_BY,
    TAG_RUN_ID,
    TAG_RUN_REASON,
    TAG_RUN_STARTED_AT,
    RdsAdapter,
    tag_time,
)
from rds_snapshot_manager.adapters.targets_file import TargetsFile, TargetsFileError
from rds_snapshot_manager.domain.interval import backup_time, is_due, still_blocks
from rds_snapshot_manager.domain.model import (
    DRY_RUN_STATUS,
    Backups,
    Database,
    Outcome,
    Quota,
    Snapshot,
    SourceRef,
    SourceType,
    TargetOutcome,
)
from rds_snapshot_manager.domain.naming import is_our_share_copy, is_ours, snapshot_id
from rds_snapshot_manager.domain.targets import (
    Resolution,
    TargetRequest,
    covered_member,
    forbidden_state_reason,
    limit_to,
    resolve_targets,
)
from rds_snapshot_manager.domain.work import carry_over, plan_work
from rds_snapshot_manager.services.concurrency import run_bounded
from rds_snapshot_manager.services.prune import plan_home_prune
from rds_snapshot_manager.services.run import RunContext
from rds_snapshot_manager.settings import Settings

# The lease lasts as long as an execution can (the state machine's timeout is the wait timeout
# plus 3,600 s), plus 300 s: a crashed run blocks the next one no longer than that.
LEASE_BEYOND_WAIT_SECONDS = 3600 + 300


def _key(ref: SourceRef) -> SourceRef:
    """RDS ids are case-insensitive: a target and its snapshots' source meet in lowercase."""
    return SourceRef(ref.source_type, ref.source_id.lower())


@dataclass
class Inventory:
    """What Create needs from the existing manual snapshots, without keeping them in memory."""

    counts: dict[SourceType, int] = field(default_factory=lambda: dict.fromkeys(SourceType, 0))
    newest: dict[SourceRef, datetime] = field(default_factory=dict)  # by _key
    in_progress: set[SourceRef] = field(default_factory=set)
    this_run: dict[SourceRef, tuple[str, str]] = field(default_factory=dict)
    managed: list[Snapshot] = field(default_factory=list)  # kept only to plan Prune
    share_copies: list[Snapshot] = field(default_factory=list)  # deleted with their originals
    held: dict[SourceRef, tuple[int, float]] = field(default_factory=dict)  # by _key: count, GiB

    def backups(self, ref: SourceRef) -> Backups:
        """The target's managed snapshots as listed (RPO and storage, docs/ARCHITECTURE.md)."""
        count, gib = self.held.get(_key(ref), (0, 0.0))
        return Backups(self.newest.get(_key(ref)), count, gib)


@dataclass(frozen=True)
class CreateResult:
    outcomes: list[TargetOutcome]
    dry_run: bool
    max_in_flight: int

    def summary(self) -> dict[str, Any]:
        counts = dict.fromkeys(Outcome, 0)
        for outcome in self.outcomes:
            counts[outcome.outcome] += 1
        # A dry run creates nothing: what it would create is counted apart (`would_create`).
        created = "would_create" if self.dry_run else "created"
        return {
            "created": 0,
            created: counts[Outcome.CREATED],
            "skipped": counts[Outcome.SKIPPED],
            "failed": counts[Outcome.FAILED],
            "dry_run": self.dry_run,
        }


class CreateService:
    def __init__(
        self,
        settings: Settings,
        rds: RdsAdapter,
        ledger: LedgerAdapter,
        targets_file: TargetsFile | None,
    ) -> None:
        self._settings = settings
        self._rds = rds
        self._ledger = ledger
        self._targets_file = targets_file

    def run(self, ctx: RunContext) -> CreateResult:
        settings = self._settings
        # One run at a time (D5): a dry run changes nothing, so it neither needs nor blocks one.
        lease = (
            None
            if ctx.dry_run
            else self._ledger.acquire_lease(
                ctx.run_id, ctx.now, settings.wait_timeout_seconds + LEASE_BEYOND_WAIT_SECONDS
            )
        )
        started_at = ctx.started_at.isoformat()
        if not self._ledger.start_run(ctx.run_id, started_at, ctx.dry_run, ctx.now, lease):
            logs.decision(ctx.run_id, "-", "create", "retry of a started run")
        if lease is not None and not lease.held:
            logs.decision(
                ctx.run_id, "-", "create", "skipped: another run holds the lease",
                holder=lease.holder, lease_until=lease.until,
            )  # fmt: skip
            return CreateResult([], ctx.dry_run, 0)
        if ctx.on_demand is not None:
            logs.decision(ctx.run_id, "-", "create", "on-demand run", **ctx.on_demand.summary())
        listed, file_failures = self._listed_ids()
        resolution = self.resolve(listed)
        if ctx.targets is not None:  # an on-demand run for some of the deployment's databases
            resolution = limit_to(resolution, ctx.targets)
        outcomes = file_failures + resolution.failed
        # Prune needs every kind listed; without it, only the kinds of this run's targets (the
        # failed ones too: a database gone missing still has an RPO, from its snapshots).
        plan_prune = settings.delete_old_snapshots
        kinds = (
            set(SourceType)
            if plan_prune
            else {t.ref.source_type for t in resolution.targets}
            | {o.source_type for o in resolution.failed if o.source_type is not None}
        )
        inventory = self._inventory(ctx, kinds, keep_managed=plan_prune)
        if plan_prune:
            managed, share_copies = inventory.managed, inventory.share_copies
            if ctx.targets is not None:  # a targets-limited run prunes only those targets
                scope = {target.ref for target in resolution.targets}
                managed = [snapshot for snapshot in managed if snapshot.source in scope]
                # their share copies only: another target's copy is not an orphan
                share_copies = [copy for copy in share_copies if copy.source in scope]
            selection = plan_home_prune(managed, share_copies, settings, ctx.now)
            inventory.managed, inventory.share_copies = [], []
            self._ledger.record_prune_plan(ctx.run_id, selection, ctx.now)
        quota = self._quota(ctx) if resolution.targets else None
        due: list[SourceRef] = []
        for target in resolution.targets:
            decided = self._decide(ctx, target, inventory)
            if decided is None:
                due.append(target.ref)
            else:
                outcomes.append(decided)
        allowed, over_quota = self._within_quota(due, inventory, quota)
        outcomes += over_quota
        batch = run_bounded(
            lambda ref: self._create(ctx, ref),
            allowed,
            settings.max_concurrency,
            on_error=lambda ref, error: self._unconfirmed(ctx, ref, error),
        )
        outcomes = self._as_requested(
            [
                replace(o, backups=inventory.backups(SourceRef(o.source_type, o.source_id)))
                if o.source_type is not None
                else o
                for o in outcomes + batch.results
            ],
            resolution,
        )
        for outcome in outcomes:
            self._log(ctx, outcome)
        self._ledger.record_outcomes(
            ctx.run_id, outcomes, ctx.now, changed=outcomes, run_started_at=ctx.started_at
        )
        if settings.dr_policy.enabled and not ctx.dry_run:
            self._plan_work(ctx, outcomes)
        return CreateResult(outcomes, ctx.dry_run, batch.max_in_flight)

    def _plan_work(self, ctx: RunContext, outcomes: list[TargetOutcome]) -> None:
        """The run's work rows (D11): copies and shares of each snapshot it made (or a retry of
        it confirmed), plus the previous run's unfinished rows, carried over."""
        new: dict[str, SourceRef] = {}
        for o in outcomes:  # a listed cluster member's row carries its cluster's snapshot id
            if o.outcome is not Outcome.CREATED or o.source_type is None:
                continue
            if o.snapshot_id not in new or o.source_type is SourceType.CLUSTER:
                new[o.snapshot_id] = SourceRef(o.source_type, o.source_id)
        policy = self._settings.dr_policy
        rows = plan_work(new.items(), policy, ctx.started_at)
        previous = self._ledger.previous_run(ctx.run_id, ctx.started_at.isoformat())
        if previous is not None:
            settings = self._settings
            home_days = None if settings.retention_policy else settings.retention_days
            rows += carry_over(self._ledger.work(previous), previous, policy, home_days, ctx.now)
        self._ledger.write_work(ctx.run_id, rows, ctx.now)
        logs.decision(ctx.run_id, "-", "create", "work planned", rows=len(rows),
                      carried_from=previous or "")  # fmt: skip

    @staticmethod
    def _as_requested(outcomes: list[TargetOutcome], resolution: Resolution) -> list[TargetOutcome]:
        """Each target under the id the user gave (RDS answers in lowercase), plus one outcome
        per listed cluster member, pointing at its cluster's. A member's RPO is its cluster's;
        its storage is counted once, on the cluster's row."""
        by_ref = {
            SourceRef(o.source_type, o.source_id): o for o in outcomes if o.source_type is not None
        }
        members = [
            covered_member(member, by_ref[member.cluster], resolution.shown_id(member.cluster))
            for member in resolution.members
            if member.cluster in by_ref
        ]
        return [resolution.shown(o) for o in outcomes] + [
            replace(m, backups=replace(m.backups, count=0, gib=0.0)) if m.backups else m
            for m in members
        ]

    def resolve(self, listed: list[str] | None = None) -> Resolution:
        """The deployment's targets: its lists, its selection tags and its list file (`listed`:
        the file's ids when already read). Restore tests choose among them too."""
        settings = self._settings
        if listed is None:
            listed = self._listed_ids()[0]
        return resolve_targets(
            TargetRequest(
                instance_ids=settings.db_instance_identifiers,
                cluster_ids=settings.db_cluster_identifiers,
                listed_ids=tuple(listed),
                selection_tags=settings.selection_tags,
            ),
            self._rds.instances(),
            self._rds.clusters(),
        )

    def _listed_ids(self) -> tuple[list[str], list[TargetOutcome]]:
        if self._targets_file is None:
            return [], []
        try:
            return self._targets_file.read_ids(), []
        except TargetsFileError as error:
            failure = TargetOutcome.failed(error.location, None, error.code, error.message)
            return [], [failure]

    def _inventory(
        self, ctx: RunContext, kinds: Iterable[SourceType], keep_managed: bool
    ) -> Inventory:
        """One paginated pass over the manual snapshots of each kind needed, keeping aggregates
        (and slim records of this deployment's snapshots when Prune is to be planned)."""
        inventory = Inventory()
        for kind in kinds:
            for snapshot in self._rds.manual_snapshots(kind):
                inventory.counts[kind] += 1
                if not is_ours(snapshot, self._settings.name):
                    if keep_managed and is_our_share_copy(snapshot, self._settings.name):
                        inventory.share_copies.append(snapshot)
                    continue  # a person's copy or an older version's snapshot is no backup of ours
                if keep_managed:
                    inventory.managed.append(snapshot)
                source = snapshot.source
                if snapshot.run_id == ctx.run_id:
                    inventory.this_run[source] = (snapshot.snapshot_id, snapshot.status)
                    continue  # a retried Create: storage is counted as before this run made it
                count, gib = inventory.held.get(_key(source), (0, 0.0))
                inventory.held[_key(source)] = (count + 1, gib + snapshot.allocated_gib)
                counted = backup_time(snapshot.created_at, snapshot.run_started_at)
                if snapshot.status == "available":
                    newest = inventory.newest.get(_key(source))
                    if counted is not None and (newest is None or counted > newest):
                        inventory.newest[_key(source)] = counted
                elif snapshot.status == "creating" and still_blocks(
                    counted, ctx.started_at, self._settings.wait_timeout_seconds
                ):
                    inventory.in_progress.add(source)
                # Anything else (failed, deleting, ...) is no backup and blocks nothing.
        return inventory

    def _quota(self, ctx: RunContext) -> Quota:
        if ctx.quota_override is not None:
            return Quota(ctx.quota_override, ctx.quota_override)
        fallback = self._settings.manual_snapshot_quota
        return self._rds.quota() or Quota(fallback, fallback)

    def _decide(
        self, ctx: RunContext, target: Database, inventory: Inventory
    ) -> TargetOutcome | None:
        """The outcome of a target that is not to be snapshotted now, or None when it is due."""
        ref = target.ref
        if ref in inventory.this_run:  # a retried Create meets the snapshot it already made
            existing_id, status = inventory.this_run[ref]
            return TargetOutcome.created(ref, existing_id, status)
        reason = forbidden_state_reason(target)
        if reason:
            return TargetOutcome.skipped(ref, reason)
        if ctx.force and ref not in inventory.in_progress:
            return None  # an on-demand `force`: now, whatever the interval
        decision = is_due(
            inventory.newest.get(_key(ref)),
            self._settings.backup_interval_hours,
            ctx.started_at,  # the run's clock: a retried Create decides as the first attempt
            in_progress=ref in inventory.in_progress,
        )
        return None if decision.due else TargetOutcome.skipped(ref, decision.reason)

    @staticmethod
    def _within_quota(
        due: list[SourceRef], inventory: Inventory, quota: Quota | None
    ) -> tuple[list[SourceRef], list[TargetOutcome]]:
        """Splits the due targets into those the quota leaves room for and those reported failed
        in advance (Prune still runs and frees room for the next run)."""
        if quota is None:
            return due, []
        headroom = {
            kind: max(quota.for_type(kind) - inventory.counts[kind], 0) for kind in SourceType
        }
        allowed: list[SourceRef] = []
        refused: list[TargetOutcome] = []
        for ref in due:
            if headroom[ref.source_type] > 0:
                headroom[ref.source_type] -= 1
                allowed.append(ref)
            else:
                refused.append(
                    TargetOutcome.failed(
                        ref.source_id,
                        ref.source_type,
                        "SnapshotQuotaExceeded",
                        f"{inventory.counts[ref.source_type]} manual {ref.source_type} snapshots "
                        f"exist and the quota is {quota.for_type(ref.source_type)}",
                    )
                )
        return allowed, refused

    def _create(self, ctx: RunContext, ref: SourceRef) -> TargetOutcome:
        new_id = snapshot_id(self._settings.name, ctx.run_id, ref, ctx.started_at)
        if ctx.dry_run:
            return TargetOutcome.created(ref, new_id, DRY_RUN_STATUS)
        tags = {
            TAG_MANAGED_BY: self._settings.name,
            TAG_RUN_ID: ctx.run_id,
            TAG_RUN_STARTED_AT: tag_time(ctx.started_at),
            "SourceId": ref.source_id,
            "SourceType": str(ref.source_type),
        }
        if ctx.on_demand is not None and ctx.on_demand.reason_tag:
            tags[TAG_RUN_REASON] = ctx.on_demand.reason_tag
        return self._rds.create_snapshot(ref, new_id, tags)

    def _unconfirmed(self, ctx: RunContext, ref: SourceRef, error: Exception) -> TargetOutcome:
        """A create call that raised (e.g. its response was lost) is this target's failure. It
        keeps the snapshot id: the snapshot may exist after all, and Check looks for it (a retry
        of this run meets it as its own, a later run counts it)."""
        code, message = fault(error)
        new_id = snapshot_id(self._settings.name, ctx.run_id, ref, ctx.started_at)
        return TargetOutcome.failed(
            ref.source_id, ref.source_type, code, message, snapshot_id=new_id
        )

    @staticmethod
    def _log(ctx: RunContext, outcome: TargetOutcome) -> None:
        detail = outcome.snapshot_id or outcome.reason or f"{outcome.error_code}: {outcome.message}"
        logs.decision(
            ctx.run_id,
            outcome.source_id,
            "create",
            str(outcome.outcome),
            level=logging.WARNING if outcome.outcome is Outcome.FAILED else logging.INFO,
            source_type=str(outcome.source_type),
            detail=detail,
            dry_run=ctx.dry_run,
        )
