"""The host worker's request recording (LAMBDA_REQUEST_LOG), on a real worker process.

The handler calls AWS through boto3 at an endpoint where nothing listens: the call fails, but
botocore has already announced it, and that announcement is what the IAM proof records.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

WORKER = Path("tools/localstack_ext/localstack_offline/host_worker.py").resolve()

HANDLER = """
import boto3
from botocore.config import Config

def handler(event, context):
    config = Config(retries={"max_attempts": 0}, connect_timeout=1)
    rds = boto3.client("rds", endpoint_url="http://127.0.0.1:9", region_name="eu-west-1",
                       aws_access_key_id="k", aws_secret_access_key="s", config=config)
    try:
        rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="snap-1",
                               Tags=[{"Key": "ManagedBy", "Value": "rsm"}])
    except Exception as error:
        return type(error).__name__
    return "no error"
"""


def run_worker(tmp_path: Path, request_log: Path | None) -> list[dict[str, object]]:
    (tmp_path / "fn.py").write_text(HANDLER)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LAMBDA_TASK_ROOT": str(tmp_path),
        "_HANDLER": "fn.handler",
        "AWS_LAMBDA_FUNCTION_NAME": "rsm-create",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "20",
    }
    if request_log is not None:
        env["LAMBDA_REQUEST_LOG"] = str(request_log)
    request = {
        "request_id": "r1",
        "invoked_function_arn": "arn:aws:lambda:::function:f",
        "payload": "{}",
    }
    result = subprocess.run(
        [sys.executable, str(WORKER)],
        input=json.dumps(request) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_api_call_is_recorded_with_function_operation_region_and_params(
    tmp_path: Path,
) -> None:
    log = tmp_path / "requests.jsonl"

    messages = run_worker(tmp_path, log)

    result = [m for m in messages if m["type"] == "result"]
    assert result[0]["is_error"] is False
    assert "EndpointConnectionError" in str(result[0]["payload"])
    assert [json.loads(line) for line in log.read_text().splitlines()] == [
        {
            "function": "rsm-create",
            "service": "rds",
            "operation": "CreateDBSnapshot",
            "region": "eu-west-1",
            "params": {
                "DBInstanceIdentifier": "orders-db",
                "DBSnapshotIdentifier": "snap-1",
                "Tags": [{"Key": "ManagedBy", "Value": "rsm"}],
            },
        }
    ]


def test_recording_is_off_without_the_variable(tmp_path: Path) -> None:
    messages = run_worker(tmp_path, None)

    assert any(m["type"] == "result" for m in messages)
    assert list(tmp_path.glob("*.jsonl")) == []
