"""Builds a scenario's fleet straight into moto's backends (fast; not measured).

Snapshots are backdated by setting the moto model's `created`, which is what moto reports as
SnapshotCreateTime. Managed snapshots carry the tags the engine writes (ManagedBy, RunId,
SourceId, SourceType; see lambda_src/rds_snapshot_manager/services/create.py).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import boto3
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.rds.models import RDSBackend, rds_backends

from bench.scenarios import INTERVAL_HOURS, NAME, REGION, RETENTION_DAYS, Scenario
from rds_snapshot_manager.adapters.ledger import TABLE_KEYS
from rds_snapshot_manager.domain.naming import ownership_prefix

SELECTION_TAG = {"Key": "backup", "Value": "true"}
NOT_DUE_AGE = timedelta(hours=2)
EXPIRED_AGE = timedelta(days=RETENTION_DAYS + 1)
# Young snapshots sit between the interval and retention, so every such target is due.
YOUNG_OLDEST = timedelta(days=RETENTION_DAYS) - timedelta(hours=1)
YOUNG_NEWEST = timedelta(hours=INTERVAL_HOURS + 1)


class Source(NamedTuple):
    source_id: str
    is_cluster: bool

    @property
    def kind(self) -> str:
        return "cluster" if self.is_cluster else "instance"


@dataclass
class Fleet:
    """What the fixture holds, so a run can check the engine did exactly the right thing."""

    instances: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    due: int = 0
    expired_managed: set[str] = field(default_factory=set)
    unmanaged: set[str] = field(default_factory=set)
    # Per kind ("instance", "cluster"): targets due, and manual snapshots before the run.
    due_by_kind: Counter[str] = field(default_factory=Counter)
    manual_by_kind: Counter[str] = field(default_factory=Counter)
    quota: int = 0
    env: dict[str, str] = field(default_factory=dict)
    # Disaster recovery: the copies already in each copy region, by (region, id): the expired
    # ones Prune must delete there, and a same-named deployment's own snapshots there (no
    # CopySourceRegion tag) that it must leave alone (D8).
    expired_copies: set[tuple[str, str]] = field(default_factory=set)
    copies: int = 0
    foreign_in_copy_regions: set[tuple[str, str]] = field(default_factory=set)
    # Every home snapshot id before the run: the rest are the run's new ones.
    before: set[str] = field(default_factory=set)

    def creatable(self) -> int:
        """How many due targets the quota leaves room for; the engine must refuse the rest in
        advance, without calling RDS."""
        return sum(
            min(self.due_by_kind[kind], max(self.quota - self.manual_by_kind[kind], 0))
            for kind in ("instance", "cluster")
        )


def managed_ages(count: int, due: bool) -> list[timedelta]:
    """Ages of one target's managed snapshots, oldest first: a quarter expired, the rest
    spread between the interval and retention; a target that is not due has a 2-hour-old newest."""
    expired = round(count / 4)
    young = count - expired
    step = (YOUNG_OLDEST - YOUNG_NEWEST) / max(young - 1, 1)
    ages = [EXPIRED_AGE + timedelta(hours=count - i) for i in range(expired)]
    ages += [YOUNG_OLDEST - step * i for i in range(young)]
    if not due and ages:
        ages[-1] = NOT_DUE_AGE
    return ages


def build(scenario: Scenario, now: datetime) -> Fleet:
    """Call inside an active `mock_aws()`."""
    rds = rds_backends[DEFAULT_ACCOUNT_ID][REGION]
    fleet = Fleet()
    clusters = round(scenario.targets * scenario.cluster_share)
    not_due_every = round(1 / scenario.not_due_share) if scenario.not_due_share else 0
    per_target, extra = divmod(scenario.snapshots, scenario.targets)
    sources: list[Source] = []
    for index in range(scenario.targets):
        is_cluster = index < clusters
        source = Source(
            _add_cluster(rds, index) if is_cluster else _add_instance(rds, index), is_cluster
        )
        sources.append(source)
        (fleet.clusters if is_cluster else fleet.instances).append(source.source_id)
        due = not (not_due_every and index % not_due_every == 0)
        fleet.due += due
        fleet.due_by_kind[source.kind] += due
        ages = managed_ages(per_target + (index < extra), due)
        for number, age in enumerate(ages):
            snapshot_id = _snapshot_id(source.source_id, now - age, number)
            tags = [
                {"Key": "ManagedBy", "Value": NAME},
                {"Key": "RunId", "Value": f"earlier-run-{number}"},
                {"Key": "SourceId", "Value": source.source_id},
                {"Key": "SourceType", "Value": source.kind},
            ]
            snapshot = _add_snapshot(rds, source, snapshot_id, tags, now - age)
            fleet.manual_by_kind[source.kind] += 1
            expired = age >= timedelta(days=RETENTION_DAYS)
            if expired:
                fleet.expired_managed.add(snapshot_id)
            if scenario.share_accounts:  # what earlier runs shared
                snapshot.attributes["restore"] = list(scenario.share_accounts)
            for region in scenario.copy_regions:  # an earlier run's copy, tagged as ours (D8)
                copy_tags = [*tags, {"Key": "CopySourceRegion", "Value": REGION}]
                _add_copy(region, source, snapshot, copy_tags, now - age)
                fleet.copies += 1
                if expired:
                    fleet.expired_copies.add((region, snapshot_id))
    for number in range(scenario.unmanaged):
        source = sources[number % scenario.targets]
        snapshot_id = f"manual-{source.source_id}-{number}"
        # Half carry no ManagedBy tag, half another deployment's: Prune must touch neither.
        owner = "dba" if number % 2 else "another-deployment"
        tags = [{"Key": "owner" if number % 2 else "ManagedBy", "Value": owner}]
        _add_snapshot(rds, source, snapshot_id, tags, now - 4 * EXPIRED_AGE)
        fleet.manual_by_kind[source.kind] += 1
        fleet.unmanaged.add(snapshot_id)
    for region in scenario.copy_regions:
        for number, source in enumerate(sources[: scenario.unmanaged]):
            foreign = _foreign_snapshot(region, source, now, number)
            fleet.foreign_in_copy_regions.add((region, foreign))
    fleet.before = set(rds.database_snapshots) | set(rds.cluster_snapshots)
    fleet.quota = scenario.snapshot_quota or scenario.quota
    fleet.env = _ledger_and_topics(fleet.quota) | _disaster_recovery(scenario)
    return fleet


def _add_instance(rds: RDSBackend, index: int) -> str:
    source_id = f"db-{index:05d}"
    rds.create_db_instance(
        {
            "db_instance_identifier": source_id,
            "db_instance_class": "db.t3.micro",
            "engine": "postgres",
            "tags": [SELECTION_TAG],
        }
    )
    return source_id


def _add_cluster(rds: RDSBackend, index: int) -> str:
    """An Aurora cluster with one writer instance; the writer carries the selection tag too (as
    with CopyTagsToSnapshot setups) and must resolve to its cluster, not be snapshotted itself."""
    source_id = f"aurora-{index:05d}"
    cluster = rds.create_db_cluster(
        {
            "db_cluster_identifier": source_id,
            "engine": "aurora-postgresql",
            "master_username": "admin_user",
            "master_user_password": "not-a-secret-1",
            "tags": [SELECTION_TAG],
        }
    )
    cluster.status = "available"  # moto reports "creating" once otherwise
    rds.create_db_instance(
        {
            "db_instance_identifier": f"{source_id}-writer",
            "db_instance_class": "db.r6g.large",
            "engine": "aurora-postgresql",
            "db_cluster_identifier": source_id,
            "tags": [SELECTION_TAG],
        }
    )
    return source_id


def _add_snapshot(
    rds: RDSBackend, source: Source, snapshot_id: str, tags: list[dict[str, str]], created: datetime
) -> Any:
    snapshot = (
        rds.create_db_cluster_snapshot(source.source_id, snapshot_id, tags=tags)
        if source.is_cluster
        else rds.create_db_snapshot(source.source_id, snapshot_id, tags=tags)
    )
    snapshot.created = created  # what moto reports as SnapshotCreateTime
    return snapshot


def _add_copy(
    region: str, source: Source, original: Any, tags: list[dict[str, str]], created: datetime
) -> None:
    """A copy of `original` in `region` under the same id, made at `created`."""
    rds = rds_backends[DEFAULT_ACCOUNT_ID][region]
    copy = (
        rds.copy_db_cluster_snapshot(original.arn, original.resource_id, tags=tags)
        if source.is_cluster
        else rds.copy_db_snapshot(original.arn, original.resource_id, tags=tags)
    )
    copy.created = created


def _foreign_snapshot(region: str, source: Source, now: datetime, number: int) -> str:
    """A snapshot that a deployment of the same name in `region` made there itself: our prefix
    and ManagedBy tag, but no CopySourceRegion. Ours to leave alone, however old (D8). Made as a
    copy of a home snapshot that is then deleted, since the database lives at home."""
    home = rds_backends[DEFAULT_ACCOUNT_ID][REGION]
    snapshot_id = f"{ownership_prefix(NAME)}{region}-own-{number}"
    original = _add_snapshot(home, source, snapshot_id, [], now)
    tags = [{"Key": "ManagedBy", "Value": NAME}, {"Key": "SourceId", "Value": source.source_id}]
    _add_copy(region, source, original, tags, now - 4 * EXPIRED_AGE)
    (home.delete_db_cluster_snapshot if source.is_cluster else home.delete_db_snapshot)(snapshot_id)
    return snapshot_id


def _disaster_recovery(scenario: Scenario) -> dict[str, str]:
    """RSM_COPY_TO_REGIONS and RSM_SHARE_WITH_ACCOUNT_IDS (D6): copies kept by the home rule."""
    env = {}
    if scenario.copy_regions:
        regions = [
            {"region": region, "kms_key_arn": None, "retention_days": None, "share": False}
            for region in scenario.copy_regions
        ]
        env["RSM_COPY_TO_REGIONS"] = json.dumps(regions)
    if scenario.share_accounts:
        env["RSM_SHARE_WITH_ACCOUNT_IDS"] = json.dumps(list(scenario.share_accounts))
    return env


def _snapshot_id(source_id: str, created: datetime, number: int) -> str:
    """The engine's shape: `<ownership prefix><source>-<yyyymmddHHMM>-<8 hex>`."""
    digest = hashlib.sha256(f"{source_id}\n{number}".encode()).hexdigest()[:8]
    return f"{ownership_prefix(NAME)}{source_id}-{created:%Y%m%d%H%M}-{digest}"


def _ledger_and_topics(quota: int) -> dict[str, str]:
    """The ledger table (key schema of ARCHITECTURE.md), both topics, and the run's settings.

    Made with a session of its own, so these calls are not counted as the engine's.
    """
    session = boto3.session.Session(region_name=REGION)
    table = f"{NAME}-ledger"
    session.client("dynamodb").create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST", **TABLE_KEYS
    )
    sns = session.client("sns")
    return {
        "RSM_NAME": NAME,
        "RSM_LEDGER_TABLE": table,
        "RSM_REPORT_TOPIC_ARN": sns.create_topic(Name=f"{NAME}-report")["TopicArn"],
        "RSM_FAILURE_TOPIC_ARN": sns.create_topic(Name=f"{NAME}-failure")["TopicArn"],
        "RSM_SELECTION_TAGS": '{"backup": "true"}',
        "RSM_BACKUP_INTERVAL_HOURS": str(INTERVAL_HOURS),
        "RSM_RETENTION_DAYS": str(RETENTION_DAYS),
        "RSM_MIN_SNAPSHOTS_TO_KEEP": "1",
        "RSM_MANUAL_SNAPSHOT_QUOTA": str(quota),
    }
