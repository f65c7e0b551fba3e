"""The extension's cross-region copies, sharing and KMS keys (snapshot_copies.py in
localstack_offline): what the disaster-recovery engine calls, answered as RDS answers it, on one
endpoint for every region."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from tools.localstack.harness import (
    COPY_REGION,
    REGION,
    Account,
    Databases,
    client,
    localstack_setting,
    unique_name,
    wait_until,
    zip_bytes,
)

pytestmark = pytest.mark.integration

HOME, AWAY = Account(), Account(region=COPY_REGION)
SHARED_WITH = "111111111111"
REQUEST_LOG = Path(os.environ.get("LAMBDA_REQUEST_LOG") or "/nonexistent")


def error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def wait_available(describe: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        snapshot = describe()
        return snapshot if snapshot["Status"] == "available" else None

    seconds = float(localstack_setting("RDS_SNAPSHOT_CREATE_SECONDS"))
    return wait_until(probe, seconds + 10, "an available snapshot", step=0.2)


def instance_snapshot(rds: Any, snapshot_id: str) -> dict[str, Any]:
    return dict(rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"][0])


def cluster_snapshot(rds: Any, snapshot_id: str) -> dict[str, Any]:
    found = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot_id)
    return dict(found["DBClusterSnapshots"][0])


@pytest.fixture(scope="module")
def away_key() -> Iterator[str]:
    """A customer-managed key in the copy region."""
    kms = AWAY.client("kms")
    key = kms.create_key(Description="rsm copies")["KeyMetadata"]
    yield str(key["Arn"])
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)


@pytest.fixture
def cleanup() -> Iterator[list[tuple[Account, str, str]]]:
    """(account, "instance" | "cluster", snapshot id) to delete after the test."""
    snapshots: list[tuple[Account, str, str]] = []
    yield snapshots
    for account, kind, snapshot_id in snapshots:
        rds = account.client("rds")
        if kind == "cluster":
            rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=snapshot_id)
        else:
            rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot_id)


def test_kms_is_moto_and_the_default_rds_key_is_aws_managed(databases: Databases) -> None:
    kms, rds = HOME.client("kms"), HOME.client("rds")
    instance = databases.add_instance(unique_name("cp-enc"), encrypted=True)

    key_arn = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]["KmsKeyId"]
    managed = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    created = kms.create_key()["KeyMetadata"]

    assert key_arn.startswith(f"arn:aws:kms:{REGION}:")
    assert managed["KeyManager"] == "AWS"
    assert kms.describe_key(KeyId="alias/aws/rds")["KeyMetadata"]["Arn"] == key_arn
    assert created["KeyManager"] == "CUSTOMER"
    kms.schedule_key_deletion(KeyId=created["KeyId"], PendingWindowInDays=7)


def test_cross_region_copy_is_copying_then_available_in_the_destination_with_its_tags_and_key(
    databases: Databases, away_key: str, cleanup: list[tuple[Account, str, str]]
) -> None:
    home, away = HOME.client("rds"), AWAY.client("rds")
    instance = databases.add_instance(unique_name("cp-db"), encrypted=True)
    snapshot_id = f"{instance}-s1"
    source = home.create_db_snapshot(
        DBInstanceIdentifier=instance,
        DBSnapshotIdentifier=snapshot_id,
        Tags=[{"Key": "ManagedBy", "Value": "it"}],
    )["DBSnapshot"]
    cleanup.append((HOME, "instance", snapshot_id))
    wait_available(lambda: instance_snapshot(home, snapshot_id))
    tags = [{"Key": "ManagedBy", "Value": "it"}, {"Key": "CopySourceRegion", "Value": REGION}]

    copied = away.copy_db_snapshot(
        SourceDBSnapshotIdentifier=source["DBSnapshotArn"],
        TargetDBSnapshotIdentifier=snapshot_id,
        SourceRegion=REGION,  # boto3 adds the PreSignedUrl
        KmsKeyId=away_key,
        Tags=tags,
    )["DBSnapshot"]
    cleanup.append((AWAY, "instance", snapshot_id))
    available = wait_available(lambda: instance_snapshot(away, snapshot_id))

    assert copied["Status"] == "copying"
    assert (
        copied["DBSnapshotArn"] == f"arn:aws:rds:{COPY_REGION}:000000000000:snapshot:{snapshot_id}"
    )
    assert available["TagList"] == tags
    assert available["KmsKeyId"] == away_key
    assert instance_snapshot(home, snapshot_id)["KmsKeyId"] == source["KmsKeyId"] != away_key
    listed = away.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert snapshot_id in {s["DBSnapshotIdentifier"] for s in listed}
    assert (
        error_code(
            lambda: away.copy_db_snapshot(
                SourceDBSnapshotIdentifier=source["DBSnapshotArn"],
                TargetDBSnapshotIdentifier=snapshot_id,
                SourceRegion=REGION,
                KmsKeyId=away_key,
            )
        )
        == "DBSnapshotAlreadyExists"
    )


def test_cross_region_cluster_copy_reaches_the_destination(
    databases: Databases, away_key: str, cleanup: list[tuple[Account, str, str]]
) -> None:
    home, away = HOME.client("rds"), AWAY.client("rds")
    cluster = databases.add_cluster(unique_name("cp-aurora"), encrypted=True)
    snapshot_id = f"{cluster}-s1"
    source = home.create_db_cluster_snapshot(
        DBClusterIdentifier=cluster, DBClusterSnapshotIdentifier=snapshot_id
    )["DBClusterSnapshot"]
    cleanup.append((HOME, "cluster", snapshot_id))
    wait_available(lambda: cluster_snapshot(home, snapshot_id))

    copied = away.copy_db_cluster_snapshot(
        SourceDBClusterSnapshotIdentifier=source["DBClusterSnapshotArn"],
        TargetDBClusterSnapshotIdentifier=snapshot_id,
        SourceRegion=REGION,
        KmsKeyId=away_key,
        Tags=[{"Key": "CopySourceRegion", "Value": REGION}],
    )["DBClusterSnapshot"]
    cleanup.append((AWAY, "cluster", snapshot_id))
    available = wait_available(lambda: cluster_snapshot(away, snapshot_id))

    assert copied["Status"] == "copying"
    assert available["KmsKeyId"] == away_key
    assert available["TagList"] == [{"Key": "CopySourceRegion", "Value": REGION}]
    assert cluster_snapshot(home, snapshot_id)["KmsKeyId"] == source["KmsKeyId"]


def test_copies_that_rds_refuses_are_refused(
    databases: Databases, away_key: str, cleanup: list[tuple[Account, str, str]]
) -> None:
    home, away = HOME.client("rds"), AWAY.client("rds")
    instance = databases.add_instance(unique_name("cp-refused"), encrypted=True)
    snapshot_id = f"{instance}-s1"
    arn = home.create_db_snapshot(DBInstanceIdentifier=instance, DBSnapshotIdentifier=snapshot_id)[
        "DBSnapshot"
    ]["DBSnapshotArn"]
    cleanup.append((HOME, "instance", snapshot_id))

    def copy(**extra: str) -> Callable[[], Any]:
        return lambda: away.copy_db_snapshot(
            SourceDBSnapshotIdentifier=arn,
            TargetDBSnapshotIdentifier=snapshot_id,
            SourceRegion=REGION,
            **extra,
        )

    still_creating = error_code(copy(KmsKeyId=away_key))
    wait_available(lambda: instance_snapshot(home, snapshot_id))
    home_key = home.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"][0][
        "KmsKeyId"
    ]

    assert still_creating == "InvalidDBSnapshotState"
    assert error_code(copy()) == "InvalidParameterValue"  # encrypted: needs a destination key
    assert error_code(copy(KmsKeyId=home_key)) == "KMSKeyNotAccessibleFault"  # another region's
    listed = away.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert snapshot_id not in {s["DBSnapshotIdentifier"] for s in listed}


def test_a_share_lists_exactly_the_account_and_default_key_snapshots_cannot_be_shared(
    databases: Databases, cleanup: list[tuple[Account, str, str]]
) -> None:
    rds, kms = HOME.client("rds"), HOME.client("kms")
    plain = databases.add_instance(unique_name("cp-plain"))
    encrypted = databases.add_instance(unique_name("cp-default-key"), encrypted=True)
    for instance in (plain, encrypted):
        rds.create_db_snapshot(DBInstanceIdentifier=instance, DBSnapshotIdentifier=f"{instance}-s1")
        cleanup.append((HOME, "instance", f"{instance}-s1"))
        wait_available(lambda instance=instance: instance_snapshot(rds, f"{instance}-s1"))
    key = kms.create_key()["KeyMetadata"]
    # The remedy the engine applies: a same-region copy with a customer-managed key, shared.
    rds.copy_db_snapshot(
        SourceDBSnapshotIdentifier=f"{encrypted}-s1",
        TargetDBSnapshotIdentifier=f"{encrypted}-shareable",
        KmsKeyId=key["Arn"],
    )
    cleanup.append((HOME, "instance", f"{encrypted}-shareable"))
    wait_available(lambda: instance_snapshot(rds, f"{encrypted}-shareable"))

    def share(snapshot_id: str, account: str = SHARED_WITH) -> Callable[[], Any]:
        return lambda: rds.modify_db_snapshot_attribute(
            DBSnapshotIdentifier=snapshot_id, AttributeName="restore", ValuesToAdd=[account]
        )

    def shared_with(snapshot_id: str) -> list[str]:
        found = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=snapshot_id)
        [restore] = found["DBSnapshotAttributesResult"]["DBSnapshotAttributes"]
        return list(restore["AttributeValues"])

    share(f"{plain}-s1")()
    share(f"{encrypted}-shareable")()

    assert shared_with(f"{plain}-s1") == [SHARED_WITH]
    assert shared_with(f"{encrypted}-shareable") == [SHARED_WITH]
    assert error_code(share(f"{encrypted}-s1")) == "InvalidParameterValue"
    assert error_code(share(f"{encrypted}-shareable", "all")) == "InvalidParameterValue"
    assert shared_with(f"{encrypted}-s1") == []
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier=f"{plain}-s1", AttributeName="restore", ValuesToRemove=[SHARED_WITH]
    )
    assert shared_with(f"{plain}-s1") == []
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)


FUNCTION_CODE = """
import boto3

def handler(event, context):
    rds = boto3.client("rds", region_name=event["region"])
    return len(rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"])
"""


def test_host_lambda_reaches_localstack_in_another_region_and_the_request_log_says_which(
    databases: Databases,
) -> None:
    lambda_ = client("lambda")
    name = unique_name("cp-region")
    role = client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    lambda_.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_bytes({"app.py": FUNCTION_CODE})},
        Timeout=10,
    )
    lambda_.get_waiter("function_active_v2").wait(FunctionName=name)
    response = lambda_.invoke(FunctionName=name, Payload=json.dumps({"region": COPY_REGION}))

    assert "FunctionError" not in response, response["Payload"].read()
    assert isinstance(json.loads(response["Payload"].read()), int)
    if not REQUEST_LOG.exists():
        pytest.skip(f"LocalStack runs without LAMBDA_REQUEST_LOG ({REQUEST_LOG}): not checked")
    records = [json.loads(line) for line in REQUEST_LOG.read_text().splitlines() if line.strip()]
    assert {"function": name, "service": "rds", "operation": "DescribeDBSnapshots",
            "region": COPY_REGION, "params": {"SnapshotType": "manual"}} in records  # fmt: skip
    lambda_.delete_function(FunctionName=name)
