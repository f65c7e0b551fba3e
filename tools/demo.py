"""`make demo`: deploy into LocalStack, run one cycle on sample databases, print the report.

Run from the repository root as `python -m tools.demo` once LocalStack is up (`make demo` does
both). Safe to re-run: the databases and the deployment are reused; within the 24-hour backup
interval the databases show up as skipped. If LocalStack restarted since the last demo, the old
Terraform state describes resources that are gone, so it is discarded and everything redeployed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tools.localstack.harness import (
    ENDPOINT,
    REGION,
    REPO,
    Databases,
    Deployment,
    init,
    ledger_items,
    localstack_session_id,
)

NAME = "demo"
STATE_DIR = REPO / ".localstack" / "demo"
SESSION_FILE = STATE_DIR / "localstack-session"
INSTANCES = ("demo-orders-db", "demo-users-db")
CLUSTER = "demo-aurora"


def discard_state_of_another_localstack(session_id: str) -> None:
    previous = SESSION_FILE.read_text().strip() if SESSION_FILE.exists() else session_id
    if previous != session_id:
        print("LocalStack restarted since the last demo: deploying from scratch.")
        for state_file in STATE_DIR.glob("terraform.tfstate*"):
            state_file.unlink()


def deploy() -> Deployment:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    session_id = localstack_session_id()
    discard_state_of_another_localstack(session_id)
    databases = Databases()
    for instance in INSTANCES:
        databases.add_instance(instance, exist_ok=True)
    databases.add_cluster(CLUSTER, exist_ok=True)
    print(f"Sample databases in LocalStack: {', '.join(INSTANCES)} (instances), {CLUSTER} (Aurora)")

    data_dir = STATE_DIR / "terraform-data"
    deployment = Deployment(
        NAME,
        STATE_DIR,
        data_dir,
        {
            "db_instance_identifiers": list(INSTANCES),
            "db_cluster_identifiers": [CLUSTER],
            "schedule_expression": "cron(0 1 * * ? *)",
            # One restore test per demo: a sample of one target, restored, measured, deleted.
            "restore_test": {
                "sample_size": 1,
                "instance_class": "db.t3.medium",
                "timeout_minutes": 15,
            },
        },
    )
    started = time.monotonic()
    print("Applying examples/localstack (terraform init + apply) ...", flush=True)
    init(data_dir)
    deployment.apply()
    SESSION_FILE.write_text(session_id)
    print(f"Deployed '{NAME}' in {time.monotonic() - started:.0f} s.")
    return deployment


def print_entries(title: str, entries: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    print(f"  {title} ({len(entries)})")
    rows = [[str(entry.get(column, "")) for column in columns] for entry in entries]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(len(columns))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("    " + "  ".join(cells).rstrip())


def with_rpo(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target with an `rpo` cell: its newest available snapshot's age, and a breach."""
    cells = []
    for entry in entries:
        age = entry.get("newest_snapshot_age_hours")
        cell = "rpo: " + ("no backup" if age is None else f"{age:g} h")
        cells.append(entry | {"rpo": cell + (" BREACHED" if entry.get("rpo_breached") else "")})
    return cells


def print_report(report: dict[str, Any], execution: dict[str, Any]) -> None:
    took = (execution["stopDate"] - execution["startDate"]).total_seconds()
    print()
    dry_run = "  (dry run)" if report["dry_run"] else ""
    print(f"Run {report['run_id']}: {report['status']}{dry_run}")
    print(f"  execution {execution['status']} in {took:.1f} s; report delivered by SNS to SQS")
    if "rpo_hours" in report:
        print(f"  RPO {report['rpo_hours']:g} h: age of each target's newest available snapshot")
    print_entries(
        "created", with_rpo(report["created"]), ("source_type", "source_id", "rpo", "snapshot_id")
    )
    print_entries("skipped", with_rpo(report["skipped"]), ("source_id", "rpo", "reason"))
    print_entries(
        "failed", with_rpo(report["failed"]), ("source_id", "rpo", "error_code", "message")
    )
    print_entries("deleted", report["deleted"], ("source_type", "source_id", "snapshot_id"))
    if "storage" in report:  # a restore-test run lists no snapshot: no storage, no RPO
        storage = report["storage"]
        print(
            f"  storage at the run's start: {storage['snapshot_count']} managed snapshots, "
            f"{storage['allocated_gib']:g} GiB, at most "
            f"{storage['estimated_monthly_cost_usd']:.2f} USD a month (upper bound)"
        )
    if "restore_tests" in report:
        tests = [
            test
            | {
                "rto": f"restored in {test['restore_seconds']:g} s"
                if test.get("restore_seconds") is not None
                else "not restored",
                "cleanup": "temporary database deleted" if test.get("deleted") else "NOT DELETED",
            }
            for test in report["restore_tests"]
        ]
        columns = ("source_type", "source_id", "status", "rto", "cleanup", "restored_id")
        print_entries("restore tests", tests, columns)


def print_next_steps(deployment: Deployment, run_id: str) -> None:
    outputs = deployment.outputs
    table = outputs["dynamodb_table_name"]
    rows = len(ledger_items(table, run_id))
    state_machine = outputs["state_machine_arn"]
    print(f"""
Where to look next
  state machine   {state_machine}
  ledger table    {table}  ({rows} rows for this run, partition key RUN#{run_id})
  report topic    {outputs["report_topic_arn"]}  (copied to SQS queue {NAME}-report)
  failure topic   {outputs["failure_topic_arn"]}
  LocalStack log  {Path(".localstack/localstack.log")}  (also every Lambda log line)
  Terraform state {STATE_DIR.relative_to(REPO)}/terraform.tfstate

Commands (AWS CLI v2; LocalStack accepts any credentials)
  export AWS_ENDPOINT_URL={ENDPOINT} AWS_DEFAULT_REGION={REGION}
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  aws stepfunctions start-execution --state-machine-arn {state_machine} \\
      --input '{{"dry_run": true}}'
  aws stepfunctions start-execution --state-machine-arn {state_machine} \\
      --input '{{"restore_test": true}}'
  aws stepfunctions list-executions --state-machine-arn {state_machine}
  aws rds describe-db-snapshots --snapshot-type manual
  aws dynamodb query --table-name {table} --key-condition-expression 'pk = :pk' \\
      --expression-attribute-values '{{":pk": {{"S": "RUN#{run_id}"}}}}'
  make demo              # again: within the 24 h interval every database is skipped
  make localstack-down   # stop LocalStack (everything in it is forgotten)""")


def main() -> None:
    deployment = deploy()
    print("Starting one cycle (StartExecution) and waiting for it ...", flush=True)
    execution, report = deployment.run()
    print_report(report, execution)
    print('\nStarting a restore test (input {"restore_test": true}) and waiting for it ...')
    restore_execution, restore_report = deployment.run({"restore_test": True})
    print_report(restore_report, restore_execution)
    print_next_steps(deployment, execution["name"])


if __name__ == "__main__":
    main()
