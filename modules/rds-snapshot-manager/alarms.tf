locals {
  # Alarms that fire on one event: an execution failed or timed out, or EventBridge could not start
  # one (the role, the target, a throttle: no run, no report).
  event_alarms = {
    failed = {
      name        = "${var.name}-executions-failed"
      description = "A run of the ${var.name} snapshot state machine failed; its report (if any) is on the failure topic."
      namespace   = "AWS/States"
      metric      = "ExecutionsFailed"
      dimensions  = { StateMachineArn = aws_sfn_state_machine.this.arn }
    }
    timed-out = {
      name        = "${var.name}-executions-timed-out"
      description = "A run of the ${var.name} snapshot state machine timed out; its report (if any) is on the failure topic."
      namespace   = "AWS/States"
      metric      = "ExecutionsTimedOut"
      dimensions  = { StateMachineArn = aws_sfn_state_machine.this.arn }
    }
    failed-invocations = {
      name        = "${var.name}-schedule-failed-invocations"
      description = "The ${var.name} schedule rule failed to start the snapshot state machine; that run did not happen."
      namespace   = "AWS/Events"
      metric      = "FailedInvocations"
      dimensions  = { RuleName = aws_cloudwatch_event_rule.schedule.name }
    }
  }

  # The longest gap between two scheduled runs, in seconds, where the schedule makes it plain:
  # rate() exactly; a cron() that runs every day (day-of-month, month, day-of-week and year all
  # unrestricted) at most a day. Other cron expressions (weekly, monthly, given years), and gaps
  # whose window below exceeds 7 days, get no missed-run alarm: CloudWatch evaluates at most 7 days.
  rate_parts  = try(regex("^rate\\((\\d+) (minute|hour|day)s?\\)$", var.schedule_expression), null)
  cron_fields = try(regex("^cron\\(\\S+ \\S+ (\\S+) (\\S+) (\\S+) (\\S+)\\)$", var.schedule_expression), null)
  schedule_gap_seconds = (
    local.rate_parts != null ? tonumber(local.rate_parts[0]) * { minute = 60, hour = 3600, day = 86400 }[local.rate_parts[1]] :
    try(alltrue([for field in local.cron_fields : contains(["*", "?"], field)]), false) ? 86400 :
    null
  )
  # A margin for EventBridge's delivery lag and a slow start: 10 % of the gap, at least an hour.
  missed_run_window_seconds = local.schedule_gap_seconds == null ? null : local.schedule_gap_seconds + max(3600, ceil(local.schedule_gap_seconds / 10))
  # CloudWatch limits an alarm's period x evaluation periods to 1 day for periods under an hour and
  # to 7 days (604,800 s) otherwise; periods are multiples of 60 s. 5-minute periods up to a day,
  # hourly periods beyond.
  missed_run_period = try(local.missed_run_window_seconds <= 86400 ? 300 : 3600, null)
  missed_run_alarm = (
    local.missed_run_window_seconds != null && try(local.missed_run_window_seconds <= 604800, false)
    ? { period = local.missed_run_period, evaluation_periods = ceil(local.missed_run_window_seconds / local.missed_run_period) }
    : null
  )
}

resource "aws_cloudwatch_metric_alarm" "executions" {
  for_each = local.event_alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.failure.arn]
  tags                = var.tags
}

# No execution started for longer than the schedule's gap plus the margin: the rule is disabled or
# deleted, or EventBridge keeps failing. Missing data (no execution at all) counts as breaching, so
# after the first deployment the alarm fires once until the first run; start one by hand to check
# the deployment and clear it.
resource "aws_cloudwatch_metric_alarm" "missed_run" {
  count = local.missed_run_alarm == null ? 0 : 1

  alarm_name          = "${var.name}-missed-run"
  alarm_description   = "No run of the ${var.name} snapshot state machine started within ${local.missed_run_window_seconds} s (the schedule's longest gap plus a margin); the schedule may be disabled."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsStarted"
  dimensions          = { StateMachineArn = aws_sfn_state_machine.this.arn }
  statistic           = "Sum"
  period              = local.missed_run_alarm.period
  evaluation_periods  = local.missed_run_alarm.evaluation_periods
  datapoints_to_alarm = local.missed_run_alarm.evaluation_periods
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.failure.arn]
  tags                = var.tags
}
