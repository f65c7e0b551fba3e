"""Disaster recovery end to end (issue 10): the deployed state machine copies each new snapshot to a
second region, shares it (and the copy) with another account, prunes the copies in their region by
that region's own retention, and reports both; every AWS call it made is allowed by the deployed
policies (the IAM proof's dynamic layer, tests/integration/test_iam_requests.py).

One deployment of examples/localstack: a plain instance (shared as it is) and an instance encrypted
with the AWS managed key aws/rds (not shareable: a copy re-encrypted with share_kms_key_arn is
shared instead, D8), both copied to COPY_REGION with a customer-managed key of that region.
LocalStack serves both regions on one endpoint (tools/localstack_ext: snapshot_copies.py).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_iam_requests import account, deployed_policies, role_policies
from tools.iam.proof import TALLY, check_case, note
from tools.iam.requests import (
    EXPECTED,
    FORBIDDEN,
    Call,
    decide,
    deployment_from_outputs,
)
from tools.localstack.harness import (
    COPY_REGION,
    REGION,
    Account,
    Databases,
    Deployment,
    client,
    delete_managed_snapshots,
    managed_snapshots,
    unique_name,
)

pytestmark = pytest.mark.integration

SHARED_WITH = "111111111111"
COPY_RETENTION_DAYS = 0.0003  # 25.9 s in COPY_REGION; the home rule keeps 7 days
AWAY = Account(region=COPY_REGION)
REQUEST_LOG = Path(os.environ.get("LAMBDA_REQUEST_LOG") or "/nonexistent")


@dataclass
class DisasterRecovery:
    applied: Deployment
    variables: dict[str, Any]
    plain: str
    encrypted: str
    first: dict[str, Any]  # the first run's report
    first_execution: dict[str, Any]


def _schedule_deletion(account: Account, key: dict[str, Any]) -> None:
    account.client("kms").schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)


@pytest.fixture(scope="module")
def dr(
    deploy: Callable[[str, dict[str, Any]], Deployment], databases: Databases
) -> Iterator[DisasterRecovery]:
    name = unique_name("it-dr")
    plain = databases.add_instance(f"{name}-pg")
    encrypted = databases.add_instance(f"{name}-enc", encrypted=True)
    away_key = AWAY.client("kms").create_key(Description=f"{name} copies")["KeyMetadata"]
    share_key = client("kms").create_key(Description=f"{name} shares")["KeyMetadata"]
    variables = {
        "db_instance_identifiers": [plain, encrypted],
        "copy_to_regions": [
            {
                "region": COPY_REGION,
                "kms_key_arn": away_key["Arn"],
                "retention_days": COPY_RETENTION_DAYS,
                "share": True,
            }
        ],
        "share_with_account_ids": [SHARED_WITH],
        "share_kms_key_arn": share_key["Arn"],
        "min_snapshots_to_keep": 0,
    }
    applied = deploy(name, variables)
    execution, report = applied.run()
    yield DisasterRecovery(applied, variables, plain, encrypted, report, execution)
    delete_managed_snapshots(name, AWAY)
    _schedule_deletion(AWAY, away_key)
    _schedule_deletion(Account(), share_key)


def restore_accounts(account: Account, snapshot_id: str) -> list[str]:
    found = account.client("rds").describe_db_snapshot_attributes(DBSnapshotIdentifier=snapshot_id)
    attributes = found["DBSnapshotAttributesResult"]["DBSnapshotAttributes"]
    return [v for a in attributes if a["AttributeName"] == "restore" for v in a["AttributeValues"]]


def tag_map(snapshot: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in snapshot.get("TagList", [])}


def test_the_first_run_succeeds_and_reports_the_copies_and_shares(dr: DisasterRecovery) -> None:
    report = dr.first
    created = {item["source_id"]: item["snapshot_id"] for item in report["created"]}

    assert dr.first_execution["status"] == "SUCCEEDED"
    assert set(created) == {dr.plain, dr.encrypted}
    copied = {(c["source_id"], c["region"]): c for c in report["copied"]}
    assert set(copied) == {(dr.plain, COPY_REGION), (dr.encrypted, COPY_REGION)}
    assert all(c["status"] == "available" for c in copied.values()), copied
    assert all(copied[(s, COPY_REGION)]["snapshot_id"] == created[s] for s in created)
    shared = {(s["source_id"], s["region"]): s for s in report["shared"]}
    assert set(shared) == {
        (source, region) for source in created for region in (REGION, COPY_REGION)
    }
    assert all(
        s["status"] == "shared" and s["account_ids"] == [SHARED_WITH] for s in shared.values()
    )
    assert report["status"] == "OK", report


def test_each_copy_is_in_the_second_region_tagged_as_our_copy_with_its_key(
    dr: DisasterRecovery,
) -> None:
    home, away = managed_snapshots(dr.applied.name), managed_snapshots(dr.applied.name, AWAY)
    key = dr.variables["copy_to_regions"][0]["kms_key_arn"]

    for item in dr.first["created"]:
        copy = away[item["snapshot_id"]]
        tags = tag_map(copy)
        assert tags["ManagedBy"] == dr.applied.name
        assert tags["CopySourceRegion"] == REGION
        assert tags["SourceId"] == item["source_id"]
        assert copy["Status"] == "available"
        if item["source_id"] == dr.encrypted:  # re-encrypted with the destination's key
            assert copy["KmsKeyId"] == key
        assert "CopySourceRegion" not in tag_map(home[item["snapshot_id"]])


def test_shares_list_exactly_the_account_and_the_default_key_snapshot_is_shared_via_its_copy(
    dr: DisasterRecovery,
) -> None:
    created = {item["source_id"]: item["snapshot_id"] for item in dr.first["created"]}
    shared = {(s["source_id"], s["region"]): s for s in dr.first["shared"]}
    via_copy = shared[(dr.encrypted, REGION)]
    home = managed_snapshots(dr.applied.name)

    assert restore_accounts(Account(), created[dr.plain]) == [SHARED_WITH]
    assert "via_copy_of" not in shared[(dr.plain, REGION)]
    assert via_copy["via_copy_of"] == created[dr.encrypted]
    assert via_copy["snapshot_id"] != created[dr.encrypted]
    assert restore_accounts(Account(), via_copy["snapshot_id"]) == [SHARED_WITH]
    assert restore_accounts(Account(), created[dr.encrypted]) == []  # aws/rds: never shared
    assert tag_map(home[via_copy["snapshot_id"]])["ShareCopyOf"] == created[dr.encrypted]
    assert home[via_copy["snapshot_id"]]["KmsKeyId"] == dr.variables["share_kms_key_arn"]
    for snapshot_id in created.values():
        assert restore_accounts(AWAY, snapshot_id) == [SHARED_WITH]


def test_copies_are_pruned_in_their_region_by_its_own_retention_and_originals_stay(
    dr: DisasterRecovery,
) -> None:
    created = [item["snapshot_id"] for item in dr.first["created"]]
    assert set(created) <= set(managed_snapshots(dr.applied.name, AWAY))
    time.sleep(COPY_RETENTION_DAYS * 86400 + 2)

    execution, report = dr.applied.run()

    assert execution["status"] == "SUCCEEDED"
    assert report["created"] == []  # within the 24 h interval: nothing new, nothing to copy
    away = managed_snapshots(dr.applied.name, AWAY)
    assert not set(created) & set(away), "the copies past the copy retention must be deleted"
    assert set(created) <= set(managed_snapshots(dr.applied.name)), "the home rule keeps 7 days"
    assert report["status"] == "OK", report


def created_tags(records: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, str]]:
    """The tags each snapshot and copy got when it was made, by (region, identifier): a copy has
    its original's identifier in another region."""
    tags: dict[tuple[str, str], dict[str, str]] = {}
    for record in records:
        params, operation = record["params"], record["operation"]
        made = (
            params.get("DBSnapshotIdentifier")
            or params.get("DBClusterSnapshotIdentifier")
            or params.get("TargetDBSnapshotIdentifier")
            or params.get("TargetDBClusterSnapshotIdentifier")
        )
        if operation.startswith(("Create", "Copy")) and made:
            tags[(record["region"], made)] = {t["Key"]: t["Value"] for t in params.get("Tags", [])}
    return tags


def as_call(record: dict[str, Any], tags: dict[tuple[str, str], dict[str, str]]) -> Call:
    """A recorded call with the tags of the snapshot it acts on: a copy's source, or the
    snapshot a delete or a share names."""
    params, region = record["params"], record["region"]
    source = params.get("SourceDBSnapshotIdentifier") or params.get(
        "SourceDBClusterSnapshotIdentifier"
    )
    named = params.get("DBSnapshotIdentifier") or params.get("DBClusterSnapshotIdentifier")
    resource_tags: dict[str, str] = {}
    if source:
        source_region = source.split(":")[3] if source.startswith("arn:") else region
        resource_tags = tags.get((source_region, source.rsplit(":", 1)[-1]), {})
    elif named and record["operation"].startswith(("Delete", "Modify", "DescribeDBSnapshotAttr")):
        resource_tags = tags.get((region, named), {})
    return Call(record["service"], record["operation"], params, region, resource_tags)


def facts_of(dr: DisasterRecovery) -> Any:
    """The IAM proof's facts about the deployment (tools/iam/requests.py: Deployment)."""
    return deployment_from_outputs(
        dr.applied.outputs,
        {**dr.variables, "name": dr.applied.name},
        partition="aws",
        region=REGION,
        account=account(),
    )


def test_every_call_of_the_runs_is_allowed_by_the_deployed_policies(dr: DisasterRecovery) -> None:
    if not REQUEST_LOG.exists():
        pytest.skip(f"LocalStack runs without LAMBDA_REQUEST_LOG ({REQUEST_LOG}): not checked")
    records = [json.loads(line) for line in REQUEST_LOG.read_text().splitlines() if line.strip()]
    own = [r for r in records if r["function"].startswith(f"{dr.applied.name}-")]
    facts = facts_of(dr)
    tags = created_tags(records)
    denied, made = [], set()
    for record in own:
        outcome = decide(deployed_policies(record["function"]), facts, as_call(record, tags))
        role = record["function"].removeprefix(f"{dr.applied.name}-")
        operation = f"{record['service']}:{record['operation']}@{record['region']}"
        note("recorded", "deployed", role, operation, outcome)
        made.add(operation)
        if outcome.allowed:
            TALLY["recorded allowed"] += 1
        else:
            denied.append(f"{record['function']} {operation}: {outcome.describe()}")

    assert denied == []
    # Not vacuous: the disaster-recovery calls were made, in the regions they belong to.
    assert {
        f"rds:CopyDBSnapshot@{COPY_REGION}",
        f"rds:CopyDBSnapshot@{REGION}",  # the re-encrypted shareable copy
        f"rds:ModifyDBSnapshotAttribute@{REGION}",
        f"rds:ModifyDBSnapshotAttribute@{COPY_REGION}",
        f"rds:DeleteDBSnapshot@{COPY_REGION}",
    } <= made


def test_required_and_forbidden_requests_against_the_deployed_dr_policies(
    dr: DisasterRecovery,
) -> None:
    """The IAM proof's cases (copy, share, un-share, KMS grants; never share or copy what is not
    ours, never public) against the policies this disaster-recovery deployment really has."""
    facts = facts_of(dr)
    roles = {key: f"{dr.applied.name}-{key}" for key in dr.applied.outputs["lambda_function_arns"]}
    decided = 0
    for case in (*EXPECTED, *FORBIDDEN):
        if case.applies(facts) and case.role in roles:
            gap = check_case(case, facts, role_policies(roles[case.role]), "deployed DR")
            assert gap is None, f"{case.role}: {case.description} ({case.gap})"
            decided += 1
    assert decided > 0
