"""Keep what repeats the module's interface in line with variables.tf and outputs.tf.

- The README's input and output tables, between the BEGIN_TF_DOCS and END_TF_DOCS markers (the
  terraform-docs convention): rewritten, or with `--check` compared.
- The configurations that pass every module input through (the root, examples/localstack): each
  must declare every module variable with the same description, type and default (checked only).
Relies on `terraform fmt` layout.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "modules" / "rds-snapshot-manager"
README = MODULE / "README.md"
PASS_THROUGH = (REPO / "variables.tf", REPO / "examples" / "localstack" / "variables.tf")
# Defaults a pass-through configuration deliberately changes, with the reason.
DEFAULT_OVERRIDES = {
    # LocalStack does not keep a state machine's tracing setting: every plan shows a change, and
    # provider 3.39 crashes re-applying it.
    (REPO / "examples" / "localstack" / "variables.tf", "xray_tracing"): "false",
}
# Variables a pass-through configuration declares with its own meaning, with the reason.
OWN_DECLARATIONS = {
    # The root's provider refuses credentials for any other account (it needs at least one id),
    # which fails earlier than the module's optional guard; the root does not pass it on.
    (REPO / "variables.tf", "allowed_account_ids"),
}
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"

BLOCK = re.compile(r'^(variable|output) "(\w+)" \{\n(.*?)^\}', re.MULTILINE | re.DOTALL)
DESCRIPTION = re.compile(r'^  description = "((?:[^"\\]|\\.)*)"$', re.MULTILINE)
# A type or default runs until the next top-level argument or nested block of the variable.
ARGUMENT = r"^  {name}\s+= (.*?)(?=^  [a-z_]+ *(?:=|\{{)|\Z)"


def blocks(path: Path, kind: str) -> list[tuple[str, str]]:
    return [(name, body) for k, name, body in BLOCK.findall(path.read_text()) if k == kind]


def argument(body: str, name: str) -> str | None:
    match = re.search(ARGUMENT.format(name=name), body, re.MULTILINE | re.DOTALL)
    if match is None:
        return None
    lines = [" ".join(line.split()) for line in match.group(1).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    for line in lines[1:]:
        # Attributes of a multi-line object type or default are separated by ", ".
        text += line if text.endswith(("{", "(")) or line.startswith(("}", ")")) else f", {line}"
    return text


def description(body: str) -> str:
    match = DESCRIPTION.search(body)
    return match.group(1).replace('\\"', '"') if match else ""


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    lines = [
        BEGIN,
        "## Inputs",
        "",
        "| Name | Description | Type | Default |",
        "|------|-------------|------|---------|",
    ]
    for name, body in blocks(MODULE / "variables.tf", "variable"):
        default = argument(body, "default")
        shown = "required" if default is None else f"`{cell(default)}`"
        lines.append(
            f"| `{name}` | {cell(description(body))} | `{cell(argument(body, 'type') or '')}` "
            f"| {shown} |"
        )
    lines += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    lines += [
        f"| `{name}` | {cell(description(body))} |"
        for name, body in blocks(MODULE / "outputs.tf", "output")
    ]
    lines.append(END)
    return "\n".join(lines)


def signature(body: str) -> tuple[str, str | None, str | None]:
    return description(body), argument(body, "type"), argument(body, "default")


def pass_through_drift() -> list[str]:
    module = {name: signature(body) for name, body in blocks(MODULE / "variables.tf", "variable")}
    drift = []
    for path in PASS_THROUGH:
        declared = {name: signature(body) for name, body in blocks(path, "variable")}
        drift += [
            f"{path.relative_to(REPO)}: variable {name} differs from the module's (description, "
            "type or default), or is missing"
            for name, (text, kind, default) in module.items()
            if (path, name) not in OWN_DECLARATIONS
            and declared.get(name) != (text, kind, DEFAULT_OVERRIDES.get((path, name), default))
        ]
    return drift


def main(args: list[str]) -> int:
    drift = pass_through_drift()
    for line in drift:
        print(line)
    text = README.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    updated = text[:start] + render() + text[end:]
    if updated != text and "--check" in args:
        print(f"{README.relative_to(REPO)}: tables differ from the module; run {sys.argv[0]}")
        return 1
    if updated != text:
        README.write_text(updated)
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
