output "state_machine_arn" {
  description = "Start an execution of this state machine for an extra run."
  value       = module.rds_snapshot_manager.state_machine_arn
}

output "report_topic_arn" {
  description = "SNS topic of every run's report."
  value       = module.rds_snapshot_manager.report_topic_arn
}

output "failure_topic_arn" {
  description = "SNS topic of failed runs and execution alarms."
  value       = module.rds_snapshot_manager.failure_topic_arn
}

output "dynamodb_table_name" {
  description = "Ledger table of the run history."
  value       = module.rds_snapshot_manager.dynamodb_table_name
}

output "lambda_function_arns" {
  description = "Functions by step."
  value       = module.rds_snapshot_manager.lambda_function_arns
}

output "kms_key_arn" {
  description = "The customer-managed key of this deployment."
  value       = aws_kms_key.this.arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of runs, snapshots, failures and snapshot ages."
  value       = module.rds_snapshot_manager.dashboard_name
}
