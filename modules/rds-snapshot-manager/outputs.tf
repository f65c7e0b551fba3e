output "state_machine_arn" {
  description = "ARN of the state machine that runs one snapshot cycle; start an execution for an extra run (input {\"dry_run\": true} forces a dry run)."
  value       = try(aws_sfn_state_machine.this.arn, null)
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = try(aws_sfn_state_machine.this.name, null)
}

output "report_topic_arn" {
  description = "ARN of the SNS topic that receives every run's report."
  value       = try(aws_sns_topic.report.arn, null)
}

output "failure_topic_arn" {
  description = "ARN of the SNS topic that receives reports of runs with failures, and the execution alarms."
  value       = try(aws_sns_topic.failure.arn, null)
}

output "dynamodb_table_name" {
  description = "Name of the DynamoDB ledger table holding the run history."
  value       = try(aws_dynamodb_table.this.name, null)
}

output "dynamodb_table_arn" {
  description = "ARN of the DynamoDB ledger table."
  value       = try(aws_dynamodb_table.this.arn, null)
}

output "schedule_rule_arn" {
  description = "ARN of the EventBridge rule that starts the runs."
  value       = try(aws_cloudwatch_event_rule.schedule.arn, null)
}

output "lambda_function_arns" {
  description = "ARNs of the Lambda functions, by step: create, check, notify and, when delete_old_snapshots is true or restore_test is set, prune."
  value       = try({ for key, function in aws_lambda_function.this : key => function.arn }, null)
}

output "lambda_role_arns" {
  description = "ARNs of the functions' IAM roles, by step."
  value       = try({ for key, role in aws_iam_role.lambda : key => role.arn }, null)
}

output "log_group_names" {
  description = "CloudWatch log groups, by step, plus state_machine."
  value       = try(merge({ for key, group in aws_cloudwatch_log_group.lambda : key => group.name }, { state_machine = aws_cloudwatch_log_group.state_machine.name }), null)
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms: failed and timed-out executions, failed-invocations (the schedule could not start a run), rpo (the newest snapshot of some target is older than rpo_hours, or no run reported for that long), targets-failed (a PARTIAL run) and, where the schedule's longest gap is at most about 6 days, missed-run (no run started)."
  value = try(merge(
    { for key, alarm in aws_cloudwatch_metric_alarm.executions : key => alarm.arn },
    { for key, alarm in aws_cloudwatch_metric_alarm.assurance : key => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.missed_run : "missed-run" => alarm.arn },
  ), null)
}

output "snapshot_identifier_prefix" {
  description = "Prefix of the identifier of every snapshot this deployment creates (rsm- and 8 hex characters of sha256(name)); only snapshots with this prefix and the tag ManagedBy = name are ever deleted."
  value       = local.snapshot_id_prefix
}

output "restore_test_rule_arn" {
  description = "ARN of the EventBridge rule that starts restore-test runs; null when restore_test is off."
  value       = try(aws_cloudwatch_event_rule.restore_test[0].arn, null)
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, or null when create_dashboard is false."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "dashboard_arn" {
  description = "ARN of the CloudWatch dashboard, or null when create_dashboard is false."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_arn, null)
}
