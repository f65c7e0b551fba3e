output "environment" {
  description = "Environment (and workspace) of this state."
  value       = terraform_data.workspace_guard.output
}

output "state_machine_arn" {
  description = "ARN of the state machine that runs one snapshot cycle; start an execution for an extra run (input {\"dry_run\": true} forces a dry run)."
  value       = module.rds_snapshot_manager.state_machine_arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = module.rds_snapshot_manager.state_machine_name
}

output "report_topic_arn" {
  description = "ARN of the SNS topic that receives every run's report."
  value       = module.rds_snapshot_manager.report_topic_arn
}

output "failure_topic_arn" {
  description = "ARN of the SNS topic that receives reports of runs with failures, and the execution alarms."
  value       = module.rds_snapshot_manager.failure_topic_arn
}

output "dynamodb_table_name" {
  description = "Name of the DynamoDB ledger table holding the run history."
  value       = module.rds_snapshot_manager.dynamodb_table_name
}

output "dynamodb_table_arn" {
  description = "ARN of the DynamoDB ledger table."
  value       = module.rds_snapshot_manager.dynamodb_table_arn
}

output "schedule_rule_arn" {
  description = "ARN of the EventBridge rule that starts the runs."
  value       = module.rds_snapshot_manager.schedule_rule_arn
}

output "lambda_function_arns" {
  description = "ARNs of the Lambda functions, by step: create, check, notify and, when delete_old_snapshots is true, prune."
  value       = module.rds_snapshot_manager.lambda_function_arns
}

output "lambda_role_arns" {
  description = "ARNs of the functions' IAM roles, by step."
  value       = module.rds_snapshot_manager.lambda_role_arns
}

output "log_group_names" {
  description = "CloudWatch log groups, by step, plus state_machine."
  value       = module.rds_snapshot_manager.log_group_names
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms: failed and timed-out executions, failed-invocations (the schedule could not start a run) and, where the schedule's longest gap is at most about 6 days, missed-run (no run started)."
  value       = module.rds_snapshot_manager.alarm_arns
}

output "snapshot_identifier_prefix" {
  description = "Prefix of the identifier of every snapshot this deployment creates (rsm- and 8 hex characters of sha256(name)); only snapshots with this prefix and the tag ManagedBy = name are ever deleted."
  value       = module.rds_snapshot_manager.snapshot_identifier_prefix
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, or null when create_dashboard is false."
  value       = module.rds_snapshot_manager.dashboard_name
}
