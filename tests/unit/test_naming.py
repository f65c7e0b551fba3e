import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rds_snapshot_manager.domain.model import Snapshot, SourceRef, SourceType
from rds_snapshot_manager.domain.naming import (
    MAX_LENGTH,
    is_ours,
    is_valid_snapshot_id,
    ownership_prefix,
    snapshot_id,
    tag_value,
)

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
    assert value.startswith(ownership_prefix("rsm"))


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
    assert value.startswith(ownership_prefix("rsm") + "aurora-xxx")
    assert "-202611240530-" in value


def test_snapshot_id_reads_prefix_then_source_then_minute_then_hash() -> None:
    value = snapshot_id("rsm", "run-1", SourceRef(SourceType.INSTANCE, "db-a"), RUN_TIME)
    prefix = ownership_prefix("rsm")
    stem, minute, digest = value.removeprefix(prefix).rsplit("-", 2)
    assert (stem, minute, len(digest)) == ("db-a", "202611240530", 8)


def test_ownership_prefix_is_rsm_and_8_hex_of_the_names_sha256() -> None:
    # sha256("rds-snapshot-manager") starts with 3c196972 (the Terraform side computes the same).
    assert ownership_prefix("rds-snapshot-manager") == "rsm-3c196972-"
    assert ownership_prefix("rsm") != ownership_prefix("rsm-2")


@given(source_id=st.text(alphabet="-_.0123456789", min_size=1, max_size=80), kind=kinds)
def test_source_ids_without_letters_still_give_valid_ids_after_the_prefix(
    source_id: str, kind: SourceType
) -> None:
    value = snapshot_id("rsm", "run-1", SourceRef(kind, source_id), RUN_TIME)
    assert is_valid_snapshot_id(value, kind), value


def test_ours_needs_both_the_prefix_and_the_managed_by_tag() -> None:
    db_a = SourceRef(SourceType.INSTANCE, "db-a")
    ours_id = snapshot_id("rsm", "run-1", db_a, RUN_TIME)
    assert is_ours(Snapshot(ours_id, db_a, "available", RUN_TIME, managed_by="rsm"), "rsm")
    copy = Snapshot("copy-of-" + ours_id, db_a, "available", RUN_TIME, managed_by="rsm")
    assert not is_ours(copy, "rsm")  # a person's CopyTags copy: the tag, not the prefix
    untagged = Snapshot(ours_id, db_a, "available", RUN_TIME, managed_by=None)
    assert not is_ours(untagged, "rsm")
    assert not is_ours(Snapshot(ours_id, db_a, "available", RUN_TIME, "rsm"), "rsm-2")


def test_validity_check_rejects_double_and_trailing_hyphens_and_leading_digits() -> None:
    for bad in ("a--b", "a-", "1abc", "a_b", ""):
        assert not is_valid_snapshot_id(bad, SourceType.INSTANCE), bad


def in_rds_tag_charset(value: str) -> bool:
    """RDS API_Tag's Java regex ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$, by Unicode category."""
    return all(unicodedata.category(c)[0] in "LZN" or c in "_.:/=+-@" for c in value)


@pytest.mark.parametrize(
    ("reason", "tag"),
    [
        ("pre-migration", "pre-migration"),
        ("Ticket #42 (DB upgrade)!", "Ticket _42 _DB upgrade__"),
        ("line one\nline two\ttab", "line one line two tab"),
        ("Ünïcödé 数据库 ١٢٣ a_b.c:d/e=f+g-h@i", "Ünïcödé 数据库 ١٢٣ a_b.c:d/e=f+g-h@i"),
        ("aws:reserved", "_aws:reserved"),
        ("RDS:reserved", "_RDS:reserved"),
        ("  padded  ", "padded"),
        ("emoji 🚀", "emoji _"),
        ("x" * 300, "x" * 256),
    ],
)
def test_tag_value_keeps_rds_tag_charset_and_length(reason: str, tag: str) -> None:
    assert tag_value(reason) == tag
    assert in_rds_tag_charset(tag_value(reason))


@given(st.text(max_size=300))
def test_any_text_becomes_a_valid_rds_tag_value(text: str) -> None:
    value = tag_value(text)
    assert len(value) <= 256
    assert in_rds_tag_charset(value)
    assert not value.lower().startswith(("aws:", "rds:"))
