"""The rollout of docs/ROLLOUT.md, for real: the root, an S3 backend, one workspace per account.

The repository root is applied twice from one copy (tools/localstack/rollout.py): workspace `dev`
with envs/dev.tfvars and workspace `prod` with envs/prod.tfvars, their states in one S3 bucket
(workspace_key_prefix) in LocalStack's account 000000000000, the central deployment account. Each
tfvars assumes its deployer role in its own account (LocalStack keeps one account per 12-digit
access key id, and AssumeRole answers with credentials of the role's account). Then the mistakes
the guards exist for are made, and each must be refused before anything changes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.localstack.harness import (
    DEFAULT_ACCESS_KEY_ID,
    REPO,
    Databases,
    Deployment,
    TerraformError,
    client,
    delete_managed_snapshots,
    managed_snapshots,
    run_state_machine,
    unique_name,
)
from tools.localstack.rollout import FLAGS, RootRollout, tfvars_value

pytestmark = pytest.mark.integration

WORKSPACES = ("dev", "prod")
CENTRAL_ACCOUNT = "000000000000"  # LocalStack's account of the access key "test"
DEV = "111111111111"  # any other account


def arns(value: Any) -> list[str]:
    """Every ARN in a (nested) Terraform output or state value."""
    if isinstance(value, dict):
        return [arn for item in value.values() for arn in arns(item)]
    if isinstance(value, list):
        return [arn for item in value for arn in arns(item)]
    return [value] if isinstance(value, str) and value.startswith("arn:") else []


def one_line(error: BaseException) -> str:
    """Terraform wraps its messages at 80 columns; compare them with single spaces."""
    return " ".join(str(error).split())


def show(request: pytest.FixtureRequest, line: str) -> None:
    """Print a figure in pytest's output, past output capturing."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{line}", flush=True)


@pytest.fixture(scope="module")
def rollout(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[RootRollout, dict[str, dict[str, Any]]]]:
    region = str(tfvars_value(REPO / "envs" / "dev.tfvars", "aws_region"))
    envs = RootRollout(tmp_path_factory.mktemp("rollout"), unique_name("rsm-tfstate"), region)
    assert set(WORKSPACES) <= set(envs.environments), "envs/dev.tfvars and envs/prod.tfvars"
    started = time.monotonic()
    envs.create()
    outputs: dict[str, dict[str, Any]] = {}
    attempted: list[str] = []
    try:
        for workspace in WORKSPACES:
            attempted.append(workspace)
            applied = time.monotonic()
            outputs[workspace] = envs.apply(workspace)
            show(
                request,
                f"rollout: workspace {workspace} applied into account "
                f"{envs.account_of(workspace)} in {time.monotonic() - applied:.1f} s",
            )
        show(
            request,
            f"rollout: {len(outputs)} workspaces in {len(outputs)} accounts, states in account "
            f"{CENTRAL_ACCOUNT}: {time.monotonic() - started:.1f} s in all (bucket, init, applies)",
        )
        yield envs, outputs
    finally:
        for workspace in attempted:
            envs.destroy(workspace)
        envs.delete_bucket()


def inventory(envs: RootRollout) -> dict[str, Any]:
    """What the deployments consist of, per account: state machines with tags, tables, topics."""
    found: dict[str, Any] = {}
    accounts = {CENTRAL_ACCOUNT: envs.central}
    accounts.update({envs.account_of(name): envs.account(name) for name in WORKSPACES})
    for account_id, account in accounts.items():
        sfn = account.client("stepfunctions")
        machines = {
            machine["stateMachineArn"]: sfn.list_tags_for_resource(
                resourceArn=machine["stateMachineArn"]
            )["tags"]
            for machine in sfn.list_state_machines()["stateMachines"]
        }
        found[account_id] = {
            "state_machines": machines,
            "tables": account.client("dynamodb").list_tables()["TableNames"],
            "topics": sorted(
                topic["TopicArn"] for topic in account.client("sns").list_topics()["Topics"]
            ),
        }
    return found


def states(envs: RootRollout) -> dict[str, str]:
    """The bucket's objects (state files, and lock files while held) by key, with their ETag."""
    listing = envs.central.client("s3").list_objects_v2(Bucket=envs.bucket)
    return {item["Key"]: item["ETag"] for item in listing.get("Contents", [])}


def test_each_account_holds_only_its_own_deployment(
    rollout: tuple[RootRollout, dict[str, dict[str, Any]]],
) -> None:
    envs, outputs = rollout
    found = inventory(envs)

    for workspace in WORKSPACES:
        account = envs.account_of(workspace)
        deployed = outputs[workspace]
        assert all(f":{account}:" in arn for arn in arns(deployed)), deployed
        machines = found[account]["state_machines"]
        assert list(machines) == [deployed["state_machine_arn"]]
        tags = machines[deployed["state_machine_arn"]]
        assert {"key": "Environment", "value": workspace} in tags
        assert {"key": "Workspace", "value": workspace} in tags
        assert found[account]["tables"] == [deployed["dynamodb_table_name"]]
        assert found[account]["topics"] == sorted(
            [deployed["report_topic_arn"], deployed["failure_topic_arn"]]
        )
    # The central account holds the state, not a deployment.
    central = found[CENTRAL_ACCOUNT]
    assert not central["state_machines"]
    assert not central["tables"]
    assert not central["topics"]


def test_each_workspace_has_its_own_state_key(
    rollout: tuple[RootRollout, dict[str, dict[str, Any]]],
) -> None:
    envs, _ = rollout
    s3 = envs.central.client("s3")

    assert set(states(envs)) == {envs.state_key(workspace) for workspace in WORKSPACES}
    lineages = set()
    for workspace in WORKSPACES:
        body = s3.get_object(Bucket=envs.bucket, Key=envs.state_key(workspace))["Body"]
        state = json.loads(body.read())
        lineages.add(state["lineage"])
        assert state["outputs"]["environment"]["value"] == workspace
        resource_arns = arns([resource["instances"] for resource in state["resources"]])
        assert resource_arns
        assert all(f":{envs.account_of(workspace)}:" in arn for arn in resource_arns)
    assert len(lineages) == len(WORKSPACES)


def selection_tags(tfvars: Path) -> dict[str, str]:
    """The one-line ``selection_tags = { key = "value", ... }`` of a committed tfvars file."""
    line = re.search(r"^selection_tags\s*=\s*\{(.*)\}$", tfvars.read_text(), re.MULTILINE)
    assert line, f"{tfvars} selects no databases by tag"
    return dict(re.findall(r'([\w-]+)\s*=\s*"([^"]*)"', line.group(1)))


def test_a_run_in_the_dev_account_snapshots_that_accounts_databases_only(
    rollout: tuple[RootRollout, dict[str, dict[str, Any]]],
) -> None:
    """The same tagged database in all three accounts: only the dev account's is snapshotted."""
    envs, outputs = rollout
    tags = selection_tags(envs.environments["dev"])
    dev = envs.account("dev")
    fleets = [Databases(account=account) for account in (envs.central, dev, envs.account("prod"))]
    name = outputs["dev"]["state_machine_name"]  # the module names its state machine `name`
    database = unique_name("it-tagged")
    try:
        for fleet in fleets:
            fleet.add_instance(database, tags)
        execution = run_state_machine(outputs["dev"]["state_machine_arn"], account=dev)
        snapshots = {fleet.account: managed_snapshots(name, fleet.account) for fleet in fleets}
    finally:
        delete_managed_snapshots(name, dev)
        for fleet in fleets:
            fleet.delete()

    assert execution["status"] == "SUCCEEDED", execution
    assert [snapshot["DBInstanceIdentifier"] for snapshot in snapshots[dev].values()] == [database]
    assert not snapshots[envs.central]
    assert not snapshots[envs.account("prod")]


def test_prod_settings_in_the_dev_workspace_are_refused_before_any_change(
    rollout: tuple[RootRollout, dict[str, dict[str, Any]]],
) -> None:
    envs, _ = rollout
    before = (states(envs), inventory(envs))

    with pytest.raises(TerraformError) as refused:
        envs.apply("dev", tfvars="prod")

    assert (
        'These settings are for environment "prod", but the selected workspace is "dev".'
        in one_line(refused.value)
    )
    assert (states(envs), inventory(envs)) == before


def dev_role(envs: RootRollout) -> dict[str, Any]:
    """prod.tfvars with the dev deployer role: the prod workspace would deploy into dev."""
    return {"assume_role_arn": tfvars_value(envs.environments["dev"], "assume_role_arn")}


@pytest.mark.parametrize(
    ("credentials", "variables"),
    [
        pytest.param("dev", lambda envs: {"assume_role_arn": None}, id="dev-credentials-no-role"),
        pytest.param("central", dev_role, id="central-credentials-dev-role"),
    ],
)
def test_another_accounts_credentials_are_refused_before_any_change(
    rollout: tuple[RootRollout, dict[str, dict[str, Any]]],
    credentials: str,
    variables: Any,
) -> None:
    envs, _ = rollout
    access_key_id = envs.account_of("dev") if credentials == "dev" else DEFAULT_ACCESS_KEY_ID
    mistake = envs.write_variables("mistake", variables(envs))
    before = (states(envs), inventory(envs))

    with pytest.raises(TerraformError) as refused:
        envs.apply("prod", extra_var_files=(mistake,), access_key_id=access_key_id)

    # The provider's allowed_account_ids (envs/prod.tfvars) refuses to configure itself.
    assert re.search(
        rf"account id not allowed: {envs.account_of('dev')}", one_line(refused.value), re.I
    )
    assert (states(envs), inventory(envs)) == before


def test_a_held_state_lock_stops_another_apply(
    rollout: tuple[RootRollout, dict[str, dict[str, Any]]],
) -> None:
    envs, _ = rollout
    lock_key = f"{envs.state_key('prod')}.tflock"
    s3 = envs.central.client("s3")
    holder = {"ID": "held-by-test", "Operation": "OperationTypeApply", "Who": "someone@elsewhere"}
    s3.put_object(Bucket=envs.bucket, Key=lock_key, Body=json.dumps(holder).encode())
    try:
        envs.terraform("workspace", "select", "prod")
        with pytest.raises(TerraformError) as refused:
            envs.terraform("plan", *FLAGS, "-lock-timeout=0s", *envs.var_files("prod"))
    finally:
        s3.delete_object(Bucket=envs.bucket, Key=lock_key)

    message = one_line(refused.value)
    assert "Error acquiring the state lock" in message
    assert "someone@elsewhere" in message


def test_the_module_guard_refuses_credentials_for_another_account(
    terraform_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """examples/localstack passes allowed_account_ids to the module; its provider has none."""
    name = unique_name("it-guard")
    other = Deployment(
        name, tmp_path_factory.mktemp(name), terraform_data_dir, {"allowed_account_ids": [DEV]}
    )
    ours = Deployment(
        name,
        tmp_path_factory.mktemp(name),
        terraform_data_dir,
        {"allowed_account_ids": [CENTRAL_ACCOUNT]},
    )

    with pytest.raises(TerraformError) as refused:
        other.apply()
    ours.write_variables()
    plan = ours.plan_changes()

    assert (
        f"may only be applied to AWS account {DEV} (allowed_account_ids), but the "
        f"credentials in use are for account {CENTRAL_ACCOUNT}." in one_line(refused.value)
    )
    machines = client("stepfunctions").list_state_machines()["stateMachines"]
    assert name not in {machine["name"] for machine in machines}
    assert "terraform_data.account_guard[0] will be created" in plan
