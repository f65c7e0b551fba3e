"""Disaster recovery under moto (issue 10): cross-region copies, sharing, the reconcile loop.

moto gaps, each stubbed at the botocore level for that one call only (`answer`):
- moto's encrypted snapshots carry KmsKeyId "default_kms_key_id", which its KMS does not know,
  and its `alias/aws/rds` key says KeyManager CUSTOMER: DescribeKey is answered with
  KeyManager AWS where a default-key snapshot is the point of the test.
- moto does not set `SourceRegion` on copies: people's copies in flight are answered by a
  DescribeDBSnapshots stub in the one test about them.
moto does copy across regions by ARN (CopyDBSnapshot with SourceRegion) and keeps the `restore`
attribute (ModifyDBSnapshotAttribute / DescribeDBSnapshotAttributes).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from rds_snapshot_manager.adapters.rds import RdsAdapter
from rds_snapshot_manager.clients import Clients
from rds_snapshot_manager.domain.model import Outcome, SourceType
from rds_snapshot_manager.domain.naming import share_copy_id
from rds_snapshot_manager.domain.retention import Tiers
from rds_snapshot_manager.domain.targets import TargetFilter
from rds_snapshot_manager.domain.work import CopyRegion, WorkKind, WorkState
from rds_snapshot_manager.services.engine import Engine
from rds_snapshot_manager.services.run import OnDemand, RunContext
from tests.unit.conftest import (
    OURS,
    REGION,
    Account,
    answer,
    context,
    hold_lease,
    inject_error,
    inject_exception,
    later,
)

EU = "eu-west-1"
PARTNER = "111122223333"


@dataclass
class Regions:
    """The test account seen from the home region and from EU (a copy destination)."""

    account: Account
    eu: Any
    kms: dict[str, Any]
    calls: Counter[str] = field(default_factory=Counter)

    def engine(self, **overrides: Any) -> Engine:
        clients = Clients(
            rds=self.account.rds,
            dynamodb=self.account.dynamodb,
            sns=self.account.sns,
            s3=self.account.s3,
            **{f"rds@{EU}": self.eu},
            **{f"kms@{region}": client for region, client in self.kms.items()},
        )
        return Engine.build(self.account.settings(**overrides), clients)

    def key(self, region: str) -> str:
        return str(self.kms[region].create_key()["KeyMetadata"]["Arn"])

    def count(self, client: Any, region: str) -> None:
        def hook(model: Any, **_: Any) -> None:
            self.calls[f"{region}:{model.name}"] += 1

        # before-parameter-build: before any `answer` stub (a before-call hook) ends the call.
        client.meta.events.register("before-parameter-build", hook)

    def eu_snapshots(self) -> dict[str, dict[str, str]]:
        """Manual snapshots in EU, by id, with their tags."""
        found = self.eu.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
        return {s["DBSnapshotIdentifier"]: {t["Key"]: t["Value"] for t in s["TagList"]}
                for s in found}  # fmt: skip


@pytest.fixture
def regions(account: Account) -> Regions:
    import boto3

    return Regions(
        account,
        eu=boto3.client("rds", region_name=EU),
        kms={region: boto3.client("kms", region_name=region) for region in (REGION, EU)},
    )


def run_create(engine: Engine, ctx: RunContext, *instances: str) -> None:
    result = engine.create.run(ctx)
    assert result.summary()["created"] == len(instances)


def work(regions: Regions, run_id: str = "run-1") -> dict[str, tuple[str, str]]:
    """The run's work rows: key -> (state, error_code)."""
    return {w.key: (str(w.state), w.error_code) for w in regions.account.ledger().work(run_id)}


def default_key(regions: Regions) -> None:
    """DescribeKey says AWS-managed (moto's own default key cannot: see the module doc)."""
    answer(
        regions.kms[REGION],
        "DescribeKey",
        {"KeyMetadata": {"KeyId": "default_kms_key_id", "KeyManager": "AWS"}},
    )


# -- copies ---------------------------------------------------------------------------------------
def test_copy_appears_in_the_second_region_tagged_and_is_done_on_the_next_poll(
    regions: Regions,
) -> None:
    regions.account.instance("db-a")
    engine = regions.engine(
        db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU, retention_days=3),)
    )
    ctx = context()
    run_create(engine, ctx, "db-a")
    (original,) = regions.account.snapshot_ids()
    assert work(regions) == {f"copy#{EU}#{original}": ("pending", "")}

    first = engine.check.run(ctx).summary()
    assert (first["work"], first["done"]) == (1, False)
    tags = regions.eu_snapshots()[original]
    assert tags["ManagedBy"] == "rsm-test"
    assert tags["CopySourceRegion"] == REGION
    assert (tags["SourceId"], tags["SourceType"], tags["RunId"]) == ("db-a", "instance", "run-1")
    assert "RunStartedAt" in tags

    second = engine.check.run(ctx).summary()
    assert (second["work"], second["done"]) == (0, True)
    assert work(regions) == {f"copy#{EU}#{original}": ("done", "")}


def test_cluster_snapshots_are_copied_with_the_cluster_api(regions: Regions) -> None:
    regions.account.cluster("aurora-1")
    engine = regions.engine(db_cluster_identifiers=("aurora-1",), copy_to_regions=(CopyRegion(EU),))
    ctx = context()
    run_create(engine, ctx, "aurora-1")
    engine.check.run(ctx)
    copies = regions.eu.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    assert [c["DBClusterSnapshotIdentifier"] for c in copies] == [
        *regions.account.snapshot_ids(cluster=True)
    ]


def test_encrypted_source_without_a_destination_key_fails_clearly(regions: Regions) -> None:
    regions.account.instance("db-a", encrypted=True)
    engine = regions.engine(db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU),))
    ctx = context()
    run_create(engine, ctx, "db-a")
    assert engine.check.run(ctx).summary()["done"] is True
    (row,) = regions.account.ledger().work("run-1")
    assert (row.state, row.error_code) == (WorkState.FAILED, "MissingDestinationKey")
    assert "kms_key_arn" in row.message
    assert regions.eu_snapshots() == {}


def test_encrypted_source_is_copied_with_the_destination_key(regions: Regions) -> None:
    regions.account.instance("db-a", encrypted=True)
    key = regions.key(EU)
    engine = regions.engine(
        db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU, kms_key_arn=key),)
    )
    ctx = context()
    run_create(engine, ctx, "db-a")
    engine.check.run(ctx)
    (copy,) = regions.eu.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert copy["KmsKeyId"] == key


def test_copy_limit_starts_five_per_region_and_the_next_poll_starts_the_sixth(
    regions: Regions,
) -> None:
    ids = tuple(f"db-{index}" for index in range(6))
    for identifier in ids:
        regions.account.instance(identifier)
    engine = regions.engine(db_instance_identifiers=ids, copy_to_regions=(CopyRegion(EU),))
    ctx = context()
    run_create(engine, ctx, *ids)
    regions.count(regions.eu, EU)

    engine.check.run(ctx)
    assert Counter(state for state, _ in work(regions).values()) == {"started": 5, "pending": 1}
    assert regions.calls[f"{EU}:CopyDBSnapshot"] == 5

    engine.check.run(ctx)
    assert Counter(state for state, _ in work(regions).values()) == {"done": 5, "started": 1}
    assert regions.calls[f"{EU}:CopyDBSnapshot"] == 6


def test_copies_in_flight_by_people_count_against_the_limit(regions: Regions) -> None:
    regions.account.instance("db-a")
    engine = regions.engine(db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU),))
    ctx = context()
    run_create(engine, ctx, "db-a")
    people = [
        {"DBSnapshotIdentifier": f"their-copy-{i}", "DBInstanceIdentifier": "x",
         "Status": "creating", "SourceRegion": "us-west-2", "SnapshotType": "manual"}
        for i in range(5)
    ]  # fmt: skip
    answer(regions.eu, "DescribeDBSnapshots", {"DBSnapshots": people})
    regions.count(regions.eu, EU)
    engine.check.run(ctx)
    assert set(work(regions).values()) == {("pending", "")}
    assert regions.calls[f"{EU}:CopyDBSnapshot"] == 0


def test_a_destination_is_listed_once_a_run_then_described_by_id(regions: Regions) -> None:
    """With 250 snapshots in EU, the poll that starts the run's first copy there lists EU (real
    RDS: 3 pages of 100; moto answers in one); later polls describe the rows' own ids."""
    regions.account.instance("db-a")
    regions.eu.create_db_instance(
        DBInstanceIdentifier="db-eu", Engine="postgres", DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="password123",
    )  # fmt: skip
    for index in range(250):
        regions.eu.create_db_snapshot(
            DBInstanceIdentifier="db-eu", DBSnapshotIdentifier=f"x{index}"
        )
    engine = regions.engine(db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU),))
    ctx = context()
    run_create(engine, ctx, "db-a")
    pages: list[dict[str, Any]] = []
    regions.eu.meta.events.register(
        "before-parameter-build.rds.DescribeDBSnapshots",
        lambda params, **_: pages.append(dict(params)),
    )
    engine.check.run(ctx)
    assert pages == [{"SnapshotType": "manual", "MaxRecords": 100}]
    pages.clear()
    engine.check.run(ctx)
    assert [p["Filters"][0]["Name"] for p in pages] == ["db-snapshot-id"]
    assert set(work(regions).values()) == {("done", "")}


def test_quota_refusal_of_a_copy_waits_and_is_never_dropped(regions: Regions) -> None:
    regions.account.instance("db-a")
    engine = regions.engine(db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU),))
    ctx = context()
    run_create(engine, ctx, "db-a")
    inject_error(regions.eu, "CopyDBSnapshot", "SnapshotQuotaExceeded")
    engine.check.run(ctx)
    assert set(work(regions).values()) == {("pending", "SnapshotQuotaExceeded")}


def test_retried_or_overlapping_poll_starts_nothing_twice(regions: Regions) -> None:
    regions.account.instance("db-a")
    engine = regions.engine(db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU),))
    ctx = context()
    run_create(engine, ctx, "db-a")
    ledger = regions.account.ledger()
    rows_before = ledger.work("run-1")
    regions.count(regions.eu, EU)
    engine.check.run(ctx)
    # An overlapping poll read the rows before the first wrote them: it meets the copy's id.
    ledger.write_work("run-1", rows_before, ctx.now)
    engine.check.run(ctx)
    assert set(work(regions).values()) == {("started", "")}
    assert len(regions.eu_snapshots()) == 1
    engine.check.run(ctx)  # a plain retry of a poll: started rows are only looked at
    assert regions.calls[f"{EU}:CopyDBSnapshot"] == 2  # the second met AlreadyExists


def test_a_lost_copy_response_is_met_as_started_by_the_next_poll(regions: Regions) -> None:
    regions.account.instance("db-a")
    engine = regions.engine(db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU),))
    ctx = context()
    run_create(engine, ctx, "db-a")
    inject_exception(
        regions.eu, "CopyDBSnapshot", lambda: ReadTimeoutError(endpoint_url="rds"), after=True,
        when=lambda params: not regions.eu_snapshots(),
    )  # fmt: skip
    engine.check.run(ctx)
    assert set(work(regions).values()) == {("pending", "")}  # RDS made it; we do not know yet
    engine.check.run(ctx)
    assert set(work(regions).values()) == {("started", "")}  # AlreadyExists: our own copy
    assert len(regions.eu_snapshots()) == 1


# -- sharing ---------------------------------------------------------------------------------------
def test_new_snapshot_is_shared_with_the_listed_accounts(regions: Regions) -> None:
    regions.account.instance("db-a")
    engine = regions.engine(db_instance_identifiers=("db-a",), share_with_account_ids=(PARTNER,))
    ctx = context()
    run_create(engine, ctx, "db-a")
    assert engine.check.run(ctx).summary()["done"] is True
    (original,) = regions.account.snapshot_ids()
    shared = RdsAdapter(regions.account.rds).shared_with(SourceType.INSTANCE, original)
    assert shared == [PARTNER]


def test_cluster_snapshot_is_shared_and_unshared_with_the_cluster_api(regions: Regions) -> None:
    regions.account.cluster("aurora-1")
    engine = regions.engine(
        db_cluster_identifiers=("aurora-1",), share_with_account_ids=(PARTNER,),
        retention_days=1, min_snapshots_to_keep=0,
    )  # fmt: skip
    ctx = context()
    run_create(engine, ctx, "aurora-1")
    engine.check.run(ctx)
    engine.notify.run(ctx)
    (original,) = regions.account.snapshot_ids(cluster=True)
    adapter = RdsAdapter(regions.account.rds)
    assert adapter.shared_with(SourceType.CLUSTER, original) == [PARTNER]
    second = context(run_id="run-2", now=later(days=3))
    hold_lease(regions.account, second)
    regions.count(regions.account.rds, REGION)
    engine.prune.run(second)
    assert regions.account.snapshot_ids(cluster=True) == set()
    assert regions.calls[f"{REGION}:ModifyDBClusterSnapshotAttribute"] == 1
    assert regions.calls[f"{REGION}:DeleteDBClusterSnapshot"] == 1


def test_default_key_snapshot_without_share_key_fails_with_a_clear_message(
    regions: Regions,
) -> None:
    regions.account.instance("db-a", encrypted=True)
    default_key(regions)
    engine = regions.engine(db_instance_identifiers=("db-a",), share_with_account_ids=(PARTNER,))
    ctx = context()
    run_create(engine, ctx, "db-a")
    engine.check.run(ctx)
    (row,) = regions.account.ledger().work("run-1")
    assert (row.state, row.error_code) == (WorkState.FAILED, "DefaultKeyNotShareable")
    assert "share_kms_key_arn" in row.message
    (original,) = regions.account.snapshot_ids()
    assert RdsAdapter(regions.account.rds).shared_with(SourceType.INSTANCE, original) == []


def test_the_key_is_described_once_per_poll_for_all_its_snapshots(regions: Regions) -> None:
    ids = ("db-a", "db-b", "db-c")
    for identifier in ids:
        regions.account.instance(identifier, encrypted=True)
    default_key(regions)
    regions.count(regions.kms[REGION], REGION)
    engine = regions.engine(db_instance_identifiers=ids, share_with_account_ids=(PARTNER,))
    ctx = context()
    run_create(engine, ctx, *ids)
    engine.check.run(ctx)
    assert regions.calls[f"{REGION}:DescribeKey"] == 1
    assert {code for _, code in work(regions).values()} == {"DefaultKeyNotShareable"}


def test_default_key_snapshot_is_shared_through_a_re_encrypted_copy(regions: Regions) -> None:
    regions.account.instance("db-a", encrypted=True)
    default_key(regions)
    share_key = regions.key(REGION)
    engine = regions.engine(
        db_instance_identifiers=("db-a",),
        share_with_account_ids=(PARTNER,),
        share_kms_key_arn=share_key,
    )
    ctx = context()
    run_create(engine, ctx, "db-a")
    (original,) = regions.account.snapshot_ids()
    copy_id = share_copy_id(original, "rsm-test")
    for _ in range(3):  # key check -> re-encrypted copy started -> copy done, shared
        engine.check.run(ctx)
    assert work(regions) == {
        f"share#{REGION}#{original}": ("done", ""),
        f"share_copy#{REGION}#{original}": ("done", ""),
    }
    adapter = RdsAdapter(regions.account.rds)
    assert adapter.shared_with(SourceType.INSTANCE, copy_id) == [PARTNER]
    assert adapter.shared_with(SourceType.INSTANCE, original) == []
    (copy,) = adapter.snapshots_by_id(SourceType.INSTANCE, [copy_id]).values()
    assert (copy.share_copy_of, copy.kms_key_id, copy.managed_by) == (
        original, share_key, "rsm-test",
    )  # fmt: skip
    report = engine.notify.run(ctx)
    assert report.status == "OK"
    (message,) = regions.account.messages(regions.account.report_queue)
    assert message["shared"] == [{
        "snapshot_id": copy_id, "source_id": "db-a", "source_type": "instance",
        "region": REGION, "status": "shared", "account_ids": [PARTNER], "via_copy_of": original,
    }]  # fmt: skip


def test_copy_in_a_region_with_share_is_shared_there_after_it_is_copied(
    regions: Regions,
) -> None:
    regions.account.instance("db-a")
    engine = regions.engine(
        db_instance_identifiers=("db-a",),
        share_with_account_ids=(PARTNER,),
        copy_to_regions=(CopyRegion(EU, share=True),),
    )
    ctx = context()
    run_create(engine, ctx, "db-a")
    engine.check.run(ctx)
    (original,) = regions.account.snapshot_ids()
    assert work(regions)[f"share#{EU}#{original}"] == ("pending", "")
    engine.check.run(ctx)
    assert set(work(regions).values()) == {("done", "")}
    assert RdsAdapter(regions.eu).shared_with(SourceType.INSTANCE, original) == [PARTNER]


def test_a_key_that_cannot_be_described_fails_the_share_with_the_aws_code(
    regions: Regions,
) -> None:
    regions.account.instance("db-a", encrypted=True)
    inject_error(regions.kms[REGION], "DescribeKey", "AccessDeniedException")
    engine = regions.engine(db_instance_identifiers=("db-a",), share_with_account_ids=(PARTNER,))
    ctx = context()
    run_create(engine, ctx, "db-a")
    engine.check.run(ctx)
    (row,) = regions.account.ledger().work("run-1")
    assert (row.state, row.error_code) == (WorkState.FAILED, "AccessDeniedException")
    assert "kms:DescribeKey" in row.message


@pytest.mark.parametrize("accounts", [("all",), ("ALL",), (PARTNER, "all"), ()])
def test_the_adapter_never_shares_publicly_whatever_it_is_given(
    regions: Regions, accounts: tuple[str, ...]
) -> None:
    regions.account.instance("db-a")
    regions.account.snapshot("db-a", f"{OURS}snap")
    regions.count(regions.account.rds, REGION)
    result = RdsAdapter(regions.account.rds).share_snapshot(
        SourceType.INSTANCE, f"{OURS}snap", accounts
    )
    assert (result.state, result.error_code) == (WorkState.FAILED, "ShareRefused")
    assert regions.calls[f"{REGION}:ModifyDBSnapshotAttribute"] == 0


# -- carry-over ------------------------------------------------------------------------------------
def test_unfinished_work_is_carried_to_the_next_run_and_finished_there(regions: Regions) -> None:
    regions.account.instance("db-a")
    regions.account.instance("db-b")
    engine = regions.engine(
        db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU),),
        backup_interval_hours=1,
    )  # fmt: skip
    first = context(run_id="run-1", now=later(hours=-2))
    run_create(engine, first, "db-a")
    engine.notify.run(first)  # the first run timed out before its copy started; lease freed
    (original,) = regions.account.snapshot_ids()

    second = context(run_id="run-2")
    run_create(engine, second, "db-a")
    carried = {w.key: w for w in regions.account.ledger().work("run-2")}
    assert carried[f"copy#{EU}#{original}"].from_run == "run-1"
    assert len(carried) == 2  # the carried copy and this run's own
    engine.check.run(second)
    engine.check.run(second)
    assert set(work(regions, "run-2").values()) == {("done", "")}
    assert original in regions.eu_snapshots()


def test_carried_work_older_than_its_retention_is_reported_expired(regions: Regions) -> None:
    regions.account.instance("db-a")
    engine = regions.engine(
        db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU, retention_days=1),),
        backup_interval_hours=1,
    )  # fmt: skip
    first = context(run_id="run-1", now=later(days=-2))
    run_create(engine, first, "db-a")
    engine.notify.run(first)
    second = context(run_id="run-2")
    run_create(engine, second, "db-a")
    rows = regions.account.ledger().work("run-2")
    expired = [w for w in rows if w.from_run == "run-1"]
    assert [(w.state, w.error_code) for w in expired] == [(WorkState.FAILED, "Expired")]
    engine.check.run(second)
    engine.check.run(second)
    report = engine.notify.run(second)
    assert report.status == "PARTIAL"


# -- prune -----------------------------------------------------------------------------------------
def copied_fleet(regions: Regions, **overrides: Any) -> tuple[Engine, RunContext]:
    """db-a snapshotted and copied to EU by run-1; then a later run, holding the lease."""
    regions.account.instance("db-a")
    settings: dict[str, Any] = {
        "db_instance_identifiers": ("db-a",), "min_snapshots_to_keep": 0,
        "copy_to_regions": (CopyRegion(EU, retention_days=1),),
    } | overrides  # fmt: skip
    engine = regions.engine(**settings)
    first = context(run_id="run-1")
    run_create(engine, first, "db-a")
    for _ in range(3):
        engine.check.run(first)
    engine.notify.run(first)
    later_run = context(run_id="run-2", now=later(days=3))
    hold_lease(regions.account, later_run)
    return engine, later_run


def test_destination_prune_deletes_copies_by_the_regions_own_retention(
    regions: Regions,
) -> None:
    engine, ctx = copied_fleet(regions, retention_days=7)
    (original,) = regions.account.snapshot_ids()
    result = engine.prune.run(ctx)
    assert regions.eu_snapshots() == {}  # 1-day retention in EU
    assert regions.account.snapshot_ids() == {original}  # 7 days at home
    assert result.summary()["deleted"] == 1
    engine.notify.run(ctx)
    messages = regions.account.messages(regions.account.report_queue)
    (message,) = [m for m in messages if m["run_id"] == "run-2"]
    assert message["deleted"] == [
        {"snapshot_id": original, "source_id": "db-a", "source_type": "instance", "region": EU}
    ]


def test_destination_prune_never_touches_another_deployments_or_home_snapshots(
    regions: Regions,
) -> None:
    engine, ctx = copied_fleet(regions, retention_days=7)
    # A same-named deployment whose home is EU: its original there has no CopySourceRegion.
    regions.eu.create_db_instance(
        DBInstanceIdentifier="db-eu", Engine="postgres", DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="password123",
    )  # fmt: skip
    regions.eu.create_db_snapshot(
        DBInstanceIdentifier="db-eu", DBSnapshotIdentifier=f"{OURS}their-own",
        Tags=[{"Key": "ManagedBy", "Value": "rsm-test"}],
    )  # fmt: skip
    engine.prune.run(ctx)
    assert set(regions.eu_snapshots()) == {f"{OURS}their-own"}


def test_destination_with_its_own_retention_days_ignores_the_retention_policy_tiers(
    regions: Regions,
) -> None:
    # The daily tier keeps the only snapshot at home; EU's own 1 day deletes its 3-day-old copy.
    engine, ctx = copied_fleet(regions, retention_days=1, retention_policy=Tiers(daily=7))
    (original,) = regions.account.snapshot_ids()
    engine.prune.run(ctx)
    assert regions.eu_snapshots() == {}
    assert regions.account.snapshot_ids() == {original}


def test_destination_without_retention_days_follows_the_home_tiers(regions: Regions) -> None:
    # retention_days null: the home rule, which the tiers replace (1 day alone would delete it).
    engine, ctx = copied_fleet(
        regions, retention_days=1, retention_policy=Tiers(daily=7),
        copy_to_regions=(CopyRegion(EU),),
    )  # fmt: skip
    (original,) = regions.account.snapshot_ids()
    result = engine.prune.run(ctx)
    assert set(regions.eu_snapshots()) == {original}
    assert regions.account.snapshot_ids() == {original}
    assert result.summary()["deleted"] == 0


def test_a_targets_limited_run_prunes_only_its_targets_copies(regions: Regions) -> None:
    for db in ("db-a", "db-b"):
        regions.account.instance(db)
    engine = regions.engine(
        db_instance_identifiers=("db-a", "db-b"), min_snapshots_to_keep=0,
        copy_to_regions=(CopyRegion(EU, retention_days=1),),
    )  # fmt: skip
    first = context(run_id="run-1")
    run_create(engine, first, "db-a", "db-b")
    for _ in range(3):
        engine.check.run(first)
    engine.notify.run(first)
    assert len(regions.eu_snapshots()) == 2  # both copies expired by EU's day at run-2
    ctx = context(run_id="run-2", now=later(days=3), on_demand=OnDemand(TargetFilter(("db-a",))))
    hold_lease(regions.account, ctx)
    engine.prune.run(ctx)
    assert [tags["SourceId"] for tags in regions.eu_snapshots().values()] == ["db-b"]


def test_a_targets_limited_run_keeps_another_targets_share_copy(regions: Regions) -> None:
    """Create plans a limited run's home prune over its targets only; db-b's share copy is
    then not an orphan (its original is merely out of scope) and is kept."""
    for db in ("db-a", "db-b"):
        regions.account.instance(db)
    original, copy = f"{OURS}db-b-original", f"{OURS}s-db-b-original"
    for snapshot_id, extra in ((original, {}), (copy, {"ShareCopyOf": original})):
        regions.account.rds.create_db_snapshot(
            DBInstanceIdentifier="db-b", DBSnapshotIdentifier=snapshot_id,
            Tags=[{"Key": k, "Value": v} for k, v in ({"ManagedBy": "rsm-test"} | extra).items()],
        )  # fmt: skip
    engine = regions.engine(db_instance_identifiers=("db-a", "db-b"), min_snapshots_to_keep=0)
    ctx = context(on_demand=OnDemand(TargetFilter(("db-a",)), force=True))
    engine.create.run(ctx)
    engine.prune.run(ctx)
    assert {original, copy} <= regions.account.snapshot_ids()


def test_an_on_demand_run_copies_only_the_snapshots_it_made(regions: Regions) -> None:
    for db in ("db-a", "db-b"):
        regions.account.instance(db)
    engine = regions.engine(
        db_instance_identifiers=("db-a", "db-b"),
        copy_to_regions=(CopyRegion(EU, retention_days=3),),
        share_with_account_ids=(PARTNER,),
    )
    ctx = context(on_demand=OnDemand(TargetFilter(("db-a",)), force=True))
    result = engine.create.run(ctx)
    (made,) = [o for o in result.outcomes if o.outcome is Outcome.CREATED]
    assert made.source_id == "db-a"
    rows = regions.account.ledger().work("run-1")
    assert {(w.kind, w.source.source_id, w.snapshot_id) for w in rows} == {
        (WorkKind.COPY, "db-a", made.snapshot_id),
        (WorkKind.SHARE, "db-a", made.snapshot_id),
    }
    for _ in range(3):
        engine.check.run(ctx)
    assert set(regions.eu_snapshots()) == {made.snapshot_id}


def test_copies_and_share_copies_at_home_are_no_backup_and_no_storage(
    regions: Regions,
) -> None:
    """A same-named deployment's copy from another region and our own re-encrypted share copy
    are not `is_ours` originals: neither makes db-a not due, nor counts for its RPO or storage."""
    regions.account.instance("db-a")
    for snapshot_id, extra in (
        (f"{OURS}db-a-from-west", {"CopySourceRegion": "us-west-2"}),
        (f"{OURS}s-db-a-share", {"ShareCopyOf": f"{OURS}db-a-gone"}),
    ):
        regions.account.rds.create_db_snapshot(
            DBInstanceIdentifier="db-a", DBSnapshotIdentifier=snapshot_id,
            Tags=[{"Key": k, "Value": v} for k, v in ({"ManagedBy": "rsm-test", "SourceId": "db-a",
                  "SourceType": "instance"} | extra).items()],
        )  # fmt: skip
    engine = regions.engine(db_instance_identifiers=("db-a",), delete_old_snapshots=False)
    result = engine.create.run(context())
    (outcome,) = result.outcomes
    assert outcome.outcome is Outcome.CREATED  # the copies do not make it not due
    assert outcome.backups is not None
    assert (outcome.backups.newest_at, outcome.backups.count, outcome.backups.gib) == (None, 0, 0)


def test_shared_snapshot_is_unshared_before_it_is_deleted(regions: Regions) -> None:
    engine, ctx = copied_fleet(regions, retention_days=1, share_with_account_ids=(PARTNER,))
    (original,) = regions.account.snapshot_ids()
    assert RdsAdapter(regions.account.rds).shared_with(SourceType.INSTANCE, original) == [PARTNER]
    regions.count(regions.account.rds, REGION)
    engine.prune.run(ctx)
    assert regions.account.snapshot_ids() == set()
    assert regions.calls[f"{REGION}:ModifyDBSnapshotAttribute"] == 1
    assert regions.calls[f"{REGION}:DeleteDBSnapshot"] == 1


def test_a_failed_unshare_fails_that_deletion(regions: Regions) -> None:
    engine, ctx = copied_fleet(regions, retention_days=1, share_with_account_ids=(PARTNER,))
    (original,) = regions.account.snapshot_ids()
    inject_error(regions.account.rds, "ModifyDBSnapshotAttribute", "AccessDenied")
    result = engine.prune.run(ctx)
    assert regions.account.snapshot_ids() == {original}
    (failed,) = [d for d in result.deletions if not d.deleted]
    assert failed.error_code == "AccessDenied"
    assert failed.message.startswith("un-share before deleting failed")


def test_share_copy_is_deleted_with_its_original(regions: Regions) -> None:
    regions.account.instance("db-a", encrypted=True)
    default_key(regions)
    engine = regions.engine(
        db_instance_identifiers=("db-a",), min_snapshots_to_keep=0, retention_days=1,
        share_with_account_ids=(PARTNER,), share_kms_key_arn=regions.key(REGION),
    )  # fmt: skip
    first = context(run_id="run-1")
    run_create(engine, first, "db-a")
    for _ in range(3):
        engine.check.run(first)
    engine.notify.run(first)
    first_run = regions.account.snapshot_ids()
    (original,) = [s for s in first_run if not s.startswith(f"{OURS}s-")]
    assert first_run == {original, share_copy_id(original, "rsm-test")}
    second = context(run_id="run-2", now=later(days=3))
    run_create(engine, second, "db-a")  # plans Prune: the original and its share copy
    result = engine.prune.run(second)
    assert {d.snapshot_id for d in result.deletions if d.deleted} == first_run
    assert not first_run & regions.account.snapshot_ids()


def test_share_copy_whose_original_is_gone_is_deleted(regions: Regions) -> None:
    regions.account.instance("db-a")
    orphan = share_copy_id(f"{OURS}db-a-202601010000-abcdef12", "rsm-test")
    regions.account.rds.create_db_snapshot(
        DBInstanceIdentifier="db-a", DBSnapshotIdentifier=orphan,
        Tags=[{"Key": "ManagedBy", "Value": "rsm-test"},
              {"Key": "ShareCopyOf", "Value": f"{OURS}db-a-202601010000-abcdef12"}],
    )  # fmt: skip
    engine = regions.engine(db_instance_identifiers=("db-a",), backup_interval_hours=1)
    ctx = context(run_id="run-2")
    run_create(engine, ctx, "db-a")
    result = engine.prune.run(ctx)
    assert [d.snapshot_id for d in result.deletions] == [orphan]


# -- report ----------------------------------------------------------------------------------------
def test_report_lists_copies_and_a_failed_copy_makes_the_run_partial(regions: Regions) -> None:
    regions.account.instance("db-a", encrypted=True)
    engine = regions.engine(db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU),))
    ctx = context()
    run_create(engine, ctx, "db-a")
    engine.check.run(ctx)
    assert engine.notify.run(ctx).status == "PARTIAL"
    (original,) = regions.account.snapshot_ids()
    (message,) = regions.account.messages(regions.account.failure_queue)
    (copied,) = message["copied"]
    assert copied["snapshot_id"] == original
    assert (copied["region"], copied["status"], copied["error_code"]) == (
        EU, "failed", "MissingDestinationKey",
    )  # fmt: skip
    assert message["counts"]["copied"] == 1


def test_copy_unfinished_at_the_wait_timeout_is_reported_copying_and_partial(
    regions: Regions,
) -> None:
    regions.account.instance("db-a")
    engine = regions.engine(
        db_instance_identifiers=("db-a",), copy_to_regions=(CopyRegion(EU),),
        wait_timeout_seconds=600,
    )  # fmt: skip
    ctx = context()
    run_create(engine, ctx, "db-a")
    engine.check.run(ctx)  # the copy started
    timed_out = context(started_at=ctx.started_at, now=ctx.now + timedelta(seconds=601))
    answer(regions.eu, "DescribeDBSnapshots", {"DBSnapshots": []})  # not listed yet
    summary = engine.check.run(timed_out).summary()
    assert (summary["done"], summary["timed_out"], summary["work"]) == (True, True, 1)
    assert engine.notify.run(timed_out).status == "PARTIAL"
    (message,) = regions.account.messages(regions.account.report_queue)
    assert message["copied"][0]["status"] == "copying"


# -- on-demand runs limited to named targets (D10) -------------------------------------------------
def test_a_targets_limited_prune_keeps_other_targets_copies_in_copy_regions(
    regions: Regions,
) -> None:
    engine, ctx = copied_fleet(regions, retention_days=7)
    (original,) = regions.account.snapshot_ids()
    regions.account.instance("db-b")
    other = replace(ctx, on_demand=OnDemand(TargetFilter(("db-b",))))
    engine.prune.run(other)  # names db-b only: db-a's expired copy in EU stays
    assert set(regions.eu_snapshots()) == {original}
    named = replace(ctx, on_demand=OnDemand(TargetFilter(("DB-A",))))
    engine.prune.run(named)
    assert regions.eu_snapshots() == {}


def test_a_targets_limited_run_deletes_only_those_targets_share_copies(regions: Regions) -> None:
    orphans = {}
    for source in ("db-a", "db-b"):
        regions.account.instance(source)
        original = f"{OURS}{source}-202601010000-abcdef12"
        orphans[source] = share_copy_id(original, "rsm-test")
        regions.account.rds.create_db_snapshot(
            DBInstanceIdentifier=source, DBSnapshotIdentifier=orphans[source],
            Tags=[{"Key": "ManagedBy", "Value": "rsm-test"},
                  {"Key": "ShareCopyOf", "Value": original},
                  {"Key": "SourceId", "Value": source}, {"Key": "SourceType", "Value": "instance"}],
        )  # fmt: skip
    engine = regions.engine(db_instance_identifiers=("db-a", "db-b"), backup_interval_hours=1)
    ctx = context(run_id="run-2", on_demand=OnDemand(TargetFilter(("db-a",))))
    run_create(engine, ctx, "db-a")  # plans Prune for db-a only
    result = engine.prune.run(ctx)
    assert [d.snapshot_id for d in result.deletions] == [orphans["db-a"]]
    assert orphans["db-b"] in regions.account.snapshot_ids()
