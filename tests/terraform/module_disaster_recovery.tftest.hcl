# Disaster recovery (issue 10): the inputs copy_to_regions, share_with_account_ids and
# share_kms_key_arn, their validations (each run passes one bad input and expects exactly that
# error), what reaches the functions' environment (D6), and the IAM each feature adds (only when on).
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name                    = "rsm-test"
  db_instance_identifiers = ["orders-db"]
  lambda_runtime          = "python3.8"
  allow_emulator_runtime  = true
}

run "off_by_default_adds_no_permission_and_empty_settings" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  assert {
    condition = alltrue([for function in aws_lambda_function.this :
      function.environment[0].variables.RSM_COPY_TO_REGIONS == "[]" &&
      function.environment[0].variables.RSM_SHARE_WITH_ACCOUNT_IDS == "[]" &&
      function.environment[0].variables.RSM_SHARE_KMS_KEY_ARN == ""
    ])
    error_message = "Without disaster recovery every function gets an empty copy list, account list and share key."
  }

  assert {
    condition = alltrue(flatten([
      for document in [data.aws_iam_policy_document.create, data.aws_iam_policy_document.check, data.aws_iam_policy_document.prune[0]] : [
        for statement in document.statement : length(setintersection(statement.actions, [
          "rds:CopyDBSnapshot", "rds:CopyDBClusterSnapshot", "rds:ModifyDBSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute",
          "rds:DescribeDBSnapshotAttributes", "rds:DescribeDBClusterSnapshotAttributes", "kms:CreateGrant", "kms:DescribeKey",
        ])) == 0
      ]
    ]))
    error_message = "A switched-off feature adds no permission: no copy, share, grant or key description without copy_to_regions or share_with_account_ids."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.disaster_recovery) == 0 && length(data.aws_iam_policy_document.check.source_policy_documents) == 1
    error_message = "Without copy Regions or accounts there is no disaster-recovery policy document."
  }

  assert {
    # D8 holds in every configuration: the home delete never touches a copy made by another Region's deployment.
    condition = anytrue([
      for statement in data.aws_iam_policy_document.prune[0].statement :
      statement.sid == "DeleteOnlyManagedSnapshots" &&
      jsonencode({ for condition in statement.condition : "${condition.test} ${condition.variable}" => condition.values }) == jsonencode({
        "Null aws:ResourceTag/CopySourceRegion"  = ["true"]
        "StringEquals aws:ResourceTag/ManagedBy" = ["rsm-test"]
      })
    ])
    error_message = "The home delete needs ManagedBy = name and no CopySourceRegion tag (D8)."
  }
}

run "copies_and_sharing_reach_the_functions_and_get_scoped_permissions" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    copy_to_regions = [
      { region = "eu-central-1", kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555", retention_days = 14, share = true },
      { region = "us-east-1" },
    ]
    share_with_account_ids = ["210987654321", "109876543210"]
    share_kms_key_arn      = "arn:aws:kms:eu-west-1:123456789012:key/99999999-8888-7777-6666-555555555555"
  }

  assert {
    condition = alltrue([for function in aws_lambda_function.this :
      jsondecode(function.environment[0].variables.RSM_COPY_TO_REGIONS) == [
        { region = "eu-central-1", kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555", retention_days = 14, share = true },
        { region = "us-east-1", kms_key_arn = null, retention_days = null, share = false },
      ] &&
      function.environment[0].variables.RSM_SHARE_WITH_ACCOUNT_IDS == "[\"210987654321\",\"109876543210\"]" &&
      function.environment[0].variables.RSM_SHARE_KMS_KEY_ARN == "arn:aws:kms:eu-west-1:123456789012:key/99999999-8888-7777-6666-555555555555"
    ])
    error_message = "Every function must get RSM_COPY_TO_REGIONS (D6 shape, nulls for the defaults), RSM_SHARE_WITH_ACCOUNT_IDS and RSM_SHARE_KMS_KEY_ARN."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.check.statement :
      statement.sid == "CopyOnlyOwnSnapshots" &&
      statement.actions == toset(["rds:CopyDBSnapshot", "rds:CopyDBClusterSnapshot"]) &&
      statement.resources == toset([
        "arn:aws:rds:eu-west-1:123456789012:snapshot:rsm-6709b1ca-*",
        "arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:rsm-6709b1ca-*",
      ]) &&
      jsonencode({ for condition in statement.condition : "${condition.test} ${condition.variable}" => condition.values }) == jsonencode({
        "Null aws:ResourceTag/CopySourceRegion"  = ["true"]
        "StringEquals aws:ResourceTag/ManagedBy" = ["rsm-test"]
      })
    ])
    error_message = "Check may copy only snapshots that are ours by the whole rule, in the home Region."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.check.statement :
      statement.sid == "CopyToListedRegionsTaggedAsOurCopies" &&
      statement.actions == toset(["rds:CopyDBSnapshot", "rds:CopyDBClusterSnapshot", "rds:AddTagsToResource"]) &&
      statement.resources == toset([
        "arn:aws:rds:eu-central-1:123456789012:snapshot:rsm-6709b1ca-*",
        "arn:aws:rds:eu-central-1:123456789012:cluster-snapshot:rsm-6709b1ca-*",
        "arn:aws:rds:us-east-1:123456789012:snapshot:rsm-6709b1ca-*",
        "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:rsm-6709b1ca-*",
      ]) &&
      jsonencode({ for condition in statement.condition : "${condition.test} ${condition.variable}" => condition.values }) == jsonencode({
        "StringEquals aws:RequestTag/ManagedBy"        = ["rsm-test"]
        "StringEquals aws:RequestTag/CopySourceRegion" = ["eu-west-1"]
        "ForAllValues:StringEquals aws:TagKeys"        = ["ManagedBy", "RunId", "SourceId", "SourceType", "RunStartedAt", "RunReason", "CopySourceRegion", "ShareCopyOf", "RestoreTestOf"]
      })
    ])
    error_message = "Copies may be made only in the listed Regions, under our prefix, tagged ManagedBy = name and CopySourceRegion = home, with only our tag keys."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.check.statement :
      statement.sid == "MakeShareCopiesTaggedShareCopyOf" &&
      statement.resources == toset([
        "arn:aws:rds:eu-west-1:123456789012:snapshot:rsm-6709b1ca-s-*",
        "arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:rsm-6709b1ca-s-*",
      ])
    ])
    error_message = "The re-encrypted share copy may be made only under the D8 share-copy prefix in the home Region."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.check.statement :
      statement.sid == "LetRdsGrantItselfTheCopyKeys" && statement.actions == toset(["kms:CreateGrant"]) &&
      statement.resources == toset([
        "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555",
        "arn:aws:kms:eu-west-1:123456789012:key/99999999-8888-7777-6666-555555555555",
      ]) &&
      [for condition in statement.condition : "${condition.test} ${condition.variable}=${join(",", condition.values)}"] == ["Bool kms:GrantIsForAWSResource=true"]
    ])
    error_message = "kms:CreateGrant only on the given keys, only for grants an AWS service makes for its resources."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.check.statement :
      statement.sid == "TellDefaultKeySnapshotsApart" && statement.actions == toset(["kms:DescribeKey"]) &&
      statement.resources == toset(["arn:aws:kms:eu-west-1:123456789012:key/*"])
    ])
    error_message = "Check may describe the keys of its own account and Region only (default-key detection before a share)."
  }

  assert {
    condition = length([
      for statement in data.aws_iam_policy_document.disaster_recovery[0].statement : statement.sid
      if contains(["ShareOnlyOwnSnapshots", "ShareOnlyOwnCopiesInShareRegions", "DescribeSnapshotsInCopyRegions"], statement.sid)
      ]) == 3 && anytrue([
      for statement in data.aws_iam_policy_document.disaster_recovery[0].statement :
      statement.sid == "ShareOnlyOwnCopiesInShareRegions" &&
      statement.resources == toset([
        "arn:aws:rds:eu-central-1:123456789012:snapshot:rsm-6709b1ca-*",
        "arn:aws:rds:eu-central-1:123456789012:cluster-snapshot:rsm-6709b1ca-*",
      ])
    ])
    error_message = "Sharing (and un-sharing) covers our snapshots at home and our copies only in the Regions with share = true."
  }

  assert {
    # Both roles take the shared document (its rendered merge is proven by tests/iam).
    condition     = length(data.aws_iam_policy_document.check.source_policy_documents) == 2 && length(data.aws_iam_policy_document.prune[0].source_policy_documents) == 2
    error_message = "Check (to share) and Prune (to un-share before deleting) must both get the disaster-recovery statements."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.prune[0].statement :
      statement.sid == "DeleteOnlyOwnCopiesInCopyRegions" &&
      length(statement.resources) == 4 &&
      jsonencode({ for condition in statement.condition : "${condition.test} ${condition.variable}" => condition.values }) == jsonencode({
        "StringEquals aws:ResourceTag/CopySourceRegion" = ["eu-west-1"]
        "StringEquals aws:ResourceTag/ManagedBy"        = ["rsm-test"]
      })
    ])
    error_message = "Prune may delete in the listed Regions only our copies: ManagedBy = name and CopySourceRegion = home."
  }
}

run "copies_without_sharing_add_no_share_or_key_permission" {
  command = apply

  module {
    source = "./modules/rds-snapshot-manager"
  }

  variables {
    copy_to_regions = [{ region = "eu-central-1" }]
  }

  assert {
    condition = alltrue(flatten([
      for document in [data.aws_iam_policy_document.create, data.aws_iam_policy_document.check, data.aws_iam_policy_document.prune[0]] : [
        for statement in document.statement : length(setintersection(statement.actions, [
          "rds:ModifyDBSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute", "kms:CreateGrant", "kms:DescribeKey",
        ])) == 0
      ]
    ]))
    error_message = "Copies of unencrypted snapshots need no key and no share permission."
  }

  assert {
    condition     = [for statement in data.aws_iam_policy_document.disaster_recovery[0].statement : statement.sid] == ["DescribeSnapshotsInCopyRegions"]
    error_message = "Copies without sharing add only the listing of the copy Regions to what Check and Prune share."
  }
}

run "region_name_must_be_a_region" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    copy_to_regions = [{ region = "EU-Central-1" }]
  }
  expect_failures = [var.copy_to_regions]
}

run "region_must_not_repeat" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    copy_to_regions = [{ region = "eu-central-1" }, { region = "eu-central-1", retention_days = 3 }]
  }
  expect_failures = [var.copy_to_regions]
}

run "at_most_five_regions" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    copy_to_regions = [for region in ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-central-1", "eu-north-1"] : { region = region }]
  }
  expect_failures = [var.copy_to_regions]
}

run "destination_key_must_be_in_its_region" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    copy_to_regions = [{ region = "eu-central-1", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555" }]
  }
  expect_failures = [var.copy_to_regions]
}

run "destination_key_must_not_be_an_alias" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    copy_to_regions = [{ region = "eu-central-1", kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:alias/dr" }]
  }
  expect_failures = [var.copy_to_regions]
}

run "copy_retention_must_be_positive" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    copy_to_regions = [{ region = "eu-central-1", retention_days = 0 }]
  }
  expect_failures = [var.copy_to_regions]
}

run "copy_retention_at_most_ten_years" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    copy_to_regions = [{ region = "eu-central-1", retention_days = 3651 }]
  }
  expect_failures = [var.copy_to_regions]
}

run "sharing_a_copy_needs_accounts" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    copy_to_regions = [{ region = "eu-central-1", share = true }]
  }
  expect_failures = [var.copy_to_regions]
}

run "account_ids_must_have_twelve_digits" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    share_with_account_ids = ["21098765432"]
  }
  expect_failures = [var.share_with_account_ids]
}

run "sharing_with_all_is_refused_whatever_the_case" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    share_with_account_ids = ["ALL"]
  }
  # Both the "never public" and the 12-digit validations of the one variable fail.
  expect_failures = [var.share_with_account_ids]
}

run "account_ids_must_not_repeat" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    share_with_account_ids = ["210987654321", "210987654321"]
  }
  expect_failures = [var.share_with_account_ids]
}

run "at_most_twenty_accounts" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    share_with_account_ids = [for i in range(21) : format("2109876543%02d", i)]
  }
  expect_failures = [var.share_with_account_ids]
}

run "share_key_must_be_a_key_arn" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    share_with_account_ids = ["210987654321"]
    share_kms_key_arn      = "alias/share"
  }
  expect_failures = [var.share_kms_key_arn]
}

run "share_key_without_accounts_is_refused" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    share_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/99999999-8888-7777-6666-555555555555"
  }
  expect_failures = [var.share_kms_key_arn]
}

# The mocked ledger table is in eu-west-1 and the mocked caller in account 123456789012: what only
# the deployment's own Region and account can decide fails the plan once they are known.
run "copy_to_the_home_region_is_refused" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    copy_to_regions = [{ region = "eu-central-1" }, { region = "eu-west-1" }]
  }
  expect_failures = [aws_lambda_function.this]
}

run "sharing_with_the_own_account_is_refused" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    share_with_account_ids = ["210987654321", "123456789012"]
  }
  expect_failures = [aws_lambda_function.this]
}

run "share_key_in_another_region_is_refused" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    share_with_account_ids = ["210987654321"]
    share_kms_key_arn      = "arn:aws:kms:eu-central-1:123456789012:key/99999999-8888-7777-6666-555555555555"
  }
  expect_failures = [aws_lambda_function.this]
}

run "disaster_recovery_settings_count_against_the_lambda_environment" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    # 120 ids of 20 characters: 2.8 KB of JSON, which alone fits; with 20 accounts and 5 keyed
    # Regions (about 1 KB more) the values no longer fit the 3 KB left in the 4 KB environment.
    db_instance_identifiers = [for i in range(120) : format("orders-db-%010d", i)]
    share_with_account_ids  = [for i in range(20) : format("2109876543%02d", i)]
    copy_to_regions = [for region in ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-central-1"] : {
      region      = region
      kms_key_arn = "arn:aws:kms:${region}:123456789012:key/11111111-2222-3333-4444-555555555555"
    }]
  }
  expect_failures = [aws_lambda_function.this]
}
