provider "aws" {
  region              = var.aws_region
  allowed_account_ids = var.allowed_account_ids

  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = "rds-snapshot-manager-${var.environment}"
    }
  }

  default_tags {
    tags = merge(var.default_tags, {
      Environment = var.environment
      Workspace   = terraform.workspace
    })
  }
}

# Fails the plan when these settings are for another environment than the selected workspace,
# e.g. `terraform apply -var-file=envs/prod.tfvars` in the dev workspace.
resource "terraform_data" "workspace_guard" {
  input = var.environment

  lifecycle {
    precondition {
      condition     = var.environment == terraform.workspace
      error_message = "These settings are for environment \"${var.environment}\", but the selected workspace is \"${terraform.workspace}\". Run `terraform workspace select ${var.environment}` (or `terraform workspace new ${var.environment}`) first, or pass the tfvars of workspace \"${terraform.workspace}\"."
    }
  }
}

module "rds_snapshot_manager" {
  source = "./modules/rds-snapshot-manager"

  name                         = var.name
  tags                         = var.tags
  db_instance_identifiers      = var.db_instance_identifiers
  db_cluster_identifiers       = var.db_cluster_identifiers
  selection_tags               = var.selection_tags
  targets_s3_object            = var.targets_s3_object
  schedule_expression          = var.schedule_expression
  backup_interval_hours        = var.backup_interval_hours
  retention_days               = var.retention_days
  retention_policy             = var.retention_policy
  delete_old_snapshots         = var.delete_old_snapshots
  min_snapshots_to_keep        = var.min_snapshots_to_keep
  dry_run                      = var.dry_run
  manual_snapshot_quota        = var.manual_snapshot_quota
  api_concurrency              = var.api_concurrency
  ledger_ttl_days              = var.ledger_ttl_days
  wait_timeout_minutes         = var.wait_timeout_minutes
  poll_interval_seconds        = var.poll_interval_seconds
  notification_emails          = var.notification_emails
  lambda_runtime               = var.lambda_runtime
  allow_emulator_runtime       = var.allow_emulator_runtime
  lambda_timeout               = var.lambda_timeout
  lambda_memory_size           = var.lambda_memory_size
  xray_tracing                 = var.xray_tracing
  log_level                    = var.log_level
  log_retention_days           = var.log_retention_days
  role_path                    = var.role_path
  role_permissions_boundary    = var.role_permissions_boundary
  kms_key_arn                  = var.kms_key_arn
  rpo_hours                    = var.rpo_hours
  create_dashboard             = var.create_dashboard
  snapshot_price_per_gib_month = var.snapshot_price_per_gib_month
  metric_target_limit          = var.metric_target_limit
  restore_test                 = var.restore_test

  copy_to_regions        = var.copy_to_regions
  share_with_account_ids = var.share_with_account_ids
  share_kms_key_arn      = var.share_kms_key_arn
}
