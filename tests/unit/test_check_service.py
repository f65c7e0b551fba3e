from dataclasses import replace
from datetime import timedelta

from botocore.exceptions import EndpointConnectionError

from rds_snapshot_manager.adapters.ledger import LedgerAdapter
from rds_snapshot_manager.domain.model import Outcome, SourceRef, SourceType, TargetOutcome
from tests.unit.conftest import Account, answer, context, count_calls, inject_exception, later

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
        "creating": 0, "available": 2, "failed": 0, "work": 0, "done": True, "timed_out": False,
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
        "creating": 1, "available": 0, "failed": 0, "work": 0, "done": False, "timed_out": False,
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
        "creating": 1, "available": 0, "failed": 0, "work": 0, "done": True, "timed_out": True,
    }  # fmt: skip
    assert ledger.read_run("run-1").outcomes[0].status == "creating"


def test_failed_snapshot_turns_the_target_failed(account: Account) -> None:
    ledger = record_pending(account, TargetOutcome.created(DB_A, "snap-a", "creating"))
    answer(
        account.rds,
        "DescribeDBSnapshots",
        {"DBSnapshots": [{"DBSnapshotIdentifier": "snap-a", "Status": "failed"}]},
    )
    result = account.engine().check.run(context())
    assert result.summary()["failed"] == 1
    [outcome] = ledger.read_run("run-1").outcomes
    assert (outcome.outcome, outcome.error_code) == (Outcome.FAILED, "SnapshotFailed")
    assert outcome.message == "snapshot snap-a ended in status failed"
    assert outcome.snapshot_id == "snap-a"


def test_snapshot_not_listed_yet_is_creating_until_the_wait_timeout(account: Account) -> None:
    """Describes are eventually consistent: a snapshot Create made may not be listed at once."""
    ledger = record_pending(account, TargetOutcome.created(DB_A, "snap-a", "creating"))
    engine = account.engine(wait_timeout_seconds=600)
    now = later()
    polled = engine.check.run(context(now=now, started_at=now - timedelta(seconds=30)))
    assert polled.summary() == {
        "creating": 1, "available": 0, "failed": 0, "work": 0, "done": False, "timed_out": False,
    }  # fmt: skip
    timed_out = engine.check.run(context(now=now, started_at=now - timedelta(seconds=601)))
    assert timed_out.summary()["timed_out"] is True
    [outcome] = ledger.read_run("run-1").outcomes
    assert (outcome.outcome, outcome.status) == (Outcome.CREATED, "creating")
    assert outcome.reason == "not confirmed: RDS did not list it before the wait timed out"


def test_a_failed_describe_leaves_snapshots_as_they_are_for_the_next_poll(
    account: Account,
) -> None:
    account.instance("db-a")
    account.snapshot("db-a", "snap-a", run_id="run-1")
    ledger = record_pending(account, TargetOutcome.created(DB_A, "snap-a", "creating"))
    inject_exception(
        account.rds,
        "DescribeDBSnapshots",
        lambda: EndpointConnectionError(endpoint_url="https://rds.amazonaws.com"),
        when=lambda params: "Filters" in params,
    )
    result = account.engine().check.run(context())
    assert result.summary()["creating"] == 1
    assert ledger.read_run("run-1").outcomes[0].status == "creating"


def test_a_create_whose_response_was_lost_is_confirmed_when_listed(account: Account) -> None:
    account.instance("db-a")
    account.snapshot("db-a", "snap-a", run_id="run-1")
    lost = TargetOutcome.failed(
        "db-a", SourceType.INSTANCE, "ReadTimeoutError", "Read timeout", snapshot_id="snap-a"
    )
    never_made = TargetOutcome.failed(
        "db-b", SourceType.INSTANCE, "ReadTimeoutError", "Read timeout", snapshot_id="snap-b"
    )
    ledger = record_pending(account, lost, never_made)
    result = account.engine().check.run(context())
    assert result.summary()["available"] == 1
    outcomes = {o.source_id: o for o in ledger.read_run("run-1").outcomes}
    assert (outcomes["db-a"].outcome, outcomes["db-a"].status) == (Outcome.CREATED, "available")
    assert outcomes["db-a"].error_code == ""
    assert (outcomes["db-b"].outcome, outcomes["db-b"].error_code) == (
        Outcome.FAILED,
        "ReadTimeoutError",
    )


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


def test_a_listed_members_row_follows_its_clusters_snapshot_which_is_described_once(
    account: Account,
) -> None:
    account.cluster("aurora-1", members=1)
    account.snapshot("aurora-1", "snap-c", cluster=True, run_id="run-1")
    member = replace(
        TargetOutcome.created(SourceRef(SourceType.INSTANCE, "aurora-1-1"), "snap-c", "creating"),
        reason="covered by the snapshot of cluster aurora-1",
    )
    ledger = record_pending(account, member, TargetOutcome.created(AURORA, "snap-c", "creating"))
    count_calls(account)
    result = account.engine().check.run(context())
    assert result.summary()["available"] == 1  # one snapshot, though two rows carry it
    assert "DescribeDBSnapshots" not in account.calls
    assert account.calls["DescribeDBClusterSnapshots"] == 1
    outcomes = {o.source_id: o for o in ledger.read_run("run-1").outcomes}
    assert (outcomes["aurora-1-1"].status, outcomes["aurora-1-1"].reason) == (
        "available",
        "covered by the snapshot of cluster aurora-1",
    )
