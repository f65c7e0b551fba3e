resource "aws_sns_topic" "report" {
  name = "${var.name}-report"
  # Without a customer key, the AWS-managed SNS key still encrypts the reports at rest.
  kms_master_key_id = coalesce(var.kms_key_arn, "alias/aws/sns")
  tags              = var.tags
}

resource "aws_sns_topic" "failure" {
  #checkov:skip=CKV_AWS_26:Encrypted with kms_key_arn when given. The AWS-managed alias/aws/sns key is not an option here: CloudWatch alarms cannot publish to a topic encrypted with it.
  name              = "${var.name}-failure"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

locals {
  email_subscriptions = {
    for pair in setproduct(["report", "failure"], var.notification_emails) :
    "${pair[0]}:${pair[1]}" => { topic = pair[0], email = pair[1] }
  }
  topic_arns = {
    report  = aws_sns_topic.report.arn
    failure = aws_sns_topic.failure.arn
  }
}

resource "aws_sns_topic_subscription" "email" {
  for_each = local.email_subscriptions

  topic_arn = local.topic_arns[each.value.topic]
  protocol  = "email"
  endpoint  = each.value.email
}
