"""Lint every rendered permission policy with parliament; fail on any finding not in the allow-list.

Runs in .venv-tools (parliament is installed there, beside checkov): standard library + parliament.

    .venv-tools/bin/python tools/iam/lint.py POLICIES_JSON [ALLOWLIST_JSON]

POLICIES_JSON is what ``python -m tools.iam.render`` writes. Each statement is linted as a policy
of its own, so every finding names its statement's Sid, and the allow-list (a committed JSON list
of ``{"issue", "sid" (optional: any statement), "actions", "reason"}``) accepts findings by issue,
Sid and the actions the finding names, never by configuration. Trust policies are not linted:
parliament 1.6 lints identity policies only (a trust policy has no Resource, which it reports as
MALFORMED); tests/iam checks their shape instead.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from parliament import analyze_policy_string  # type: ignore[import-not-found]

DEFAULT_ALLOWLIST = Path(__file__).with_name("parliament_allowlist.json")


def finding_actions(detail: Any) -> list[str]:
    """The actions a finding's detail names (RESOURCE_MISMATCH lists dicts with ``action``)."""
    items = detail if isinstance(detail, list) else [detail]
    return sorted(
        {str(item["action"]) for item in items if isinstance(item, dict) and "action" in item}
    )


def single_values(statement: dict[str, Any]) -> dict[str, Any]:
    """The statement with each one-element condition value list written as its element.

    IAM reads ``["true"]`` and ``"true"`` alike, and aws_iam_policy_document renders lists;
    parliament 1.6.4 crashes on a list under a Bool-typed operator (``Null``, ``Bool``) instead of
    linting it (statement.py ``_check_condition`` reads ``.value`` of the list)."""
    conditions = {
        operator: {
            key: value[0] if isinstance(value, list) and len(value) == 1 else value
            for key, value in keys.items()
        }
        for operator, keys in statement.get("Condition", {}).items()
    }
    return {**statement, "Condition": conditions} if conditions else statement


def lint_statement(statement: dict[str, Any]) -> list[dict[str, Any]]:
    document = {"Version": "2012-10-17", "Statement": [single_values(statement)]}
    policy = analyze_policy_string(json.dumps(document), include_community_auditors=True)
    return [
        {
            "issue": finding.issue,
            "sid": statement.get("Sid", ""),
            "actions": finding_actions(finding.detail),
            "detail": finding.detail,
        }
        for finding in policy.findings
    ]


def accepted_by(finding: dict[str, Any], allowlist: list[dict[str, Any]]) -> dict[str, Any] | None:
    for entry in allowlist:
        if (
            entry["issue"] == finding["issue"]
            and entry.get("sid", finding["sid"]) == finding["sid"]
            and set(finding["actions"]) <= set(entry.get("actions", []))
        ):
            return entry
    return None


def main(argv: list[str]) -> int:
    policies = json.loads(Path(argv[1]).read_text())
    allowlist_path = Path(argv[2]) if len(argv) > 2 else DEFAULT_ALLOWLIST
    allowlist: list[dict[str, Any]] = json.loads(allowlist_path.read_text())
    linted = statements = accepted = 0
    unexplained: list[str] = []
    used: set[int] = set()
    for configuration, item in policies.items():
        for role, documents in item["policies"].items():
            for document in documents:
                linted += 1
                for statement in document["Statement"]:
                    statements += 1
                    for finding in lint_statement(statement):
                        label = (
                            f"{configuration}/{role} {finding['sid']}: {finding['issue']} "
                            f"{json.dumps(finding['detail'])}"
                        )
                        entry = accepted_by(finding, allowlist)
                        if entry is None:
                            unexplained.append(label)
                            print(f"  UNEXPLAINED {label}")
                        else:
                            accepted += 1
                            used.add(id(entry))
                            print(f"  accepted    {label}\n              reason: {entry['reason']}")
    for entry in allowlist:
        if id(entry) not in used:
            print(f"  unused allow-list entry (nothing matched it): {json.dumps(entry)}")
    print(
        f"parliament: {linted} permission policies ({statements} statements) linted; "
        f"{accepted} findings accepted by {allowlist_path.name}, {len(unexplained)} unexplained"
    )
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
