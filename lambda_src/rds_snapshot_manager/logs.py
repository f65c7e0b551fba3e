"""Structured logs: one JSON line per decision, with run_id, source_id, action and outcome."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, TextIO

LOGGER_NAME = "rds_snapshot_manager"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, default=str, sort_keys=True)


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
