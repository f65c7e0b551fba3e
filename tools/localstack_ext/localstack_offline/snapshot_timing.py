"""New manual RDS snapshots are `creating` for a while, as in RDS, instead of `available` at once.

moto makes a snapshot `available` the moment CreateDBSnapshot or CreateDBClusterSnapshot returns,
so a client's wait loop never has to poll. With ``RDS_SNAPSHOT_CREATE_SECONDS`` above 0, a new
manual snapshot is `creating` until that many seconds after its creation time, and the first
describe after that reports it `available`. 0 (the default) keeps moto's behaviour.

The wrappers sit on moto's RDS backend class, so every caller of the backend sees the same
lifecycle; automated snapshots and copies are left as moto makes them.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from moto.core.utils import utcnow
from moto.rds.models import RDSBackend

CREATE_SECONDS_VARIABLE = "RDS_SNAPSHOT_CREATE_SECONDS"
_CREATES = ("create_db_snapshot", "create_db_cluster_snapshot")
_DESCRIBES = ("describe_db_snapshots", "describe_db_cluster_snapshots")

Method = Callable[..., Any]


def create_seconds() -> float:
    """The configured creation time in seconds; fails fast on anything but a number >= 0."""
    raw = os.environ.get(CREATE_SECONDS_VARIABLE, "").strip() or "0"
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"{CREATE_SECONDS_VARIABLE} must be a number of seconds >= 0; got {raw!r}")
    return seconds


def _starts_creating(create: Method) -> Method:
    @functools.wraps(create)
    def create_creating(self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
        snapshot = create(self, *args, **kwargs)
        if snapshot.snapshot_type == "manual":
            snapshot.status = "creating"
        return snapshot

    return create_creating


def _becomes_available_after(duration: timedelta) -> Callable[[Method], Method]:
    def wrap(describe: Method) -> Method:
        @functools.wraps(describe)
        def describe_promoting_due(self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
            snapshots = describe(self, *args, **kwargs)
            finished_before = utcnow() - duration
            for snapshot in snapshots:
                if snapshot.status == "creating" and snapshot.created <= finished_before:
                    snapshot.status = "available"
            return snapshots

        return describe_promoting_due

    return wrap


def install(seconds: float) -> None:
    """Wraps the backend's snapshot creates and describes once per process; 0 changes nothing."""
    if seconds == 0 or getattr(RDSBackend, "snapshot_create_seconds", None) is not None:
        return
    promote = _becomes_available_after(timedelta(seconds=seconds))
    for name in _CREATES:
        setattr(RDSBackend, name, _starts_creating(getattr(RDSBackend, name)))
    for name in _DESCRIBES:
        setattr(RDSBackend, name, promote(getattr(RDSBackend, name)))
    RDSBackend.snapshot_create_seconds = seconds  # type: ignore[attr-defined]
