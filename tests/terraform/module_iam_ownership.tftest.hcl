# IAM as real AWS enforces it: this deployment creates, tags and deletes only snapshots with its own
# identifier prefix (D1), ARNs are lowercase, listed instances that are cluster members can be
# snapshotted, the list file's bucket and key are usable, and every role takes the organisation's
# path and permissions boundary.
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name                    = "rsm-test"
  db_instance_identifiers = ["orders-db"]
  lambda_runtime          = "python3.8"
  allow_emulator_runtime  = true
}

run "create_tag_and_delete_only_snapshots_with_this_deployments_prefix" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    # rsm- + the first 8 hex characters of sha256("rsm-test"), as Python's hashlib computes them.
    condition     = output.snapshot_identifier_prefix == "rsm-6709b1ca-"
    error_message = "The snapshot identifier prefix must be rsm-<sha256(name)[:8]>- (D1)."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.create.statement :
      statement.sid == "CreateOwnSnapshotsTaggedManagedBy" &&
      statement.actions == toset(["rds:CreateDBSnapshot", "rds:CreateDBClusterSnapshot", "rds:AddTagsToResource"]) &&
      statement.resources == toset([
        "arn:aws:rds:eu-west-1:123456789012:snapshot:rsm-6709b1ca-*",
        "arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:rsm-6709b1ca-*",
      ]) &&
      jsonencode({ for condition in statement.condition : "${condition.test} ${condition.variable}" => condition.values }) == jsonencode({
        "StringEquals aws:RequestTag/ManagedBy" = ["rsm-test"]
        "ForAllValues:StringEquals aws:TagKeys" = ["ManagedBy", "RunId", "SourceId", "SourceType", "RunStartedAt", "RunReason", "CopySourceRegion", "ShareCopyOf", "RestoreTestOf"]
      })
    ])
    error_message = "Create and tag only our-prefixed snapshot ARNs, with ManagedBy = name and only our tag keys."
  }

  assert {
    # The gap of issue 9: AddTagsToResource on any snapshot let a bug mark a hand-made snapshot for Prune.
    condition = alltrue(flatten([
      for document in [data.aws_iam_policy_document.create, data.aws_iam_policy_document.check, data.aws_iam_policy_document.notify, data.aws_iam_policy_document.prune[0]] : [
        for statement in document.statement : alltrue([
          for resource in statement.resources : strcontains(resource, ":snapshot:rsm-6709b1ca-") || strcontains(resource, ":cluster-snapshot:rsm-6709b1ca-")
          if length(setintersection(statement.actions, ["rds:AddTagsToResource", "rds:CreateDBSnapshot", "rds:CreateDBClusterSnapshot", "rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot"])) > 0 && (strcontains(resource, ":snapshot:") || strcontains(resource, ":cluster-snapshot:"))
        ])
      ]
    ]))
    error_message = "No statement may create, tag or delete a snapshot outside this deployment's prefix."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.prune[0].statement :
      statement.sid == "DeleteOnlyManagedSnapshots" &&
      statement.resources == toset([
        "arn:aws:rds:eu-west-1:123456789012:snapshot:rsm-6709b1ca-*",
        "arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:rsm-6709b1ca-*",
      ]) &&
      jsonencode({ for condition in statement.condition : "${condition.test} ${condition.variable}" => condition.values }) == jsonencode({
        "Null aws:ResourceTag/CopySourceRegion"  = ["true"]
        "StringEquals aws:ResourceTag/ManagedBy" = ["rsm-test"]
      })
    ])
    error_message = "Prune may delete only our-prefixed snapshots that carry ManagedBy = name (both halves of the ownership rule) and no CopySourceRegion (D8: not another Region's copy)."
  }
}

run "listed_instances_may_be_cluster_members_so_cluster_snapshots_are_granted" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    db_cluster_identifiers = ["billing-aurora"]
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.create.statement :
      statement.sid == "SnapshotSelectedClusters" && statement.actions == toset(["rds:CreateDBClusterSnapshot"]) &&
      statement.resources == toset(["arn:aws:rds:eu-west-1:123456789012:cluster:*"])
    ])
    error_message = "A listed instance may be an Aurora or Multi-AZ cluster member, known only at run time: CreateDBClusterSnapshot must be allowed on the account's clusters."
  }
}

run "listed_clusters_alone_are_granted_by_their_own_arns" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    db_instance_identifiers = []
    db_cluster_identifiers  = ["billing-aurora"]
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.create.statement :
      statement.sid == "SnapshotSelectedClusters" && statement.resources == toset(["arn:aws:rds:eu-west-1:123456789012:cluster:billing-aurora"])
    ]) && !anytrue([for statement in data.aws_iam_policy_document.create.statement : statement.sid == "SnapshotSelectedInstances"])
    error_message = "Without listed instances, CreateDBClusterSnapshot stays on the listed clusters' ARNs and no instance is granted."
  }
}

run "mixed_case_identifiers_are_granted_by_their_lowercase_arns" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    db_instance_identifiers = ["Orders-DB"]
    db_cluster_identifiers  = ["Billing-Aurora"]
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.create.statement :
      statement.sid == "SnapshotSelectedInstances" && statement.resources == toset(["arn:aws:rds:eu-west-1:123456789012:db:orders-db"])
    ])
    error_message = "RDS builds ARNs from lowercase identifiers, and IAM compares ARNs case-sensitively: the grant must be lowercase."
  }

  assert {
    condition     = aws_lambda_function.this["create"].environment[0].variables.RSM_DB_INSTANCE_IDENTIFIERS == "[\"Orders-DB\"]"
    error_message = "The functions must still get the identifiers as the user wrote them (they report under those)."
  }
}

run "the_list_file_can_be_found_missing_and_decrypted" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    targets_s3_object = {
      bucket      = "my-config-bucket"
      key         = "rds/backup_list.txt"
      kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.create.statement :
      statement.sid == "SeeWhetherTargetListFileExists" && statement.actions == toset(["s3:ListBucket"]) &&
      statement.resources == toset(["arn:aws:s3:::my-config-bucket"]) &&
      [for condition in statement.condition : "${condition.test} ${condition.variable}=${join(",", condition.values)}"] == ["StringEquals s3:prefix=rds/backup_list.txt"]
    ])
    error_message = "s3:ListBucket on the bucket, limited to the file's key, makes a missing file NoSuchKey instead of AccessDenied."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.create.statement :
      statement.sid == "DecryptTargetListFile" && statement.actions == toset(["kms:Decrypt"]) &&
      statement.resources == toset([var.targets_s3_object.kms_key_arn])
    ])
    error_message = "An SSE-KMS list file needs kms:Decrypt on its key."
  }
}

run "a_list_file_without_key_gets_no_kms_permission" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    targets_s3_object = { bucket = "my-config-bucket", key = "rds/backup_list.txt" }
  }

  assert {
    condition     = !anytrue([for statement in data.aws_iam_policy_document.create.statement : statement.sid == "DecryptTargetListFile"]) && anytrue([for statement in data.aws_iam_policy_document.create.statement : statement.sid == "SeeWhetherTargetListFileExists"])
    error_message = "Without kms_key_arn the list file gets s3:ListBucket but no KMS permission."
  }
}

run "every_role_takes_the_path_and_permissions_boundary" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    role_path                 = "/service/rsm/"
    role_permissions_boundary = "arn:aws:iam::123456789012:policy/org-boundary"
  }

  assert {
    condition = alltrue([
      for role in concat(values(aws_iam_role.lambda), [aws_iam_role.state_machine, aws_iam_role.events]) :
      role.path == "/service/rsm/" && role.permissions_boundary == "arn:aws:iam::123456789012:policy/org-boundary"
    ]) && length(aws_iam_role.lambda) == 4
    error_message = "All six roles must get role_path and role_permissions_boundary."
  }
}

run "roles_default_to_the_root_path_without_boundary" {
  command = plan

  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition = alltrue([
      for role in concat(values(aws_iam_role.lambda), [aws_iam_role.state_machine, aws_iam_role.events]) :
      role.path == "/" && role.permissions_boundary == null
    ])
    error_message = "By default roles are at / with no permissions boundary."
  }
}
