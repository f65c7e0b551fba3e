"""The Lambda functions' log lines as CloudWatch Logs (LocalStack) stores them: what the
integration tests read the EMF metrics from.

The host executor (tools/localstack_ext) forwards what a function prints, with Lambda's
START/END/REPORT lines, to the function's log group `/aws/lambda/<name>-<step>`: the same place
the EMF lines reach in AWS, where CloudWatch Logs extracts the metrics.
"""

from __future__ import annotations

from tests import emf
from tools.localstack.harness import client, wait_until


def notify_lines(deployment_name: str, run_id: str) -> list[str]:
    """The Notify function's log lines, once the EMF lines of run `run_id` are stored."""
    logs = client("logs")

    def probe() -> list[str] | None:
        try:  # LocalStack stores the logs in the background, creating the group on first use
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{deployment_name}-notify")
        except logs.exceptions.ResourceNotFoundException:
            return None
        lines = [event["message"].rstrip("\n") for event in events["events"]]
        mine = [line for line in lines if f'"run_id":"{run_id}"' in line]
        return lines if any(emf.is_emf(line) for line in mine) else None

    return wait_until(probe, 30, f"the EMF lines of {run_id} in CloudWatch Logs")
