# D4: every setting has the upper bound the Lambda code's settings.py enforces (the common brief's
# table), so a value the functions would refuse at start-up is refused at plan instead, naming the
# variable. One run per bound; the lower bounds are in module_validation_settings.tftest.hcl.
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  db_instance_identifiers = ["orders-db"]
  lambda_runtime          = "python3.8"
  allow_emulator_runtime  = true
}

run "backup_interval_over_a_year_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    backup_interval_hours = 8760.5
  }
  expect_failures = [var.backup_interval_hours]
}

run "retention_over_ten_years_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    retention_days = 3651
  }
  expect_failures = [var.retention_days]
}

run "min_snapshots_to_keep_over_1000_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    min_snapshots_to_keep = 1001
  }
  expect_failures = [var.min_snapshots_to_keep]
}

run "manual_snapshot_quota_over_100000_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    manual_snapshot_quota = 100001
  }
  expect_failures = [var.manual_snapshot_quota]
}

run "api_concurrency_over_32_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    api_concurrency = 33
  }
  expect_failures = [var.api_concurrency]
}

run "ledger_ttl_over_3650_days_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    ledger_ttl_days = 3651
  }
  expect_failures = [var.ledger_ttl_days]
}

run "wait_timeout_over_a_day_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    wait_timeout_minutes = 1441
  }
  expect_failures = [var.wait_timeout_minutes]
}

run "poll_interval_over_an_hour_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    poll_interval_seconds = 3601
  }
  expect_failures = [var.poll_interval_seconds]
}

run "every_upper_bound_itself_is_accepted" {
  command = apply
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    backup_interval_hours = 8760
    retention_days        = 3650
    min_snapshots_to_keep = 1000
    manual_snapshot_quota = 100000
    api_concurrency       = 32
    ledger_ttl_days       = 3650
    wait_timeout_minutes  = 1440
    poll_interval_seconds = 3600
  }
  assert {
    condition = (
      aws_lambda_function.this["create"].environment[0].variables.RSM_WAIT_TIMEOUT_SECONDS == "86400" &&
      aws_lambda_function.this["create"].environment[0].variables.RSM_MAX_CONCURRENCY == "32" &&
      aws_lambda_function.this["create"].environment[0].variables.RSM_MANUAL_SNAPSHOT_QUOTA == "100000"
    )
    error_message = "The bounds themselves must be accepted and reach the functions (RSM_WAIT_TIMEOUT_SECONDS <= 86400)."
  }
}
