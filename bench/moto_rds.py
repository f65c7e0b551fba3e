"""Makes moto's RDS behave like RDS where the benchmark's figures depend on it.

- Paging: moto 5.2.5 pages DescribeDBInstances but returns every snapshot and cluster in one
  response and ignores MaxRecords, which would hide the engine's real call count (one call for
  20,000 snapshots). Here they page like RDS: MaxRecords 20..100, default 100, Marker.
- Status: moto answers CreateDB[Cluster]Snapshot with status `available`; RDS answers `creating`,
  and the snapshot becomes available later. Here the create response says `creating` and later
  describes say `available`, so Check does the lookups it does against RDS (one poll). Copies
  (CopyDB[Cluster]Snapshot, issue 10) answer `copying` the same way.

- One call at a time: moto's RDS backend is not thread-safe. A describe that filters the
  snapshots (DescribeDBSnapshotAttributes runs one) iterates over the dict a concurrent delete
  changes, and fails with "OrderedDict mutated during iteration", which RDS never does. Prune's
  bounded pool reads attributes, un-shares and deletes side by side (issue 10), so every RDS action
  here holds one lock. Concurrency is still measured (the probe counts calls in flight before they
  reach moto, where the injected latency sleeps); moto's own work was serial anyway (the GIL).

This is emulator setup, not the system under test: the engine's code paths are unchanged.
"""

from __future__ import annotations

import copy
import functools
import itertools
import threading
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.responses import RDSResponse

MIN_RECORDS, MAX_RECORDS = 20, 100
_PAGED = {
    "describe_db_snapshots": "DBSnapshots",
    "describe_db_cluster_snapshots": "DBClusterSnapshots",
    "describe_db_clusters": "DBClusters",
}
# The action, the result's key, and the status its answer says.
_CREATES = {
    "create_db_snapshot": ("DBSnapshot", "creating"),
    "create_db_cluster_snapshot": ("DBClusterSnapshot", "creating"),
    "copy_db_snapshot": ("DBSnapshot", "copying"),
    "copy_db_cluster_snapshot": ("DBClusterSnapshot", "copying"),
}

Action = Callable[[RDSResponse], ActionResult]


def _result_of(action: Action, response: RDSResponse) -> dict[str, Any]:
    """The dict an RDS action hands to moto's serializer."""
    result: dict[str, Any] = action(response).result  # type: ignore[assignment]
    return result


def _paged(describe: Action, key: str) -> Action:
    """A listing's first page runs moto's describe once and keeps the result; the following
    pages slice it. Re-running the describe for every page would add a cost that grows with the
    square of the snapshots, which RDS does not have."""
    listings: dict[str, list[Any]] = {}
    started = itertools.count()

    def paged_describe(self: RDSResponse) -> ActionResult:
        size = int(self.params.get("MaxRecords") or MAX_RECORDS)
        if not MIN_RECORDS <= size <= MAX_RECORDS:
            raise RDSClientError(
                "InvalidParameterValue",
                f"MaxRecords must be between {MIN_RECORDS} and {MAX_RECORDS}; got {size}",
            )
        marker = self.params.get("Marker")
        if marker:
            listing, offset = marker.split(":")
            result: dict[str, Any] = {}
            start = int(offset)
        else:
            result = _result_of(describe, self)
            listing, start = str(next(started)), 0
            listings[listing] = list(result[key])
        items = listings[listing]
        result[key] = items[start : start + size]
        if start + size < len(items):
            result["Marker"] = f"{listing}:{start + size}"  # opaque to the client, as in RDS
        else:
            del listings[listing]
        return ActionResult(result)

    return paged_describe


def _in_progress(create: Action, answer: tuple[str, str]) -> Action:
    key, status = answer

    def create_answering_in_progress(self: RDSResponse) -> ActionResult:
        result = _result_of(create, self)
        answered = copy.copy(result[key])  # the stored snapshot stays available
        answered.status = status
        result[key] = answered
        return ActionResult(result)

    return create_answering_in_progress


_MOTO_LOCK = threading.Lock()


def _one_at_a_time(call_action: Callable[[RDSResponse], Any]) -> Callable[[RDSResponse], Any]:
    def call_action_serially(self: RDSResponse) -> Any:
        with _MOTO_LOCK:
            return call_action(self)

    return call_action_serially


def install() -> None:
    """Idempotent: wraps each action once per process."""
    if not getattr(RDSResponse.call_action, "bench_wrapped", False):
        serial: Any = _one_at_a_time(RDSResponse.call_action)
        serial.bench_wrapped = True
        RDSResponse.call_action = serial  # type: ignore[method-assign]
    wrappers: list[tuple[str, Callable[[Action], Action]]] = [
        *((name, functools.partial(_paged, key=key)) for name, key in _PAGED.items()),
        *((name, functools.partial(_in_progress, answer=v)) for name, v in _CREATES.items()),
    ]
    for name, wrap in wrappers:
        action = getattr(RDSResponse, name)
        if not getattr(action, "bench_wrapped", False):
            wrapped: Any = wrap(action)
            wrapped.bench_wrapped = True
            setattr(RDSResponse, name, wrapped)
