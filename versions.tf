terraform {
  # terraform_data (the workspace guard) needs 1.4; the module needs 1.5.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39, < 7.0"
    }
  }

  # State: add a backend per organisation (e.g. backend "s3" with workspace_key_prefix); see
  # docs/ROLLOUT.md. Workspaces keep each environment's state apart under any backend.
}
