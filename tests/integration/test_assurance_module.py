"""Backup assurance, module side, in LocalStack: the RPO and failed-targets alarms and the
dashboard are stored as planned, and a second plan changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tools.localstack.harness import Databases, Deployment, client, unique_name

pytestmark = pytest.mark.integration

RPO_HOURS = 30


@pytest.fixture(scope="module")
def assured(
    deploy: Callable[[str, dict[str, Any]], Deployment], databases: Databases
) -> Deployment:
    name = unique_name("it-assure")
    instance = databases.add_instance(f"{name}-pg")
    return deploy(
        name,
        {"db_instance_identifiers": [instance], "rpo_hours": RPO_HOURS, "create_dashboard": True},
    )


def alarm(name: str) -> dict[str, Any]:
    (found,) = client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return dict(found)


def test_rpo_alarm_is_stored_with_the_planned_settings(assured: Deployment) -> None:
    rpo = alarm(f"{assured.name}-rpo-breached")
    assert (rpo["Namespace"], rpo["MetricName"], rpo["Statistic"]) == (
        "RdsSnapshotManager",
        "MaxNewestSnapshotAgeHours",
        "Maximum",
    )
    assert rpo["Dimensions"] == [{"Name": "Deployment", "Value": assured.name}]
    assert (rpo["ComparisonOperator"], rpo["Threshold"]) == ("GreaterThanThreshold", RPO_HOURS)
    # 30 full hours plus the current one, all breaching.
    assert (rpo["Period"], rpo["EvaluationPeriods"], rpo["DatapointsToAlarm"]) == (3600, 31, 31)
    assert rpo["TreatMissingData"] == "breaching"
    assert rpo["AlarmActions"] == [assured.outputs["failure_topic_arn"]]


def test_failed_targets_alarm_is_stored_with_the_planned_settings(assured: Deployment) -> None:
    failed = alarm(f"{assured.name}-targets-failed")
    assert (failed["Namespace"], failed["MetricName"], failed["Statistic"]) == (
        "RdsSnapshotManager",
        "TargetsFailed",
        "Sum",
    )
    assert failed["Dimensions"] == [{"Name": "Deployment", "Value": assured.name}]
    assert (failed["ComparisonOperator"], failed["Threshold"]) == ("GreaterThanThreshold", 0)
    assert (failed["Period"], failed["EvaluationPeriods"]) == (3600, 1)
    assert failed["TreatMissingData"] == "notBreaching"
    assert failed["AlarmActions"] == [assured.outputs["failure_topic_arn"]]


def test_dashboard_is_stored_with_six_widgets_and_the_rpo_line(assured: Deployment) -> None:
    body = client("cloudwatch").get_dashboard(DashboardName=assured.name)["DashboardBody"]
    widgets = json.loads(body)["widgets"]
    assert len(widgets) == 6
    assert {widget["properties"]["region"] for widget in widgets} == {"us-east-1"}
    lines = [
        line["value"]
        for widget in widgets
        for line in widget["properties"].get("annotations", {}).get("horizontal", [])
    ]
    assert lines == [RPO_HOURS]


def test_second_plan_changes_nothing(assured: Deployment) -> None:
    assert assured.plan_changes() == ""
