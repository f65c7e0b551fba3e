# Schedule, retention and settings: each run passes one bad input and expects the module to
# reject exactly that input at plan.
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  db_instance_identifiers = ["orders-db"]
  lambda_runtime          = "python3.8"
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
