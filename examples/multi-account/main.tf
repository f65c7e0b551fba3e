# One configuration, two accounts: a central deployer role assumes a role in each account and
# deploys one instance of the module there. For one workspace per account instead, see the root
# configuration and docs/ROLLOUT.md.
locals {
  account_ids = {
    staging = "111111111111"
    prod    = "222222222222"
  }
}

# Two guards per account. The provider's allowed_account_ids refuses to start with credentials
# for another account; the module's allowed_account_ids checks the caller identity again in the
# plan, so the module stays guarded if a provider block (or an alias mapping) is ever wrong.
provider "aws" {
  alias               = "staging"
  region              = "eu-west-1"
  allowed_account_ids = [local.account_ids.staging]

  assume_role {
    role_arn     = "arn:aws:iam::${local.account_ids.staging}:role/rds-snapshot-manager-deployer"
    session_name = "rds-snapshot-manager-staging"
  }

  default_tags {
    tags = { Environment = "staging" }
  }
}

provider "aws" {
  alias               = "prod"
  region              = "eu-west-1"
  allowed_account_ids = [local.account_ids.prod]

  assume_role {
    role_arn     = "arn:aws:iam::${local.account_ids.prod}:role/rds-snapshot-manager-deployer"
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

  allowed_account_ids = [local.account_ids.staging]

  selection_tags      = { snapshot-policy = "daily" }
  retention_days      = 3
  notification_emails = ["dba-team@example.com"]
}

module "prod" {
  source = "../../modules/rds-snapshot-manager"
  providers = {
    aws = aws.prod
  }

  allowed_account_ids = [local.account_ids.prod]

  selection_tags        = { snapshot-policy = "daily" }
  retention_days        = 35
  min_snapshots_to_keep = 7
  notification_emails   = ["dba-team@example.com", "oncall@example.com"]
}
