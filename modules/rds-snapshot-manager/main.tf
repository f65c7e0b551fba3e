locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  # The Region comes from the ledger table's ARN, not from data.aws_region: that data source's
  # `name` is deprecated from provider 6.0 and `id` from 6.47, and its replacement `region` does not
  # exist in 5.x, so no attribute of it plans without a warning on every admitted version.
  region = split(":", aws_dynamodb_table.this.arn)[3]

  # D1, ownership: every snapshot this deployment creates has an identifier starting with this
  # prefix (lambda_src domain/naming.py ownership_prefix computes the same), and IAM lets the
  # functions create, tag and delete only snapshots whose identifier starts with it.
  snapshot_id_prefix = "rsm-${substr(sha256(var.name), 0, 8)}-"

  # One entry per Lambda function; Prune exists only when deletion is switched on, or when restore
  # tests are (it sweeps their leftover temporary databases).
  functions = merge(
    {
      create = { handler = "create_handler", description = "Creates the due RDS snapshots of a run." }
      check  = { handler = "check_handler", description = "Reports whether a run's new snapshots are available." }
      notify = { handler = "notify_handler", description = "Publishes a run's report to SNS." }
    },
    var.delete_old_snapshots || local.restore_tests ? {
      prune = { handler = "prune_handler", description = "Deletes expired snapshots managed by this deployment." }
    } : {}
  )

  # Restore tests (variables.tf "Restore tests"; docs/OPERATIONS.md): temporary databases are named
  # `<snapshot_id_prefix>rt-...` (D8), so IAM can confine restores and deletes to them.
  restore_tests     = var.restore_test != null
  restore_rule_name = "${var.name}-restore-test"
  temp_db_prefix    = "${local.snapshot_id_prefix}rt-"
  restore_test_env = local.restore_tests ? jsonencode({
    db_instance_identifiers = var.restore_test.db_instance_identifiers
    db_cluster_identifiers  = var.restore_test.db_cluster_identifiers
    sample_size             = var.restore_test.sample_size
    instance_class          = var.restore_test.instance_class
    db_subnet_group_name    = var.restore_test.db_subnet_group_name
    vpc_security_group_ids  = var.restore_test.vpc_security_group_ids
    timeout_minutes         = var.restore_test.timeout_minutes
    leftover_max_age_hours  = var.restore_test.leftover_max_age_hours
  }) : ""

  lambda_package = "${path.module}/lambda/rds_snapshot_manager.zip"

  # A KMS key ARN, not an alias: what kms_key_arn and targets_s3_object.kms_key_arn accept.
  kms_key_arn_pattern = "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$"

  ledger_table_name  = "${var.name}-ledger"
  state_machine_name = var.name
  schedule_rule_name = "${var.name}-schedule"

  # Targets found at run time (tags, S3 list) can be any database in the account and region.
  selects_dynamically = length(var.selection_tags) > 0 || var.targets_s3_object != null

  # Lambda caps all environment variables of a function at 4 KB; the other variables take at most
  # about 1 KB (topic ARNs, table name, numbers), so the values whose size the inputs decide (the
  # target lists, the disaster-recovery settings and the restore-test settings) get the rest.
  input_env_bytes = sum([for value in [
    local.lambda_environment.RSM_DB_INSTANCE_IDENTIFIERS,
    local.lambda_environment.RSM_DB_CLUSTER_IDENTIFIERS,
    local.lambda_environment.RSM_SELECTION_TAGS,
    local.lambda_environment.RSM_COPY_TO_REGIONS,
    local.lambda_environment.RSM_SHARE_WITH_ACCOUNT_IDS,
    local.lambda_environment.RSM_SHARE_KMS_KEY_ARN,
    local.lambda_environment.RSM_RESTORE_TEST,
  ] : length(value)])
  input_env_max_bytes = 3072

  lambda_environment = {
    RSM_NAME                    = var.name
    RSM_LEDGER_TABLE            = aws_dynamodb_table.this.name
    RSM_REPORT_TOPIC_ARN        = aws_sns_topic.report.arn
    RSM_FAILURE_TOPIC_ARN       = aws_sns_topic.failure.arn
    RSM_DB_INSTANCE_IDENTIFIERS = jsonencode(var.db_instance_identifiers)
    RSM_DB_CLUSTER_IDENTIFIERS  = jsonencode(var.db_cluster_identifiers)
    RSM_SELECTION_TAGS          = jsonencode(var.selection_tags)
    RSM_TARGETS_S3_BUCKET       = try(var.targets_s3_object.bucket, "")
    RSM_TARGETS_S3_KEY          = try(var.targets_s3_object.key, "")
    RSM_BACKUP_INTERVAL_HOURS   = tostring(var.backup_interval_hours)
    RSM_RETENTION_DAYS          = tostring(var.retention_days)
    RSM_RETENTION_POLICY        = var.retention_policy == null ? "" : jsonencode(var.retention_policy)
    RSM_DELETE_OLD_SNAPSHOTS    = tostring(var.delete_old_snapshots)
    RSM_MIN_SNAPSHOTS_TO_KEEP   = tostring(var.min_snapshots_to_keep)
    RSM_DRY_RUN                 = tostring(var.dry_run)
    RSM_LOG_LEVEL               = var.log_level
    RSM_LEDGER_TTL_DAYS         = tostring(var.ledger_ttl_days)
    RSM_WAIT_TIMEOUT_SECONDS    = tostring(var.wait_timeout_minutes * 60)
    RSM_MANUAL_SNAPSHOT_QUOTA   = tostring(var.manual_snapshot_quota)
    RSM_MAX_CONCURRENCY         = tostring(var.api_concurrency)
    RSM_RESTORE_TEST            = local.restore_test_env
    # Disaster recovery (D6): [{"region", "kms_key_arn" (or null), "retention_days" (or null),
    # "share"}], the account ids as a JSON list, and the share key ("" = none).
    RSM_COPY_TO_REGIONS        = jsonencode(var.copy_to_regions)
    RSM_SHARE_WITH_ACCOUNT_IDS = jsonencode(var.share_with_account_ids)
    RSM_SHARE_KMS_KEY_ARN      = var.share_kms_key_arn == null ? "" : var.share_kms_key_arn
  }

  # The Check loop stops itself after wait_timeout_minutes; the execution timeout adds an hour for
  # Create, Prune and Notify, so only a stuck run times out (and raises the timed-out alarm).
  execution_timeout_seconds = var.wait_timeout_minutes * 60 + 3600
}
