"""SNS: publishes the run report with MessageStructure=json."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from rds_snapshot_manager.adapters import error_code, error_message
from rds_snapshot_manager.domain.report import SUBJECT_LIMIT

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class PublishFailedError(RuntimeError):
    """SNS refused the report; Notify logs the report and fails so the state machine retries."""

    def __init__(self, topic_arn: str, code: str, message: str) -> None:
        super().__init__(f"publishing to {topic_arn} failed: {code}: {message}")
        self.topic_arn = topic_arn
        self.code = code


class Notifier:
    def __init__(self, client: SNSClient) -> None:
        self._client = client

    def publish(self, topic_arn: str, subject: str, body: str) -> str:
        try:
            response = self._client.publish(
                TopicArn=topic_arn,
                # sns_subject already fits it (keeping the status); this only guards other callers
                Subject=subject[:SUBJECT_LIMIT],
                Message=body,
                MessageStructure="json",
            )
        except ClientError as error:
            raise PublishFailedError(topic_arn, error_code(error), error_message(error)) from error
        return response.get("MessageId", "")
