"""The offline LocalStack extension itself: moto-backed RDS and DynamoDB, Lambda on the host."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tools.localstack.harness import (
    Databases,
    client,
    localstack_setting,
    run_state_machine,
    unique_name,
    wait_until,
    zip_bytes,
)

pytestmark = pytest.mark.integration

FUNCTION_CODE = """
import json, logging, os, time
import boto3

logging.getLogger().setLevel(logging.INFO)

def handler(event, context):
    print("printed", os.environ["GREETING"])
    logging.info("logged %s", context.aws_request_id)
    if "sleep" in event:
        time.sleep(event["sleep"])
    if "fail" in event:
        raise KeyError(event["fail"])
    if "exit" in event:
        os._exit(event["exit"])
    if "snapshot_of" in event:
        boto3.client("rds").create_db_snapshot(
            DBInstanceIdentifier=event["snapshot_of"], DBSnapshotIdentifier=event["snapshot_id"]
        )
    return {"greeting": os.environ["GREETING"], "event": event,
            "remaining_ms": context.get_remaining_time_in_millis()}
"""
TIMEOUT_SECONDS = 3


@pytest.fixture(scope="module")
def role_arn() -> str:
    role = client("iam").create_role(
        RoleName=unique_name("ext-test"),
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}),
    )
    return str(role["Role"]["Arn"])


def create_function(role_arn: str, handler: str) -> str:
    lambda_ = client("lambda")
    name = unique_name("ext-test")
    lambda_.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler=handler,
        Code={"ZipFile": zip_bytes({"app.py": FUNCTION_CODE})},
        Timeout=TIMEOUT_SECONDS,
        Environment={"Variables": {"GREETING": "hello"}},
    )
    lambda_.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


@pytest.fixture(scope="module")
def function_name(role_arn: str) -> Iterator[str]:
    name = create_function(role_arn, "app.handler")
    yield name
    client("lambda").delete_function(FunctionName=name)


def invoke(function_name: str, event: dict[str, Any]) -> dict[str, Any]:
    return client("lambda").invoke(  # type: ignore[no-any-return]
        FunctionName=function_name, Payload=json.dumps(event), LogType="Tail"
    )


def test_host_lambda_returns_result_with_function_environment(function_name: str) -> None:
    response = invoke(function_name, {"n": 1})

    assert "FunctionError" not in response
    result = json.loads(response["Payload"].read())
    assert result["greeting"] == "hello"
    assert result["event"] == {"n": 1}
    assert 0 < result["remaining_ms"] <= TIMEOUT_SECONDS * 1000


def test_host_lambda_logs_reach_cloudwatch_logs(function_name: str) -> None:
    response = invoke(function_name, {})
    request_id = response["ResponseMetadata"]["RequestId"]
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "printed hello" in tail

    logs = client("logs")

    def logged_lines() -> list[str] | None:
        try:  # LocalStack stores the logs in the background, creating the group on first use
            events = logs.filter_log_events(
                logGroupName=f"/aws/lambda/{function_name}", filterPattern=f'"{request_id}"'
            )["events"]
        except logs.exceptions.ResourceNotFoundException:
            return None
        lines = [event["message"] for event in events]
        # The START line can be stored before the function's own lines: wait for the logged one.
        return lines if any(f"logged {request_id}" in line for line in lines) else None

    lines = wait_until(logged_lines, 15, f"'logged {request_id}' in CloudWatch Logs")
    [logged] = [line for line in lines if line.endswith(f"logged {request_id}\n")]
    assert logged.startswith("[INFO]\t")  # Lambda's format: level, time, request id, message
    assert f"\t{request_id}\t" in logged
    assert any(line.startswith(f"REPORT RequestId: {request_id}") for line in lines)


def test_host_lambda_handler_error_is_function_error(function_name: str) -> None:
    response = invoke(function_name, {"fail": "missing"})

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "KeyError"
    assert "missing" in error["errorMessage"]


def test_host_lambda_timeout_kills_the_run_and_next_invoke_works(function_name: str) -> None:
    started = time.monotonic()
    response = invoke(function_name, {"sleep": TIMEOUT_SECONDS + 30})
    elapsed = time.monotonic() - started

    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "Sandbox.Timedout"
    assert f"Task timed out after {TIMEOUT_SECONDS}.00 seconds" in error["errorMessage"]
    assert elapsed < TIMEOUT_SECONDS + 10
    assert "FunctionError" not in invoke(function_name, {"after": "timeout"})


def test_host_lambda_process_exit_is_reported_and_next_invoke_works(function_name: str) -> None:
    response = invoke(function_name, {"exit": 3})

    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in error["errorMessage"]
    assert "FunctionError" not in invoke(function_name, {"after": "exit"})


def test_host_lambda_missing_handler_is_reported_on_invoke(role_arn: str) -> None:
    name = create_function(role_arn, "app.no_such_handler")

    error = json.loads(invoke(name, {})["Payload"].read())

    assert error["errorType"] == "Runtime.HandlerNotFound"
    assert "no_such_handler" in error["errorMessage"]
    client("lambda").delete_function(FunctionName=name)


def test_rds_and_dynamodb_are_served_by_moto(databases: Databases) -> None:
    rds, dynamodb = client("rds"), client("dynamodb")
    instance, table = databases.add_instance(unique_name("ext-db")), unique_name("ext-table")
    rds.create_db_snapshot(DBInstanceIdentifier=instance, DBSnapshotIdentifier=f"{instance}-s1")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "value": {"N": "1"}})

    snapshots = rds.describe_db_snapshots(DBSnapshotIdentifier=f"{instance}-s1")["DBSnapshots"]
    assert snapshots[0]["DBInstanceIdentifier"] == instance
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]
    assert item["value"] == {"N": "1"}
    rds.delete_db_snapshot(DBSnapshotIdentifier=f"{instance}-s1")
    dynamodb.delete_table(TableName=table)


def test_new_snapshots_are_creating_then_available_after_the_configured_time(
    databases: Databases,
) -> None:
    create_seconds = float(localstack_setting("RDS_SNAPSHOT_CREATE_SECONDS"))
    assert create_seconds > 0, "the harness configures a creation time, so that Check polls"
    rds = client("rds")
    instance = databases.add_instance(unique_name("ext-timing"))
    cluster = databases.add_cluster(unique_name("ext-timing"))
    started = time.time()
    created = {
        "instance": rds.create_db_snapshot(
            DBInstanceIdentifier=instance, DBSnapshotIdentifier=f"{instance}-s1"
        )["DBSnapshot"]["Status"],
        "cluster": rds.create_db_cluster_snapshot(
            DBClusterIdentifier=cluster, DBClusterSnapshotIdentifier=f"{cluster}-s1"
        )["DBClusterSnapshot"]["Status"],
    }

    def statuses() -> dict[str, str]:
        snapshot = rds.describe_db_snapshots(DBSnapshotIdentifier=f"{instance}-s1")
        cluster_snapshot = rds.describe_db_cluster_snapshots(
            DBClusterSnapshotIdentifier=f"{cluster}-s1"
        )
        return {
            "instance": snapshot["DBSnapshots"][0]["Status"],
            "cluster": cluster_snapshot["DBClusterSnapshots"][0]["Status"],
        }

    def all_available() -> dict[str, str] | None:
        current = statuses()
        return current if set(current.values()) == {"available"} else None

    first_described = statuses()
    assert time.time() - started < create_seconds, "too slow to see the creating phase"
    available = wait_until(
        all_available, create_seconds + 10, "the new snapshots to become available", step=0.2
    )
    took = time.time() - started

    assert created == first_described == {"instance": "creating", "cluster": "creating"}
    assert available == {"instance": "available", "cluster": "available"}
    assert create_seconds <= took < create_seconds + 5
    rds.delete_db_snapshot(DBSnapshotIdentifier=f"{instance}-s1")
    rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=f"{cluster}-s1")


def test_state_machine_task_runs_host_lambda_that_calls_rds(
    function_name: str, role_arn: str, databases: Databases
) -> None:
    rds, sfn = client("rds"), client("stepfunctions")
    instance = databases.add_instance(unique_name("ext-chain"))
    function_arn = client("lambda").get_function(FunctionName=function_name)["Configuration"][
        "FunctionArn"
    ]
    definition = {
        "StartAt": "Snapshot",
        "States": {"Snapshot": {"Type": "Task", "Resource": function_arn, "End": True}},
    }
    machine = sfn.create_state_machine(
        name=unique_name("ext-chain"), roleArn=role_arn, definition=json.dumps(definition)
    )["stateMachineArn"]

    execution = run_state_machine(
        machine, {"snapshot_of": instance, "snapshot_id": f"{instance}-by-lambda"}
    )

    assert execution["status"] == "SUCCEEDED"
    snapshot = rds.describe_db_snapshots(DBSnapshotIdentifier=f"{instance}-by-lambda")
    assert snapshot["DBSnapshots"][0]["DBInstanceIdentifier"] == instance
    sfn.delete_state_machine(stateMachineArn=machine)
    rds.delete_db_snapshot(DBSnapshotIdentifier=f"{instance}-by-lambda")
