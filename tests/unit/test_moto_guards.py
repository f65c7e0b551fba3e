"""The unit tests' moto account behaves as AWS does where moto is laxer (conftest.py)."""

import pytest
from botocore.exceptions import ClientError

from tests.unit.conftest import TABLE, Account


def test_a_batch_writing_one_key_twice_is_refused_as_dynamodb_does(account: Account) -> None:
    item = {"pk": {"S": "SNAPSHOT#x"}, "sk": {"S": "SNAPSHOT"}}
    with pytest.raises(ClientError, match="contains duplicates"):
        account.dynamodb.batch_write_item(
            RequestItems={TABLE: [{"PutRequest": {"Item": item}}] * 2}
        )
    account.dynamodb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": item}}]})
