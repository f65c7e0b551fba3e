import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from rds_snapshot_manager import handlers, logs
from rds_snapshot_manager.services.run import BadEventError
from rds_snapshot_manager.settings import SettingsError
from tests import emf
from tests.unit.conftest import NAME, OURS, TABLE, Account, inject_exception

CONTRACT_ITEM_KEYS = {
    "created": {"snapshot_id", "source_id", "source_type"},
    "deleted": {"snapshot_id", "source_id", "source_type"},
    "skipped": {"source_id", "reason"},
    "failed": {"source_id", "error_code", "message"},
}


@pytest.fixture
def deployed(account: Account, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """The environment the module sets on every function; the handlers build their own clients."""
    env = {
        "RSM_NAME": NAME,
        "RSM_LEDGER_TABLE": TABLE,
        "RSM_REPORT_TOPIC_ARN": account.report_topic,
        "RSM_FAILURE_TOPIC_ARN": account.failure_topic,
        "RSM_DB_INSTANCE_IDENTIFIERS": json.dumps(["db-a", "aurora-1-1", "ghost"]),
        "RSM_SELECTION_TAGS": json.dumps({"backup": "true"}),
        "RSM_BACKUP_INTERVAL_HOURS": "0.0001",  # 0.36 s
        "RSM_RETENTION_DAYS": "0.00001",  # 0.86 s
        "RSM_MIN_SNAPSHOTS_TO_KEEP": "1",
        "RSM_LOG_LEVEL": "DEBUG",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    handlers.engine.cache_clear()
    yield account
    handlers.engine.cache_clear()


def state(**extra: Any) -> dict[str, Any]:
    """The state Init makes; the start is now, as the state machine's clock is the real one (the
    interval is decided on the run's start, so a start in the past would make nothing due)."""
    started = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"run_id": "exec-0001", "started_at": started, "input": {}, "error": None, **extra}


def run_cycle(event: dict[str, Any]) -> dict[str, Any]:
    """Drives the handlers the way the state machine does, payloads included."""
    event["create"] = handlers.create_handler(event, None)
    event["check"] = handlers.check_handler(event, None)
    while not event["check"]["done"]:
        event["check"] = handlers.check_handler(event, None)
    event["prune"] = handlers.prune_handler(event, None)
    event["notify"] = handlers.notify_handler(event, None)
    return event


def test_one_cycle_end_to_end_publishes_the_contract_report(deployed: Account) -> None:
    deployed.instance("db-a")
    deployed.instance("db-stopped", tags={"backup": "true"})
    deployed.rds.stop_db_instance(DBInstanceIdentifier="db-stopped")
    deployed.cluster("aurora-1", engine="aurora-mysql", members=2, tags={"backup": "true"})
    deployed.snapshot("db-a", OURS + "db-a-old-1")
    time.sleep(0.01)
    deployed.snapshot("db-a", OURS + "db-a-old-2")
    deployed.snapshot("db-a", "db-a-foreign", managed_by="other")
    deployed.snapshot("db-a", "db-a-untagged", managed_by=None)
    time.sleep(1)  # the earlier snapshots pass the tiny retention and interval

    final = run_cycle(state())

    # aurora-1-1 is listed: its own outcome, covered by aurora-1's snapshot (one snapshot, two rows)
    assert final["create"] == {"created": 3, "skipped": 1, "failed": 1, "dry_run": False}
    assert final["check"] == {
        "creating": 0, "available": 2, "failed": 0, "work": 0, "done": True, "timed_out": False,
    }  # fmt: skip
    # Prune works from Create's listing: db-a-old-2 was the newest then, so min_keep holds it.
    assert final["prune"] == {"deleted": 1, "failed": 0, "kept": 1}
    assert final["notify"] == {"status": "PARTIAL", "published": True}
    assert len(json.dumps(final)) < 2000  # payloads carry counts, never lists

    [report] = deployed.messages(deployed.report_queue)
    assert deployed.messages(deployed.failure_queue) == [report]
    assert {"run_id", "status", "dry_run", "created", "deleted", "skipped", "failed"} <= set(report)
    assert (report["run_id"], report["status"], report["dry_run"]) == (
        "exec-0001",
        "PARTIAL",
        False,
    )
    for name, keys in CONTRACT_ITEM_KEYS.items():
        for item in report[name]:
            assert keys <= set(item), (name, item)
    targets = [i["source_id"] for name in ("created", "skipped", "failed") for i in report[name]]
    assert sorted(targets) == ["aurora-1", "aurora-1-1", "db-a", "db-stopped", "ghost"]
    assert [i["source_type"] for i in report["created"]] == ["cluster", "instance", "instance"]
    cluster, member = report["created"][:2]
    assert member == {
        "snapshot_id": cluster["snapshot_id"], "source_id": "aurora-1-1",
        "source_type": "instance", "status": "available",
        "note": "covered by the snapshot of cluster aurora-1",
        # its RPO is its cluster's; its cluster's row counts the storage
        "newest_snapshot_age_hours": 0.0, "rpo_breached": False,
        "managed_snapshot_count": 0, "managed_snapshot_gib": 0.0,
    }  # fmt: skip
    assert report["deleted"] == [
        {"snapshot_id": OURS + "db-a-old-1", "source_id": "db-a", "source_type": "instance"}
    ]
    assert report["failed"][0]["error_code"] == "NotFound"
    assert deployed.snapshot_ids() >= {OURS + "db-a-old-2", "db-a-foreign", "db-a-untagged"}
    new_ids = {i["snapshot_id"] for i in report["created"]}
    assert all(f"-{datetime.now(UTC):%Y%m%d}" in i for i in new_ids)
    [instance_snapshot] = [i for i in report["created"] if i["source_id"] == "db-a"]
    created = deployed.rds.describe_db_snapshots(
        DBSnapshotIdentifier=instance_snapshot["snapshot_id"]
    )["DBSnapshots"][0]
    assert {t["Key"]: t["Value"] for t in created["TagList"]} == {
        "ManagedBy": NAME, "RunId": "exec-0001", "SourceId": "db-a", "SourceType": "instance",
        "RunStartedAt": final["started_at"][:19] + "Z",
    }  # fmt: skip


def test_input_dry_run_forces_a_dry_run_that_changes_nothing(deployed: Account) -> None:
    deployed.instance("db-a")
    deployed.snapshot("db-a", OURS + "db-a-old-1")
    time.sleep(0.01)
    deployed.snapshot("db-a", OURS + "db-a-old-2")
    time.sleep(1)
    before = deployed.snapshot_ids()
    final = run_cycle(state(input={"dry_run": True}))
    assert final["create"]["dry_run"] is True
    assert (final["create"]["created"], final["create"]["would_create"]) == (0, 1)
    assert (final["prune"]["deleted"], final["prune"]["would_delete"]) == (0, 1)
    assert deployed.snapshot_ids() == before
    [report] = deployed.messages(deployed.report_queue)
    assert report["dry_run"] is True
    assert (report["created"], report["deleted"]) == ([], [])
    assert [i["source_id"] for i in report["would_create"]] == ["db-a"]
    assert [i["snapshot_id"] for i in report["would_delete"]] == [OURS + "db-a-old-1"]
    assert (report["counts"]["would_create"], report["counts"]["would_delete"]) == (1, 1)


def test_caught_error_in_the_state_makes_notify_report_failed(deployed: Account) -> None:
    error = {"Error": "Lambda.ServiceException", "Cause": "create crashed"}
    assert handlers.notify_handler(state(error=error), None) == {
        "status": "FAILED", "published": True,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"input": {}}, "run_id"),
        (state(started_at="yesterday"), "started_at must be an ISO 8601 time"),
        (state(started_at=12), "started_at must be an ISO 8601 time"),
        (state(input=["x"]), "input must be an object"),
        (state(input={"manual_snapshot_quota": 0}), "manual_snapshot_quota must be a whole number"),
        (state(input={"dryRun": True}), "input has unknown key\\(s\\) 'dryRun'; allowed: dry_run"),
        (state(input={"dry_run": "true"}), 'input.dry_run must be true or false .*; got "true"'),
        (state(input={"dry_run": 1}), "input.dry_run must be true or false"),
        (state(input={"dry_run": None}), "input.dry_run must be true or false"),
        (state(input={"trigger": "schedule"}), "unknown key\\(s\\) 'trigger'"),
    ],
)
def test_malformed_state_fails_with_a_clear_message(
    deployed: Account, event: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadEventError, match=message):
        handlers.create_handler(event, None)


def test_input_with_a_typo_is_reported_failed_and_changes_nothing(deployed: Account) -> None:
    """`{"dryRun": true}` used to run for real and create snapshots."""
    deployed.instance("db-a")
    event = state(input={"dryRun": True})
    with pytest.raises(BadEventError) as raised:
        handlers.create_handler(event, None)
    # The state machine catches the Task's error and hands it to Notify.
    error = {"Error": "BadEventError", "Cause": str(raised.value)}
    assert handlers.notify_handler({**event, "error": error}, None)["status"] == "FAILED"
    assert deployed.snapshot_ids() == set()
    [report] = deployed.messages(deployed.failure_queue)
    assert report["status"] == "FAILED"
    assert "unknown key(s) 'dryRun'" in report["error"]["Cause"]
    assert report["created"] == []


def test_scheduled_input_and_explicit_options_are_accepted(deployed: Account) -> None:
    deployed.instance("db-a")
    scheduled = handlers.create_handler(state(input={"dry_run": False}), None)  # the schedule's
    assert scheduled["created"] == 1
    options = {"dry_run": False, "manual_snapshot_quota": 5}
    explicit = handlers.create_handler(state(run_id="exec-0002", input=options), None)
    assert explicit["dry_run"] is False


def test_missing_required_setting_fails_fast(
    deployed: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RSM_LEDGER_TABLE")
    handlers.engine.cache_clear()
    with pytest.raises(SettingsError, match="RSM_LEDGER_TABLE is required"):
        handlers.check_handler(state(), None)


def test_notify_reports_a_run_whose_input_was_rejected(deployed: Account) -> None:
    bad_input = {"manual_snapshot_quota": -5}
    with pytest.raises(BadEventError):
        handlers.create_handler(state(input=bad_input), None)
    error = {"Error": "BadEventError", "Cause": "input.manual_snapshot_quota must be ..."}

    result = handlers.notify_handler(state(input=bad_input, error=error), None)

    assert result == {"status": "FAILED", "published": True}
    [report] = deployed.messages(deployed.report_queue)
    assert report["status"] == "FAILED"
    assert report["error"]["Error"] == "BadEventError"


def test_a_lost_create_response_is_confirmed_and_the_report_is_true(deployed: Account) -> None:
    """One create's response is lost after RDS made the snapshot (a read timeout): the other
    targets still reach the report, and Check confirms the snapshot, so the report says created."""
    deployed.instance("db-a")
    deployed.cluster("aurora-1", members=1)
    handlers_rds = handlers.engine().create._rds._client  # the client the handlers built
    inject_exception(
        handlers_rds, "CreateDBSnapshot",
        lambda: ReadTimeoutError(endpoint_url="https://rds.us-east-1.amazonaws.com"),
        when=lambda params: params["DBInstanceIdentifier"] == "db-a", after=True,
    )  # fmt: skip
    final = run_cycle(state())
    assert final["create"]["failed"] == 2  # ghost (NotFound) and db-a (response lost)
    [report] = deployed.messages(deployed.report_queue)
    created = {i["source_id"]: i for i in report["created"]}
    assert set(created) == {"aurora-1", "aurora-1-1", "db-a"}
    assert created["db-a"]["snapshot_id"] in deployed.snapshot_ids()
    assert [(i["source_id"], i["error_code"]) for i in report["failed"]] == [("ghost", "NotFound")]


def test_restore_test_cycle_through_the_handlers(
    deployed: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A restore-test execution (input {"restore_test": true}, D10) through all four handlers:
    nothing snapshotted or pruned, one restore measured and deleted, the payloads small."""
    monkeypatch.setenv("RSM_RESTORE_TEST", json.dumps({"db_instance_identifiers": ["db-a"]}))
    deployed.instance("db-a")
    deployed.snapshot("db-a", OURS + "db-a-old-1")
    before = deployed.snapshot_ids()

    final = run_cycle(state(input={"restore_test": True}))

    assert final["create"] == {
        "restoring": 1, "restored": 0, "failed": 0, "done": False, "timed_out": False,
    }  # fmt: skip
    assert (final["check"]["restored"], final["check"]["done"]) == (1, True)
    assert final["notify"] == {"status": "OK", "published": True}
    assert deployed.snapshot_ids() == before  # no snapshot made or deleted
    [report] = deployed.messages(deployed.report_queue)
    [test] = report["restore_tests"]
    assert (test["source_id"], test["status"], test["deleted"]) == ("db-a", "restored", True)
    instances = deployed.rds.describe_db_instances()["DBInstances"]
    assert [db["DBInstanceIdentifier"] for db in instances] == ["db-a"]
    # It lists no snapshot: no RPO judged, no storage priced, no fleet age for the RPO alarm.
    assert "rpo_hours" not in report
    assert "storage" not in report
    names = {datum.name for datum in emf.data(capsys.readouterr().out.splitlines())}
    assert {"Runs", "RestoreSeconds", "RestoreTestsFailed"} <= names
    assert "MaxNewestSnapshotAgeHours" not in names


def test_every_handler_line_carries_its_invocations_request_id(
    deployed: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs._Invocation, "cold_start", True)  # a fresh process
    deployed.instance("db-a")
    event = state()
    for step, handler in (("create", handlers.create_handler),
                          ("notify", handlers.notify_handler)):  # fmt: skip
        handler(event, SimpleNamespace(aws_request_id=f"req-{step}", function_name=step))
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert lines, step
        assert {line["function_request_id"] for line in lines} == {f"req-{step}"}
        assert {line["function_name"] for line in lines} == {step}
        # the process's first invocation was create's (the engine is built once per process)
        assert {line["cold_start"] for line in lines} == {step == "create"}
