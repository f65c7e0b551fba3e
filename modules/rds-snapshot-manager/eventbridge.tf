resource "aws_cloudwatch_event_rule" "schedule" {
  name                = "${var.name}-schedule"
  description         = "Starts a run of the ${var.name} snapshot state machine."
  schedule_expression = var.schedule_expression
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "state_machine" {
  rule      = aws_cloudwatch_event_rule.schedule.name
  target_id = "state-machine"
  arn       = aws_sfn_state_machine.this.arn
  role_arn  = aws_iam_role.events.arn
  # An explicit input, so the execution sees no scheduler event fields (input.dry_run stays unset).
  input = jsonencode({ trigger = "schedule" })
}
