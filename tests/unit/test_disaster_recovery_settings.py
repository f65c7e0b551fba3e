"""D6 disaster-recovery settings and the pure planner of work rows (domain/work.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from rds_snapshot_manager.domain.model import Snapshot, SourceRef, SourceType
from rds_snapshot_manager.domain.naming import (
    VALID_ID,
    is_our_copy,
    is_our_share_copy,
    is_ours,
    ownership_prefix,
    share_copy_id,
)
from rds_snapshot_manager.domain.work import (
    CopyRegion,
    DrPolicy,
    WorkItem,
    WorkKind,
    WorkState,
    carry_over,
    plan_work,
)
from rds_snapshot_manager.settings import Settings, SettingsError
from tests.unit.conftest import Account
from tests.unit.test_settings import REQUIRED

KEY_EU = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_HOME = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DB_A = SourceRef(SourceType.INSTANCE, "db-a")
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def test_disaster_recovery_settings_are_parsed() -> None:
    settings = Settings.from_env(
        REQUIRED
        | {
            "RSM_COPY_TO_REGIONS": json.dumps(
                [
                    {
                        "region": "eu-west-1",
                        "kms_key_arn": KEY_EU,
                        "retention_days": 30,
                        "share": True,
                    },
                    {"region": "us-west-2", "kms_key_arn": None},
                ]
            ),
            "RSM_SHARE_WITH_ACCOUNT_IDS": '["111122223333"]',
            "RSM_SHARE_KMS_KEY_ARN": KEY_HOME,
        }
    )
    assert settings.copy_to_regions == (
        CopyRegion("eu-west-1", KEY_EU, 30.0, True),
        CopyRegion("us-west-2"),
    )
    assert settings.share_with_account_ids == ("111122223333",)
    assert (settings.home_region, settings.account_id) == ("us-east-1", "123456789012")
    assert settings.dr_policy.enabled


def test_disaster_recovery_is_off_by_default() -> None:
    settings = Settings.from_env(REQUIRED)
    assert (settings.copy_to_regions, settings.share_with_account_ids) == ((), ())
    assert not settings.dr_policy.enabled


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RSM_SHARE_WITH_ACCOUNT_IDS", '["all"]', "never 'all'"),
        ("RSM_SHARE_WITH_ACCOUNT_IDS", '["12345"]', "12-digit"),
        ("RSM_SHARE_WITH_ACCOUNT_IDS", json.dumps([f"{i:012d}" for i in range(1, 22)]),
         "at most 20"),
        ("RSM_SHARE_WITH_ACCOUNT_IDS", '["111122223333","111122223333"]', "distinct"),
        ("RSM_SHARE_WITH_ACCOUNT_IDS", '["123456789012"]', "own account 123456789012"),
        ("RSM_SHARE_KMS_KEY_ARN", KEY_EU, "home region us-east-1"),
        ("RSM_SHARE_KMS_KEY_ARN", "alias/aws/rds", "RSM_SHARE_KMS_KEY_ARN must be"),
        ("RSM_COPY_TO_REGIONS", '[{"region": "us-east-1"}]', "never the home region"),
        ("RSM_COPY_TO_REGIONS", '[{"region": "eu-west-1"}, {"region": "eu-west-1"}]', "once"),
        ("RSM_COPY_TO_REGIONS", json.dumps([{"region": f"eu-west-{i}"} for i in range(1, 7)]),
         "at most 5"),
        ("RSM_COPY_TO_REGIONS", json.dumps([{"region": "eu-west-1", "kms_key_arn": KEY_HOME}]),
         "a key must be in its region"),
        ("RSM_COPY_TO_REGIONS", '[{"region": "eu-west-1", "retention_days": 0}]', "1..3650"),
        ("RSM_COPY_TO_REGIONS", '[{"region": "eu-west-1", "share": true}]', "lists no account"),
        ("RSM_COPY_TO_REGIONS", '[{"region": "eu-west-1", "regoin": "x"}]', "RSM_COPY_TO_REGIONS"),
        ("RSM_COPY_TO_REGIONS", '{"region": "eu-west-1"}', "a JSON list"),
    ],
)  # fmt: skip
def test_bad_disaster_recovery_settings_fail_fast_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=variable) as error:
        Settings.from_env(REQUIRED | {variable: value})
    assert message in str(error.value)


# -- naming (D8) -----------------------------------------------------------------------------------
def snapshot(snapshot_id: str, **fields: str) -> Snapshot:
    return replace(Snapshot(snapshot_id, DB_A, "available", NOW, managed_by="rsm"), **fields)


def test_copies_follow_their_own_ownership_rules() -> None:
    prefix = ownership_prefix("rsm")
    original = snapshot(f"{prefix}db-a-1")
    copy = snapshot(f"{prefix}db-a-1", copy_source_region="us-east-1")
    theirs = snapshot(f"{prefix}db-a-1", copy_source_region="eu-west-1")
    share = snapshot(f"{prefix}s-db-a-1", share_copy_of=f"{prefix}db-a-1")
    assert [is_ours(s, "rsm") for s in (original, copy, theirs, share)] == [
        True, False, False, False,
    ]  # fmt: skip
    assert [is_our_copy(s, "rsm", "us-east-1") for s in (original, copy, theirs, share)] == [
        False, True, False, False,
    ]  # fmt: skip
    assert [is_our_share_copy(s, "rsm") for s in (original, copy, theirs, share)] == [
        False, False, False, True,
    ]  # fmt: skip


@pytest.mark.parametrize("stem", ["db-a-202611250100-1a2b3c4d", "x" * 40 + "-202611250100-1a2b3c4d",
                                  "a" * 240])  # fmt: skip
def test_share_copy_id_is_valid_deterministic_and_keeps_the_prefix(stem: str) -> None:
    original = ownership_prefix("rsm") + stem
    copy_id = share_copy_id(original, "rsm")
    assert copy_id == share_copy_id(original, "rsm")
    assert copy_id.startswith(ownership_prefix("rsm") + "s-")
    assert len(copy_id) <= 63
    assert VALID_ID.match(copy_id)
    assert share_copy_id(original + "b", "rsm") != copy_id


# -- planner ---------------------------------------------------------------------------------------
POLICY = DrPolicy(
    "us-east-1",
    (CopyRegion("eu-west-1", share=True, retention_days=2), CopyRegion("us-west-2")),
    ("111122223333",),
)


def test_planner_makes_a_copy_per_region_and_a_share_home_and_per_sharing_region() -> None:
    rows = plan_work([("snap-1", DB_A)], POLICY, NOW)
    assert sorted(w.key for w in rows) == [
        "copy#eu-west-1#snap-1", "copy#us-west-2#snap-1",
        "share#eu-west-1#snap-1", "share#us-east-1#snap-1",
    ]  # fmt: skip
    assert {(w.state, w.target_id, w.snapshot_at) for w in rows} == {
        (WorkState.PENDING, "snap-1", NOW.isoformat())
    }


def test_carry_over_takes_unfinished_rows_marks_expired_and_drops_unconfigured() -> None:
    pending = WorkItem(WorkKind.COPY, "new", DB_A, "us-west-2", "new", snapshot_at=NOW.isoformat())
    old = WorkItem(WorkKind.COPY, "old", DB_A, "eu-west-1", "old",
                   snapshot_at=(NOW - timedelta(days=3)).isoformat())  # fmt: skip
    done = replace(pending.done(NOW), snapshot_id="d")
    gone = WorkItem(WorkKind.COPY, "x", DB_A, "ap-south-1", "x")  # no longer a copy region
    carried = carry_over([pending, old, done, gone], "run-1", POLICY, 7, NOW + timedelta(hours=1))
    assert [(w.snapshot_id, w.state, w.error_code, w.from_run) for w in carried] == [
        ("new", WorkState.PENDING, "", "run-1"),
        ("old", WorkState.FAILED, "Expired", "run-1"),  # eu-west-1 keeps copies 2 days
    ]


# -- ledger ----------------------------------------------------------------------------------------
def test_work_rows_round_trip_in_chunks_and_a_shorter_rewrite_leaves_nothing_stale(
    account: Account,
) -> None:
    ledger = account.ledger()
    rows = [WorkItem(WorkKind.COPY, f"snap-{i}", DB_A, "eu-west-1", f"snap-{i}")
            for i in range(250)]  # fmt: skip
    ledger.write_work("run-1", rows, NOW)
    assert ledger.work("run-1") == rows
    ledger.write_work("run-1", rows[:3], NOW)
    assert ledger.work("run-1") == rows[:3]
    record = ledger.read_targets_and_work("run-1")
    assert record.work == rows[:3]


def test_previous_run_is_the_newest_earlier_one_that_held_the_lease(account: Account) -> None:
    ledger = account.ledger()
    for run_id, minutes, held in (("a", 0, True), ("b", 10, True), ("c", 20, False)):
        started = (NOW + timedelta(minutes=minutes)).isoformat()
        lease = ledger.acquire_lease(run_id, NOW + timedelta(minutes=minutes), 60) if held else None
        ledger.start_run(run_id, started, not held, NOW, lease)
        if held:
            ledger.release_lease(run_id)
    assert ledger.previous_run("d", (NOW + timedelta(minutes=30)).isoformat()) == "b"
    assert ledger.previous_run("b", (NOW + timedelta(minutes=10)).isoformat()) == "a"
    assert ledger.previous_run("a", NOW.isoformat()) is None
