"""Shared fixtures: one moto account per test, clients injected into the engine, small builders."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from rds_snapshot_manager.adapters.ledger import TABLE_KEYS, LedgerAdapter
from rds_snapshot_manager.clients import Clients
from rds_snapshot_manager.domain.naming import ownership_prefix
from rds_snapshot_manager.services.engine import Engine
from rds_snapshot_manager.services.run import RunContext
from rds_snapshot_manager.settings import Settings

REGION = "us-east-1"
NAME = "rsm-test"
TABLE = "rsm-test-ledger"
# The id prefix of the snapshots the test deployment owns (domain/naming.py, ownership rule).
OURS = ownership_prefix(NAME)


@dataclass
class Account:
    """A moto account with the deployment's table and topics, and its clients."""

    rds: Any
    dynamodb: Any
    sns: Any
    sqs: Any
    s3: Any
    report_topic: str
    failure_topic: str
    report_queue: str
    failure_queue: str
    calls: Counter[str] = field(default_factory=Counter)

    def clients(self) -> Clients:
        return Clients(rds=self.rds, dynamodb=self.dynamodb, sns=self.sns, s3=self.s3)

    def settings(self, **overrides: Any) -> Settings:
        base = Settings(
            name=NAME,
            ledger_table=TABLE,
            report_topic_arn=self.report_topic,
            failure_topic_arn=self.failure_topic,
        )
        return replace(base, **overrides)

    def engine(self, **overrides: Any) -> Engine:
        return Engine.build(self.settings(**overrides), self.clients())

    def ledger(self) -> LedgerAdapter:
        return LedgerAdapter(self.dynamodb, TABLE, ttl_days=400)

    def messages(self, queue_url: str) -> list[dict[str, Any]]:
        """The JSON documents SNS delivered to a subscribed queue (the `sqs` protocol's copy)."""
        received = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        return [json.loads(json.loads(m["Body"])["Message"]) for m in received.get("Messages", [])]

    # -- builders ---------------------------------------------------------------------------------
    def instance(
        self,
        identifier: str,
        tags: dict[str, str] | None = None,
        cluster: str | None = None,
        engine: str = "postgres",
        encrypted: bool = False,
    ) -> None:
        args: dict[str, Any] = {
            "DBInstanceIdentifier": identifier,
            "Engine": engine,
            "DBInstanceClass": "db.t3.micro",
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        }
        if cluster:
            args["DBClusterIdentifier"] = cluster
        else:
            args.update(
                AllocatedStorage=20,
                MasterUsername="admin",
                MasterUserPassword="password123",
                StorageEncrypted=encrypted,
            )
        self.rds.create_db_instance(**args)

    def cluster(
        self,
        identifier: str,
        tags: dict[str, str] | None = None,
        engine: str = "aurora-postgresql",
        members: int = 0,
        encrypted: bool = False,
    ) -> None:
        self.rds.create_db_cluster(
            DBClusterIdentifier=identifier,
            Engine=engine,
            MasterUsername="admin",
            MasterUserPassword="password123",
            StorageEncrypted=encrypted,
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        )
        for index in range(members):
            self.instance(f"{identifier}-{index + 1}", cluster=identifier, engine=engine)

    def snapshot(
        self,
        source_id: str,
        snapshot_id: str,
        managed_by: str | None = NAME,
        cluster: bool = False,
        run_id: str = "earlier-run",
        run_started_at: datetime | None = None,
    ) -> None:
        """`run_started_at` tags the snapshot as made by a run that started then (its backup
        time for the interval and the RPO: moto's create time is always now)."""
        tags = [{"Key": "RunId", "Value": run_id}]
        if run_started_at is not None:
            tags.append({"Key": "RunStartedAt", "Value": f"{run_started_at:%Y-%m-%dT%H:%M:%SZ}"})
        if managed_by is not None:
            tags.append({"Key": "ManagedBy", "Value": managed_by})
        if cluster:
            self.rds.create_db_cluster_snapshot(
                DBClusterIdentifier=source_id, DBClusterSnapshotIdentifier=snapshot_id, Tags=tags
            )
        else:
            self.rds.create_db_snapshot(
                DBInstanceIdentifier=source_id, DBSnapshotIdentifier=snapshot_id, Tags=tags
            )

    def snapshot_ids(self, cluster: bool = False, snapshot_type: str = "manual") -> set[str]:
        if cluster:
            pages = self.rds.get_paginator("describe_db_cluster_snapshots").paginate(
                SnapshotType=snapshot_type
            )
            return {
                s["DBClusterSnapshotIdentifier"] for p in pages for s in p["DBClusterSnapshots"]
            }
        pages = self.rds.get_paginator("describe_db_snapshots").paginate(SnapshotType=snapshot_type)
        return {s["DBSnapshotIdentifier"] for p in pages for s in p["DBSnapshots"]}


def count_calls(account: Account) -> None:
    """Counts every AWS API call the engine makes, by service and operation."""
    for client in (account.rds, account.dynamodb, account.sns, account.s3):

        def hook(model: Any, **_: Any) -> None:
            account.calls[model.name] += 1

        client.meta.events.register("before-call", hook)


def inject_error(
    client: Any,
    operation: str,
    code: str,
    when: Callable[[dict[str, Any]], bool] = lambda params: True,
    message: str = "injected",
) -> None:
    """Makes `operation` fail with `code` for calls whose API params match, before moto sees them.

    Raising before the request is built skips botocore's retries, so throttling shows at once.
    """

    def hook(params: dict[str, Any], **_: Any) -> None:
        if when(params):
            raise ClientError({"Error": {"Code": code, "Message": message}}, operation)

    service = client.meta.service_model.service_name
    client.meta.events.register(f"before-parameter-build.{service}.{operation}", hook)


def inject_exception(
    client: Any,
    operation: str,
    make: Callable[[], Exception],
    when: Callable[[dict[str, Any]], bool] = lambda params: True,
    after: bool = False,
) -> None:
    """Makes `operation` raise `make()` (any exception, e.g. botocore's ReadTimeoutError) for calls
    whose params match: before the request, or with `after`, once moto has done the work, as when
    the response is lost on the way back."""
    service = client.meta.service_model.service_name

    def before(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if when(params):
            if not after:
                raise make()
            context["lose_response"] = True  # the request's own context reaches after-call

    def lost(context: dict[str, Any], **_: Any) -> None:
        if context.get("lose_response"):
            raise make()

    client.meta.events.register(f"before-parameter-build.{service}.{operation}", before)
    if after:
        client.meta.events.register(f"after-call.{service}.{operation}", lost)


def slow_down(client: Any, operation: str, seconds: float = 0.05) -> None:
    """Makes every `operation` call wait `seconds` first, so concurrent calls overlap."""
    service = client.meta.service_model.service_name
    client.meta.events.register(
        f"before-parameter-build.{service}.{operation}", lambda **_: time.sleep(seconds)
    )


def inject_errors_by(client: Any, operation: str, param: str, faults: dict[str, str]) -> None:
    """Makes `operation` fail with `faults[value]` when its `param` has that value."""
    for value, code in faults.items():
        inject_error(client, operation, code, when=lambda params, v=value: params[param] == v)


def context(
    run_id: str = "run-1",
    now: datetime | None = None,
    started_at: datetime | None = None,
    dry_run: bool = False,
    **overrides: Any,
) -> RunContext:
    now = now or datetime.now(UTC)
    return RunContext(
        run_id=run_id, started_at=started_at or now, now=now, dry_run=dry_run, **overrides
    )


def hold_lease(account: Account, ctx: RunContext) -> None:
    """What Create does first: take the lease (unless a dry run) and record the run with it, so
    Prune may act on its own in a test."""
    ledger = account.ledger()
    lease = None if ctx.dry_run else ledger.acquire_lease(ctx.run_id, ctx.now, 3600)
    ledger.start_run(ctx.run_id, ctx.started_at.isoformat(), ctx.dry_run, ctx.now, lease)


def later(days: float = 0, hours: float = 0) -> datetime:
    return datetime.now(UTC) + timedelta(days=days, hours=hours)


def _refuse_duplicate_keys(params: dict[str, Any], **_: Any) -> None:
    """DynamoDB refuses a BatchWriteItem that writes one key twice; moto accepts it. So do as
    DynamoDB does, or such a batch would pass here and fail the step in AWS."""
    for table, requests in params["RequestItems"].items():
        keys = [
            json.dumps({k: item[k] for k in ("pk", "sk") if k in item}, sort_keys=True)
            for request in requests
            for item in [request.get("PutRequest", {}).get("Item")
                         or request.get("DeleteRequest", {}).get("Key", {})]
        ]  # fmt: skip
        if len(keys) != len(set(keys)):
            raise ClientError(
                {"Error": {"Code": "ValidationException",
                           "Message": f"Provided list of item keys contains duplicates ({table})"}},
                "BatchWriteItem",
            )  # fmt: skip


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        dynamodb = session.client("dynamodb")
        dynamodb.meta.events.register(
            "before-parameter-build.dynamodb.BatchWriteItem", _refuse_duplicate_keys
        )
        dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST", **TABLE_KEYS)
        sns = session.client("sns")
        sqs = session.client("sqs")
        topics, queues = [], []
        for kind in ("report", "failure"):
            topic = sns.create_topic(Name=f"{NAME}-{kind}")["TopicArn"]
            queue = sqs.create_queue(QueueName=f"{NAME}-{kind}")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
            topics.append(topic)
            queues.append(queue)
        yield Account(
            rds=session.client("rds"),
            dynamodb=dynamodb,
            sns=sns,
            sqs=sqs,
            s3=session.client("s3"),
            report_topic=topics[0],
            failure_topic=topics[1],
            report_queue=queues[0],
            failure_queue=queues[1],
        )


class _Http:
    status_code = 200


def answer(client: Any, operation: str, response: dict[str, Any]) -> None:
    """Makes `operation` return `response` without reaching moto (e.g. a snapshot still creating,
    which moto never shows because its snapshots are available at once)."""
    service = client.meta.service_model.service_name
    client.meta.events.register(
        f"before-call.{service}.{operation}", lambda **_: (_Http(), response)
    )
