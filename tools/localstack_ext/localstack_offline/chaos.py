"""Fault mode for the moto-backed RDS: the failures a real account shows, from a seeded generator.

Off by default. Switched on at start-up by ``RSM_CHAOS`` (a JSON object, the settings below) or at
runtime over HTTP on the gateway, so one LocalStack serves quiet tests and chaos tests alike:

- ``POST /_rsm/chaos`` with the settings starts a fault session: a fresh ``random.Random(seed)``,
  counters at zero, an empty snapshot audit. The seed is logged (and returned), so a failing run
  reproduces with the same settings and the same sequence of calls.
- ``DELETE /_rsm/chaos`` stops injecting faults (hidden snapshots show at once) but keeps the
  counters and the audit, so a test can run a last quiet cycle and still read what happened.
- ``GET /_rsm/chaos`` returns the settings, the counters by kind and the audit.

Faults on RDS API calls (every operation; each call draws once, in the order calls arrive):

- ``throttle``: the call is answered ``400 Throttling`` ("Rate exceeded") without running;
- ``drop``: the call does not run and the connection closes mid-response (botocore raises
  ``ConnectionClosedError`` and retries);
- ``drop_after``: the call runs, then its response is lost the same way: the retry of a create
  meets ``AlreadyExists``, the retry of a delete ``NotFound``;
- ``corrupt``: the call runs, then answers ``200`` with a body that is not XML. botocore raises
  ``ResponseParserError``, which is neither a ``ClientError`` nor retried: it stands for every
  fault that reaches the caller *after* botocore's retries (a read timeout or an endpoint that
  stays unreachable), without the minutes of back-off that exhausting 10 attempts takes;
- ``burst``: after a throttle or drop, the next ``burst`` attempts of the same call (operation and
  resource identifier) fail the same way: a fault that outlasts a few retries. A burst of 9 or
  more outlasts the engine's 10 attempts (at ~80 s of back-off; use ``corrupt`` for short tests).

Faults on new manual snapshots (instance and cluster):

- ``invisible`` (fraction) and ``invisible_seconds``: the snapshot is absent from
  DescribeDBSnapshots / DescribeDBClusterSnapshots for that long after its creation, as RDS's
  eventually consistent describes can be (a describe by its identifier answers ``NotFound``);
- ``fail_snapshot`` (fraction): the snapshot ends ``failed`` instead of ``available``.

Faults on restored databases (restore tests): ``fail_restore`` (fraction): a database restored
from a snapshot (RestoreDBInstanceFromDBSnapshot, RestoreDBClusterFromSnapshot) ends
``incompatible-restore`` (an instance) or ``failed`` (a cluster) instead of ``available``, as a
restore RDS cannot complete does.

Counters: ``calls`` (RDS calls seen), ``retries`` (calls whose ``amz-sdk-request`` header says
attempt 2 or later: botocore's retries, counted where they arrive), one per fault kind,
``exhausted`` (throttles and drops injected on a call's last attempt: they reached the caller),
``invisible_misses`` (snapshots left out of a describe answer). The audit lists every manual
snapshot created or deleted during the session (id, source, tags, times, fate), the ground truth a
test compares the engine's reports with, including snapshots deleted since; the fault log lists
every call fault (time, operation, resource identifier, kind, attempt, whether it was the last).
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

from localstack.aws.api import CommonServiceException, RequestContext
from localstack.aws.chain import HandlerChain
from localstack.aws.handlers import run_custom_finalizers, serve_custom_service_request_handlers
from localstack.http import Request, Response
from localstack.runtime import hooks
from localstack.services.edge import ROUTER
from moto.rds.exceptions import DBClusterSnapshotNotFoundError, DBSnapshotNotFoundFault
from moto.rds.models import RDSBackend
from rolo.serving import twisted as rolo_twisted
from twisted.internet import reactor

from localstack_offline import snapshot_timing

ENVIRONMENT_VARIABLE = "RSM_CHAOS"
ROUTE = "/_rsm/chaos"
# Call faults, in the order one draw of the generator is mapped onto them.
CALL_FAULTS = ("throttle", "drop", "drop_after", "corrupt")
_ENVIRON_KEY = "rsm.chaos.fault"
_TWISTED_REQUEST = "rsm.chaos.twisted_request"
_ATTEMPT = re.compile(r"attempt=(\d+)")
_MAX_ATTEMPTS = re.compile(r"max=(\d+)")
# The request parameters that name the resource a call acts on (the burst key).
_IDENTIFIERS = ("DBSnapshotIdentifier", "DBClusterSnapshotIdentifier", "DBInstanceIdentifier",
                "DBClusterIdentifier", "ResourceName")  # fmt: skip

LOG = logging.getLogger(__name__)
Method = Callable[..., Any]


@dataclass(frozen=True)
class Settings:
    """One fault session's settings; fractions are of RDS calls or of new manual snapshots."""

    seed: int
    throttle: float = 0.0
    drop: float = 0.0
    drop_after: float = 0.0
    corrupt: float = 0.0
    burst: int = 0
    invisible: float = 0.0
    invisible_seconds: float = 0.0
    fail_snapshot: float = 0.0
    fail_restore: float = 0.0

    @classmethod
    def from_json(cls, raw: Any) -> Settings:
        """Settings from a JSON object; a clear ValueError names anything wrong."""
        if not isinstance(raw, dict):
            raise ValueError(f"chaos settings must be a JSON object; got {raw!r}")
        known = {field.name for field in fields(cls)}
        if unknown := sorted(set(raw) - known):
            raise ValueError(f"unknown chaos settings {unknown}; known: {sorted(known)}")
        if not isinstance(raw.get("seed"), int) or isinstance(raw.get("seed"), bool):
            raise ValueError(f"chaos setting seed must be a whole number; got {raw.get('seed')!r}")
        values: dict[str, Any] = {"seed": raw["seed"]}
        for name in sorted(known - {"seed"}):
            value = raw.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"chaos setting {name} must be a number >= 0; got {value!r}")
            values[name] = value
        settings = cls(**values)
        fractions = {
            name: values[name]
            for name in (*CALL_FAULTS, "invisible", "fail_snapshot", "fail_restore")
        }
        if any(value > 1 for value in fractions.values()) or settings.call_fault_rate > 1:
            raise ValueError(f"chaos fractions must be <= 1, and so must their sum: {fractions}")
        if int(settings.burst) != settings.burst:
            raise ValueError(f"chaos setting burst must be a whole number; got {settings.burst!r}")
        return settings

    @property
    def call_fault_rate(self) -> float:
        return self.throttle + self.drop + self.drop_after + self.corrupt


class Chaos:
    """The fault session: settings, generator, counters, bursts, hidden and failing snapshots.

    Handlers run on the gateway's worker threads, so every decision is taken under one lock; with
    the calls in the same order, the same seed gives the same faults.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.settings: Settings | None = None
        self.injecting = False
        self._random = random.Random()  # noqa: S311 - reproducible faults, not cryptography
        self.counters: Counter[str] = Counter()
        self._bursts: dict[tuple[str, str], tuple[str, int]] = {}
        self._hidden_until: dict[str, float] = {}
        self._failing: set[str] = set()
        self.audit: dict[str, dict[str, Any]] = {}
        self.faults: list[dict[str, Any]] = []

    def start(self, settings: Settings) -> None:
        with self._lock:
            self.settings, self.injecting = settings, True
            self._random = random.Random(settings.seed)  # noqa: S311
            self.counters = Counter()
            self._bursts, self._hidden_until, self._failing = {}, {}, set()
            self.audit, self.faults = {}, []
        LOG.warning("rsm chaos: fault session started, seed=%s settings=%s", settings.seed,
                    json.dumps(asdict(settings)))  # fmt: skip

    def stop(self) -> None:
        """No more faults; hidden snapshots show. Counters and the audit stay readable."""
        with self._lock:
            self.injecting = False
            self._bursts, self._hidden_until = {}, {}
        LOG.warning("rsm chaos: faults stopped; counters %s", dict(self.counters))

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "injecting": self.injecting,
                "settings": asdict(self.settings) if self.settings else None,
                "counters": dict(self.counters),
                "snapshots": {key: dict(value) for key, value in self.audit.items()},
                "faults": list(self.faults),
            }

    # -- API calls -------------------------------------------------------------------------------
    def call_fault(self, operation: str, resource: str, attempt: int, last: bool) -> str | None:
        """The fault for one RDS call, or None; counts the call and any fault."""
        with self._lock:
            if self.settings is None:
                return None
            self.counters["calls"] += 1
            if attempt > 1:
                self.counters["retries"] += 1
            if not self.injecting:
                return None
            fault = self._draw(self.settings, (operation, resource))
            if fault is not None:
                self.counters[fault] += 1
                if last and fault in ("throttle", "drop"):
                    self.counters["exhausted"] += 1
                self.faults.append(
                    {
                        "at": _now(),
                        "operation": operation,
                        "resource": resource,
                        "kind": fault,
                        "attempt": attempt,
                        "last_attempt": last,
                    }
                )
            return fault

    def _draw(self, settings: Settings, key: tuple[str, str]) -> str | None:
        if key in self._bursts:
            kind, remaining = self._bursts.pop(key)
            if remaining > 1:
                self._bursts[key] = (kind, remaining - 1)
            self.counters["burst"] += 1
            return kind
        draw, bound = self._random.random(), 0.0
        for kind in CALL_FAULTS:
            bound += getattr(settings, kind)
            if draw < bound:
                if settings.burst and kind in ("throttle", "drop"):
                    self._bursts[key] = (kind, int(settings.burst))
                return kind
        return None

    # -- snapshots -------------------------------------------------------------------------------
    def created(self, snapshot_id: str, source_id: str, kind: str, tags: list[Any]) -> str | None:
        """Records a new manual snapshot and draws its fate: None, or "failed"."""
        with self._lock:
            if self.settings is None:
                return None
            fate, hidden = None, 0.0
            if self.injecting:
                if self._random.random() < self.settings.invisible:
                    hidden = self.settings.invisible_seconds
                    self._hidden_until[snapshot_id] = time.monotonic() + hidden
                    self.counters["invisible"] += 1
                if self._random.random() < self.settings.fail_snapshot:
                    self._failing.add(snapshot_id)
                    self.counters["fail_snapshot"] += 1
                    fate = "failed"
            self.audit[snapshot_id] = {
                **_describe(source_id, kind, tags),
                "created_at": _now(),
                "fate": fate,
                "hidden_seconds": hidden,
            }
            return fate

    def restore_fails(self) -> bool:
        """Draws whether a restored database fails (``fail_restore``)."""
        with self._lock:
            if self.settings is None or not self.injecting:
                return False
            if self._random.random() < self.settings.fail_restore:
                self.counters["fail_restore"] += 1
                return True
            return False

    def deleted(self, snapshot_id: str, source_id: str, kind: str, tags: list[Any]) -> None:
        """Records a deletion; one of a snapshot made before the session is recorded too."""
        with self._lock:
            if self.settings is None:
                return
            self._hidden_until.pop(snapshot_id, None)
            entry = self.audit.setdefault(
                snapshot_id, {**_describe(source_id, kind, tags), "created_at": None, "fate": None}
            )
            entry["deleted_at"] = _now()

    def settle(self, snapshot_id: str, snapshot: Any) -> bool:
        """Applies a snapshot's fate after the describe's own update; False while it is hidden."""
        with self._lock:
            if snapshot_id in self._failing and snapshot.status == "available":
                snapshot.status = "failed"
            hidden_until = self._hidden_until.get(snapshot_id)
            if hidden_until is None:
                return True
            if time.monotonic() >= hidden_until:
                del self._hidden_until[snapshot_id]
                return True
            self.counters["invisible_misses"] += 1
            return False


CHAOS = Chaos()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _describe(source_id: str, kind: str, tags: list[Any]) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "source_type": kind,
        "tags": {str(tag["Key"]): str(tag.get("Value", "")) for tag in tags},
        "deleted_at": None,
    }


# -- the gateway: call faults ------------------------------------------------------------------
def _header_number(pattern: re.Pattern[str], header: str, default: int) -> int:
    match = pattern.search(header)
    return int(match.group(1)) if match else default


def inject_call_fault(chain: HandlerChain, context: RequestContext, response: Response) -> None:
    """Request handler (after parsing): throttle now, or mark the call for a cut response."""
    if context.service is None or context.service.service_name != "rds" or not context.operation:
        return
    request = context.service_request or {}
    resource = next((str(request[name]) for name in _IDENTIFIERS if request.get(name)), "")
    header = context.request.headers.get("amz-sdk-request", "")
    attempt = _header_number(_ATTEMPT, header, 1)
    last = attempt >= _header_number(_MAX_ATTEMPTS, header, attempt + 1)
    fault = CHAOS.call_fault(context.operation.name, resource, attempt, last)
    if fault is None:
        return
    LOG.info("rsm chaos: %s on %s %s, attempt %s", fault, context.operation.name, resource, attempt)
    if fault == "throttle":
        raise CommonServiceException("Throttling", "Rate exceeded", 400, sender_fault=True)
    context.request.environ[_ENVIRON_KEY] = fault
    if fault == "drop":  # the call never reaches moto
        chain.terminate()


def cut_marked_response(chain: HandlerChain, context: RequestContext, response: Response) -> None:
    """Finalizer (last): closes a dropped call's connection, or makes its answer unparsable."""
    fault = context.request.environ.get(_ENVIRON_KEY)
    if fault == "corrupt":
        response.status_code = 200
        response.set_data(b"<?xml version='1.0'?><Response><Truncated")
    elif fault in ("drop", "drop_after"):
        # Not one byte of the answer goes out: the socket closes before the status line, which
        # every botocore version reports as ConnectionClosedError and retries. (A body cut short
        # is not enough: botocore >= 1.43 reads it without enforcing Content-Length and raises
        # an unretried ResponseParserError instead.) The reactor aborts the connection before it
        # runs the WSGI container's write of this response, which then goes nowhere.
        twisted_request = context.request.environ[_TWISTED_REQUEST]
        reactor.callFromThread(twisted_request.transport.abortConnection)
        response.set_data(b"")


def _keeps_twisted_request(update: Method) -> Method:
    """rolo's WSGI environ builder, also storing twisted's request (for its transport)."""

    @functools.wraps(update)
    def update_keeping_request(environ: dict[str, Any], request: Any) -> None:
        update(environ, request)
        environ[_TWISTED_REQUEST] = request

    return update_keeping_request


# -- moto's RDS backend: snapshot faults and the audit ------------------------------------------
def _source(snapshot: Any) -> tuple[str, str, str]:
    if hasattr(snapshot, "db_cluster_snapshot_identifier"):
        return snapshot.db_cluster_snapshot_identifier, snapshot.db_cluster_identifier, "cluster"
    return snapshot.db_snapshot_identifier, snapshot.database.db_instance_identifier, "instance"


def _records_creation(create: Method) -> Method:
    @functools.wraps(create)
    def create_recorded(self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
        snapshot = create(self, *args, **kwargs)
        if snapshot.snapshot_type == "manual":
            snapshot_id, source_id, kind = _source(snapshot)
            if CHAOS.created(snapshot_id, source_id, kind, snapshot.tags) and (
                snapshot.status == "available"  # RDS_SNAPSHOT_CREATE_SECONDS=0: no creating phase
            ):
                snapshot.status = "failed"
        return snapshot

    return create_recorded


def _restores_with_faults(restore: Method, failed_status: str) -> Method:
    @functools.wraps(restore)
    def restore_maybe_failing(self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
        database = restore(self, *args, **kwargs)
        if CHAOS.restore_fails():
            database.status = failed_status
        return database

    return restore_maybe_failing


def _records_deletion(delete: Method) -> Method:
    @functools.wraps(delete)
    def delete_recorded(self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
        snapshot = delete(self, *args, **kwargs)
        CHAOS.deleted(*_source(snapshot), snapshot.tags)
        return snapshot

    return delete_recorded


def _settles(not_found: Callable[[str], Exception]) -> Callable[[Method], Method]:
    def wrap(describe: Method) -> Method:
        # moto's own callers pass the identifiers by position or by name; bind to tell them apart.
        signature = inspect.signature(describe)

        @functools.wraps(describe)
        def describe_settled(self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
            snapshots = describe(self, *args, **kwargs)
            named = signature.bind(self, *args, **kwargs).arguments
            snapshot_id = named.get("db_snapshot_identifier")
            source_id = named.get("db_instance_identifier") or named.get("db_cluster_identifier")
            shown = [s for s in snapshots if CHAOS.settle(_source(s)[0], s)]
            if snapshot_id and snapshots and not shown and not source_id:
                raise not_found(snapshot_id)
            return shown

        return describe_settled

    return wrap


def install() -> None:
    """Wraps moto's RDS backend once per process, outside the creation-time wrappers."""
    if getattr(RDSBackend, "rsm_chaos", False):
        return
    snapshot_timing.install(snapshot_timing.create_seconds())
    for name in ("create_db_snapshot", "create_db_cluster_snapshot"):
        setattr(RDSBackend, name, _records_creation(getattr(RDSBackend, name)))
    for name in ("delete_db_snapshot", "delete_db_cluster_snapshot"):
        setattr(RDSBackend, name, _records_deletion(getattr(RDSBackend, name)))
    for name, failed_status in (
        ("restore_db_instance_from_db_snapshot", "incompatible-restore"),
        ("restore_db_cluster_from_snapshot", "failed"),
    ):
        setattr(RDSBackend, name, _restores_with_faults(getattr(RDSBackend, name), failed_status))
    for name, not_found in (
        ("describe_db_snapshots", DBSnapshotNotFoundFault),
        ("describe_db_cluster_snapshots", DBClusterSnapshotNotFoundError),
    ):
        setattr(RDSBackend, name, _settles(not_found)(getattr(RDSBackend, name)))
    RDSBackend.rsm_chaos = True  # type: ignore[attr-defined]


# -- control ------------------------------------------------------------------------------------
def control(request: Request) -> Response:
    """``/_rsm/chaos``: POST starts a session, DELETE stops the faults, GET reads the state."""
    if request.method == "POST":
        try:
            CHAOS.start(Settings.from_json(json.loads(request.get_data() or b"null")))
        except ValueError as error:
            return Response.for_json({"error": str(error)}, status=400)
    elif request.method == "DELETE":
        CHAOS.stop()
    return Response.for_json(CHAOS.state())


@hooks.on_infra_start()
def install_fault_mode() -> None:
    """Hooks the gateway and moto before LocalStack serves; faults stay off until asked for."""
    install()
    rolo_twisted.update_wsgi_environment = _keeps_twisted_request(
        rolo_twisted.update_wsgi_environment
    )
    serve_custom_service_request_handlers.append(inject_call_fault)
    run_custom_finalizers.append(cut_marked_response)
    ROUTER.add(ROUTE, control, methods=["GET", "POST", "DELETE"])
    if raw := os.environ.get(ENVIRONMENT_VARIABLE, "").strip():
        CHAOS.start(Settings.from_json(json.loads(raw)))
