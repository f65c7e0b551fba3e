"""Check a role's policies against the expected and forbidden cases; keep a printable ledger.

Shared by tests/iam (rendered policies) and tests/integration/test_iam_requests.py (deployed ones).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tools.iam.requests import Call, Case, Deployment, Outcome, decide, share_value_violations

# Every decision the session made and their counts, printed by write_report at the end
# (tests/iam/conftest.py; tests/integration/test_iam_requests.py at the end of its module).
DECISIONS: list[str] = []
TALLY: Counter[str] = Counter()


def note(
    kind: str, where: str, role: str, description: str, outcome: Outcome, *, refused: str = ""
) -> None:
    verdict = "ALLOWED" if outcome.allowed else "DENIED"
    if refused:
        verdict = "REFUSED"
        refused = f"; refused by value: {refused}"
    call = outcome.call
    DECISIONS.append(
        f"{kind:<9} {verdict:<7} {where} {role}: {description} "
        f"[{call.service}:{call.operation}] -> {outcome.describe()}{refused}"
    )


class WrongDecisionError(AssertionError):
    pass


def check_case(
    case: Case, deployment: Deployment, policies: Sequence[Mapping[str, Any]], where: str
) -> Outcome | None:
    """Evaluate one case; returns the outcome when it was decided wrongly by a module that does not
    implement the issue-9 design and the case is one of its known gaps (the caller marks XFAIL);
    raises WrongDecisionError when decided wrongly otherwise."""
    call: Call = case.call(deployment)
    outcome = decide(policies, deployment, call)
    kind = "required" if case.allowed else "forbidden"
    violations = share_value_violations(deployment, call)
    if case.value_level:
        # IAM cannot refuse it (no condition key on the values): the value check must.
        note(kind, where, case.role, case.description, outcome, refused="; ".join(violations))
        if case.allowed or not violations:
            raise WrongDecisionError(f"{where} {case.role}: {case.description}: no value refused")
        TALLY["refused"] += 1
        return None
    note(kind, where, case.role, case.description, outcome)
    if case.allowed and violations:
        raise WrongDecisionError(f"{where} {case.role}: {case.description}: {violations}")
    if outcome.allowed == case.allowed:
        TALLY["allowed" if case.allowed else "denied"] += 1
        return None
    if case.gap and not deployment.issue9_iam:
        TALLY["gap"] += 1
        return outcome
    expected = "allowed" if case.allowed else "denied"
    raise WrongDecisionError(
        f"{where} {case.role}: {case.description} must be {expected}, but: {outcome.describe()}"
    )


COUNT_LABELS = {
    "policies": "policies rendered",
    "linted": "permission policies linted by parliament",
    "allowed": "required requests evaluated allowed",
    "denied": "forbidden requests denied",
    "refused": "forbidden by value, refused by the share value check (IAM has no key for them)",
    "recorded allowed": "recorded calls of deployed functions evaluated allowed",
    "gap": "decided wrongly by this module (known issue-9 gaps, XFAIL)",
}


def write_report(write: Callable[[str], None]) -> None:
    """Every decision of the session, then the counts (the issue's resolving note quotes them)."""
    for line in DECISIONS:
        write(line)
    counts = [f"{TALLY[key]} {label}" for key, label in COUNT_LABELS.items() if key in TALLY]
    write("IAM proof counts: " + "; ".join(counts))
