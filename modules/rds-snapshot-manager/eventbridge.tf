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
  # An explicit empty input: the execution sees no scheduler event fields, and the run accepts only
  # the keys dry_run and manual_snapshot_quota (D5), so a scheduled run must send none.
  input = jsonencode({})
}
