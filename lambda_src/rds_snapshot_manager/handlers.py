"""Lambda entry points, one per state (ARCHITECTURE.md): parse the state, run a service, return a
small dict. The state machine stores each result under its own key; details live in the ledger."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from rds_snapshot_manager import logs
from rds_snapshot_manager.clients import Clients
from rds_snapshot_manager.services.engine import Engine
from rds_snapshot_manager.services.run import RunContext
from rds_snapshot_manager.settings import Settings


@functools.cache
def engine() -> Engine:
    """Built once per container, on the first invocation (settings fail fast here)."""
    settings = Settings.from_env()
    logs.configure(settings.log_level)
    return Engine.build(settings, Clients(settings.max_concurrency))


def _context(event: dict[str, Any], *, strict_input: bool = True) -> RunContext:
    return RunContext.from_event(
        event, engine().settings, datetime.now(UTC), strict_input=strict_input
    )


@logs.inject_lambda_context
def create_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    ctx = _context(event)
    if ctx.restore_test:  # a restore-test run (D10) starts restores and creates no snapshot
        return engine().restore.start(ctx).summary()
    return engine().create.run(ctx).summary()


@logs.inject_lambda_context
def check_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    ctx = _context(event)
    if ctx.restore_test:
        return engine().restore.poll(ctx).summary()
    return engine().check.run(ctx).summary()


@logs.inject_lambda_context
def prune_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return engine().prune.run(_context(event)).summary()


@logs.inject_lambda_context
def notify_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    # A run whose input was rejected still gets its report; the caught error says why.
    return engine().notify.run(_context(event, strict_input=False)).summary()
