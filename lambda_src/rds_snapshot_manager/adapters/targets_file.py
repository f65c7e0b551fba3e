"""S3: the optional list file of identifiers (the original sample's rds_backup_list.txt)."""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from rds_snapshot_manager.adapters import error_code, error_message
from rds_snapshot_manager.domain.targets import parse_target_list

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# A list of 15,000 databases is ~1 MB; anything much larger is not a list of identifiers, and
# reading it whole could exhaust the function's memory. Only this much is ever read.
MAX_BYTES = 4 * 1024 * 1024


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
            body = self._client.get_object(Bucket=self._bucket, Key=self._key)["Body"]
            data = body.read(MAX_BYTES + 1)
        except ClientError as error:
            if error_code(error) == "AccessDenied" and self._is_missing():
                raise TargetsFileError(
                    self.location, "NoSuchKey", "the list file does not exist"
                ) from error
            raise TargetsFileError(
                self.location, error_code(error), error_message(error)
            ) from error
        if len(data) > MAX_BYTES:
            raise TargetsFileError(
                self.location, "TooLarge", f"the list is larger than {MAX_BYTES} bytes"
            )
        return parse_target_list(self._decode(data))

    def _is_missing(self) -> bool:
        """S3 answers a GetObject of a missing key with AccessDenied unless the caller may list the
        bucket. The module grants s3:ListBucket only with s3:prefix = the key, which a GetObject
        request does not carry, but this listing does, so it tells "missing" from "denied"."""
        try:
            listing = self._client.list_objects_v2(Bucket=self._bucket, Prefix=self._key, MaxKeys=1)
        except ClientError:
            return False
        # The key itself sorts first among the keys it prefixes.
        return not any(item["Key"] == self._key for item in listing.get("Contents", []))

    def _decode(self, data: bytes) -> str:
        """UTF-8 (with or without BOM), or UTF-16 with a BOM (Notepad's "Unicode"). Anything else
        (cp1252, binary) is reported as a failed list rather than guessed: a wrong guess would
        turn ids into other ids."""
        utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        try:
            return data.decode("utf-16" if utf16 else "utf-8-sig")
        except UnicodeDecodeError as error:
            raise TargetsFileError(
                self.location,
                "InvalidEncoding",
                f"not {'UTF-16' if utf16 else 'UTF-8'} text (byte {error.start} is "
                f"0x{data[error.start]:02x}); save the list as UTF-8",
            ) from None
