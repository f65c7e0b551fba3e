terraform {
  # 1.9: validations that refer to other variables (lambda_runtime, poll_interval_seconds).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.76 is the first release whose client-side check accepts the default runtime python3.13.
      # Only arguments present from 3.39 through 6.x are used, so this repository's offline tests
      # run the module on 3.39 (the only provider reachable there) through a git-ignored override
      # that tools/terraform/setup_terraform.py writes; see the README's tested matrix.
      version = ">= 5.76, < 7.0"
    }
  }
}
