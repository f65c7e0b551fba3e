"""RPO per target and the storage figure: from Create's one listing, judged in the report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rds_snapshot_manager.domain.model import (
    DRY_RUN_STATUS,
    Backups,
    SourceRef,
    SourceType,
    TargetOutcome,
)
from rds_snapshot_manager.domain.report import RunSummary, build_report, email_text
from rds_snapshot_manager.domain.rpo import (
    Assurance,
    default_rpo_hours,
    newest_age_hours,
    rpo_breached,
)
from rds_snapshot_manager.settings import Settings, SettingsError
from tests.unit.conftest import OURS, Account, context

START = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
DB_A = SourceRef(SourceType.INSTANCE, "db-a")
RPO = 27.0


def hours_before(hours: float) -> datetime:
    return START - timedelta(hours=hours)


def skipped(newest: datetime | None, count: int = 1) -> TargetOutcome:
    return replace(
        TargetOutcome.skipped(DB_A, "not due"), backups=Backups(newest, count, 20.0 * count)
    )


# -- the rule, pure ------------------------------------------------------------------------------
def test_age_is_from_the_newest_backup_time_to_the_run_start() -> None:
    assert newest_age_hours(skipped(hours_before(30.5)), START) == 30.5


def test_this_runs_available_snapshot_makes_the_age_zero() -> None:
    created = TargetOutcome.created(DB_A, "snap", "available")
    assert newest_age_hours(created, START) == 0.0
    assert not rpo_breached(created, 0.0, RPO)


@pytest.mark.parametrize(
    ("age", "breached"), [(26.99, False), (27.0, False), (27.01, True), (500.0, True)]
)
def test_breach_is_an_age_beyond_the_rpo(age: float, breached: bool) -> None:
    outcome = skipped(hours_before(age))
    assert rpo_breached(outcome, newest_age_hours(outcome, START), RPO) is breached


def test_no_available_snapshot_at_all_breaches() -> None:
    outcome = skipped(None, count=0)
    assert newest_age_hours(outcome, START) is None
    assert rpo_breached(outcome, None, RPO)


def test_a_first_snapshot_still_creating_when_the_wait_ended_breaches() -> None:
    """Brand-new target: its first snapshot is not available at report time (the wait timed out),
    so the database has no backup yet: breached, and the run is PARTIAL anyway."""
    first = replace(TargetOutcome.created(DB_A, "snap", "creating"), backups=Backups(None, 0, 0.0))
    assert rpo_breached(first, newest_age_hours(first, START), RPO)


def test_a_dry_runs_would_be_snapshot_is_no_backup() -> None:
    would = replace(
        TargetOutcome.created(DB_A, "snap", DRY_RUN_STATUS),
        backups=Backups(hours_before(40), 1, 20.0),
    )
    assert newest_age_hours(would, START) == 40.0
    assert rpo_breached(would, 40.0, RPO)


def test_an_unmeasured_target_never_breaches() -> None:
    """A list-file failure (no database) or a row an older version wrote (no backup fields)."""
    row = TargetOutcome.failed("s3://bucket/list.txt", None, "NoSuchKey", "missing")
    assert newest_age_hours(row, START) is None
    assert not rpo_breached(row, None, RPO)


def test_report_breach_makes_the_run_partial_even_when_nothing_failed() -> None:
    summary = RunSummary("run-1", False, [skipped(hours_before(30))], [],
                         assurance=Assurance(START, RPO, 0.095))  # fmt: skip
    report = build_report(summary)
    assert report["status"] == "PARTIAL"
    assert report["skipped"][0] | {"reason": ""} == {
        "source_id": "db-a", "source_type": "instance", "reason": "",
        "newest_snapshot_age_hours": 30.0, "rpo_breached": True,
        "managed_snapshot_count": 1, "managed_snapshot_gib": 20.0,
    }  # fmt: skip
    assert report["rpo_hours"] == RPO


def test_default_rpo_is_interval_plus_wait_plus_an_hour() -> None:
    assert default_rpo_hours(24, 7200) == 27.0
    base = {"RSM_NAME": "n", "RSM_LEDGER_TABLE": "t", "RSM_REPORT_TOPIC_ARN": "a",
            "RSM_FAILURE_TOPIC_ARN": "b", "RSM_BACKUP_INTERVAL_HOURS": "12",
            "RSM_WAIT_TIMEOUT_SECONDS": "3600"}  # fmt: skip
    assert Settings.from_env(base).rpo == 14.0
    assert Settings.from_env(base | {"RSM_RPO_HOURS": "36.5"}).rpo == 36.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RSM_RPO_HOURS", "0"),
        ("RSM_RPO_HOURS", "87601"),
        ("RSM_RPO_HOURS", "soon"),
        ("RSM_SNAPSHOT_PRICE_PER_GIB_MONTH", "-0.01"),
        ("RSM_SNAPSHOT_PRICE_PER_GIB_MONTH", "1001"),
        ("RSM_METRIC_TARGET_LIMIT", "501"),
        ("RSM_METRIC_TARGET_LIMIT", "-1"),
        ("RSM_METRIC_TARGET_LIMIT", "1.5"),
    ],
)
def test_assurance_settings_are_bounded_and_name_the_variable(name: str, value: str) -> None:
    env = {"RSM_NAME": "n", "RSM_LEDGER_TABLE": "t", "RSM_REPORT_TOPIC_ARN": "a",
           "RSM_FAILURE_TOPIC_ARN": "b", name: value}  # fmt: skip
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


def test_assurance_settings_defaults() -> None:
    env = {"RSM_NAME": "n", "RSM_LEDGER_TABLE": "t", "RSM_REPORT_TOPIC_ARN": "a",
           "RSM_FAILURE_TOPIC_ARN": "b"}  # fmt: skip
    settings = Settings.from_env(env)
    assert (settings.rpo, settings.snapshot_price_per_gib_month, settings.metric_target_limit) == (
        27.0,
        0.095,
        50,
    )


# -- through Create's listing and Notify (moto) --------------------------------------------------
def cycle(account: Account, **settings: Any) -> dict[str, Any]:
    """Create then Notify on the run's clock; returns the published report."""
    engine = account.engine(delete_old_snapshots=False, **settings)
    ctx = context()
    engine.create.run(ctx)
    engine.notify.run(ctx)
    [report] = account.messages(account.report_queue)
    return report


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    lists = ("created", "would_create", "skipped", "failed")
    return {item["source_id"]: item for name in lists for item in report[name]}


def ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


def test_skipped_forbidden_state_database_with_an_old_backup_breaches_on_the_failure_topic(
    account: Account,
) -> None:
    account.instance("db-stopped")
    account.rds.stop_db_instance(DBInstanceIdentifier="db-stopped")
    account.snapshot("db-stopped", OURS + "db-stopped-1", run_started_at=ago(30))
    report = cycle(account, db_instance_identifiers=("db-stopped",))
    item = by_id(report)["db-stopped"]
    assert "stopped" in item["reason"]
    assert item["newest_snapshot_age_hours"] == pytest.approx(30, abs=0.02)
    assert item["rpo_breached"] is True
    assert report["status"] == "PARTIAL"
    assert account.messages(account.failure_queue) == [report]


def test_not_due_database_within_the_rpo_is_ok_and_not_on_the_failure_topic(
    account: Account,
) -> None:
    account.instance("db-a")
    account.snapshot("db-a", OURS + "db-a-1", run_started_at=ago(2))
    report = cycle(account, db_instance_identifiers=("db-a",))
    item = by_id(report)["db-a"]
    assert item["reason"].startswith("not due")
    assert item["newest_snapshot_age_hours"] == pytest.approx(2, abs=0.02)
    assert item["rpo_breached"] is False
    assert report["status"] == "OK"
    assert account.messages(account.failure_queue) == []


def test_failing_database_is_judged_by_the_snapshots_it_left(account: Account) -> None:
    """A deleted database (NotFound) with a recent backup is within its RPO; one without, not."""
    account.instance("db-kept")  # only so that instance snapshots can be made
    account.snapshot("db-kept", OURS + "gone-1", run_started_at=ago(5))
    account.rds.delete_db_instance(DBInstanceIdentifier="db-kept", SkipFinalSnapshot=True)
    report = cycle(account, db_instance_identifiers=("db-kept", "db-never"))
    items = by_id(report)
    assert items["db-kept"]["error_code"] == "NotFound"
    assert (items["db-kept"]["newest_snapshot_age_hours"], items["db-kept"]["rpo_breached"]) == (
        pytest.approx(5, abs=0.02),
        False,
    )
    assert (items["db-never"]["newest_snapshot_age_hours"], items["db-never"]["rpo_breached"]) == (
        None,
        True,
    )


def test_created_and_available_is_age_zero_and_only_ours_count(account: Account) -> None:
    account.instance("db-a")
    account.snapshot("db-a", OURS + "db-a-1", run_started_at=ago(25))
    account.snapshot("db-a", OURS + "db-a-2", run_started_at=ago(26))
    account.snapshot("db-a", "db-a-by-hand", run_started_at=ago(1))  # no prefix: not ours
    account.snapshot("db-a", OURS + "db-a-other", managed_by="other", run_started_at=ago(1))
    report = cycle(account, db_instance_identifiers=("db-a",))
    item = by_id(report)["db-a"]
    assert item["status"] == "available"
    assert (item["newest_snapshot_age_hours"], item["rpo_breached"]) == (0.0, False)
    # Storage at the run's start: two managed snapshots of a 20 GiB instance.
    assert (item["managed_snapshot_count"], item["managed_snapshot_gib"]) == (2, 40.0)
    assert report["storage"] == {
        "snapshot_count": 2,
        "allocated_gib": 40.0,
        "estimated_monthly_cost_usd": 3.8,
        "price_per_gib_month": 0.095,
        "note": report["storage"]["note"],
    }
    assert "upper bound" in report["storage"]["note"]
    assert "incremental" in report["storage"]["note"]


def test_a_person_copy_never_counts_as_a_backup_for_the_rpo(account: Account) -> None:
    account.instance("db-a")
    account.rds.stop_db_instance(DBInstanceIdentifier="db-a")
    account.snapshot("db-a", "db-a-by-hand", run_started_at=ago(1))
    report = cycle(account, db_instance_identifiers=("db-a",), rpo_hours=10.0)
    item = by_id(report)["db-a"]
    assert (item["newest_snapshot_age_hours"], item["rpo_breached"]) == (None, True)
    assert item["managed_snapshot_count"] == 0


def test_price_setting_prices_the_storage(account: Account) -> None:
    account.instance("db-a")
    account.snapshot("db-a", OURS + "db-a-1", run_started_at=ago(2))
    report = cycle(account, db_instance_identifiers=("db-a",), snapshot_price_per_gib_month=0.5)
    assert report["storage"]["estimated_monthly_cost_usd"] == 10.0


def test_email_names_the_breach_and_the_storage() -> None:
    summary = RunSummary("run-1", False, [skipped(hours_before(30))], [],
                         assurance=Assurance(START, RPO, 0.095))  # fmt: skip
    text = email_text(build_report(summary))
    assert "Managed snapshots of the targets: 1, 20 GiB allocated, at most 1.90 USD" in text
    assert "RPO breached (no available snapshot within 27 h):" in text
    assert "  - instance db-a: newest available snapshot 30 h old" in text


def test_backup_fields_survive_the_ledger_and_older_rows_read_as_unmeasured(
    account: Account,
) -> None:
    ledger = account.ledger()
    measured = skipped(hours_before(3), count=2)
    ledger.record_outcomes("run-1", [measured], START)
    [read] = ledger.read_run("run-1").outcomes
    assert read.backups == measured.backups
    ledger.record_outcomes("run-2", [TargetOutcome.skipped(DB_A, "not due")], START)
    [older] = ledger.read_run("run-2").outcomes
    assert older.backups is None


def test_a_retried_create_counts_storage_as_the_first_attempt_did(account: Account) -> None:
    """Its listing now holds the run's own snapshot; the figures stay "before this run"."""
    account.instance("db-a")
    account.snapshot("db-a", OURS + "db-a-1", run_started_at=ago(25))
    engine = account.engine(db_instance_identifiers=("db-a",), delete_old_snapshots=False)
    ctx = context(run_id="exec-7")
    [first] = engine.create.run(ctx).outcomes
    [retried] = engine.create.run(context(run_id="exec-7", started_at=ctx.started_at)).outcomes
    assert first.backups == retried.backups
    assert first.backups is not None
    assert first.backups.count == 1
