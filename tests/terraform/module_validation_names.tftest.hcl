# Names, identifiers and ARNs: each run passes one bad input and expects the module to reject
# exactly that input at plan.
mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  db_instance_identifiers = ["orders-db"]
  lambda_runtime          = "python3.8"
  allow_emulator_runtime  = true
}

run "name_longer_than_32_characters_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    name = "a-name-that-is-far-too-long-for-iam-roles"
  }
  expect_failures = [var.name]
}

run "name_with_double_hyphen_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    name = "rsm--prod"
  }
  expect_failures = [var.name]
}

run "instance_identifier_not_valid_for_rds_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    db_instance_identifiers = ["1-starts-with-a-digit"]
  }
  expect_failures = [var.db_instance_identifiers]
}

run "cluster_identifier_with_trailing_hyphen_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    db_cluster_identifiers = ["aurora-"]
  }
  expect_failures = [var.db_cluster_identifiers]
}

run "repeated_identifier_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    db_instance_identifiers = ["orders-db", "orders-db"]
  }
  expect_failures = [var.db_instance_identifiers]
}

run "kms_alias_instead_of_key_arn_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    kms_key_arn = "alias/my-key"
  }
  expect_failures = [var.kms_key_arn]
}

run "invalid_bucket_name_is_rejected" {
  command = plan
  module {
    source = "./modules/rds-snapshot-manager"
  }
  variables {
    targets_s3_object = { bucket = "My_Bucket", key = "list.txt" }
  }
  expect_failures = [var.targets_s3_object]
}
