"""Restore tests (issue 11 item 5), run through the reconcile loop (D11) as work rows of kind
`restore` in the run's partition:

- Create (`start`): choose the targets, find each one's newest available snapshot of ours, write
  the rows (pending), start the restores (rows started), write them again.
- Check (`poll`): describe this run's temporary databases (batched), record the RTO of each that
  became available, mark failed or timed-out ones, and delete each settled database at once.
- Prune (`sweep`): delete temporary databases older than `leftover_max_age_hours`, whatever run
  made them (a run that timed out, a crash), in every run while restore tests are configured.
- Notify (`finish`): delete this run's temporary databases still present (every path, the Catch
  too) and build the report's `restore_tests`.

Every id is deterministic per (run, snapshot), so a retried or overlapping step meets its own
database (AlreadyExists = started; NotFound on delete = deleted) and never restores twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rds_snapshot_manager import logs
from rds_snapshot_manager.adapters import fault
from rds_snapshot_manager.adapters.ledger import RESTORE_LEASE_KEY, LedgerAdapter
from rds_snapshot_manager.adapters.rds import TAG_MANAGED_BY, TAG_RUN_ID, RdsAdapter
from rds_snapshot_manager.domain.interval import backup_time
from rds_snapshot_manager.domain.model import Database, Snapshot, SourceRef, SourceType, parse_utc
from rds_snapshot_manager.domain.naming import is_ours
from rds_snapshot_manager.domain.restore import (
    DELETING_STATUSES,
    NO_SNAPSHOT,
    NOT_A_TARGET,
    RESTORE_FAILED,
    TAG_RESTORE_TEST_OF,
    TIMED_OUT,
    Problem,
    RestoreTestConfig,
    TempDb,
    choose_targets,
    db_progress,
    is_leftover,
    is_temp_db,
    restore_seconds,
    temp_db_id,
    timed_out,
    writer_id,
)
from rds_snapshot_manager.domain.targets import Resolution
from rds_snapshot_manager.domain.work import WorkItem, WorkKind, WorkState
from rds_snapshot_manager.services.concurrency import run_bounded
from rds_snapshot_manager.services.run import RunContext
from rds_snapshot_manager.settings import Settings

# The restore lease lasts as long as a restore-test execution can (as the backup lease does).
LEASE_BEYOND_WAIT_SECONDS = 3600 + 300
NOT_STARTED = "NotStarted"
UNSUPPORTED = "NotSupported"

Resolve = Callable[[], Resolution]


@dataclass(frozen=True)
class RestoreStep:
    """What a restore-test step did, in the counts the state machine keeps (small, D10)."""

    rows: Sequence[WorkItem]
    done: bool = True
    timed_out: bool = False

    def summary(self) -> dict[str, Any]:
        by_state = dict.fromkeys(WorkState, 0)
        for row in self.rows:
            by_state[row.state] += 1
        return {
            "restoring": by_state[WorkState.PENDING] + by_state[WorkState.STARTED],
            "restored": by_state[WorkState.DONE],
            "failed": by_state[WorkState.FAILED],
            "done": self.done,
            "timed_out": self.timed_out,
        }


def _temp(row: WorkItem, name: str, run_id: str) -> TempDb:
    """The databases of a row: an instance, or a cluster and its writer instance (Aurora)."""
    if row.source.source_type is SourceType.INSTANCE:
        return TempDb(SourceType.INSTANCE, row.target_id)
    made_by = row.from_run or run_id
    return TempDb(
        SourceType.CLUSTER,
        row.target_id,
        writer_id(name, made_by, row.snapshot_id, row.source.source_id),
    )


def _started_at(row: WorkItem, default: datetime) -> datetime:
    return parse_utc(row.started_at) or default if row.started_at else default


class RestoreService:
    def __init__(
        self, settings: Settings, rds: RdsAdapter, ledger: LedgerAdapter, resolve: Resolve
    ) -> None:
        self._settings = settings
        self._rds = rds
        self._ledger = ledger
        self._resolve = resolve

    @property
    def _config(self) -> RestoreTestConfig:
        config = self._settings.restore_test
        if config is None:  # RunContext refuses a restore-test run when the tests are off
            raise RuntimeError("restore tests are off (RSM_RESTORE_TEST is empty)")
        return config

    def _rows(self, run_id: str) -> list[WorkItem]:
        return [row for row in self._ledger.work(run_id) if row.kind is WorkKind.RESTORE]

    # -- Create ----------------------------------------------------------------------------------
    def start(self, ctx: RunContext) -> RestoreStep:
        """Takes the restore lease (restore tests never block backups, nor backups them), plans
        the rows once (a retry reuses them) and starts every pending restore."""
        lease = (
            None
            if ctx.dry_run
            else self._ledger.acquire_lease(
                ctx.run_id,
                ctx.now,
                self._settings.wait_timeout_seconds + LEASE_BEYOND_WAIT_SECONDS,
                key=RESTORE_LEASE_KEY,
            )
        )
        self._ledger.start_run(ctx.run_id, ctx.started_at.isoformat(), ctx.dry_run, ctx.now, lease)
        if lease is not None and not lease.held:
            logs.decision(
                ctx.run_id, "-", "restore", "skipped: another restore test holds the lease",
                holder=lease.holder, lease_until=lease.until,
            )  # fmt: skip
            return RestoreStep([])
        rows = self._rows(ctx.run_id)
        if not rows:
            rows = self._plan(ctx)
            if ctx.dry_run:  # nothing is restored: the log says what would be
                return RestoreStep([])
            self._ledger.write_work(ctx.run_id, rows, ctx.now)
        pending = [row for row in rows if row.state is WorkState.PENDING]
        batch = run_bounded(
            lambda row: self._begin(ctx, row),
            pending,
            self._settings.max_concurrency,
            on_error=lambda row, error: row.failed(*fault(error), ctx.now),
        )
        if pending:
            started = {row.key: row for row in batch.results}
            rows = [started.get(row.key, row) for row in rows]
            self._ledger.write_work(ctx.run_id, rows, ctx.now)
        for row in batch.results:
            self._log(ctx, row, "start")
        return RestoreStep(rows, done=False)

    def _plan(self, ctx: RunContext) -> list[WorkItem]:
        config = self._config
        choice = choose_targets(config, (t.ref for t in self._resolve().targets), ctx.run_id)
        newest = self._newest_snapshots(choice.chosen)
        region = self._settings.home_region
        rows = [
            WorkItem(WorkKind.RESTORE, "", ref, region, "").failed(
                NOT_A_TARGET,
                f"{ref.source_type} {ref.source_id} is listed in restore_test but is not a target "
                "of this deployment",
                ctx.now,
            )
            for ref in choice.not_targets
        ]
        for ref in choice.chosen:
            snapshot = newest.get(ref)
            if snapshot is None:
                rows.append(
                    WorkItem(WorkKind.RESTORE, "", ref, region, "").failed(
                        NO_SNAPSHOT, "no available snapshot of this deployment to restore", ctx.now
                    )
                )
                continue
            if ref.source_type is SourceType.CLUSTER and not snapshot.engine.startswith("aurora"):
                rows.append(
                    WorkItem(WorkKind.RESTORE, snapshot.snapshot_id, ref, region, "").failed(
                        UNSUPPORTED,
                        f"restore tests support Aurora clusters; {ref.source_id} runs "
                        f"{snapshot.engine or 'an unknown engine'} (a Multi-AZ DB cluster)",
                        ctx.now,
                    )
                )
                continue
            target = temp_db_id(
                self._settings.name, ctx.run_id, snapshot.snapshot_id, ref.source_id
            )
            rows.append(WorkItem(WorkKind.RESTORE, snapshot.snapshot_id, ref, region, target))
            logs.decision(
                ctx.run_id, ref.source_id, "restore", "chosen",
                snapshot_id=snapshot.snapshot_id, restored_id=target, dry_run=ctx.dry_run,
            )  # fmt: skip
        return rows

    def _newest_snapshots(self, chosen: Iterable[SourceRef]) -> dict[SourceRef, Snapshot]:
        """The newest available snapshot of ours of each chosen target: one paginated listing per
        kind needed (the same pass Create makes)."""
        wanted = {(ref.source_type, ref.source_id.lower()): ref for ref in chosen}
        newest: dict[SourceRef, tuple[datetime, Snapshot]] = {}
        for kind in {kind for kind, _ in wanted}:
            for snapshot in self._rds.manual_snapshots(kind):
                ref = wanted.get((kind, snapshot.source.source_id.lower()))
                made = backup_time(snapshot.created_at, snapshot.run_started_at)
                if ref is None or made is None or snapshot.status != "available":
                    continue
                if is_ours(snapshot, self._settings.name) and (
                    ref not in newest or made > newest[ref][0]
                ):
                    newest[ref] = (made, snapshot)
        return {ref: snapshot for ref, (_, snapshot) in newest.items()}

    def _begin(self, ctx: RunContext, row: WorkItem) -> WorkItem:
        temp = _temp(row, self._settings.name, ctx.run_id)
        tags = {
            TAG_MANAGED_BY: self._settings.name,
            TAG_RUN_ID: ctx.run_id,
            TAG_RESTORE_TEST_OF: row.snapshot_id,
        }
        snapshot = Snapshot(
            row.snapshot_id, row.source, "available", None, engine=self._engine(row)
        )
        problem = self._rds.restore(snapshot, temp, self._config, tags)
        if problem is None:
            return row.started(ctx.now)
        failed = row.failed(problem.error_code, problem.message, ctx.now)
        self._delete(ctx, failed)  # a cluster restored without its writer is no test: remove it
        return failed

    def _engine(self, row: WorkItem) -> str:
        """A cluster snapshot's engine, which RestoreDBClusterFromSnapshot requires."""
        if row.source.source_type is SourceType.INSTANCE:
            return ""
        return self._rds.cluster_snapshot_engine(row.snapshot_id)

    # -- Check -----------------------------------------------------------------------------------
    def poll(self, ctx: RunContext) -> RestoreStep:
        """Settles what it can: available (RTO recorded), failed, or past its timeout; each
        settled database is deleted at once. Done when nothing is restoring, or at the wait
        timeout (Notify then deletes what is left, and reports it `restoring`)."""
        rows = self._rows(ctx.run_id)
        started = [row for row in rows if row.state is WorkState.STARTED]
        statuses = self._statuses(ctx, [_temp(r, self._settings.name, ctx.run_id) for r in started])
        settled: dict[str, WorkItem] = {}
        for row in started:
            temp = _temp(row, self._settings.name, ctx.run_id)
            if statuses is None:
                progress = "restoring"  # the describe failed: ask again next poll
            else:
                progress = db_progress([statuses.get(db_id) for db_id in temp.ids])
            if progress == "available":
                settled[row.key] = row.done(ctx.now)
            elif progress == "failed" and statuses is not None:
                shown = ", ".join(f"{db_id} is {statuses.get(db_id)}" for db_id in temp.ids)
                settled[row.key] = row.failed(RESTORE_FAILED, f"restore failed: {shown}", ctx.now)
            elif timed_out(_started_at(row, ctx.started_at), ctx.now, self._config.timeout_minutes):
                settled[row.key] = row.failed(
                    TIMED_OUT,
                    f"not available within {self._config.timeout_minutes} minutes",
                    ctx.now,
                )
        rows = [settled.get(row.key, row) for row in rows]
        if settled:
            self._ledger.write_work(ctx.run_id, rows, ctx.now)
        for row in settled.values():
            self._log(ctx, row, "check")
            self._delete(ctx, row)
        wait_over = (
            ctx.now - ctx.started_at
        ).total_seconds() >= self._settings.wait_timeout_seconds
        restoring = any(not row.settled for row in rows)
        return RestoreStep(rows, done=not restoring or wait_over, timed_out=wait_over and restoring)

    def _statuses(self, ctx: RunContext, temps: Sequence[TempDb]) -> dict[str, str] | None:
        """Status by id of the given temporary databases: one filtered describe per kind; None
        when a describe fails (after botocore's retries)."""
        instances = [temp.writer_id or temp.db_id for temp in temps]
        clusters = [temp.db_id for temp in temps if temp.writer_id]
        try:
            statuses = self._rds.db_statuses(SourceType.INSTANCE, instances) if instances else {}
            if clusters:
                statuses |= self._rds.db_statuses(SourceType.CLUSTER, clusters)
        except Exception as error:  # noqa: BLE001 - any fault: unknown this poll
            code, message = fault(error)
            logs.decision(
                ctx.run_id, "-", "restore", f"describe failed: {code}",
                level=logging.WARNING, error_message=message,
            )  # fmt: skip
            return None
        return statuses

    # -- Notify ----------------------------------------------------------------------------------
    def finish(self, ctx: RunContext) -> list[dict[str, Any]]:
        """Deletes this run's temporary databases that are still present (a failed step, a wait
        that timed out), then the report's `restore_tests` (D9), one entry per row."""
        rows = self._rows(ctx.run_id)
        temps = {
            row.key: _temp(row, self._settings.name, ctx.run_id) for row in rows if row.target_id
        }
        statuses = self._statuses(ctx, list(temps.values()))
        deleted: dict[str, Problem | None] = {}
        for row in rows:
            if not row.target_id:
                continue
            present = statuses is None or any(
                statuses.get(db_id, "") not in ("", *DELETING_STATUSES)
                for db_id in temps[row.key].ids
            )
            # A restore Check never settled was never deleted: delete it even when the describe
            # (eventually consistent) does not list it yet. A settled one Check deleted already.
            unsettled = row.state is WorkState.STARTED
            deleted[row.key] = self._delete(ctx, row) if present or unsettled else None
        return [self._entry(row, deleted.get(row.key)) for row in rows]

    @staticmethod
    def _entry(row: WorkItem, delete_problem: Problem | None) -> dict[str, Any]:
        """One item of `restore_tests` (D9). A database left undeleted fails the test too."""
        if row.state is WorkState.DONE:
            status = "restored"
        elif row.state is WorkState.STARTED:
            status = "restoring"
        else:
            status = "timed_out" if row.error_code == TIMED_OUT else "failed"
        error_code, message = row.error_code, row.message
        if row.state is WorkState.PENDING:
            error_code, message = NOT_STARTED, "the restore was never started"
            status = "failed"
        entry: dict[str, Any] = {
            "source_id": row.source.source_id,
            "source_type": str(row.source.source_type),
            "snapshot_id": row.snapshot_id,
            "restored_id": row.target_id,
            "status": status,
        }
        started, done = parse_utc(row.started_at or "-"), parse_utc(row.done_at or "-")
        if row.state is WorkState.DONE and started and done:
            entry["restore_seconds"] = restore_seconds(started, done)
        entry["deleted"] = not row.target_id or delete_problem is None
        if delete_problem is not None and delete_problem.error_code and not error_code:
            error_code = delete_problem.error_code
            message = f"the temporary database was not deleted: {delete_problem.message}"
        return entry | ({"error_code": error_code, "message": message} if error_code else {})

    # -- Prune -----------------------------------------------------------------------------------
    def sweep(self, ctx: RunContext) -> list[tuple[str, Problem | None]]:
        """Deletes this deployment's temporary databases older than `leftover_max_age_hours`
        (instances first: RDS deletes a cluster once its instances are deleting). Younger ones
        may belong to a running test: the limit is longer than the restore timeout (Settings)."""
        config = self._settings.restore_test
        if config is None or ctx.dry_run:
            return []
        swept: list[tuple[str, Problem | None]] = []
        for kind, listing in (
            (SourceType.INSTANCE, self._rds.instances),
            (SourceType.CLUSTER, self._rds.clusters),
        ):
            try:
                leftovers = [db for db in listing() if self._is_leftover(db, ctx.now, config)]
            except Exception as error:  # noqa: BLE001 - the next run sweeps again
                code, message = fault(error)
                logs.decision(
                    ctx.run_id, "-", "sweep", f"listing failed: {code}",
                    level=logging.WARNING, source_type=str(kind), error_message=message,
                )  # fmt: skip
                continue
            for db in leftovers:
                try:
                    problem = self._rds.delete_temp_db(TempDb(kind, db.ref.source_id))
                except Exception as error:  # noqa: BLE001 - this database's outcome alone
                    problem = Problem(*fault(error))
                swept.append((db.ref.source_id, problem))
                logs.decision(
                    ctx.run_id, db.ref.source_id, "sweep",
                    "deleted" if problem is None else f"failed: {problem.error_code}",
                    level=logging.INFO if problem is None else logging.WARNING,
                    created_at=db.created_at, error_message=problem.message if problem else "",
                )  # fmt: skip
        return swept

    def _is_leftover(self, db: Database, now: datetime, config: RestoreTestConfig) -> bool:
        return (
            is_temp_db(db.ref.source_id, dict(db.tags), self._settings.name)
            and db.status not in DELETING_STATUSES
            and is_leftover(db.created_at, now, config.leftover_max_age_hours)
        )

    # -- shared ----------------------------------------------------------------------------------
    def _delete(self, ctx: RunContext, row: WorkItem) -> Problem | None:
        if not row.target_id:
            return None
        try:
            problem = self._rds.delete_temp_db(_temp(row, self._settings.name, ctx.run_id))
        except Exception as error:  # noqa: BLE001 - left for Notify and the sweeper
            problem = Problem(*fault(error))
        logs.decision(
            ctx.run_id, row.source.source_id, "restore",
            "temporary database deleted" if problem is None
            else f"delete failed: {problem.error_code}",
            level=logging.INFO if problem is None else logging.WARNING,
            restored_id=row.target_id, error_message=problem.message if problem else "",
        )  # fmt: skip
        return problem

    @staticmethod
    def _log(ctx: RunContext, row: WorkItem, step: str) -> None:
        started, done = parse_utc(row.started_at or "-"), parse_utc(row.done_at or "-")
        logs.decision(
            ctx.run_id, row.source.source_id, "restore", f"{step}: {row.state}",
            level=logging.WARNING if row.state is WorkState.FAILED else logging.INFO,
            snapshot_id=row.snapshot_id, restored_id=row.target_id, error_code=row.error_code,
            error_message=row.message,
            restore_seconds=restore_seconds(started, done) if started and done else None,
        )  # fmt: skip
