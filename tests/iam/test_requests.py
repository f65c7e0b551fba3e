"""The call -> authorisation-check table (tools/iam/requests.py), against the Service
Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/):
rds (list_amazonrds.html), dynamodb (list_amazondynamodb.html), s3 (list_amazons3.html), sns,
states, lambda."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tools.iam.evaluator import Request
from tools.iam.requests import (
    Call,
    Deployment,
    UnmappedOperationError,
    authorizations,
    share_value_violations,
)

D = Deployment(
    name="rsm",
    partition="aws",
    region="eu-west-1",
    account="123456789012",
    table_name="rsm-ledger",
    report_topic_arn="arn:aws:sns:eu-west-1:123456789012:rsm-report",
    failure_topic_arn="arn:aws:sns:eu-west-1:123456789012:rsm-failure",
    state_machine_arn="arn:aws:states:eu-west-1:123456789012:stateMachine:rsm",
    function_arns={},
    kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/k",
)
RDS = "arn:aws:rds:eu-west-1:123456789012"
TAGS = [{"Key": "ManagedBy", "Value": "rsm"}, {"Key": "RunId", "Value": "r1"}]
REQUEST_TAGS = {"aws:RequestTag/ManagedBy": "rsm", "aws:RequestTag/RunId": "r1"}


def test_prefix_is_rsm_and_eight_hex_of_sha256_of_the_name() -> None:
    # D1; sha256(b"rsm").hexdigest() starts with 7a7fc2c0.
    assert D.prefix == "rsm-7a7fc2c0-"


def test_create_with_tags_needs_both_resources_and_add_tags_with_request_tags() -> None:
    call = Call(
        "rds",
        "CreateDBSnapshot",
        {"DBInstanceIdentifier": "Orders-DB", "DBSnapshotIdentifier": "Snap-1", "Tags": TAGS},
    )
    context = {**REQUEST_TAGS, "aws:TagKeys": ["ManagedBy", "RunId"]}

    assert authorizations(D, call) == [
        Request("rds:CreateDBSnapshot", f"{RDS}:db:orders-db", context),
        Request("rds:CreateDBSnapshot", f"{RDS}:snapshot:snap-1", context),
        Request("rds:AddTagsToResource", f"{RDS}:snapshot:snap-1", context),
    ]


def test_create_without_tags_needs_no_add_tags() -> None:
    call = Call(
        "rds",
        "CreateDBClusterSnapshot",
        {"DBClusterIdentifier": "aurora", "DBClusterSnapshotIdentifier": "s"},
    )

    assert [r.action for r in authorizations(D, call)] == ["rds:CreateDBClusterSnapshot"] * 2
    assert authorizations(D, call)[0].resource == f"{RDS}:cluster:aurora"


def test_delete_is_checked_against_the_snapshots_tags() -> None:
    call = Call(
        "rds", "DeleteDBSnapshot", {"DBSnapshotIdentifier": "s"}, resource_tags={"ManagedBy": "rsm"}
    )

    assert authorizations(D, call) == [
        Request("rds:DeleteDBSnapshot", f"{RDS}:snapshot:s", {"aws:ResourceTag/ManagedBy": "rsm"})
    ]


@pytest.mark.parametrize(
    ("params", "resource"),
    [
        ({}, f"{RDS}:snapshot:*"),
        ({"DBInstanceIdentifier": "db1"}, f"{RDS}:db:db1"),
        ({"DBSnapshotIdentifier": "s1"}, f"{RDS}:snapshot:s1"),
    ],
)
def test_describe_names_the_resource_or_lists_every_one(
    params: dict[str, str], resource: str
) -> None:
    assert authorizations(D, Call("rds", "DescribeDBSnapshots", params))[0].resource == resource


def test_region_of_the_call_goes_into_the_arn() -> None:
    call = Call("rds", "DescribeDBInstances", {}, region="us-west-2")
    assert authorizations(D, call)[0].resource == "arn:aws:rds:us-west-2:123456789012:db:*"


def test_dynamodb_index_batch_and_transactions() -> None:
    table = "arn:aws:dynamodb:eu-west-1:123456789012:table/rsm-ledger"
    query = Call("dynamodb", "Query", {"TableName": "rsm-ledger", "IndexName": "history"})
    batch = Call("dynamodb", "BatchWriteItem", {"RequestItems": {"rsm-ledger": [], "other": []}})
    transaction = Call(
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "rsm-ledger"}},
                {"ConditionCheck": {"TableName": "rsm-ledger"}},
            ]
        },
    )

    assert authorizations(D, query) == [Request("dynamodb:Query", f"{table}/index/history")]
    assert [r.resource for r in authorizations(D, batch)] == [
        table,
        "arn:aws:dynamodb:eu-west-1:123456789012:table/other",
    ]
    assert [r.action for r in authorizations(D, transaction)] == [
        "dynamodb:PutItem",
        "dynamodb:ConditionCheckItem",
    ]


def test_publish_to_an_encrypted_topic_of_ours_needs_the_key() -> None:
    ours = authorizations(D, Call("sns", "Publish", {"TopicArn": D.report_topic_arn}))
    theirs = authorizations(D, Call("sns", "Publish", {"TopicArn": "arn:aws:sns:eu-west-1:1:x"}))

    assert [r.action for r in ours] == ["sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"]
    assert [r.action for r in theirs] == ["sns:Publish"]


def test_s3_head_is_get_object_and_listing_is_list_bucket() -> None:
    head = authorizations(D, Call("s3", "HeadObject", {"Bucket": "b", "Key": "k/x.txt"}))
    listing = authorizations(D, Call("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "k/"}))

    assert head == [Request("s3:GetObject", "arn:aws:s3:::b/k/x.txt")]
    assert listing == [Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "k/"})]


def test_service_role_calls_and_identity_needing_no_permission() -> None:
    invoke = authorizations(D, Call("lambda", "Invoke", {"FunctionName": "rsm-create"}))
    start = authorizations(
        D, Call("stepfunctions", "StartExecution", {"stateMachineArn": D.state_machine_arn})
    )

    assert invoke == [
        Request(
            "lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:123456789012:function:rsm-create"
        )
    ]
    assert start == [Request("states:StartExecution", D.state_machine_arn)]
    assert authorizations(D, Call("sts", "GetCallerIdentity", {})) == []


@pytest.mark.parametrize(
    ("service", "operation"), [("rds", "RebootDBInstance"), ("ec2", "RunInstances")]
)
def test_an_unmapped_operation_is_never_waved_through(service: str, operation: str) -> None:
    with pytest.raises(UnmappedOperationError):
        authorizations(D, Call(service, operation, {}))


DR = replace(
    D,
    kms_key_arn=None,
    copy_to_regions=({"region": "us-east-1", "kms_key_arn": "arn:aws:kms:us-east-1:1:key/k"},),
    share_with_account_ids=("210987654321",),
)


def test_a_copy_is_checked_on_the_source_with_its_tags_and_on_the_target_with_the_key() -> None:
    """CopyDBSnapshot: the source (home ARN, its own tags) and the target (destination Region,
    request tags), AddTagsToResource on the target, and what RDS does with the key for the caller:
    kms:CreateGrant (a grant for an AWS resource) and kms:DescribeKey."""
    source = f"{RDS}:snapshot:s1"
    call = Call(
        "rds",
        "CopyDBSnapshot",
        {
            "SourceDBSnapshotIdentifier": source,
            "TargetDBSnapshotIdentifier": "s1",
            "KmsKeyId": "arn:aws:kms:us-east-1:1:key/k",
            "Tags": TAGS,
        },
        region="us-east-1",
        resource_tags={"ManagedBy": "rsm"},
    )
    context = {**REQUEST_TAGS, "aws:TagKeys": ["ManagedBy", "RunId"]}
    target = "arn:aws:rds:us-east-1:123456789012:snapshot:s1"

    assert authorizations(DR, call) == [
        Request("rds:CopyDBSnapshot", source, {**context, "aws:ResourceTag/ManagedBy": "rsm"}),
        Request("rds:CopyDBSnapshot", target, context),
        Request("rds:AddTagsToResource", target, context),
        Request(
            "kms:CreateGrant", "arn:aws:kms:us-east-1:1:key/k", {"kms:GrantIsForAWSResource": True}
        ),
        Request("kms:DescribeKey", "arn:aws:kms:us-east-1:1:key/k"),
    ]


def test_kms_calls_by_key_id_and_a_grant_the_caller_makes_itself() -> None:
    describe = Call("kms", "DescribeKey", {"KeyId": "k1"}, region="us-east-1")
    grant = Call("kms", "CreateGrant", {"KeyId": "arn:aws:kms:eu-west-1:1:key/k2"})

    assert authorizations(DR, describe) == [
        Request("kms:DescribeKey", "arn:aws:kms:us-east-1:123456789012:key/k1")
    ]
    assert authorizations(DR, grant) == [
        Request(
            "kms:CreateGrant",
            "arn:aws:kms:eu-west-1:1:key/k2",
            {"kms:GrantIsForAWSResource": False},
        )
    ]
    with pytest.raises(UnmappedOperationError):
        authorizations(DR, Call("kms", "DescribeKey", {"KeyId": "alias/aws/rds"}))


@pytest.mark.parametrize(
    ("params", "violations"),
    [
        ({"AttributeName": "restore", "ValuesToAdd": ["210987654321"]}, []),
        ({"AttributeName": "restore", "ValuesToRemove": ["all", "999999999999"]}, []),
        (
            {"AttributeName": "restore", "ValuesToAdd": ["ALL"]},
            ["ValuesToAdd makes the snapshot public ('all')"],
        ),
        (
            {"AttributeName": "restore", "ValuesToAdd": ["210987654321", "999999999999"]},
            ["ValuesToAdd has accounts not in share_with_account_ids: ['999999999999']"],
        ),
        (
            {"AttributeName": "other", "ValuesToAdd": ["210987654321"]},
            ["AttributeName 'other' is not 'restore'"],
        ),
    ],
)
def test_share_values_are_held_to_the_listed_accounts_and_never_public(
    params: dict[str, object], violations: list[str]
) -> None:
    """What IAM cannot check (no condition key on the attribute values): adding 'all' or an
    unlisted account; removing any value is un-sharing and always fine."""
    call = Call("rds", "ModifyDBSnapshotAttribute", {"DBSnapshotIdentifier": "s1", **params})

    assert share_value_violations(DR, call) == violations
