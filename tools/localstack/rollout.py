"""Roll the root out into LocalStack as docs/ROLLOUT.md describes: an S3 backend, workspaces.

The root configuration (its *.tf files, modules/, envs/) is copied into a work directory,
unchanged, with three files added there and nowhere else:

- ``backend.tf``: the S3 backend block of docs/ROLLOUT.md (bucket, key, workspace_key_prefix,
  encrypt, use_lockfile), as a team would commit it;
- ``localstack.s3.tfbackend``: the emulator's endpoint and skip flags for that backend, passed to
  ``terraform init -backend-config=...`` (a backend block cannot be merged by an override file);
- ``localstack_override.tf``: an override file that merges LocalStack's endpoints and skip flags
  into the root's own ``provider "aws"`` block (its region, ``allowed_account_ids``, ``assume_role``
  and ``default_tags`` stay as they are). They are taken from examples/localstack/main.tf, so the
  two LocalStack configurations cannot drift apart.

The state bucket lives in LocalStack's account 000000000000 (access key ``test``), which plays the
central deployment account; each workspace's tfvars assume a deployer role in their own account.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.localstack.harness import (
    BASE_VARIABLES,
    DEFAULT_ACCESS_KEY_ID,
    ENDPOINT,
    EXAMPLE,
    REPO,
    Account,
    terraform,
)

# What a team commits next to the root: one state per workspace under workspace_key_prefix.
STATE_KEY = "rds-snapshot-manager/terraform.tfstate"
WORKSPACE_KEY_PREFIX = "rds-snapshot-manager"
BACKEND_TF = """terraform {{
  backend "s3" {{
    bucket               = "{bucket}"
    key                  = "{key}"
    workspace_key_prefix = "{prefix}"
    region               = "{region}"
    encrypt              = true
    use_lockfile         = true
  }}
}}
"""
# Only the emulator needs these; a real backend finds S3 and the credentials by itself.
BACKEND_LOCALSTACK = """endpoints = {{
  s3  = "{endpoint}"
  sts = "{endpoint}"
}}
use_path_style              = true
skip_credentials_validation = true
skip_requesting_account_id  = true
skip_metadata_api_check     = true
skip_region_validation      = true
access_key                  = "{access_key}"
secret_key                  = "test"
"""
FLAGS = ("-input=false", "-no-color")
ROOT_DIRECTORIES = ("modules", "envs")


def localstack_provider_settings(endpoint: str) -> str:
    """The skip flags and endpoints block of examples/localstack's provider, for ``endpoint``."""
    text = (EXAMPLE / "main.tf").read_text()
    skips = re.findall(r"^  skip_\w+ += true$", text, re.MULTILINE)
    endpoints = re.search(r"^  endpoints \{\n.*?^  \}$", text, re.MULTILINE | re.DOTALL)
    if not skips or endpoints is None:
        raise ValueError(f"No skip flags or endpoints block in {EXAMPLE / 'main.tf'}")
    block = endpoints.group(0).replace("var.localstack_endpoint", json.dumps(endpoint))
    return "\n".join([*skips, block])


def tfvars_value(path: Path, name: str) -> Any:
    """A string or list of strings set in a committed tfvars file (such HCL values are JSON)."""
    pattern = rf'^{name}\s*=\s*("[^"\n]*"|\[[^\]]*\])'
    match = re.search(pattern, path.read_text(), re.MULTILINE)
    if match is None:
        raise KeyError(f"{name} is not set in {path}")
    return json.loads(match.group(1))


@dataclass
class RootRollout:
    """A copy of the repository root whose workspaces keep their state in an S3 bucket."""

    workdir: Path
    bucket: str
    region: str

    @property
    def environments(self) -> dict[str, Path]:
        """The committed tfvars, by workspace."""
        return {path.stem: path for path in sorted((REPO / "envs").glob("*.tfvars"))}

    def account_of(self, workspace: str) -> str:
        (account,) = tfvars_value(self.environments[workspace], "allowed_account_ids")
        return str(account)

    def account(self, workspace: str) -> Account:
        return Account(self.account_of(workspace), self.region)

    @property
    def central(self) -> Account:
        """The account of the deployer's own credentials, which holds the state bucket."""
        return Account(DEFAULT_ACCESS_KEY_ID, self.region)

    def state_key(self, workspace: str) -> str:
        return f"{WORKSPACE_KEY_PREFIX}/{workspace}/{STATE_KEY}"

    def create(self) -> None:
        """Make the state bucket, copy the root with the backend and LocalStack files, init."""
        self.central.client("s3").create_bucket(
            Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": self.region}
        )
        # Every *.tf as this checkout has it, including the git-ignored override files that
        # `make setup` writes where only the offline provider mirror is reachable.
        for path in REPO.glob("*.tf"):
            shutil.copy2(path, self.workdir / path.name)
        # Without what `terraform init` or `test` left in them (provider links, lock files).
        working_files = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*")
        for name in ROOT_DIRECTORIES:
            shutil.copytree(REPO / name, self.workdir / name, ignore=working_files)
        (self.workdir / "backend.tf").write_text(
            BACKEND_TF.format(
                bucket=self.bucket, key=STATE_KEY, prefix=WORKSPACE_KEY_PREFIX, region=self.region
            )
        )
        (self.workdir / "localstack.s3.tfbackend").write_text(
            BACKEND_LOCALSTACK.format(endpoint=ENDPOINT, access_key=DEFAULT_ACCESS_KEY_ID)
        )
        settings = localstack_provider_settings(ENDPOINT)
        (self.workdir / "localstack_override.tf").write_text(f'provider "aws" {{\n{settings}\n}}\n')
        # The harness's settings for provider 3.39 and LocalStack (runtime, tracing, schedule),
        # for the variables the root declares; the committed tfvars stay untouched.
        declared = set(re.findall(r'^variable "(\w+)"', (REPO / "variables.tf").read_text(), re.M))
        emulator = {key: value for key, value in BASE_VARIABLES.items() if key in declared}
        self.write_variables("emulator", emulator)
        self.terraform("init", *FLAGS, "-backend-config=localstack.s3.tfbackend")

    def write_variables(self, name: str, variables: dict[str, Any]) -> str:
        path = self.workdir / f"{name}.tfvars.json"
        path.write_text(json.dumps(variables, indent=2))
        return f"-var-file={path.name}"

    def terraform(self, *args: str, access_key_id: str = DEFAULT_ACCESS_KEY_ID) -> str:
        """Run terraform in the copy with the deployer's credentials (the central account's)."""
        env = {
            "AWS_ACCESS_KEY_ID": access_key_id,
            "AWS_SECRET_ACCESS_KEY": "test",
            # Nothing from a developer's ~/.aws may choose credentials or a profile.
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_PROFILE": "",
            "TF_WORKSPACE": "",
        }
        data_dir = self.workdir / ".terraform"
        return terraform(data_dir, *args, chdir=self.workdir, env=env)

    def var_files(self, environment: str) -> tuple[str, ...]:
        """The committed tfvars of ``environment``, then the emulator's settings."""
        return (f"-var-file=envs/{environment}.tfvars", "-var-file=emulator.tfvars.json")

    def apply(
        self,
        workspace: str,
        tfvars: str | None = None,
        extra_var_files: tuple[str, ...] = (),
        access_key_id: str = DEFAULT_ACCESS_KEY_ID,
    ) -> dict[str, Any]:
        """Select ``workspace`` (creating it) and apply a tfvars file there; the outputs."""
        self.terraform("workspace", "select", "-or-create", workspace)
        var_files = (*self.var_files(tfvars or workspace), *extra_var_files)
        self.terraform("apply", *FLAGS, "-auto-approve", *var_files, access_key_id=access_key_id)
        raw = self.terraform("output", "-no-color", "-json")
        return {key: value["value"] for key, value in json.loads(raw).items()}

    def destroy(self, workspace: str) -> None:
        self.terraform("workspace", "select", workspace)
        self.terraform("destroy", *FLAGS, "-auto-approve", *self.var_files(workspace))

    def delete_bucket(self) -> None:
        s3 = self.central.client("s3")
        for item in s3.list_objects_v2(Bucket=self.bucket).get("Contents", []):
            s3.delete_object(Bucket=self.bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=self.bucket)
