# The smallest useful deployment: two named databases, daily snapshots kept for a week, reports by email.
provider "aws" {
  region = "eu-west-1"
}

module "rds_snapshot_manager" {
  source = "../../modules/rds-snapshot-manager"

  db_instance_identifiers = ["orders-db"]
  db_cluster_identifiers  = ["billing-aurora"]
  notification_emails     = ["dba-team@example.com"]
}

output "state_machine_arn" {
  description = "Start an execution of this state machine for an extra run."
  value       = module.rds_snapshot_manager.state_machine_arn
}

output "report_topic_arn" {
  description = "SNS topic of the run reports."
  value       = module.rds_snapshot_manager.report_topic_arn
}
