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


def fault(error: Exception) -> tuple[str, str]:
    """(error code, message) of any exception: the AWS code of a ClientError, else the exception's
    class name (`ReadTimeoutError`, `EndpointConnectionError`, `ConnectionClosedError`, ...)."""
    if isinstance(error, ClientError):
        return error_code(error), error_message(error)
    return type(error).__name__, str(error) or type(error).__name__
