from collections import defaultdict
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rds_snapshot_manager.domain.model import Snapshot, SourceRef, SourceType
from rds_snapshot_manager.domain.retention import RetentionPolicy, select_expired

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ME = "rsm"

snapshots = st.lists(
    st.builds(
        Snapshot,
        snapshot_id=st.text(alphabet="abcdef0123", min_size=1, max_size=6),
        source=st.builds(
            SourceRef, st.sampled_from(list(SourceType)), st.sampled_from(["db-a", "db-b"])
        ),
        status=st.sampled_from(["available", "creating", "deleting"]),
        created_at=st.one_of(
            st.none(), st.integers(0, 40 * 24).map(lambda h: NOW - timedelta(hours=h))
        ),
        managed_by=st.sampled_from([ME, "someone-else", None]),
    ),
    max_size=40,
    unique_by=lambda s: (s.source.source_type, s.snapshot_id),
)
policies = st.builds(
    RetentionPolicy,
    managed_by=st.just(ME),
    retention_days=st.floats(0.01, 30),
    min_to_keep=st.integers(0, 4),
)


@given(snapshots, policies)
def test_prune_selects_only_available_snapshots_managed_by_this_deployment(
    existing: list[Snapshot], policy: RetentionPolicy
) -> None:
    for snapshot in select_expired(existing, policy, NOW).expired:
        assert snapshot.managed_by == ME
        assert snapshot.status == "available"


@given(snapshots, policies)
def test_prune_selects_only_snapshots_older_than_the_retention(
    existing: list[Snapshot], policy: RetentionPolicy
) -> None:
    cutoff = NOW - timedelta(days=policy.retention_days)
    for snapshot in select_expired(existing, policy, NOW).expired:
        assert snapshot.created_at is not None
        assert snapshot.created_at < cutoff


@given(snapshots, policies)
def test_prune_keeps_newest_available_managed_snapshots_of_each_database(
    existing: list[Snapshot], policy: RetentionPolicy
) -> None:
    selection = select_expired(existing, policy, NOW)
    remaining = defaultdict(list)
    deleted = {id(s) for s in selection.expired}
    candidates = [s for s in existing if s.managed_by == ME and s.status == "available"]
    for snapshot in candidates:
        if snapshot.created_at is not None and id(snapshot) not in deleted:
            remaining[snapshot.source].append(snapshot)
    by_source = defaultdict(list)
    for snapshot in candidates:
        if snapshot.created_at is not None:
            by_source[snapshot.source].append(snapshot)
    for source, group in by_source.items():
        assert len(remaining[source]) >= min(policy.min_to_keep, len(group))


@given(snapshots, policies)
def test_prune_accounts_for_every_snapshot_as_expired_or_kept(
    existing: list[Snapshot], policy: RetentionPolicy
) -> None:
    selection = select_expired(existing, policy, NOW)
    assert len(selection.expired) + selection.kept == len(existing)


def test_prune_keeps_newest_even_if_expired() -> None:
    old = [
        Snapshot(f"s{i}", SourceRef(SourceType.INSTANCE, "db-a"), "available",
                 NOW - timedelta(days=30 + i), managed_by=ME)
        for i in range(3)
    ]  # fmt: skip
    selection = select_expired(old, RetentionPolicy(ME, 7, 1), NOW)
    assert [s.snapshot_id for s in selection.expired] == ["s1", "s2"]
    assert selection.kept == 1
