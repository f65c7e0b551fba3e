# The root configuration refuses settings made for another environment than the selected workspace.
# `terraform test` runs in the "default" workspace.
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  aws_region              = "eu-west-1"
  allowed_account_ids     = ["123456789012"]
  db_instance_identifiers = ["orders-db"]
  lambda_runtime          = "python3.8"
  allow_emulator_runtime  = true
}

run "tfvars_of_another_environment_fail_the_plan" {
  command = plan

  variables {
    environment = "prod"
  }

  expect_failures = [terraform_data.workspace_guard]
}

run "tfvars_of_the_selected_workspace_plan_the_module" {
  command = plan

  variables {
    environment = "default"
  }

  assert {
    condition     = terraform_data.workspace_guard.input == terraform.workspace
    error_message = "The guard must let the matching environment through."
  }

  assert {
    condition     = module.rds_snapshot_manager.dynamodb_table_name == "rds-snapshot-manager-ledger"
    error_message = "The matching environment must plan the module."
  }
}

run "invalid_account_id_is_rejected" {
  command = plan

  variables {
    environment         = "default"
    allowed_account_ids = ["12345"]
  }

  expect_failures = [var.allowed_account_ids]
}
