# Feature switches and optional inputs: what is off creates nothing and grants nothing.
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name                    = "rsm-test"
  db_instance_identifiers = ["orders-db"]
  # Provider 3.39 (the offline mirror) rejects newer runtimes client-side; the default stays current.
  lambda_runtime         = "python3.8"
  allow_emulator_runtime = true
}

run "no_deletion_means_no_prune_function_policy_or_state" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    delete_old_snapshots = false
  }

  assert {
    condition     = keys(aws_lambda_function.this) == ["check", "create", "notify"] && !contains(keys(aws_iam_role.lambda), "prune") && !contains(keys(aws_cloudwatch_log_group.lambda), "prune")
    error_message = "Without deletion there must be no prune function, role or log group."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.prune) == 0 && !contains(keys(aws_iam_role_policy.lambda), "prune")
    error_message = "Without deletion there must be no prune policy."
  }

  assert {
    condition = alltrue(flatten([
      for document in [data.aws_iam_policy_document.create, data.aws_iam_policy_document.check, data.aws_iam_policy_document.notify] : [
        for statement in document.statement : length(setintersection(statement.actions, ["rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot"])) == 0
      ]
    ]))
    error_message = "Without deletion no function may delete snapshots."
  }

  assert {
    condition     = [for branch in jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches : branch.StartAt] == ["Check"]
    error_message = "Without deletion the Parallel state must hold only the Check loop."
  }

  assert {
    condition     = !strcontains(aws_sfn_state_machine.this.definition, "Prune") && output.lambda_function_arns != null && !contains(keys(output.lambda_function_arns), "prune")
    error_message = "Without deletion neither the definition nor the outputs may mention Prune."
  }

  assert {
    condition     = aws_lambda_function.this["create"].environment[0].variables.RSM_DELETE_OLD_SNAPSHOTS == "false"
    error_message = "The functions must be told deletion is off."
  }
}

run "dynamic_selection_widens_create_to_the_account_and_reads_only_the_list_file" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    selection_tags    = { backup = "daily" }
    targets_s3_object = { bucket = "my-config-bucket", key = "rds/backup_list.txt" }
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.create.statement :
      statement.sid == "SnapshotSelectedInstances" && contains(statement.resources, "arn:aws:rds:eu-west-1:123456789012:db:*")
    ])
    error_message = "Tag or file selection must allow CreateDBSnapshot on every instance of the account and region."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.create.statement :
      statement.sid == "ReadTargetListFile" && statement.actions == toset(["s3:GetObject"]) && statement.resources == toset(["arn:aws:s3:::my-config-bucket/rds/backup_list.txt"])
    ])
    error_message = "The create function must read exactly the list file."
  }

  assert {
    condition     = aws_lambda_function.this["create"].environment[0].variables.RSM_TARGETS_S3_BUCKET == "my-config-bucket" && aws_lambda_function.this["create"].environment[0].variables.RSM_SELECTION_TAGS == "{\"backup\":\"daily\"}"
    error_message = "Selection tags and the list file must reach the functions' environment."
  }
}

run "customer_key_encrypts_everything_and_is_granted_to_the_functions" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = (
      aws_sns_topic.report.kms_master_key_id == var.kms_key_arn &&
      aws_sns_topic.failure.kms_master_key_id == var.kms_key_arn &&
      aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.kms_key_arn &&
      alltrue([for group in aws_cloudwatch_log_group.lambda : group.kms_key_id == var.kms_key_arn]) &&
      aws_cloudwatch_log_group.state_machine.kms_key_id == var.kms_key_arn
    )
    error_message = "The key must encrypt both topics, the ledger and every log group."
  }

  assert {
    condition = alltrue([
      for document in data.aws_iam_policy_document.lambda_common : anytrue([
        for statement in document.statement : statement.sid == "UseCustomerKey" && statement.resources == toset([var.kms_key_arn])
      ])
    ])
    error_message = "Every function must be allowed to use exactly the given key."
  }
}

run "too_many_identifiers_for_the_lambda_environment_are_rejected" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    # 200 ids of 20 characters: about 4.8 KB of JSON, more than the Lambda environment holds.
    db_instance_identifiers = [for i in range(200) : format("orders-db-%010d", i)]
  }

  expect_failures = [aws_lambda_function.this]
}

run "no_xray_means_no_tracing_and_no_trace_permissions" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    xray_tracing = false
  }

  assert {
    condition     = alltrue([for function in aws_lambda_function.this : function.tracing_config[0].mode == "PassThrough"]) && length(aws_sfn_state_machine.this.tracing_configuration) == 0
    error_message = "Without X-Ray neither the functions nor the state machine may trace."
  }

  assert {
    condition = !anytrue(flatten([
      for document in concat(values(data.aws_iam_policy_document.lambda_common), [data.aws_iam_policy_document.state_machine]) : [
        for statement in document.statement : statement.sid == "WriteTraces"
      ]
    ]))
    error_message = "Without X-Ray no role may write traces."
  }
}
