output "state_machine_arn" {
  description = "Start an execution of this state machine for an extra run."
  value       = module.rds_snapshot_manager.state_machine_arn
}

output "report_topic_arn" {
  description = "SNS topic of the run reports."
  value       = module.rds_snapshot_manager.report_topic_arn
}
