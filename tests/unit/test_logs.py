import json
import logging
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from rds_snapshot_manager import logs


def invoke(request_id: str, action: Any) -> None:
    """Runs `action` inside a handler wrapped like ours, with a Lambda-like context."""

    @logs.inject_lambda_context
    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        action()
        return {}

    handler({}, SimpleNamespace(aws_request_id=request_id, function_name="rsm-create"))


@pytest.fixture
def cold_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that has not been invoked yet."""
    monkeypatch.setattr(logs._Invocation, "cold_start", True)
    monkeypatch.setattr(logs._Invocation, "fields", {})


def test_decisions_are_json_lines_with_run_source_action_outcome(
    capsys: pytest.CaptureFixture[str], cold_process: None
) -> None:
    logs.configure("INFO")
    logs.configure("INFO")  # a warm container configures again: still one line per decision
    invoke(
        "req-1",
        lambda: (
            logs.decision("run-1", "db-a", "create", "created", snapshot_id="db-a-1"),
            logs.decision("run-1", "db-b", "create", "noise", level=logging.DEBUG),
        ),
    )
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {
        "level": "INFO",
        "message": "create db-a: created",
        "run_id": "run-1",
        "source_id": "db-a",
        "action": "create",
        "outcome": "created",
        "snapshot_id": "db-a-1",
        "function_request_id": "req-1",
        "function_name": "rsm-create",
        "cold_start": True,
    }


def test_cold_start_is_true_only_on_the_first_invocation_of_the_process(
    capsys: pytest.CaptureFixture[str], cold_process: None
) -> None:
    logs.configure("INFO")
    for request_id in ("req-1", "req-2", "req-3"):
        invoke(request_id, lambda: logs.decision("run-1", "-", "notify", "published"))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["function_request_id"], x["cold_start"]) for x in lines] == [
        ("req-1", True),
        ("req-2", False),
        ("req-3", False),
    ]


def test_lines_from_worker_threads_carry_the_invocation_too(
    capsys: pytest.CaptureFixture[str], cold_process: None
) -> None:
    """services/concurrency.py logs from a thread pool: the context must reach it."""
    logs.configure("INFO")

    def in_threads() -> None:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda i: logs.decision("run-1", f"db-{i}", "create", "ok"), range(2)))

    invoke("req-9", in_threads)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2
    assert {x["function_request_id"] for x in lines} == {"req-9"}


def test_log_level_setting_is_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("DEBUG")
    logs.decision("run-1", "db-b", "create", "detail", level=logging.DEBUG)
    assert json.loads(capsys.readouterr().out)["level"] == "DEBUG"
    logs.configure("INFO")


def test_emitted_documents_are_one_json_line_each_whatever_the_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("CRITICAL")
    logs.emit([{"a": 1}, {"b": [1, 2]}])
    logs.configure("INFO")
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [
        {"a": 1},
        {"b": [1, 2]},
    ]
