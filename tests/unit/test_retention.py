from collections import defaultdict
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rds_snapshot_manager.domain.model import Snapshot, SourceRef, SourceType
from rds_snapshot_manager.domain.naming import is_ours, ownership_prefix
from rds_snapshot_manager.domain.retention import RetentionPolicy, select_expired

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ME = "rsm"
MINE = ownership_prefix(ME)
DB_A = SourceRef(SourceType.INSTANCE, "db-a")

snapshots = st.lists(
    st.builds(
        Snapshot,
        # Ours carry the prefix; a person's copy, an older version's or another deployment's not.
        snapshot_id=st.builds(
            str.__add__,
            st.sampled_from([MINE, ownership_prefix("other"), "copy-", ""]),
            st.text(alphabet="abcdef0123", min_size=1, max_size=6),
        ),
        source=st.builds(
            SourceRef, st.sampled_from(list(SourceType)), st.sampled_from(["db-a", "db-b"])
        ),
        status=st.sampled_from(["available", "creating", "deleting", "failed"]),
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


def snapshot(snapshot_id: str, days_old: float, status: str = "available") -> Snapshot:
    return Snapshot(snapshot_id, DB_A, status, NOW - timedelta(days=days_old), managed_by=ME)


@given(snapshots, policies)
def test_prune_selects_only_snapshots_that_are_ours(
    existing: list[Snapshot], policy: RetentionPolicy
) -> None:
    for selected in select_expired(existing, policy, NOW).expired:
        assert is_ours(selected, ME)
        assert selected.snapshot_id.startswith(MINE)
        assert selected.managed_by == ME
        assert selected.status in ("available", "failed")


@given(snapshots, policies)
def test_prune_selects_available_snapshots_only_when_older_than_the_retention(
    existing: list[Snapshot], policy: RetentionPolicy
) -> None:
    cutoff = NOW - timedelta(days=policy.retention_days)
    for selected in select_expired(existing, policy, NOW).expired:
        if selected.status == "available":
            assert selected.created_at is not None
            assert selected.created_at < cutoff


@given(snapshots, policies)
def test_prune_selects_every_failed_snapshot_of_ours_whatever_its_age(
    existing: list[Snapshot], policy: RetentionPolicy
) -> None:
    selected = {id(s) for s in select_expired(existing, policy, NOW).expired}
    for candidate in existing:
        if candidate.status == "failed" and is_ours(candidate, ME):
            assert id(candidate) in selected


@given(snapshots, policies)
def test_prune_keeps_newest_available_snapshots_of_ours_of_each_database(
    existing: list[Snapshot], policy: RetentionPolicy
) -> None:
    selection = select_expired(existing, policy, NOW)
    deleted = {id(s) for s in selection.expired}
    by_source = defaultdict(list)
    for candidate in existing:
        if is_ours(candidate, ME) and candidate.status == "available" and candidate.created_at:
            by_source[candidate.source].append(candidate)
    for group in by_source.values():
        remaining = [s for s in group if id(s) not in deleted]
        assert len(remaining) >= min(policy.min_to_keep, len(group))


@given(snapshots, policies)
def test_prune_accounts_for_every_snapshot_as_expired_or_kept(
    existing: list[Snapshot], policy: RetentionPolicy
) -> None:
    selection = select_expired(existing, policy, NOW)
    assert len(selection.expired) + selection.kept == len(existing)


def test_prune_keeps_newest_even_if_expired() -> None:
    old = [snapshot(f"{MINE}s{i}", days_old=30 + i) for i in range(3)]
    selection = select_expired(old, RetentionPolicy(ME, 7, 1), NOW)
    assert [s.snapshot_id for s in selection.expired] == [f"{MINE}s1", f"{MINE}s2"]
    assert selection.kept == 1


def test_a_persons_copy_with_copied_tags_survives() -> None:
    ours = snapshot(f"{MINE}db-a-1", days_old=30)
    newer = snapshot(f"{MINE}db-a-2", days_old=20)
    copy = snapshot("my-copy-of-db-a-1", days_old=30)  # CopyTags: ManagedBy=ME, no prefix
    selection = select_expired([ours, newer, copy], RetentionPolicy(ME, 7, 1), NOW)
    assert selection.expired == [ours]
    assert selection.kept == 2


def test_un_prefixed_snapshots_of_an_older_version_are_never_selected() -> None:
    legacy = snapshot("db-a-202501010100-0a1b2c3d", days_old=300)
    selection = select_expired([legacy], RetentionPolicy(ME, 7, 0), NOW)
    assert (selection.expired, selection.kept) == ([], 1)


def test_failed_snapshot_is_deleted_young_and_never_protects_the_minimum() -> None:
    failed_new = snapshot(f"{MINE}failed", days_old=0.01, status="failed")
    only_good = snapshot(f"{MINE}good", days_old=30)
    selection = select_expired([failed_new, only_good], RetentionPolicy(ME, 7, 1), NOW)
    # The failed one goes although it is an hour old; the available one is the newest kept.
    assert selection.expired == [failed_new]
    assert selection.kept == 1


def test_failed_snapshot_without_a_create_time_is_deleted() -> None:
    failed = Snapshot(f"{MINE}failed", DB_A, "failed", None, managed_by=ME)
    assert select_expired([failed], RetentionPolicy(ME, 7, 1), NOW).expired == [failed]
