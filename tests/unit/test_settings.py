import pytest

from rds_snapshot_manager.domain.retention import Tiers
from rds_snapshot_manager.settings import Settings, SettingsError

REQUIRED = {
    "RSM_NAME": "rsm",
    "RSM_LEDGER_TABLE": "rsm-ledger",
    "RSM_REPORT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:report",
    "RSM_FAILURE_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:failure",
}


def test_defaults_apply_when_only_required_variables_are_set() -> None:
    settings = Settings.from_env(REQUIRED)
    assert (settings.name, settings.backup_interval_hours, settings.retention_days) == (
        "rsm",
        24,
        7,
    )
    assert (settings.delete_old_snapshots, settings.dry_run, settings.log_level) == (
        True,
        False,
        "INFO",
    )
    assert (settings.manual_snapshot_quota, settings.max_concurrency) == (100, 8)
    assert settings.db_instance_identifiers == ()


def test_json_lists_maps_fractions_and_booleans_are_parsed() -> None:
    settings = Settings.from_env(
        REQUIRED
        | {
            "RSM_DB_INSTANCE_IDENTIFIERS": '["db-a", " db-b ", ""]',
            "RSM_DB_CLUSTER_IDENTIFIERS": '["aurora-1"]',
            "RSM_SELECTION_TAGS": '{"backup": "true"}',
            "RSM_BACKUP_INTERVAL_HOURS": "0.01",
            "RSM_RETENTION_DAYS": "0.0005",
            "RSM_DRY_RUN": "TRUE",
            "RSM_LOG_LEVEL": "debug",
            "RSM_TARGETS_S3_BUCKET": "b",
            "RSM_TARGETS_S3_KEY": "k.txt",
        }
    )
    assert settings.db_instance_identifiers == ("db-a", "db-b")
    assert settings.db_cluster_identifiers == ("aurora-1",)
    assert settings.selection_tags == {"backup": "true"}
    assert (settings.backup_interval_hours, settings.retention_days) == (0.01, 0.0005)
    assert (settings.dry_run, settings.log_level) == (True, "DEBUG")
    assert (settings.targets_s3_bucket, settings.targets_s3_key) == ("b", "k.txt")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RSM_NAME", "", "RSM_NAME is required"),
        (
            "RSM_RETENTION_DAYS",
            "0",
            "RSM_RETENTION_DAYS must be a number greater than 0 and at most 3650; got '0'",
        ),
        ("RSM_BACKUP_INTERVAL_HOURS", "soon", "RSM_BACKUP_INTERVAL_HOURS must be a number"),
        (
            "RSM_MIN_SNAPSHOTS_TO_KEEP",
            "-1",
            "RSM_MIN_SNAPSHOTS_TO_KEEP must be a whole number from 0 to 1000",
        ),
        ("RSM_MAX_CONCURRENCY", "many", "RSM_MAX_CONCURRENCY must be a whole number from 1 to 32"),
        ("RSM_DRY_RUN", "yes", "RSM_DRY_RUN must be true or false; got 'yes'"),
        (
            "RSM_LOG_LEVEL",
            "LOUD",
            "RSM_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
        (
            "RSM_DB_INSTANCE_IDENTIFIERS",
            "db-a,db-b",
            "RSM_DB_INSTANCE_IDENTIFIERS must be a JSON list",
        ),
        ("RSM_DB_CLUSTER_IDENTIFIERS", "[1]", "RSM_DB_CLUSTER_IDENTIFIERS must be a JSON list"),
        ("RSM_SELECTION_TAGS", '["a"]', "RSM_SELECTION_TAGS must be a JSON object"),
        ("RSM_TARGETS_S3_BUCKET", "bucket", "must be set together"),
    ],
)
def test_invalid_value_fails_fast_naming_variable_and_allowed_values(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace("[", r"\[")):
        Settings.from_env(REQUIRED | {variable: value})


@pytest.mark.parametrize(
    ("variable", "too_large", "largest", "message"),
    [
        ("RSM_BACKUP_INTERVAL_HOURS", "8760.5", "8760", "a number greater than 0 and at most 8760"),
        ("RSM_RETENTION_DAYS", "3651", "3650", "a number greater than 0 and at most 3650"),
        ("RSM_MIN_SNAPSHOTS_TO_KEEP", "1001", "1000", "a whole number from 0 to 1000"),
        ("RSM_MANUAL_SNAPSHOT_QUOTA", "100001", "100000", "a whole number from 1 to 100000"),
        ("RSM_MAX_CONCURRENCY", "33", "32", "a whole number from 1 to 32"),
        ("RSM_LEDGER_TTL_DAYS", "3651", "3650", "a number from 1 to 3650"),
        ("RSM_WAIT_TIMEOUT_SECONDS", "86401", "86400", "a number from 60 to 86400"),
        ("RSM_BACKUP_INTERVAL_HOURS", "inf", "8760", "a number greater than 0 and at most 8760"),
    ],
)
def test_every_number_has_an_upper_bound_and_the_error_names_the_variable(
    variable: str, too_large: str, largest: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=f"^{variable} must be {message}; got '{too_large}'"):
        Settings.from_env(REQUIRED | {variable: too_large})
    Settings.from_env(REQUIRED | {variable: largest})  # the bound itself is allowed


def test_lower_bounds_of_ttl_and_wait_timeout() -> None:
    with pytest.raises(SettingsError, match="RSM_LEDGER_TTL_DAYS must be a number from 1"):
        Settings.from_env(REQUIRED | {"RSM_LEDGER_TTL_DAYS": "0.5"})
    with pytest.raises(SettingsError, match="RSM_WAIT_TIMEOUT_SECONDS must be a number from 60"):
        Settings.from_env(REQUIRED | {"RSM_WAIT_TIMEOUT_SECONDS": "59"})


def test_settings_are_frozen() -> None:
    settings = Settings.from_env(REQUIRED)
    with pytest.raises(AttributeError):
        settings.name = "other"  # type: ignore[misc]


def test_retention_policy_is_off_when_empty_and_parsed_with_missing_tiers_zero() -> None:
    assert Settings.from_env(REQUIRED).retention_policy is None
    assert Settings.from_env(REQUIRED | {"RSM_RETENTION_POLICY": " "}).retention_policy is None
    tiers = Settings.from_env(
        REQUIRED | {"RSM_RETENTION_POLICY": '{"daily": 7, "weekly": 4.0, "yearly": 0}'}
    ).retention_policy
    assert tiers == Tiers(daily=7, weekly=4, monthly=0, yearly=0)


@pytest.mark.parametrize(
    "value",
    [
        "7",
        "[7]",
        '{"daily": 0}',
        '{"hourly": 3}',
        '{"daily": -1}',
        '{"daily": 1001}',
        '{"daily": 2.5}',
        '{"daily": "7"}',
        '{"daily": true}',
        "{daily: 7}",
    ],
)
def test_bad_retention_policy_fails_fast_naming_the_variable_and_the_allowed_shape(
    value: str,
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(REQUIRED | {"RSM_RETENTION_POLICY": value})
    message = str(raised.value)
    assert message.startswith("RSM_RETENTION_POLICY must be a JSON object of whole numbers")
    assert "daily, weekly, monthly and yearly" in message
    assert repr(value) in message
