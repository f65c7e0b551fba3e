from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws

from rds_snapshot_manager.clients import Clients, parse_iso_timestamp


def test_clients_are_created_lazily_once_with_adaptive_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    created: list[tuple[str, Any]] = []

    class FakeSession:
        def client(self, service: str, config: Any) -> object:
            created.append((service, config))
            return object()

    monkeypatch.setattr("rds_snapshot_manager.clients._default_session", FakeSession)
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24T05:30:00.123Z", datetime(2026, 11, 24, 5, 30, 0, 123000, tzinfo=UTC)),
        ("2026-11-24T06:30:00+01:00", datetime(2026, 11, 24, 5, 30, tzinfo=UTC)),
        ("2026-11-24T05:30:00", datetime(2026, 11, 24, 5, 30, tzinfo=UTC)),
        ("Tue, 24 Nov 2026 05:30:00 GMT", datetime(2026, 11, 24, 5, 30, tzinfo=UTC)),
    ],
)
def test_timestamps_parse_to_aware_utc_times(text: str, expected: datetime) -> None:
    parsed = parse_iso_timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo is not None


def test_clients_parse_response_timestamps_with_the_fast_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    calls: list[str] = []

    def recording_parser(value: str) -> datetime:
        calls.append(value)
        return parse_iso_timestamp(value)

    monkeypatch.setattr("rds_snapshot_manager.clients.parse_iso_timestamp", recording_parser)
    with mock_aws():
        rds = Clients().rds
        rds.create_db_instance(
            DBInstanceIdentifier="db-a", DBInstanceClass="db.t3.micro", Engine="postgres"
        )
        [instance] = rds.describe_db_instances()["DBInstances"]
    assert instance["InstanceCreateTime"].tzinfo is not None
    assert calls
