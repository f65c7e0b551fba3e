terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Only arguments present from 3.39 (the offline mirror) through 6.x are used.
      version = ">= 3.39, < 7.0"
    }
  }
}
