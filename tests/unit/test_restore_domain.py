"""domain/restore.py: choosing targets, temporary database names, progress, leftovers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rds_snapshot_manager.domain.model import SourceRef, SourceType
from rds_snapshot_manager.domain.naming import VALID_ID, ownership_prefix
from rds_snapshot_manager.domain.restore import (
    RestoreTestConfig,
    choose_targets,
    db_progress,
    is_leftover,
    is_temp_db,
    restore_seconds,
    temp_db_id,
    timed_out,
    writer_id,
)

NAME = "rsm-test"
NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
FLEET = [SourceRef(SourceType.INSTANCE, f"db-{i}") for i in range(10)] + [
    SourceRef(SourceType.CLUSTER, "aurora-1")
]


def test_listed_targets_are_tested_and_unknown_ones_are_reported_not_targets() -> None:
    config = RestoreTestConfig(
        db_instance_identifiers=("DB-3", "db-x"), db_cluster_identifiers=("aurora-1",)
    )
    choice = choose_targets(config, FLEET, "run-1")
    assert set(choice.chosen) == {FLEET[3], FLEET[10]}
    assert choice.not_targets == (SourceRef(SourceType.INSTANCE, "db-x"),)


def test_without_a_list_one_target_is_sampled_and_the_sample_rotates_by_run() -> None:
    config = RestoreTestConfig()
    picks = {choose_targets(config, FLEET, f"run-{i}").chosen for i in range(30)}
    assert all(len(chosen) == 1 for chosen in picks)
    assert len(picks) > 3  # different runs test different databases
    assert choose_targets(config, FLEET, "run-7") == choose_targets(config, FLEET, "run-7")


def test_sample_size_caps_the_listed_targets() -> None:
    config = RestoreTestConfig(db_instance_identifiers=("db-1", "db-2", "db-3"), sample_size=2)
    chosen = choose_targets(config, FLEET, "run-1").chosen
    assert len(chosen) == 2
    assert set(chosen) <= set(FLEET[1:4])


def test_temp_db_id_is_prefixed_valid_short_and_deterministic() -> None:
    long_source = "orders-" + "x" * 200
    db_id = temp_db_id(NAME, "run-1", "rsm-snap-1", long_source)
    assert db_id.startswith(ownership_prefix(NAME) + "rt-orders-")
    assert len(db_id) <= 63
    assert VALID_ID.match(db_id)
    assert db_id == temp_db_id(NAME, "run-1", "rsm-snap-1", long_source)
    assert db_id != temp_db_id(NAME, "run-2", "rsm-snap-1", long_source)
    assert writer_id(NAME, "run-1", "rsm-snap-1", long_source) not in (db_id, "")
    assert VALID_ID.match(temp_db_id(NAME, "run-1", "s", "--Weird__Name--"))


def test_only_prefixed_tagged_restore_test_databases_are_temporary() -> None:
    db_id = temp_db_id(NAME, "run-1", "snap", "orders")
    tags = {"ManagedBy": NAME, "RestoreTestOf": "snap"}
    assert is_temp_db(db_id, tags, NAME)
    assert not is_temp_db(db_id, {"ManagedBy": NAME}, NAME)  # no RestoreTestOf
    assert not is_temp_db(db_id, {**tags, "ManagedBy": "other"}, NAME)
    assert not is_temp_db("orders-db", tags, NAME)
    assert not is_temp_db(ownership_prefix(NAME) + "orders-db", tags, NAME)  # no rt- mark


def test_progress_of_a_restore() -> None:
    assert db_progress(["available"]) == "available"
    assert db_progress(["available", "creating"]) == "restoring"
    assert db_progress([None]) == "restoring"  # not listed yet: eventually consistent
    assert db_progress(["available", "incompatible-restore"]) == "failed"
    assert db_progress([]) == "restoring"


def test_timeouts_leftovers_and_measured_seconds() -> None:
    started = NOW - timedelta(minutes=30)
    assert timed_out(started, NOW, 30)
    assert not timed_out(started, NOW, 31)
    assert is_leftover(NOW - timedelta(hours=24), NOW, 24)
    assert not is_leftover(NOW - timedelta(hours=23), NOW, 24)
    assert not is_leftover(None, NOW, 24)  # still being created
    assert restore_seconds(started, NOW) == 1800.0
