"""RSM_RESTORE_TEST (D6): parsed, bounded, every error names the variable."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from rds_snapshot_manager.domain.restore import RestoreTestConfig
from rds_snapshot_manager.services.run import BadEventError, RunContext
from rds_snapshot_manager.settings import Settings, SettingsError
from tests.unit.test_settings import REQUIRED

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def restore_env(**config: object) -> dict[str, str]:
    return REQUIRED | {"RSM_RESTORE_TEST": json.dumps(config)}


def test_restore_tests_are_off_unless_configured() -> None:
    assert Settings.from_env(REQUIRED).restore_test is None
    assert Settings.from_env(REQUIRED | {"RSM_RESTORE_TEST": " "}).restore_test is None


def test_restore_test_configuration_is_parsed_with_defaults() -> None:
    settings = Settings.from_env(
        restore_env(
            db_instance_identifiers=["db-a"],
            sample_size=1,
            db_subnet_group_name="restore-tests",
            vpc_security_group_ids=["sg-0123"],
            timeout_minutes=60,
            db_cluster_identifiers=None,
        )
    )
    assert settings.restore_test == RestoreTestConfig(
        db_instance_identifiers=("db-a",),
        sample_size=1,
        db_subnet_group_name="restore-tests",
        vpc_security_group_ids=("sg-0123",),
        timeout_minutes=60,
        leftover_max_age_hours=24,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RSM_RESTORE_TEST": "[]"}, "must be a JSON object"),
        ({"RSM_RESTORE_TEST": "{"}, "must be a JSON object"),
        ({"RSM_RESTORE_TEST": '{"sample": 1}'}, "unknown key(s) sample"),
        ({"RSM_RESTORE_TEST": '{"sample_size": 0}'}, "sample_size must be a whole number from 1"),
        ({"RSM_RESTORE_TEST": '{"sample_size": 1.5}'}, "sample_size must be a whole number"),
        ({"RSM_RESTORE_TEST": '{"timeout_minutes": 5}'}, "timeout_minutes must be a whole"),
        ({"RSM_RESTORE_TEST": '{"db_instance_identifiers": [""]}'}, "non-empty strings"),
        (
            {"RSM_RESTORE_TEST": '{"vpc_security_group_ids": ["a","b","c","d","e","f"]}'},
            "at most 5",
        ),
        (
            {"RSM_RESTORE_TEST": '{"timeout_minutes": 180}', "RSM_WAIT_TIMEOUT_SECONDS": "7200"},
            "at most the wait timeout",
        ),
        (
            {"RSM_RESTORE_TEST": '{"timeout_minutes": 120, "leftover_max_age_hours": 2}'},
            "must be longer than timeout_minutes",
        ),
    ],
)
def test_bad_restore_test_configuration_fails_fast_naming_the_variable(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match="RSM_RESTORE_TEST") as error:
        Settings.from_env(REQUIRED | env)
    assert message in str(error.value)


def test_restore_test_input_needs_restore_tests_configured() -> None:
    event = {"run_id": "run-1", "input": {"restore_test": True}}
    off = Settings.from_env(REQUIRED)
    with pytest.raises(BadEventError, match="no restore tests configured"):
        RunContext.from_event(event, off, NOW)
    configured = Settings.from_env(restore_env())
    assert RunContext.from_event(event, configured, NOW).restore_test is True
    with pytest.raises(BadEventError, match="restore_test must be true or false"):
        RunContext.from_event({"run_id": "r", "input": {"restore_test": "yes"}}, configured, NOW)
    lenient = RunContext.from_event(event, off, NOW, strict_input=False)
    assert lenient.restore_test is False


@pytest.mark.parametrize(
    ("on_demand", "named"),
    [
        ({"targets": {"db_instance_identifiers": ["db-a"]}}, "targets"),
        ({"force": False}, "force"),
        ({"reason": "audit", "force": True}, "force, reason"),
    ],
)
def test_restore_test_input_refuses_the_on_demand_keys(
    on_demand: dict[str, object], named: str
) -> None:
    """A restore-test run makes no snapshot, so `targets`, `force` and `reason` (D10) would be
    silently ignored: the run fails instead, naming them."""
    configured = Settings.from_env(restore_env())
    event = {"run_id": "run-1", "input": {"restore_test": True, **on_demand}}
    with pytest.raises(BadEventError) as error:
        RunContext.from_event(event, configured, NOW)
    assert f"input.restore_test cannot be combined with {named}:" in str(error.value)
    # Without restore_test the same keys make an on-demand run; with restore_test false, too.
    for flag in ({}, {"restore_test": False}):
        plain = {"run_id": "run-1", "input": {**on_demand, **flag}}
        ctx = RunContext.from_event(plain, configured, NOW)
        assert ctx.on_demand is not None
        assert ctx.restore_test is False
    # Notify reports such a run (lenient parse): neither a restore test nor on-demand.
    lenient = RunContext.from_event(event, configured, NOW, strict_input=False)
    assert (lenient.restore_test, lenient.on_demand) == (False, None)
