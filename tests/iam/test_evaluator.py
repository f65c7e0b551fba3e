"""The evaluator against the IAM User Guide's documented evaluation rules and examples.

Pages (IAM User Guide, https://docs.aws.amazon.com/IAM/latest/UserGuide/...):
[EVAL]   reference_policies_evaluation-logic.html
[DENY]   reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html
[OPS]    reference_policies_elements_condition_operators.html
[MULTI]  reference_policies_multi-value-conditions.html (multiple context keys or values)
[SETS]   reference_policies_condition-single-vs-multi-valued-context-keys.html
[SETEX]  reference_policies_condition_examples-multi-valued-context-keys.html
[ACTION] reference_policies_elements_action.html, [NOTACTION] ..._elements_notaction.html
[RES]    reference_policies_elements_resource.html, [NOTRES] ..._elements_notresource.html
"""

from __future__ import annotations

from typing import Any

import pytest

from tools.iam.evaluator import (
    Decision,
    Request,
    UnsupportedPolicyError,
    arn_match,
    evaluate,
    wildcard_match,
)


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def decide(document: dict[str, Any], action: str, resource: str = "*", **context: Any) -> Decision:
    return evaluate([document], Request(action, resource, context)).decision


def condition(conditions: dict[str, Any], **context: Any) -> bool:
    """Whether an Allow statement with only these conditions applies to the request."""
    document = policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": conditions}
    )
    return evaluate([document], Request("s3:GetObject", "*", context)).allowed


# [DENY] The AllowGetList / DenyReports example.
GET_LIST_DENY_REPORTS = policy(
    {
        "Sid": "AllowGetList",
        "Effect": "Allow",
        "Action": ["iam:Get*", "iam:List*"],
        "Resource": "*",
    },
    {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"},
)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("iam:GetUser", Decision.ALLOWED),
        ("iam:ListRoles", Decision.ALLOWED),
        ("iam:CreatePolicy", Decision.IMPLICIT_DENY),  # "All other actions ... implicitly denied"
        ("iam:GetOrganizationsAccessReport", Decision.EXPLICIT_DENY),  # Deny trumps the Get* allow
    ],
)
def test_documented_explicit_and_implicit_denies(action: str, expected: Decision) -> None:
    assert decide(GET_LIST_DENY_REPORTS, action) is expected


def test_an_explicit_deny_in_one_policy_beats_an_allow_in_another() -> None:
    # [DENY] "If someone adds another policy ... to grant them access to IAM reports, such as
    # iam:GenerateCredentialReport, report-related requests are still denied".
    other = policy({"Effect": "Allow", "Action": "iam:GenerateCredentialReport", "Resource": "*"})
    request = Request("iam:GenerateCredentialReport", "*")
    assert evaluate([GET_LIST_DENY_REPORTS, other], request).decision is Decision.EXPLICIT_DENY
    assert evaluate([other], request).decision is Decision.ALLOWED


def test_no_policy_means_implicit_deny() -> None:
    # [EVAL] "By default, all requests are implicitly denied".
    assert (
        evaluate([], Request("s3:GetObject", "arn:aws:s3:::b/k")).decision is Decision.IMPLICIT_DENY
    )


def test_action_names_are_case_insensitive_with_wildcards() -> None:
    # [ACTION] "iam:ListAccessKeys is the same as IAM:listaccesskeys"; * and ? in action names.
    document = policy(
        {"Effect": "Allow", "Action": ["IAM:listaccesskeys", "s3:Get?bject"], "Resource": "*"}
    )
    assert decide(document, "iam:ListAccessKeys").allowed
    assert decide(document, "s3:GetObject").allowed
    assert not decide(document, "s3:GetObjectAcl").allowed


def test_resource_arns_are_case_sensitive_with_wildcards_across_segments() -> None:
    # [RES] wildcards * and ? in any segment; ARN matching is case-sensitive.
    document = policy(
        {
            "Effect": "Allow",
            "Action": "rds:*",
            "Resource": ["arn:aws:rds:*:123456789012:db:orders-?"],
        }
    )
    assert decide(
        document, "rds:CreateDBSnapshot", "arn:aws:rds:eu-west-1:123456789012:db:orders-1"
    ).allowed
    assert not decide(
        document, "rds:CreateDBSnapshot", "arn:aws:rds:eu-west-1:123456789012:db:Orders-1"
    ).allowed
    assert not decide(
        document, "rds:CreateDBSnapshot", "arn:aws:rds:eu-west-1:123456789012:db:orders-12"
    ).allowed
    star = policy({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"})
    assert decide(star, "s3:GetObject", "arn:aws:s3:::bucket/a/b:c").allowed


def test_not_action_allows_everything_except_the_listed_actions() -> None:
    # [NOTACTION] Allow with NotAction "iam:*" on "*": every action except IAM ones.
    document = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide(document, "s3:ListAllMyBuckets").allowed
    assert decide(document, "iam:CreateUser") is Decision.IMPLICIT_DENY


def test_not_resource_deny_applies_to_every_other_resource() -> None:
    # [NOTRES] Deny s3:* on NotResource [HRBucket/Payroll, HRBucket/Payroll/*]: everything else.
    document = policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
        },
    )
    assert decide(document, "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/jan.csv").allowed
    assert decide(document, "s3:GetObject", "arn:aws:s3:::HRBucket/Other") is Decision.EXPLICIT_DENY


# [MULTI] ExamplePolicy: StringEquals department [finance, hr, legal] and role [audit, security];
# ArnLike aws:PrincipalArn [user/Ana, user/Mary]. Operators AND, keys AND, values OR.
MULTI = {
    "StringEquals": {
        "aws:PrincipalTag/department": ["finance", "hr", "legal"],
        "aws:PrincipalTag/role": ["audit", "security"],
    },
    "ArnLike": {
        "aws:PrincipalArn": [
            "arn:aws:iam::222222222222:user/Ana",
            "arn:aws:iam::222222222222:user/Mary",
        ]
    },
}


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            {
                "aws:PrincipalTag/department": "finance",
                "aws:PrincipalTag/role": "audit",
                "aws:PrincipalArn": "arn:aws:iam::222222222222:user/Mary",
            },
            True,
        ),
        (
            {
                "aws:PrincipalTag/department": "hr",
                "aws:PrincipalTag/role": "security",
                "aws:PrincipalArn": "arn:aws:iam::222222222222:user/Ana",
            },
            True,
        ),
        # One key missing: AND fails.
        (
            {
                "aws:PrincipalTag/department": "finance",
                "aws:PrincipalArn": "arn:aws:iam::222222222222:user/Mary",
            },
            False,
        ),
        # A value outside the OR list.
        (
            {
                "aws:PrincipalTag/department": "finance",
                "aws:PrincipalTag/role": "audit",
                "aws:PrincipalArn": "arn:aws:iam::222222222222:user/Bob",
            },
            False,
        ),
    ],
)
def test_multiple_operators_and_keys_are_and_values_are_or(
    context: dict[str, str], expected: bool
) -> None:
    assert condition(MULTI, **context) is expected


@pytest.mark.parametrize(
    ("department", "expected"),
    [("legal", True), ("finance", False), ("hr", False), (None, True)],
)
def test_negated_operator_values_are_nor_and_a_missing_key_is_true(
    department: str | None, expected: bool
) -> None:
    # [MULTI] negated operators: NOR over the values; [OPS] "If the policy condition requires
    # that the key is not matched, such as StringNotLike ..., and the right key is not present,
    # the condition is true."
    context = {} if department is None else {"aws:PrincipalTag/department": department}
    assert (
        condition(
            {"StringNotEquals": {"aws:PrincipalTag/department": ["finance", "hr"]}}, **context
        )
        is expected
    )


def test_a_missing_key_makes_a_positive_operator_false() -> None:
    # [OPS] "If the key that you specify in a policy condition is not present in the request
    # context, the values do not match and the condition is false."
    for operator in ("StringEquals", "StringLike", "ArnLike", "ArnEquals", "Bool"):
        assert not condition({operator: {"aws:RequestTag/ManagedBy": "x"}}), operator


@pytest.mark.parametrize(
    ("instance_type", "expected"),
    [(None, True), ("t2.micro", True), ("m3.large", True), ("m4.large", False)],
)
def test_if_exists_is_true_when_the_key_is_missing(
    instance_type: str | None, expected: bool
) -> None:
    # [OPS] ...IfExists example: StringLikeIfExists ec2:InstanceType [t1.*, t2.*, m3.*].
    context = {} if instance_type is None else {"ec2:InstanceType": instance_type}
    assert (
        condition({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}, **context)
        is expected
    )


def test_null_checks_presence_of_a_key() -> None:
    # [OPS] Null example: {"Null": {"aws:TokenIssueTime": "true"}} holds only without temporary
    # credentials (the key absent); "false" requires the key.
    assert condition({"Null": {"aws:TokenIssueTime": "true"}})
    assert not condition(
        {"Null": {"aws:TokenIssueTime": "true"}}, **{"aws:TokenIssueTime": "2026-11-25T00:00:00Z"}
    )
    assert condition(
        {"Null": {"aws:TokenIssueTime": "false"}}, **{"aws:TokenIssueTime": "2026-11-25T00:00:00Z"}
    )
    assert not condition({"Null": {"aws:TokenIssueTime": "false"}})


def test_bool_compares_true_and_false_case_insensitively() -> None:
    # [OPS] Bool example: aws:SecureTransport "false" matches requests not sent over TLS.
    assert condition({"Bool": {"aws:SecureTransport": "false"}}, **{"aws:SecureTransport": False})
    assert not condition(
        {"Bool": {"aws:SecureTransport": "false"}}, **{"aws:SecureTransport": "True"}
    )


def test_string_operators_case_sensitivity() -> None:
    # [OPS] StringEquals and StringLike are case-sensitive; ...IgnoreCase is not.
    tag = {"aws:RequestTag/ManagedBy": "RSM"}
    assert not condition({"StringEquals": {"aws:RequestTag/ManagedBy": "rsm"}}, **tag)
    assert condition({"StringEqualsIgnoreCase": {"aws:RequestTag/ManagedBy": "rsm"}}, **tag)
    assert condition({"StringLike": {"aws:RequestTag/ManagedBy": "R?M"}}, **tag)
    assert not condition({"StringLike": {"aws:RequestTag/ManagedBy": "r*"}}, **tag)
    assert condition({"StringNotLike": {"aws:RequestTag/ManagedBy": "r*"}}, **tag)


def test_condition_keys_match_case_insensitively() -> None:
    # [OPS] condition key names are not case-sensitive (aws:SourceIp == AWS:SourceIP).
    assert condition(
        {"StringEquals": {"AWS:RequestTag/ManagedBy": "rsm"}}, **{"aws:requesttag/managedby": "rsm"}
    )


def test_arn_operators_match_each_of_the_six_parts() -> None:
    # [OPS] ArnEquals/ArnLike: "Each of the six colon-delimited components of the ARN is checked
    # separately and each can include multi-character match wildcards (*) or single-character
    # match wildcards (?)"; case-sensitive.
    assert arn_match(
        "arn:aws:states:*:123456789012:stateMachine:rsm",
        "arn:aws:states:eu-west-1:123456789012:stateMachine:rsm",
    )
    assert not arn_match(
        "arn:aws:states:*:123456789012:stateMachine:rsm",
        "arn:aws:states:eu-west-1:123456789012:stateMachine:RSM",
    )
    assert not arn_match("arn:aws:sns:*:*", "arn:aws:sns:eu-west-1")  # fewer than six parts
    assert condition(
        {"ArnLike": {"aws:SourceArn": "arn:aws:events:*:123456789012:rule/rsm-*"}},
        **{"aws:SourceArn": "arn:aws:events:eu-west-1:123456789012:rule/rsm-schedule"},
    )
    assert condition(
        {"ArnNotEquals": {"aws:SourceArn": "arn:aws:events:*:111111111111:rule/*"}},
        **{"aws:SourceArn": "arn:aws:events:eu-west-1:123456789012:rule/rsm-schedule"},
    )


# [SETEX] Deny with ForAllValues:StringNotLike aws:TagKeys "key1*": denied unless the request's
# tag keys all start with key1. "The ForAllValues set operator also returns true if there are no
# context keys in the request."
@pytest.mark.parametrize(
    ("tag_keys", "denied"),
    [
        (["key1legal"], False),
        (["key1hr", "key1personnel"], False),
        (["key2audit"], True),
        (None, True),
        ([], True),
    ],
)
def test_for_all_values_deny_example(tag_keys: list[str] | None, denied: bool) -> None:
    document = policy(
        {"Effect": "Allow", "Action": "iam:TagUser", "Resource": "*"},
        {
            "Sid": "DenyRestrictedTags",
            "Effect": "Deny",
            "Action": "iam:TagUser",
            "Resource": "*",
            "Condition": {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}},
        },
    )
    context = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
    assert (decide(document, "iam:TagUser", **context) is Decision.EXPLICIT_DENY) is denied


@pytest.mark.parametrize(
    ("tag_keys", "expected"),
    [
        (None, False),
        (["Dept", "SIC"], False),
        (["DataClass", "Dept"], True),
        (["DataClass", "Owner"], True),
    ],
)
def test_for_any_value_needs_one_matching_value_and_is_false_without_the_key(
    tag_keys: list[str] | None, expected: bool
) -> None:
    # [SETS] ForAnyValue: "at least one member of the set of request context key values matches";
    # a missing key is false.
    context = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
    assert (
        condition({"ForAnyValue:StringEquals": {"aws:TagKeys": ["DataClass", "Owner"]}}, **context)
        is expected
    )


@pytest.mark.parametrize(
    ("tag_keys", "expected"),
    [
        (None, True),
        (["ManagedBy"], True),
        (["ManagedBy", "RunId"], True),
        (["ManagedBy", "Owner"], False),
    ],
)
def test_for_all_values_allows_only_listed_keys(tag_keys: list[str] | None, expected: bool) -> None:
    # [SETS] ForAllValues: "every member of the request context key set matches one of the policy
    # values"; true for a missing key (hence the Null guard the User Guide recommends).
    context = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
    assert (
        condition({"ForAllValues:StringEquals": {"aws:TagKeys": ["ManagedBy", "RunId"]}}, **context)
        is expected
    )


def test_wildcards() -> None:
    assert wildcard_match("a*c", "ac")
    assert wildcard_match("a?c", "abc")
    assert not wildcard_match("a?c", "ac")
    assert wildcard_match("a.c", "a.c")
    assert not wildcard_match("a.c", "abc")  # regex characters are literal


def test_unsupported_policy_elements_raise_instead_of_guessing() -> None:
    with pytest.raises(UnsupportedPolicyError):
        condition({"NumericLessThan": {"s3:max-keys": "10"}})
    with pytest.raises(UnsupportedPolicyError):
        decide(
            policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
            "s3:GetObject",
        )
    with pytest.raises(UnsupportedPolicyError):
        decide(policy({"Effect": "Allow", "Action": "s3:*"}), "s3:GetObject")


def test_deciding_statements_are_reported_by_sid() -> None:
    result = evaluate([GET_LIST_DENY_REPORTS], Request("iam:GetCredentialReport", "*"))
    assert result.decision is Decision.EXPLICIT_DENY
    assert result.matched == ("DenyReports",)
