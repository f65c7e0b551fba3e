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
  lambda_runtime         = "python3.8"
  allow_emulator_runtime = true
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
      jsonencode({ for condition in one(data.aws_iam_policy_document.assume["events"].statement).condition : condition.variable => condition.values }) == jsonencode({
        "aws:SourceAccount" = ["123456789012"]
        "aws:SourceArn"     = ["arn:aws:events:eu-west-1:123456789012:rule/rsm-test-schedule"]
      })
    )
    error_message = "Only EventBridge, from this account and for this schedule rule (aws:SourceArn), may assume the events role."
  }

  assert {
    condition = (
      jsonencode({ for condition in one(data.aws_iam_policy_document.assume["states"].statement).condition : condition.variable => condition.values }) == jsonencode({
        "aws:SourceAccount" = ["123456789012"]
        "aws:SourceArn"     = ["arn:aws:states:eu-west-1:123456789012:stateMachine:rsm-test"]
      }) &&
      length(one(data.aws_iam_policy_document.assume["lambda"].statement).condition) == 0
    )
    error_message = "Step Functions may assume its role only for this state machine (aws:SourceArn, aws:SourceAccount); Lambda's trust documents neither key."
  }

  assert {
    condition     = aws_cloudwatch_event_target.state_machine.input == jsonencode({ dry_run = false })
    error_message = "Scheduled runs must send only dry_run = false: the run rejects any key but dry_run and manual_snapshot_quota (D5), and the input can only turn a dry run on."
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
        create = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:Query"]
        check  = ["dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
        prune  = ["dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
        notify = ["dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      } :
      [for statement in data.aws_iam_policy_document.lambda_common[key].statement : statement.actions if statement.sid == "UseRunLedger"] == [toset(actions)]
    ])
    error_message = "Each function must get exactly its ledger calls (D3)."
  }

  assert {
    condition = alltrue([
      for document in data.aws_iam_policy_document.lambda_common : anytrue([
        for statement in document.statement :
        statement.sid == "UseRunLedger" && statement.resources == toset([aws_dynamodb_table.this.arn, "${aws_dynamodb_table.this.arn}/index/*"])
      ])
    ])
    error_message = "The ledger calls must be granted on the table and its indexes (the history GSI), nothing else."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.create.statement :
      statement.sid == "CreateOwnSnapshotsTaggedManagedBy" &&
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
        ] : toset(task.Retry[0].ErrorEquals) == toset([
          "Lambda.ClientExecutionTimeoutException",
          "Lambda.ServiceException",
          "Lambda.AWSLambdaException",
          "Lambda.SdkClientException",
          "Lambda.TooManyRequestsException",
      ]) && task.Retry[0].BackoffRate == 2
    ])
    error_message = "Every Task must retry the Lambda service's transient errors, the invoke timeout included, with backoff."
  }

  assert {
    condition = anytrue([
      for retrier in jsondecode(aws_sfn_state_machine.this.definition).States.Notify.Retry :
      retrier.ErrorEquals == ["States.TaskFailed"] && retrier.MaxAttempts >= 2 && retrier.BackoffRate > 1
    ])
    error_message = "Notify must retry its own errors (States.TaskFailed) with backoff, or a failed publish loses the report."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States.Init.Parameters == { "run_id.$" = "$$.Execution.Name", "started_at.$" = "$$.Execution.StartTime", error = null } &&
      alltrue([
        for task in [
          jsondecode(aws_sfn_state_machine.this.definition).States.Create,
          jsondecode(aws_sfn_state_machine.this.definition).States.Notify,
          jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches[0].States.Check,
          jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches[1].States.Prune,
        ] : task.Parameters == { "run_id.$" = "$.run_id", "started_at.$" = "$.started_at", "error.$" = "$.error", "input.$" = "$$.Execution.Input" }
      ])
    )
    error_message = "The state must never hold a copy of the execution input: Init keeps run_id and started_at, each Task reads the input from $$.Execution.Input."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.ResultSelector == { "check.$" = "$[0].check", "prune.$" = "$[1].prune" } &&
      jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.ResultPath == "$.parallel"
    )
    error_message = "The Parallel state must keep only the branch results (ResultSelector), not one copy of the state per branch."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.Outcome.Choices == [{ Variable = "$.error", IsNull = false, Next = "RunFailed" }]
    error_message = "A run whose error is set (not null) must end failed."
  }

  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].level == "ALL" && aws_sfn_state_machine.this.tracing_configuration[0].enabled
    error_message = "The state machine must log to its log group and trace with X-Ray."
  }

  assert {
    condition = alltrue([
      for key in ["failed", "timed-out"] :
      aws_cloudwatch_metric_alarm.executions[key].alarm_actions == toset([aws_sns_topic.failure.arn]) &&
      aws_cloudwatch_metric_alarm.executions[key].dimensions.StateMachineArn == aws_sfn_state_machine.this.arn
    ])
    error_message = "The execution alarms must watch this state machine and alert the failure topic."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.executions["failed-invocations"].alarm_name == "rsm-test-schedule-failed-invocations" &&
      aws_cloudwatch_metric_alarm.executions["failed-invocations"].namespace == "AWS/Events" &&
      aws_cloudwatch_metric_alarm.executions["failed-invocations"].metric_name == "FailedInvocations" &&
      length(aws_cloudwatch_metric_alarm.executions["failed-invocations"].dimensions) == 1 &&
      aws_cloudwatch_metric_alarm.executions["failed-invocations"].dimensions.RuleName == aws_cloudwatch_event_rule.schedule.name &&
      aws_cloudwatch_metric_alarm.executions["failed-invocations"].alarm_actions == toset([aws_sns_topic.failure.arn])
    )
    error_message = "A failed invocation of the schedule rule must raise an alarm on the failure topic."
  }

  assert {
    # The default schedule runs daily: the window is 24 h plus a 10 % margin (26.4 h), in hourly
    # periods because it exceeds the one day CloudWatch allows for shorter periods.
    condition = (
      aws_cloudwatch_metric_alarm.missed_run[0].metric_name == "ExecutionsStarted" &&
      aws_cloudwatch_metric_alarm.missed_run[0].dimensions.StateMachineArn == aws_sfn_state_machine.this.arn &&
      aws_cloudwatch_metric_alarm.missed_run[0].treat_missing_data == "breaching" &&
      aws_cloudwatch_metric_alarm.missed_run[0].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.missed_run[0].period == 3600 &&
      aws_cloudwatch_metric_alarm.missed_run[0].evaluation_periods == 27 &&
      aws_cloudwatch_metric_alarm.missed_run[0].datapoints_to_alarm == 27 &&
      output.alarm_arns["missed-run"] == aws_cloudwatch_metric_alarm.missed_run[0].arn
    )
    error_message = "With a daily schedule, no execution started within 27 hours must raise the missed-run alarm (missing data breaching)."
  }

  assert {
    condition = (
      length(aws_dynamodb_table.this.global_secondary_index) == 1 &&
      one(aws_dynamodb_table.this.global_secondary_index).name == "history" &&
      one(aws_dynamodb_table.this.global_secondary_index).hash_key == "history_pk" &&
      one(aws_dynamodb_table.this.global_secondary_index).range_key == "history_sk" &&
      one(aws_dynamodb_table.this.global_secondary_index).projection_type == "ALL" &&
      contains([for attribute in aws_dynamodb_table.this.attribute : "${attribute.name}:${attribute.type}"], "history_pk:S") &&
      contains([for attribute in aws_dynamodb_table.this.attribute : "${attribute.name}:${attribute.type}"], "history_sk:S") &&
      aws_dynamodb_table.this.hash_key == "pk" && aws_dynamodb_table.this.range_key == "sk" &&
      one(aws_dynamodb_table.this.ttl).attribute_name == "expires_at"
    )
    error_message = "The ledger must keep pk/sk and TTL expires_at and add the history GSI (history_pk/history_sk, projection ALL) of D2."
  }
}
