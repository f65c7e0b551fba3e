data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  service_principals = {
    lambda = "lambda.amazonaws.com"
    states = "states.amazonaws.com"
    events = "events.amazonaws.com"
  }

  rds_arn_prefix = "arn:${local.partition}:rds:${local.region}:${local.account_id}"

  # Explicit lists are granted by ARN; run-time selection (tags, S3 file) needs every database here.
  instance_arns = local.selects_dynamically ? ["${local.rds_arn_prefix}:db:*"] : [for id in var.db_instance_identifiers : "${local.rds_arn_prefix}:db:${id}"]
  cluster_arns  = local.selects_dynamically ? ["${local.rds_arn_prefix}:cluster:*"] : [for id in var.db_cluster_identifiers : "${local.rds_arn_prefix}:cluster:${id}"]

  # Snapshot identifiers are made at run time, so snapshots are granted per account and region.
  instance_snapshot_arns = "${local.rds_arn_prefix}:snapshot:*"
  cluster_snapshot_arns  = "${local.rds_arn_prefix}:cluster-snapshot:*"

  # What the Describe statements of create, check and prune are granted on.
  describe_resources = [
    "${local.rds_arn_prefix}:db:*",
    "${local.rds_arn_prefix}:cluster:*",
    local.instance_snapshot_arns,
    local.cluster_snapshot_arns,
  ]

  # Exactly the ledger calls each step makes (docs/ARCHITECTURE.md, "Access patterns").
  ledger_actions = {
    create = ["dynamodb:PutItem", "dynamodb:BatchWriteItem"]
    check  = ["dynamodb:Query", "dynamodb:BatchWriteItem"]
    prune  = ["dynamodb:Query", "dynamodb:BatchWriteItem"]
    notify = ["dynamodb:Query", "dynamodb:UpdateItem"]
  }

  lambda_policies = merge(
    {
      create = data.aws_iam_policy_document.create.json
      check  = data.aws_iam_policy_document.check.json
      notify = data.aws_iam_policy_document.notify.json
    },
    var.delete_old_snapshots ? { prune = data.aws_iam_policy_document.prune[0].json } : {}
  )
}

################################################################################
# Trust: each role is assumed by one service only
################################################################################

data "aws_iam_policy_document" "assume" {
  for_each = local.service_principals

  statement {
    sid     = "${each.key}ServiceAssumesRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [each.value]
    }
    # Confused-deputy guard where the service supports it (Lambda execution roles do not).
    dynamic "condition" {
      for_each = each.key == "lambda" ? [] : [local.account_id]
      content {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [condition.value]
      }
    }
  }
}

################################################################################
# Lambda functions: one role each, with only what that function does
################################################################################

resource "aws_iam_role" "lambda" {
  for_each = local.functions

  name               = "${var.name}-${each.key}"
  description        = "Role of the ${var.name}-${each.key} Lambda function."
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "lambda" {
  for_each = local.functions

  name   = "${var.name}-${each.key}"
  role   = aws_iam_role.lambda[each.key].id
  policy = local.lambda_policies[each.key]
}

# What every function needs: its own log group, its ledger calls, X-Ray, and the customer key when
# one is given.
data "aws_iam_policy_document" "lambda_common" {
  for_each = local.functions

  statement {
    sid       = "UseRunLedger"
    actions   = local.ledger_actions[each.key]
    resources = [aws_dynamodb_table.this.arn]
  }

  statement {
    sid       = "WriteOwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
  }

  dynamic "statement" {
    # X-Ray trace actions have no resource-level permissions.
    for_each = var.xray_tracing ? ["*"] : []
    content {
      sid       = "WriteTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseCustomerKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

data "aws_iam_policy_document" "create" {
  source_policy_documents = [data.aws_iam_policy_document.lambda_common["create"].json]

  statement {
    sid       = "DescribeDatabasesAndSnapshots"
    actions   = ["rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"]
    resources = local.describe_resources
  }

  statement {
    # DescribeAccountAttributes (the manual snapshot quota) has no resource-level permissions.
    sid       = "ReadSnapshotQuota"
    actions   = ["rds:DescribeAccountAttributes"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = length(local.instance_arns) > 0 ? [local.instance_arns] : []
    content {
      sid       = "SnapshotSelectedInstances"
      actions   = ["rds:CreateDBSnapshot"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = length(local.cluster_arns) > 0 ? [local.cluster_arns] : []
    content {
      sid       = "SnapshotSelectedClusters"
      actions   = ["rds:CreateDBClusterSnapshot"]
      resources = statement.value
    }
  }

  statement {
    # New snapshots get their tags in the create call, so every snapshot this role makes or tags
    # carries ManagedBy = name.
    sid       = "CreateSnapshotsTaggedManagedBy"
    actions   = ["rds:CreateDBSnapshot", "rds:CreateDBClusterSnapshot", "rds:AddTagsToResource"]
    resources = [local.instance_snapshot_arns, local.cluster_snapshot_arns]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/ManagedBy"
      values   = [var.name]
    }
  }

  dynamic "statement" {
    for_each = var.targets_s3_object == null ? [] : [var.targets_s3_object]
    content {
      sid       = "ReadTargetListFile"
      actions   = ["s3:GetObject"]
      resources = ["arn:${local.partition}:s3:::${statement.value.bucket}/${statement.value.key}"]
    }
  }
}

data "aws_iam_policy_document" "check" {
  source_policy_documents = [data.aws_iam_policy_document.lambda_common["check"].json]

  statement {
    sid       = "DescribeSnapshots"
    actions   = ["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"]
    resources = local.describe_resources
  }
}

data "aws_iam_policy_document" "prune" {
  count = var.delete_old_snapshots ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.lambda_common["prune"].json]

  statement {
    sid       = "DescribeSnapshots"
    actions   = ["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"]
    resources = local.describe_resources
  }

  statement {
    # The only delete permission: snapshots tagged by this deployment, never anyone else's.
    sid       = "DeleteOnlyManagedSnapshots"
    actions   = ["rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot"]
    resources = [local.instance_snapshot_arns, local.cluster_snapshot_arns]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/ManagedBy"
      values   = [var.name]
    }
  }
}

data "aws_iam_policy_document" "notify" {
  source_policy_documents = [data.aws_iam_policy_document.lambda_common["notify"].json]

  statement {
    sid       = "PublishRunReport"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.report.arn, aws_sns_topic.failure.arn]
  }
}

################################################################################
# Step Functions: invoke the functions, deliver logs and traces
################################################################################

resource "aws_iam_role" "state_machine" {
  name               = "${var.name}-states"
  description        = "Role of the ${var.name} snapshot state machine."
  assume_role_policy = data.aws_iam_policy_document.assume["states"].json
  tags               = var.tags
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid       = "InvokeRunFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = [for function in aws_lambda_function.this : function.arn]
  }

  statement {
    # CloudWatch Logs delivery actions have no resource-level permissions.
    sid = "DeliverExecutionLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  dynamic "statement" {
    # X-Ray trace actions have no resource-level permissions.
    for_each = var.xray_tracing ? ["*"] : []
    content {
      sid       = "WriteTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "${var.name}-states"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

################################################################################
# EventBridge: start executions of this state machine, nothing else
################################################################################

resource "aws_iam_role" "events" {
  name               = "${var.name}-events"
  description        = "Lets the ${var.name} schedule start the snapshot state machine."
  assume_role_policy = data.aws_iam_policy_document.assume["events"].json
  tags               = var.tags
}

data "aws_iam_policy_document" "events" {
  statement {
    sid       = "StartThisStateMachineOnly"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.this.arn]
  }
}

resource "aws_iam_role_policy" "events" {
  name   = "${var.name}-events"
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events.json
}
