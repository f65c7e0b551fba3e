"""S3: the optional list file of identifiers (the original sample's rds_backup_list.txt)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from rds_snapshot_manager.adapters import error_code, error_message
from rds_snapshot_manager.domain.targets import parse_target_list

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class TargetsFileError(Exception):
    """The list file could not be read; reported as a failure of the run, not a crash."""

    def __init__(self, location: str, code: str, message: str) -> None:
        super().__init__(f"{location}: {code}: {message}")
        self.location = location
        self.code = code
        self.message = message


class TargetsFile:
    def __init__(self, client: S3Client, bucket: str, key: str) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key

    @property
    def location(self) -> str:
        return f"s3://{self._bucket}/{self._key}"

    def read_ids(self) -> list[str]:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=self._key)["Body"].read()
        except ClientError as error:
            raise TargetsFileError(
                self.location, error_code(error), error_message(error)
            ) from error
        return parse_target_list(body.decode("utf-8-sig"))
