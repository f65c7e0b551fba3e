"""The ledger reads every earlier schema version: items written by earlier code stay readable."""

import json
from pathlib import Path
from typing import Any

from rds_snapshot_manager.adapters.ledger import PLAN_PREFIX
from rds_snapshot_manager.domain.model import Outcome, SourceRef, SourceType
from tests.unit.conftest import TABLE, Account, context

# Raw items written by the ledger code of commit 4fdaa95 (schema v0: positional JSON rows).
V0_ITEMS = Path(__file__).parent / "fixtures" / "ledger_v0_items.json"


def load_v0_items(account: Account) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(V0_ITEMS.read_text())["items"]
    for item in items:
        account.dynamodb.put_item(TableName=TABLE, Item=item)
    return items


def test_v0_run_reads_with_every_outcome_plan_and_deletion(account: Account) -> None:
    load_v0_items(account)
    record = account.ledger().read_run("v0-run")
    assert (record.started_at, record.dry_run) == ("2026-11-20T01:02:03+00:00", False)
    assert record.published_at == "2026-11-20T01:02:03+00:00"
    by_outcome = {kind: [o for o in record.outcomes if o.outcome is kind] for kind in Outcome}
    assert len(by_outcome[Outcome.CREATED]) == 111  # two chunks of positional rows
    assert [o.reason for o in by_outcome[Outcome.SKIPPED]] == [
        "newest managed snapshot is 3.0 h old; interval is 24 h"
    ]
    failed = {o.source_id: o for o in by_outcome[Outcome.FAILED]}
    assert failed["s3://bucket/list.txt"].source_type is None
    assert failed["db-broken"].snapshot_id == "db-broken-202611200102-99aa88bb"
    assert failed["db-gone"].error_code == "NotFound"
    assert [(d.snapshot_id, d.deleted) for d in record.deletions] == [
        ("db-000-202611100102-11111111", True),
        ("aurora-1-202611100102-22222222", False),
    ]


def test_v0_prune_plan_reads_with_its_kept_count(account: Account) -> None:
    load_v0_items(account)
    plan = account.ledger().read_run("v0-run", prefix=PLAN_PREFIX).prune_plan
    assert plan is not None
    assert plan.kept == 5
    assert [s.source for s in plan.expired] == [
        SourceRef(SourceType.INSTANCE, "db-000"),
        SourceRef(SourceType.CLUSTER, "aurora-1"),
    ]


def test_v0_unpublished_dry_run_reads_as_unpublished(account: Account) -> None:
    load_v0_items(account)
    record = account.ledger().read_run("v0-run-2")
    assert (record.dry_run, record.published_at, record.prune_plan) == (True, "", None)
    assert [o.status for o in record.outcomes] == ["not created (dry run)"]


def test_a_v0_run_caught_by_the_upgrade_prunes_nothing_and_is_still_reported(
    account: Account,
) -> None:
    load_v0_items(account)
    engine = account.engine()
    # Its plan was selected by 0.1.0 without the ownership prefix: the new Prune deletes none of it.
    assert engine.prune.run(context(run_id="v0-run")).summary()["deleted"] == 0
    assert engine.notify.run(context(run_id="v0-run-2")).published is True
    [report] = account.messages(account.report_queue)
    assert (report["run_id"], report["dry_run"], len(report["would_create"])) == (
        "v0-run-2",
        True,
        1,
    )
    assert engine.notify.run(context(run_id="v0-run")).published is True  # already, in 0.1.0
    assert account.messages(account.report_queue) == []
