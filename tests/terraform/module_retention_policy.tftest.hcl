# retention_policy (tiered retention): validation of the counts, and what reaches the functions
# as RSM_RETENTION_POLICY (lambda_src settings.py reads it; empty = off, retention_days rules).
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  db_instance_identifiers = ["orders-db"]
  lambda_runtime          = "python3.8"
  allow_emulator_runtime  = true
}

run "unset_policy_renders_empty_and_retention_days_rules" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  assert {
    condition     = alltrue([for f in aws_lambda_function.this : f.environment[0].variables.RSM_RETENTION_POLICY == ""])
    error_message = "Without retention_policy every function must get RSM_RETENTION_POLICY = \"\" (off)."
  }
}

run "policy_renders_every_tier_with_missing_ones_zero" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    retention_policy = { daily = 7, weekly = 4, yearly = 3 }
  }
  assert {
    condition     = jsondecode(aws_lambda_function.this["prune"].environment[0].variables.RSM_RETENTION_POLICY) == { daily = 7, weekly = 4, monthly = 0, yearly = 3 }
    error_message = "retention_policy must reach Prune as JSON with every tier, missing ones 0."
  }
  assert {
    condition     = aws_lambda_function.this["create"].environment[0].variables.RSM_RETENTION_POLICY == aws_lambda_function.this["prune"].environment[0].variables.RSM_RETENTION_POLICY
    error_message = "Create plans Prune from its listing, so it must get the same policy."
  }
  assert {
    condition     = aws_lambda_function.this["prune"].environment[0].variables.RSM_RETENTION_POLICY == "{\"daily\":7,\"monthly\":0,\"weekly\":4,\"yearly\":3}"
    error_message = "RSM_RETENTION_POLICY must be compact JSON of whole numbers (what settings.py parses)."
  }
}

run "largest_counts_are_accepted" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    retention_policy = { daily = 1000, weekly = 1000, monthly = 1000, yearly = 1000 }
  }
}

run "all_zero_policy_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    retention_policy = { daily = 0 }
  }
  expect_failures = [var.retention_policy]
}

run "empty_policy_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    retention_policy = {}
  }
  expect_failures = [var.retention_policy]
}

run "negative_count_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    retention_policy = { daily = 7, weekly = -1 }
  }
  expect_failures = [var.retention_policy]
}

run "fractional_count_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    retention_policy = { monthly = 1.5 }
  }
  expect_failures = [var.retention_policy]
}

run "count_over_1000_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    retention_policy = { yearly = 1001 }
  }
  expect_failures = [var.retention_policy]
}

# Terraform's object type discards attributes it does not declare, so `hourly` alone leaves every
# tier at 0, which the second validation rejects.
run "unknown_tier_alone_keeps_nothing_and_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    retention_policy = { hourly = 24 }
  }
  expect_failures = [var.retention_policy]
}
