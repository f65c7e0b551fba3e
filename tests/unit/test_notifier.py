import json

import pytest

from rds_snapshot_manager.adapters.notifier import Notifier, PublishFailedError
from tests.unit.conftest import Account, inject_error


def test_publish_sends_message_structure_json(account: Account) -> None:
    body = json.dumps({"default": '{"status": "OK"}', "email": "all good"})
    Notifier(account.sns).publish(account.report_topic, "x" * 150, body)
    assert account.messages(account.report_queue) == [{"status": "OK"}]


def test_publish_failure_raises_a_domain_error_naming_the_topic(account: Account) -> None:
    inject_error(account.sns, "Publish", "KMSAccessDenied", message="key disabled")
    with pytest.raises(PublishFailedError, match="KMSAccessDenied: key disabled") as raised:
        Notifier(account.sns).publish(account.report_topic, "s", json.dumps({"default": "{}"}))
    assert raised.value.topic_arn == account.report_topic
