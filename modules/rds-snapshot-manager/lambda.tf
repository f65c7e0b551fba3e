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
    variables = local.lambda_environment
  }

  tracing_config {
    mode = var.xray_tracing ? "Active" : "PassThrough"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.target_env_bytes <= local.target_env_max_bytes
      error_message = "db_instance_identifiers, db_cluster_identifiers, selection_tags and restore_test take ${local.target_env_bytes} bytes as JSON, more than the ${local.target_env_max_bytes} that fit in the Lambda environment (4 KB in all). Select large fleets with selection_tags or list them in a file given by targets_s3_object."
    }
  }

  # The log group must exist first, or Lambda creates one without retention or encryption.
  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}
