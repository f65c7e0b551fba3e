"""Bounded concurrency for create and delete calls, measuring how many were in flight at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Batch(Generic[R]):
    results: list[R]
    max_in_flight: int


def run_bounded(
    call: Callable[[T], R],
    items: Sequence[T],
    max_workers: int,
    on_error: Callable[[T, Exception], R],
) -> Batch[R]:
    """`call` on every item, at most `max_workers` at a time; results keep the items' order.

    Whatever one call raises (a dropped connection or read timeout after botocore's retries, a
    bug) becomes `on_error(item, error)`, that item's result: one fault never discards the
    results of the other items.
    """
    lock = threading.Lock()
    in_flight = 0
    peak = 0

    def tracked(item: T) -> R:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return call(item)
        except Exception as error:  # noqa: BLE001 - every fault is this item's outcome (above)
            return on_error(item, error)
        finally:
            with lock:
                in_flight -= 1

    if not items:
        return Batch([], 0)
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rsm") as pool:
        results = list(pool.map(tracked, items))
    return Batch(results, peak)
