"""The run context every step receives from the state machine (see ARCHITECTURE.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rds_snapshot_manager.domain.model import parse_utc
from rds_snapshot_manager.settings import Settings


class BadEventError(ValueError):
    """The state passed to a handler lacks what the step needs."""


@dataclass(frozen=True, slots=True)
class RunContext:
    run_id: str
    started_at: datetime
    now: datetime
    dry_run: bool
    quota_override: int | None = None
    error: Mapping[str, Any] | None = None
    restore_test: bool = False  # a restore-test run (D10): it creates and prunes no snapshots

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
            dry_run_requested, quota = _run_options(event.get("input"))
            restore_test = _restore_test(event.get("input"), settings)
        except BadEventError:
            if strict_input:
                raise
            dry_run_requested, quota, restore_test = False, None, False
        error = event.get("error")
        return cls(
            run_id=run_id,
            started_at=started_at,
            now=now,
            dry_run=settings.dry_run or dry_run_requested,
            quota_override=quota,
            error=error if isinstance(error, Mapping) else None,
            restore_test=restore_test,
        )


# The execution input's only keys (common design decision D5); the module's schedule sends
# {"dry_run": false}.
RUN_OPTIONS = ("dry_run", "manual_snapshot_quota", "restore_test")
_SHOWN = 80  # characters of a rejected key or value the error shows


def _run_options(run_input: object) -> tuple[bool, int | None]:
    """The per-execution options: (dry_run requested, manual snapshot quota override).

    Strict, so that a typo never runs for real: `{"dryRun": true}` or `{"dry_run": "true"}` is
    rejected (the run is reported FAILED and changes nothing), never taken for a real run.
    """
    run_input = {} if run_input is None else run_input
    if not isinstance(run_input, Mapping):
        raise BadEventError("input must be an object (the execution input)")
    unknown = sorted(repr(str(key)[:_SHOWN]) for key in run_input if key not in RUN_OPTIONS)
    if unknown:
        raise BadEventError(
            f"input has unknown key(s) {', '.join(unknown[:10])}; allowed: "
            + ", ".join(RUN_OPTIONS)
        )
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
    return dry_run, quota


def _restore_test(run_input: object, settings: Settings) -> bool:
    """`input.restore_test: true` makes the execution a restore-test run (the module's second
    schedule sends it); refused when the deployment has no restore tests configured."""
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
