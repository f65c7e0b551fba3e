import pytest

from rds_snapshot_manager.adapters.targets_file import TargetsFile, TargetsFileError
from tests.unit.conftest import Account


def test_list_file_is_read_from_s3_with_crlf_and_comments(account: Account) -> None:
    account.s3.create_bucket(Bucket="lists")
    account.s3.put_object(
        Bucket="lists", Key="rds_backup_list.txt", Body=b"db-a\r\n# x\r\n\r\ndb-b\r\n"
    )
    assert TargetsFile(account.s3, "lists", "rds_backup_list.txt").read_ids() == ["db-a", "db-b"]


def test_missing_list_file_raises_a_reportable_error(account: Account) -> None:
    account.s3.create_bucket(Bucket="lists")
    with pytest.raises(TargetsFileError) as raised:
        TargetsFile(account.s3, "lists", "missing.txt").read_ids()
    assert (raised.value.location, raised.value.code) == ("s3://lists/missing.txt", "NoSuchKey")
