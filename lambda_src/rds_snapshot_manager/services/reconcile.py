"""The reconcile half of Check (issue 10, D11): on every poll, read the run's work rows, check
the started ones with batched describes, and start each next action whose prerequisite is done:
original available -> copy per region; copy or original available -> share; default key ->
re-encrypted copy -> share. Within the limit of concurrent cross-region copies per destination.

Calls per poll, whatever the fleet: per snapshot kind, one filtered describe of the originals and
share copies in the home region (100 ids per call) and, per destination region with unsettled
rows, one listing pass (it shows our copies and everybody's copies in flight); then one call per
action started. Every action has a deterministic id, so a retried or overlapping poll meets its
own resource (AlreadyExists = started) and does nothing twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from rds_snapshot_manager import logs
from rds_snapshot_manager.adapters import fault
from rds_snapshot_manager.adapters.kms import KeyCheckError, KmsAdapter
from rds_snapshot_manager.adapters.rds import (
    TAG_COPY_SOURCE_REGION,
    TAG_MANAGED_BY,
    TAG_RUN_ID,
    TAG_RUN_STARTED_AT,
    TAG_SHARE_COPY_OF,
    RdsAdapter,
    snapshot_arn,
    tag_time,
)
from rds_snapshot_manager.domain.model import Snapshot, SourceType
from rds_snapshot_manager.domain.naming import share_copy_id
from rds_snapshot_manager.domain.work import (
    CROSS_REGION_COPY_LIMIT,
    ActionResult,
    WorkItem,
    WorkKind,
    WorkState,
    work_key,
)
from rds_snapshot_manager.services.concurrency import run_bounded
from rds_snapshot_manager.settings import Settings

FAILED_STATUSES = frozenset({"failed", "error", "incompatible-restore", "incompatible-parameters"})
IN_FLIGHT_STATUSES = frozenset({"creating", "pending", "copying"})
DEFAULT_KEY_HINT = (
    "{id} is encrypted with the AWS-managed KMS key, which cannot be shared with other "
    "accounts; set share_kms_key_arn (a customer-managed key) so a re-encrypted copy is shared"
)


@dataclass
class _Region:
    """One destination region this poll: its listed snapshots, and copies in flight there."""

    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)


def _settled_status(snapshot: Snapshot | None) -> WorkState | None:
    """DONE when available, FAILED when it ended failed, None while creating or not listed."""
    if snapshot is None:
        return None
    if snapshot.status == "available":
        return WorkState.DONE
    return WorkState.FAILED if snapshot.status in FAILED_STATUSES else None


class Reconciler:
    def __init__(
        self,
        settings: Settings,
        rds: RdsAdapter,
        rds_in: Callable[[str], RdsAdapter],
        kms: Callable[[], KmsAdapter],
    ) -> None:
        self.settings = settings
        self.rds = rds
        self.rds_in = rds_in
        self.kms = kms

    def run(self, run_id: str, work: list[WorkItem], now: datetime) -> list[WorkItem]:
        """The rows after this poll (unchanged rows included, order kept; new rows appended)."""
        open_rows = [w for w in work if not w.settled and w.kind is not WorkKind.RESTORE]
        if not open_rows:
            return work
        poll = _Poll(self, run_id, now, {w.key: w for w in work})
        try:
            poll.look(open_rows)
        except Exception as error:  # noqa: BLE001 - a describe fault: the next poll asks again
            code, message = fault(error)
            logs.decision(run_id, "-", "reconcile", f"describe failed: {code}",
                          level=logging.WARNING, error_message=message)  # fmt: skip
            return work
        # Copies first (a share waits for its copy), then shares; one pass a poll. Cross-region
        # copies go one at a time (each counts against its region's limit); re-encrypted copies
        # and shares, one call each and no shared limit, go `max_concurrency` at a time.
        for kind in (WorkKind.SHARE_COPY, WorkKind.COPY, WorkKind.SHARE):
            rows = [w for w in poll.rows.values() if w.kind is kind and not w.settled]
            if kind is WorkKind.COPY:
                for row in rows:
                    poll.advance(row)
            else:
                run_bounded(poll.advance, rows, self.settings.max_concurrency,
                            on_error=lambda row, error: None)  # fmt: skip
        return list(poll.rows.values())


class _Poll:
    """One poll's view: the rows by key, what the describes said, copies in flight per region."""

    def __init__(
        self, owner: Reconciler, run_id: str, now: datetime, rows: dict[str, WorkItem]
    ) -> None:
        self.settings = owner.settings
        self.owner = owner
        self.run_id = run_id
        self.now = now
        self.rows = rows
        self.home: dict[str, Snapshot] = {}
        self.regions: dict[str, _Region] = {}
        self.kms = owner.kms()
        self.home_region = self.settings.home_region

    # -- describes -------------------------------------------------------------------------------
    def look(self, open_rows: list[WorkItem]) -> None:
        home_ids: dict[SourceType, set[str]] = defaultdict(set)
        region_ids: dict[str, dict[SourceType, set[str]]] = defaultdict(lambda: defaultdict(set))
        for row in open_rows:
            kind = row.source.source_type
            home_ids[kind].add(row.snapshot_id)
            if row.region == self.home_region:
                home_ids[kind].add(row.target_id)
            else:
                region_ids[row.region][kind].add(row.target_id)
            if row.kind is WorkKind.SHARE and row.region == self.home_region:
                home_ids[kind].add(share_copy_id(row.snapshot_id, self.settings.name))
        for kind, ids in home_ids.items():
            self.home.update(self.owner.rds.snapshots_by_id(kind, sorted(ids)))
        for region, by_kind in region_ids.items():
            self.regions[region] = self._look_in(region, by_kind, open_rows)

    def _look_in(
        self, region: str, by_kind: dict[SourceType, set[str]], open_rows: list[WorkItem]
    ) -> _Region:
        """A destination region's snapshots: a filtered describe of the rows' own ids
        (ceil(ids / 100) calls a kind), whatever the region holds.

        Once a run, before its first copy to the region starts, the region is listed instead: the
        listing alone shows the copies in flight that others (people, other tools) started, which
        count against the same per-account limit. Later polls count our own started copies; a
        copy RDS refuses for the limit waits (COPY_WAIT). So a run lists each destination at most
        once here (the issue's budget: one listing pass per destination, nothing per existing
        snapshot on every poll)."""
        rds = self.owner.rds_in(region)
        listed = _Region()
        list_region = self._copy_can_start(region, open_rows) and not self._copy_started(region)
        for kind, ids in by_kind.items():
            if not list_region:
                listed.snapshots.update(rds.snapshots_by_id(kind, sorted(ids)))
                continue
            for snapshot in rds.manual_snapshots(kind):
                listed.snapshots[snapshot.snapshot_id] = snapshot
                copying = snapshot.copied_from_region not in (None, region)
                if copying and snapshot.status in IN_FLIGHT_STATUSES:
                    listed.in_flight.add(snapshot.snapshot_id)  # anybody's, people's too
        for row in open_rows:  # our started copies count even before RDS lists them
            if (
                row.kind is WorkKind.COPY
                and row.state is WorkState.STARTED
                and (
                    row.region == region
                    and _settled_status(listed.snapshots.get(row.target_id)) is None
                )
            ):
                listed.in_flight.add(row.target_id)
        return listed

    def _copy_can_start(self, region: str, open_rows: list[WorkItem]) -> bool:
        """A pending copy to the region whose original is now available."""
        return any(
            row.kind is WorkKind.COPY and row.state is WorkState.PENDING and row.region == region
            and _settled_status(self.home.get(row.snapshot_id)) is WorkState.DONE
            for row in open_rows
        )  # fmt: skip

    def _copy_started(self, region: str) -> bool:
        """This run has started a copy to the region already (a later poll: no listing)."""
        return any(
            row.kind is WorkKind.COPY and row.region == region and row.started_at
            for row in self.rows.values()
        )

    # -- transitions -----------------------------------------------------------------------------
    def advance(self, row: WorkItem) -> None:
        """Moves one row on; called from several threads at once for shares (each row its own
        key: the dict writes below never collide)."""
        try:
            updated = {
                WorkKind.COPY: self._copy,
                WorkKind.SHARE_COPY: self._share_copy,
                WorkKind.SHARE: self._share,
            }[row.kind](row)
        except KeyCheckError as error:  # the key cannot be looked at: the share cannot be decided
            updated = row.failed(
                error.code, f"kms:DescribeKey of the snapshot's key failed: {error.message}",
                self.now,
            )  # fmt: skip
        except Exception as error:  # noqa: BLE001 - a lost response: the next poll meets it
            code, message = fault(error)
            logs.decision(self.run_id, row.source.source_id, "reconcile",
                          f"{row.kind} call failed, retried next poll: {code}",
                          level=logging.WARNING, key=row.key, error_message=message)  # fmt: skip
            return
        if updated != row:
            self.rows[updated.key] = updated
            logs.decision(
                self.run_id, row.source.source_id, "reconcile", f"{row.kind} {updated.state}",
                level=logging.WARNING if updated.state is WorkState.FAILED else logging.INFO,
                key=row.key, target_id=updated.target_id, error_code=updated.error_code,
            )  # fmt: skip

    def _original(self, row: WorkItem) -> tuple[Snapshot | None, WorkItem | None]:
        """The available original, or the row's outcome while it is not: unchanged (still
        creating, or not listed yet), or failed (it failed, or a carried row's is gone)."""
        original = self.home.get(row.snapshot_id)
        status = _settled_status(original)
        if status is WorkState.DONE:
            return original, None
        if status is WorkState.FAILED:
            return None, row.failed(
                "SourceSnapshotFailed", f"{row.snapshot_id} ended in status "
                f"{original.status if original else ''}", self.now,
            )  # fmt: skip
        if original is None and row.from_run:
            return None, row.failed(
                "SourceSnapshotNotFound", f"{row.snapshot_id} no longer exists", self.now
            )
        return None, row

    def _copy_tags(self, original: Snapshot, **extra: str) -> dict[str, str]:
        tags = {
            TAG_MANAGED_BY: self.settings.name,
            TAG_RUN_ID: original.run_id or "",
            "SourceId": original.source.source_id,
            "SourceType": str(original.source.source_type),
        }
        if original.run_started_at is not None:
            tags[TAG_RUN_STARTED_AT] = tag_time(original.run_started_at)
        return {key: value for key, value in (tags | extra).items() if value}

    def _arn(self, region: str, kind: SourceType, snapshot_id: str) -> str:
        s = self.settings
        return snapshot_arn(s.partition, region, s.account_id, kind, snapshot_id)

    def _apply(self, row: WorkItem, result: ActionResult) -> WorkItem:
        if result.state is WorkState.STARTED:
            return row.started(self.now)
        if result.state is WorkState.DONE:
            return row.done(self.now)
        if result.state is WorkState.FAILED:
            return row.failed(result.error_code, result.message, self.now)
        return replace(row, error_code=result.error_code, message=f"waiting: {result.message}")

    def _copy(self, row: WorkItem) -> WorkItem:
        region = self.regions[row.region]
        if row.state is WorkState.STARTED:
            return self._finished(row, region.snapshots.get(row.target_id))
        original, waiting = self._original(row)
        if original is None:
            return waiting or row
        key = next((r.kms_key_arn for r in self.settings.copy_to_regions
                    if r.region == row.region), None)  # fmt: skip
        if original.kms_key_id and not key:
            return row.failed(
                "MissingDestinationKey",
                f"{row.snapshot_id} is encrypted: a copy to {row.region} needs a KMS key of that "
                "region; set kms_key_arn of that copy_to_regions entry",
                self.now,
            )
        if len(region.in_flight) >= CROSS_REGION_COPY_LIMIT:
            return row  # waits for room: RDS's limit per destination region and account
        result = self.owner.rds_in(row.region).copy_snapshot(
            row.source.source_type,
            self._arn(self.home_region, row.source.source_type, row.snapshot_id),
            row.target_id,
            source_region=self.home_region,
            kms_key_id=key if original.kms_key_id else None,
            tags=self._copy_tags(original, **{TAG_COPY_SOURCE_REGION: self.home_region}),
        )
        if result.state is WorkState.STARTED:
            region.in_flight.add(row.target_id)
        return self._apply(row, result)

    def _share_copy(self, row: WorkItem) -> WorkItem:
        if row.state is WorkState.STARTED:
            return self._finished(row, self.home.get(row.target_id))
        original, waiting = self._original(row)
        if original is None:
            return waiting or row
        result = self.owner.rds.copy_snapshot(
            row.source.source_type,
            row.snapshot_id,
            row.target_id,
            source_region=None,
            kms_key_id=self.settings.share_kms_key_arn,
            tags=self._copy_tags(original, **{TAG_SHARE_COPY_OF: row.snapshot_id}),
        )
        return self._apply(row, result)

    def _finished(self, row: WorkItem, copy: Snapshot | None) -> WorkItem:
        status = _settled_status(copy)
        if status is WorkState.DONE:
            return row.done(self.now)
        if status is WorkState.FAILED and copy is not None:
            return row.failed("CopyFailed", f"{row.target_id} ended in status {copy.status}",
                              self.now)  # fmt: skip
        return row  # still copying, or not listed yet (eventually consistent describes)

    def _share(self, row: WorkItem) -> WorkItem:
        if row.region != self.home_region:
            return self._share_after(row, work_key(WorkKind.COPY, row.region, row.snapshot_id))
        if row.target_id != row.snapshot_id:  # shares the re-encrypted copy, once it is made
            return self._share_after(
                row, work_key(WorkKind.SHARE_COPY, row.region, row.snapshot_id)
            )
        original, waiting = self._original(row)
        if original is None:
            return waiting or row
        if original.kms_key_id and self.kms.is_aws_managed(row.region, original.kms_key_id):
            if not self.settings.share_kms_key_arn:
                return row.failed(
                    "DefaultKeyNotShareable", DEFAULT_KEY_HINT.format(id=row.snapshot_id),
                    self.now,
                )  # fmt: skip
            copy_id = share_copy_id(row.snapshot_id, self.settings.name)
            copy_row = WorkItem(
                WorkKind.SHARE_COPY, row.snapshot_id, row.source, row.region, copy_id,
                from_run=row.from_run, snapshot_at=row.snapshot_at,
            )  # fmt: skip
            self.rows.setdefault(copy_row.key, copy_row)
            return replace(row, target_id=copy_id)
        return self._apply(row, self._share_now(row, self.owner.rds))

    def _share_after(self, row: WorkItem, prerequisite: str) -> WorkItem:
        before = self.rows.get(prerequisite)
        if before is None or before.state is WorkState.FAILED:
            reason = before.message if before else "no such work in this run"
            return row.failed("PrerequisiteFailed", f"{prerequisite}: {reason}", self.now)
        if before.state is not WorkState.DONE:
            return row
        rds = self.owner.rds if row.region == self.home_region else self.owner.rds_in(row.region)
        if row.region != self.home_region:
            copy = self.regions[row.region].snapshots.get(row.target_id)
            if copy is None:
                return row  # listed by the next poll (describes are eventually consistent)
            if copy.kms_key_id and self.kms.is_aws_managed(row.region, copy.kms_key_id):
                return row.failed(
                    "DefaultKeyNotShareable",
                    f"the copy {row.target_id} in {row.region} is encrypted with the AWS-managed "
                    "KMS key, which cannot be shared; give that region a customer-managed "
                    "kms_key_arn in copy_to_regions",
                    self.now,
                )
        return self._apply(row, self._share_now(row, rds))

    def _share_now(self, row: WorkItem, rds: RdsAdapter) -> ActionResult:
        return rds.share_snapshot(
            row.source.source_type, row.target_id, self.settings.share_with_account_ids
        )


def unsettled(work: Iterable[WorkItem]) -> int:
    return sum(1 for w in work if not w.settled and w.kind is not WorkKind.RESTORE)
