terraform {
  # The module needs 1.9 (validations that refer to other variables).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The module's floor (modules/rds-snapshot-manager/versions.tf explains it).
      version = ">= 5.76, < 7.0"
    }
  }

  # State: add a backend per organisation (e.g. backend "s3" with workspace_key_prefix); see
  # docs/ROLLOUT.md. Workspaces keep each environment's state apart under any backend.
}
