locals {
  # Backup assurance settings (Settings in lambda_src): short numbers, about 100 bytes of the 4 KB.
  assurance_environment = {
    RSM_RPO_HOURS                    = tostring(local.rpo_hours)
    RSM_SNAPSHOT_PRICE_PER_GIB_MONTH = tostring(var.snapshot_price_per_gib_month)
    RSM_METRIC_TARGET_LIMIT          = tostring(var.metric_target_limit)
  }
}

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  #checkov:skip=CKV_AWS_115:Reserved concurrency would take from the account's unreserved pool (new accounts have none to spare); each function runs once per execution, and Step Functions retries throttling.
  #checkov:skip=CKV_AWS_116:Step Functions invokes the functions synchronously and catches every error; a dead-letter queue only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The functions call only AWS APIs over their public endpoints; a VPC would add NAT or seven interface endpoints and no protection.
  #checkov:skip=CKV_AWS_272:The package is built deterministically from this repository and pinned by source_code_hash; code signing needs a signing profile the module cannot assume.
  function_name = "${var.name}-${each.key}"
  description   = each.value.description
  role          = aws_iam_role.lambda[each.key].arn
  handler       = "rds_snapshot_manager.handlers.${each.value.handler}"
  runtime       = var.lambda_runtime
  timeout       = var.lambda_timeout
  memory_size   = var.lambda_memory_size

  filename         = local.lambda_package
  source_code_hash = filebase64sha256(local.lambda_package)

  kms_key_arn = var.kms_key_arn

  environment {
    variables = merge(local.lambda_environment, local.assurance_environment)
  }

  tracing_config {
    mode = var.xray_tracing ? "Active" : "PassThrough"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.input_env_bytes <= local.input_env_max_bytes
      error_message = "db_instance_identifiers, db_cluster_identifiers, selection_tags, copy_to_regions, share_with_account_ids, share_kms_key_arn and restore_test take ${local.input_env_bytes} bytes as JSON, more than the ${local.input_env_max_bytes} that fit in the Lambda environment (4 KB in all). Select large fleets with selection_tags or list them in a file given by targets_s3_object."
    }

    # Disaster recovery: what a variable validation cannot see (the deployment's own Region and
    # account). The Region comes from the ledger table's ARN (main.tf), known at plan once the table
    # exists; for a new deployment these fail the apply before any function is created.
    precondition {
      condition     = !contains([for copy in var.copy_to_regions : copy.region], local.region)
      error_message = "copy_to_regions must not list the deployment's own Region ${local.region}: a copy there would be a second snapshot in the same place, not disaster recovery."
    }

    precondition {
      condition     = !contains(var.share_with_account_ids, local.account_id)
      error_message = "share_with_account_ids must not list the deployment's own account ${local.account_id}: its snapshots are already restorable there."
    }

    precondition {
      condition     = var.share_kms_key_arn == null || try(split(":", var.share_kms_key_arn)[3], "") == local.region
      error_message = "share_kms_key_arn must be a key in the deployment's own Region ${local.region}, where the re-encrypted copy is made; got \"${coalesce(var.share_kms_key_arn, "null")}\"."
    }
  }

  # The log group must exist first, or Lambda creates one without retention or encryption.
  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}
