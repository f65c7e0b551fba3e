locals {
  # Every Task retries the Lambda service's transient errors with exponential backoff (2, 4, 8, 16,
  # 32 s). Lambda.ClientExecutionTimeoutException is the invoke call timing out, not the function.
  lambda_retry = [{
    ErrorEquals = [
      "Lambda.ClientExecutionTimeoutException",
      "Lambda.ServiceException",
      "Lambda.AWSLambdaException",
      "Lambda.SdkClientException",
      "Lambda.TooManyRequestsException",
    ]
    IntervalSeconds = 2
    MaxAttempts     = 5
    BackoffRate     = 2
  }]

  # Notify also retries its own errors (an SNS publish or a ledger call that failed): the report is
  # the run's only output, and a retried Notify never publishes twice (the ledger marks each topic
  # published). States.TaskFailed matches every error of the function except States.Timeout.
  notify_retry = concat(local.lambda_retry, [{
    ErrorEquals     = ["States.TaskFailed"]
    IntervalSeconds = 5
    MaxAttempts     = 3
    BackoffRate     = 2
  }])

  # What each function receives: the run context and the execution input, read from the context
  # object rather than copied into the state, so the state stays small whatever the input is.
  task_parameters = {
    "run_id.$"     = "$.run_id"
    "started_at.$" = "$.started_at"
    "error.$"      = "$.error"
    "input.$"      = "$$.Execution.Input"
  }

  # The Parallel state's output is one copy of the state per branch; only the branch results stay.
  parallel_result_selector = merge(
    { "check.$" = "$[0].check" },
    contains(keys(local.functions), "prune") ? { "prune.$" = "$[1].prune" } : {}
  )

  # Decoding checks the rendered template is JSON at plan time; encoding normalizes whitespace.
  state_machine_definition = jsonencode(jsondecode(templatefile("${path.module}/templates/state_machine.asl.json", {
    name                      = var.name
    execution_timeout_seconds = local.execution_timeout_seconds
    poll_interval_seconds     = var.poll_interval_seconds
    lambda_retry              = jsonencode(local.lambda_retry)
    notify_retry              = jsonencode(local.notify_retry)
    task_parameters           = jsonencode(local.task_parameters)
    parallel_result_selector  = jsonencode(local.parallel_result_selector)
    create_function_arn       = aws_lambda_function.this["create"].arn
    check_function_arn        = aws_lambda_function.this["check"].arn
    notify_function_arn       = aws_lambda_function.this["notify"].arn
    prune_function_arn        = try(aws_lambda_function.this["prune"].arn, "")
  })))
}

resource "aws_cloudwatch_log_group" "state_machine" {
  # The vendedlogs prefix keeps the CloudWatch Logs resource policy Step Functions writes small.
  name              = "/aws/vendedlogs/states/${local.state_machine_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sfn_state_machine" "this" {
  #checkov:skip=CKV_AWS_284:X-Ray tracing is on by default (xray_tracing = true); checkov cannot see through the dynamic block that lets users switch it off.
  name       = local.state_machine_name
  role_arn   = aws_iam_role.state_machine.arn
  definition = local.state_machine_definition

  logging_configuration {
    # Payloads carry only run ids and counts (details live in the ledger), so they are safe to log.
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true
    level                  = "ALL"
  }

  # Omitted rather than disabled when off: some emulators do not report the setting back.
  dynamic "tracing_configuration" {
    for_each = var.xray_tracing ? [true] : []
    content {
      enabled = tracing_configuration.value
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.state_machine]
}
