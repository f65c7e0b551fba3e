from datetime import timedelta

from rds_snapshot_manager.adapters.ledger import LedgerAdapter
from rds_snapshot_manager.domain.model import Outcome, SourceRef, SourceType, TargetOutcome
from tests.unit.conftest import Account, answer, context, count_calls, later

DB_A = SourceRef(SourceType.INSTANCE, "db-a")
AURORA = SourceRef(SourceType.CLUSTER, "aurora-1")


def record_pending(account: Account, *outcomes: TargetOutcome) -> LedgerAdapter:
    """What Create records against real RDS, where new snapshots start out `creating`."""
    ledger = account.ledger()
    ledger.record_outcomes("run-1", outcomes, later())
    return ledger


def test_pending_snapshots_that_became_available_are_recorded_and_the_loop_ends(
    account: Account,
) -> None:
    account.instance("db-a")
    account.cluster("aurora-1")
    account.snapshot("db-a", "snap-a", run_id="run-1")
    account.snapshot("aurora-1", "snap-c", cluster=True, run_id="run-1")
    account.snapshot("db-a", "not-this-run")
    ledger = record_pending(
        account,
        TargetOutcome.created(DB_A, "snap-a", "creating"),
        TargetOutcome.created(AURORA, "snap-c", "creating"),
    )
    count_calls(account)
    result = account.engine().check.run(context())
    assert result.summary() == {
        "creating": 0, "available": 2, "failed": 0, "done": True, "timed_out": False,
    }  # fmt: skip
    assert {o.status for o in ledger.read_run("run-1").outcomes} == {"available"}
    assert account.calls["DescribeDBSnapshots"] == 1
    assert account.calls["DescribeDBClusterSnapshots"] == 1


def test_snapshot_still_creating_keeps_the_loop_going(account: Account) -> None:
    record_pending(account, TargetOutcome.created(DB_A, "snap-a", "creating"))
    answer(
        account.rds,
        "DescribeDBSnapshots",
        {"DBSnapshots": [{"DBSnapshotIdentifier": "snap-a", "Status": "creating"}]},
    )
    result = account.engine().check.run(context())
    assert result.summary() == {
        "creating": 1, "available": 0, "failed": 0, "done": False, "timed_out": False,
    }  # fmt: skip


def test_wait_timeout_ends_the_loop_and_leaves_snapshots_creating(account: Account) -> None:
    ledger = record_pending(account, TargetOutcome.created(DB_A, "snap-a", "creating"))
    answer(
        account.rds,
        "DescribeDBSnapshots",
        {"DBSnapshots": [{"DBSnapshotIdentifier": "snap-a", "Status": "creating"}]},
    )
    now = later()
    engine = account.engine(wait_timeout_seconds=600)
    result = engine.check.run(context(now=now, started_at=now - timedelta(seconds=601)))
    assert result.summary() == {
        "creating": 1, "available": 0, "failed": 0, "done": True, "timed_out": True,
    }  # fmt: skip
    assert ledger.read_run("run-1").outcomes[0].status == "creating"


def test_failed_or_vanished_snapshot_turns_the_target_failed(account: Account) -> None:
    ledger = record_pending(
        account,
        TargetOutcome.created(DB_A, "snap-a", "creating"),
        TargetOutcome.created(SourceRef(SourceType.INSTANCE, "db-b"), "snap-b", "creating"),
    )
    answer(
        account.rds,
        "DescribeDBSnapshots",
        {"DBSnapshots": [{"DBSnapshotIdentifier": "snap-a", "Status": "failed"}]},
    )
    result = account.engine().check.run(context())
    assert result.summary()["failed"] == 2
    outcomes = {o.source_id: o for o in ledger.read_run("run-1").outcomes}
    assert {o.outcome for o in outcomes.values()} == {Outcome.FAILED}
    assert outcomes["db-a"].message == "snapshot snap-a ended in status failed"
    assert outcomes["db-b"].message == "snapshot snap-b disappeared while being created"
    assert outcomes["db-a"].snapshot_id == "snap-a"


def test_check_without_pending_snapshots_makes_no_rds_call(account: Account) -> None:
    record_pending(
        account,
        TargetOutcome.created(DB_A, "snap-a", "available"),
        TargetOutcome.skipped(AURORA, "not due"),
    )
    count_calls(account)
    result = account.engine().check.run(context())
    assert result.summary()["available"] == 1
    assert account.calls == {"Query": 1}
