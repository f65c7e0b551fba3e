"""Integration tests run against a live LocalStack (``make test-integration`` starts one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.localstack.harness import ENDPOINT, Databases, Deployment, init, localstack_status


@pytest.fixture(scope="session", autouse=True)
def localstack_is_up() -> None:
    try:
        localstack_status("health")
    except OSError as error:
        pytest.fail(f"LocalStack is not reachable at {ENDPOINT} ({error}); `make localstack-up`.")


@pytest.fixture(scope="session")
def terraform_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("terraform-data")
    init(data_dir)
    return data_dir


@pytest.fixture(scope="session")
def deploy(
    terraform_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str, dict[str, Any]], Deployment]]:
    """Apply a deployment with ``deploy(name, variables)``; every one is destroyed at the end."""
    applied: list[Deployment] = []

    def apply(name: str, variables: dict[str, Any]) -> Deployment:
        deployment = Deployment(name, tmp_path_factory.mktemp(name), terraform_data_dir, variables)
        applied.append(deployment)
        deployment.apply()
        return deployment

    yield apply
    for deployment in applied:
        deployment.destroy()


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    created = Databases()
    yield created
    created.delete()
