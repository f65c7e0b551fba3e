# One configuration, two accounts: a central deployer role assumes a role in each account and
# deploys one instance of the module there. For one workspace per account instead, see the root
# configuration and docs/ROLLOUT.md.
provider "aws" {
  alias               = "staging"
  region              = "eu-west-1"
  allowed_account_ids = ["111111111111"]

  assume_role {
    role_arn     = "arn:aws:iam::111111111111:role/rds-snapshot-manager-deployer"
    session_name = "rds-snapshot-manager-staging"
  }

  default_tags {
    tags = { Environment = "staging" }
  }
}

provider "aws" {
  alias               = "prod"
  region              = "eu-west-1"
  allowed_account_ids = ["222222222222"]

  assume_role {
    role_arn     = "arn:aws:iam::222222222222:role/rds-snapshot-manager-deployer"
    session_name = "rds-snapshot-manager-prod"
  }

  default_tags {
    tags = { Environment = "prod" }
  }
}

module "staging" {
  source = "../../modules/rds-snapshot-manager"
  providers = {
    aws = aws.staging
  }

  selection_tags      = { snapshot-policy = "daily" }
  retention_days      = 3
  notification_emails = ["dba-team@example.com"]
}

module "prod" {
  source = "../../modules/rds-snapshot-manager"
  providers = {
    aws = aws.prod
  }

  selection_tags        = { snapshot-policy = "daily" }
  retention_days        = 35
  min_snapshots_to_keep = 7
  notification_emails   = ["dba-team@example.com", "oncall@example.com"]
}

output "state_machine_arns" {
  description = "State machine of each account."
  value = {
    staging = module.staging.state_machine_arn
    prod    = module.prod.state_machine_arn
  }
}

output "failure_topic_arns" {
  description = "Failure topic of each account, for paging integrations."
  value = {
    staging = module.staging.failure_topic_arn
    prod    = module.prod.failure_topic_arn
  }
}
