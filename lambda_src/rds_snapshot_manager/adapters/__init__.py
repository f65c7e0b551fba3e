"""boto3 in, domain objects out. AWS errors become domain outcomes here and nowhere else."""

from __future__ import annotations

from botocore.exceptions import ClientError

THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)


def error_code(error: ClientError) -> str:
    """The AWS error code, with every flavour of throttling reported as `Throttling`."""
    code = str(error.response.get("Error", {}).get("Code", "Unknown"))
    return "Throttling" if code in THROTTLING_CODES else code


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")) or str(error)
