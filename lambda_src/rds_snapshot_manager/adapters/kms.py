"""KMS: is a key AWS-managed (e.g. `aws/rds`)? Snapshots encrypted with one cannot be shared."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from rds_snapshot_manager.adapters import error_code, error_message

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


class KeyCheckError(Exception):
    """kms:DescribeKey refused (denied, key gone): the share cannot be decided."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class KmsAdapter:
    """One DescribeKey per distinct key and region for the life of the adapter (one poll)."""

    def __init__(self, client_in: Callable[[str], KMSClient]) -> None:
        self._client_in = client_in
        self._managers: dict[tuple[str, str], str] = {}

    def is_aws_managed(self, region: str, key_id: str) -> bool:
        """KeyManager == "AWS" (kms:DescribeKey). An AWS refusal raises KeyCheckError; a fault
        past botocore's retries (a dropped connection) propagates as it is."""
        if (region, key_id) not in self._managers:
            try:
                metadata = self._client_in(region).describe_key(KeyId=key_id)["KeyMetadata"]
            except ClientError as error:
                raise KeyCheckError(error_code(error), error_message(error)) from error
            self._managers[region, key_id] = str(metadata.get("KeyManager", ""))
        return self._managers[region, key_id] == "AWS"
