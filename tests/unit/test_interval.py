from datetime import UTC, datetime, timedelta

from rds_snapshot_manager.domain.interval import is_due

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_target_without_managed_snapshot_is_due() -> None:
    assert is_due(None, 24, NOW).due


def test_target_is_not_due_within_the_interval_and_says_why() -> None:
    decision = is_due(NOW - timedelta(hours=3), 24, NOW)
    assert not decision.due
    assert decision.reason == "not due: newest snapshot 3 h old, interval 24 h"


def test_target_is_due_once_the_interval_has_passed() -> None:
    assert is_due(NOW - timedelta(hours=24), 24, NOW).due


def test_fractional_interval_is_honoured() -> None:
    newest = NOW - timedelta(minutes=20)
    assert is_due(newest, 0.25, NOW).due
    decision = is_due(newest, 0.5, NOW)
    assert not decision.due
    assert decision.reason == "not due: newest snapshot 0.3 h old, interval 0.5 h"


def test_snapshot_in_progress_makes_target_not_due() -> None:
    decision = is_due(None, 24, NOW, in_progress=True)
    assert not decision.due
    assert "still being created" in decision.reason
