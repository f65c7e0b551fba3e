"""Drive examples/localstack in LocalStack: clients, Terraform deployments, runs and reports.

Shared by the integration tests (tests/integration) and `make demo` (tools/demo.py). Each
deployment applies the example directory with its own variables file and state file (`-state`),
so deployments with different configurations never share state; deployments may share one
initialised data directory (`TF_DATA_DIR`), since providers and modules are the same for all.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import boto3
import botocore.config
import botocore.exceptions

ENDPOINT = os.environ.get("LOCALSTACK_ENDPOINT", "http://127.0.0.1:4566")
REGION = "us-east-1"
T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "localstack"
TERRAFORM = REPO / ".venv" / "bin" / "terraform"
LOCALSTACK_ENV = REPO / "tools" / "localstack" / "localstack.env"
# Provider 3.39 validates the runtime client-side and accepts at most python3.8; LocalStack's host
# executor runs the code on its own Python (>= 3.11) whatever the declared runtime. The module
# refuses runtimes older than python3.11 unless allow_emulator_runtime says this is an emulator.
BASE_VARIABLES: dict[str, Any] = {
    # LOCALSTACK_ENDPOINT lets several LocalStacks (other ports) serve tests side by side.
    "localstack_endpoint": ENDPOINT,
    "lambda_runtime": "python3.8",
    "allow_emulator_runtime": True,
    "poll_interval_seconds": 1,
    # A 1 s poll for the default 120 minutes could exceed Step Functions' 25,000-event execution
    # history, which the module refuses at plan; no test waits anywhere near 30 minutes.
    "wait_timeout_minutes": 30,
    "lambda_timeout": 60,
    # Far enough away that no scheduled run interferes with the executions a test starts.
    "schedule_expression": "rate(7 days)",
    # LocalStack neither keeps nor returns a state machine's tracing configuration, so every plan
    # shows a change, and provider 3.39 crashes updating it (nil TracingConfiguration).
    "xray_tracing": False,
}


# LocalStack keeps one account per 12-digit access key id; "test" is account 000000000000.
DEFAULT_ACCESS_KEY_ID = "test"


def client(
    service: str,
    *,
    access_key_id: str = DEFAULT_ACCESS_KEY_ID,
    region: str = REGION,
    config: botocore.config.Config | None = None,
) -> Any:
    """A client of ``service`` in the account ``access_key_id`` stands for, in ``region``;
    ``config`` e.g. sets the retries a fault-mode test expects."""
    return boto3.client(  # type: ignore[call-overload]  # any service name, typed as Any
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key="test",  # noqa: S106 - LocalStack accepts any credentials
        config=config,
    )


@dataclass(frozen=True)
class Account:
    """Where the harness calls LocalStack: the account of an access key id, in a region."""

    access_key_id: str = DEFAULT_ACCESS_KEY_ID
    region: str = REGION

    def client(self, service: str) -> Any:
        return client(service, access_key_id=self.access_key_id, region=self.region)


# Account 000000000000 in us-east-1: where the tests and the demo deploy examples/localstack.
DEFAULT_ACCOUNT = Account()


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def wait_until(probe: Callable[[], T | None], timeout: float, what: str, step: float = 1) -> T:
    """Poll ``probe`` until it returns something other than None; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def finished_execution(
    execution_arn: str, timeout: float = 120, account: Account = DEFAULT_ACCOUNT
) -> dict[str, Any]:
    sfn = account.client("stepfunctions")

    def probe() -> dict[str, Any] | None:
        execution = sfn.describe_execution(executionArn=execution_arn)
        return None if execution["status"] == "RUNNING" else execution

    return wait_until(probe, timeout, f"execution {execution_arn}", step=0.5)


def start_execution(
    state_machine_arn: str,
    payload: dict[str, Any] | None = None,
    account: Account = DEFAULT_ACCOUNT,
) -> str:
    """Start an execution and return its ARN at once (without waiting for its end)."""
    started = account.client("stepfunctions").start_execution(
        stateMachineArn=state_machine_arn, input=json.dumps(payload or {})
    )
    return str(started["executionArn"])


def run_state_machine(
    state_machine_arn: str,
    payload: dict[str, Any] | None = None,
    account: Account = DEFAULT_ACCOUNT,
) -> dict[str, Any]:
    """Start an execution, wait for its end, and return describe_execution's answer."""
    return finished_execution(start_execution(state_machine_arn, payload, account), account=account)


class TerraformError(RuntimeError):
    pass


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def terraform(
    data_dir: Path,
    *args: str,
    ok_codes: tuple[int, ...] = (0,),
    chdir: Path = EXAMPLE,
    env: dict[str, str] | None = None,
) -> str:
    """Run terraform in ``chdir`` (default: examples/localstack) with ``env`` added; stdout."""
    env = {**os.environ, **(env or {}), "TF_DATA_DIR": str(data_dir), "TF_IN_AUTOMATION": "1"}
    result = subprocess.run(
        [str(TERRAFORM), f"-chdir={chdir}", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in ok_codes:
        raise TerraformError(
            f"terraform {args[0]} failed ({result.returncode}):\n{result.stderr}\n{result.stdout}"
        )
    return result.stdout


def init(data_dir: Path) -> None:
    terraform(data_dir, "init", "-input=false", "-no-color")


@dataclass
class Deployment:
    """One applied copy of examples/localstack, with SQS queues on its two topics."""

    name: str
    workdir: Path
    data_dir: Path
    variables: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    report_queue: str = ""
    failure_queue: str = ""
    _reports: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def state_machine_arn(self) -> str:
        return str(self.outputs["state_machine_arn"])

    def _args(self) -> list[str]:
        return [
            f"-state={self.workdir / 'terraform.tfstate'}",
            f"-var-file={self.workdir / 'deployment.tfvars.json'}",
            "-input=false",
            "-no-color",
        ]

    def write_variables(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        variables = {**BASE_VARIABLES, **self.variables, "name": self.name}
        (self.workdir / "deployment.tfvars.json").write_text(json.dumps(variables, indent=2))

    def apply(self) -> None:
        self.write_variables()
        terraform(self.data_dir, "apply", "-auto-approve", *self._args())
        raw = terraform(
            self.data_dir, "output", "-json", f"-state={self.workdir / 'terraform.tfstate'}"
        )
        self.outputs = {key: value["value"] for key, value in json.loads(raw).items()}
        self.report_queue = self._subscribed_queue("report", self.outputs["report_topic_arn"])
        self.failure_queue = self._subscribed_queue("failure", self.outputs["failure_topic_arn"])

    def run(self, payload: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Run the state machine to its end: describe_execution's answer and the run report."""
        execution = run_state_machine(self.state_machine_arn, payload)
        return execution, self.report(self.report_queue, execution["name"])

    def plan_changes(self) -> str:
        """The plan's text if applying again would change something, else an empty string."""
        args = ("plan", "-detailed-exitcode", *self._args())
        plan = terraform(self.data_dir, *args, ok_codes=(0, 2))
        return "" if "No changes." in plan else plan

    def destroy(self) -> None:
        terraform(self.data_dir, "destroy", "-auto-approve", *self._args())
        for queue in (self.report_queue, self.failure_queue):
            if queue:
                client("sqs").delete_queue(QueueUrl=queue)
        delete_managed_snapshots(self.name)

    def _subscribed_queue(self, kind: str, topic_arn: str) -> str:
        sqs = client("sqs")
        url = sqs.create_queue(QueueName=f"{self.name}-{kind}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn["QueueArn"])
        return str(url)

    def report(self, queue_url: str, run_id: str, timeout: float = 30) -> dict[str, Any]:
        """The run report for ``run_id`` that reached the queue (other runs' reports are kept)."""
        seen = self._reports.setdefault(queue_url, {})

        def probe() -> dict[str, Any] | None:
            if run_id not in seen:
                for message in receive(queue_url):
                    report = json.loads(json.loads(message)["Message"])
                    seen[report["run_id"]] = report
            return seen.get(run_id)

        return wait_until(probe, timeout, f"the report of {run_id} on {queue_url}", step=0)


def receive(queue_url: str) -> list[str]:
    sqs = client("sqs")
    messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2
    ).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [message["Body"] for message in messages]


def managed_snapshots(name: str, account: Account = DEFAULT_ACCOUNT) -> dict[str, dict[str, Any]]:
    """Every manual instance and cluster snapshot tagged ``ManagedBy = name``, by identifier."""
    rds = account.client("rds")
    found: dict[str, dict[str, Any]] = {}
    for snapshot in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]:
        if {"Key": "ManagedBy", "Value": name} in snapshot.get("TagList", []):
            found[snapshot["DBSnapshotIdentifier"]] = snapshot
    for snapshot in rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]:
        if {"Key": "ManagedBy", "Value": name} in snapshot.get("TagList", []):
            found[snapshot["DBClusterSnapshotIdentifier"]] = snapshot
    return found


def delete_managed_snapshots(name: str, account: Account = DEFAULT_ACCOUNT) -> None:
    rds = account.client("rds")
    for snapshot_id, snapshot in managed_snapshots(name, account).items():
        if "DBClusterSnapshotIdentifier" in snapshot:
            rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=snapshot_id)
        else:
            rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot_id)


def _exists(describe: Callable[..., Any], **identifier: str) -> bool:
    try:
        describe(**identifier)
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] in ("DBInstanceNotFound", "DBClusterNotFoundFault"):
            return False
        raise
    return True


@dataclass
class Databases:
    """RDS instances and Aurora clusters created in the emulator for one deployment."""

    instances: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    account: Account = DEFAULT_ACCOUNT

    def add_instance(
        self, identifier: str, tags: dict[str, str] | None = None, *, exist_ok: bool = False
    ) -> str:
        rds = self.account.client("rds")
        if not (exist_ok and _exists(rds.describe_db_instances, DBInstanceIdentifier=identifier)):
            rds.create_db_instance(
                DBInstanceIdentifier=identifier,
                DBInstanceClass="db.t3.micro",
                Engine="postgres",
                MasterUsername="admin1",
                MasterUserPassword="password-1",
                AllocatedStorage=20,
                Tags=[{"Key": key, "Value": value} for key, value in (tags or {}).items()],
            )
        self.instances.append(identifier)
        return identifier

    def add_cluster(self, identifier: str, *, exist_ok: bool = False) -> str:
        rds = self.account.client("rds")
        if not (exist_ok and _exists(rds.describe_db_clusters, DBClusterIdentifier=identifier)):
            rds.create_db_cluster(
                DBClusterIdentifier=identifier,
                Engine="aurora-postgresql",
                MasterUsername="admin1",
                MasterUserPassword="password-1",
            )
        self.clusters.append(identifier)
        return identifier

    def delete(self) -> None:
        rds = self.account.client("rds")
        for identifier in self.instances:
            rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)
        for identifier in self.clusters:
            rds.delete_db_cluster(DBClusterIdentifier=identifier, SkipFinalSnapshot=True)


LEASE_KEY = {"pk": {"S": "LEASE"}, "sk": {"S": "LEASE"}}


def hold_lease(deployment: Deployment, holder: str, until: float) -> None:
    """Stands in for another run of ``deployment`` holding the lease until ``until`` (epoch s)."""
    client("dynamodb").put_item(
        TableName=deployment.outputs["dynamodb_table_name"],
        Item={**LEASE_KEY, "v": {"N": "1"}, "holder": {"S": holder},
              "lease_until": {"N": str(int(until))}},
    )  # fmt: skip


def ledger_items(table: str, run_id: str) -> list[dict[str, Any]]:
    return list(
        client("dynamodb").query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"RUN#{run_id}"}},
        )["Items"]
    )


def execution_history(execution_arn: str) -> list[dict[str, Any]]:
    sfn = client("stepfunctions")
    events: list[dict[str, Any]] = []
    token = None
    while True:
        page = sfn.get_execution_history(
            executionArn=execution_arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def state_transitions(history: list[dict[str, Any]]) -> int:
    """Step Functions bills state transitions: one per state entered."""
    return sum(1 for event in history if event["type"].endswith("StateEntered"))


def localstack_setting(name: str) -> str:
    """A setting from tools/localstack/localstack.env, which both LocalStack set-ups use."""
    for line in LOCALSTACK_ENV.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name and not line.lstrip().startswith("#"):
            return value.strip()
    raise KeyError(f"{name} is not set in {LOCALSTACK_ENV}")


def localstack_status(resource: str) -> dict[str, Any]:
    """GET /_localstack/<resource> (health, info); raises OSError if LocalStack is not there."""
    url = f"{ENDPOINT}/_localstack/{resource}"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - an http(s) URL
        return dict(json.load(response))


def chaos(method: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The extension's RDS fault mode (localstack_offline/chaos.py): POST starts a fault session
    with ``settings``, DELETE stops the faults, GET reads counters, audit and fault log."""
    body = None if settings is None else json.dumps(settings).encode()
    url = f"{ENDPOINT}/_rsm/chaos"
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - http(s)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - an http(s) URL
        return dict(json.load(response))


def localstack_session_id() -> str:
    """Changes whenever LocalStack restarts (and forgets every resource it held)."""
    return str(localstack_status("info")["session_id"])


def seconds_since(moment: datetime) -> float:
    return time.time() - moment.timestamp()
