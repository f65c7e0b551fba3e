from typing import Any

import pytest

from rds_snapshot_manager.clients import Clients


def test_clients_are_created_lazily_once_with_adaptive_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    created: list[tuple[str, Any]] = []

    def fake_client(service: str, config: Any) -> object:
        created.append((service, config))
        return object()

    monkeypatch.setattr("rds_snapshot_manager.clients.boto3.client", fake_client)
    clients = Clients(max_concurrency=16)
    assert created == []
    first = clients.rds
    assert clients.rds is first
    assert [service for service, _ in created] == ["rds"]
    config = created[0][1]
    assert config.retries["mode"] == "adaptive"
    assert config.max_pool_connections >= 16
    _ = (clients.dynamodb, clients.sns, clients.s3)
    assert [service for service, _ in created] == ["rds", "dynamodb", "sns", "s3"]


def test_injected_clients_are_used_as_given() -> None:
    rds = object()
    assert Clients(rds=rds).rds is rds
