# Wiring of the module under a mocked AWS provider: no credentials, no network.
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name                    = "rsm-test"
  db_instance_identifiers = ["orders-db"]
  db_cluster_identifiers  = ["billing-aurora"]
  notification_emails     = ["ops@example.com"]
  # Provider 3.39 (the offline mirror) rejects newer runtimes client-side; the default stays current.
  lambda_runtime = "python3.8"
}

run "schedule_targets_the_state_machine_through_its_own_role" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition     = aws_cloudwatch_event_target.state_machine.arn == aws_sfn_state_machine.this.arn
    error_message = "The EventBridge target must be the state machine."
  }

  assert {
    condition     = aws_cloudwatch_event_target.state_machine.rule == aws_cloudwatch_event_rule.schedule.name
    error_message = "The target must hang off the schedule rule."
  }

  assert {
    condition     = aws_cloudwatch_event_target.state_machine.role_arn == aws_iam_role.events.arn
    error_message = "The target must start executions through the events role."
  }

  assert {
    condition = (
      one(data.aws_iam_policy_document.events.statement).actions == toset(["states:StartExecution"]) &&
      one(data.aws_iam_policy_document.events.statement).resources == toset([aws_sfn_state_machine.this.arn])
    )
    error_message = "The events role may only start this state machine."
  }

  assert {
    condition = (
      one(one(data.aws_iam_policy_document.assume["events"].statement).principals).identifiers == toset(["events.amazonaws.com"]) &&
      one(one(data.aws_iam_policy_document.assume["events"].statement).condition).variable == "aws:SourceAccount"
    )
    error_message = "Only EventBridge, from this account, may assume the events role."
  }

  assert {
    condition     = aws_cloudwatch_event_rule.schedule.schedule_expression == "cron(0 1 * * ? *)"
    error_message = "The rule must use the default schedule_expression."
  }
}

run "delete_is_limited_to_snapshots_tagged_managed_by_this_name" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.prune[0].statement :
      statement.sid == "DeleteOnlyManagedSnapshots" &&
      statement.actions == toset(["rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot"]) &&
      anytrue([for condition in statement.condition : condition.test == "StringEquals" && condition.variable == "aws:ResourceTag/ManagedBy" && condition.values == tolist(["rsm-test"])])
    ])
    error_message = "The prune policy must allow deletes only with aws:ResourceTag/ManagedBy = name."
  }

  assert {
    condition = alltrue(flatten([
      for key in ["create", "check", "notify"] : [
        for statement in [data.aws_iam_policy_document.create, data.aws_iam_policy_document.check, data.aws_iam_policy_document.notify][index(["create", "check", "notify"], key)].statement :
        length(setintersection(statement.actions, ["rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot"])) == 0
      ]
    ]))
    error_message = "Only the prune function may delete snapshots."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.create.statement :
      statement.sid == "SnapshotSelectedInstances" && contains(statement.resources, "arn:aws:rds:eu-west-1:123456789012:db:orders-db")
    ])
    error_message = "With explicit ids only, CreateDBSnapshot must be scoped to the listed instance ARNs."
  }

  assert {
    condition     = !anytrue([for statement in data.aws_iam_policy_document.lambda_common["create"].statement : statement.sid == "UseCustomerKey"])
    error_message = "Without kms_key_arn the functions get no KMS permission."
  }
}

run "each_function_gets_only_its_own_ledger_calls_and_tags_what_it_creates" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition = alltrue([
      for key, actions in {
        create = ["dynamodb:PutItem", "dynamodb:BatchWriteItem"]
        check  = ["dynamodb:Query", "dynamodb:BatchWriteItem"]
        prune  = ["dynamodb:Query", "dynamodb:BatchWriteItem"]
        notify = ["dynamodb:Query", "dynamodb:UpdateItem"]
      } :
      [for statement in data.aws_iam_policy_document.lambda_common[key].statement : statement.actions if statement.sid == "UseRunLedger"] == [toset(actions)]
    ])
    error_message = "Each function must get exactly the ledger calls of docs/ARCHITECTURE.md."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.create.statement :
      statement.sid == "CreateSnapshotsTaggedManagedBy" &&
      contains(statement.actions, "rds:CreateDBSnapshot") &&
      anytrue([for condition in statement.condition : condition.variable == "aws:RequestTag/ManagedBy" && condition.values == tolist(["rsm-test"])])
    ])
    error_message = "New snapshots may only be created carrying ManagedBy = name."
  }

  assert {
    condition = alltrue([
      for statement in data.aws_iam_policy_document.notify.statement :
      statement.sid != "PublishRunReport" || statement.resources == toset([aws_sns_topic.report.arn, aws_sns_topic.failure.arn])
    ])
    error_message = "Notify may publish to the two topics only."
  }
}

run "functions_get_their_environment_tracing_and_log_groups" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition     = keys(aws_lambda_function.this) == ["check", "create", "notify", "prune"]
    error_message = "There must be one function per step."
  }

  assert {
    condition     = aws_lambda_function.this["create"].handler == "rds_snapshot_manager.handlers.create_handler" && aws_lambda_function.this["prune"].handler == "rds_snapshot_manager.handlers.prune_handler"
    error_message = "Handlers must follow docs/ARCHITECTURE.md."
  }

  assert {
    condition = alltrue([for function in aws_lambda_function.this : (
      function.environment[0].variables.RSM_LEDGER_TABLE == aws_dynamodb_table.this.name &&
      function.environment[0].variables.RSM_REPORT_TOPIC_ARN == aws_sns_topic.report.arn &&
      function.environment[0].variables.RSM_FAILURE_TOPIC_ARN == aws_sns_topic.failure.arn &&
      function.environment[0].variables.RSM_DB_INSTANCE_IDENTIFIERS == "[\"orders-db\"]" &&
      function.environment[0].variables.RSM_WAIT_TIMEOUT_SECONDS == "7200" &&
      function.environment[0].variables.RSM_NAME == "rsm-test"
    )])
    error_message = "Every function must get the ledger, topics, targets and settings in its environment."
  }

  assert {
    condition     = alltrue([for function in aws_lambda_function.this : function.tracing_config[0].mode == "Active"])
    error_message = "X-Ray tracing must be active on every function."
  }

  assert {
    condition     = alltrue([for key, group in aws_cloudwatch_log_group.lambda : group.name == "/aws/lambda/${aws_lambda_function.this[key].function_name}" && group.retention_in_days == 365])
    error_message = "Each function must have its own log group, with retention."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 2 && alltrue([for subscription in aws_sns_topic_subscription.email : subscription.protocol == "email" && subscription.endpoint == "ops@example.com"])
    error_message = "Each email must subscribe to both topics."
  }
}

run "state_machine_follows_the_architecture" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).StartAt == "Init" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Init.Next == "Create" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Create.Next == "AwaitSnapshots" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Next == "Notify" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Notify.Next == "Outcome"
    )
    error_message = "The flow must be Init, Create, AwaitSnapshots (Parallel), Notify, Outcome."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States.Create.Resource == aws_lambda_function.this["create"].arn &&
      jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches[0].States.Check.Resource == aws_lambda_function.this["check"].arn &&
      jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches[1].States.Prune.Resource == aws_lambda_function.this["prune"].arn &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Notify.Resource == aws_lambda_function.this["notify"].arn
    )
    error_message = "Each Task must invoke its own function's ARN."
  }

  assert {
    condition     = [for branch in jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches : branch.StartAt] == ["Check", "Prune"]
    error_message = "The Parallel state must run the Check loop and Prune."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches[0].States.WaitForSnapshots.Seconds == 60 &&
      jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches[0].States.WaitForSnapshots.Next == "Check" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches[0].States.SnapshotsSettled.Choices[0].Variable == "$.check.done"
    )
    error_message = "Check must loop through Wait (poll_interval_seconds) until $.check.done."
  }

  assert {
    condition = alltrue([
      for state in ["Create", "AwaitSnapshots", "Notify"] :
      jsondecode(aws_sfn_state_machine.this.definition).States[state].Catch[0].ErrorEquals == ["States.ALL"]
    ]) && jsondecode(aws_sfn_state_machine.this.definition).States.Create.Catch[0].Next == "Notify" && jsondecode(aws_sfn_state_machine.this.definition).States.Notify.Catch[0].Next == "RunFailed"
    error_message = "Failures must be caught: Create and the Parallel state to Notify, Notify to RunFailed."
  }

  assert {
    condition = alltrue([
      for task in [
        jsondecode(aws_sfn_state_machine.this.definition).States.Create,
        jsondecode(aws_sfn_state_machine.this.definition).States.Notify,
        jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches[0].States.Check,
        jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches[1].States.Prune,
      ] : contains(task.Retry[0].ErrorEquals, "Lambda.ServiceException") && task.Retry[0].BackoffRate == 2
    ])
    error_message = "Every Task must retry Lambda service errors with backoff."
  }

  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].level == "ALL" && aws_sfn_state_machine.this.tracing_configuration[0].enabled
    error_message = "The state machine must log to its log group and trace with X-Ray."
  }

  assert {
    condition     = alltrue([for alarm in aws_cloudwatch_metric_alarm.executions : alarm.alarm_actions == toset([aws_sns_topic.failure.arn]) && alarm.dimensions.StateMachineArn == aws_sfn_state_machine.this.arn])
    error_message = "The execution alarms must watch this state machine and alert the failure topic."
  }
}
