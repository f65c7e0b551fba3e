"""The run context every step receives from the state machine (see ARCHITECTURE.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rds_snapshot_manager.domain.model import parse_utc
from rds_snapshot_manager.domain.naming import tag_value
from rds_snapshot_manager.domain.targets import DB_IDENTIFIER, MAX_ID_LENGTH, TargetFilter
from rds_snapshot_manager.settings import Settings


class BadEventError(ValueError):
    """The state passed to a handler lacks what the step needs."""


@dataclass(frozen=True, slots=True)
class OnDemand:
    """What a person asked of this execution (D10): any of `targets`, `force`, `reason` in the
    input makes a run on-demand."""

    targets: TargetFilter | None = None  # None: the deployment's whole selection
    force: bool = False  # snapshot now, whatever the interval
    reason: str | None = None

    @property
    def reason_tag(self) -> str:
        """The `RunReason` tag value ("" = no tag): the reason in RDS's tag charset."""
        return tag_value(self.reason or "")

    def summary(self) -> dict[str, Any]:
        """The report's top-level `on_demand` (D9); `targets` counts the ids the input named,
        0 when it named none (the whole selection)."""
        targets = self.targets.count if self.targets else 0
        return {"reason": self.reason, "force": self.force, "targets": targets}


@dataclass(frozen=True, slots=True)
class RunContext:
    run_id: str
    started_at: datetime
    now: datetime
    dry_run: bool
    quota_override: int | None = None
    error: Mapping[str, Any] | None = None
    restore_test: bool = False  # a restore-test run (D10): it creates and prunes no snapshots
    on_demand: OnDemand | None = None

    @property
    def force(self) -> bool:
        return self.on_demand is not None and self.on_demand.force

    @property
    def targets(self) -> TargetFilter | None:
        return self.on_demand.targets if self.on_demand else None

    @classmethod
    def from_event(
        cls,
        event: Mapping[str, Any],
        settings: Settings,
        now: datetime,
        *,
        strict_input: bool = True,
    ) -> RunContext:
        """run_id is the execution name; `input.dry_run: true` can only turn dry run on.

        With strict_input=False, bad run options fall back to the deployment's settings instead of
        failing: Notify uses it, since a run whose input was rejected must still be reported.
        """
        run_id = event.get("run_id")
        if not isinstance(run_id, str) or not run_id:
            raise BadEventError("the state must carry run_id (the execution name)")
        started_at = _parse_time(event.get("started_at"), now)
        try:
            options = _run_options(event.get("input"))
            restore_test = _restore_test(event.get("input"), settings, options)
        except BadEventError:
            if strict_input:
                raise
            options, restore_test = RunOptions(), False
        error = event.get("error")
        return cls(
            run_id=run_id,
            started_at=started_at,
            now=now,
            dry_run=settings.dry_run or options.dry_run,
            quota_override=options.quota,
            error=error if isinstance(error, Mapping) else None,
            restore_test=restore_test,
            on_demand=options.on_demand,
        )


@dataclass(frozen=True, slots=True)
class RunOptions:
    dry_run: bool = False
    quota: int | None = None
    on_demand: OnDemand | None = None


# The execution input's only keys (common design decisions D5, D10); the module's schedule sends
# {"dry_run": false}, the restore-test schedule {"restore_test": true}. `targets`, `force` and
# `reason` make a run on-demand.
ON_DEMAND_OPTIONS = ("targets", "force", "reason")
RUN_OPTIONS = ("dry_run", "manual_snapshot_quota", *ON_DEMAND_OPTIONS, "restore_test")
TARGET_LISTS = ("db_instance_identifiers", "db_cluster_identifiers")
# At most this many ids in input.targets (both lists together): the fleet size the benchmarks
# prove (docs/PERFORMANCE.md), far above what a person names by hand.
MAX_REQUESTED_IDS = 1000
# A tag value's limit (RDS API_Tag), so the whole reason fits the `RunReason` tag.
REASON_LIMIT = 256
_SHOWN = 80  # characters of a rejected key or value the error shows


def _run_options(run_input: object) -> RunOptions:
    """The per-execution options.

    Strict, so that a typo never runs for real: `{"dryRun": true}` or `{"dry_run": "true"}` is
    rejected (the run is reported FAILED and changes nothing), never taken for a real run.
    """
    run_input = {} if run_input is None else run_input
    if not isinstance(run_input, Mapping):
        raise BadEventError("input must be an object (the execution input)")
    _only_keys(run_input, RUN_OPTIONS, "input")
    dry_run = run_input.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadEventError(
            f"input.dry_run must be true or false (a JSON boolean); got {_shown(dry_run)}"
        )
    quota = run_input.get("manual_snapshot_quota")
    if quota is not None and (isinstance(quota, bool) or not isinstance(quota, int) or quota < 1):
        raise BadEventError(
            f"input.manual_snapshot_quota must be a whole number >= 1; got {_shown(quota)}"
        )
    on_demand = None
    if any(key in run_input for key in ON_DEMAND_OPTIONS):
        force = run_input.get("force", False)
        if not isinstance(force, bool):
            raise BadEventError(
                f"input.force must be true or false (a JSON boolean); got {_shown(force)}"
            )
        on_demand = OnDemand(
            _targets(run_input.get("targets")), force, _reason(run_input.get("reason"))
        )
    return RunOptions(dry_run, quota, on_demand)


def _only_keys(value: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(repr(str(key)[:_SHOWN]) for key in value if key not in allowed)
    if unknown:
        raise BadEventError(
            f"{where} has unknown key(s) {', '.join(unknown[:10])}; allowed: " + ", ".join(allowed)
        )


def _targets(value: object) -> TargetFilter | None:
    """input.targets: `{"db_instance_identifiers": [...], "db_cluster_identifiers": [...]}`,
    RDS identifiers only, at least one and at most MAX_REQUESTED_IDS, each kept once (ids are
    case-insensitive; the first spelling is kept)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadEventError(
            "input.targets must be an object with db_instance_identifiers and/or "
            f"db_cluster_identifiers; got {_shown(value)}"
        )
    _only_keys(value, TARGET_LISTS, "input.targets")
    lists: list[tuple[str, ...]] = []
    for key in TARGET_LISTS:
        ids = value.get(key, [])
        where = f"input.targets.{key}"
        if not isinstance(ids, list):
            raise BadEventError(f"{where} must be a list of identifiers; got {_shown(ids)}")
        if len(ids) > MAX_REQUESTED_IDS:
            raise BadEventError(f"{where} has {len(ids)} ids; at most {MAX_REQUESTED_IDS}")
        for index, source_id in enumerate(ids):
            if not isinstance(source_id, str) or not DB_IDENTIFIER.fullmatch(source_id):
                raise BadEventError(
                    f"{where}[{index}] must be an RDS identifier (1 to {MAX_ID_LENGTH} letters, "
                    f"digits and hyphens, starting with a letter); got {_shown(source_id)}"
                )
        first_spelling: dict[str, str] = {}
        for source_id in ids:
            first_spelling.setdefault(source_id.lower(), source_id)
        lists.append(tuple(first_spelling.values()))
    wanted = TargetFilter(*lists)
    if wanted.count == 0:
        raise BadEventError(
            "input.targets names no database; leave it out to run for the deployment's whole "
            "selection"
        )
    if wanted.count > MAX_REQUESTED_IDS:
        raise BadEventError(
            f"input.targets names {wanted.count} ids; at most {MAX_REQUESTED_IDS} in all"
        )
    return wanted


def _reason(value: object) -> str | None:
    """input.reason: a string of at most REASON_LIMIT characters; blank is no reason."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadEventError(f"input.reason must be a string; got {_shown(value)}")
    if len(value) > REASON_LIMIT:
        raise BadEventError(
            f"input.reason has {len(value)} characters; at most {REASON_LIMIT} (it is tagged "
            "RunReason on the snapshots)"
        )
    return value.strip() or None


def _restore_test(run_input: object, settings: Settings, options: RunOptions) -> bool:
    """`input.restore_test: true` makes the execution a restore-test run (the module's second
    schedule sends it); refused when the deployment has no restore tests configured, and together
    with the on-demand keys, which ask for snapshots a restore-test run never makes."""
    value = run_input.get("restore_test", False) if isinstance(run_input, Mapping) else False
    if not isinstance(value, bool):
        raise BadEventError(
            f"input.restore_test must be true or false (a JSON boolean); got {_shown(value)}"
        )
    if value and settings.restore_test is None:
        raise BadEventError(
            "input.restore_test is true, but this deployment has no restore tests configured "
            "(module input restore_test, RSM_RESTORE_TEST)"
        )
    if value and options.on_demand is not None and isinstance(run_input, Mapping):
        named = ", ".join(key for key in ON_DEMAND_OPTIONS if key in run_input)
        raise BadEventError(
            f"input.restore_test cannot be combined with {named}: a restore-test run creates and "
            "prunes no snapshots; start an on-demand run separately"
        )
    return value


def _shown(value: object) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def _parse_time(value: object, default: datetime) -> datetime:
    if value is None or value == "":
        return default
    parsed = parse_utc(value) if isinstance(value, str) else None
    if parsed is None:
        raise BadEventError(f"started_at must be an ISO 8601 time; got {value!r}")
    return parsed
