"""On-demand runs (D10): input `targets`, `force`, `reason`; strict parsing, the target filter,
the RunReason tag, the report's `on_demand`, pruning only the named targets, and the lease."""

from datetime import timedelta
from typing import Any

import pytest

from rds_snapshot_manager.domain.model import Outcome
from rds_snapshot_manager.domain.targets import TargetFilter
from rds_snapshot_manager.services.create import CreateResult
from rds_snapshot_manager.services.engine import Engine
from rds_snapshot_manager.services.run import BadEventError, OnDemand, RunContext
from rds_snapshot_manager.settings import Settings
from tests.unit.conftest import OURS, Account, context, hold_lease, later

SETTINGS = Settings(name="rsm", ledger_table="t", report_topic_arn="r", failure_topic_arn="f")
ASKED = OnDemand(TargetFilter(("db-a",)), force=True, reason="pre-migration")


def parsed(run_input: dict[str, Any]) -> RunContext:
    event = {"run_id": "run-1", "started_at": "2026-11-25T01:00:00Z", "input": run_input}
    return RunContext.from_event(event, SETTINGS, later())


def cycle(engine: Engine, ctx: RunContext) -> CreateResult:
    """One whole run, so the next one gets the lease; returns what Create did."""
    created = engine.create.run(ctx)
    for step in (engine.check, engine.prune, engine.notify):
        step.run(ctx)
    return created


def outcomes(result: CreateResult) -> dict[str, tuple[Outcome, str]]:
    return {o.source_id: (o.outcome, o.error_code or o.reason) for o in result.outcomes}


def tags_of(account: Account, snapshot_id: str) -> dict[str, str]:
    [snapshot] = account.rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"]
    return {t["Key"]: t["Value"] for t in snapshot["TagList"]}


# -- parsing ------------------------------------------------------------------------------------
def test_on_demand_input_is_parsed_with_ids_kept_once_in_their_first_spelling() -> None:
    ctx = parsed(
        {
            "targets": {
                "db_instance_identifiers": ["Orders-DB", "orders-db", "db-b"],
                "db_cluster_identifiers": ["aurora-1"],
            },
            "force": True,
            "reason": "  pre-migration  ",
            "dry_run": True,
        }
    )
    assert ctx.on_demand == OnDemand(
        TargetFilter(("Orders-DB", "db-b"), ("aurora-1",)), True, "pre-migration"
    )
    assert (ctx.force, ctx.dry_run) == (True, True)
    assert ctx.on_demand.summary() == {"reason": "pre-migration", "force": True, "targets": 3}


def test_a_scheduled_input_is_no_on_demand_run() -> None:
    for run_input in ({}, {"dry_run": False}, None):
        ctx = parsed(run_input)  # type: ignore[arg-type]
        assert (ctx.on_demand, ctx.force, ctx.targets) == (None, False, None)


def test_reason_alone_makes_an_on_demand_run_of_the_whole_selection() -> None:
    ctx = parsed({"reason": "audit"})
    assert ctx.on_demand == OnDemand(None, False, "audit")
    assert ctx.on_demand.summary() == {"reason": "audit", "force": False, "targets": 0}


@pytest.mark.parametrize(
    ("run_input", "message"),
    [
        ({"force": "true"}, 'input.force must be true or false (a JSON boolean); got "true"'),
        ({"reason": 7}, "input.reason must be a string; got 7"),
        ({"reason": "x" * 257}, "input.reason has 257 characters; at most 256"),
        ({"targets": ["db-a"]}, "input.targets must be an object"),
        ({"targets": {}}, "input.targets names no database"),
        ({"targets": {"db_instance_identifiers": []}}, "input.targets names no database"),
        (
            {"targets": {"instances": ["db-a"]}},
            "input.targets has unknown key(s) 'instances'; allowed: db_instance_identifiers, "
            "db_cluster_identifiers",
        ),
        (
            {"targets": {"db_instance_identifiers": "db-a"}},
            'input.targets.db_instance_identifiers must be a list of identifiers; got "db-a"',
        ),
        (
            {"targets": {"db_cluster_identifiers": ["ok", "bad_id"]}},
            "input.targets.db_cluster_identifiers[1] must be an RDS identifier",
        ),
        (
            {"targets": {"db_instance_identifiers": ["a" * 64]}},
            "input.targets.db_instance_identifiers[0] must be an RDS identifier",
        ),
        (
            {"targets": {"db_instance_identifiers": [f"db-{i}" for i in range(1001)]}},
            "input.targets.db_instance_identifiers has 1001 ids; at most 1000",
        ),
        (
            {
                "targets": {
                    "db_instance_identifiers": [f"db-{i}" for i in range(600)],
                    "db_cluster_identifiers": [f"c-{i}" for i in range(401)],
                }
            },
            "input.targets names 1001 ids; at most 1000 in all",
        ),
        ({"Force": True}, "input has unknown key(s) 'Force'"),
    ],
)
def test_bad_on_demand_input_fails_naming_the_key_and_what_is_allowed(
    run_input: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadEventError) as raised:
        parsed(run_input)
    assert str(raised.value).startswith(message)


def test_notify_reports_a_rejected_input_without_on_demand() -> None:
    event = {"run_id": "run-1", "input": {"force": "yes"}}
    ctx = RunContext.from_event(event, SETTINGS, later(), strict_input=False)
    assert ctx.on_demand is None


# -- create ---------------------------------------------------------------------------------------
def test_targets_limit_the_run_and_unselected_ids_fail_not_a_target(account: Account) -> None:
    for source in ("db-a", "db-b", "db-other"):
        account.instance(source)
    account.cluster("aurora-1", members=1)
    engine = account.engine(
        db_instance_identifiers=("db-a", "db-b", "aurora-1-1"),
        db_cluster_identifiers=("aurora-1",),
    )
    wanted = TargetFilter(("DB-A", "db-other", "aurora-1"), ("ghost-cluster",))
    result = engine.create.run(context(on_demand=OnDemand(wanted)))
    got = outcomes(result)
    assert set(got) == {"db-a", "db-other", "aurora-1", "ghost-cluster"}
    assert got["db-a"][0] is Outcome.CREATED
    assert got["db-other"] == (Outcome.FAILED, "NotATarget")
    assert got["ghost-cluster"] == (Outcome.FAILED, "NotATarget")
    assert got["aurora-1"] == (Outcome.FAILED, "NotATarget")  # named as an instance
    message = next(o.message for o in result.outcomes if o.source_id == "aurora-1")
    assert message == (
        "DB instance aurora-1 is not among the databases this deployment snapshots "
        "(db_instance_identifiers, selection_tags, the targets list file); an on-demand run "
        "snapshots only those; the DB cluster aurora-1 is one: name it in db_cluster_identifiers"
    )
    assert len(account.snapshot_ids()) == 1
    assert account.snapshot_ids(cluster=True) == set()


def test_a_named_cluster_member_brings_its_cluster_and_tag_selection_counts(
    account: Account,
) -> None:
    account.cluster("aurora-1", members=1)
    account.instance("tagged", tags={"backup": "true"})
    account.instance("untouched", tags={"backup": "true"})
    engine = account.engine(
        db_instance_identifiers=("aurora-1-1",), selection_tags={"backup": "true"}
    )
    wanted = TargetFilter(("aurora-1-1", "tagged"))
    got = outcomes(engine.create.run(context(on_demand=OnDemand(wanted))))
    assert {k: v[0] for k, v in got.items()} == {
        "aurora-1": Outcome.CREATED,
        "aurora-1-1": Outcome.CREATED,
        "tagged": Outcome.CREATED,
    }
    assert len(account.snapshot_ids(cluster=True)) == 1
    assert len(account.snapshot_ids()) == 1


def test_force_snapshots_now_regardless_of_the_interval_and_tags_the_reason(
    account: Account,
) -> None:
    account.instance("db-a")
    account.instance("db-b")
    engine = account.engine(db_instance_identifiers=("db-a", "db-b"), backup_interval_hours=24)
    cycle(engine, context(run_id="scheduled"))
    an_hour_on = later(hours=1)

    not_forced = cycle(engine, context(run_id="asked-1", now=an_hour_on, on_demand=OnDemand()))
    assert {o.outcome for o in not_forced.outcomes} == {Outcome.SKIPPED}

    asked = OnDemand(TargetFilter(("db-a",)), force=True, reason="pre-migration\tv2: a/b=c+d@e")
    forced = cycle(engine, context(run_id="asked-2", now=an_hour_on, on_demand=asked))
    [created] = forced.outcomes
    assert (created.source_id, created.outcome) == ("db-a", Outcome.CREATED)
    tags = tags_of(account, created.snapshot_id)
    assert tags["RunReason"] == "pre-migration v2: a/b=c+d@e"
    assert tags["ManagedBy"] == "rsm-test"
    assert created.snapshot_id.startswith(OURS)


def test_a_retried_forced_create_meets_its_own_snapshot_and_makes_no_second_one(
    account: Account,
) -> None:
    account.instance("db-a")
    engine = account.engine(db_instance_identifiers=("db-a",))
    ctx = context(run_id="asked", on_demand=OnDemand(force=True, reason="hotfix"))
    [first] = engine.create.run(ctx).outcomes
    [retried] = engine.create.run(ctx).outcomes
    assert (retried.outcome, retried.snapshot_id) == (Outcome.CREATED, first.snapshot_id)
    assert account.snapshot_ids() == {first.snapshot_id}


def test_force_does_not_start_a_second_snapshot_beside_one_still_creating(
    account: Account,
) -> None:
    account.instance("db-a")
    engine = account.engine(db_instance_identifiers=("db-a",))
    cycle(engine, context(run_id="first"))
    # The first run's snapshot is still creating when the forced run starts (moto makes it
    # available at once, so the listing is told otherwise).
    real = account.rds.describe_db_snapshots

    def creating(**kwargs: Any) -> dict[str, Any]:
        page = real(**kwargs)
        for snapshot in page["DBSnapshots"]:
            snapshot["Status"] = "creating"
        return page

    account.rds.describe_db_snapshots = creating  # type: ignore[method-assign]
    forced = engine.create.run(
        context(run_id="forced", now=later(hours=0.1), on_demand=OnDemand(force=True))
    )
    [skipped] = forced.outcomes
    assert skipped.outcome is Outcome.SKIPPED
    assert skipped.reason == "not due: a managed snapshot is still being created"


def test_no_run_reason_tag_without_a_reason(account: Account) -> None:
    account.instance("db-a")
    engine = account.engine(db_instance_identifiers=("db-a",))
    [created] = engine.create.run(context(on_demand=OnDemand(force=True))).outcomes
    assert "RunReason" not in tags_of(account, created.snapshot_id)


def test_a_targets_limited_run_prunes_only_those_targets(account: Account) -> None:
    for source in ("db-a", "db-b"):
        account.instance(source)
        account.snapshot(source, f"{OURS}{source}-old")
    engine = account.engine(
        db_instance_identifiers=("db-a", "db-b"), retention_days=1, min_snapshots_to_keep=0
    )
    ctx = context(now=later(days=2), on_demand=OnDemand(TargetFilter(("db-a",)), force=True))
    engine.create.run(ctx)
    assert engine.prune.run(ctx).summary()["deleted"] == 1
    remaining = account.snapshot_ids()
    assert f"{OURS}db-a-old" not in remaining
    assert f"{OURS}db-b-old" in remaining


def test_prune_without_creates_plan_keeps_to_the_named_targets(account: Account) -> None:
    for source in ("db-a", "db-b"):
        account.instance(source)
        account.snapshot(source, f"{OURS}{source}-old")
    ctx = context(now=later(days=2), on_demand=OnDemand(TargetFilter(("DB-B",))))
    hold_lease(account, ctx)  # as Create does; it planned nothing (deletion was off then)
    engine = account.engine(retention_days=1, min_snapshots_to_keep=0)
    assert engine.prune.run(ctx).summary()["deleted"] == 1
    assert account.snapshot_ids() == {f"{OURS}db-a-old"}


def test_dry_run_on_demand_creates_nothing_and_reports_what_it_would_do(
    account: Account,
) -> None:
    account.instance("db-a")
    account.instance("db-b")
    engine = account.engine(db_instance_identifiers=("db-a", "db-b"))
    ctx = context(dry_run=True, on_demand=ASKED)
    assert engine.create.run(ctx).summary() == {
        "created": 0, "would_create": 1, "skipped": 0, "failed": 0, "dry_run": True,
    }  # fmt: skip
    engine.check.run(ctx)
    engine.prune.run(ctx)
    # PARTIAL, and truly so: db-a has no available snapshot, a dry run makes none (RPO breached).
    assert engine.notify.run(ctx).status == "PARTIAL"
    [report] = account.messages(account.report_queue)
    assert [item["source_id"] for item in report["would_create"]] == ["db-a"]
    assert report["would_create"][0]["rpo_breached"] is True
    assert report["on_demand"] == {"reason": "pre-migration", "force": True, "targets": 1}
    assert account.snapshot_ids() == set()


# -- report and lease -------------------------------------------------------------------------
def test_on_demand_run_reports_its_reason_and_a_scheduled_one_has_no_on_demand(
    account: Account,
) -> None:
    account.instance("db-a")
    engine = account.engine(db_instance_identifiers=("db-a",))
    cycle(engine, context(run_id="asked", on_demand=ASKED))
    cycle(engine, context(run_id="scheduled", now=later(days=1)))
    reports = {r["run_id"]: r for r in account.messages(account.report_queue)}
    assert reports["asked"]["on_demand"] == {
        "reason": "pre-migration", "force": True, "targets": 1,
    }  # fmt: skip
    assert reports["asked"]["status"] == "OK"
    assert "on_demand" not in reports["scheduled"]


def test_on_demand_run_meeting_a_running_run_is_skipped_on_both_topics(
    account: Account,
) -> None:
    account.instance("db-a")
    engine = account.engine(db_instance_identifiers=("db-a",))
    running = context(run_id="scheduled")
    engine.create.run(running)
    asked = context(run_id="asked", now=running.now + timedelta(minutes=1), on_demand=ASKED)
    assert engine.create.run(asked).summary()["created"] == 0
    assert engine.notify.run(asked).status == "SKIPPED"
    [report] = account.messages(account.report_queue)
    assert account.messages(account.failure_queue) == [report]
    assert report["status"] == "SKIPPED"
    assert report["reason"].startswith("run scheduled held the lease until ")
    assert report["reason"].endswith("; start the on-demand run again once that run has finished")
    assert report["on_demand"]["reason"] == "pre-migration"
    assert len(account.snapshot_ids()) == 1  # the scheduled run's only
