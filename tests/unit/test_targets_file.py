import codecs

import pytest

from rds_snapshot_manager.adapters import targets_file
from rds_snapshot_manager.adapters.targets_file import TargetsFile, TargetsFileError
from tests.unit.conftest import Account, inject_error


def read(account: Account, body: bytes) -> list[str]:
    account.s3.create_bucket(Bucket="lists")
    account.s3.put_object(Bucket="lists", Key="rds_backup_list.txt", Body=body)
    return TargetsFile(account.s3, "lists", "rds_backup_list.txt").read_ids()


def test_list_file_is_read_from_s3_with_crlf_and_comments(account: Account) -> None:
    assert read(account, b"db-a\r\n# x\r\n\r\ndb-b\r\n") == ["db-a", "db-b"]


def test_missing_list_file_raises_a_reportable_error(account: Account) -> None:
    account.s3.create_bucket(Bucket="lists")
    with pytest.raises(TargetsFileError) as raised:
        TargetsFile(account.s3, "lists", "missing.txt").read_ids()
    assert (raised.value.location, raised.value.code) == ("s3://lists/missing.txt", "NoSuchKey")


def test_missing_list_file_denied_by_s3_is_reported_missing(account: Account) -> None:
    # Real S3 answers AccessDenied for a missing key when s3:ListBucket does not apply to GetObject.
    account.s3.create_bucket(Bucket="lists")
    inject_error(account.s3, "GetObject", "AccessDenied")
    with pytest.raises(TargetsFileError) as raised:
        TargetsFile(account.s3, "lists", "missing.txt").read_ids()
    assert raised.value.code == "NoSuchKey"


def test_existing_list_file_denied_by_s3_stays_access_denied(account: Account) -> None:
    account.s3.create_bucket(Bucket="lists")
    account.s3.put_object(Bucket="lists", Key="rds_backup_list.txt", Body=b"db-a\n")
    account.s3.put_object(Bucket="lists", Key="rds_backup_list.txt.old", Body=b"db-b\n")
    inject_error(account.s3, "GetObject", "AccessDenied")
    with pytest.raises(TargetsFileError) as raised:
        TargetsFile(account.s3, "lists", "rds_backup_list.txt").read_ids()
    assert raised.value.code == "AccessDenied"


@pytest.mark.parametrize(
    "body",
    [
        codecs.BOM_UTF8 + b"db-a\r\ndb-b\r\n",
        "db-a\r\ndb-b\r\n".encode("utf-16"),  # Notepad's "Unicode": BOM + UTF-16-LE
        codecs.BOM_UTF16_BE + "db-a\r\ndb-b\r\n".encode("utf-16-be"),
    ],
    ids=["utf-8-bom", "utf-16-le", "utf-16-be"],
)
def test_utf8_with_bom_and_utf16_lists_are_decoded(account: Account, body: bytes) -> None:
    assert read(account, body) == ["db-a", "db-b"]


def test_a_list_that_is_not_utf8_or_utf16_is_a_reported_error(account: Account) -> None:
    with pytest.raises(TargetsFileError) as raised:
        read(account, "db-a\r\ncafé-db\r\n".encode("cp1252"))
    assert raised.value.code == "InvalidEncoding"
    assert raised.value.message == "not UTF-8 text (byte 9 is 0xe9); save the list as UTF-8"


def test_a_list_larger_than_the_limit_is_refused_without_reading_it_whole(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(targets_file, "MAX_BYTES", 100)
    with pytest.raises(TargetsFileError) as raised:
        read(account, b"db-a\n" * 21)
    assert raised.value.code == "TooLarge"
