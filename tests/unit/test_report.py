import json

import pytest

from rds_snapshot_manager.domain.model import (
    DRY_RUN_STATUS,
    Deletion,
    SourceRef,
    SourceType,
    TargetOutcome,
)
from rds_snapshot_manager.domain.report import (
    JSON_PROTOCOLS,
    SNS_LIMIT_BYTES,
    RunSummary,
    build_report,
    email_text,
    run_status,
    sns_message,
    sns_subject,
)

DB_A = SourceRef(SourceType.INSTANCE, "db-a")
AURORA = SourceRef(SourceType.CLUSTER, "aurora-1")
CREATED = TargetOutcome.created(DB_A, "db-a-202611240530-abcd1234", "available")
SKIPPED = TargetOutcome.skipped(AURORA, "not due: newest snapshot 3 h old, interval 24 h")
FAILED = TargetOutcome.failed("ghost", SourceType.INSTANCE, "NotFound", "no DB instance ghost")


def summary(
    *outcomes: TargetOutcome, deletions: tuple[Deletion, ...] = (), **kw: object
) -> RunSummary:
    return RunSummary("run-1", False, list(outcomes), list(deletions), **kw)  # type: ignore[arg-type]


def test_status_is_ok_when_nothing_failed() -> None:
    assert run_status(summary(CREATED, SKIPPED)) == "OK"


def test_status_is_partial_when_some_target_failed() -> None:
    assert run_status(summary(CREATED, FAILED)) == "PARTIAL"


def test_status_is_partial_when_a_snapshot_is_still_creating_after_the_wait() -> None:
    creating = TargetOutcome.created(DB_A, "x", "creating")
    assert run_status(summary(creating)) == "PARTIAL"


def test_dry_run_snapshots_do_not_count_as_unfinished() -> None:
    assert run_status(summary(TargetOutcome.created(DB_A, "x", DRY_RUN_STATUS))) == "OK"


def test_status_is_partial_when_a_deletion_failed() -> None:
    failed_delete = Deletion("old", DB_A, False, "InvalidDBSnapshotState", "in use")
    assert run_status(summary(CREATED, deletions=(failed_delete,))) == "PARTIAL"


def test_status_is_failed_when_every_target_failed_or_the_run_broke() -> None:
    assert run_status(summary(FAILED)) == "FAILED"
    assert run_status(summary(CREATED, error={"Error": "States.Timeout", "Cause": "x"})) == "FAILED"


def test_report_puts_every_target_in_exactly_one_list_in_contract_shape() -> None:
    deleted = Deletion("old-a", DB_A, True)
    report = build_report(summary(CREATED, SKIPPED, FAILED, deletions=(deleted,)))
    assert report["created"] == [
        {"snapshot_id": CREATED.snapshot_id, "source_id": "db-a", "source_type": "instance",
         "status": "available"}
    ]  # fmt: skip
    assert report["skipped"] == [
        {"source_id": "aurora-1", "source_type": "cluster", "reason": SKIPPED.reason}
    ]
    assert report["failed"] == [
        {"source_id": "ghost", "source_type": "instance", "error_code": "NotFound",
         "message": "no DB instance ghost"}
    ]  # fmt: skip
    assert report["deleted"] == [
        {"snapshot_id": "old-a", "source_id": "db-a", "source_type": "instance"}
    ]
    assert report["status"] == "PARTIAL"
    assert "error" not in report


def test_report_carries_a_caught_error() -> None:
    error = {"Error": "Lambda.Unknown", "Cause": "boom"}
    report = build_report(summary(CREATED, error=error))
    assert (report["status"], report["error"]) == ("FAILED", error)
    assert "The run failed: Lambda.Unknown: boom" in email_text(report)


def test_email_text_is_readable() -> None:
    text = email_text(build_report(summary(CREATED, SKIPPED, FAILED)))
    assert text.startswith("rds-snapshot-manager run run-1: PARTIAL\n")
    assert "  - aurora-1: not due: newest snapshot 3 h old, interval 24 h" in text
    assert "  - ghost: NotFound: no DB instance ghost" in text


def test_sns_message_has_email_text_and_the_json_document_for_each_protocol() -> None:
    report = build_report(summary(CREATED))
    body = json.loads(sns_message(report))
    assert body["email"] == email_text(report)
    for protocol in JSON_PROTOCOLS:
        assert json.loads(body[protocol]) == report


def test_large_report_is_truncated_with_counts_to_fit_sns_limit() -> None:
    outcomes = [
        TargetOutcome.skipped(SourceRef(SourceType.INSTANCE, f"db-{i:05d}"), "not due " + "x" * 80)
        for i in range(5000)
    ]
    report = build_report(summary(*outcomes))
    body = sns_message(report)
    assert len(body.encode()) <= SNS_LIMIT_BYTES
    document = json.loads(json.loads(body)["default"])
    kept = len(document["skipped"])
    assert 0 < kept < 5000
    assert document["truncated"] == {"skipped": 5000 - kept}
    assert document["counts"]["skipped"] == 5000
    assert f"... and {5000 - kept} more" in json.loads(body)["email"]


def test_dry_run_reports_what_it_would_create_and_delete_not_created() -> None:
    would = TargetOutcome.created(DB_A, "db-a-202611240530-abcd1234", DRY_RUN_STATUS)
    expired = Deletion("old-a", DB_A, True)
    report = build_report(RunSummary("run-1", True, [would, SKIPPED], [expired]))
    assert (report["created"], report["deleted"]) == ([], [])
    assert [i["snapshot_id"] for i in report["would_create"]] == [would.snapshot_id]
    assert report["would_delete"] == [
        {"snapshot_id": "old-a", "source_id": "db-a", "source_type": "instance"}
    ]
    assert report["counts"] == {
        "created": 0, "would_create": 1, "deleted": 0, "would_delete": 1, "skipped": 1,
        "failed": 0, "delete_failed": 0, "copied": 0, "shared": 0,
    }  # fmt: skip
    assert report["status"] == "OK"
    assert "Would create:\n  - db-a-202611240530-abcd1234 of instance db-a" in email_text(report)


def test_an_instance_and_a_cluster_with_one_id_each_appear_once() -> None:
    shared_instance = TargetOutcome.created(
        SourceRef(SourceType.INSTANCE, "shared"), "i-snap", "available"
    )
    shared_cluster = TargetOutcome.skipped(SourceRef(SourceType.CLUSTER, "shared"), "not due")
    report = build_report(summary(shared_instance, shared_cluster))
    assert [(i["source_id"], i["source_type"]) for i in report["created"]] == [
        ("shared", "instance")
    ]
    assert report["skipped"] == [
        {"source_id": "shared", "source_type": "cluster", "reason": "not due"}
    ]


@pytest.mark.parametrize("status", ["OK", "PARTIAL", "FAILED", "SKIPPED"])
def test_sns_subject_keeps_the_status_and_stays_under_100_characters(status: str) -> None:
    assert sns_subject("rsm", "exec-1", status) == f"rsm run exec-1: {status}"
    subject = sns_subject("n" * 80, "r" * 80, status)
    assert len(subject) < 100
    assert subject.endswith(f"r: {status}")
    assert subject.startswith("nnnn")
    assert "..." in subject
    assert len(sns_subject("ü" * 200, "x", status)) < 100
    assert sns_subject("naïve\n", "x", status) == f"na?ve? run x: {status}"


def test_on_demand_run_reports_what_was_asked_and_the_email_says_it() -> None:
    asked = {"reason": "pre-migration", "force": True, "targets": 2}
    report = build_report(RunSummary("run-1", False, [CREATED], [], on_demand=asked))
    assert report["on_demand"] == asked
    assert report["status"] == "OK"
    text = email_text(report)
    assert "On-demand run: reason pre-migration; force True; 2 named target(s)" in text
    whole = build_report(
        RunSummary("run-2", False, [CREATED], [], on_demand=asked | {"reason": None, "targets": 0})
    )
    assert "On-demand run: reason (none); force True; whole selection" in email_text(whole)
    assert "on_demand" not in build_report(summary(CREATED))
