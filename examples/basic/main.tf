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
