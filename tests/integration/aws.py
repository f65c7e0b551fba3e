"""boto3 clients for the LocalStack under test, and helpers shared by the integration tests."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Callable
from typing import Any, TypeVar

import boto3

ENDPOINT = os.environ.get("LOCALSTACK_ENDPOINT", "http://127.0.0.1:4566")
REGION = "us-east-1"
T = TypeVar("T")


def client(service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def wait_until(probe: Callable[[], T | None], timeout: float, what: str, step: float = 1) -> T:
    """Poll ``probe`` until it returns something other than None; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def finished_execution(execution_arn: str, timeout: float = 120) -> dict[str, Any]:
    sfn = client("stepfunctions")

    def probe() -> dict[str, Any] | None:
        execution = sfn.describe_execution(executionArn=execution_arn)
        return None if execution["status"] == "RUNNING" else execution

    return wait_until(probe, timeout, f"execution {execution_arn}", step=0.5)


def run_state_machine(
    state_machine_arn: str, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Start an execution, wait for its end, and return describe_execution's answer."""
    started = client("stepfunctions").start_execution(
        stateMachineArn=state_machine_arn, input=json.dumps(payload or {})
    )
    return finished_execution(started["executionArn"])
