"""RDS: describes (one paginated pass, tags from TagList), creates, deletes, status checks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from rds_snapshot_manager.adapters import error_code, error_message
from rds_snapshot_manager.domain.model import (
    Database,
    Deletion,
    Quota,
    Snapshot,
    SourceRef,
    SourceType,
    TargetOutcome,
    parse_utc,
)
from rds_snapshot_manager.domain.restore import Problem, RestoreTestConfig, TempDb
from rds_snapshot_manager.domain.work import PUBLIC, ActionResult, WorkState
from rds_snapshot_manager.iterables import chunked

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_rds.type_defs import PaginatorConfigTypeDef, TagTypeDef

PAGE: PaginatorConfigTypeDef = {"PageSize": 100}
# Filter values per describe call when Check looks up this run's snapshots by id.
IDS_PER_CALL = 100
ALREADY_EXISTS = frozenset({"DBSnapshotAlreadyExists", "DBClusterSnapshotAlreadyExistsFault"})
NOT_FOUND = frozenset({"DBInstanceNotFound", "DBInstanceNotFoundFault", "DBClusterNotFoundFault"})
INVALID_STATE = frozenset(
    {"InvalidDBInstanceState", "InvalidDBInstanceStateFault", "InvalidDBClusterStateFault"}
)
SNAPSHOT_NOT_FOUND = frozenset({"DBSnapshotNotFound", "DBSnapshotNotFoundFault",
                                "DBClusterSnapshotNotFoundFault"})  # fmt: skip
DB_ALREADY_EXISTS = frozenset({"DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault",
                               "DBClusterAlreadyExistsFault"})  # fmt: skip
DB_NOT_FOUND = frozenset({"DBInstanceNotFound", "DBInstanceNotFoundFault",
                          "DBClusterNotFoundFault"})  # fmt: skip
QUOTA_EXCEEDED = frozenset({"SnapshotQuotaExceeded", "SnapshotQuotaExceededFault"})
TAG_MANAGED_BY = "ManagedBy"
TAG_RUN_ID = "RunId"
TAG_RUN_STARTED_AT = "RunStartedAt"
TAG_COPY_SOURCE_REGION = "CopySourceRegion"
TAG_SHARE_COPY_OF = "ShareCopyOf"
# A copy refused for lack of room (manual snapshot quota, the per-region limit of concurrent
# copies, throttling) waits for a later poll or run; it is never dropped.
COPY_WAIT = QUOTA_EXCEEDED | {"Throttling"}
ACCOUNT_DIGITS = 12
TAG_RUN_REASON = "RunReason"  # an on-demand run's reason (D7)


class _SnapshotApi(NamedTuple):
    """Names per snapshot kind in the RDS API."""

    operation: str
    list_key: str
    id_field: str
    source_field: str
    id_filter: str
    arn_type: str


_SNAPSHOT_API = {
    SourceType.INSTANCE: _SnapshotApi("describe_db_snapshots", "DBSnapshots",
                                      "DBSnapshotIdentifier", "DBInstanceIdentifier",
                                      "db-snapshot-id", "snapshot"),
    SourceType.CLUSTER: _SnapshotApi("describe_db_cluster_snapshots", "DBClusterSnapshots",
                                     "DBClusterSnapshotIdentifier", "DBClusterIdentifier",
                                     "db-cluster-snapshot-id", "cluster-snapshot"),
}  # fmt: skip

logger = logging.getLogger(__name__)


def _tags(tag_list: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in tag_list or ()}


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def tag_time(value: datetime) -> str:
    """A time as a tag value: ISO 8601 UTC to the second (`2026-11-25T01:00:07Z`)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tag_time(value: str | None) -> datetime | None:
    """A time tag read back; anything unparsable (edited by hand) counts as no time."""
    return parse_utc(value) if value else None


def snapshot_arn(
    partition: str, region: str, account: str, source_type: SourceType, snapshot_id: str
) -> str:
    return (
        f"arn:{partition}:rds:{region}:{account}:"
        f"{_SNAPSHOT_API[source_type].arn_type}:{snapshot_id}"
    )


def _copied_from(item: Mapping[str, Any]) -> str | None:
    """The region a snapshot was copied from, per RDS: `SourceRegion` of a DB snapshot, the
    region of `SourceDBClusterSnapshotArn` of a cluster snapshot; None for an original."""
    region = item.get("SourceRegion")
    if region:
        return str(region)
    arn = str(item.get("SourceDBClusterSnapshotArn") or "").split(":")
    return arn[3] if len(arn) > 3 else None


class RdsAdapter:
    def __init__(self, client: RDSClient) -> None:
        self._client = client

    # -- databases -------------------------------------------------------------------------------
    def instances(self) -> list[Database]:
        pages = self._client.get_paginator("describe_db_instances").paginate(PaginationConfig=PAGE)
        return [
            Database(
                ref=SourceRef(SourceType.INSTANCE, item["DBInstanceIdentifier"]),
                status=item.get("DBInstanceStatus", ""),
                tags=tuple(sorted(_tags(item.get("TagList")).items())),
                cluster_id=item.get("DBClusterIdentifier") or None,
                created_at=_utc(item.get("InstanceCreateTime")),
            )
            for page in pages
            for item in page.get("DBInstances", [])
        ]

    def clusters(self) -> list[Database]:
        pages = self._client.get_paginator("describe_db_clusters").paginate(PaginationConfig=PAGE)
        return [
            Database(
                ref=SourceRef(SourceType.CLUSTER, item["DBClusterIdentifier"]),
                status=item.get("Status", ""),
                tags=tuple(sorted(_tags(item.get("TagList")).items())),
                created_at=_utc(item.get("ClusterCreateTime")),
            )
            for page in pages
            for item in page.get("DBClusters", [])
        ]

    # -- snapshots -------------------------------------------------------------------------------
    def manual_snapshots(self, source_type: SourceType) -> Iterator[Snapshot]:
        """Every manual snapshot of one kind, 100 per call, tags read from TagList."""
        for item in self._snapshot_items(source_type, SnapshotType="manual"):
            yield self._snapshot(source_type, item)

    def snapshots_by_id(self, source_type: SourceType, ids: Sequence[str]) -> dict[str, Snapshot]:
        """The given snapshots only (Filters on the ids, 100 per call), by id."""
        api = _SNAPSHOT_API[source_type]
        return {
            item[api.id_field]: self._snapshot(source_type, item)
            for chunk in chunked(ids, IDS_PER_CALL)
            for item in self._snapshot_items(
                source_type, Filters=[{"Name": api.id_filter, "Values": chunk}]
            )
        }

    def _snapshot_items(self, source_type: SourceType, **params: Any) -> Iterator[dict[str, Any]]:
        """The raw snapshots of one kind a paginated describe call returns, 100 per call."""
        api = _SNAPSHOT_API[source_type]
        pages = self._client.get_paginator(api.operation).paginate(  # type: ignore[call-overload]
            PaginationConfig=PAGE, **params
        )
        for page in pages:
            yield from page.get(api.list_key, [])

    @staticmethod
    def _snapshot(source_type: SourceType, item: Mapping[str, Any]) -> Snapshot:
        api = _SNAPSHOT_API[source_type]
        tags = _tags(item.get("TagList"))
        return Snapshot(
            snapshot_id=item[api.id_field],
            source=SourceRef(source_type, item.get(api.source_field, "")),
            status=item.get("Status", ""),
            created_at=_utc(item.get("SnapshotCreateTime")),
            managed_by=tags.get(TAG_MANAGED_BY),
            run_id=tags.get(TAG_RUN_ID),
            run_started_at=_tag_time(tags.get(TAG_RUN_STARTED_AT)),
            engine=item.get("Engine", ""),
            copy_source_region=tags.get(TAG_COPY_SOURCE_REGION),
            share_copy_of=tags.get(TAG_SHARE_COPY_OF),
            # DB snapshots say `Encrypted`, cluster snapshots `StorageEncrypted`.
            kms_key_id=(
                item.get("KmsKeyId")
                if item.get("Encrypted", item.get("StorageEncrypted"))
                else None
            ),
            copied_from_region=_copied_from(item),
            allocated_gib=float(item.get("AllocatedStorage") or 0),
        )

    def quota(self) -> Quota | None:
        """The account's manual snapshot quotas, or None when the API does not answer."""
        try:
            response = self._client.describe_account_attributes()
        except Exception as error:  # noqa: BLE001 - the quota is advisory, and has a fallback
            # Denied, refused by an emulator (moto: NotImplementedError), or a fault past the
            # retries (e.g. ResponseParserError, not a BotoCoreError): no run fails for it.
            logger.warning(
                "DescribeAccountAttributes unavailable, using the fallback quota: %s", error
            )
            return None
        limits = {q["AccountQuotaName"]: int(q["Max"]) for q in response.get("AccountQuotas", [])}
        if "ManualSnapshots" not in limits:
            return None
        return Quota(
            limits["ManualSnapshots"],
            limits.get("ManualClusterSnapshots", limits["ManualSnapshots"]),
        )

    # -- changes ---------------------------------------------------------------------------------
    def create_snapshot(
        self, source: SourceRef, snapshot_id: str, tags: Mapping[str, str]
    ) -> TargetOutcome:
        """Creates the snapshot with its tags in the same call; AlreadyExists means a retry of
        this run already made it, which is success."""
        tag_list: list[TagTypeDef] = [{"Key": key, "Value": value} for key, value in tags.items()]
        try:
            if source.source_type is SourceType.INSTANCE:
                status = self._client.create_db_snapshot(
                    DBInstanceIdentifier=source.source_id,
                    DBSnapshotIdentifier=snapshot_id,
                    Tags=tag_list,
                )["DBSnapshot"].get("Status", "creating")
            else:
                status = self._client.create_db_cluster_snapshot(
                    DBClusterIdentifier=source.source_id,
                    DBClusterSnapshotIdentifier=snapshot_id,
                    Tags=tag_list,
                )["DBClusterSnapshot"].get("Status", "creating")
        except ClientError as error:
            code, message = error_code(error), error_message(error)
            if code in ALREADY_EXISTS:
                return TargetOutcome.created(source, snapshot_id, "creating")
            if code in INVALID_STATE:
                return TargetOutcome.skipped(
                    source, f"{source.source_type} state forbids a snapshot: {message}"
                )
            if code in NOT_FOUND:
                code = "NotFound"
            elif code in QUOTA_EXCEEDED:
                code = "SnapshotQuotaExceeded"
            return TargetOutcome.failed(source.source_id, source.source_type, code, message)
        return TargetOutcome.created(source, snapshot_id, status)

    def copy_snapshot(
        self,
        source_type: SourceType,
        source_arn: str,
        target_id: str,
        *,
        source_region: str | None,
        kms_key_id: str | None,
        tags: Mapping[str, str],
    ) -> ActionResult:
        """Copies a snapshot into this adapter's region (a client of the DESTINATION region).

        `source_region` (cross-region) makes boto3 presign the source region's request. Tags are
        sent explicitly and CopyTags is off: RDS ignores CopyTags when Tags are given, and the
        explicit set is what IAM's tag conditions check (Amazon RDS API Reference, CopyDBSnapshot:
        "If you specify tags ... CopyTags ... "; moto documents the same, tested against AWS).
        AlreadyExists is our own copy from an earlier or overlapping poll: started."""
        tag_list: list[TagTypeDef] = [{"Key": key, "Value": value} for key, value in tags.items()]
        extra: dict[str, Any] = {}
        if source_region:
            extra["SourceRegion"] = source_region
        if kms_key_id:
            extra["KmsKeyId"] = kms_key_id
        try:
            if source_type is SourceType.INSTANCE:
                self._client.copy_db_snapshot(
                    SourceDBSnapshotIdentifier=source_arn,
                    TargetDBSnapshotIdentifier=target_id,
                    Tags=tag_list,
                    **extra,
                )
            else:
                self._client.copy_db_cluster_snapshot(
                    SourceDBClusterSnapshotIdentifier=source_arn,
                    TargetDBClusterSnapshotIdentifier=target_id,
                    Tags=tag_list,
                    **extra,
                )
        except ClientError as error:
            code, message = error_code(error), error_message(error)
            if code in ALREADY_EXISTS:
                return ActionResult(WorkState.STARTED)
            if code in COPY_WAIT or "concurrent" in message.lower():
                return ActionResult(WorkState.PENDING, code, message)
            return ActionResult(WorkState.FAILED, code, message)
        return ActionResult(WorkState.STARTED)

    def share_snapshot(
        self, source_type: SourceType, snapshot_id: str, account_ids: Sequence[str]
    ) -> ActionResult:
        """Adds the accounts to the snapshot's `restore` attribute. Never `all` (public), nor
        anything but 12-digit account ids, whatever the caller passes: refused without a call."""
        refused = [a for a in account_ids if not (a.isdigit() and len(a) == ACCOUNT_DIGITS)]
        if refused or not account_ids:
            return ActionResult(
                WorkState.FAILED,
                "ShareRefused",
                f"refused to share {snapshot_id} with {refused or 'no account'}: only 12-digit "
                f"account ids are shared with, never {PUBLIC!r} (public)",
            )
        try:
            self._modify_restore(source_type, snapshot_id, add=list(account_ids))
        except ClientError as error:
            return ActionResult(WorkState.FAILED, error_code(error), error_message(error))
        return ActionResult(WorkState.DONE)

    def _modify_restore(
        self,
        source_type: SourceType,
        snapshot_id: str,
        add: list[str] | None = None,
        remove: list[str] | None = None,
    ) -> None:
        values: dict[str, Any] = {"ValuesToAdd": add} if add else {"ValuesToRemove": remove}
        if source_type is SourceType.INSTANCE:
            self._client.modify_db_snapshot_attribute(
                DBSnapshotIdentifier=snapshot_id, AttributeName="restore", **values
            )
        else:
            self._client.modify_db_cluster_snapshot_attribute(
                DBClusterSnapshotIdentifier=snapshot_id, AttributeName="restore", **values
            )

    def shared_with(self, source_type: SourceType, snapshot_id: str) -> list[str]:
        """The accounts in the snapshot's `restore` attribute."""
        if source_type is SourceType.INSTANCE:
            result = self._client.describe_db_snapshot_attributes(DBSnapshotIdentifier=snapshot_id)[
                "DBSnapshotAttributesResult"
            ]
            attributes = result.get("DBSnapshotAttributes", [])
        else:
            cluster = self._client.describe_db_cluster_snapshot_attributes(
                DBClusterSnapshotIdentifier=snapshot_id
            )["DBClusterSnapshotAttributesResult"]
            attributes = cluster.get("DBClusterSnapshotAttributes", [])
        return [
            str(value)
            for attribute in attributes
            if attribute.get("AttributeName") == "restore"
            for value in attribute.get("AttributeValues", [])
        ]

    def delete_snapshot(self, snapshot: Snapshot, unshare: Sequence[str] = ()) -> Deletion:
        """Deletes the snapshot; with `unshare` (the deployment's share accounts), first removes
        those of them it is shared with. A failed un-share fails the deletion."""
        try:
            shared = (
                [a for a in self.shared_with(snapshot.source.source_type, snapshot.snapshot_id)
                 if a in unshare]
                if unshare else []
            )  # fmt: skip
            if shared:
                self._modify_restore(
                    snapshot.source.source_type, snapshot.snapshot_id, remove=shared
                )
        except ClientError as error:
            code = error_code(error)
            if code in SNAPSHOT_NOT_FOUND:
                return Deletion(snapshot.snapshot_id, snapshot.source, True, message="already gone")
            return Deletion(
                snapshot.snapshot_id, snapshot.source, False, code,
                f"un-share before deleting failed: {error_message(error)}",
            )  # fmt: skip
        try:
            if snapshot.source.source_type is SourceType.INSTANCE:
                self._client.delete_db_snapshot(DBSnapshotIdentifier=snapshot.snapshot_id)
            else:
                self._client.delete_db_cluster_snapshot(
                    DBClusterSnapshotIdentifier=snapshot.snapshot_id
                )
        except ClientError as error:
            code = error_code(error)
            if code in SNAPSHOT_NOT_FOUND:  # a retried Prune, or deleted meanwhile
                return Deletion(snapshot.snapshot_id, snapshot.source, True, message="already gone")
            return Deletion(
                snapshot.snapshot_id, snapshot.source, False, code, error_message(error)
            )
        return Deletion(snapshot.snapshot_id, snapshot.source, True)

    # -- restore tests (domain/restore.py) -------------------------------------------------------
    def db_statuses(self, source_type: SourceType, ids: Sequence[str]) -> dict[str, str]:
        """Status by id of the given instances or clusters only (Filters on the ids, 100 per
        call); an id RDS does not list is absent."""
        if source_type is SourceType.INSTANCE:
            operation, key, filter_name = "describe_db_instances", "DBInstances", "db-instance-id"
            id_field, status_field = "DBInstanceIdentifier", "DBInstanceStatus"
        else:
            operation, key, filter_name = "describe_db_clusters", "DBClusters", "db-cluster-id"
            id_field, status_field = "DBClusterIdentifier", "Status"
        statuses: dict[str, str] = {}
        for chunk in chunked(ids, IDS_PER_CALL):
            pages = self._client.get_paginator(operation).paginate(  # type: ignore[call-overload]
                PaginationConfig=PAGE, Filters=[{"Name": filter_name, "Values": chunk}]
            )
            for page in pages:
                statuses.update(
                    {str(item[id_field]): str(item.get(status_field, "")) for item in page[key]}
                )
        return statuses

    def cluster_snapshot_engine(self, snapshot_id: str) -> str:
        """The engine of a cluster snapshot, which RestoreDBClusterFromSnapshot requires."""
        items = self._client.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot_id)[
            "DBClusterSnapshots"
        ]
        return str(items[0].get("Engine", "")) if items else ""

    def restore(
        self,
        snapshot: Snapshot,
        temp: TempDb,
        config: RestoreTestConfig,
        tags: Mapping[str, str],
    ) -> Problem | None:
        """Starts restoring `snapshot` into the temporary database, tagged in the same call; None
        when started (or when a retry finds it already started: AlreadyExists)."""
        network: dict[str, Any] = {"VpcSecurityGroupIds": list(config.vpc_security_group_ids)}
        if config.db_subnet_group_name:
            network["DBSubnetGroupName"] = config.db_subnet_group_name
        if temp.source_type is SourceType.INSTANCE:
            return _attempt(
                lambda: self._client.restore_db_instance_from_db_snapshot(
                    DBInstanceIdentifier=temp.db_id,
                    DBSnapshotIdentifier=snapshot.snapshot_id,
                    DBInstanceClass=config.instance_class,
                    MultiAZ=False,
                    PubliclyAccessible=False,
                    DeletionProtection=False,
                    Tags=_tag_list(tags),
                    **network,
                ),
                DB_ALREADY_EXISTS,
            )
        problem = _attempt(
            lambda: self._client.restore_db_cluster_from_snapshot(
                DBClusterIdentifier=temp.db_id,
                SnapshotIdentifier=snapshot.snapshot_id,
                Engine=snapshot.engine,
                DeletionProtection=False,
                Tags=_tag_list(tags),
                **network,
            ),
            DB_ALREADY_EXISTS,
        )
        if problem is not None:
            return problem
        # An Aurora cluster restored from a snapshot has no instance: its one writer is created in
        # the cluster (RDS accepts it while the cluster is still being created).
        return _attempt(
            lambda: self._client.create_db_instance(
                DBInstanceIdentifier=temp.writer_id,
                DBClusterIdentifier=temp.db_id,
                Engine=snapshot.engine,
                DBInstanceClass=config.instance_class,
                PubliclyAccessible=False,
                Tags=_tag_list(tags),
            ),
            DB_ALREADY_EXISTS,
        )

    def delete_temp_db(self, temp: TempDb) -> Problem | None:
        """Deletes a temporary database without a final snapshot and with its automated backups;
        a cluster's writer first (RDS deletes a cluster only once its instances are deleting).
        Gone already (a retry, or Check deleted it) is success."""
        if temp.source_type is SourceType.INSTANCE or temp.writer_id:
            problem = _attempt(
                lambda: self._client.delete_db_instance(
                    DBInstanceIdentifier=temp.writer_id or temp.db_id,
                    SkipFinalSnapshot=True,
                    DeleteAutomatedBackups=True,
                ),
                DB_NOT_FOUND,
            )
            if problem is not None or temp.source_type is SourceType.INSTANCE:
                return problem
        return _attempt(
            lambda: self._client.delete_db_cluster(
                DBClusterIdentifier=temp.db_id, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
            ),
            DB_NOT_FOUND,
        )


def _tag_list(tags: Mapping[str, str]) -> list[TagTypeDef]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _attempt(call: Callable[[], object], tolerated: frozenset[str]) -> Problem | None:
    """Runs one restore-test call: None when it succeeded or failed with a `tolerated` code
    (AlreadyExists: a retry meets its own database; NotFound: already deleted)."""
    try:
        call()
    except ClientError as error:
        if error_code(error) not in tolerated:
            return Problem(error_code(error), error_message(error))
    return None
