# Restore tests (issue 11 item 5): off creates nothing; on adds a second schedule with its own
# input, the RSM_RESTORE_TEST environment, Prune (the sweeper) even without deletion, and IAM
# statements confined to this deployment's temporary databases.
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name                    = "rsm-test"
  db_instance_identifiers = ["orders-db"]
  db_cluster_identifiers  = ["orders-aurora"]
  lambda_runtime          = "python3.8"
  allow_emulator_runtime  = true
}

run "off_by_default_no_rule_no_env_no_statements" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.restore_test) == 0 && length(aws_cloudwatch_event_target.restore_test) == 0
    error_message = "Without restore_test there must be no restore-test schedule."
  }

  assert {
    condition     = aws_lambda_function.this["create"].environment[0].variables.RSM_RESTORE_TEST == ""
    error_message = "Without restore_test RSM_RESTORE_TEST must be empty (off)."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.restore_start) == 0 && length(data.aws_iam_policy_document.restore_cleanup) == 0 && alltrue([for document in [data.aws_iam_policy_document.create, data.aws_iam_policy_document.check, data.aws_iam_policy_document.notify, data.aws_iam_policy_document.prune[0]] : length(document.source_policy_documents) == 1])
    error_message = "Without restore_test no role may restore or delete databases."
  }
}

run "on_adds_a_schedule_with_its_own_input_and_the_environment" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    restore_test = {
      db_instance_identifiers = ["Orders-DB"]
      db_subnet_group_name    = "Restore-Tests"
      vpc_security_group_ids  = ["sg-0123456789abcdef0"]
      timeout_minutes         = 60
    }
  }

  assert {
    condition     = aws_cloudwatch_event_rule.restore_test[0].schedule_expression == "cron(0 3 ? * SUN *)" && aws_cloudwatch_event_rule.restore_test[0].name == "rsm-test-restore-test"
    error_message = "The restore-test rule must run on its own (default weekly) schedule."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.restore_test[0].input) == { restore_test = true } && jsondecode(aws_cloudwatch_event_target.state_machine.input) == { dry_run = false }
    error_message = "The restore-test schedule must send {\"restore_test\": true}; the backup schedule keeps its input."
  }

  assert {
    condition = jsondecode(aws_lambda_function.this["check"].environment[0].variables.RSM_RESTORE_TEST) == {
      db_instance_identifiers = ["Orders-DB"]
      db_cluster_identifiers  = []
      sample_size             = null
      instance_class          = "db.t3.micro"
      db_subnet_group_name    = "Restore-Tests"
      vpc_security_group_ids  = ["sg-0123456789abcdef0"]
      timeout_minutes         = 60
      leftover_max_age_hours  = 24
    }
    error_message = "RSM_RESTORE_TEST must carry the restore_test settings (D6) to every function."
  }

  assert {
    condition     = one([for condition in data.aws_iam_policy_document.assume["events"].statement[0].condition : condition.values if condition.variable == "aws:SourceArn"]) == tolist(["arn:aws:events:eu-west-1:123456789012:rule/rsm-test-schedule", "arn:aws:events:eu-west-1:123456789012:rule/rsm-test-restore-test"])
    error_message = "The events role must trust the restore-test rule too (aws:SourceArn)."
  }
}

run "restores_and_deletes_only_temporary_databases" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    restore_test = {}
  }

  assert {
    condition = one([
      for statement in data.aws_iam_policy_document.restore_start[0].statement :
      statement.resources if statement.sid == "RestoreOnlyIntoTemporaryDatabasesTaggedManagedBy"
    ]) == toset(["arn:aws:rds:eu-west-1:123456789012:db:${local.temp_db_prefix}*", "arn:aws:rds:eu-west-1:123456789012:cluster:${local.temp_db_prefix}*"])
    error_message = "New databases may only be named with the prefix and rt-."
  }

  assert {
    condition = alltrue([
      for condition in one([for statement in data.aws_iam_policy_document.restore_start[0].statement : statement.condition if statement.sid == "RestoreOnlyIntoTemporaryDatabasesTaggedManagedBy"]) :
      (condition.variable == "aws:RequestTag/ManagedBy" && condition.test == "StringEquals" && condition.values == tolist(["rsm-test"])) ||
      (condition.variable == "aws:TagKeys" && condition.test == "ForAllValues:StringEquals" && condition.values == tolist(["ManagedBy", "RunId", "RestoreTestOf"]))
    ])
    error_message = "A restore must be tagged ManagedBy = name with only the restore-test tag keys."
  }

  assert {
    condition = one([
      for statement in data.aws_iam_policy_document.restore_start[0].statement :
      statement.resources if statement.sid == "RestoreOnlyFromOwnSnapshots"
    ]) == toset(["arn:aws:rds:eu-west-1:123456789012:snapshot:${local.snapshot_id_prefix}*", "arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:${local.snapshot_id_prefix}*"])
    error_message = "Restores may only read this deployment's snapshots."
  }

  assert {
    condition = alltrue([
      for statement in data.aws_iam_policy_document.restore_cleanup[0].statement :
      statement.sid != "DeleteOnlyTemporaryDatabases" || (
        statement.resources == toset(["arn:aws:rds:eu-west-1:123456789012:db:${local.temp_db_prefix}*", "arn:aws:rds:eu-west-1:123456789012:cluster:${local.temp_db_prefix}*"]) &&
        toset([for condition in statement.condition : "${condition.test} ${condition.variable} ${join(",", condition.values)}"]) == toset(["StringEquals aws:ResourceTag/ManagedBy rsm-test", "StringLike aws:ResourceTag/RestoreTestOf ?*"])
      )
    ])
    error_message = "Deletes must require the prefix and rt-, ManagedBy = name and a RestoreTestOf tag."
  }

  assert {
    condition = alltrue([
      for document in [data.aws_iam_policy_document.check, data.aws_iam_policy_document.prune[0], data.aws_iam_policy_document.notify, data.aws_iam_policy_document.create] :
      length(document.source_policy_documents) == 2
      ]) && alltrue([
      for statement in concat(tolist(data.aws_iam_policy_document.create.statement), tolist(data.aws_iam_policy_document.restore_start[0].statement)) :
      length(setintersection(statement.actions, ["rds:DeleteDBInstance", "rds:DeleteDBCluster"])) == 0
    ])
    error_message = "Check, Prune and Notify get the cleanup statements; Create restores and deletes nothing."
  }

  assert {
    condition = alltrue([
      for statement in concat(tolist(data.aws_iam_policy_document.restore_start[0].statement), tolist(data.aws_iam_policy_document.restore_cleanup[0].statement)) :
      !contains(statement.actions, "iam:PassRole") && !contains(statement.actions, "rds:*")
    ])
    error_message = "No role may pass a role: restores pass none."
  }
}

run "the_sweeper_exists_even_without_deletion" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    delete_old_snapshots = false
    restore_test         = { db_cluster_identifiers = ["orders-aurora"] }
  }

  assert {
    condition     = contains(keys(aws_lambda_function.this), "prune") && length([for branch in jsondecode(aws_sfn_state_machine.this.definition).States.AwaitSnapshots.Branches : branch]) == 2
    error_message = "With restore tests on, Prune must run (it sweeps leftovers)."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.prune[0].statement) == 0 && length(data.aws_iam_policy_document.prune[0].source_policy_documents) == 2
    error_message = "Without deletion Prune may delete temporary databases but no snapshot."
  }
}

run "rejects_a_restore_target_that_is_not_a_target" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    restore_test = { db_instance_identifiers = ["payments-db"] }
  }

  expect_failures = [var.restore_test]
}

run "rejects_a_timeout_beyond_the_wait" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    wait_timeout_minutes = 60
    restore_test         = { timeout_minutes = 90 }
  }

  expect_failures = [var.restore_test]
}

run "rejects_a_leftover_age_within_the_timeout" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    restore_test = { timeout_minutes = 120, leftover_max_age_hours = 2 }
  }

  expect_failures = [var.restore_test]
}

run "rejects_a_bad_sample_size_and_security_group" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    restore_test = { sample_size = 0, vpc_security_group_ids = ["default"] }
  }

  expect_failures = [var.restore_test]
}
