"""Disaster-recovery work of a run (D11): copies to other regions, shares with other accounts and
re-encrypted shareable copies, as rows the Check step reconciles on every poll.

Pure: the planner decides which rows a new snapshot needs and which unfinished rows of the
previous run are carried over; the services run the actions, the ledger stores the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from rds_snapshot_manager.domain.model import SourceRef, cap_text, parse_utc

# RDS allows at most 5 cross-region snapshot copies in flight per destination region and account
# ("Copying a DB snapshot", Amazon RDS User Guide: "You can have up to five snapshot copy requests
# in progress to a single destination AWS Region per account"). Copies beyond it wait.
CROSS_REGION_COPY_LIMIT = 5
MAX_COPY_REGIONS = 5
# RDS shares a manual snapshot with at most 20 accounts.
MAX_SHARE_ACCOUNTS = 20
# The value of the `restore` attribute that makes a snapshot public: never sent.
PUBLIC = "all"


class WorkKind(StrEnum):
    COPY = "copy"  # a cross-region copy: target_id is the original id, in `region`
    SHARE = "share"  # the `restore` attribute of target_id (in `region`) gets the accounts
    SHARE_COPY = "share_copy"  # a re-encrypted copy of a default-key snapshot, home region
    RESTORE = "restore"  # a restore test (the restore-test helper's rows, same format)


class WorkState(StrEnum):
    PENDING = "pending"  # waits for its prerequisite or for room under a limit
    STARTED = "started"  # the action was accepted (or its resource already existed)
    DONE = "done"
    FAILED = "failed"


UNSETTLED = frozenset({WorkState.PENDING, WorkState.STARTED})


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What one copy or share call did: STARTED, DONE, PENDING (no room yet: try again later) or
    FAILED with the AWS error."""

    state: WorkState
    error_code: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class CopyRegion:
    """One entry of RSM_COPY_TO_REGIONS (D6)."""

    region: str
    kms_key_arn: str | None = None
    retention_days: float | None = None  # None: the home rule
    share: bool = False


@dataclass(frozen=True, slots=True)
class DrPolicy:
    """What disaster recovery the deployment asks for (settings, D6)."""

    home_region: str
    copy_to_regions: tuple[CopyRegion, ...] = ()
    share_with_account_ids: tuple[str, ...] = ()
    share_kms_key_arn: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.copy_to_regions or self.share_with_account_ids)

    def region(self, name: str) -> CopyRegion | None:
        return next((r for r in self.copy_to_regions if r.region == name), None)


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One row of a run's work (D11). `key` is unique in the run; every action has a
    deterministic target id, so a retried or overlapping poll meets its own resource."""

    kind: WorkKind
    snapshot_id: str  # the original snapshot (home region)
    source: SourceRef
    region: str
    target_id: str  # copy id / the id actually shared / restored DB id
    state: WorkState = WorkState.PENDING
    started_at: str = ""
    done_at: str = ""
    error_code: str = ""
    message: str = ""
    from_run: str = ""  # set on a row carried over from an earlier run
    snapshot_at: str = ""  # when the original's run started (ISO 8601): carried rows expire

    def __post_init__(self) -> None:
        object.__setattr__(self, "error_code", cap_text(self.error_code, 100))
        object.__setattr__(self, "message", cap_text(self.message))

    @property
    def key(self) -> str:
        return f"{self.kind}#{self.region}#{self.snapshot_id}"

    @property
    def settled(self) -> bool:
        return self.state not in UNSETTLED

    def started(self, now: datetime) -> WorkItem:
        return replace(self, state=WorkState.STARTED, started_at=now.isoformat())

    def done(self, now: datetime) -> WorkItem:
        return replace(self, state=WorkState.DONE, done_at=now.isoformat())

    def failed(self, code: str, message: str, now: datetime) -> WorkItem:
        return replace(
            self, state=WorkState.FAILED, done_at=now.isoformat(), error_code=code, message=message
        )


def work_key(kind: WorkKind, region: str, snapshot_id: str) -> str:
    return f"{kind}#{region}#{snapshot_id}"


def plan_work(
    new_snapshots: Iterable[tuple[str, SourceRef]], policy: DrPolicy, snapshot_at: datetime
) -> list[WorkItem]:
    """The rows each new snapshot of a run needs: a `copy` per destination region, a `share` in
    the home region when accounts are listed, and a `share` in each destination with share=true.

    Whether a share needs a re-encrypted copy first (default-key source) is known only once the
    snapshot is described; the reconcile step then adds the `share_copy` row."""
    at = snapshot_at.isoformat()
    rows: list[WorkItem] = []
    for snapshot_id, source in new_snapshots:
        regions = [(WorkKind.COPY, copy.region) for copy in policy.copy_to_regions]
        if policy.share_with_account_ids:
            regions.append((WorkKind.SHARE, policy.home_region))
            regions += [(WorkKind.SHARE, c.region) for c in policy.copy_to_regions if c.share]
        rows += [
            WorkItem(kind, snapshot_id, source, region, snapshot_id, snapshot_at=at)
            for kind, region in regions
        ]
    return rows


def carry_over(
    previous: Sequence[WorkItem],
    previous_run: str,
    policy: DrPolicy,
    home_retention_days: float,
    now: datetime,
) -> list[WorkItem]:
    """The previous run's unfinished rows (pending/started), for this run to finish. A row whose
    snapshot is older than its retention (the region's, else the home rule's) would be pruned
    before it helps: it is carried as failed `Expired`, so the report says so once."""
    carried: list[WorkItem] = []
    for unfinished in previous:
        if unfinished.settled or not _still_configured(unfinished, policy):
            continue
        row = replace(unfinished, from_run=unfinished.from_run or previous_run)
        region = policy.region(row.region)
        days = region.retention_days if region and region.retention_days else home_retention_days
        made = parse_utc(row.snapshot_at) if row.snapshot_at else None
        if made is not None and made + timedelta(days=days) < now:
            row = row.failed(
                "Expired",
                f"expired: {row.snapshot_id} is older than the {days:g}-day retention of "
                f"{row.region}, so its {row.kind} was given up",
                now,
            )
        carried.append(row)
    return carried


def _still_configured(row: WorkItem, policy: DrPolicy) -> bool:
    """A row the settings still ask for: a copy to a listed region, a share while accounts are
    listed (in a copy region: one with share=true), a share copy while a share key is set.
    Restore tests are never carried (the restore-test run owns them)."""
    region = policy.region(row.region)
    if row.kind is WorkKind.COPY:
        return region is not None
    if row.kind is WorkKind.SHARE:
        return bool(policy.share_with_account_ids) and (
            row.region == policy.home_region or (region is not None and region.share)
        )
    return row.kind is WorkKind.SHARE_COPY and bool(policy.share_kms_key_arn)
