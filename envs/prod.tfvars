# Workspace "prod": terraform workspace select prod && terraform apply -var-file=envs/prod.tfvars
environment         = "prod"
aws_region          = "eu-west-1"
allowed_account_ids = ["222222222222"]
assume_role_arn     = "arn:aws:iam::222222222222:role/rds-snapshot-manager-deployer"
default_tags = {
  Owner = "platform-team"
}

db_instance_identifiers = ["orders-db", "inventory-db"]
db_cluster_identifiers  = ["billing-aurora"]
schedule_expression     = "cron(0 1 * * ? *)"
backup_interval_hours   = 24
retention_days          = 35
min_snapshots_to_keep   = 7
notification_emails     = ["dba-team@example.com", "oncall@example.com"]
kms_key_arn             = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
log_retention_days      = 365
