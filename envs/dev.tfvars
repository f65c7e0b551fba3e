# Workspace "dev": terraform workspace select dev && terraform apply -var-file=envs/dev.tfvars
environment         = "dev"
aws_region          = "eu-west-1"
allowed_account_ids = ["111111111111"]
assume_role_arn     = "arn:aws:iam::111111111111:role/rds-snapshot-manager-deployer"
default_tags = {
  Owner = "platform-team"
}

# Everything tagged for backup in this account, with a short retention.
selection_tags        = { snapshot-policy = "daily" }
schedule_expression   = "cron(0 3 * * ? *)"
backup_interval_hours = 24
retention_days        = 3
min_snapshots_to_keep = 1
notification_emails   = ["dba-team@example.com"]
log_level             = "DEBUG"
log_retention_days    = 30
