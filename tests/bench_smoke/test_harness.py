"""Smoke tests of the benchmark harness: its probe, its moto adjustments, its fixture and one
real run of the small scenario. Run with `make bench-smoke` (not part of `make test`)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bench import budgets, fixtures, moto_rds, run
from bench.probe import ApiProbe
from bench.scenarios import BY_NAME, COPY_REGION, RETENTION_DAYS, SHARE_ACCOUNT


def _rds_with_snapshots(count: int) -> None:
    rds = boto3.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="db-a", DBInstanceClass="db.t3.micro", Engine="postgres"
    )
    for number in range(count):
        rds.create_db_snapshot(DBInstanceIdentifier="db-a", DBSnapshotIdentifier=f"s-{number}")


@mock_aws
def test_probe_counts_calls_by_operation_and_measures_the_sns_message() -> None:
    probe = ApiProbe()
    probe.install()
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    sns.publish(TopicArn=topic, Message="é" * 1000)

    calls = probe.take()

    assert calls.by_op == {"sns:CreateTopic": 1, "sns:Publish": 1}
    assert calls.max_sns_message_bytes == 2000
    assert probe.take().by_op == {}


@mock_aws
def test_probe_sees_concurrent_creates_in_flight_under_injected_latency() -> None:
    boto3.client("rds").create_db_instance(
        DBInstanceIdentifier="db-a", DBInstanceClass="db.t3.micro", Engine="postgres"
    )
    probe = ApiProbe(mutation_latency_s=0.2)
    probe.install()
    rds = boto3.client("rds")
    threads = [
        threading.Thread(
            target=rds.create_db_snapshot,
            kwargs={"DBInstanceIdentifier": "db-a", "DBSnapshotIdentifier": f"s-{n}"},
        )
        for n in range(4)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert time.perf_counter() - started < 0.6  # four 200 ms calls overlapped
    assert probe.take().max_in_flight_mutations == 4


@mock_aws
def test_moto_pages_snapshots_as_rds_does() -> None:
    moto_rds.install()
    _rds_with_snapshots(250)
    probe = ApiProbe()
    probe.install()
    rds = boto3.client("rds")

    pages = list(
        rds.get_paginator("describe_db_snapshots").paginate(
            SnapshotType="manual", PaginationConfig={"PageSize": 100}
        )
    )

    assert [len(page["DBSnapshots"]) for page in pages] == [100, 100, 50]
    assert probe.take().by_op == {"rds:DescribeDBSnapshots": 3}
    with pytest.raises(ClientError, match="MaxRecords"):
        rds.describe_db_snapshots(MaxRecords=500)


@mock_aws
def test_moto_answers_a_create_with_creating_and_describes_it_available() -> None:
    moto_rds.install()
    _rds_with_snapshots(0)
    rds = boto3.client("rds")

    created = rds.create_db_snapshot(DBInstanceIdentifier="db-a", DBSnapshotIdentifier="s-new")
    described = rds.describe_db_snapshots(DBSnapshotIdentifier="s-new")

    assert created["DBSnapshot"]["Status"] == "creating"
    assert described["DBSnapshots"][0]["Status"] == "available"


def test_managed_ages_put_a_quarter_past_retention_and_the_rest_due() -> None:
    retention = timedelta(days=RETENTION_DAYS)

    ages = fixtures.managed_ages(20, due=True)
    not_due = fixtures.managed_ages(5, due=False)

    assert sum(age >= retention for age in ages) == 5
    assert all(timedelta(hours=24) < age < retention for age in ages if age < retention)
    assert min(not_due) == fixtures.NOT_DUE_AGE


@mock_aws
def test_fixture_backdates_snapshots_and_keeps_unmanaged_ones_apart() -> None:
    now = datetime.now(UTC)

    fleet = fixtures.build(BY_NAME["small"], now)
    snapshots = boto3.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]

    oldest = min(s["SnapshotCreateTime"] for s in snapshots)
    assert now - oldest > timedelta(days=RETENTION_DAYS)
    assert (len(fleet.instances), len(fleet.clusters), fleet.due) == (16, 4, 15)
    assert len(fleet.expired_managed) == 20
    assert len(fleet.unmanaged) == 5


def test_mid_create_budget_fails_above_287_calls() -> None:
    line = {"api_calls": 288, "wall_s": 1.0}

    checks = budgets.check(BY_NAME["mid"], "create", line, None)

    assert [(b.name, b.ok) for b in checks] == [
        ("create_api_calls", False),
        ("create_wall_s", True),
    ]


def test_one_small_run_drives_a_correct_cycle_within_the_call_budget(tmp_path: Path) -> None:
    small = run.run_child(BY_NAME["small"], 1, False, tmp_path)

    assert small["problems"] == []
    assert list(small["phases"]) == ["create", "check", "prune", "notify"]
    calls = sum(phase["api_calls"] for phase in small["phases"].values())
    created, deleted = small["results"]["create"]["created"], small["results"]["prune"]["deleted"]
    assert calls <= budgets.cycle_call_limit(created, deleted, 105)


def test_bench_prints_a_line_per_phase_with_the_issue_keys_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = run.main(["small", "--runs", "1"])

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert [line["phase"] for line in lines] == ["create", "check", "prune", "notify", "cycle"]
    issue_keys = {
        "scenario",
        "phase",
        "targets",
        "snapshots",
        "api_calls",
        "wall_s",
        "peak_mem_mb",
        "max_state_payload_bytes",
        "max_sns_message_bytes",
    }
    assert all(issue_keys <= line.keys() and line["budget_ok"] for line in lines)
    assert lines[-1]["peak_mem_mb"] > 0


@mock_aws
def test_moto_answers_a_copy_with_copying_and_the_probe_counts_its_region_and_shares() -> None:
    moto_rds.install()
    _rds_with_snapshots(1)
    probe = ApiProbe()
    probe.install()
    home, away = boto3.client("rds"), boto3.client("rds", region_name=COPY_REGION)
    source = home.describe_db_snapshots(DBSnapshotIdentifier="s-0")["DBSnapshots"][0]

    copied = away.copy_db_snapshot(
        SourceDBSnapshotIdentifier=source["DBSnapshotArn"],
        TargetDBSnapshotIdentifier="s-0",
        SourceRegion="us-east-1",
    )
    described = away.describe_db_snapshots(DBSnapshotIdentifier="s-0")["DBSnapshots"][0]
    for change in ({"ValuesToAdd": [SHARE_ACCOUNT]}, {"ValuesToRemove": [SHARE_ACCOUNT]}):
        home.modify_db_snapshot_attribute(
            DBSnapshotIdentifier="s-0", AttributeName="restore", **change
        )
    calls = probe.take()

    assert (copied["DBSnapshot"]["Status"], described["Status"]) == ("copying", "available")
    assert calls.remote_by_op == {
        f"rds:CopyDBSnapshot@{COPY_REGION}": 1,
        f"rds:DescribeDBSnapshots@{COPY_REGION}": 1,
    }
    assert calls.by_op["rds:DescribeDBSnapshots"] == 2
    assert (calls.shares, calls.unshares) == (1, 1)


@mock_aws
def test_dr_fixture_copies_every_managed_snapshot_and_plants_a_same_named_deployments_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOTO_RDS_SNAPSHOT_LIMIT", "10000")
    scenario = BY_NAME["dr-small"]

    fleet = fixtures.build(scenario, datetime.now(UTC))
    away = boto3.client("rds", region_name=COPY_REGION)
    instance_copies = away.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    cluster_copies = away.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    tagged = [
        s
        for s in instance_copies + cluster_copies
        if {"Key": "CopySourceRegion", "Value": "us-east-1"} in s["TagList"]
    ]

    assert fleet.copies == len(tagged) == scenario.snapshots
    assert len(fleet.expired_copies) == len(fleet.expired_managed) == 20
    assert len(instance_copies) + len(cluster_copies) == scenario.snapshots + scenario.unmanaged
    assert len(fleet.foreign_in_copy_regions) == scenario.unmanaged
    assert json.loads(fleet.env["RSM_SHARE_WITH_ACCOUNT_IDS"]) == [SHARE_ACCOUNT]
    assert json.loads(fleet.env["RSM_COPY_TO_REGIONS"])[0]["region"] == COPY_REGION


def test_dr_budgets_fail_on_a_copy_call_per_existing_snapshot() -> None:
    scenario = BY_NAME["dr-mid"]
    line = {
        "created": 200,
        "deleted": 2_000,
        "check_polls": 2,
        "api_calls": 3_000,
        "share_calls": 200,
        "unshare_calls": 1_000,
        "api_calls_by_op": {"rds:CopyDBSnapshot": 4_000},
        "remote_calls_by_op": {f"rds:DescribeDBSnapshots@{COPY_REGION}": 4_000},
    }

    checks = {b.name: b.ok for b in budgets.disaster_recovery(scenario, line)}

    assert checks == {
        "copy_calls_per_new_snapshot_and_region": False,
        "share_calls_per_new_snapshot": True,
        "unshare_calls_per_deleted_snapshot": True,
        "attribute_reads_per_deleted_snapshot": True,
        f"one_listing_pass_in_{COPY_REGION}": False,
        "cycle_api_calls": True,
    }


def test_one_dr_small_run_copies_shares_and_prunes_within_the_issue_10_budgets(
    tmp_path: Path,
) -> None:
    scenario = BY_NAME["dr-small"]

    result = run.run_child(scenario, 1, False, tmp_path)
    line = run.cycle_figures(result) | {
        "created": result["results"]["create"]["created"],
        "deleted": result["results"]["prune"]["deleted"],
        "check_polls": result["results"]["polls"],
    }

    assert result["problems"] == []
    assert line["created"] == 15
    assert (
        line["api_calls_by_op"]["rds:CopyDBSnapshot"]
        + line["api_calls_by_op"].get("rds:CopyDBClusterSnapshot", 0)
        == line["created"]
    )
    assert line["share_calls"] == line["created"]
    assert all(b.ok for b in budgets.disaster_recovery(scenario, line)), line
