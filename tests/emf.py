"""Reads Embedded Metric Format lines the way CloudWatch Logs does, checking each document
against the specification
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
shared by the unit and the integration tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

UNITS = {"Seconds", "Count", "None"}  # the units our documents may use (a subset of the spec's)


@dataclass(frozen=True)
class Datum:
    namespace: str
    name: str
    unit: str
    dimensions: tuple[tuple[str, str], ...]  # one dimension set, with its values
    value: float


def is_emf(line: str) -> bool:
    try:
        document = json.loads(line)
    except ValueError:
        return False
    return isinstance(document, dict) and "_aws" in document


def data(lines: Iterable[str]) -> list[Datum]:
    """Every metric datum the EMF lines among `lines` produce (one per metric and dimension set);
    fails on a document that breaks the specification."""
    found: list[Datum] = []
    for line in lines:
        if not is_emf(line):
            continue
        document: dict[str, Any] = json.loads(line)
        meta = document["_aws"]
        assert isinstance(meta["Timestamp"], int), meta
        assert meta["Timestamp"] > 0, meta
        for directive in meta["CloudWatchMetrics"]:
            assert 1 <= len(directive["Metrics"]) <= 100, directive
            for dimension_set in directive["Dimensions"]:
                assert 1 <= len(dimension_set) <= 30, dimension_set
                for key in dimension_set:  # a dimension's value: a string member of the root
                    assert isinstance(document[key], str), (key, document)
                    assert document[key], (key, document)
            for metric in directive["Metrics"]:
                assert metric["Unit"] in UNITS, metric
                value = document[metric["Name"]]
                assert isinstance(value, int | float), metric
                assert not isinstance(value, bool), metric
                found.extend(
                    Datum(
                        directive["Namespace"],
                        metric["Name"],
                        metric["Unit"],
                        tuple((key, document[key]) for key in dimension_set),
                        float(value),
                    )
                    for dimension_set in directive["Dimensions"]
                )
    return found


def values(lines: Iterable[str]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(metric name, dimensions): value} of the EMF lines."""
    return {(d.name, d.dimensions): d.value for d in data(lines)}
