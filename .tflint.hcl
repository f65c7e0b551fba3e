# tflint for users' pipelines (tflint is in no registry reachable from this project's machines, so
# `make test-terraform` reports it as SKIPPED there). Run: tflint --init && tflint --recursive
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  version = "0.40.0"
  source  = "github.com/terraform-linters/tflint-ruleset-aws"
}
