locals {
  execution_alarms = {
    failed    = { metric = "ExecutionsFailed", what = "failed" }
    timed-out = { metric = "ExecutionsTimedOut", what = "timed out" }
  }
}

resource "aws_cloudwatch_metric_alarm" "executions" {
  for_each = local.execution_alarms

  alarm_name        = "${var.name}-executions-${each.key}"
  alarm_description = "A run of the ${var.name} snapshot state machine ${each.value.what}; its report (if any) is on the failure topic."
  namespace         = "AWS/States"
  metric_name       = each.value.metric
  dimensions = {
    StateMachineArn = aws_sfn_state_machine.this.arn
  }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.failure.arn]
  tags                = var.tags
}
