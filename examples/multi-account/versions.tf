terraform {
  # The module's floors (modules/rds-snapshot-manager/versions.tf explains them).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.76, < 7.0"
    }
  }
}
