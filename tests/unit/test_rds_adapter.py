from datetime import UTC

from botocore.parsers import ResponseParserError
from botocore.stub import Stubber

from rds_snapshot_manager.adapters.rds import RdsAdapter
from rds_snapshot_manager.domain.model import Outcome, Quota, SourceRef, SourceType
from tests.unit.conftest import (
    NAME,
    Account,
    count_calls,
    inject_error,
    inject_errors_by,
    inject_exception,
)

DB_A = SourceRef(SourceType.INSTANCE, "db-a")
AURORA = SourceRef(SourceType.CLUSTER, "aurora-1")
TAGS = {"ManagedBy": NAME, "RunId": "run-1", "SourceId": "db-a", "SourceType": "instance"}


def test_instances_and_clusters_come_with_tags_and_membership_from_one_describe_each(
    account: Account,
) -> None:
    account.instance("db-a", tags={"backup": "true"})
    account.cluster("aurora-1", tags={"backup": "true"}, engine="aurora-mysql", members=1)
    count_calls(account)
    adapter = RdsAdapter(account.rds)
    instances = {db.ref.source_id: db for db in adapter.instances()}
    clusters = adapter.clusters()
    assert instances["db-a"].tags == (("backup", "true"),)
    assert instances["aurora-1-1"].cluster_id == "aurora-1"
    assert [(c.ref, c.tags) for c in clusters] == [(AURORA, (("backup", "true"),))]
    assert account.calls == {"DescribeDBInstances": 1, "DescribeDBClusters": 1}


def test_manual_snapshots_are_listed_100_per_call_with_tags_from_tag_list(account: Account) -> None:
    account.instance("db-a")
    for index in range(150):
        account.snapshot("db-a", f"snap-{index:03d}", managed_by=NAME if index % 2 else None)
    requests: list[dict[str, object]] = []
    account.rds.meta.events.register(
        "before-parameter-build.rds.DescribeDBSnapshots",
        lambda params, **_: requests.append(params),
    )
    snapshots = list(RdsAdapter(account.rds).manual_snapshots(SourceType.INSTANCE))
    assert len(snapshots) == 150
    assert sum(1 for s in snapshots if s.managed_by == NAME) == 75
    assert all(s.created_at is not None and s.created_at.tzinfo == UTC for s in snapshots)
    # moto answers in one page; real RDS pages by MaxRecords, and tags come with each page.
    assert [(r["SnapshotType"], r["MaxRecords"]) for r in requests] == [("manual", 100)]


def test_snapshots_by_id_look_up_only_the_given_ids(account: Account) -> None:
    account.cluster("aurora-1")
    account.snapshot("aurora-1", "mine", cluster=True)
    account.snapshot("aurora-1", "other", cluster=True)
    found = RdsAdapter(account.rds).snapshots_by_id(SourceType.CLUSTER, ["mine", "gone"])
    assert {snapshot_id: s.status for snapshot_id, s in found.items()} == {"mine": "available"}


def test_create_tags_the_snapshot_in_the_same_call_and_works_for_encrypted_databases(
    account: Account,
) -> None:
    account.instance("db-a", encrypted=True)
    count_calls(account)
    outcome = RdsAdapter(account.rds).create_snapshot(DB_A, "db-a-snap", TAGS)
    assert (outcome.outcome, outcome.snapshot_id) == (Outcome.CREATED, "db-a-snap")
    snapshot = account.rds.describe_db_snapshots(DBSnapshotIdentifier="db-a-snap")["DBSnapshots"][0]
    assert snapshot["Encrypted"] is True
    assert {t["Key"]: t["Value"] for t in snapshot["TagList"]} == TAGS
    assert "AddTagsToResource" not in account.calls


def test_create_retry_meeting_its_own_snapshot_counts_as_created(account: Account) -> None:
    account.cluster("aurora-1")
    adapter = RdsAdapter(account.rds)
    adapter.create_snapshot(AURORA, "aurora-snap", TAGS)
    retried = adapter.create_snapshot(AURORA, "aurora-snap", TAGS)
    assert (retried.outcome, retried.snapshot_id) == (Outcome.CREATED, "aurora-snap")


def test_create_translates_errors_into_outcomes(account: Account) -> None:
    account.instance("db-a")
    adapter = RdsAdapter(account.rds)
    cases = {
        "Throttling": (Outcome.FAILED, "Throttling"),
        "RequestLimitExceeded": (Outcome.FAILED, "Throttling"),
        "SnapshotQuotaExceeded": (Outcome.FAILED, "SnapshotQuotaExceeded"),
        "DBInstanceNotFound": (Outcome.FAILED, "NotFound"),
        "KMSKeyNotAccessibleFault": (Outcome.FAILED, "KMSKeyNotAccessibleFault"),
        "InvalidDBInstanceState": (Outcome.SKIPPED, ""),
    }
    inject_errors_by(
        account.rds, "CreateDBSnapshot", "DBSnapshotIdentifier", {code: code for code in cases}
    )
    for code, expected in cases.items():
        outcome = adapter.create_snapshot(DB_A, code, TAGS)
        assert (outcome.outcome, outcome.error_code) == expected, code
    skipped = adapter.create_snapshot(DB_A, "InvalidDBInstanceState", TAGS)
    assert skipped.reason.startswith("instance state forbids a snapshot")


def test_quota_falls_back_to_none_when_describe_account_attributes_is_unavailable(
    account: Account,
) -> None:
    assert RdsAdapter(account.rds).quota() is None


def test_quota_falls_back_to_none_on_a_fault_past_the_retries(account: Account) -> None:
    # A garbled answer raises ResponseParserError, neither a ClientError nor a BotoCoreError.
    inject_exception(
        account.rds, "DescribeAccountAttributes", lambda: ResponseParserError("not XML")
    )
    assert RdsAdapter(account.rds).quota() is None


def test_quota_is_read_from_describe_account_attributes(account: Account) -> None:
    with Stubber(account.rds) as stub:
        stub.add_response(
            "describe_account_attributes",
            {"AccountQuotas": [
                {"AccountQuotaName": "ManualSnapshots", "Used": 3, "Max": 200},
                {"AccountQuotaName": "ManualClusterSnapshots", "Used": 1, "Max": 150},
            ]},
        )  # fmt: skip
        stub.add_response("describe_account_attributes", {"AccountQuotas": []})
        adapter = RdsAdapter(account.rds)
        assert adapter.quota() == Quota(instance=200, cluster=150)
        assert adapter.quota() is None


def test_delete_reports_failure_without_raising(account: Account) -> None:
    account.instance("db-a")
    account.snapshot("db-a", "old")
    adapter = RdsAdapter(account.rds)
    snapshot = next(adapter.manual_snapshots(SourceType.INSTANCE))
    inject_error(account.rds, "DeleteDBSnapshot", "InvalidDBSnapshotState")
    deletion = adapter.delete_snapshot(snapshot)
    assert (deletion.deleted, deletion.error_code) == (False, "InvalidDBSnapshotState")
    assert "old" in account.snapshot_ids()
