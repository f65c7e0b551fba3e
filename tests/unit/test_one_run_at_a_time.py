"""One run at a time (D5): overlapping executions never create or delete twice, and both reports
are true. Runs are interleaved step by step, as two executions of the state machine would be."""

from datetime import timedelta

from rds_snapshot_manager.services.create import LEASE_BEYOND_WAIT_SECONDS
from rds_snapshot_manager.services.engine import Engine
from rds_snapshot_manager.services.run import RunContext
from tests.unit.conftest import OURS, Account, context, count_calls, later


def fleet(account: Account) -> Engine:
    """db-a and db-b, each with one expired snapshot of ours and a newer one (1-day retention)."""
    for source in ("db-a", "db-b"):
        account.instance(source)
        account.snapshot(source, f"{OURS}{source}-old")
        account.snapshot(source, f"{OURS}{source}-newer")
    return account.engine(
        db_instance_identifiers=("db-a", "db-b"),
        retention_days=1,
        min_snapshots_to_keep=1,
        backup_interval_hours=24,
    )


def test_overlapping_runs_create_and_delete_once_and_both_reports_are_true(
    account: Account,
) -> None:
    engine = fleet(account)
    first = context(run_id="run-a", now=later(days=2))
    second = context(run_id="run-b", now=later(days=2, hours=0.01))

    assert engine.create.run(first).summary()["created"] == 2
    assert engine.create.run(second).summary() == {
        "created": 0, "skipped": 0, "failed": 0, "dry_run": False,
    }  # fmt: skip
    assert engine.check.run(first).summary()["available"] == 2
    count_calls(account)
    assert engine.check.run(second).summary()["available"] == 0
    assert engine.prune.run(second).summary() == {"deleted": 0, "failed": 0, "kept": 0}
    assert not {"DescribeDBSnapshots", "DeleteDBSnapshot", "CreateDBSnapshot"} & set(account.calls)
    assert engine.prune.run(first).summary()["deleted"] == 2
    assert engine.notify.run(second).status == "SKIPPED"
    assert engine.notify.run(first).status == "OK"

    reports = {r["run_id"]: r for r in account.messages(account.report_queue)}
    created = {o["snapshot_id"] for o in reports["run-a"]["created"]}
    assert account.snapshot_ids() == created | {f"{OURS}db-a-newer", f"{OURS}db-b-newer"}
    assert len(reports["run-a"]["created"]) == 2
    assert len(reports["run-a"]["deleted"]) == 2
    skipped = reports["run-b"]
    assert (skipped["status"], skipped["created"], skipped["deleted"]) == ("SKIPPED", [], [])
    assert "run run-a held the lease" in skipped["reason"]
    assert account.messages(account.failure_queue) == []  # a skipped run is no failure


def test_the_next_run_gets_the_lease_once_the_holder_reported(account: Account) -> None:
    engine = fleet(account)
    first = context(run_id="run-a", now=later(days=2))
    engine.create.run(first)
    engine.notify.run(first)
    after = context(run_id="run-c", now=later(days=3))
    assert engine.create.run(after).summary()["created"] == 2


def test_an_expired_lease_of_a_crashed_run_is_taken_over(account: Account) -> None:
    engine = fleet(account)
    crashed = context(run_id="crashed", now=later(days=2))
    engine.create.run(crashed)  # ... and never reaches Notify
    lease_ends = crashed.now + timedelta(
        seconds=engine.settings.wait_timeout_seconds + LEASE_BEYOND_WAIT_SECONDS
    )
    still_held = context(run_id="early", now=lease_ends - timedelta(seconds=5))
    assert engine.create.run(still_held).summary()["created"] == 0
    taker = context(run_id="taker", now=lease_ends + timedelta(days=1, seconds=5))
    assert engine.create.run(taker).summary()["created"] == 2
    assert engine.prune.run(taker).summary()["deleted"] >= 2


def test_a_retried_create_of_the_holder_keeps_its_lease(account: Account) -> None:
    engine = fleet(account)
    holder = context(run_id="run-a", now=later(days=2))
    first = engine.create.run(holder)
    retried = engine.create.run(
        RunContext("run-a", holder.started_at, holder.now + timedelta(minutes=2), False)
    )
    assert retried.summary() == first.summary()
    other = context(run_id="run-b", now=later(days=2, hours=0.1))
    assert engine.create.run(other).summary()["created"] == 0
    # The retry re-planned Prune from a listing that holds its new snapshots: the holder prunes.
    assert engine.prune.run(holder).summary()["deleted"] > 0


def test_a_dry_run_neither_takes_nor_waits_for_the_lease(account: Account) -> None:
    engine = fleet(account)
    real = context(run_id="run-a", now=later(days=2))
    engine.create.run(real)
    dry = context(run_id="dry", now=later(days=2), dry_run=True)
    assert engine.create.run(dry).summary()["dry_run"] is True
    assert engine.notify.run(dry).status != "SKIPPED"
    other = context(run_id="run-b", now=later(days=2, hours=0.1))
    assert engine.create.run(other).summary()["created"] == 0  # run-a still holds it
