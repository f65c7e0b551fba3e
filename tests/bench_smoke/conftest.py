"""The bench smoke tests run with the repository root and lambda_src on the path."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    yield
    boto3.DEFAULT_SESSION = None  # the probe installs its own default session
