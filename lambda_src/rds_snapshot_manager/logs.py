"""Structured logs: one JSON line per decision, with run_id, source_id, action and outcome, and
on every line the invocation's context (Lambda request id, cold start), as AWS Powertools' Logger
writes them (`function_request_id`, `cold_start`, `function_name`)."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TextIO

LOGGER_NAME = "rds_snapshot_manager"


class _Invocation:
    """The current invocation's log context. A plain module-level object, not a ContextVar:
    Lambda runs one invocation at a time per process, and the worker threads of
    services/concurrency.py must see it too (a ContextVar does not reach a thread pool)."""

    cold_start: ClassVar[bool] = True  # until the process's first invocation has begun
    fields: ClassVar[dict[str, Any]] = {}  # replaced whole per invocation, never mutated

    @classmethod
    def begin(cls, context: object) -> None:
        cls.fields = {
            "function_request_id": str(getattr(context, "aws_request_id", "")),
            "function_name": str(getattr(context, "function_name", "")),
            "cold_start": cls.cold_start,
        }
        cls.cold_start = False


def inject_lambda_context(
    handler: Callable[[dict[str, Any], object], dict[str, Any]],
) -> Callable[[dict[str, Any], object], dict[str, Any]]:
    """Sets the log context once per invocation (Powertools' `inject_lambda_context`)."""

    @functools.wraps(handler)
    def wrapped(event: dict[str, Any], context: object) -> dict[str, Any]:
        _Invocation.begin(context)
        return handler(event, context)

    return wrapped


def invocation_fields() -> dict[str, Any]:
    """The current invocation's context, as every log line carries it."""
    return dict(_Invocation.fields)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "message": record.getMessage(),
            **_Invocation.fields,
        }
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, default=str, sort_keys=True)


def emit(documents: Iterable[Mapping[str, Any]]) -> None:
    """Prints each document as one JSON line on stdout, whatever the log level: how Embedded
    Metric Format documents reach CloudWatch Logs from Lambda."""
    for document in documents:
        sys.stdout.write(json.dumps(document, separators=(",", ":"), default=str) + "\n")
    sys.stdout.flush()


class StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stdout is at the time, so a replaced stdout still gets the logs."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def configure(level: str) -> logging.Logger:
    """Sets up the package logger once (Lambda reuses containers); later calls set the level."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)
    return logger


def decision(
    run_id: str,
    source_id: str,
    action: str,
    outcome: str,
    level: int = logging.INFO,
    **fields: Any,
) -> None:
    """Logs one decision so a run can be reconstructed from its log lines."""
    logging.getLogger(LOGGER_NAME).log(
        level,
        f"{action} {source_id}: {outcome}",
        extra={
            "fields": {
                "run_id": run_id,
                "source_id": source_id,
                "action": action,
                "outcome": outcome,
                **fields,
            }
        },
    )
