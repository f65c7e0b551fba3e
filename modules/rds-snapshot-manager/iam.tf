data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  rds_arn_prefix = "arn:${local.partition}:rds:${local.region}:${local.account_id}"

  # RDS identifiers are case-insensitive, and RDS stores them and builds its ARNs in lowercase,
  # while IAM compares ARNs case-sensitively: "Orders-DB" must be granted as ...:db:orders-db.
  instance_ids = [for id in var.db_instance_identifiers : lower(id)]
  cluster_ids  = [for id in var.db_cluster_identifiers : lower(id)]

  # Explicit lists are granted by ARN; run-time selection (tags, S3 file) needs every database here.
  instance_arns = local.selects_dynamically ? ["${local.rds_arn_prefix}:db:*"] : [for id in local.instance_ids : "${local.rds_arn_prefix}:db:${id}"]
  # An instance listed by id that belongs to an Aurora or Multi-AZ DB cluster is snapshotted at
  # cluster level, with CreateDBClusterSnapshot on its cluster. Which cluster that is, RDS says only
  # at run time (DescribeDBInstances), so listing any instance grants CreateDBClusterSnapshot on
  # every cluster of the account and Region. What that can create stays confined: the new snapshot's
  # identifier must start with this deployment's prefix and carry ManagedBy = name (statement
  # CreateOwnSnapshotsTaggedManagedBy), and CreateDBClusterSnapshot neither changes nor reads data
  # of the cluster.
  cluster_arns = local.selects_dynamically || length(var.db_instance_identifiers) > 0 ? ["${local.rds_arn_prefix}:cluster:*"] : [for id in local.cluster_ids : "${local.rds_arn_prefix}:cluster:${id}"]

  # The only snapshots this deployment may create, tag or delete: its own prefix (D1) in the ARN.
  owned_snapshot_arns = [
    "${local.rds_arn_prefix}:snapshot:${local.snapshot_id_prefix}*",
    "${local.rds_arn_prefix}:cluster-snapshot:${local.snapshot_id_prefix}*",
  ]

  # The tags the functions set on what they create (lambda_src services/create.py and check.py);
  # no other key may be set. D7: RunReason (on-demand runs), CopySourceRegion (cross-region copies),
  # ShareCopyOf (re-encrypted shareable copies), RestoreTestOf (restore-test databases).
  snapshot_tag_keys = ["ManagedBy", "RunId", "SourceId", "SourceType", "RunStartedAt", "RunReason", "CopySourceRegion", "ShareCopyOf", "RestoreTestOf"]

  # What the Describe statements of create, check and prune are granted on: listing reads every
  # snapshot (hand-made ones included) to tell ours from the rest; describing changes nothing.
  describe_resources = [
    "${local.rds_arn_prefix}:db:*",
    "${local.rds_arn_prefix}:cluster:*",
    "${local.rds_arn_prefix}:snapshot:*",
    "${local.rds_arn_prefix}:cluster-snapshot:*",
  ]

  # Disaster recovery (issue 10, D8). A copy keeps its original's identifier in its destination
  # Region, so the prefix scopes copies there too; CopySourceRegion = this Region tells our copies
  # from a same-named deployment's own snapshots in that Region.
  copy_regions  = [for copy in var.copy_to_regions : copy.region]
  share_regions = [for copy in var.copy_to_regions : copy.region if copy.share]
  shares        = length(var.share_with_account_ids) > 0
  copy_snapshot_arns = flatten([for region in local.copy_regions : [
    "arn:${local.partition}:rds:${region}:${local.account_id}:snapshot:${local.snapshot_id_prefix}*",
    "arn:${local.partition}:rds:${region}:${local.account_id}:cluster-snapshot:${local.snapshot_id_prefix}*",
  ]])
  shared_copy_arns = [for arn in local.copy_snapshot_arns : arn if contains(local.share_regions, split(":", arn)[3])]
  copy_describe_resources = flatten([for region in local.copy_regions : [
    "arn:${local.partition}:rds:${region}:${local.account_id}:snapshot:*",
    "arn:${local.partition}:rds:${region}:${local.account_id}:cluster-snapshot:*",
  ]])
  # D8: the shareable re-encrypted copy of a default-key snapshot (naming.share_copy_id).
  share_copy_arns = var.share_kms_key_arn == null ? [] : [
    "${local.rds_arn_prefix}:snapshot:${local.snapshot_id_prefix}s-*",
    "${local.rds_arn_prefix}:cluster-snapshot:${local.snapshot_id_prefix}s-*",
  ]
  # The keys RDS encrypts copies with, on the function's behalf: each destination's, and the share key.
  rds_grant_key_arns = concat(
    [for copy in var.copy_to_regions : copy.kms_key_arn if copy.kms_key_arn != null],
    var.share_kms_key_arn == null ? [] : [var.share_kms_key_arn],
  )

  # Sharing and un-sharing (Check shares, Prune un-shares before it deletes): only snapshots that
  # are ours by the whole rule. IAM has no condition key on the attribute's values (the Service
  # Authorization Reference lists none for rds:ModifyDBSnapshotAttribute), so which accounts are
  # added, and never "all", is the code's to enforce (docs/IAM_PROOF.md).
  share_statements = concat(
    local.shares ? [{
      sid       = "ShareOnlyOwnSnapshots"
      resources = local.owned_snapshot_arns
      equals    = { "aws:ResourceTag/ManagedBy" = [var.name] }
      null      = { "aws:ResourceTag/CopySourceRegion" = ["true"] }
    }] : [],
    length(local.shared_copy_arns) > 0 ? [{
      sid       = "ShareOnlyOwnCopiesInShareRegions"
      resources = local.shared_copy_arns
      equals    = { "aws:ResourceTag/ManagedBy" = [var.name], "aws:ResourceTag/CopySourceRegion" = [local.region] }
      null      = {}
    }] : [],
  )
  share_actions = [
    "rds:ModifyDBSnapshotAttribute",
    "rds:ModifyDBClusterSnapshotAttribute",
    "rds:DescribeDBSnapshotAttributes",
    "rds:DescribeDBClusterSnapshotAttributes",
  ]

  # D3: exactly the ledger calls each step makes (docs/ARCHITECTURE.md, "Access patterns"), on the
  # table and its indexes (the history GSI).
  ledger_actions = {
    create = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:Query"]
    check  = ["dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
    prune  = ["dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
    notify = ["dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
  }
  ledger_resources = [aws_dynamodb_table.this.arn, "${aws_dynamodb_table.this.arn}/index/*"]

  lambda_policies = merge(
    {
      create = data.aws_iam_policy_document.create.json
      check  = data.aws_iam_policy_document.check.json
      notify = data.aws_iam_policy_document.notify.json
    },
    contains(keys(local.functions), "prune") ? { prune = data.aws_iam_policy_document.prune[0].json } : {}
  )

  # Confused-deputy guard (aws:SourceAccount and aws:SourceArn) on the trust of each service that
  # sets them when it assumes a role: Step Functions (the state machine's ARN) and EventBridge (the
  # rule's ARN). Both ARNs are built from their parts: the role must exist before either resource.
  # Lambda documents neither key for execution roles (it assumes the role for the function's
  # service, not on a request naming a source); its roles are trusted by lambda.amazonaws.com alone,
  # and only this module's functions are configured with them (iam:PassRole stays with the deployer).
  service_trust = {
    lambda = { principal = "lambda.amazonaws.com", source_arns = [] }
    states = { principal = "states.amazonaws.com", source_arns = ["arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine_name}"] }
    # The backup schedule's rule, and the restore tests' rule when they are on.
    events = { principal = "events.amazonaws.com", source_arns = [for rule in concat([local.schedule_rule_name], local.restore_tests ? [local.restore_rule_name] : []) : "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${rule}"] }
  }
}

################################################################################
# Trust: each role is assumed by one service only
################################################################################

data "aws_iam_policy_document" "assume" {
  for_each = local.service_trust

  statement {
    sid     = "${each.key}ServiceAssumesRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [each.value.principal]
    }
    dynamic "condition" {
      for_each = length(each.value.source_arns) == 0 ? [] : [local.account_id]
      content {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [condition.value]
      }
    }
    dynamic "condition" {
      for_each = length(each.value.source_arns) == 0 ? [] : [each.value.source_arns]
      content {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = condition.value
      }
    }
  }
}

################################################################################
# Lambda functions: one role each, with only what that function does
################################################################################

resource "aws_iam_role" "lambda" {
  for_each = local.functions

  name                 = "${var.name}-${each.key}"
  description          = "Role of the ${var.name}-${each.key} Lambda function."
  assume_role_policy   = data.aws_iam_policy_document.assume["lambda"].json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
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
    resources = local.ledger_resources
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
  source_policy_documents = concat(
    [data.aws_iam_policy_document.lambda_common["create"].json],
    local.restore_tests ? [data.aws_iam_policy_document.restore_start[0].json] : []
  )

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
    # New snapshots get their tags in the create call (which also needs rds:AddTagsToResource), so
    # every snapshot this role makes or tags has this deployment's prefix and ManagedBy = name, and
    # only the tag keys Create sets. A hand-made snapshot, or another deployment's, has another
    # identifier: this role cannot tag it, so it cannot mark it for Prune.
    sid       = "CreateOwnSnapshotsTaggedManagedBy"
    actions   = ["rds:CreateDBSnapshot", "rds:CreateDBClusterSnapshot", "rds:AddTagsToResource"]
    resources = local.owned_snapshot_arns
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/ManagedBy"
      values   = [var.name]
    }
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = local.snapshot_tag_keys
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

  dynamic "statement" {
    # Without s3:ListBucket, S3 answers a missing object with AccessDenied. Limited to the file's own
    # key: a GetObject carries no s3:prefix, so the function tells "missing" from "denied" with a
    # ListObjectsV2 on that prefix (adapters/targets_file.py).
    for_each = var.targets_s3_object == null ? [] : [var.targets_s3_object]
    content {
      sid       = "SeeWhetherTargetListFileExists"
      actions   = ["s3:ListBucket"]
      resources = ["arn:${local.partition}:s3:::${statement.value.bucket}"]
      condition {
        test     = "StringEquals"
        variable = "s3:prefix"
        values   = [statement.value.key]
      }
    }
  }

  dynamic "statement" {
    # An SSE-KMS list file is decrypted by S3 on the function's behalf; the bucket may be in another
    # Region, hence the wildcard in kms:ViaService.
    for_each = try(var.targets_s3_object.kms_key_arn, null) == null ? [] : [var.targets_s3_object.kms_key_arn]
    content {
      sid       = "DecryptTargetListFile"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringLike"
        variable = "kms:ViaService"
        values   = ["s3.*.amazonaws.com"]
      }
    }
  }
}

# What Check and Prune both do in disaster recovery: list the copy Regions, and share (Check) or
# un-share before deleting (Prune) only snapshots that are ours.
data "aws_iam_policy_document" "disaster_recovery" {
  count = length(local.copy_regions) > 0 || local.shares ? 1 : 0

  dynamic "statement" {
    for_each = length(local.copy_regions) > 0 ? [local.copy_describe_resources] : []
    content {
      sid       = "DescribeSnapshotsInCopyRegions"
      actions   = ["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = local.share_statements
    content {
      sid       = statement.value.sid
      actions   = local.share_actions
      resources = statement.value.resources
      dynamic "condition" {
        for_each = statement.value.equals
        content {
          test     = "StringEquals"
          variable = condition.key
          values   = condition.value
        }
      }
      dynamic "condition" {
        for_each = statement.value.null
        content {
          test     = "Null"
          variable = condition.key
          values   = condition.value
        }
      }
    }
  }
}

data "aws_iam_policy_document" "check" {
  source_policy_documents = concat(
    [data.aws_iam_policy_document.lambda_common["check"].json],
    local.restore_tests ? [data.aws_iam_policy_document.restore_cleanup[0].json] : [],
    data.aws_iam_policy_document.disaster_recovery[*].json
  )

  statement {
    sid       = "DescribeSnapshots"
    actions   = ["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"]
    resources = local.describe_resources
  }

  dynamic "statement" {
    # The source of every copy (cross-Region, or the re-encrypted share copy): a snapshot that is
    # ours by the whole rule (prefix, ManagedBy, and not itself a copy from another Region).
    for_each = length(local.copy_regions) > 0 || var.share_kms_key_arn != null ? [local.owned_snapshot_arns] : []
    content {
      sid       = "CopyOnlyOwnSnapshots"
      actions   = ["rds:CopyDBSnapshot", "rds:CopyDBClusterSnapshot"]
      resources = statement.value
      condition {
        test     = "StringEquals"
        variable = "aws:ResourceTag/ManagedBy"
        values   = [var.name]
      }
      condition {
        test     = "Null"
        variable = "aws:ResourceTag/CopySourceRegion"
        values   = ["true"]
      }
    }
  }

  dynamic "statement" {
    # The new copy in a listed Region: our prefix, tagged ManagedBy = name and CopySourceRegion =
    # this Region (what Prune's delete there requires), only our tag keys.
    for_each = length(local.copy_regions) > 0 ? [local.copy_snapshot_arns] : []
    content {
      sid       = "CopyToListedRegionsTaggedAsOurCopies"
      actions   = ["rds:CopyDBSnapshot", "rds:CopyDBClusterSnapshot", "rds:AddTagsToResource"]
      resources = statement.value
      condition {
        test     = "StringEquals"
        variable = "aws:RequestTag/ManagedBy"
        values   = [var.name]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:RequestTag/CopySourceRegion"
        values   = [local.region]
      }
      condition {
        test     = "ForAllValues:StringEquals"
        variable = "aws:TagKeys"
        values   = local.snapshot_tag_keys
      }
    }
  }

  dynamic "statement" {
    # The shareable re-encrypted copy (D8 id prefix + "s-"), tagged ShareCopyOf its original.
    for_each = var.share_kms_key_arn == null ? [] : [local.share_copy_arns]
    content {
      sid       = "MakeShareCopiesTaggedShareCopyOf"
      actions   = ["rds:CopyDBSnapshot", "rds:CopyDBClusterSnapshot", "rds:AddTagsToResource"]
      resources = statement.value
      condition {
        test     = "StringEquals"
        variable = "aws:RequestTag/ManagedBy"
        values   = [var.name]
      }
      condition {
        test     = "Null"
        variable = "aws:RequestTag/ShareCopyOf"
        values   = ["false"]
      }
      condition {
        test     = "ForAllValues:StringEquals"
        variable = "aws:TagKeys"
        values   = local.snapshot_tag_keys
      }
    }
  }

  dynamic "statement" {
    # RDS encrypts a copy with the given key on the function's behalf: it calls kms:CreateGrant and
    # kms:DescribeKey with the caller's permissions (RDS user guide, "AWS KMS key management":
    # to use a KMS key, a user needs kms:CreateGrant and kms:DescribeKey on it).
    # kms:GrantIsForAWSResource limits the grants to those an AWS service makes for its resource.
    for_each = length(local.rds_grant_key_arns) > 0 ? [local.rds_grant_key_arns] : []
    content {
      sid       = "LetRdsGrantItselfTheCopyKeys"
      actions   = ["kms:CreateGrant"]
      resources = statement.value
      condition {
        test     = "Bool"
        variable = "kms:GrantIsForAWSResource"
        values   = ["true"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(local.rds_grant_key_arns) > 0 ? [local.rds_grant_key_arns] : []
    content {
      sid       = "DescribeCopyKeys"
      actions   = ["kms:DescribeKey"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    # Before sharing, Check tells whether a snapshot is encrypted with the AWS-managed key aws/rds,
    # which RDS cannot share (KeyManager = AWS in DescribeKey). The key is whatever encrypts the
    # database, so it is known only at run time: DescribeKey (metadata only, no use of the key) on
    # the keys of this account and Region. KMS offers no narrower form: DescribeKey supports only the condition
    # keys kms:CallerAccount, kms:RequestAlias and kms:ViaService (Service Authorization Reference,
    # AWS KMS), a request by key ARN carries no alias, and kms:ResourceAliases would deny the
    # customer-managed keys whose metadata tells "shareable" apart.
    for_each = local.shares ? ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"] : []
    content {
      sid       = "TellDefaultKeySnapshotsApart"
      actions   = ["kms:DescribeKey"]
      resources = [statement.value]
    }
  }

}

data "aws_iam_policy_document" "prune" {
  count = contains(keys(local.functions), "prune") ? 1 : 0

  source_policy_documents = concat(
    [data.aws_iam_policy_document.lambda_common["prune"].json],
    local.restore_tests ? [data.aws_iam_policy_document.restore_cleanup[0].json] : [],
    # Un-sharing and the copy Regions' listing serve deletes only: none for the sweeper alone.
    var.delete_old_snapshots ? data.aws_iam_policy_document.disaster_recovery[*].json : []
  )

  dynamic "statement" {
    for_each = var.delete_old_snapshots ? [local.describe_resources] : []
    content {
      sid       = "DescribeSnapshots"
      actions   = ["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    # The only delete permission in this Region: snapshots with this deployment's prefix AND its
    # ManagedBy tag (the ownership rule, D1), never anyone else's and never a hand-made copy
    # carrying the tag; and without CopySourceRegion (D8): a same-named deployment in another
    # Region copies its snapshots here under the same prefix and tag, and those are its to delete.
    # Prune also exists for the restore-test sweeper alone; it deletes snapshots only with
    # delete_old_snapshots.
    for_each = var.delete_old_snapshots ? [local.owned_snapshot_arns] : []
    content {
      sid       = "DeleteOnlyManagedSnapshots"
      actions   = ["rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot"]
      resources = statement.value
      condition {
        test     = "StringEquals"
        variable = "aws:ResourceTag/ManagedBy"
        values   = [var.name]
      }
      condition {
        test     = "Null"
        variable = "aws:ResourceTag/CopySourceRegion"
        values   = ["true"]
      }
    }
  }

  dynamic "statement" {
    # In a listed Region, only our copies: prefix, ManagedBy = name AND CopySourceRegion = this
    # Region, never the snapshots a same-named deployment there made itself (D8).
    for_each = var.delete_old_snapshots && length(local.copy_regions) > 0 ? [local.copy_snapshot_arns] : []
    content {
      sid       = "DeleteOnlyOwnCopiesInCopyRegions"
      actions   = ["rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot"]
      resources = statement.value
      condition {
        test     = "StringEquals"
        variable = "aws:ResourceTag/ManagedBy"
        values   = [var.name]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:ResourceTag/CopySourceRegion"
        values   = [local.region]
      }
    }
  }

}

data "aws_iam_policy_document" "notify" {
  source_policy_documents = concat(
    [data.aws_iam_policy_document.lambda_common["notify"].json],
    local.restore_tests ? [data.aws_iam_policy_document.restore_cleanup[0].json] : []
  )

  statement {
    sid       = "PublishRunReport"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.report.arn, aws_sns_topic.failure.arn]
  }
}

################################################################################
# Restore tests: restore only our snapshots, into and out of temporary databases only
################################################################################

locals {
  # D8: the temporary databases of restore tests, instance and cluster ids alike.
  temp_db_arns = [
    "${local.rds_arn_prefix}:db:${local.temp_db_prefix}*",
    "${local.rds_arn_prefix}:cluster:${local.temp_db_prefix}*",
  ]
  # The tags Create puts on a temporary database (services/restore.py); no other key may be set.
  temp_db_tag_keys = ["ManagedBy", "RunId", "RestoreTestOf"]
  # Resource types the Service Authorization Reference lists as required for the restore calls
  # (RestoreDBInstanceFromDBSnapshot: db, og, pg, subgrp; RestoreDBClusterFromSnapshot: cluster,
  # cluster-pg, og, subgrp; CreateDBInstance: db, and cluster/og/pg/subgrp when used). The restore
  # uses the snapshot's option and parameter groups (using one changes nothing in it), and the
  # configured subnet group, else the default VPC's ("default"). RDS stores names in lowercase.
  restore_group_arns = [
    "${local.rds_arn_prefix}:og:*",
    "${local.rds_arn_prefix}:pg:*",
    "${local.rds_arn_prefix}:cluster-pg:*",
    "${local.rds_arn_prefix}:subgrp:${lower(coalesce(try(var.restore_test.db_subnet_group_name, null), "default"))}",
  ]
}

# Create: start restores. iam:PassRole is not needed: the restore passes no role (no
# MonitoringRoleArn, DomainIAMRoleName or AssociatedRoles); RDS places the database in the subnets
# and security groups with its service-linked role AWSServiceRoleForRDS, so the caller needs no
# ec2 permissions (the SAR lists no ec2 dependent action for these calls).
data "aws_iam_policy_document" "restore_start" {
  count = local.restore_tests ? 1 : 0

  statement {
    # The new database must be a temporary one: our prefix + "rt-" in its ARN, tagged in the same
    # call with ManagedBy = name (which needs rds:AddTagsToResource too) and only the keys Create
    # sets. CreateDBInstance adds the one writer instance of a restored Aurora cluster.
    sid       = "RestoreOnlyIntoTemporaryDatabasesTaggedManagedBy"
    actions   = ["rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBClusterFromSnapshot", "rds:CreateDBInstance", "rds:AddTagsToResource"]
    resources = local.temp_db_arns
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/ManagedBy"
      values   = [var.name]
    }
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = local.temp_db_tag_keys
    }
  }

  statement {
    sid       = "RestoreOnlyFromOwnSnapshots"
    actions   = ["rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBClusterFromSnapshot"]
    resources = local.owned_snapshot_arns
  }

  statement {
    sid       = "RestoreWithSnapshotGroupsAndSubnetGroup"
    actions   = ["rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBClusterFromSnapshot", "rds:CreateDBInstance"]
    resources = local.restore_group_arns
  }

  statement {
    # The writer instance joins the temporary cluster (CreateDBInstance names its cluster).
    sid       = "AddWriterToTemporaryCluster"
    actions   = ["rds:CreateDBInstance"]
    resources = ["${local.rds_arn_prefix}:cluster:${local.temp_db_prefix}*"]
  }

  statement {
    # An encrypted snapshot restores only if the caller may let RDS use its key (CreateDBInstance's
    # dependent kms:CreateGrant and kms:DescribeKey in the SAR); only through RDS in this Region,
    # and only grants for AWS resources. Each key's own policy must still allow the account.
    sid       = "LetRdsUseSnapshotKeys"
    actions   = ["kms:CreateGrant", "kms:DescribeKey"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["rds.${local.region}.amazonaws.com"]
    }
  }
}

# Check, Prune (the sweeper) and Notify: see and delete temporary databases, nothing else.
data "aws_iam_policy_document" "restore_cleanup" {
  count = local.restore_tests ? 1 : 0

  statement {
    sid       = "DescribeDatabases"
    actions   = ["rds:DescribeDBInstances", "rds:DescribeDBClusters"]
    resources = ["${local.rds_arn_prefix}:db:*", "${local.rds_arn_prefix}:cluster:*"]
  }

  statement {
    # Only a temporary database: our prefix + "rt-", ManagedBy = name and a RestoreTestOf tag.
    sid       = "DeleteOnlyTemporaryDatabases"
    actions   = ["rds:DeleteDBInstance", "rds:DeleteDBCluster"]
    resources = local.temp_db_arns
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/ManagedBy"
      values   = [var.name]
    }
    condition {
      # Present and not empty (StringLike on a missing tag is false).
      test     = "StringLike"
      variable = "aws:ResourceTag/RestoreTestOf"
      values   = ["?*"]
    }
  }
}

################################################################################
# Step Functions: invoke the functions, deliver logs and traces
################################################################################

resource "aws_iam_role" "state_machine" {
  name                 = "${var.name}-states"
  description          = "Role of the ${var.name} snapshot state machine."
  assume_role_policy   = data.aws_iam_policy_document.assume["states"].json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
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
  name                 = "${var.name}-events"
  description          = "Lets the ${var.name} schedule start the snapshot state machine."
  assume_role_policy   = data.aws_iam_policy_document.assume["events"].json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
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
