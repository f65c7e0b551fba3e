"""Notify: read the run from the ledger, publish the report, and to the failure topic if needed."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from rds_snapshot_manager import logs
from rds_snapshot_manager.adapters.ledger import LedgerAdapter
from rds_snapshot_manager.adapters.notifier import Notifier, PublishFailedError
from rds_snapshot_manager.domain.report import (
    RunSummary,
    build_report,
    sns_message,
    sns_subject,
)
from rds_snapshot_manager.services.run import RunContext
from rds_snapshot_manager.settings import Settings


@dataclass(frozen=True)
class NotifyResult:
    status: str
    published: bool
    message_bytes: int = 0

    def summary(self) -> dict[str, Any]:
        return {"status": self.status, "published": self.published}


class NotifyService:
    def __init__(self, settings: Settings, ledger: LedgerAdapter, notifier: Notifier) -> None:
        self._settings = settings
        self._ledger = ledger
        self._notifier = notifier

    def run(self, ctx: RunContext) -> NotifyResult:
        record = self._ledger.read_run(ctx.run_id)
        report = build_report(
            RunSummary(
                run_id=ctx.run_id,
                dry_run=record.dry_run or ctx.dry_run,
                outcomes=record.outcomes,
                deletions=record.deletions,
                error=ctx.error,
            )
        )
        status = report["status"]
        if record.published_at:  # a retried Notify: the report already went out
            logs.decision(ctx.run_id, "-", "notify", "already published", status=status)
            return NotifyResult(status, True)
        body = sns_message(report)
        subject = sns_subject(self._settings.name, ctx.run_id, status)
        topics = [self._settings.report_topic_arn]
        if status != "OK":
            topics.append(self._settings.failure_topic_arn)
        try:
            for topic in topics:
                self._notifier.publish(topic, subject, body)
        except PublishFailedError as error:
            # The report must not be lost: it goes to the log, and the Task fails so the state
            # machine retries Notify (and, once retries are spent, the execution fails visibly).
            logs.decision(
                ctx.run_id,
                "-",
                "notify",
                f"publish failed: {error.code}",
                level=logging.ERROR,
                topic_arn=error.topic_arn,
                report=json.dumps(report),
            )
            raise
        self._ledger.mark_published(ctx.run_id, ctx.now)
        logs.decision(ctx.run_id, "-", "notify", "published", status=status, topics=len(topics))
        return NotifyResult(status, True, len(body.encode()))
