resource "aws_cloudwatch_event_rule" "schedule" {
  name                = local.schedule_rule_name
  description         = "Starts a run of the ${var.name} snapshot state machine."
  schedule_expression = var.schedule_expression
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "state_machine" {
  rule      = aws_cloudwatch_event_rule.schedule.name
  target_id = "state-machine"
  arn       = aws_sfn_state_machine.this.arn
  role_arn  = aws_iam_role.events.arn
  # An explicit input: the run accepts only the keys dry_run and manual_snapshot_quota (D5), so it
  # must not see the scheduler's event fields. dry_run = false changes nothing (the input can only
  # turn a dry run on); it is there because an empty {} is dropped by LocalStack ("No event to send
  # to target"), which would leave the emulated schedule starting no run at all.
  input = jsonencode({ dry_run = false })
}

# Restore tests run on their own schedule, as executions of the same state machine with the input
# {"restore_test": true} (D10): they restore, measure and delete, and create or prune no snapshot.
resource "aws_cloudwatch_event_rule" "restore_test" {
  count = local.restore_tests ? 1 : 0

  name                = local.restore_rule_name
  description         = "Starts a restore-test run of the ${var.name} snapshot state machine."
  schedule_expression = var.restore_test.schedule_expression
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "restore_test" {
  count = local.restore_tests ? 1 : 0

  rule      = aws_cloudwatch_event_rule.restore_test[0].name
  target_id = "state-machine-restore-test"
  arn       = aws_sfn_state_machine.this.arn
  role_arn  = aws_iam_role.events.arn
  input     = jsonencode({ restore_test = true })
}
