from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rds_snapshot_manager.domain.interval import backup_time
from rds_snapshot_manager.domain.model import Snapshot, SourceRef, SourceType
from rds_snapshot_manager.domain.naming import is_ours, ownership_prefix
from rds_snapshot_manager.domain.retention import (
    PERIODS,
    RetentionPolicy,
    Tiers,
    kept_by_tiers,
    select_expired,
)

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
day_policies = st.builds(
    RetentionPolicy,
    managed_by=st.just(ME),
    retention_days=st.floats(0.01, 30),
    min_to_keep=st.integers(0, 4),
)
# (daily, weekly, monthly, yearly), at least one switched on.
tiers = (
    st.tuples(st.integers(0, 9), st.integers(0, 6), st.integers(0, 4), st.integers(0, 3))
    .filter(any)
    .map(lambda counts: Tiers(*counts))
)
tiered_policies = st.builds(
    RetentionPolicy,
    managed_by=st.just(ME),
    retention_days=st.floats(0.01, 30),
    min_to_keep=st.integers(0, 4),
    tiers=tiers,
)
policies = st.one_of(day_policies, tiered_policies)


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


@given(snapshots, day_policies)
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


# -- tiered retention (grandfather-father-son) -------------------------------------------------
# Snapshots over three years, some with a RunStartedAt tag up to a few minutes before their
# create time (a run that started just before midnight), ours and others'.
tiered_snapshots = st.lists(
    st.builds(
        lambda suffix, source, status, hours, lead, managed_by, mine: Snapshot(
            (MINE if mine else "copy-") + suffix,
            SourceRef(SourceType.INSTANCE, source),
            status,
            None if hours is None else NOW - timedelta(hours=hours),
            managed_by=managed_by,
            run_started_at=(
                None
                if hours is None or lead is None
                else NOW - timedelta(hours=hours, minutes=lead)
            ),
        ),
        st.text(alphabet="abcdef0123", min_size=1, max_size=6),
        st.sampled_from(["db-a", "db-b"]),
        st.sampled_from(["available", "available", "available", "creating", "failed"]),
        st.one_of(st.none(), st.integers(0, 3 * 366 * 24)),
        st.one_of(st.none(), st.integers(0, 10)),
        st.sampled_from([ME, ME, "someone-else"]),
        st.booleans(),
    ),
    max_size=60,
    unique_by=lambda s: s.snapshot_id,
)


def tier_keeps(snapshot: Snapshot, group: list[Snapshot], tiers: Tiers) -> bool:
    """The GFS rule stated directly: some tier with count n keeps a snapshot iff it is the newest
    of its period and fewer than n newer periods hold a snapshot."""

    def when(s: Snapshot) -> datetime:
        time = backup_time(s.created_at, s.run_started_at)
        assert time is not None
        return time

    for tier, period_of in PERIODS.items():
        period = period_of(when(snapshot))
        same = [s for s in group if period_of(when(s)) == period]
        newest = max(same, key=lambda s: (when(s), s.snapshot_id))
        newer_periods = {period_of(when(s)) for s in group} - {period}
        newer_periods = {p for p in newer_periods if p > period}
        if newest is snapshot and len(newer_periods) < getattr(tiers, tier):
            return True
    return False


@given(tiered_snapshots, tiered_policies)
def test_tiered_prune_never_deletes_a_snapshot_some_tier_keeps_and_deletes_every_other(
    existing: list[Snapshot], policy: RetentionPolicy
) -> None:
    assert policy.tiers is not None
    deleted = {s.snapshot_id for s in select_expired(existing, policy, NOW).expired}
    by_source = defaultdict(list)
    for candidate in existing:
        if is_ours(candidate, ME) and candidate.status == "available" and candidate.created_at:
            by_source[candidate.source].append(candidate)
    for group in by_source.values():
        newest = sorted(group, key=lambda s: (s.created_at, s.snapshot_id), reverse=True)
        protected = {s.snapshot_id for s in newest[: policy.min_to_keep]}
        for candidate in group:
            kept = tier_keeps(candidate, group, policy.tiers) or candidate.snapshot_id in protected
            assert (candidate.snapshot_id in deleted) is not kept, candidate


@given(tiered_snapshots, tiered_policies)
def test_tiered_prune_keeps_min_snapshots_to_keep_and_deletes_failed_ones(
    existing: list[Snapshot], policy: RetentionPolicy
) -> None:
    deleted = {s.snapshot_id for s in select_expired(existing, policy, NOW).expired}
    for candidate in existing:
        if is_ours(candidate, ME) and candidate.status == "failed":
            assert candidate.snapshot_id in deleted
        if not is_ours(candidate, ME) or candidate.status == "creating":
            assert candidate.snapshot_id not in deleted
    for source in ("db-a", "db-b"):
        available = [
            s
            for s in existing
            if s.source.source_id == source
            and is_ours(s, ME)
            and s.status == "available"
            and s.created_at
        ]
        remaining = [s for s in available if s.snapshot_id not in deleted]
        assert len(remaining) >= min(policy.min_to_keep, len(available))


def at(day: str, hour: int = 1) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def test_tiered_retention_on_a_hand_checked_calendar_across_an_iso_week_year_boundary() -> None:
    """2026 starts on a Thursday, so it has 53 ISO weeks: 2026-W53 runs from Monday 2026-12-28 to
    Sunday 2027-01-03, and 2027-W01 starts on Monday 2027-01-04.

        id   backup time (UTC)      ISO week   kept by
        s01  2025-06-01 01:00 Sun   2025-W22   -        (a 3rd year; yearly keeps 2)
        s02  2026-10-15 01:00 Thu   2026-W42   -        (a 4th month; monthly keeps 3)
        s03  2026-11-15 01:00 Sun   2026-W46   -        (not the newest of November)
        s04  2026-11-30 01:00 Mon   2026-W49   monthly  (newest of 2026-11)
        s05  2026-12-24 01:00 Thu   2026-W52   weekly   (newest of W52)
        s06  2026-12-28 01:00 Mon   2026-W53   -
        s07  2026-12-31 01:00 Thu   2026-W53   monthly, yearly (newest of 2026-12 and of 2026)
        s08  2027-01-01 01:00 Fri   2026-W53   -        (s09 is newer the same day)
        s09  2027-01-01 13:00 Fri   2026-W53   -        (a 4th day; daily keeps 3)
        s10  2027-01-02 01:00 Sat   2026-W53   daily, weekly (newest of W53, though in 2027)
        s11  2027-01-04 01:00 Mon   2027-W01   daily
        s12  2027-01-05 01:00 Tue   2027-W01   daily, weekly, monthly, yearly

    Policy daily=3, weekly=3, monthly=3, yearly=2, min_snapshots_to_keep=0, and retention_days=1,
    which the tiers replace (s04 is over a month old and kept).
    """
    calendar = {
        "s01": at("2025-06-01"),
        "s02": at("2026-10-15"),
        "s03": at("2026-11-15"),
        "s04": at("2026-11-30"),
        "s05": at("2026-12-24"),
        "s06": at("2026-12-28"),
        "s07": at("2026-12-31"),
        "s08": at("2027-01-01"),
        "s09": at("2027-01-01", hour=13),
        "s10": at("2027-01-02"),
        "s11": at("2027-01-04"),
        "s12": at("2027-01-05"),
    }
    existing = [
        Snapshot(MINE + name, DB_A, "available", time, managed_by=ME)
        for name, time in calendar.items()
    ]
    policy = RetentionPolicy(ME, 1, 0, Tiers(daily=3, weekly=3, monthly=3, yearly=2))
    selection = select_expired(existing, policy, at("2027-01-05", hour=12))
    assert sorted(s.snapshot_id.removeprefix(MINE) for s in selection.expired) == [
        "s01", "s02", "s03", "s06", "s08", "s09",
    ]  # fmt: skip
    assert selection.kept == 6
    assert at("2026-12-31").isocalendar()[:2] == at("2027-01-01").isocalendar()[:2] == (2026, 53)


def test_a_snapshot_counts_for_the_day_its_run_started() -> None:
    """The run started at 23:59:50 on 12-31; RDS stamped the snapshot at 00:00:05 on 01-01. It is
    12-31's snapshot, so daily=2 keeps it beside 01-01's."""
    late = Snapshot(
        MINE + "late",
        DB_A,
        "available",
        datetime(2027, 1, 1, 0, 0, 5, tzinfo=UTC),
        managed_by=ME,
        run_started_at=datetime(2026, 12, 31, 23, 59, 50, tzinfo=UTC),
    )
    next_day = Snapshot(MINE + "next", DB_A, "available", at("2027-01-01", 23), managed_by=ME)
    assert kept_by_tiers([late, next_day], Tiers(daily=2)) == {MINE + "late", MINE + "next"}


def test_min_snapshots_to_keep_protects_beyond_the_tiers() -> None:
    same_day = [
        Snapshot(f"{MINE}h{hour:02}", DB_A, "available", at("2027-01-05", hour), managed_by=ME)
        for hour in (1, 2, 3)
    ]
    selection = select_expired(same_day, RetentionPolicy(ME, 7, 2, Tiers(daily=1)), NOW)
    assert [s.snapshot_id for s in selection.expired] == [f"{MINE}h01"]


@pytest.mark.parametrize(
    "counts",
    [{}, {"daily": -1}, {"weekly": 1001}, {"monthly": 1.5}, {"yearly": True}, {"daily": "7"}],
)
def test_tiers_refuse_counts_outside_whole_numbers_0_to_1000_or_all_zero(
    counts: dict[str, object],
) -> None:
    with pytest.raises(ValueError, match="tier count"):
        Tiers(**counts)  # type: ignore[arg-type]
