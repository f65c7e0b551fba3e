# Schedule, retention and settings: each run passes one bad input and expects the module to
# reject exactly that input at plan.
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  db_instance_identifiers = ["orders-db"]
  lambda_runtime          = "python3.8"
  allow_emulator_runtime  = true
}

run "zero_retention_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    retention_days = 0
  }
  expect_failures = [var.retention_days]
}

run "fractional_retention_and_interval_are_accepted" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    retention_days        = 0.001
    backup_interval_hours = 0.01
  }
  assert {
    condition     = aws_lambda_function.this["prune"].environment[0].variables.RSM_RETENTION_DAYS == "0.001" && aws_lambda_function.this["create"].environment[0].variables.RSM_BACKUP_INTERVAL_HOURS == "0.01"
    error_message = "Fractional retention and interval must reach the functions unchanged."
  }
}

run "negative_backup_interval_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    backup_interval_hours = -1
  }
  expect_failures = [var.backup_interval_hours]
}

run "schedule_that_is_neither_cron_nor_rate_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    schedule_expression = "0 1 * * *"
  }
  expect_failures = [var.schedule_expression]
}

run "rate_with_wrong_plural_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    schedule_expression = "rate(1 days)"
  }
  expect_failures = [var.schedule_expression]
}

run "malformed_email_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    notification_emails = ["ops@example.com", "not-an-email"]
  }
  expect_failures = [var.notification_emails]
}

run "unknown_log_level_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    log_level = "VERBOSE"
  }
  expect_failures = [var.log_level]
}

run "log_retention_cloudwatch_does_not_offer_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "fractional_min_snapshots_to_keep_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    min_snapshots_to_keep = 1.5
  }
  expect_failures = [var.min_snapshots_to_keep]
}

run "poll_interval_of_zero_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    poll_interval_seconds = 0
  }
  expect_failures = [var.poll_interval_seconds]
}

run "cron_without_a_question_mark_is_rejected_as_eventbridge_does" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    schedule_expression = "cron(0 3 * * * *)"
  }
  expect_failures = [var.schedule_expression]
}

run "cron_with_both_days_as_question_marks_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    schedule_expression = "cron(0 3 ? * ? *)"
  }
  expect_failures = [var.schedule_expression]
}

run "cron_with_a_field_outside_its_character_set_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    schedule_expression = "cron(0 3h * * ? *)"
  }
  expect_failures = [var.schedule_expression]
}

run "weekday_cron_and_rate_minutes_are_accepted" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    schedule_expression = "cron(30 2 ? * MON-FRI *)"
  }
  assert {
    # Weekdays only: the longest gap (Friday to Monday) is not plain from the expression, so there is
    # no missed-run alarm; the other alarms stay.
    condition     = aws_cloudwatch_event_rule.schedule.schedule_expression == "cron(30 2 ? * MON-FRI *)" && length(aws_cloudwatch_metric_alarm.missed_run) == 0
    error_message = "A weekday cron must plan, without a missed-run alarm."
  }
}

run "rate_schedule_gets_a_missed_run_alarm_of_its_gap_plus_an_hour" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    schedule_expression = "rate(30 minutes)"
  }
  assert {
    # 1,800 s gap + 3,600 s margin = 5,400 s: 18 periods of 5 minutes.
    condition     = aws_cloudwatch_metric_alarm.missed_run[0].period == 300 && aws_cloudwatch_metric_alarm.missed_run[0].evaluation_periods == 18
    error_message = "rate(30 minutes) must alarm after 90 minutes without a run, in 5-minute periods."
  }
}

run "runtime_older_than_python311_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    lambda_runtime         = "python3.10"
    allow_emulator_runtime = false
  }
  expect_failures = [var.lambda_runtime]
}

run "python38_is_rejected_outside_emulators" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    allow_emulator_runtime = false
  }
  expect_failures = [var.lambda_runtime]
}

run "polls_that_could_exceed_the_execution_history_limit_are_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    # 86,400 s / 34 s = 2,542 polls + 1: 22,987 events, over the 22,500 allowed.
    wait_timeout_minutes  = 1440
    poll_interval_seconds = 34
  }
  expect_failures = [var.poll_interval_seconds]
}

run "the_longest_wait_plans_with_a_35_second_poll" {
  command = apply
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    # 2,469 polls + 1: 22,330 events.
    wait_timeout_minutes  = 1440
    poll_interval_seconds = 35
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches[0].States.WaitForSnapshots.Seconds == 35
    error_message = "A day's wait with a 35 s poll stays within the history budget and must plan."
  }
}

run "role_path_without_slashes_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    role_path = "service"
  }
  expect_failures = [var.role_path]
}

run "permissions_boundary_that_is_not_a_policy_arn_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    role_permissions_boundary = "org-boundary"
  }
  expect_failures = [var.role_permissions_boundary]
}

run "list_file_key_given_as_an_alias_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    targets_s3_object = { bucket = "my-config-bucket", key = "list.txt", kms_key_arn = "alias/aws/s3" }
  }
  expect_failures = [var.targets_s3_object]
}
