"""Settings read once from the environment (see docs/ARCHITECTURE.md); fail fast, clearly."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rds_snapshot_manager.domain.restore import RestoreTestConfig
from rds_snapshot_manager.domain.retention import PERIODS, Tiers
from rds_snapshot_manager.domain.rpo import (
    DEFAULT_PRICE_PER_GIB_MONTH,
    MAX_RPO_HOURS,
    default_rpo_hours,
)
from rds_snapshot_manager.domain.work import (
    MAX_COPY_REGIONS,
    MAX_SHARE_ACCOUNTS,
    CopyRegion,
    DrPolicy,
)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
# A KMS key by ARN (not an alias): arn:<partition>:kms:<region>:<account>:key/<id>
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:key/[A-Za-z0-9-]+$")


class SettingsError(ValueError):
    """An environment variable is missing or has a value outside what is allowed."""


@dataclass(frozen=True)
class Settings:
    name: str
    ledger_table: str
    report_topic_arn: str
    failure_topic_arn: str
    db_instance_identifiers: tuple[str, ...] = ()
    db_cluster_identifiers: tuple[str, ...] = ()
    selection_tags: Mapping[str, str] = field(default_factory=dict)
    targets_s3_bucket: str = ""
    targets_s3_key: str = ""
    backup_interval_hours: float = 24.0
    retention_days: float = 7.0
    retention_policy: Tiers | None = None  # tiered retention; replaces retention_days when set
    delete_old_snapshots: bool = True
    min_snapshots_to_keep: int = 1
    dry_run: bool = False
    log_level: str = "INFO"
    ledger_ttl_days: float = 400.0
    wait_timeout_seconds: float = 7200.0
    manual_snapshot_quota: int = 100
    max_concurrency: int = 8
    restore_test: RestoreTestConfig | None = None  # RSM_RESTORE_TEST; None = restore tests off
    # Disaster recovery (D6): cross-region copies, cross-account sharing.
    copy_to_regions: tuple[CopyRegion, ...] = ()
    share_with_account_ids: tuple[str, ...] = ()
    share_kms_key_arn: str = ""
    rpo_hours: float | None = None  # None: the module's default, see `rpo`
    snapshot_price_per_gib_month: float = DEFAULT_PRICE_PER_GIB_MONTH
    metric_target_limit: int = 50

    @property
    def home_region(self) -> str:
        """The deployment's region, from its report topic's ARN (arn:aws:sns:<region>:...)."""
        return _arn_part(self.report_topic_arn, 3)

    @property
    def account_id(self) -> str:
        return _arn_part(self.report_topic_arn, 4)

    @property
    def partition(self) -> str:
        return _arn_part(self.report_topic_arn, 1) or "aws"

    @property
    def dr_policy(self) -> DrPolicy:
        return DrPolicy(
            self.home_region,
            self.copy_to_regions,
            self.share_with_account_ids,
            self.share_kms_key_arn,
        )

    @property
    def rpo(self) -> float:
        """The RPO in hours: RSM_RPO_HOURS, else the module's default (D6)."""
        if self.rpo_hours is not None:
            return self.rpo_hours
        return default_rpo_hours(self.backup_interval_hours, self.wait_timeout_seconds)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if env is None else env
        reader = _Reader(source)
        bucket = reader.text("RSM_TARGETS_S3_BUCKET")
        key = reader.text("RSM_TARGETS_S3_KEY")
        if bool(bucket) != bool(key):
            raise SettingsError(
                "RSM_TARGETS_S3_BUCKET and RSM_TARGETS_S3_KEY must be set together or both left "
                f"empty; got bucket={bucket!r}, key={key!r}."
            )
        wait_timeout_seconds = reader.number_from("RSM_WAIT_TIMEOUT_SECONDS", 7200, 60, 86400)
        report_topic_arn = reader.required("RSM_REPORT_TOPIC_ARN")
        home_region = _arn_part(report_topic_arn, 3)
        accounts = _share_accounts(reader, _arn_part(report_topic_arn, 4))
        return cls(
            name=reader.required("RSM_NAME"),
            ledger_table=reader.required("RSM_LEDGER_TABLE"),
            report_topic_arn=report_topic_arn,
            failure_topic_arn=reader.required("RSM_FAILURE_TOPIC_ARN"),
            db_instance_identifiers=reader.string_list("RSM_DB_INSTANCE_IDENTIFIERS"),
            db_cluster_identifiers=reader.string_list("RSM_DB_CLUSTER_IDENTIFIERS"),
            selection_tags=reader.string_map("RSM_SELECTION_TAGS"),
            targets_s3_bucket=bucket,
            targets_s3_key=key,
            # Bounds match the module's validations (common design decision D4).
            backup_interval_hours=reader.positive_number("RSM_BACKUP_INTERVAL_HOURS", 24, 8760),
            retention_days=reader.positive_number("RSM_RETENTION_DAYS", 7, 3650),
            retention_policy=reader.tiers("RSM_RETENTION_POLICY"),
            delete_old_snapshots=reader.boolean("RSM_DELETE_OLD_SNAPSHOTS", default=True),
            min_snapshots_to_keep=reader.whole_number("RSM_MIN_SNAPSHOTS_TO_KEEP", 1, 0, 1000),
            dry_run=reader.boolean("RSM_DRY_RUN", default=False),
            log_level=reader.choice("RSM_LOG_LEVEL", LOG_LEVELS, "INFO"),
            ledger_ttl_days=reader.number_from("RSM_LEDGER_TTL_DAYS", 400, 1, 3650),
            # wait_timeout_minutes 1..1440, in seconds
            wait_timeout_seconds=wait_timeout_seconds,
            manual_snapshot_quota=reader.whole_number("RSM_MANUAL_SNAPSHOT_QUOTA", 100, 1, 100_000),
            max_concurrency=reader.whole_number("RSM_MAX_CONCURRENCY", 8, 1, 32),
            copy_to_regions=_copy_regions(reader, home_region, accounts),
            share_with_account_ids=accounts,
            share_kms_key_arn=_share_key(reader, home_region),
            restore_test=_restore_test(reader, wait_timeout_seconds),
            rpo_hours=(
                reader.positive_number("RSM_RPO_HOURS", 0, MAX_RPO_HOURS)
                if reader.text("RSM_RPO_HOURS")
                else None
            ),
            snapshot_price_per_gib_month=reader.number_from(
                "RSM_SNAPSHOT_PRICE_PER_GIB_MONTH", DEFAULT_PRICE_PER_GIB_MONTH, 0, 1000
            ),
            metric_target_limit=reader.whole_number("RSM_METRIC_TARGET_LIMIT", 50, 0, 500),
        )


# Bounds of RSM_RESTORE_TEST (D6), the same as the module's validations of `restore_test`.
RESTORE_TEST_KEYS = (
    "db_instance_identifiers", "db_cluster_identifiers", "sample_size", "instance_class",
    "db_subnet_group_name", "vpc_security_group_ids", "timeout_minutes", "leftover_max_age_hours",
)  # fmt: skip
RESTORE_SAMPLE_MAX = 20
RESTORE_SECURITY_GROUPS_MAX = 5  # RDS: at most 5 VPC security groups per DB instance
RESTORE_TIMEOUT_MINUTES = (10, 1440)
RESTORE_LEFTOVER_HOURS = (1, 720)


def _restore_test(reader: _Reader, wait_timeout_seconds: float) -> RestoreTestConfig | None:
    """RSM_RESTORE_TEST: a JSON object, or empty for off. A restore times out within the run's
    wait (its Check loop ends then), and the sweeper's age limit is above the restore timeout, so
    it never deletes a database that a running test still waits for."""
    name = "RSM_RESTORE_TEST"
    raw_text = reader.text(name)
    if not raw_text:
        return None
    try:
        value = json.loads(raw_text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise SettingsError(f"{name} must be a JSON object or empty; got {raw_text[:80]!r}.")
    unknown = sorted(set(value) - set(RESTORE_TEST_KEYS))
    if unknown:
        raise SettingsError(
            f"{name} has unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(RESTORE_TEST_KEYS)}."
        )

    def ids(key: str, maximum: int) -> tuple[str, ...]:
        items = value.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise SettingsError(f"{name}.{key} must be a list of non-empty strings; got {items!r}.")
        if len(items) > maximum:
            raise SettingsError(f"{name}.{key} has {len(items)} entries; at most {maximum}.")
        return tuple(i.strip() for i in items)

    def whole(key: str, low: int, high: int) -> int | None:
        raw: Any = value.get(key)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw):
            raw = low - 1
        if not low <= raw <= high:
            raise SettingsError(
                f"{name}.{key} must be a whole number from {low} to {high}; got {value[key]!r}."
            )
        return int(raw)

    def text(key: str, default: str | None) -> str | None:
        raw = value.get(key)
        if raw is None or raw == "":
            return default
        if not isinstance(raw, str) or len(raw) > 255:
            raise SettingsError(f"{name}.{key} must be a string of at most 255 characters.")
        return raw

    timeout = whole("timeout_minutes", *RESTORE_TIMEOUT_MINUTES)
    timeout = 120 if timeout is None else timeout
    leftover = whole("leftover_max_age_hours", *RESTORE_LEFTOVER_HOURS)
    leftover = 24 if leftover is None else leftover
    if timeout * 60 > wait_timeout_seconds:
        raise SettingsError(
            f"{name}.timeout_minutes ({timeout}) must be at most the wait timeout "
            f"(RSM_WAIT_TIMEOUT_SECONDS = {wait_timeout_seconds:g} s): the Check loop ends then."
        )
    if leftover * 60 <= timeout:
        raise SettingsError(
            f"{name}.leftover_max_age_hours ({leftover}) must be longer than timeout_minutes "
            f"({timeout}), or the sweeper would delete a database a running test waits for."
        )
    return RestoreTestConfig(
        db_instance_identifiers=ids("db_instance_identifiers", 100),
        db_cluster_identifiers=ids("db_cluster_identifiers", 100),
        sample_size=whole("sample_size", 1, RESTORE_SAMPLE_MAX),
        instance_class=text("instance_class", "db.t3.micro") or "db.t3.micro",
        db_subnet_group_name=text("db_subnet_group_name", None),
        vpc_security_group_ids=ids("vpc_security_group_ids", RESTORE_SECURITY_GROUPS_MAX),
        timeout_minutes=timeout,
        leftover_max_age_hours=leftover,
    )


def _arn_part(arn: str, index: int) -> str:
    parts = arn.split(":")
    return parts[index] if len(parts) > index else ""


# Disaster recovery (D6), checked as the module's validations check them, plus what only the
# engine knows (its own account, from the topic ARN).
def _share_accounts(reader: _Reader, own_account: str) -> tuple[str, ...]:
    accounts = reader.string_list("RSM_SHARE_WITH_ACCOUNT_IDS")
    bad = [a for a in accounts if not ACCOUNT_ID.match(a)]
    if bad or len(accounts) > MAX_SHARE_ACCOUNTS or len(set(accounts)) != len(accounts):
        raise SettingsError(
            f"RSM_SHARE_WITH_ACCOUNT_IDS must list at most {MAX_SHARE_ACCOUNTS} distinct 12-digit "
            f"account ids (never 'all': snapshots are never made public); got {bad or accounts}."
        )
    if own_account in accounts:
        raise SettingsError(
            f"RSM_SHARE_WITH_ACCOUNT_IDS must not list the deployment's own account {own_account}."
        )
    return accounts


def _share_key(reader: _Reader, home_region: str) -> str:
    share_key = reader.text("RSM_SHARE_KMS_KEY_ARN")
    key_match = KMS_KEY_ARN.match(share_key)
    if share_key and (key_match is None or key_match.group(1) != home_region):
        raise SettingsError(
            "RSM_SHARE_KMS_KEY_ARN must be empty or the ARN of a KMS key in the home region "
            f"{home_region} (arn:aws:kms:{home_region}:<account>:key/<id>); got {share_key!r}."
        )
    return share_key


def _copy_regions(
    reader: _Reader, home_region: str, accounts: tuple[str, ...]
) -> tuple[CopyRegion, ...]:
    name = "RSM_COPY_TO_REGIONS"
    expected = (
        f'a JSON list of at most {MAX_COPY_REGIONS} objects {{"region": "eu-west-1", '
        '"kms_key_arn": "arn:aws:kms:eu-west-1:...:key/..." or null, "retention_days": 1..3650 '
        'or null, "share": true|false}, each region once and never the home region'
    )
    value = reader.json_value(name, "[]", expected)
    if not isinstance(value, list) or len(value) > MAX_COPY_REGIONS:
        raise SettingsError(f"{name} must be {expected}; got {reader.text(name)!r}.")
    regions: list[CopyRegion] = []
    for entry in value:
        copy = _copy_region(entry, home_region)
        if copy is None or any(r.region == copy.region for r in regions):
            raise SettingsError(
                f"{name} must be {expected} (a key must be in its region); got entry {entry!r}."
            )
        regions.append(copy)
    if any(r.share for r in regions) and not accounts:
        raise SettingsError(
            f"{name} asks to share a copy (share: true) but RSM_SHARE_WITH_ACCOUNT_IDS lists no "
            "account."
        )
    return tuple(regions)


def _copy_region(entry: object, home_region: str) -> CopyRegion | None:
    """One entry of RSM_COPY_TO_REGIONS, or None when it is not valid."""
    if not isinstance(entry, dict) or not set(entry) <= {
        "region", "kms_key_arn", "retention_days", "share",
    }:  # fmt: skip
        return None
    region, key = entry.get("region"), entry.get("kms_key_arn")
    days, share = entry.get("retention_days"), entry.get("share", False)
    if not isinstance(region, str) or not REGION.match(region) or region == home_region:
        return None
    key_match = KMS_KEY_ARN.match(key) if isinstance(key, str) else None
    if key is not None and (key_match is None or key_match.group(1) != region):
        return None
    if days is not None and not (_is_number(days) and 0 < float(days) <= 3650):
        return None
    if not isinstance(share, bool):
        return None
    return CopyRegion(region, key, None if days is None else float(days), share)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Reader:
    """Parses one variable at a time, naming the variable and the allowed values on error."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str:
        return self._env.get(name, "").strip()

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            raise SettingsError(f"{name} is required and must be a non-empty string.")
        return value

    def json_value(self, name: str, default: str, expected: str) -> object:
        raw = self.text(name) or default
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise SettingsError(f"{name} must be {expected}; got {raw!r}.") from None

    def string_list(self, name: str) -> tuple[str, ...]:
        expected = 'a JSON list of strings, e.g. ["db-a","db-b"]'
        value = self.json_value(name, "[]", expected)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise SettingsError(f"{name} must be {expected}; got {self.text(name)!r}.")
        return tuple(item.strip() for item in value if item.strip())

    def string_map(self, name: str) -> dict[str, str]:
        expected = 'a JSON object of string values, e.g. {"backup":"true"}'
        value = self.json_value(name, "{}", expected)
        if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
            raise SettingsError(f"{name} must be {expected}; got {self.text(name)!r}.")
        return {str(key): str(item) for key, item in value.items()}

    def tiers(self, name: str) -> Tiers | None:
        """A JSON object of tier counts (`daily`, `weekly`, `monthly`, `yearly`; missing = 0), or
        None when empty (off)."""
        if not self.text(name):
            return None
        expected = (
            "a JSON object of whole numbers from 0 to 1000 with keys among daily, weekly, "
            'monthly and yearly, at least one greater than 0, e.g. {"daily":7,"weekly":4}'
        )
        value = self.json_value(name, "{}", expected)
        if not isinstance(value, dict) or not set(value) <= set(PERIODS):
            raise SettingsError(f"{name} must be {expected}; got {self.text(name)!r}.")
        # Terraform renders a whole number as `7`; `7.0` is the same count.
        counts = {
            tier: int(n) if isinstance(n, float) and n.is_integer() else n
            for tier, n in value.items()
        }
        try:
            return Tiers(**counts)
        except ValueError:
            raise SettingsError(f"{name} must be {expected}; got {self.text(name)!r}.") from None

    def _number(
        self, name: str, default: float, allowed: str, ok: Callable[[float], bool]
    ) -> float:
        raw = self.text(name)
        if not raw:
            return float(default)
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not ok(value):
            raise SettingsError(f"{name} must be {allowed}; got {raw!r}.")
        return value

    def positive_number(self, name: str, default: float, maximum: float) -> float:
        """A number in (0, maximum]."""
        allowed = f"a number greater than 0 and at most {maximum:g}"
        return self._number(name, default, allowed, lambda value: 0 < value <= maximum)

    def number_from(self, name: str, default: float, minimum: float, maximum: float) -> float:
        """A number in [minimum, maximum]."""
        allowed = f"a number from {minimum:g} to {maximum:g}"
        return self._number(name, default, allowed, lambda value: minimum <= value <= maximum)

    def whole_number(self, name: str, default: int, minimum: int, maximum: int) -> int:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if not minimum <= value <= maximum:
            raise SettingsError(
                f"{name} must be a whole number from {minimum} to {maximum}; got {raw!r}."
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name).lower()
        if not raw:
            return default
        if raw not in ("true", "false"):
            raise SettingsError(f"{name} must be true or false; got {self.text(name)!r}.")
        return raw == "true"

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        raw = self.text(name).upper() or default
        if raw not in allowed:
            raise SettingsError(
                f"{name} must be one of {', '.join(allowed)}; got {self.text(name)!r}."
            )
        return raw
