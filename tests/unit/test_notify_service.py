import json

import pytest

from rds_snapshot_manager import logs
from rds_snapshot_manager.adapters.notifier import PublishFailedError
from rds_snapshot_manager.domain.model import Deletion, SourceRef, SourceType, TargetOutcome
from tests.unit.conftest import Account, context, count_calls, inject_error, later

DB_A = SourceRef(SourceType.INSTANCE, "db-a")


def record(
    account: Account, *outcomes: TargetOutcome, deletions: tuple[Deletion, ...] = ()
) -> None:
    ledger = account.ledger()
    now = later()
    ledger.start_run("run-1", now.isoformat(), False, now)
    ledger.record_outcomes("run-1", outcomes, now)
    ledger.record_deletions("run-1", deletions, now)


def test_ok_run_goes_to_the_report_topic_only(account: Account) -> None:
    record(account, TargetOutcome.created(DB_A, "snap-a", "available"),
           deletions=(Deletion("old-a", DB_A, True),))  # fmt: skip
    result = account.engine().notify.run(context())
    assert result.summary() == {"status": "OK", "published": True}
    [report] = account.messages(account.report_queue)
    assert report["created"][0]["snapshot_id"] == "snap-a"
    assert report["deleted"] == [
        {"snapshot_id": "old-a", "source_id": "db-a", "source_type": "instance"}
    ]
    assert account.messages(account.failure_queue) == []


def test_run_with_a_failure_also_goes_to_the_failure_topic(account: Account) -> None:
    record(
        account,
        TargetOutcome.created(DB_A, "snap-a", "available"),
        TargetOutcome.failed("ghost", SourceType.INSTANCE, "NotFound", "no DB instance ghost"),
    )
    result = account.engine().notify.run(context())
    assert result.status == "PARTIAL"
    [report] = account.messages(account.report_queue)
    assert account.messages(account.failure_queue) == [report]


def test_caught_task_error_makes_the_run_failed_with_the_error_in_the_report(
    account: Account,
) -> None:
    error = {"Error": "States.TaskFailed", "Cause": "Create timed out"}
    result = account.engine().notify.run(context(error=error))
    assert result.summary() == {"status": "FAILED", "published": True}
    [report] = account.messages(account.failure_queue)
    assert (report["status"], report["error"]) == ("FAILED", error)


def test_timed_out_check_leaves_snapshots_creating_in_the_report(account: Account) -> None:
    record(account, TargetOutcome.created(DB_A, "snap-a", "creating"))
    account.engine().notify.run(context())
    [report] = account.messages(account.report_queue)
    assert report["created"][0]["status"] == "creating"
    assert report["status"] == "PARTIAL"


def test_publish_failure_logs_the_report_raises_and_a_retry_publishes(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO")
    record(account, TargetOutcome.created(DB_A, "snap-a", "available"))
    broken = account.engine()
    inject_error(account.sns, "Publish", "InternalError")
    with pytest.raises(PublishFailedError):
        broken.notify.run(context())
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [failure] = [line for line in lines if line["outcome"] == "publish failed: InternalError"]
    assert json.loads(failure["report"])["created"][0]["snapshot_id"] == "snap-a"
    assert failure["level"] == "ERROR"
    account.sns.meta.events.unregister("before-parameter-build.sns.Publish")
    assert account.ledger().read_run("run-1").published_at == ""


def test_retried_notify_after_success_does_not_publish_twice(account: Account) -> None:
    record(account, TargetOutcome.created(DB_A, "snap-a", "available"))
    engine = account.engine()
    engine.notify.run(context())
    count_calls(account)
    assert engine.notify.run(context()).summary() == {"status": "OK", "published": True}
    assert "Publish" not in account.calls
    assert len(account.messages(account.report_queue)) == 1


def test_conditional_check_failure_when_marking_published_is_harmless(account: Account) -> None:
    record(account, TargetOutcome.created(DB_A, "snap-a", "available"))
    inject_error(account.dynamodb, "UpdateItem", "ConditionalCheckFailedException")
    assert account.engine().notify.run(context()).published is True
    assert len(account.messages(account.report_queue)) == 1


def test_notify_reads_the_run_with_query_only(account: Account) -> None:
    skipped = [
        TargetOutcome.skipped(SourceRef(SourceType.INSTANCE, f"db-{i}"), "not due")
        for i in range(60)
    ]
    record(account, *skipped)
    count_calls(account)
    account.engine().notify.run(context())
    # Query the run; DeleteItem frees the lease (conditional on holder); one UpdateItem marks the
    # report topic, one the whole report.
    assert account.calls == {"Query": 1, "DeleteItem": 1, "Publish": 1, "UpdateItem": 2}


def test_retry_after_a_partial_publish_sends_only_the_missing_topic(account: Account) -> None:
    record(account, TargetOutcome.failed("ghost", SourceType.INSTANCE, "NotFound", "gone"))
    failures = iter([True])  # the failure topic refuses the first publish only
    inject_error(
        account.sns,
        "Publish",
        "InternalError",
        when=lambda params: params["TopicArn"] == account.failure_topic and next(failures, False),
    )
    engine = account.engine()
    with pytest.raises(PublishFailedError):
        engine.notify.run(context())
    assert engine.notify.run(context()).published is True
    assert engine.notify.run(context()).published is True  # a third attempt sends nothing
    assert len(account.messages(account.report_queue)) == 1
    assert len(account.messages(account.failure_queue)) == 1
    assert account.ledger().read_run("run-1").published_topics == {"report", "failure"}


def test_subject_keeps_the_status_for_a_long_name_and_run_id(account: Account) -> None:
    record(account, TargetOutcome.failed("ghost", SourceType.INSTANCE, "NotFound", "no"))
    subjects: list[str] = []
    account.sns.meta.events.register(
        "before-parameter-build.sns.Publish",
        lambda params, **_: subjects.append(params["Subject"]),
    )
    engine = account.engine(name="a-very-long-deployment-name-" + "x" * 80)
    engine.notify.run(context(run_id="run-1"))
    assert len(subjects) == 2
    assert all(len(s) < 100 and s.endswith(": FAILED") for s in subjects)
