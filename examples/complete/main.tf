# Every option: explicit ids plus tag and file selection, a customer-managed key, tuned schedule,
# retention, waiting and Lambda settings, and tags.
provider "aws" {
  region = "eu-west-1"
}

# The disaster-recovery Region: copies of each snapshot are kept there, encrypted with its own key.
provider "aws" {
  alias  = "dr"
  region = "eu-central-1"
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
# `id` is the region name from provider 3.x through 6.x (`name` is deprecated in 6.x).
data "aws_region" "current" {}

locals {
  name       = "rsm-complete"
  account_id = data.aws_caller_identity.current.account_id
  # The account that may restore this deployment's snapshots (a separate recovery account).
  recovery_account_id = "210987654321"
  tags = {
    Team       = "platform"
    CostCenter = "1234"
  }
}

# The key policy lets the services that hold this deployment's data use the key: CloudWatch Logs
# (log groups), SNS and DynamoDB through their API calls, and CloudWatch alarms publishing to the
# encrypted failure topic.
data "aws_iam_policy_document" "key" {
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "LogsEncryptLogGroups"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.id}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.id}:${local.account_id}:log-group:*"]
    }
  }

  statement {
    sid       = "AlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the ${local.name} topics, ledger and logs."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = local.tags
}

# Encrypts the copies in the disaster-recovery Region. The default key policy delegates to IAM, so
# the module's Check role (granted kms:CreateGrant for RDS and kms:DescribeKey on this key) can use
# it through RDS.
resource "aws_kms_key" "dr" {
  provider = aws.dr

  description             = "Encrypts the ${local.name} snapshot copies in the disaster-recovery Region."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = local.tags
}

# A snapshot encrypted with the AWS-managed key aws/rds cannot be shared: the module re-encrypts a
# copy with this key and shares the copy. The recovery account must be able to use the key to copy
# or restore the shared snapshot (RDS user guide, "Sharing encrypted snapshots").
data "aws_iam_policy_document" "share_key" {
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "RecoveryAccountUsesSharedSnapshots"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.recovery_account_id}:root"]
    }
  }
}

resource "aws_kms_key" "share" {
  description             = "Encrypts the shareable copies of ${local.name} snapshots made with aws/rds."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.share_key.json
  tags                    = local.tags
}

module "rds_snapshot_manager" {
  source = "../../modules/rds-snapshot-manager"

  name = local.name
  tags = local.tags

  allowed_account_ids = var.allowed_account_ids

  db_instance_identifiers = ["orders-db", "inventory-db"]
  db_cluster_identifiers  = ["billing-aurora"]
  selection_tags          = { snapshot-policy = "daily" }
  targets_s3_object = {
    bucket = "my-platform-config"
    key    = "rds-snapshot-manager/rds_backup_list.txt"
  }

  schedule_expression   = "cron(30 2 * * ? *)"
  backup_interval_hours = 23.5
  retention_days        = 14
  delete_old_snapshots  = true
  min_snapshots_to_keep = 3
  dry_run               = false
  manual_snapshot_quota = 200
  api_concurrency       = 4

  ledger_ttl_days       = 730
  wait_timeout_minutes  = 180
  poll_interval_seconds = 120

  notification_emails = ["dba-team@example.com", "oncall@example.com"]

  lambda_runtime     = "python3.13"
  lambda_timeout     = 600
  lambda_memory_size = 512
  log_level          = "DEBUG"
  log_retention_days = 400

  kms_key_arn = aws_kms_key.this.arn

  # Backup assurance: the RPO alarm fires when a database's newest snapshot is older than 30 h, or
  # when no run has reported for 30 h; the dashboard shows runs, snapshots, failures and ages.
  rpo_hours                    = 30
  create_dashboard             = true
  snapshot_price_per_gib_month = 0.095
  metric_target_limit          = 100

  copy_to_regions = [
    { region = "eu-central-1", kms_key_arn = aws_kms_key.dr.arn, retention_days = 30, share = true },
  ]
  share_with_account_ids = [local.recovery_account_id]
  share_kms_key_arn      = aws_kms_key.share.arn
}
