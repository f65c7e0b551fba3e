# The optional account guard (allowed_account_ids): with it, credentials for another account fail
# the plan before anything changes; without it, nothing is created. The mocked caller identity is
# account 123456789012 (mocks/aws.tfmock.hcl).
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name                    = "rsm-test"
  db_instance_identifiers = ["orders-db"]
  # Provider 3.39 (the offline mirror) rejects newer runtimes client-side; the default stays current.
  lambda_runtime         = "python3.8"
  allow_emulator_runtime = true
}

run "no_allowed_account_ids_means_no_guard" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition     = length(terraform_data.account_guard) == 0
    error_message = "Without allowed_account_ids there must be no guard."
  }
}

run "credentials_for_an_allowed_account_plan_the_module" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    allowed_account_ids = ["111111111111", "123456789012"]
  }

  assert {
    condition     = terraform_data.account_guard[0].input == "123456789012"
    error_message = "The guard must check the caller's account."
  }

  assert {
    condition     = aws_dynamodb_table.this.name == "rsm-test-ledger"
    error_message = "An allowed account must plan the module."
  }
}

run "credentials_for_another_account_fail_the_plan" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    allowed_account_ids = ["111111111111"]
  }

  expect_failures = [terraform_data.account_guard]
}

run "account_ids_must_have_12_digits" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    allowed_account_ids = ["12345"]
  }

  expect_failures = [var.allowed_account_ids]
}
