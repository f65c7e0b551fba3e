# Backup assurance (issue 11), module side: the RPO and failed-targets alarms, the assurance
# inputs and their environment variables, and the optional dashboard. The metric names are D12's
# (lambda_src domain/metrics.py); the Python test tests/unit/test_dashboard.py checks the template.
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name                    = "rsm-test"
  db_instance_identifiers = ["orders-db"]
  # Provider 3.39 (the offline mirror) rejects newer runtimes client-side; the default stays current.
  lambda_runtime         = "python3.8"
  allow_emulator_runtime = true
  # Every metric name of D12; the dashboard may use only these.
  d12_metric_names = [
    "Runs", "RunsOK", "RunsPartial", "RunsFailed", "RunsSkipped", "SnapshotsCreated",
    "SnapshotsDeleted", "TargetsSkipped", "TargetsFailed", "RunDurationSeconds", "RpoBreaches",
    "MaxNewestSnapshotAgeHours", "SnapshotsCopied", "SnapshotsShared", "WorkFailed",
    "NewestSnapshotAgeHours", "RestoreSeconds", "RestoreTestsFailed",
  ]
}

run "rpo_alarm_covers_the_default_rpo_in_hourly_periods_and_treats_silence_as_a_breach" {
  command = apply
  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.assurance["rpo"].alarm_name == "rsm-test-rpo-breached" &&
      aws_cloudwatch_metric_alarm.assurance["rpo"].namespace == "RdsSnapshotManager" &&
      aws_cloudwatch_metric_alarm.assurance["rpo"].metric_name == "MaxNewestSnapshotAgeHours" &&
      aws_cloudwatch_metric_alarm.assurance["rpo"].dimensions == tomap({ Deployment = "rsm-test" }) &&
      aws_cloudwatch_metric_alarm.assurance["rpo"].statistic == "Maximum"
    )
    error_message = "The RPO alarm must watch the Maximum of RdsSnapshotManager MaxNewestSnapshotAgeHours for Deployment = name."
  }

  assert {
    # Default RPO: backup_interval_hours 24 + wait_timeout_minutes 120 / 60 + 1 = 27 h.
    condition     = aws_cloudwatch_metric_alarm.assurance["rpo"].threshold == 27 && aws_cloudwatch_metric_alarm.assurance["rpo"].comparison_operator == "GreaterThanThreshold"
    error_message = "The RPO alarm must fire above the default RPO of 27 h; got ${aws_cloudwatch_metric_alarm.assurance["rpo"].comparison_operator} ${aws_cloudwatch_metric_alarm.assurance["rpo"].threshold}."
  }

  assert {
    # 27 full hours plus the current, partial one; all must breach (28 of 28).
    condition = (
      aws_cloudwatch_metric_alarm.assurance["rpo"].period == 3600 &&
      aws_cloudwatch_metric_alarm.assurance["rpo"].evaluation_periods == 28 &&
      aws_cloudwatch_metric_alarm.assurance["rpo"].datapoints_to_alarm == 28
    )
    error_message = "The RPO alarm must evaluate 28 of 28 one-hour periods; got ${aws_cloudwatch_metric_alarm.assurance["rpo"].datapoints_to_alarm} of ${aws_cloudwatch_metric_alarm.assurance["rpo"].evaluation_periods} x ${aws_cloudwatch_metric_alarm.assurance["rpo"].period} s."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.assurance["rpo"].treat_missing_data == "breaching"
    error_message = "Missing data must breach the RPO alarm, so it fires when runs stop."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.assurance["rpo"].period * aws_cloudwatch_metric_alarm.assurance["rpo"].evaluation_periods <= 604800
    error_message = "CloudWatch refuses an alarm whose period x evaluation periods exceeds 7 days."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.assurance["rpo"].alarm_actions == toset([aws_sns_topic.failure.arn]) && aws_cloudwatch_metric_alarm.assurance["targets-failed"].alarm_actions == toset([aws_sns_topic.failure.arn])
    error_message = "Both assurance alarms must notify the failure topic, like the execution alarms."
  }

  assert {
    condition     = output.alarm_arns != null && contains(keys(output.alarm_arns), "rpo") && contains(keys(output.alarm_arns), "targets-failed")
    error_message = "alarm_arns must list the rpo and targets-failed alarms."
  }
}

run "failed_targets_alarm_fires_on_any_failed_target_of_a_partial_run" {
  command = apply
  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.assurance["targets-failed"].alarm_name == "rsm-test-targets-failed" &&
      aws_cloudwatch_metric_alarm.assurance["targets-failed"].namespace == "RdsSnapshotManager" &&
      aws_cloudwatch_metric_alarm.assurance["targets-failed"].metric_name == "TargetsFailed" &&
      aws_cloudwatch_metric_alarm.assurance["targets-failed"].dimensions == tomap({ Deployment = "rsm-test" }) &&
      aws_cloudwatch_metric_alarm.assurance["targets-failed"].statistic == "Sum"
    )
    error_message = "The failed-targets alarm must watch the Sum of RdsSnapshotManager TargetsFailed for Deployment = name."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.assurance["targets-failed"].threshold == 0 && aws_cloudwatch_metric_alarm.assurance["targets-failed"].comparison_operator == "GreaterThanThreshold"
    error_message = "The failed-targets alarm must fire on a Sum above 0."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.assurance["targets-failed"].period == 3600 &&
      aws_cloudwatch_metric_alarm.assurance["targets-failed"].evaluation_periods == 1 &&
      aws_cloudwatch_metric_alarm.assurance["targets-failed"].datapoints_to_alarm == 1
    )
    error_message = "The failed-targets alarm must evaluate one one-hour period."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.assurance["targets-failed"].treat_missing_data == "notBreaching"
    error_message = "No run is no failed target; silence is the RPO alarm's concern."
  }
}

run "functions_get_the_assurance_settings_with_their_defaults" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition = alltrue([
      for function in aws_lambda_function.this : (
        function.environment[0].variables.RSM_RPO_HOURS == "27" &&
        function.environment[0].variables.RSM_SNAPSHOT_PRICE_PER_GIB_MONTH == "0.095" &&
        function.environment[0].variables.RSM_METRIC_TARGET_LIMIT == "50"
      )
    ])
    error_message = "Every function must get RSM_RPO_HOURS = 27, RSM_SNAPSHOT_PRICE_PER_GIB_MONTH = 0.095 and RSM_METRIC_TARGET_LIMIT = 50 by default."
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0
    error_message = "No dashboard may exist unless create_dashboard is true."
  }
}

run "no_dashboard_means_null_dashboard_outputs" {
  command = apply
  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition     = output.dashboard_name == null && output.dashboard_arn == null
    error_message = "Without a dashboard its outputs must be null."
  }
}

run "explicit_settings_reach_the_functions_and_the_rpo_alarm" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    backup_interval_hours        = 12
    rpo_hours                    = 30.5
    snapshot_price_per_gib_month = 0.2
    metric_target_limit          = 0
  }

  assert {
    condition = (
      aws_lambda_function.this["notify"].environment[0].variables.RSM_RPO_HOURS == "30.5" &&
      aws_lambda_function.this["notify"].environment[0].variables.RSM_SNAPSHOT_PRICE_PER_GIB_MONTH == "0.2" &&
      aws_lambda_function.this["notify"].environment[0].variables.RSM_METRIC_TARGET_LIMIT == "0"
    )
    error_message = "rpo_hours, snapshot_price_per_gib_month and metric_target_limit must reach the functions unchanged."
  }

  assert {
    # ceil(30.5) = 31 full hours plus the current one.
    condition     = aws_cloudwatch_metric_alarm.assurance["rpo"].threshold == 30.5 && aws_cloudwatch_metric_alarm.assurance["rpo"].evaluation_periods == 32 && aws_cloudwatch_metric_alarm.assurance["rpo"].datapoints_to_alarm == 32
    error_message = "rpo_hours = 30.5 must give threshold 30.5 over 32 of 32 hourly periods; got ${aws_cloudwatch_metric_alarm.assurance["rpo"].threshold} over ${aws_cloudwatch_metric_alarm.assurance["rpo"].evaluation_periods}."
  }
}

run "rpo_of_exactly_a_week_is_covered_by_the_longest_range_cloudwatch_allows" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    backup_interval_hours = 24
    rpo_hours             = 167
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.assurance["rpo"].evaluation_periods == 168 && aws_cloudwatch_metric_alarm.assurance["rpo"].treat_missing_data == "breaching"
    error_message = "rpo_hours = 167 must give 168 hourly periods (7 days, the limit), missing data breaching."
  }
}

run "rpo_beyond_a_week_alarms_on_reported_breaches_and_keeps_its_state_in_silence" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    backup_interval_hours = 24
    rpo_hours             = 168
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.assurance["rpo"].threshold == 168 &&
      aws_cloudwatch_metric_alarm.assurance["rpo"].period == 3600 &&
      aws_cloudwatch_metric_alarm.assurance["rpo"].evaluation_periods == 1 &&
      aws_cloudwatch_metric_alarm.assurance["rpo"].datapoints_to_alarm == 1 &&
      aws_cloudwatch_metric_alarm.assurance["rpo"].treat_missing_data == "ignore"
    )
    error_message = "An RPO beyond CloudWatch's 7-day range must alarm on one breaching hour and ignore missing data."
  }
}

run "rate_schedule_sparser_than_the_rpo_warns" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    schedule_expression = "rate(2 days)"
  }

  expect_failures = [check.schedule_fits_the_rpo]
}

run "rate_schedule_within_the_rpo_plans" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    schedule_expression   = "rate(2 days)"
    backup_interval_hours = 48
  }

  assert {
    # 48 + 2 + 1 = 51 h.
    condition     = aws_cloudwatch_metric_alarm.assurance["rpo"].threshold == 51 && aws_cloudwatch_metric_alarm.assurance["rpo"].evaluation_periods == 52
    error_message = "rate(2 days) with backup_interval_hours = 48 must plan an RPO alarm at 51 h over 52 hourly periods."
  }
}

run "rpo_below_the_backup_interval_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    rpo_hours = 23.5
  }
  expect_failures = [var.rpo_hours]
}

run "rpo_of_zero_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    backup_interval_hours = 0.5
    rpo_hours             = 0
  }
  expect_failures = [var.rpo_hours]
}

run "rpo_over_ten_years_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    rpo_hours = 87601
  }
  expect_failures = [var.rpo_hours]
}

run "negative_snapshot_price_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    snapshot_price_per_gib_month = -0.01
  }
  expect_failures = [var.snapshot_price_per_gib_month]
}

run "snapshot_price_over_1000_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    snapshot_price_per_gib_month = 1000.5
  }
  expect_failures = [var.snapshot_price_per_gib_month]
}

run "metric_target_limit_over_500_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    metric_target_limit = 501
  }
  expect_failures = [var.metric_target_limit]
}

run "fractional_metric_target_limit_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    metric_target_limit = 2.5
  }
  expect_failures = [var.metric_target_limit]
}

run "dashboard_is_valid_json_of_d12_metrics_with_the_rpo_line" {
  command = apply
  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    create_dashboard = true
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 1 && aws_cloudwatch_dashboard.this[0].dashboard_name == "rsm-test" && output.dashboard_name == "rsm-test"
    error_message = "create_dashboard = true must create one dashboard named after the deployment."
  }

  assert {
    condition     = can(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) && length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) == 6
    error_message = "The dashboard body must be JSON with six widgets."
  }

  assert {
    # Each metric row is [namespace, metric, "Deployment", name, {options}]; SEARCH rows name theirs.
    condition = alltrue(flatten([
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for row in widget.properties.metrics : (
          can(row[0].expression)
          ? alltrue([for found in regexall("MetricName=\"(\\w+)\" Deployment=\"([^\"]*)\"", row[0].expression) : contains(var.d12_metric_names, found[0]) && found[1] == "rsm-test"]) && length(regexall("MetricName=", row[0].expression)) == 1
          : row[0] == "RdsSnapshotManager" && contains(var.d12_metric_names, row[1]) && row[2] == "Deployment" && row[3] == "rsm-test"
        )
      ]
    ]))
    error_message = "Every dashboard metric must be a D12 name in namespace RdsSnapshotManager for Deployment = name."
  }

  assert {
    condition = alltrue([
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.region == "eu-west-1"
    ])
    error_message = "Every widget must show the deployment's Region."
  }

  assert {
    condition = anytrue([
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets :
      try(widget.properties.annotations.horizontal[0].value == 27, false) && strcontains(jsonencode(widget.properties.metrics), "NewestSnapshotAgeHours")
    ])
    error_message = "The newest-snapshot age widget must draw the RPO (27 h by default) as a horizontal line."
  }
}
