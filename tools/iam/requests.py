"""AWS API calls -> the IAM authorisation checks AWS makes for them, and the tables of calls each
role must be able to make (expected allowed) and must never make (expected denied).

``authorizations`` maps one call (service, operation, parameters) to every (action, resource,
context) IAM evaluates for it, per the Service Authorization Reference (SAR,
https://docs.aws.amazon.com/service-authorization/latest/reference/): e.g. ``CreateDBSnapshot``
with ``Tags`` needs ``rds:CreateDBSnapshot`` on the db AND on the new snapshot, and
``rds:AddTagsToResource`` on the snapshot, each with the ``aws:RequestTag/*`` / ``aws:TagKeys`` of
the call. RDS identifiers are lowercase in ARNs (RDS stores them so). An operation missing from the
table raises ``UnmappedOperationError``: a new call is never waved through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rds_snapshot_manager.domain.naming import ownership_prefix
from tools.iam.evaluator import Decision, Request, evaluate

# The tag the module's conditions are about (CONTRACT.md: snapshots carry ManagedBy = name).
MANAGED_BY = "ManagedBy"


class UnmappedOperationError(KeyError):
    """An AWS operation the table below does not know: add it (with its SAR entry)."""


@dataclass(frozen=True)
class Deployment:
    """The facts about one deployment that requests and policies are built from."""

    name: str
    partition: str
    region: str
    account: str
    table_name: str
    report_topic_arn: str
    failure_topic_arn: str
    state_machine_arn: str
    function_arns: Mapping[str, str]
    instances: Sequence[str] = ()
    clusters: Sequence[str] = ()
    selects_dynamically: bool = False
    delete_old_snapshots: bool = True
    kms_key_arn: str | None = None
    targets_s3_object: Mapping[str, str] | None = None
    restore_test: bool = False  # module input restore_test set (issue 11, restore tests)
    restore_subnet_group: str | None = None  # its db_subnet_group_name
    # Disaster recovery (issue 10): copy_to_regions entries as the module takes them.
    copy_to_regions: Sequence[Mapping[str, Any]] = ()
    share_with_account_ids: Sequence[str] = ()
    share_kms_key_arn: str | None = None
    # The module implements the issue-9 IAM design (D1 prefix, D3 ledger actions, lowercase ARNs):
    # detected by its output snapshot_identifier_prefix.
    issue9_iam: bool = False

    @property
    def prefix(self) -> str:
        """D1: the engine's own ownership prefix (lambda_src domain/naming.py)."""
        return ownership_prefix(self.name)

    @property
    def copy_regions(self) -> list[str]:
        return [str(copy["region"]) for copy in self.copy_to_regions]

    @property
    def share_regions(self) -> list[str]:
        return [str(copy["region"]) for copy in self.copy_to_regions if copy.get("share")]

    def copy_key(self, region: str) -> str | None:
        keys = [c.get("kms_key_arn") for c in self.copy_to_regions if c["region"] == region]
        return str(keys[0]) if keys and keys[0] else None

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{region or self.region}:{self.account}:{resource}"

    def rds(self, kind: str, identifier: str, region: str | None = None) -> str:
        return self.arn("rds", f"{kind}:{identifier.lower()}", region)

    def snapshot_id(self, source: str, stamp: str = "202611250100") -> str:
        return f"{self.prefix}{source.lower()}-{stamp}-0123abcd"


def deployment_from_outputs(
    outputs: Mapping[str, Any],
    variables: Mapping[str, Any],
    *,
    partition: str,
    region: str,
    account: str,
) -> Deployment:
    """A deployment's facts from the module's outputs and the inputs it was applied with."""
    return Deployment(
        name=str(variables["name"]),
        partition=partition,
        region=region,
        account=account,
        table_name=str(outputs["dynamodb_table_name"]),
        report_topic_arn=str(outputs["report_topic_arn"]),
        failure_topic_arn=str(outputs["failure_topic_arn"]),
        state_machine_arn=str(outputs["state_machine_arn"]),
        function_arns=dict(outputs["lambda_function_arns"]),
        instances=tuple(variables.get("db_instance_identifiers", ())),
        clusters=tuple(variables.get("db_cluster_identifiers", ())),
        selects_dynamically=bool(variables.get("selection_tags"))
        or variables.get("targets_s3_object") is not None,
        delete_old_snapshots=bool(variables.get("delete_old_snapshots", True)),
        kms_key_arn=variables.get("kms_key_arn"),
        targets_s3_object=variables.get("targets_s3_object"),
        restore_test=variables.get("restore_test") is not None,
        restore_subnet_group=(variables.get("restore_test") or {}).get("db_subnet_group_name"),
        copy_to_regions=tuple(variables.get("copy_to_regions") or ()),
        share_with_account_ids=tuple(variables.get("share_with_account_ids") or ()),
        share_kms_key_arn=variables.get("share_kms_key_arn"),
        issue9_iam="snapshot_identifier_prefix" in outputs,
    )


@dataclass(frozen=True)
class Call:
    """One AWS API call as a function makes it, with the tags its target resource already has."""

    service: str
    operation: str
    params: Mapping[str, Any]
    region: str | None = None
    resource_tags: Mapping[str, str] = field(default_factory=dict)


def _tag_context(tags: Iterable[Mapping[str, str]] | None) -> dict[str, Any]:
    tag_list = list(tags or [])
    if not tag_list:
        return {}
    context: dict[str, Any] = {f"aws:RequestTag/{t['Key']}": t["Value"] for t in tag_list}
    context["aws:TagKeys"] = [t["Key"] for t in tag_list]
    return context


def _resource_tag_context(tags: Mapping[str, str]) -> dict[str, Any]:
    return {f"aws:ResourceTag/{key}": value for key, value in tags.items()}


def _rds_arn(deployment: Deployment, kind: str, identifier: str, region: str | None) -> str:
    return identifier if identifier.startswith("arn:") else deployment.rds(kind, identifier, region)


# Calls that make a snapshot: (source kind, source parameter, snapshot kind, snapshot parameter).
_NEW_SNAPSHOT = {
    "CreateDBSnapshot": ("db", "DBInstanceIdentifier", "snapshot", "DBSnapshotIdentifier"),
    "CreateDBClusterSnapshot": (
        "cluster",
        "DBClusterIdentifier",
        "cluster-snapshot",
        "DBClusterSnapshotIdentifier",
    ),
    "CopyDBSnapshot": (
        "snapshot",
        "SourceDBSnapshotIdentifier",
        "snapshot",
        "TargetDBSnapshotIdentifier",
    ),
    "CopyDBClusterSnapshot": (
        "cluster-snapshot",
        "SourceDBClusterSnapshotIdentifier",
        "cluster-snapshot",
        "TargetDBClusterSnapshotIdentifier",
    ),
}
# Calls on one named snapshot: (kind, parameter).
_ON_SNAPSHOT = {
    "DeleteDBSnapshot": ("snapshot", "DBSnapshotIdentifier"),
    "DeleteDBClusterSnapshot": ("cluster-snapshot", "DBClusterSnapshotIdentifier"),
    "ModifyDBSnapshotAttribute": ("snapshot", "DBSnapshotIdentifier"),
    "ModifyDBClusterSnapshotAttribute": ("cluster-snapshot", "DBClusterSnapshotIdentifier"),
    "DescribeDBSnapshotAttributes": ("snapshot", "DBSnapshotIdentifier"),
    "DescribeDBClusterSnapshotAttributes": ("cluster-snapshot", "DBClusterSnapshotIdentifier"),
}
# Calls that make a database from a snapshot, per the SAR's required resource types: (new kind, its
# parameter, snapshot kind, snapshot parameter, the option/parameter groups the restore uses: the
# snapshot's defaults here). The subnet group is the DBSubnetGroupName, else the default VPC's.
_RESTORE = {
    "RestoreDBInstanceFromDBSnapshot": (
        "db", "DBInstanceIdentifier", "snapshot", "DBSnapshotIdentifier",
        ("og:default:postgres-16", "pg:default.postgres16"),
    ),
    "RestoreDBClusterFromSnapshot": (
        "cluster", "DBClusterIdentifier", "cluster-snapshot", "SnapshotIdentifier",
        ("og:default:aurora-postgresql-16", "cluster-pg:default.aurora-postgresql16"),
    ),
}  # fmt: skip
# Calls that delete a database: (kind, parameter).
_DELETE_DATABASE = {
    "DeleteDBInstance": ("db", "DBInstanceIdentifier"),
    "DeleteDBCluster": ("cluster", "DBClusterIdentifier"),
}
# Describe calls: the named resource, else every resource of the first kind (``...:db:*``).
_DESCRIBE = {
    "DescribeDBInstances": (("db", "DBInstanceIdentifier"),),
    "DescribeDBClusters": (("cluster", "DBClusterIdentifier"),),
    "DescribeDBSnapshots": (("snapshot", "DBSnapshotIdentifier"), ("db", "DBInstanceIdentifier")),
    "DescribeDBClusterSnapshots": (
        ("cluster-snapshot", "DBClusterSnapshotIdentifier"),
        ("cluster", "DBClusterIdentifier"),
    ),
}


def _database_checks(
    deployment: Deployment,
    call: Call,
    requested: Mapping[str, Any],
    existing: Mapping[str, Any],
) -> list[Request]:
    """Restore tests' calls on databases: restore (every SAR-required resource type), add a
    cluster's writer, delete."""
    p, op, region = call.params, call.operation, call.region
    action = f"rds:{op}"

    def arn(kind: str, identifier: str) -> str:
        return _rds_arn(deployment, kind, identifier, region)

    checks: list[Request]
    if op in _RESTORE:
        kind, key, snapshot_kind, snapshot_key, groups = _RESTORE[op]
        database = arn(kind, p[key])
        subnet_group = arn("subgrp", p.get("DBSubnetGroupName") or "default")
        checks = [Request(action, database, requested)]
        checks += [Request(action, arn(snapshot_kind, p[snapshot_key]), requested)]
        checks += [
            Request(action, deployment.arn("rds", group, region), requested) for group in groups
        ]
        checks.append(Request(action, subnet_group, requested))
        if requested:  # SAR: tagging on create also needs rds:AddTagsToResource
            checks.append(Request("rds:AddTagsToResource", database, requested))
    elif op == "CreateDBInstance":  # the writer of a restored cluster
        database = arn("db", p["DBInstanceIdentifier"])
        checks = [Request(action, database, requested)]
        if p.get("DBClusterIdentifier"):
            checks.append(Request(action, arn("cluster", p["DBClusterIdentifier"]), requested))
        if requested:
            checks.append(Request("rds:AddTagsToResource", database, requested))
    else:  # _DELETE_DATABASE
        kind, key = _DELETE_DATABASE[op]
        checks = [Request(action, arn(kind, p[key]), existing)]
    return checks


def _rds(deployment: Deployment, call: Call) -> list[Request]:
    p, op, region = call.params, call.operation, call.region
    action = f"rds:{op}"
    requested = _tag_context(p.get("Tags"))
    existing = _resource_tag_context(call.resource_tags)

    def arn(kind: str, identifier: str) -> str:
        return _rds_arn(deployment, kind, identifier, region)

    checks: list[Request]
    if op in _NEW_SNAPSHOT:
        source_kind, source_key, kind, key = _NEW_SNAPSHOT[op]
        snapshot = arn(kind, p[key])
        # A copy's source is an existing snapshot: its tags (Call.resource_tags) are in the context.
        source_context = {**requested, **existing} if op.startswith("Copy") else requested
        checks = [Request(action, arn(source_kind, p[source_key]), source_context)]
        checks.append(Request(action, snapshot, requested))
        if requested:  # SAR: tagging on create or copy also needs rds:AddTagsToResource
            checks.append(Request("rds:AddTagsToResource", snapshot, requested))
        if p.get("KmsKeyId"):
            # RDS encrypts with the key on the caller's behalf: it creates a grant for itself and
            # describes the key with the caller's permissions (RDS user guide, "AWS KMS key
            # management": a user needs kms:CreateGrant and kms:DescribeKey on the key).
            key_arn = _kms_key_arn(deployment, str(p["KmsKeyId"]), region)
            checks.append(Request("kms:CreateGrant", key_arn, {"kms:GrantIsForAWSResource": True}))
            checks.append(Request("kms:DescribeKey", key_arn))
    elif op in (*_RESTORE, "CreateDBInstance", *_DELETE_DATABASE):
        checks = _database_checks(deployment, call, requested, existing)
    elif op in _ON_SNAPSHOT:
        kind, key = _ON_SNAPSHOT[op]
        checks = [Request(action, arn(kind, p[key]), existing)]
    elif op in ("AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource"):
        context = {**existing, **requested}
        if op == "RemoveTagsFromResource":
            context["aws:TagKeys"] = list(p.get("TagKeys", []))
        checks = [Request(action, p["ResourceName"], context)]
    elif op in _DESCRIBE:
        named = [arn(kind, p[key]) for kind, key in _DESCRIBE[op] if p.get(key)]
        listing = deployment.arn("rds", f"{_DESCRIBE[op][0][0]}:*", region)
        checks = [Request(action, (named or [listing])[0])]
    elif op == "DescribeAccountAttributes":  # SAR: no resource types
        checks = [Request(action, "*")]
    else:
        raise UnmappedOperationError(f"rds:{op}")
    return checks


def _kms_key_arn(deployment: Deployment, key_id: str, region: str | None) -> str:
    """A key ARN as IAM authorises it; an alias names no key the proof can know."""
    if key_id.startswith("arn:") and ":key/" in key_id:
        return key_id
    if key_id.startswith("alias/") or ":alias/" in key_id:
        raise UnmappedOperationError(f"kms key by alias {key_id!r}: IAM checks the key it names")
    return deployment.arn("kms", f"key/{key_id}", region)


def _kms(deployment: Deployment, call: Call) -> list[Request]:
    key = _kms_key_arn(deployment, str(call.params["KeyId"]), call.region)
    if call.operation == "DescribeKey":
        return [Request("kms:DescribeKey", key)]
    if call.operation == "CreateGrant":  # made by the caller itself, not by a service for it
        return [Request("kms:CreateGrant", key, {"kms:GrantIsForAWSResource": False})]
    raise UnmappedOperationError(f"kms:{call.operation}")


_SHARE_OPERATIONS = ("ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute")


def share_value_violations(deployment: Deployment, call: Call) -> list[str]:
    """What IAM cannot check about a share: the attribute and the accounts it adds.

    The Service Authorization Reference lists no condition key for rds:ModifyDBSnapshotAttribute
    or rds:ModifyDBClusterSnapshotAttribute (only the snapshot resource, with its tags), so no
    policy can refuse "all" or an unlisted account. The engine refuses them (dr-engine unit tests),
    and this check holds every recorded call of the integration runs to the same rule."""
    if call.service != "rds" or call.operation not in _SHARE_OPERATIONS:
        return []
    violations = []
    if call.params.get("AttributeName") != "restore":
        violations.append(f"AttributeName {call.params.get('AttributeName')!r} is not 'restore'")
    added = [str(value) for value in call.params.get("ValuesToAdd") or ()]
    if any(value.lower() == "all" for value in added):
        violations.append("ValuesToAdd makes the snapshot public ('all')")
    unlisted = sorted(
        v for v in added if v.lower() != "all" and v not in deployment.share_with_account_ids
    )
    if unlisted:
        violations.append(f"ValuesToAdd has accounts not in share_with_account_ids: {unlisted}")
    return violations


def _table_arn(deployment: Deployment, table: str, region: str | None) -> str:
    return (
        table if table.startswith("arn:") else deployment.arn("dynamodb", f"table/{table}", region)
    )


def _dynamodb(deployment: Deployment, call: Call) -> list[Request]:
    p, op = call.params, call.operation
    if op in ("BatchWriteItem", "BatchGetItem"):
        return [
            Request(f"dynamodb:{op}", _table_arn(deployment, table, call.region))
            for table in p["RequestItems"]
        ]
    if op == "TransactWriteItems":
        kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
        kinds["ConditionCheck"] = "ConditionCheckItem"
        return [
            Request(
                f"dynamodb:{kinds[kind]}", _table_arn(deployment, body["TableName"], call.region)
            )
            for item in p["TransactItems"]
            for kind, body in item.items()
        ]
    if op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTable"):
        arn = _table_arn(deployment, p["TableName"], call.region)
        if p.get("IndexName"):  # SAR: Query and Scan of an index are authorised on the index ARN
            arn = f"{arn}/index/{p['IndexName']}"
        return [Request(f"dynamodb:{op}", arn)]
    raise UnmappedOperationError(f"dynamodb:{op}")


def _sns(deployment: Deployment, call: Call) -> list[Request]:
    if call.operation != "Publish":
        raise UnmappedOperationError(f"sns:{call.operation}")
    topic = call.params["TopicArn"]
    checks = [Request("sns:Publish", topic)]
    ours = topic in (deployment.report_topic_arn, deployment.failure_topic_arn)
    if ours and deployment.kms_key_arn:
        # SNS server-side encryption: the publisher needs the key (SNS developer guide, SSE).
        checks += [
            Request("kms:GenerateDataKey", deployment.kms_key_arn),
            Request("kms:Decrypt", deployment.kms_key_arn),
        ]
    return checks


def _s3(deployment: Deployment, call: Call) -> list[Request]:
    p, op = call.params, call.operation
    bucket = f"arn:{deployment.partition}:s3:::{p['Bucket']}"
    if op in ("GetObject", "HeadObject"):  # SAR: HeadObject is authorised as s3:GetObject
        return [Request("s3:GetObject", f"{bucket}/{p['Key']}")]
    if op in ("ListObjectsV2", "ListObjects"):
        return [Request("s3:ListBucket", bucket, {"s3:prefix": p.get("Prefix", "")})]
    raise UnmappedOperationError(f"s3:{op}")


def _states(deployment: Deployment, call: Call) -> list[Request]:
    if call.operation != "StartExecution":
        raise UnmappedOperationError(f"states:{call.operation}")
    return [Request("states:StartExecution", call.params["stateMachineArn"])]


def _lambda(deployment: Deployment, call: Call) -> list[Request]:
    if call.operation != "Invoke":
        raise UnmappedOperationError(f"lambda:{call.operation}")
    function = call.params["FunctionName"]
    if not function.startswith("arn:"):
        function = deployment.arn("lambda", f"function:{function}", call.region)
    return [Request("lambda:InvokeFunction", function)]


def _sts(deployment: Deployment, call: Call) -> list[Request]:
    if call.operation != "GetCallerIdentity":
        raise UnmappedOperationError(f"sts:{call.operation}")
    return []  # needs no permission (STS API reference)


def _cloudwatch(deployment: Deployment, call: Call) -> list[Request]:
    if call.operation != "PutMetricData":
        raise UnmappedOperationError(f"cloudwatch:{call.operation}")
    return [
        Request("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": call.params["Namespace"]})
    ]


SERVICES: dict[str, Callable[[Deployment, Call], list[Request]]] = {
    "rds": _rds,
    "dynamodb": _dynamodb,
    "sns": _sns,
    "s3": _s3,
    "stepfunctions": _states,
    "lambda": _lambda,
    "sts": _sts,
    "cloudwatch": _cloudwatch,
    "kms": _kms,
}


def authorizations(deployment: Deployment, call: Call) -> list[Request]:
    mapper = SERVICES.get(call.service)
    if mapper is None:
        raise UnmappedOperationError(f"{call.service}:{call.operation}")
    return mapper(deployment, call)


@dataclass(frozen=True)
class Outcome:
    """The decision on one call: allowed only if every check it needs is allowed."""

    call: Call
    checks: tuple[tuple[Request, Decision], ...]

    @property
    def allowed(self) -> bool:
        return all(decision.allowed for _, decision in self.checks)

    def describe(self) -> str:
        parts = [
            f"{request.action} on {request.resource}: {decision.value}"
            for request, decision in self.checks
        ]
        return "; ".join(parts) or "needs no permission"


def decide(policies: Sequence[Mapping[str, Any]], deployment: Deployment, call: Call) -> Outcome:
    checks = tuple(
        (request, evaluate(policies, request).decision)
        for request in authorizations(deployment, call)
    )
    return Outcome(call, checks)


################################################################################
# What each role must be able to do, and what it must never do
################################################################################


@dataclass(frozen=True)
class Case:
    """A call a role makes; ``allowed`` is the expected decision.

    ``gap`` names the issue-9 gap a case proves: main's module decides it wrongly, the module with
    the issue-9 IAM design must decide it right (Deployment.issue9_iam). ``value_level`` marks a
    forbidden call that only the values of its parameters make forbidden (share_value_violations),
    never IAM."""

    role: str
    description: str
    allowed: bool
    call: Callable[[Deployment], Call]
    applies: Callable[[Deployment], bool] = lambda _: True
    gap: str | None = None
    # Forbidden by value, not by IAM (share_value_violations): IAM has no key to refuse it.
    value_level: bool = False


def _tags(deployment: Deployment, managed_by: str | None = None) -> list[dict[str, str]]:
    return [
        {"Key": MANAGED_BY, "Value": managed_by or deployment.name},
        {"Key": "RunId", "Value": "r1"},
    ]


def _list_file(d: Deployment) -> dict[str, str]:
    target = d.targets_s3_object or {}
    return {"Bucket": target.get("bucket", ""), "Key": target.get("key", "")}


def _instance(d: Deployment) -> str:
    return d.instances[0] if d.instances else "orders-db"


def _create_snapshot(
    d: Deployment,
    tags: list[dict[str, str]] | None,
    snapshot: str | None = None,
    instance: str | None = None,
) -> Call:
    instance = instance or _instance(d)
    params: dict[str, Any] = {
        "DBInstanceIdentifier": instance,
        "DBSnapshotIdentifier": snapshot or d.snapshot_id(instance),
    }
    if tags is not None:
        params["Tags"] = tags
    return Call("rds", "CreateDBSnapshot", params)


def _create_cluster_snapshot(d: Deployment, cluster: str) -> Call:
    return Call(
        "rds",
        "CreateDBClusterSnapshot",
        {
            "DBClusterIdentifier": cluster,
            "DBClusterSnapshotIdentifier": d.snapshot_id(cluster),
            "Tags": _tags(d),
        },
    )


def _add_tags(
    d: Deployment, snapshot_arn: str, resource_tags: Mapping[str, str] | None = None
) -> Call:
    return Call(
        "rds",
        "AddTagsToResource",
        {"ResourceName": snapshot_arn, "Tags": [{"Key": MANAGED_BY, "Value": d.name}]},
        resource_tags=resource_tags or {},
    )


def _delete(
    identifier: Callable[[Deployment], str], tags: Callable[[Deployment], dict[str, str]]
) -> Callable[[Deployment], Call]:
    return lambda d: Call(
        "rds", "DeleteDBSnapshot", {"DBSnapshotIdentifier": identifier(d)}, resource_tags=tags(d)
    )


def _ledger(
    operation: str,
    table: Callable[[Deployment], str] = lambda d: d.table_name,
    index: str | None = None,
) -> Callable[[Deployment], Call]:
    def call(d: Deployment) -> Call:
        if operation in ("BatchWriteItem", "BatchGetItem"):
            return Call("dynamodb", operation, {"RequestItems": {table(d): []}})
        params: dict[str, Any] = {"TableName": table(d)}
        return Call("dynamodb", operation, {**params, "IndexName": index} if index else params)

    return call


def _publish(topic: Callable[[Deployment], str]) -> Callable[[Deployment], Call]:
    return lambda d: Call("sns", "Publish", {"TopicArn": topic(d), "Message": "{}"})


def _deletes(d: Deployment) -> bool:
    """Prune (and its role) exists only with deletion on."""
    return d.delete_old_snapshots


# D3: the ledger actions each function uses, exactly; and what main's module granted before D3.
LEDGER_ACTIONS = {
    "create": ("GetItem", "PutItem", "UpdateItem", "BatchWriteItem", "Query"),
    "check": ("Query", "BatchWriteItem", "UpdateItem"),
    "prune": ("Query", "BatchWriteItem", "UpdateItem"),
    "notify": ("Query", "UpdateItem", "DeleteItem"),
}
LEDGER_ACTIONS_BEFORE_D3 = {
    "create": ("PutItem", "BatchWriteItem"),
    "check": ("Query", "BatchWriteItem"),
    "prune": ("Query", "BatchWriteItem"),
    "notify": ("Query", "UpdateItem"),
}
ITEM_ACTIONS: tuple[str, ...] = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan")
ITEM_ACTIONS += ("BatchWriteItem", "BatchGetItem")


def _ledger_cases() -> tuple[tuple[Case, ...], tuple[Case, ...]]:
    """Each function may use exactly its D3 actions on its own ledger, and no other."""
    expected: list[Case] = []
    forbidden: list[Case] = []
    for role, actions in LEDGER_ACTIONS.items():
        applies = _deletes if role == "prune" else _always
        for action in ITEM_ACTIONS:
            allowed = action in actions
            gap = None if not allowed or action in LEDGER_ACTIONS_BEFORE_D3[role] else D3
            verb = "use" if allowed else "must not use"
            case = Case(
                role, f"{verb} the ledger: {action}", allowed, _ledger(action), applies, gap
            )
            (expected if allowed else forbidden).append(case)
    return tuple(expected), tuple(forbidden)


def _always(d: Deployment) -> bool:
    return True


OTHER = "another-deployment"
# Snapshots this deployment did not make: (what, ARN kind, identifier, tags they carry).
FOREIGN_SNAPSHOTS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("a hand-made snapshot", "snapshot", "nightly-by-hand", {}),
    (
        "another deployment's snapshot",
        "snapshot",
        "rsm-00000000-orders-db-202611250100-0123abcd",
        {MANAGED_BY: OTHER},
    ),
    ("a hand-made cluster snapshot", "cluster-snapshot", "aurora-by-hand", {}),
)


def _add_tags_to(
    kind: str, identifier: str, tags: Mapping[str, str]
) -> Callable[[Deployment], Call]:
    return lambda d: _add_tags(d, d.rds(kind, identifier), tags)


D1 = "issue 9 / D1: create, tag and delete only on this deployment's identifier prefix"
D3 = "issue 9 / D3: the exact ledger actions of each function"
LOWER = "issue 9: identifiers in ARNs in lowercase, as RDS authorises them"
MEMBERS = (
    "issue 9: an instance listed by id that is a cluster member is snapshotted at cluster level"
)
# The cluster of a listed member instance: not in db_cluster_identifiers.
MEMBERS_CLUSTER = "members-aurora"

LEDGER_EXPECTED, LEDGER_FORBIDDEN = _ledger_cases()


################################################################################
# Restore tests (issue 11): restore only our snapshots into temporary databases (prefix + "rt-",
# tagged ManagedBy), and delete only those (ManagedBy and RestoreTestOf on the database)
################################################################################

RESTORE_TAG = "RestoreTestOf"


def _restores(d: Deployment) -> bool:
    return d.restore_test


def _temp_id(d: Deployment, stem: str = "orders-db") -> str:
    return f"{d.prefix}rt-{stem}-0123abcd"


def _temp_tags(d: Deployment, managed_by: str | None = None) -> list[dict[str, str]]:
    return [*_tags(d, managed_by), {"Key": RESTORE_TAG, "Value": d.snapshot_id("orders-db")}]


def _restore_instance(
    d: Deployment,
    target: str | None = None,
    snapshot: str | None = None,
    tags: list[dict[str, str]] | None = None,
    subnet_group: str | None = None,
) -> Call:
    params: dict[str, Any] = {
        "DBInstanceIdentifier": target or _temp_id(d),
        "DBSnapshotIdentifier": snapshot or d.snapshot_id("orders-db"),
        "DBInstanceClass": "db.t3.micro",
        "Tags": _temp_tags(d) if tags is None else tags,
    }
    if subnet_group or d.restore_subnet_group:
        params["DBSubnetGroupName"] = subnet_group or d.restore_subnet_group
    return Call("rds", "RestoreDBInstanceFromDBSnapshot", params)


def _delete_database(
    operation: str,
    identifier: Callable[[Deployment], str],
    tags: Callable[[Deployment], dict[str, str]],
) -> Callable[[Deployment], Call]:
    key = "DBInstanceIdentifier" if operation == "DeleteDBInstance" else "DBClusterIdentifier"
    return lambda d: Call(
        "rds", operation, {key: identifier(d), "SkipFinalSnapshot": True}, resource_tags=tags(d)
    )


def _temp_resource_tags(d: Deployment) -> dict[str, str]:
    return {MANAGED_BY: d.name, RESTORE_TAG: d.snapshot_id("orders-db")}


CLEANERS = ("check", "prune", "notify")


def _role_exists(role: str) -> Callable[[Deployment], bool]:
    """Prune exists with deletion on, or to sweep restore-test leftovers."""
    return lambda d: role != "prune" or d.delete_old_snapshots or d.restore_test


RESTORE_EXPECTED: tuple[Case, ...] = (
    Case(
        "create",
        "restore our snapshot into a temporary instance, tagged",
        True,
        _restore_instance,
        _restores,
    ),
    Case(
        "create",
        "restore our cluster snapshot into a temporary cluster, tagged",
        True,
        lambda d: Call(
            "rds",
            "RestoreDBClusterFromSnapshot",
            {
                "DBClusterIdentifier": _temp_id(d, "orders-aurora"),
                "SnapshotIdentifier": d.snapshot_id("orders-aurora"),
                "Engine": "aurora-postgresql",
                "Tags": _temp_tags(d),
                **({"DBSubnetGroupName": d.restore_subnet_group} if d.restore_subnet_group else {}),
            },
        ),
        _restores,
    ),
    Case(
        "create",
        "add the writer instance to a temporary cluster",
        True,
        lambda d: Call(
            "rds",
            "CreateDBInstance",
            {
                "DBInstanceIdentifier": _temp_id(d, "orders-aurora-writer"),
                "DBClusterIdentifier": _temp_id(d, "orders-aurora"),
                "Engine": "aurora-postgresql",
                "DBInstanceClass": "db.t3.medium",
                "Tags": _temp_tags(d),
            },
        ),
        _restores,
    ),
    *(
        Case(
            role,
            "describe temporary databases",
            True,
            lambda d: Call("rds", "DescribeDBInstances", {}),
            _restores,
        )
        for role in CLEANERS
    ),
    *(
        Case(
            role,
            "delete a temporary instance (ManagedBy and RestoreTestOf)",
            True,
            _delete_database("DeleteDBInstance", _temp_id, _temp_resource_tags),
            _restores,
        )
        for role in CLEANERS
    ),
    *(
        Case(
            role,
            "delete a temporary cluster (ManagedBy and RestoreTestOf)",
            True,
            _delete_database(
                "DeleteDBCluster", lambda d: _temp_id(d, "orders-aurora"), _temp_resource_tags
            ),
            _restores,
        )
        for role in CLEANERS
    ),
)

RESTORE_FORBIDDEN: tuple[Case, ...] = (
    Case(
        "create",
        "restore into a database that is not temporary, even tagged",
        False,
        lambda d: _restore_instance(d, target="orders-db-restored"),
        _restores,
    ),
    Case(
        "create",
        "restore into a temporary name without the ManagedBy tag",
        False,
        lambda d: _restore_instance(d, tags=[]),
        _restores,
    ),
    Case(
        "create",
        "restore tagged ManagedBy = another deployment",
        False,
        lambda d: _restore_instance(d, tags=_temp_tags(d, OTHER)),
        _restores,
    ),
    Case(
        "create",
        "restore into a subnet group other than the configured one",
        False,
        lambda d: _restore_instance(d, subnet_group="production-private"),
        _restores,
    ),
    Case(
        "create",
        "restore from a hand-made snapshot",
        False,
        lambda d: _restore_instance(d, snapshot="nightly-by-hand"),
        _restores,
    ),
    Case(
        "create",
        "restore at all, with restore tests off",
        False,
        _restore_instance,
        lambda d: not d.restore_test,
    ),
    Case(
        "create",
        "delete a temporary instance (Create only restores)",
        False,
        _delete_database("DeleteDBInstance", _temp_id, _temp_resource_tags),
    ),
    *(
        case
        for role in CLEANERS
        for case in (
            Case(
                role,
                "delete a database that is not temporary (db:orders-db)",
                False,
                _delete_database("DeleteDBInstance", lambda d: "orders-db", _temp_resource_tags),
                _role_exists(role),
            ),
            Case(
                role,
                "delete a cluster that is not temporary (cluster:orders-aurora)",
                False,
                _delete_database("DeleteDBCluster", lambda d: "orders-aurora", _temp_resource_tags),
                _role_exists(role),
            ),
            Case(
                role,
                "delete a prefix+rt- database without the RestoreTestOf tag",
                False,
                _delete_database("DeleteDBInstance", _temp_id, lambda d: {MANAGED_BY: d.name}),
                _role_exists(role),
            ),
            Case(
                role,
                "delete another deployment's temporary database",
                False,
                _delete_database(
                    "DeleteDBInstance",
                    lambda d: "rsm-00000000-rt-orders-db-0123abcd",
                    lambda d: {MANAGED_BY: OTHER, RESTORE_TAG: "x"},
                ),
                _role_exists(role),
            ),
        )
    ),
)


################################################################################
# Disaster recovery (issue 10): copies to other Regions, sharing, the share copy, their KMS keys
################################################################################

# Regions the proof's forbidden requests use; never in a proof configuration's copy_to_regions.
UNLISTED_REGION = "ap-south-1"
OTHER_REGION = "us-west-2"  # a same-named deployment's home, that copies into ours
OTHER_ACCOUNT = "999999999999"
DR_TAG_SET = ("RunId", "SourceId", "SourceType", "RunStartedAt")


def _copies(d: Deployment) -> bool:
    return bool(d.copy_regions)


def _shares(d: Deployment) -> bool:
    return bool(d.share_with_account_ids)


def _share_copies(d: Deployment) -> bool:
    return d.share_kms_key_arn is not None


def _our_tags(d: Deployment, **extra: str) -> dict[str, str]:
    """The tags our original snapshots carry (Create), plus ``extra``."""
    tags = {MANAGED_BY: d.name, **dict.fromkeys(DR_TAG_SET, "x")}
    return {**tags, **extra}


def _tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _copy(
    d: Deployment,
    region: str,
    *,
    source: str | None = None,
    source_tags: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    cluster: bool = False,
    key: str | None = None,
) -> Call:
    """A cross-Region copy as Check makes it: a client in ``region``, the source by its ARN."""
    kind, parameter = (
        ("cluster-snapshot", "DBClusterSnapshot") if cluster else ("snapshot", "DBSnapshot")
    )
    source_id = source or d.snapshot_id("orders-aurora" if cluster else _instance(d))
    params: dict[str, Any] = {
        f"Source{parameter}Identifier": d.rds(kind, source_id),
        f"Target{parameter}Identifier": source_id,
        "SourceRegion": d.region,
        "Tags": _tag_list(tags if tags is not None else _our_tags(d, CopySourceRegion=d.region)),
    }
    key = key or d.copy_key(region)
    if key:
        params["KmsKeyId"] = key
    resource_tags = source_tags if source_tags is not None else _our_tags(d)
    operation = "CopyDBClusterSnapshot" if cluster else "CopyDBSnapshot"
    return Call("rds", operation, params, region=region, resource_tags=resource_tags)


def _share_copy_id(d: Deployment) -> str:
    """D8 (naming.share_copy_id): prefix + ``s-`` + the rest of the original id."""
    return f"{d.prefix}s-{d.snapshot_id(_instance(d)).removeprefix(d.prefix)}"


def _share_copy(d: Deployment, tags: Mapping[str, str] | None = None) -> Call:
    original = d.snapshot_id(_instance(d))
    return Call(
        "rds",
        "CopyDBSnapshot",
        {
            "SourceDBSnapshotIdentifier": original,
            "TargetDBSnapshotIdentifier": _share_copy_id(d),
            "KmsKeyId": d.share_kms_key_arn,
            "Tags": _tag_list(tags if tags is not None else _our_tags(d, ShareCopyOf=original)),
        },
        resource_tags=_our_tags(d),
    )


def _share(
    d: Deployment,
    *,
    snapshot: str | None = None,
    tags: Mapping[str, str] | None = None,
    region: str | None = None,
    accounts: Sequence[str] | None = None,
    remove: bool = False,
    cluster: bool = False,
) -> Call:
    values = list(accounts if accounts is not None else d.share_with_account_ids)
    kind = "Cluster" if cluster else ""
    return Call(
        "rds",
        f"ModifyDB{kind}SnapshotAttribute",
        {
            f"DB{kind}SnapshotIdentifier": snapshot
            or d.snapshot_id("orders-aurora" if cluster else _instance(d)),
            "AttributeName": "restore",
            "ValuesToRemove" if remove else "ValuesToAdd": values,
        },
        region=region,
        resource_tags=tags if tags is not None else _our_tags(d),
    )


def _delete_in(
    d: Deployment, region: str, tags: Mapping[str, str], *, cluster: bool = False
) -> Call:
    kind = "Cluster" if cluster else ""
    source = "orders-aurora" if cluster else _instance(d)
    return Call(
        "rds",
        f"DeleteDB{kind}Snapshot",
        {f"DB{kind}SnapshotIdentifier": d.snapshot_id(source)},
        region=region,
        resource_tags=tags,
    )


def _list_in(
    region_of: Callable[[Deployment], str], cluster: bool = False
) -> Callable[[Deployment], Call]:
    operation = "DescribeDBClusterSnapshots" if cluster else "DescribeDBSnapshots"
    return lambda d: Call("rds", operation, {"SnapshotType": "manual"}, region=region_of(d))


def _region(index: int) -> Callable[[Deployment], str]:
    return lambda d: d.copy_regions[index]


def _has_region(index: int) -> Callable[[Deployment], bool]:
    return lambda d: len(d.copy_regions) > index


def _prunes_region(index: int) -> Callable[[Deployment], bool]:
    return lambda d: _deletes(d) and len(d.copy_regions) > index


def _copy_to(index: int) -> Callable[[Deployment], Call]:
    return lambda d: _copy(d, d.copy_regions[index])


def _delete_our_copy_in(index: int) -> Callable[[Deployment], Call]:
    return lambda d: _delete_in(d, d.copy_regions[index], _our_copy_tags(d))


def _our_copy_tags(d: Deployment) -> dict[str, str]:
    return _our_tags(d, CopySourceRegion=d.region)


def _first_keyed_share_region(d: Deployment) -> str | None:
    return next((r for r in d.share_regions if d.copy_key(r)), None)


def _unshared_region(d: Deployment) -> str | None:
    return next((r for r in d.copy_regions if r not in d.share_regions), None)


DEFAULT_KEY = "arn:{p}:kms:{r}:{a}:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def _home_key(d: Deployment) -> str:
    """The key that encrypts a database (aws/rds or a customer key): known only at run time."""
    return DEFAULT_KEY.format(p=d.partition, r=d.region, a=d.account)


COPY_REGION_SLOTS = range(5)  # copy_to_regions holds at most 5 Regions

DR_EXPECTED: tuple[Case, ...] = (
    *(
        case
        for i in COPY_REGION_SLOTS
        for case in (
            Case(
                "check",
                f"copy our snapshot to copy Region {i + 1}, tagged as our copy, with its key",
                True,
                _copy_to(i),
                applies=_has_region(i),
            ),
            Case(
                "check",
                f"list the snapshots in copy Region {i + 1}",
                True,
                _list_in(_region(i)),
                applies=_has_region(i),
            ),
            Case(
                "prune",
                f"list the snapshots in copy Region {i + 1}",
                True,
                _list_in(_region(i)),
                applies=_prunes_region(i),
            ),
            Case(
                "prune",
                f"delete our copy in copy Region {i + 1} (ManagedBy, CopySourceRegion = home)",
                True,
                _delete_our_copy_in(i),
                applies=_prunes_region(i),
            ),
        )
    ),
    Case(
        "check",
        "copy our cluster snapshot to the first copy Region",
        True,
        lambda d: _copy(d, d.copy_regions[0], cluster=True),
        applies=_copies,
    ),
    Case(
        "check",
        "list the cluster snapshots in the first copy Region",
        True,
        _list_in(_region(0), cluster=True),
        applies=_copies,
    ),
    Case(
        "prune",
        "delete our cluster copy in the first copy Region",
        True,
        lambda d: _delete_in(d, d.copy_regions[0], _our_copy_tags(d), cluster=True),
        applies=lambda d: _deletes(d) and _copies(d),
    ),
    Case(
        "check",
        "tell whether our snapshot's key is the AWS-managed aws/rds (DescribeKey)",
        True,
        lambda d: Call("kms", "DescribeKey", {"KeyId": _home_key(d)}),
        applies=_shares,
    ),
    Case(
        "check",
        "tell whether a copy's key is AWS-managed, in a share Region",
        True,
        lambda d: Call(
            "kms",
            "DescribeKey",
            {"KeyId": d.copy_key(_first_keyed_share_region(d) or "")},
            region=_first_keyed_share_region(d),
        ),
        applies=lambda d: _first_keyed_share_region(d) is not None,
    ),
    Case("check", "share our snapshot with the listed accounts", True, _share, applies=_shares),
    Case(
        "check",
        "share our cluster snapshot with the listed accounts",
        True,
        lambda d: _share(d, cluster=True),
        applies=_shares,
    ),
    Case(
        "check",
        "read our snapshot's restore attribute",
        True,
        lambda d: Call(
            "rds",
            "DescribeDBSnapshotAttributes",
            {"DBSnapshotIdentifier": d.snapshot_id(_instance(d))},
            resource_tags=_our_tags(d),
        ),
        applies=_shares,
    ),
    Case(
        "check",
        "share our copy in a Region with share = true",
        True,
        lambda d: _share(d, region=d.share_regions[0], tags=_our_copy_tags(d)),
        applies=lambda d: bool(d.share_regions),
    ),
    Case(
        "check",
        "make the re-encrypted share copy of a default-key snapshot with the share key",
        True,
        _share_copy,
        applies=_share_copies,
    ),
    Case(
        "check",
        "share the re-encrypted share copy",
        True,
        lambda d: _share(
            d,
            snapshot=_share_copy_id(d),
            tags=_our_tags(d, ShareCopyOf=d.snapshot_id(_instance(d))),
        ),
        applies=_share_copies,
    ),
    Case(
        "prune",
        "un-share our snapshot before deleting it",
        True,
        lambda d: _share(d, remove=True),
        applies=lambda d: _deletes(d) and _shares(d),
    ),
    Case(
        "prune",
        "read our snapshot's restore attribute before deleting it",
        True,
        lambda d: Call(
            "rds",
            "DescribeDBClusterSnapshotAttributes",
            {"DBClusterSnapshotIdentifier": d.snapshot_id("orders-aurora")},
            resource_tags=_our_tags(d),
        ),
        applies=lambda d: _deletes(d) and _shares(d),
    ),
    Case(
        "prune",
        "un-share our copy in a Region with share = true",
        True,
        lambda d: _share(d, region=d.share_regions[0], tags=_our_copy_tags(d), remove=True),
        applies=lambda d: _deletes(d) and bool(d.share_regions),
    ),
    Case(
        "prune",
        "delete the share copy with its original",
        True,
        lambda d: Call(
            "rds",
            "DeleteDBSnapshot",
            {"DBSnapshotIdentifier": _share_copy_id(d)},
            resource_tags=_our_tags(d, ShareCopyOf=d.snapshot_id(_instance(d))),
        ),
        applies=lambda d: _deletes(d) and _share_copies(d),
    ),
)

DR_FORBIDDEN: tuple[Case, ...] = (
    # --- copies: only ours, only to the listed Regions, only tagged as our copies
    Case(
        "check",
        "copy a hand-made snapshot (no prefix) to a copy Region",
        False,
        lambda d: _copy(d, d.copy_regions[0], source="nightly-by-hand", source_tags={}),
        applies=_copies,
    ),
    Case(
        "check",
        "copy a snapshot with our prefix that lacks ManagedBy",
        False,
        lambda d: _copy(d, d.copy_regions[0], source_tags={}),
        applies=_copies,
    ),
    Case(
        "check",
        "copy another deployment's snapshot",
        False,
        lambda d: _copy(
            d,
            d.copy_regions[0],
            source="rsm-00000000-orders-db-202611250100-0123abcd",
            source_tags={MANAGED_BY: OTHER},
        ),
        applies=_copies,
    ),
    Case(
        "check",
        "copy onward a copy another Region's deployment made here (CopySourceRegion set)",
        False,
        lambda d: _copy(
            d, d.copy_regions[0], source_tags=_our_tags(d, CopySourceRegion=OTHER_REGION)
        ),
        applies=_copies,
    ),
    Case(
        "check",
        "copy our snapshot to a Region that is not listed",
        False,
        lambda d: _copy(d, UNLISTED_REGION),
        applies=_copies,
    ),
    Case(
        "check",
        "copy without the CopySourceRegion tag (Prune there could not tell it ours)",
        False,
        lambda d: _copy(d, d.copy_regions[0], tags=_our_tags(d)),
        applies=_copies,
    ),
    Case(
        "check",
        "copy tagged ManagedBy = another deployment",
        False,
        lambda d: _copy(
            d,
            d.copy_regions[0],
            tags={MANAGED_BY: OTHER, "CopySourceRegion": d.region},
        ),
        applies=_copies,
    ),
    Case(
        "check",
        "copy with a tag key the engine never sets",
        False,
        lambda d: _copy(
            d, d.copy_regions[0], tags=_our_tags(d, CopySourceRegion=d.region, Owner="x")
        ),
        applies=_copies,
    ),
    Case(
        "check",
        "let RDS encrypt a copy with a key that is not listed",
        False,
        lambda d: _copy(
            d,
            d.copy_regions[0],
            key=DEFAULT_KEY.format(p=d.partition, r=d.copy_regions[0], a=d.account),
        ),
        applies=_copies,
    ),
    Case(
        "check",
        "create a grant on a listed key for itself (not for an AWS resource)",
        False,
        lambda d: Call(
            "kms",
            "CreateGrant",
            {"KeyId": d.share_kms_key_arn or d.copy_key(d.copy_regions[0])},
        ),
        applies=lambda d: _share_copies(d) or (_copies(d) and bool(d.copy_key(d.copy_regions[0]))),
    ),
    Case(
        "check",
        "describe a key of another account",
        False,
        lambda d: Call(
            "kms",
            "DescribeKey",
            {"KeyId": DEFAULT_KEY.format(p=d.partition, r=d.region, a=OTHER_ACCOUNT)},
        ),
        applies=_shares,
    ),
    Case(
        "check",
        "describe a key in a Region that is not listed",
        False,
        lambda d: Call(
            "kms",
            "DescribeKey",
            {"KeyId": DEFAULT_KEY.format(p=d.partition, r=UNLISTED_REGION, a=d.account)},
            region=UNLISTED_REGION,
        ),
        applies=_shares,
    ),
    # --- sharing: only ours (IAM), only the listed accounts and never public (values)
    Case(
        "check",
        "share a hand-made snapshot",
        False,
        lambda d: _share(d, snapshot="nightly-by-hand", tags={}),
        applies=_shares,
    ),
    Case(
        "check",
        "share a snapshot with our prefix that lacks ManagedBy",
        False,
        lambda d: _share(d, tags={}),
        applies=_shares,
    ),
    Case(
        "check",
        "share another deployment's snapshot",
        False,
        lambda d: _share(
            d,
            snapshot="rsm-00000000-orders-db-202611250100-0123abcd",
            tags={MANAGED_BY: OTHER},
        ),
        applies=_shares,
    ),
    Case(
        "check",
        "share a copy another Region's deployment made here (CopySourceRegion set)",
        False,
        lambda d: _share(d, tags=_our_tags(d, CopySourceRegion=OTHER_REGION)),
        applies=_shares,
    ),
    Case(
        "check",
        "share our copy in a Region without share = true",
        False,
        lambda d: _share(d, region=_unshared_region(d), tags=_our_copy_tags(d)),
        applies=lambda d: _shares(d) and _unshared_region(d) is not None,
    ),
    Case(
        "check",
        "make a share copy without the ShareCopyOf tag",
        False,
        lambda d: _share_copy(d, tags=_our_tags(d)),
        applies=_share_copies,
    ),
    Case(
        "check",
        "share with an account that is not listed (refused by value: IAM has no key for it)",
        False,
        lambda d: _share(d, accounts=[*d.share_with_account_ids, OTHER_ACCOUNT]),
        applies=_shares,
        value_level=True,
    ),
    Case(
        "check",
        "make a snapshot public, 'all' (refused by value: IAM has no key for it)",
        False,
        lambda d: _share(d, accounts=["all"]),
        applies=_shares,
        value_level=True,
    ),
    Case(
        "prune",
        "share with an account that is not listed while un-sharing (refused by value)",
        False,
        lambda d: _share(d, accounts=[OTHER_ACCOUNT]),
        applies=lambda d: _deletes(d) and _shares(d),
        value_level=True,
    ),
    # --- deletes in other Regions: only our copies
    Case(
        "prune",
        "delete a copy that another Region's deployment made into a copy Region",
        False,
        lambda d: _delete_in(d, d.copy_regions[0], _our_tags(d, CopySourceRegion=OTHER_REGION)),
        applies=lambda d: _deletes(d) and _copies(d),
    ),
    Case(
        "prune",
        "delete a same-named deployment's own snapshot in a copy Region (no CopySourceRegion)",
        False,
        lambda d: _delete_in(d, d.copy_regions[0], _our_tags(d)),
        applies=lambda d: _deletes(d) and _copies(d),
    ),
    Case(
        "prune",
        "delete our copy in a Region that is not listed",
        False,
        lambda d: _delete_in(d, UNLISTED_REGION, _our_copy_tags(d)),
        applies=_deletes,
    ),
    Case(
        "prune",
        "delete here a copy another Region's same-named deployment made (D8)",
        False,
        lambda d: _delete_in(d, d.region, _our_tags(d, CopySourceRegion=OTHER_REGION)),
        applies=_deletes,
    ),
    # --- the other roles: no copy, share or key use
    Case(
        "create",
        "copy our snapshot to another Region",
        False,
        lambda d: _copy(d, d.copy_regions[0] if d.copy_regions else UNLISTED_REGION),
    ),
    Case("notify", "share our snapshot", False, _share),
    Case(
        "create",
        "describe a KMS key",
        False,
        lambda d: Call("kms", "DescribeKey", {"KeyId": _home_key(d)}),
    ),
)

EXPECTED: tuple[Case, ...] = (
    *LEDGER_EXPECTED,
    *RESTORE_EXPECTED,
    *DR_EXPECTED,
    # --- create: what every run needs
    Case(
        "create",
        "list instances, clusters and snapshots",
        True,
        lambda d: Call("rds", "DescribeDBInstances", {}),
    ),
    Case(
        "create",
        "list manual snapshots",
        True,
        lambda d: Call("rds", "DescribeDBSnapshots", {"SnapshotType": "manual"}),
    ),
    Case(
        "create",
        "list manual cluster snapshots",
        True,
        lambda d: Call("rds", "DescribeDBClusterSnapshots", {"SnapshotType": "manual"}),
    ),
    Case(
        "create",
        "read the manual snapshot quota",
        True,
        lambda d: Call("rds", "DescribeAccountAttributes", {}),
    ),
    Case(
        "create",
        "snapshot a listed instance, tagged ManagedBy, with our prefix",
        True,
        lambda d: _create_snapshot(d, _tags(d)),
        applies=lambda d: bool(d.instances) or d.selects_dynamically,
    ),
    Case(
        "create",
        "snapshot a listed instance on demand, also tagged RunReason (D7)",
        True,
        lambda d: _create_snapshot(d, [*_tags(d), {"Key": "RunReason", "Value": "pre-migration"}]),
        applies=lambda d: bool(d.instances) or d.selects_dynamically,
    ),
    Case(
        "create",
        "snapshot a listed cluster, tagged ManagedBy, with our prefix",
        True,
        lambda d: _create_cluster_snapshot(d, d.clusters[0]),
        applies=lambda d: bool(d.clusters),
    ),
    Case(
        "create",
        "snapshot the cluster of a listed instance that is a cluster member",
        True,
        lambda d: _create_cluster_snapshot(d, MEMBERS_CLUSTER),
        applies=lambda d: bool(d.instances),
        gap=MEMBERS,
    ),
    Case(
        "create",
        "snapshot a mixed-case listed instance (RDS authorises its lowercase ARN)",
        True,
        lambda d: _create_snapshot(d, _tags(d), d.snapshot_id("billing-db"), "Billing-DB"),
        applies=lambda d: "Billing-DB" in d.instances,
        gap=LOWER,
    ),
    Case(
        "create",
        "snapshot any instance found by tag or list file",
        True,
        lambda d: _create_snapshot(d, _tags(d), instance="found-at-run-time"),
        applies=lambda d: d.selects_dynamically,
    ),
    Case(
        "create",
        "read a source's history (Query on the history index)",
        True,
        _ledger("Query", index="history"),
        gap=D3,
    ),
    Case(
        "create",
        "read the targets list file",
        True,
        lambda d: Call("s3", "GetObject", _list_file(d)),
        applies=lambda d: d.targets_s3_object is not None,
    ),
    Case(
        "create",
        "tell a missing list file from a denied one (list its own key)",
        True,
        lambda d: Call(
            "s3",
            "ListObjectsV2",
            {"Bucket": _list_file(d)["Bucket"], "Prefix": _list_file(d)["Key"], "MaxKeys": 1},
        ),
        applies=lambda d: d.targets_s3_object is not None,
    ),
    # --- check
    Case(
        "check",
        "look up a new snapshot",
        True,
        lambda d: Call(
            "rds", "DescribeDBSnapshots", {"DBSnapshotIdentifier": d.snapshot_id(_instance(d))}
        ),
    ),
    # --- prune
    Case(
        "prune",
        "delete our snapshot (our prefix, ManagedBy = name)",
        True,
        _delete(lambda d: d.snapshot_id(_instance(d)), lambda d: {MANAGED_BY: d.name}),
        applies=_deletes,
    ),
    Case(
        "prune",
        "delete our cluster snapshot",
        True,
        lambda d: Call(
            "rds",
            "DeleteDBClusterSnapshot",
            {"DBClusterSnapshotIdentifier": d.snapshot_id("orders-aurora")},
            resource_tags={MANAGED_BY: d.name},
        ),
        applies=_deletes,
    ),
    Case(
        "prune",
        "read a source's history (Query on the history index)",
        True,
        _ledger("Query", index="history"),
        applies=_deletes,
        gap=D3,
    ),
    # --- notify
    Case(
        "notify",
        "publish the report",
        True,
        _publish(lambda d: d.report_topic_arn),
    ),
    Case(
        "notify",
        "publish to the failure topic",
        True,
        _publish(lambda d: d.failure_topic_arn),
    ),
    # --- the service roles
    Case(
        "states",
        "invoke each function of this deployment",
        True,
        lambda d: Call("lambda", "Invoke", {"FunctionName": d.function_arns["create"]}),
    ),
    Case(
        "events",
        "start this state machine",
        True,
        lambda d: Call("stepfunctions", "StartExecution", {"stateMachineArn": d.state_machine_arn}),
    ),
)

FORBIDDEN: tuple[Case, ...] = (
    *LEDGER_FORBIDDEN,
    *RESTORE_FORBIDDEN,
    *DR_FORBIDDEN,
    # --- create must not create or tag anything that is not its own
    Case(
        "create",
        "create without the ManagedBy request tag",
        False,
        lambda d: _create_snapshot(d, None),
    ),
    Case(
        "create",
        "create tagged ManagedBy = another deployment",
        False,
        lambda d: _create_snapshot(d, _tags(d, OTHER)),
    ),
    Case(
        "create",
        "create a snapshot without our prefix, even tagged",
        False,
        lambda d: _create_snapshot(d, _tags(d), f"{_instance(d)}-hand-made"),
        gap=D1,
    ),
    *(
        Case(
            "create",
            f"tag {what} ManagedBy = name (Prune would then delete it)",
            False,
            _add_tags_to(kind, identifier, tags),
            gap=D1,
        )
        for what, kind, identifier, tags in FOREIGN_SNAPSHOTS
    ),
    Case(
        "create",
        "snapshot a cluster that is not listed (only clusters listed)",
        False,
        lambda d: _create_cluster_snapshot(d, "not-listed-aurora"),
        applies=lambda d: not d.instances and not d.selects_dynamically,
    ),
    Case("create", "tag a database", False, lambda d: _add_tags(d, d.rds("db", _instance(d)))),
    Case(
        "create",
        "snapshot an instance that is not listed",
        False,
        lambda d: _create_snapshot(d, _tags(d), instance="not-listed"),
        applies=lambda d: not d.selects_dynamically,
    ),
    Case(
        "create",
        "remove tags from a snapshot",
        False,
        lambda d: Call(
            "rds",
            "RemoveTagsFromResource",
            {
                "ResourceName": d.rds("snapshot", d.snapshot_id(_instance(d))),
                "TagKeys": [MANAGED_BY],
            },
        ),
    ),
    Case(
        "create",
        "delete a snapshot",
        False,
        _delete(lambda d: d.snapshot_id(_instance(d)), lambda d: {MANAGED_BY: d.name}),
    ),
    Case(
        "create",
        "share a snapshot (ModifyDBSnapshotAttribute)",
        False,
        lambda d: Call(
            "rds",
            "ModifyDBSnapshotAttribute",
            {
                "DBSnapshotIdentifier": d.snapshot_id(_instance(d)),
                "AttributeName": "restore",
                "ValuesToAdd": ["all"],
            },
        ),
    ),
    Case(
        "create",
        "read another S3 object",
        False,
        lambda d: Call("s3", "GetObject", {"Bucket": "rsm-proof-config", "Key": "secrets.txt"}),
    ),
    Case(
        "create",
        "list the list file's bucket beyond the file's key",
        False,
        lambda d: Call("s3", "ListObjectsV2", {"Bucket": _list_file(d)["Bucket"], "Prefix": ""}),
        applies=lambda d: d.targets_s3_object is not None,
    ),
    Case("create", "write another table", False, _ledger("PutItem", lambda d: "another-table")),
    # --- prune must delete only its own snapshots
    Case(
        "prune",
        "delete an untagged snapshot with our prefix",
        False,
        _delete(lambda d: d.snapshot_id(_instance(d)), lambda d: {}),
        applies=_deletes,
    ),
    Case(
        "prune",
        "delete another deployment's snapshot",
        False,
        _delete(
            lambda d: "rsm-00000000-orders-db-202611250100-0123abcd", lambda d: {MANAGED_BY: OTHER}
        ),
        applies=_deletes,
    ),
    Case(
        "prune",
        "delete a hand-made snapshot wrongly tagged ManagedBy = name",
        False,
        _delete(lambda d: "nightly-by-hand", lambda d: {MANAGED_BY: d.name}),
        applies=_deletes,
        gap=D1,
    ),
    Case(
        "prune",
        "delete an untagged cluster snapshot",
        False,
        lambda d: Call(
            "rds",
            "DeleteDBClusterSnapshot",
            {"DBClusterSnapshotIdentifier": d.snapshot_id("orders-aurora")},
        ),
        applies=_deletes,
    ),
    Case(
        "prune",
        "create a snapshot",
        False,
        lambda d: _create_snapshot(d, _tags(d)),
        applies=_deletes,
    ),
    Case(
        "prune",
        "write another table",
        False,
        _ledger("BatchWriteItem", lambda d: "another-table"),
        applies=_deletes,
    ),
    # --- check and notify touch no snapshot
    Case("check", "create a snapshot", False, lambda d: _create_snapshot(d, _tags(d))),
    Case(
        "check",
        "delete our snapshot",
        False,
        _delete(lambda d: d.snapshot_id(_instance(d)), lambda d: {MANAGED_BY: d.name}),
    ),
    Case(
        "notify",
        "delete our snapshot",
        False,
        _delete(lambda d: d.snapshot_id(_instance(d)), lambda d: {MANAGED_BY: d.name}),
    ),
    Case(
        "notify",
        "publish to another topic",
        False,
        lambda d: Call(
            "sns", "Publish", {"TopicArn": d.arn("sns", "someone-elses-topic"), "Message": "x"}
        ),
    ),
    Case("notify", "write another table", False, _ledger("UpdateItem", lambda d: "another-table")),
    # --- service roles
    Case(
        "states",
        "invoke another function",
        False,
        lambda d: Call(
            "lambda", "Invoke", {"FunctionName": d.arn("lambda", "function:someone-else")}
        ),
    ),
    Case(
        "events",
        "start another state machine",
        False,
        lambda d: Call(
            "stepfunctions",
            "StartExecution",
            {"stateMachineArn": d.arn("states", "stateMachine:someone-else")},
        ),
    ),
    Case(
        "events",
        "invoke a function",
        False,
        lambda d: Call("lambda", "Invoke", {"FunctionName": d.function_arns["create"]}),
    ),
)
