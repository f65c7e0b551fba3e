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
