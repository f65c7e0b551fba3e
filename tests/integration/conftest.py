"""Integration tests run against a live LocalStack (``make test-integration`` starts one)."""

from __future__ import annotations

import urllib.request

import pytest

from tests.integration.aws import ENDPOINT


@pytest.fixture(scope="session", autouse=True)
def localstack_is_up() -> None:
    try:
        with urllib.request.urlopen(f"{ENDPOINT}/_localstack/health", timeout=5) as response:
            response.read()
    except OSError as error:
        pytest.fail(f"LocalStack is not reachable at {ENDPOINT} ({error}); run `make localstack-up`.")
