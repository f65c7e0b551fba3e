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

################################################################################
# Backup assurance: alarms on the metrics Notify prints in the Embedded Metric Format (namespace
# RdsSnapshotManager, dimension Deployment = name; lambda_src domain/metrics.py names them).
################################################################################

locals {
  metric_namespace = "RdsSnapshotManager"
  # The default RPO: one interval, the longest a run waits for its snapshots, and an hour for
  # scheduler lag, so a deployment that works never breaches it.
  rpo_hours = coalesce(var.rpo_hours, var.backup_interval_hours + var.wait_timeout_minutes / 60 + 1)

  # The longest expected gap between two runs, in hours: exact for rate(); a cron() expression is
  # not parsed (weekly, monthly and list forms vary), so its expected gap is backup_interval_hours.
  expected_run_gap_hours = local.rate_parts != null ? local.schedule_gap_seconds / 3600 : var.backup_interval_hours

  # Every run's Notify prints one MaxNewestSnapshotAgeHours datapoint (the age of the fleet's
  # oldest newest-snapshot). The alarm looks at one-hour periods over a range that covers rpo_hours
  # and fires only when every period in it breaches, a missing period counting as breaching:
  # - runs stop: no datapoint for rpo_hours means no new snapshot for rpo_hours, so the RPO is
  #   breached for certain, and the alarm fires (silence is caught);
  # - a run reports an age above rpo_hours: the alarm fires once no within-RPO datapoint of an
  #   earlier run is left in the range, i.e. rpo_hours + 2 h after the last good report at most;
  # - a normal schedule never fires it: each run's datapoint keeps rpo_hours of periods good.
  # ceil(rpo_hours) full hours plus the current, partial hour, so the range never falls short.
  # CloudWatch allows period x evaluation periods of at most 7 days (604,800 s) for periods of an
  # hour or more (PutMetricAlarm, Period:
  # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html), so
  # an rpo_hours above 167 cannot be covered: that alarm then fires on a reported breach only and
  # keeps its state while no data arrives (treat_missing_data = "ignore"); the missed-run alarm
  # still covers silence for schedules whose gap is at most about 6 days.
  rpo_alarm_periods = ceil(local.rpo_hours) + 1
  rpo_alarm = local.rpo_alarm_periods <= 168 ? {
    evaluation_periods = local.rpo_alarm_periods
    treat_missing_data = "breaching"
    } : {
    evaluation_periods = 1
    treat_missing_data = "ignore"
  }

  assurance_alarms = {
    rpo = {
      name                = "${var.name}-rpo-breached"
      description         = "The ${var.name} fleet's oldest newest-snapshot age exceeded rpo_hours (${local.rpo_hours} h), or no run reported it for that long; the failure topic has the run reports."
      metric              = "MaxNewestSnapshotAgeHours"
      statistic           = "Maximum"
      threshold           = local.rpo_hours
      evaluation_periods  = local.rpo_alarm.evaluation_periods
      treat_missing_data  = local.rpo_alarm.treat_missing_data
      comparison_operator = "GreaterThanThreshold"
    }
    # PARTIAL runs (a vanished or failing database) keep the execution SUCCEEDED, so the
    # failed-executions alarm stays quiet about them. One-hour periods tolerate the minutes logs
    # take to become metrics; no run means no failure (silence is the RPO alarm's concern).
    targets-failed = {
      name                = "${var.name}-targets-failed"
      description         = "A run of ${var.name} could not snapshot at least one target (the run is PARTIAL); its report is on the failure topic."
      metric              = "TargetsFailed"
      statistic           = "Sum"
      threshold           = 0
      evaluation_periods  = 1
      treat_missing_data  = "notBreaching"
      comparison_operator = "GreaterThanThreshold"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "assurance" {
  for_each = local.assurance_alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = local.metric_namespace
  metric_name         = each.value.metric
  dimensions          = { Deployment = var.name }
  statistic           = each.value.statistic
  period              = 3600
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.evaluation_periods
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison_operator
  treat_missing_data  = each.value.treat_missing_data
  alarm_actions       = [aws_sns_topic.failure.arn]
  tags                = var.tags
}

# Runs further apart than the RPO breach it between runs, and the RPO alarm fires every time. A
# warning, not an error: a sparse schedule with runs started by hand (or by tests) is legitimate.
check "schedule_fits_the_rpo" {
  assert {
    condition     = local.expected_run_gap_hours <= local.rpo_hours
    error_message = "schedule_expression (${var.schedule_expression}) runs every ${local.expected_run_gap_hours} h, more than rpo_hours (${local.rpo_hours} h): unless runs are also started otherwise, every gap between two runs breaches the RPO and the RPO alarm fires. Run more often or raise rpo_hours."
  }
}
