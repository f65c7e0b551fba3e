"""The run report of the contract: one JSON document for machines, readable text for email."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rds_snapshot_manager.domain.model import DRY_RUN_STATUS, Deletion, Outcome, TargetOutcome
from rds_snapshot_manager.domain.rpo import (
    Assurance,
    newest_age_hours,
    rpo_breached,
    rpo_fields,
    storage,
)
from rds_snapshot_manager.domain.work import WorkItem, WorkKind, WorkState

# SNS caps a message at 256 KiB; stay a little under for the envelope SNS adds.
SNS_LIMIT_BYTES = 250_000
JSON_PROTOCOLS = ("default", "sqs", "lambda", "https")
LISTS = (
    "created", "would_create", "deleted", "would_delete", "skipped", "failed", "delete_failed",
    "copied", "shared",
)  # fmt: skip
REPORTED_WORK = (WorkKind.COPY, WorkKind.SHARE)  # a share copy shows in its share's item
# D9: a work row's state as the report's `status` of a copy and of a share.
COPY_STATUS = {WorkState.PENDING: "pending", WorkState.STARTED: "copying",
               WorkState.DONE: "available", WorkState.FAILED: "failed"}  # fmt: skip
SHARE_STATUS = {WorkState.PENDING: "pending", WorkState.STARTED: "pending",
                WorkState.DONE: "shared", WorkState.FAILED: "failed"}  # fmt: skip
# The lists whose items are targets (each target is in exactly one of them).
TARGET_LISTS = ("created", "would_create", "skipped", "failed")
# SNS: a subject is under 100 characters, printable ASCII.
SUBJECT_LIMIT = 99
# The status of a run that did not get the lease (D5); its report goes to the report topic only.
SKIPPED = "SKIPPED"


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    dry_run: bool
    outcomes: Sequence[TargetOutcome]
    deletions: Sequence[Deletion]
    error: Mapping[str, Any] | None = None
    skipped_reason: str = ""  # set when another run held the lease (D5)
    restore_tests: Sequence[Mapping[str, Any]] | None = None  # a restore-test run's (D9)
    work: Sequence[WorkItem] = ()  # copies and shares (D11)
    share_account_ids: Sequence[str] = ()
    assurance: Assurance | None = None  # judges RPO and prices storage; None: neither reported
    on_demand: Mapping[str, Any] | None = None  # an on-demand run's {reason, force, targets} (D9)

    def rpo_breaches(self) -> list[TargetOutcome]:
        if self.assurance is None:
            return []
        started_at, rpo = self.assurance.run_started_at, self.assurance.rpo_hours
        return [o for o in self.outcomes if rpo_breached(o, newest_age_hours(o, started_at), rpo)]


def run_status(summary: RunSummary) -> str:
    """SKIPPED when another run held the lease and this one did not break; FAILED when the run
    broke or every target failed; PARTIAL when anything failed, is still being created, or a
    target's newest available snapshot breaches the RPO; OK otherwise."""
    if summary.skipped_reason and not summary.error:
        return SKIPPED
    failed = [o for o in summary.outcomes if o.outcome is Outcome.FAILED]
    if summary.error or (failed and len(failed) == len(summary.outcomes)):
        return "FAILED"
    unfinished = [
        o
        for o in summary.outcomes
        if o.outcome is Outcome.CREATED and o.status not in ("available", DRY_RUN_STATUS)
    ]
    if (
        failed
        or unfinished
        or any(not d.deleted for d in summary.deletions)
        or summary.rpo_breaches()
    ):
        return "PARTIAL"
    if any(not restore_test_passed(test) for test in summary.restore_tests or ()):
        return "PARTIAL"
    # A copy or share that failed, or is unfinished at the wait timeout (the next run carries it).
    if any(w.state is not WorkState.DONE for w in summary.work if w.kind in REPORTED_WORK):
        return "PARTIAL"
    return "OK"


def build_report(summary: RunSummary) -> dict[str, Any]:
    """The contract's JSON document, plus `status` of each created snapshot, `source_type` of
    every item, `would_create`/`would_delete` (a dry run's plan: it creates and deletes nothing,
    so `created` and `deleted` stay empty), `delete_failed`, `counts` and the caught `error`.

    A listed cluster member has its own item, in its cluster's list, with the cluster's
    `snapshot_id` and a `note` naming the cluster that covers it."""
    targets = sorted(summary.outcomes, key=lambda o: (o.source_id.lower(), o.key))
    deletions = sorted(summary.deletions, key=lambda d: (d.source, d.snapshot_id))
    created = [o for o in targets if o.outcome is Outcome.CREATED]
    work = sorted(summary.work, key=lambda w: (w.source.source_id.lower(), w.key))
    assurance = summary.assurance

    def rpo(item: dict[str, Any], outcome: TargetOutcome) -> dict[str, Any]:
        return item | (rpo_fields(outcome, assurance) if assurance else {})

    report: dict[str, Any] = {
        "run_id": summary.run_id,
        "status": run_status(summary),
        "dry_run": summary.dry_run,
        "created": [rpo(_created(o), o) for o in created if o.status != DRY_RUN_STATUS],
        "would_create": [rpo(_created(o), o) for o in created if o.status == DRY_RUN_STATUS],
        "deleted": [_deleted(d) for d in deletions if d.deleted and not summary.dry_run],
        "would_delete": [_deleted(d) for d in deletions if d.deleted and summary.dry_run],
        "skipped": [
            rpo({"source_id": o.source_id, "source_type": _type(o), "reason": o.reason}, o)
            for o in targets
            if o.outcome is Outcome.SKIPPED
        ],
        "failed": [rpo(_failed(o), o) for o in targets if o.outcome is Outcome.FAILED],
        "delete_failed": [
            _deleted(d) | {"error_code": d.error_code, "message": d.message}
            for d in deletions
            if not d.deleted
        ],
        "copied": [_copied(w) for w in work if w.kind is WorkKind.COPY],
        "shared": [_shared(w, summary.share_account_ids) for w in work if w.kind is WorkKind.SHARE],
    }
    report["counts"] = {name: len(report[name]) for name in LISTS}
    if summary.restore_tests is not None:
        report["restore_tests"] = list(summary.restore_tests)
    if assurance:
        report["rpo_hours"] = assurance.rpo_hours
        report["storage"] = storage(summary.outcomes, assurance.price_per_gib_month)
    if summary.on_demand is not None:
        report["on_demand"] = dict(summary.on_demand)
    if summary.error:
        report["error"] = dict(summary.error)
    elif summary.skipped_reason:
        report["reason"] = summary.skipped_reason
    return report


def restore_test_passed(test: Mapping[str, Any]) -> bool:
    """A restore test passes when it restored and its temporary database was deleted; a failed,
    timed-out or unfinished one, or one whose database is left, is a failure (D9)."""
    return test.get("status") == "restored" and bool(test.get("deleted"))


def _type(outcome: TargetOutcome) -> str | None:
    return str(outcome.source_type) if outcome.source_type else None


def _created(outcome: TargetOutcome) -> dict[str, Any]:
    item = {
        "snapshot_id": outcome.snapshot_id,
        "source_id": outcome.source_id,
        "source_type": _type(outcome),
        "status": outcome.status,
    }
    return item | ({"note": outcome.reason} if outcome.reason else {})


def _failed(outcome: TargetOutcome) -> dict[str, Any]:
    item: dict[str, Any] = {
        "source_id": outcome.source_id,
        "source_type": _type(outcome),
        "error_code": outcome.error_code,
        "message": outcome.message,
    }
    if outcome.snapshot_id:
        item["snapshot_id"] = outcome.snapshot_id
    return item | ({"note": outcome.reason} if outcome.reason else {})


def _deleted(deletion: Deletion) -> dict[str, Any]:
    item = {
        "snapshot_id": deletion.snapshot_id,
        "source_id": deletion.source.source_id,
        "source_type": str(deletion.source.source_type),
    }
    return item | ({"region": deletion.region} if deletion.region else {})


def _work_item(w: WorkItem, status: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "snapshot_id": w.target_id,
        "source_id": w.source.source_id,
        "source_type": str(w.source.source_type),
        "region": w.region,
        "status": status,
    }
    if w.error_code:
        item["error_code"] = w.error_code
    if w.message:
        item["message"] = w.message
    if w.from_run:
        item["from_run"] = w.from_run
    return item


def _copied(w: WorkItem) -> dict[str, Any]:
    return _work_item(w, COPY_STATUS[w.state])


def _shared(w: WorkItem, account_ids: Sequence[str]) -> dict[str, Any]:
    item = _work_item(w, SHARE_STATUS[w.state]) | {"account_ids": list(account_ids)}
    return item | ({"via_copy_of": w.snapshot_id} if w.target_id != w.snapshot_id else {})


def sns_subject(name: str, run_id: str, status: str) -> str:
    """`<name> run <run_id>: <STATUS>`, under SNS's limit: a long name or run id is cut in the
    middle, never the status. Non-ASCII and control characters become `?` (SNS refuses them)."""
    suffix = f": {status}"
    head = f"{name} run {run_id}"
    room = SUBJECT_LIMIT - len(suffix)
    if len(head) > room:
        keep = room - 3
        head = head[: keep - keep // 2] + "..." + head[len(head) - keep // 2 :]
    subject = head + suffix
    return "".join(c if " " <= c <= "~" else "?" for c in subject)


def email_text(report: Mapping[str, Any]) -> str:
    counts = report["counts"]
    dry = " (dry run: nothing was changed)" if report["dry_run"] else ""
    lines = [
        f"rds-snapshot-manager run {report['run_id']}: {report['status']}{dry}",
        ", ".join(f"{name.replace('_', ' ')} {counts[name]}" for name in LISTS),
    ]
    if "on_demand" in report:
        asked = report["on_demand"]
        lines.append(
            f"On-demand run: reason {asked['reason'] or '(none)'}; force {asked['force']}; "
            + (f"{asked['targets']} named target(s)" if asked["targets"] else "whole selection")
        )
    if "storage" in report:
        figures = report["storage"]
        lines.append(
            f"Managed snapshots of the targets: {figures['snapshot_count']}, "
            f"{figures['allocated_gib']:g} GiB allocated, at most "
            f"{figures['estimated_monthly_cost_usd']:.2f} USD a month (an upper bound)"
        )
    breaches = [item for name in TARGET_LISTS for item in report[name] if item.get("rpo_breached")]
    if breaches:
        lines += ["", f"RPO breached (no available snapshot within {report['rpo_hours']:g} h):"]
        lines += [
            f"  - {item['source_type']} {item['source_id']}: "
            + (
                "no available managed snapshot"
                if item["newest_snapshot_age_hours"] is None
                else f"newest available snapshot {item['newest_snapshot_age_hours']:g} h old"
            )
            for item in breaches
        ]
    if "reason" in report:  # a SKIPPED run says why
        lines += ["", str(report["reason"])]
    if "error" in report:
        error = report["error"]
        lines += ["", f"The run failed: {error.get('Error', '')}: {error.get('Cause', '')}"]
    formats = {
        "created": "{snapshot_id} of {source_type} {source_id} ({status})",
        "would_create": "{snapshot_id} of {source_type} {source_id}",
        "deleted": "{snapshot_id} of {source_type} {source_id}",
        "would_delete": "{snapshot_id} of {source_type} {source_id}",
        "skipped": "{source_id}: {reason}",
        "failed": "{source_id}: {error_code}: {message}",
        "delete_failed": "{snapshot_id} of {source_id}: {error_code}: {message}",
        "copied": "{snapshot_id} of {source_type} {source_id} to {region} ({status})",
        "shared": "{snapshot_id} of {source_type} {source_id} in {region} ({status})",
    }
    tests = report.get("restore_tests") or []
    if tests:
        lines += ["", "Restore tests:"]
        lines += [
            f"  - {t['source_id']} from {t['snapshot_id'] or '-'}: {t['status']}"
            + (f" in {t['restore_seconds']:g} s" if "restore_seconds" in t else "")
            + ("" if t["deleted"] else " (temporary database NOT deleted)")
            + (f" [{t['error_code']}: {t['message']}]" if t.get("error_code") else "")
            for t in tests
        ]
    for name in LISTS:
        if report[name]:
            lines += ["", f"{name.replace('_', ' ').capitalize()}:"]
            lines += [
                f"  - {formats[name].format(**item)}"
                + (f" [{item['note']}]" if item.get("note") else "")
                + (f" {item['error_code']}: {item.get('message', '')}"
                   if name in ("copied", "shared") and item.get("error_code") else "")
                for item in report[name]
            ]  # fmt: skip
            omitted = report.get("truncated", {}).get(name, 0)
            if omitted:
                lines.append(f"  ... and {omitted} more (see the ledger for the full list)")
    return "\n".join(lines) + "\n"


def sns_message(report: Mapping[str, Any], limit: int = SNS_LIMIT_BYTES) -> str:
    """The `MessageStructure=json` body, with lists cut (and the cut counted) to fit `limit`."""
    keep: int | None = None
    while True:
        fitted = truncate(report, keep)
        document = json.dumps(fitted, separators=(",", ":"))
        body = json.dumps(
            {"email": email_text(fitted), **dict.fromkeys(JSON_PROTOCOLS, document)},
            separators=(",", ":"),
        )
        if len(body.encode()) <= limit or keep == 0:
            return body
        longest = max(len(report[name]) for name in LISTS)
        keep = (longest if keep is None else keep) // 2


def truncate(report: Mapping[str, Any], keep: int | None) -> dict[str, Any]:
    """A copy keeping at most `keep` items per list, with `truncated` counting what was cut."""
    if keep is None:
        return dict(report)
    fitted = dict(report)
    truncated = {name: len(report[name]) - keep for name in LISTS if len(report[name]) > keep}
    for name in truncated:
        fitted[name] = report[name][:keep]
    fitted["truncated"] = truncated
    return fitted
