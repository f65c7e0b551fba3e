"""Render every role policy of the module, for configurations covering every toggle, offline.

How (measured, see docs/IAM_PROOF.md): `terraform test -json -verbose` prints each run's plan as
JSON. The runs plan the module with the real AWS provider, so ``aws_iam_policy_document`` renders
exactly as it would on AWS, with no API call:

1. Pass 1 plans every configuration once, to learn which resource instances exist (``for_each``
   keys included) and their names.
2. Pass 2 plans them again with ``override_resource { override_during = plan }`` giving each
   instance the ARN AWS would give it (from its planned name), and ``override_data`` giving the
   caller identity. Every policy document is then known at plan time.

Nothing here names the module's resources: new resources, keys and roles are picked up by
themselves. A policy that is still unknown after pass 2 (it depends on an attribute this table
cannot predict) fails the render with its address.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
# RSM_IAM_MODULE: prove another copy of the module (e.g. a branch's) without checking it out here.
MODULE = Path(
    os.environ.get("RSM_IAM_MODULE") or REPO / "modules" / "rds-snapshot-manager"
).resolve()
TERRAFORM = REPO / ".venv" / "bin" / "terraform"
WORK = REPO / ".tools" / "iam" / "render"
# Run sources must be local paths relative to the root directory.
MODULE_SOURCE = os.path.relpath(MODULE, WORK)

PARTITION = "aws"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
NAME = "rsm-proof"
KMS_KEY = f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
KEY_ID = "22222222-3333-4444-5555-666666666666"
SHARE_KEY_ID = "33333333-4444-5555-6666-777777777777"

# Provider 3.39 (the offline mirror) accepts at most python3.8 client-side; policies don't depend
# on the runtime.
BASE_VARIABLES: dict[str, Any] = {"name": NAME, "lambda_runtime": "python3.8"}
# Set only where the module has the variable (issue 9 adds it to admit python3.8 on purpose).
IF_DECLARED: dict[str, Any] = {"allow_emulator_runtime": True}


@dataclass(frozen=True)
class Configuration:
    """One set of module inputs; ``needs``: module variables it requires (later features)."""

    key: str
    description: str
    variables: dict[str, Any]
    needs: tuple[str, ...] = ()


# Every toggle that changes a policy: explicit ids (mixed case, for the lowercase-ARN gap),
# selection tags, an S3 list file, a KMS key, deletion on and off, X-Ray, and the inputs of the
# other open issues once the module has them.
CONFIGURATIONS = (
    Configuration(
        "explicit",
        "explicit instance and cluster ids (one mixed-case), deletion on",
        {
            "db_instance_identifiers": ["orders-db", "Billing-DB"],
            "db_cluster_identifiers": ["orders-aurora"],
        },
    ),
    Configuration(
        "clusters_only",
        "explicit cluster ids only (no instance listed)",
        {"db_cluster_identifiers": ["orders-aurora"]},
    ),
    Configuration("tags", "selection by tags only", {"selection_tags": {"backup": "daily"}}),
    Configuration(
        "s3_file",
        "targets from an S3 list file",
        {"targets_s3_object": {"bucket": "rsm-proof-config", "key": "rds/backup_list.txt"}},
    ),
    Configuration(
        "kms_xray",
        "customer-managed KMS key and X-Ray tracing",
        {"db_instance_identifiers": ["orders-db"], "kms_key_arn": KMS_KEY, "xray_tracing": True},
    ),
    Configuration(
        "no_delete",
        "deletion switched off",
        {"db_instance_identifiers": ["orders-db"], "delete_old_snapshots": False},
    ),
    Configuration(
        "everything",
        "ids, tags, S3 file, KMS key and X-Ray together",
        {
            "db_instance_identifiers": ["orders-db"],
            "db_cluster_identifiers": ["orders-aurora"],
            "selection_tags": {"backup": "daily"},
            "targets_s3_object": {"bucket": "rsm-proof-config", "key": "rds/backup_list.txt"},
            "kms_key_arn": KMS_KEY,
            "xray_tracing": True,
        },
    ),
    Configuration(
        "org_guardrails",
        "role path and permissions boundary (issue 9)",
        {
            "db_instance_identifiers": ["orders-db"],
            "role_path": "/rsm/",
            "role_permissions_boundary": f"arn:{PARTITION}:iam::{ACCOUNT}:policy/boundary",
        },
        needs=("role_path", "role_permissions_boundary"),
    ),
    Configuration(
        "restore_test",
        "restore tests on (issue 11), with deletion off: Prune only sweeps",
        {
            "db_instance_identifiers": ["orders-db"],
            "db_cluster_identifiers": ["orders-aurora"],
            "delete_old_snapshots": False,
            "restore_test": {"db_subnet_group_name": "restore-tests"},
        },
        needs=("restore_test",),
    ),
    Configuration(
        "disaster_recovery",
        "copies to 2 Regions with their keys (one shared there), 2 accounts, a share key",
        {
            "db_instance_identifiers": ["orders-db"],
            "db_cluster_identifiers": ["orders-aurora"],
            "copy_to_regions": [
                {
                    "region": "eu-central-1",
                    "kms_key_arn": f"arn:{PARTITION}:kms:eu-central-1:{ACCOUNT}:key/{KEY_ID}",
                    "retention_days": 30,
                    "share": True,
                },
                {
                    "region": "us-east-1",
                    "kms_key_arn": f"arn:{PARTITION}:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}",
                },
            ],
            "share_with_account_ids": ["210987654321", "109876543210"],
            "share_kms_key_arn": f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{SHARE_KEY_ID}",
        },
        needs=("copy_to_regions", "share_with_account_ids", "share_kms_key_arn"),
    ),
    Configuration(
        "disaster_recovery_max",
        "the largest policies: every selection, KMS, X-Ray, 5 keyed shared Regions, 20 accounts",
        {
            "db_instance_identifiers": ["orders-db"],
            "db_cluster_identifiers": ["orders-aurora"],
            "selection_tags": {"backup": "daily"},
            "targets_s3_object": {"bucket": "rsm-proof-config", "key": "rds/backup_list.txt"},
            "kms_key_arn": KMS_KEY,
            "xray_tracing": True,
            "copy_to_regions": [
                {
                    "region": region,
                    "kms_key_arn": f"arn:{PARTITION}:kms:{region}:{ACCOUNT}:key/{KEY_ID}",
                    "retention_days": 30,
                    "share": True,
                }
                for region in (
                    "us-east-1",
                    "us-west-2",
                    "eu-central-1",
                    "ap-southeast-2",
                    "sa-east-1",
                )
            ],
            "share_with_account_ids": [f"2109876543{n:02d}" for n in range(20)],
            "share_kms_key_arn": f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{SHARE_KEY_ID}",
        },
        needs=("copy_to_regions", "share_with_account_ids", "share_kms_key_arn"),
    ),
    Configuration(
        "copy_only",
        "a copy to one Region without a key, no sharing, deletion off",
        {
            "db_instance_identifiers": ["orders-db"],
            "copy_to_regions": [{"region": "eu-central-1"}],
            "delete_old_snapshots": False,
        },
        needs=("copy_to_regions",),
    ),
)
# The disaster-recovery inputs: a configuration without them must grant none of their actions.
DISASTER_RECOVERY_INPUTS = ("copy_to_regions", "share_with_account_ids", "share_kms_key_arn")

# The ARN AWS gives a resource of each type, from its planned attributes. ``{name}`` is the first
# of the listed name attributes that is known.
ARN_TEMPLATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "aws_dynamodb_table": ("arn:{p}:dynamodb:{r}:{a}:table/{name}", ("name",)),
    "aws_sns_topic": ("arn:{p}:sns:{r}:{a}:{name}", ("name",)),
    "aws_sqs_queue": ("arn:{p}:sqs:{r}:{a}:{name}", ("name",)),
    "aws_cloudwatch_log_group": ("arn:{p}:logs:{r}:{a}:log-group:{name}", ("name",)),
    "aws_lambda_function": ("arn:{p}:lambda:{r}:{a}:function:{name}", ("function_name",)),
    "aws_sfn_state_machine": ("arn:{p}:states:{r}:{a}:stateMachine:{name}", ("name",)),
    "aws_cloudwatch_event_rule": ("arn:{p}:events:{r}:{a}:rule/{name}", ("name",)),
    "aws_cloudwatch_metric_alarm": ("arn:{p}:cloudwatch:{r}:{a}:alarm:{name}", ("alarm_name",)),
    "aws_cloudwatch_dashboard": ("arn:{p}:cloudwatch::{a}:dashboard/{name}", ("dashboard_name",)),
    "aws_iam_role": ("arn:{p}:iam::{a}:role{path}{name}", ("name",)),
    "aws_iam_policy": ("arn:{p}:iam::{a}:policy{path}{name}", ("name",)),
    "aws_kms_key": ("arn:{p}:kms:{r}:{a}:key/00000000-0000-0000-0000-000000000000", ()),
}


class RenderError(RuntimeError):
    pass


@dataclass
class Rendered:
    """What one configuration deploys: role -> policy documents, trust policies, outputs."""

    configuration: Configuration
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    trust: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


def module_variables() -> set[str]:
    text = "\n".join(path.read_text() for path in MODULE.glob("*.tf"))
    return set(re.findall(r'^variable\s+"([^"]+)"', text, flags=re.MULTILINE))


def applicable_configurations() -> list[Configuration]:
    available = module_variables()
    return [c for c in CONFIGURATIONS if set(c.needs) <= available]


def _hcl(value: Any) -> str:
    """Terraform accepts JSON syntax for values, except that object keys need no quotes."""
    return json.dumps(value)


def _address(change: dict[str, Any]) -> str:
    return str(change["address"])


def _arn(change: dict[str, Any]) -> str | None:
    template, name_keys = ARN_TEMPLATES.get(change["type"], ("", ()))
    if not template:
        return None
    after = change["change"]["after"] or {}
    name = next((after[key] for key in name_keys if isinstance(after.get(key), str)), None)
    if name is None and name_keys:
        return None
    path = after.get("path") if isinstance(after.get("path"), str) else "/"
    return template.format(p=PARTITION, r=REGION, a=ACCOUNT, name=name, path=path)


def _overrides(changes: list[dict[str, Any]]) -> str:
    blocks = []
    for change in changes:
        if change.get("mode") != "managed" or change.get("module_address"):
            continue
        # Every managed resource is overridden, so applying calls no AWS API; those with an ARN
        # get the one AWS would give them.
        arn = _arn(change)
        values: dict[str, Any] = {} if arn is None else {"arn": arn}
        after = change["change"]["after"] or {}
        if change["type"] in ("aws_iam_role", "aws_iam_policy"):
            values["id"] = after.get("name") if change["type"] == "aws_iam_role" else arn
        elif change["type"] == "aws_dynamodb_table":
            values["id"] = after.get("name")
        blocks.append(
            "  override_resource {\n"
            f"    target = {_address(change)}\n"
            f"    values = {_hcl(values)}\n"
            "  }\n"
        )
    return "".join(blocks)


HEADER = """# Generated by tools/iam/render.py: plans and mocked applies, never an AWS call.
# {provider_note}
provider "aws" {{
  region                      = "{region}"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true
{provider_3x}
}}

override_data {{
  target = data.aws_caller_identity.current
  values = {{
    account_id = "{account}", arn = "arn:{partition}:iam::{account}:root", id = "{account}"
  }}
}}
"""


# Provider 3.x asks EC2 for its platforms when configured (20-50 s of retries with no endpoint);
# 4.x removed both the call and this argument.
PROVIDER_3X = "  skip_get_ec2_platforms      = true"


def _provider_version() -> str:
    """The AWS provider version init selected ("" before init)."""
    result = _terraform("version", "-json")
    selections = json.loads(result.stdout or "{}").get("provider_selections", {})
    return str(selections.get("registry.terraform.io/hashicorp/aws", ""))


def _test_files(
    configurations: list[Configuration],
    overrides: dict[str, str],
    command: str = "plan",
    provider_version: str = "",
) -> dict[str, str]:
    """One file per configuration: runs of one file share a state, files do not."""
    header = HEADER.format(
        region=REGION,
        account=ACCOUNT,
        partition=PARTITION,
        provider_note=f"AWS provider {provider_version or '(not yet selected)'}",
        provider_3x=PROVIDER_3X if provider_version.startswith("3.") else "",
    )
    files = {}
    declared = module_variables()
    base = {**BASE_VARIABLES, **{k: v for k, v in IF_DECLARED.items() if k in declared}}
    for configuration in configurations:
        variables = {**base, **configuration.variables}
        lines = "\n".join(f"    {key} = {_hcl(value)}" for key, value in variables.items())
        files[f"{configuration.key}.tftest.hcl"] = (
            f'{header}\nrun "{configuration.key}" {{\n  command = {command}\n'
            f'  module {{\n    source = "{MODULE_SOURCE}"\n  }}\n'
            f"{overrides.get(configuration.key, '')}"
            f"  variables {{\n{lines}\n  }}\n}}\n"
        )
    return files


def _prepare_workdir() -> None:
    """An empty root that only declares the provider; the runs plan the module itself."""
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
    )
    (WORK / "tests").mkdir(exist_ok=True)


def _terraform(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_DATA_DIR": str(WORK / ".terraform")}
    env.pop("TF_WORKSPACE", None)
    return subprocess.run(
        [str(TERRAFORM), f"-chdir={WORK}", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _write_tests(files: dict[str, str]) -> None:
    for old in (WORK / "tests").glob("*.tftest.hcl"):
        old.unlink()
    for file_name, text in files.items():
        (WORK / "tests" / file_name).write_text(text)


def _run_tests(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Run the test files; the JSON plan (plan runs) or state (apply runs) of each run, by name."""
    _write_tests(files)
    result = _terraform("test", "-test-directory=tests", "-json", "-verbose", "-no-color")
    plans: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") in ("test_plan", "test_state"):
            plans[message["@testrun"]] = message[message["type"]]
        elif message.get("@level") == "error":
            diagnostic = message.get("diagnostic") or {}
            where = message.get("@testrun", "")
            failures.append(f"{where}: {message['@message']}: {diagnostic.get('detail', '')}")
    if result.returncode != 0 or failures:
        raise RenderError("terraform test failed:\n" + "\n".join(failures) + result.stderr)
    return plans


def _documents(state: dict[str, Any], configuration: Configuration) -> Rendered:
    """Role policies, trust policies and outputs from an apply run's state."""
    rendered = Rendered(configuration)
    for resource in (state.get("root_module") or {}).get("resources", []):
        attributes = resource.get("values") or {}
        if resource["type"] == "aws_iam_role_policy":
            role = str(attributes["role"])
            rendered.policies.setdefault(role, []).append(json.loads(attributes["policy"]))
        elif resource["type"] == "aws_iam_role":
            rendered.trust[attributes["name"]] = json.loads(attributes["assume_role_policy"])
            rendered.policies.setdefault(attributes["name"], [])
        elif resource["type"] in ("aws_iam_role_policy_attachment", "aws_iam_policy"):
            # Managed policies would need their attachments followed; the module has none today.
            raise RenderError(f"{resource['address']}: managed policies are not rendered yet")
    rendered.outputs = {key: out.get("value") for key, out in (state.get("outputs") or {}).items()}
    return rendered


def render(configurations: list[Configuration] | None = None) -> dict[str, Rendered]:
    """Plan each configuration twice (see the module docstring); the rendered roles by key."""
    configurations = configurations or applicable_configurations()
    _prepare_workdir()
    first_pass = _test_files(configurations, {})
    _write_tests(first_pass)  # init installs the module the runs call
    init = _terraform("init", "-input=false", "-no-color", "-test-directory=tests")
    if init.returncode != 0:
        raise RenderError(f"terraform init failed:\n{init.stderr}{init.stdout}")
    version = _provider_version()
    first = _run_tests(_test_files(configurations, {}, provider_version=version))
    overrides = {key: _overrides(plan["resource_changes"]) for key, plan in first.items()}
    second = _run_tests(_test_files(configurations, overrides, "apply", version))
    return {c.key: _documents(second[c.key], c) for c in configurations}


def role_key(role_name: str) -> str:
    """``rsm-proof-create`` -> ``create``: roles are named ``<name>-<function or service>``."""
    return role_name.removeprefix(f"{NAME}-")


def as_json(rendered: dict[str, Rendered]) -> dict[str, Any]:
    return {
        key: {
            "description": item.configuration.description,
            "variables": item.configuration.variables,
            "policies": item.policies,
            "trust": item.trust,
            "outputs": item.outputs,
        }
        for key, item in rendered.items()
    }


def policy_files(rendered: dict[str, Rendered]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, document) for every rendered permission and trust policy."""
    for key, item in rendered.items():
        for role, documents in item.policies.items():
            for number, document in enumerate(documents):
                yield f"{key}/{role_key(role)}/permissions{number or ''}", document
        for role, document in item.trust.items():
            yield f"{key}/{role_key(role)}/trust", document


def main() -> int:
    started = time.monotonic()
    rendered = render()
    out = WORK / "policies.json"
    out.write_text(json.dumps(as_json(rendered), indent=2))
    count = sum(1 for _ in policy_files(rendered))
    print(
        f"rendered {count} policies of {len(rendered)} configurations in "
        f"{time.monotonic() - started:.1f} s -> {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
