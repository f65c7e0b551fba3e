import json
import logging

import pytest

from rds_snapshot_manager import logs


def test_decisions_are_json_lines_with_run_source_action_outcome(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("INFO")
    logs.configure("INFO")  # a warm container configures again: still one line per decision
    logs.decision("run-1", "db-a", "create", "created", snapshot_id="db-a-1")
    logs.decision("run-1", "db-b", "create", "noise", level=logging.DEBUG)
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {
        "level": "INFO",
        "message": "create db-a: created",
        "run_id": "run-1",
        "source_id": "db-a",
        "action": "create",
        "outcome": "created",
        "snapshot_id": "db-a-1",
    }


def test_log_level_setting_is_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("DEBUG")
    logs.decision("run-1", "db-b", "create", "detail", level=logging.DEBUG)
    assert json.loads(capsys.readouterr().out)["level"] == "DEBUG"
    logs.configure("INFO")
