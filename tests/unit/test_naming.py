from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from rds_snapshot_manager.domain.model import SourceRef, SourceType
from rds_snapshot_manager.domain.naming import MAX_LENGTH, is_valid_snapshot_id, snapshot_id

RUN_TIME = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)
source_ids = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_.", min_size=1, max_size=300
)
kinds = st.sampled_from(list(SourceType))


@given(source_id=source_ids, kind=kinds, run_id=st.text(min_size=1, max_size=80))
def test_snapshot_id_is_always_a_valid_rds_identifier_within_the_length_limit(
    source_id: str, kind: SourceType, run_id: str
) -> None:
    value = snapshot_id("rsm", run_id, SourceRef(kind, source_id), RUN_TIME)
    assert is_valid_snapshot_id(value, kind), value
    assert len(value) <= MAX_LENGTH[kind]


@given(source_id=source_ids, kind=kinds)
def test_snapshot_id_is_deterministic_for_a_run(source_id: str, kind: SourceType) -> None:
    ref = SourceRef(kind, source_id)
    assert snapshot_id("rsm", "run-1", ref, RUN_TIME) == snapshot_id("rsm", "run-1", ref, RUN_TIME)


@given(source_id=source_ids, kind=kinds)
def test_snapshot_id_differs_between_runs_and_between_deployments(
    source_id: str, kind: SourceType
) -> None:
    ref = SourceRef(kind, source_id)
    first = snapshot_id("rsm", "run-1", ref, RUN_TIME)
    assert first != snapshot_id("rsm", "run-2", ref, RUN_TIME)
    assert first != snapshot_id("other-deployment", "run-1", ref, RUN_TIME)


def test_long_cluster_id_is_cut_to_63_characters_keeping_time_and_hash() -> None:
    ref = SourceRef(SourceType.CLUSTER, "aurora-" + "x" * 60)
    value = snapshot_id("rsm", "run-1", ref, RUN_TIME)
    assert len(value) == 63
    assert value.startswith("aurora-xxx")
    assert "-202611240530-" in value


def test_snapshot_id_reads_source_then_minute_then_hash() -> None:
    value = snapshot_id("rsm", "run-1", SourceRef(SourceType.INSTANCE, "db-a"), RUN_TIME)
    stem, minute, digest = value.rsplit("-", 2)
    assert (stem, minute, len(digest)) == ("db-a", "202611240530", 8)


def test_validity_check_rejects_double_and_trailing_hyphens_and_leading_digits() -> None:
    for bad in ("a--b", "a-", "1abc", "a_b", ""):
        assert not is_valid_snapshot_id(bad, SourceType.INSTANCE), bad
