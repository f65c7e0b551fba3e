"""A small IAM identity-policy evaluator: the subset of the policy language this module's roles use.

No maintained, permissively licensed evaluator fits (iam-ape is GPL-3, @cloud-copilot/iam-simulate
is AGPL-3, moto ignores most conditions), so this one implements the documented rules, each tested
in tests/iam/test_evaluator.py against the IAM User Guide's examples:

- Decision: an explicit Deny wins over any Allow; without an applicable Allow the request is
  implicitly denied (reference_policies_evaluation-logic.html).
- Action / NotAction: case-insensitive, wildcards ``*`` and ``?``.
- Resource / NotResource: case-SENSITIVE, wildcards ``*`` and ``?`` (``*`` spans ``:`` and ``/``).
- Condition: operators AND, keys of one operator AND, values of one key OR (NOR for the negated
  operators); a key missing from the request makes a condition false, except for the negated
  operators (true), ``...IfExists`` (true) and ``Null``; ``ForAllValues:`` is true for a missing
  key, ``ForAnyValue:`` false. Operators: String(Not)Equals, String(Not)EqualsIgnoreCase,
  String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool, Null.

Out of scope (the module uses none of them; an unknown operator raises instead of guessing):
numeric, date and IP operators, policy variables (``${...}``), Principal / NotPrincipal (identity
policies have none), resource-based policies, permissions boundaries, SCPs and session policies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

ContextValue = str | bool | Sequence[str]


class Decision(Enum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitly denied"
    IMPLICIT_DENY = "implicitly denied"

    @property
    def allowed(self) -> bool:
        return self is Decision.ALLOWED


@dataclass(frozen=True)
class Request:
    """One authorisation check: one action on one resource, with its request context.

    ``context`` keys are matched case-insensitively, as IAM does for condition keys; a value is a
    string, a bool, or a list of strings for multivalued keys (``aws:TagKeys``).
    """

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    matched: tuple[str, ...]  # Sids (or statement numbers) of the statements that decided

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


class UnsupportedPolicyError(ValueError):
    """The policy uses something this evaluator does not implement."""


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """``*`` is any run of characters (also none), ``?`` exactly one."""
    return _wildcard(pattern, ignore_case=ignore_case).fullmatch(value) is not None


def arn_match(pattern: str, arn: str) -> bool:
    """ArnLike / ArnEquals: the six ``:``-separated parts are matched one by one, case-sensitive.

    The last part (resource) keeps its own colons (``...:db:orders``)."""
    pattern_parts = pattern.split(":", 5)
    arn_parts = arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return False
    return all(wildcard_match(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Base operator -> (comparison(policy value, request value), negated)
_OPERATORS: dict[str, tuple[Any, bool]] = {
    "stringequals": (lambda p, v: p == v, False),
    "stringnotequals": (lambda p, v: p == v, True),
    "stringequalsignorecase": (lambda p, v: p.lower() == v.lower(), False),
    "stringnotequalsignorecase": (lambda p, v: p.lower() == v.lower(), True),
    "stringlike": (wildcard_match, False),
    "stringnotlike": (wildcard_match, True),
    "arnequals": (arn_match, False),
    "arnlike": (arn_match, False),
    "arnnotequals": (arn_match, True),
    "arnnotlike": (arn_match, True),
    "bool": (lambda p, v: p.lower() == v.lower(), False),
}


def _value_matches(base: str, policy_values: list[str], value: str) -> bool:
    """One request value against the policy's values: OR, or NOR for a negated operator."""
    compare, negated = _OPERATORS[base]
    hit = any(compare(p, value) for p in policy_values)
    return not hit if negated else hit


def _condition_true(operator: str, key: str, policy_value: Any, context: Mapping[str, Any]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    qualifier, base = qualifier.lower(), base.lower()
    if_exists = base.endswith("ifexists") and base != "null"
    if if_exists:
        base = base[: -len("ifexists")]
    if qualifier not in ("", "forallvalues", "foranyvalue"):
        raise UnsupportedPolicyError(f"Unknown condition qualifier in {operator!r}")
    if base != "null" and base not in _OPERATORS:
        raise UnsupportedPolicyError(f"Condition operator {operator!r} is not implemented")

    present = key.lower() in context
    raw = context.get(key.lower())
    values = [_text(v) for v in _as_list(raw)] if present else []
    policy_values = [_text(v) for v in _as_list(policy_value)]

    if base == "null":
        # "Null": "true" means the key must be absent (or empty), "false" that it is present.
        absent = not present or values == []
        return any((p.lower() == "true") == absent for p in policy_values)
    if qualifier == "forallvalues":
        # True when every request value matches; also when the key is missing or empty.
        return all(_value_matches(base, policy_values, v) for v in values)
    if qualifier == "foranyvalue":
        return any(_value_matches(base, policy_values, v) for v in values)
    if not present:
        return if_exists or _OPERATORS[base][1]
    return any(_value_matches(base, policy_values, v) for v in values)


def _conditions_true(conditions: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    return all(
        _condition_true(operator, key, policy_value, context)
        for operator, keys in conditions.items()
        for key, policy_value in keys.items()
    )


def _matches(statement: Mapping[str, Any], positive: str, negative: str, value: str) -> bool:
    ignore_case = positive == "Action"
    if positive in statement:
        patterns = _as_list(statement[positive])
        return any(wildcard_match(p, value, ignore_case=ignore_case) for p in patterns)
    if negative in statement:
        patterns = _as_list(statement[negative])
        return not any(wildcard_match(p, value, ignore_case=ignore_case) for p in patterns)
    raise UnsupportedPolicyError(f"Statement without {positive} or {negative}: {statement}")


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = _as_list(policy.get("Statement", []))
    for statement in statements:
        if "Principal" in statement or "NotPrincipal" in statement:
            raise UnsupportedPolicyError("Principal elements belong to resource-based policies")
    return statements


def evaluate(policies: Sequence[Mapping[str, Any] | str], request: Request) -> Evaluation:
    """Evaluate identity policies (documents or JSON text) of one principal for one request."""
    context = {key.lower(): value for key, value in request.context.items()}
    allows: list[str] = []
    denies: list[str] = []
    for policy in policies:
        document = json.loads(policy) if isinstance(policy, str) else policy
        for number, statement in enumerate(_statements(document)):
            if not (
                _matches(statement, "Action", "NotAction", request.action)
                and _matches(statement, "Resource", "NotResource", request.resource)
                and _conditions_true(statement.get("Condition", {}), context)
            ):
                continue
            label = str(statement.get("Sid") or f"#{number}")
            effect = statement.get("Effect")
            if effect == "Deny":
                denies.append(label)
            elif effect == "Allow":
                allows.append(label)
            else:
                raise UnsupportedPolicyError(f"Effect must be Allow or Deny, got {effect!r}")
    if denies:
        return Evaluation(Decision.EXPLICIT_DENY, tuple(denies))
    if allows:
        return Evaluation(Decision.ALLOWED, tuple(allows))
    return Evaluation(Decision.IMPLICIT_DENY, ())
