"""Lambda entry points, one per state of the state machine (placeholder until the engine lands)."""

from __future__ import annotations

from typing import Any


def create_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Create: snapshots due targets."""
    return {"created": 0, "skipped": 0, "failed": 0, "dry_run": True}


def check_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Check: reports this run's snapshots still creating."""
    return {"creating": 0, "available": 0, "failed": 0, "done": True, "timed_out": False}


def prune_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Prune: deletes expired managed snapshots."""
    return {"deleted": 0, "failed": 0, "kept": 0}


def notify_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Notify: publishes the run report."""
    return {"status": "OK", "published": False}
