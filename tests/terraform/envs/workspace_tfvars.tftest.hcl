# Run once per envs/<workspace>.tfvars, in that workspace (tools/terraform/test_terraform.sh sets
# TF_WORKSPACE and passes -var-file): the committed settings pass every validation and the guard.
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

run "committed_tfvars_plan_in_their_own_workspace" {
  command = plan

  assert {
    condition     = terraform_data.workspace_guard.input == terraform.workspace
    error_message = "The tfvars must name the workspace they are applied in."
  }

  assert {
    condition     = module.rds_snapshot_manager.dynamodb_table_name == "${var.name}-ledger"
    error_message = "The tfvars must plan the module."
  }
}
