"""Notify: read the run from the ledger, publish the report, and to the failure topic if needed."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rds_snapshot_manager import logs
from rds_snapshot_manager.adapters.ledger import (
    LEASE_KEY,
    RESTORE_LEASE_KEY,
    LeaseState,
    LedgerAdapter,
    RunRecord,
)
from rds_snapshot_manager.adapters.notifier import Notifier, PublishFailedError
from rds_snapshot_manager.domain import metrics
from rds_snapshot_manager.domain.metrics import MetricContext
from rds_snapshot_manager.domain.report import (
    SKIPPED,
    RunSummary,
    build_report,
    sns_message,
    sns_subject,
)
from rds_snapshot_manager.domain.rpo import Assurance
from rds_snapshot_manager.services.restore import RestoreService
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
    def __init__(
        self,
        settings: Settings,
        ledger: LedgerAdapter,
        notifier: Notifier,
        restore: RestoreService,
    ) -> None:
        self._settings = settings
        self._ledger = ledger
        self._notifier = notifier
        self._restore = restore

    def run(self, ctx: RunContext) -> NotifyResult:
        record = self._ledger.read_run(ctx.run_id)
        if record.lease in (LeaseState.HELD, LeaseState.NONE):
            # Create, Check and Prune are over: the next run may start. Conditional on the holder,
            # so a retry, or a run that never got the lease, frees nothing of another run's.
            self._ledger.release_lease(
                ctx.run_id, key=RESTORE_LEASE_KEY if ctx.restore_test else LEASE_KEY
            )
        # Every path ends here (the Catch too): this run's temporary databases go now.
        restore_tests = self._restore.finish(ctx) if ctx.restore_test else None
        report = build_report(
            RunSummary(
                run_id=ctx.run_id,
                dry_run=record.dry_run or ctx.dry_run,
                outcomes=record.outcomes,
                deletions=record.deletions,
                error=ctx.error,
                skipped_reason=(
                    skipped_reason(record, on_demand=ctx.on_demand is not None)
                    if record.lease is LeaseState.DENIED
                    else ""
                ),
                work=record.work,
                share_account_ids=self._settings.share_with_account_ids,
                restore_tests=restore_tests,
                on_demand=ctx.on_demand.summary() if ctx.on_demand else None,
                # A restore-test run lists no snapshot: it has no RPO to judge nor storage to
                # price (its report would claim an empty fleet).
                assurance=None
                if ctx.restore_test
                else Assurance(
                    ctx.started_at,
                    self._settings.rpo,
                    self._settings.snapshot_price_per_gib_month,
                ),
            )
        )
        status = report["status"]
        if record.published_at:  # a retried Notify: the report already went out everywhere
            logs.decision(ctx.run_id, "-", "notify", "already published", status=status)
            return NotifyResult(status, True)
        body = sns_message(report)
        subject = sns_subject(self._settings.name, ctx.run_id, status)
        topics = {"report": self._settings.report_topic_arn}
        # A skipped on-demand run was asked for by a person: it goes to the failure topic too,
        # so it is never lost silently (a skipped scheduled run is no failure).
        if status not in ("OK", SKIPPED) or (status == SKIPPED and ctx.on_demand is not None):
            topics["failure"] = self._settings.failure_topic_arn
        # Each topic is marked once its publish succeeded, so a retry after a partial publish
        # sends only what is missing. Only a crash between SNS's answer and the mark repeats one.
        missing = {
            topic: arn for topic, arn in topics.items() if topic not in record.published_topics
        }
        try:
            for topic, arn in missing.items():
                self._notifier.publish(arn, subject, body)
                self._ledger.mark_topic_published(ctx.run_id, topic, status, ctx.now)
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
        # The run's metrics, once per run: a retry that finds the run published emits none again
        # (only a crash between these lines and the mark can repeat them).
        logs.emit(self._metrics(ctx, report))
        self._ledger.mark_published(ctx.run_id, ctx.now)
        logs.decision(ctx.run_id, "-", "notify", "published", status=status, topics=len(missing))
        return NotifyResult(status, True, len(body.encode()))

    def _metrics(self, ctx: RunContext, report: dict[str, Any]) -> list[dict[str, Any]]:
        settings = self._settings
        context = MetricContext(
            settings.name, ctx.started_at, ctx.now, settings.rpo, settings.metric_target_limit
        )
        properties = {"run_id": ctx.run_id, "status": report["status"], **logs.invocation_fields()}
        return metrics.documents(report, context, properties)


def skipped_reason(record: RunRecord, on_demand: bool = False) -> str:
    """Why a run without the lease did nothing (D5: the report's top-level `reason`); an on-demand
    run adds what to do."""
    until = (
        datetime.fromtimestamp(record.lease_until, UTC).isoformat() if record.lease_until else ""
    )
    holder = f"run {record.lease_holder}" if record.lease_holder else "another run"
    return (
        f"{holder} held the lease" + (f" until {until}" if until else "")
        + "; only one run at a time may create or delete snapshots, so this run changed nothing"
        + ("; start the on-demand run again once that run has finished" if on_demand else "")
    )  # fmt: skip
