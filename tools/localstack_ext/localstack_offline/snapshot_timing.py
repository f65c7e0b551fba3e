"""New manual RDS snapshots are `creating` for a while, as in RDS, instead of `available` at once.

moto makes a snapshot `available` the moment CreateDBSnapshot or CreateDBClusterSnapshot returns,
so a client's wait loop never has to poll. With ``RDS_SNAPSHOT_CREATE_SECONDS`` above 0, a new
manual snapshot is `creating` until that many seconds after its creation time, and the first
describe after that reports it `available`. 0 (the default) keeps moto's behaviour.

The wrappers sit on moto's RDS backend class, so every caller of the backend sees the same
lifecycle; automated snapshots are left as moto makes them. Copies (``snapshot_copies``) are
``copying`` for the same time, then ``available``.
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
COPYING = "copying"
# The statuses a snapshot leaves for `available` once its time is up.
_IN_PROGRESS = ("creating", COPYING)

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


def installed() -> bool:
    """Whether new snapshots and copies take time (``RDS_SNAPSHOT_CREATE_SECONDS`` > 0)."""
    return getattr(RDSBackend, "snapshot_create_seconds", None) is not None


def settle(snapshot: Any) -> None:
    """A ``creating`` or ``copying`` snapshot whose time is up becomes ``available``."""
    seconds = getattr(RDSBackend, "snapshot_create_seconds", None)
    if seconds is None or snapshot.status not in _IN_PROGRESS:
        return
    if snapshot.created <= utcnow() - timedelta(seconds=seconds):
        snapshot.status = "available"


def _settles(describe: Method) -> Method:
    @functools.wraps(describe)
    def describe_settling(self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
        snapshots = describe(self, *args, **kwargs)
        for snapshot in snapshots:
            settle(snapshot)
        return snapshots

    return describe_settling


def install(seconds: float) -> None:
    """Wraps the backend's snapshot creates and describes once per process; 0 changes nothing."""
    if seconds == 0 or installed():
        return
    for name in _CREATES:
        setattr(RDSBackend, name, _starts_creating(getattr(RDSBackend, name)))
    for name in _DESCRIBES:
        setattr(RDSBackend, name, _settles(getattr(RDSBackend, name)))
    RDSBackend.snapshot_create_seconds = seconds  # type: ignore[attr-defined]
