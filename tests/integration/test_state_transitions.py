"""Step Functions cost: state transitions per run must not grow with the number of databases.

Budget (issue 5): at most 15 transitions plus 3 per poll of the wait loop, measured from a real
execution's history at N=1 and N=50 targets. LocalStack's RDS keeps new snapshots `creating` for
a few seconds (RDS_SNAPSHOT_CREATE_SECONDS) and the deployment polls every second, so the Check
and Wait loop really runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tools.localstack.harness import (
    Databases,
    Deployment,
    execution_history,
    state_transitions,
    unique_name,
)

pytestmark = pytest.mark.integration


def polls(history: list[dict[str, Any]]) -> int:
    return sum(
        1
        for event in history
        if event["type"] == "WaitStateEntered"
        and event["stateEnteredEventDetails"]["name"] == "WaitForSnapshots"
    )


def test_state_transitions_stay_within_budget_at_1_and_50_targets(
    deploy: Callable[[str, dict[str, Any]], Deployment],
    databases: Databases,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = unique_name("it-scale")
    tag = {"rsm-scale": name}
    deployment = deploy(name, {"selection_tags": tag})
    measured: dict[int, dict[str, int]] = {}
    tagged = 0

    for targets in (1, 50):
        for number in range(tagged, targets):
            databases.add_instance(f"{name}-{number}", tags=tag)
        tagged = targets
        execution, report = deployment.run()
        assert execution["status"] == "SUCCEEDED"
        assert len(report["created"]) + len(report["skipped"]) == targets
        history = execution_history(execution["executionArn"])
        measured[targets] = {"transitions": state_transitions(history), "polls": polls(history)}

    with capsys.disabled():
        print(f"\nstate transitions per run: {json.dumps(measured)}")
    assert any(figures["polls"] >= 1 for figures in measured.values()), measured
    for figures in measured.values():
        assert figures["transitions"] <= 15 + 3 * figures["polls"], measured
    assert measured[50]["transitions"] - 3 * measured[50]["polls"] == (
        measured[1]["transitions"] - 3 * measured[1]["polls"]
    )
