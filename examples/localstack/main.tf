# The module deployed into LocalStack on this host (`make localstack-up`); the integration tests
# and `make demo` apply this configuration. It takes every module input and exposes every output.
provider "aws" {
  region     = var.aws_region
  access_key = "test"
  secret_key = "test"

  # LocalStack accepts any credentials and has no instance metadata. The account id is still
  # requested (from LocalStack's STS: the account of the access key, 000000000000 for "test"):
  # provider `allowed_account_ids` compares with it and fails if it is skipped, and
  # skip_requesting_account_id warns on provider 5.x and 6.x.
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  # Every service the module or the provider touches. ec2 too: the provider calls
  # DescribeAccountAttributes on start, which costs 20-50 s of retries against the real endpoint.
  endpoints {
    cloudwatch = var.localstack_endpoint
    # The 3.x names of the events and logs endpoints (later versions call them events and logs).
    cloudwatchevents = var.localstack_endpoint
    cloudwatchlogs   = var.localstack_endpoint
    dynamodb         = var.localstack_endpoint
    ec2              = var.localstack_endpoint
    iam              = var.localstack_endpoint
    kms              = var.localstack_endpoint
    lambda           = var.localstack_endpoint
    rds              = var.localstack_endpoint
    s3               = var.localstack_endpoint
    sns              = var.localstack_endpoint
    sqs              = var.localstack_endpoint
    stepfunctions    = var.localstack_endpoint
    sts              = var.localstack_endpoint
  }
}

module "rds_snapshot_manager" {
  source = "../../modules/rds-snapshot-manager"

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
  allowed_account_ids          = var.allowed_account_ids

  copy_to_regions        = var.copy_to_regions
  share_with_account_ids = var.share_with_account_ids
  share_kms_key_arn      = var.share_kms_key_arn
}
