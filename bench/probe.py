"""Counts the AWS API calls the engine makes, with botocore event hooks on its boto3 session.

The engine builds its clients lazily with `boto3.client(...)`, i.e. from boto3's default session;
a client copies its session's event handlers when it is created, so handlers registered on a fresh
default session before the first handler call see every call the engine makes. The fixture uses
its own session, so its calls are not counted.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

# The calls whose concurrency the engine bounds (RSM_MAX_CONCURRENCY).
MUTATIONS = frozenset(
    {
        "rds:CreateDBSnapshot",
        "rds:CreateDBClusterSnapshot",
        "rds:DeleteDBSnapshot",
        "rds:DeleteDBClusterSnapshot",
    }
)


def create_calls(by_op: Mapping[str, int]) -> int:
    """The calls of operations named Create* in per-operation counts (the snapshot creates)."""
    return sum(n for op, n in by_op.items() if "Create" in op)


@dataclass
class PhaseCalls:
    """What the probe saw between two `take()` calls."""

    by_op: Counter[str] = field(default_factory=Counter)
    # Seconds spent inside calls (request, moto, response parsing), summed over threads.
    seconds_by_op: Counter[str] = field(default_factory=Counter)
    max_in_flight_mutations: int = 0
    max_sns_message_bytes: int = 0
    largest_sns_message: str = ""
    # Calls made in another region than the home one (issue 10: copies, listings there), by
    # `service:Operation@region`.
    remote_by_op: Counter[str] = field(default_factory=Counter)
    # ModifyDB[Cluster]SnapshotAttribute calls that add accounts (shares) or remove them.
    shares: int = 0
    unshares: int = 0


class ApiProbe:
    """Thread-safe: the engine runs create and delete calls from a thread pool.

    `mutation_latency_s` holds each create/delete call that long before it is sent, standing in
    for real AWS's latency so the engine's bounded concurrency shows in wall time.
    """

    def __init__(self, mutation_latency_s: float = 0.0, home_region: str = "us-east-1") -> None:
        self._latency = mutation_latency_s
        self._home = home_region
        self._lock = threading.Lock()
        self._phase = PhaseCalls()
        self._in_flight = 0
        self._started = threading.local()

    def install(self) -> None:
        """Replaces boto3's default session with a fresh one that carries the hooks."""
        boto3.setup_default_session()
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("before-call", self._before_call)
        events.register("after-call", self._after_call)
        events.register("after-call-error", self._after_call)
        events.register("before-parameter-build.sns.Publish", self._before_publish)
        for operation in ("ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute"):
            events.register(f"provide-client-params.rds.{operation}", self._attribute_change)

    def take(self) -> PhaseCalls:
        """The calls seen since the last take, and a clean slate for the next phase."""
        with self._lock:
            phase, self._phase = self._phase, PhaseCalls()
        return phase

    @staticmethod
    def _op(event_name: str) -> str:
        """`before-call.rds.CreateDBSnapshot` -> `rds:CreateDBSnapshot`."""
        _, service, operation = event_name.split(".")
        return f"{service}:{operation}"

    def _before_call(self, event_name: str, context: dict[str, Any], **_: Any) -> None:
        op = self._op(event_name)
        region = context.get("client_region") or self._home
        with self._lock:
            self._phase.by_op[op] += 1
            if region != self._home:
                self._phase.remote_by_op[f"{op}@{region}"] += 1
            if op in MUTATIONS:
                self._in_flight += 1
                self._phase.max_in_flight_mutations = max(
                    self._phase.max_in_flight_mutations, self._in_flight
                )
        self._started.at = time.perf_counter()
        if op in MUTATIONS and self._latency:
            time.sleep(self._latency)

    def _after_call(self, event_name: str, **_: Any) -> None:
        """After the response or the error: botocore emits exactly one of the two per call, on
        the calling thread."""
        op = self._op(event_name)
        elapsed = time.perf_counter() - self._started.at
        with self._lock:
            self._phase.seconds_by_op[op] += elapsed
            if op in MUTATIONS:
                self._in_flight -= 1

    def _attribute_change(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self._phase.shares += bool(params.get("ValuesToAdd"))
            self._phase.unshares += bool(params.get("ValuesToRemove"))

    def _before_publish(self, params: dict[str, Any], **_: Any) -> None:
        message = str(params.get("Message", ""))
        size = len(message.encode())
        with self._lock:
            if size > self._phase.max_sns_message_bytes:
                self._phase.max_sns_message_bytes = size
                self._phase.largest_sns_message = message
