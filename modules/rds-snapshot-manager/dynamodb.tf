# The run ledger. Keys and index fixed by docs/ARCHITECTURE.md (D2), which describes the items.
resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:Encrypted with kms_key_arn when given; without one the table uses the AWS-managed key, which checkov cannot tell from the variable's default.
  name         = local.ledger_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "history_pk"
    type = "S"
  }

  attribute {
    name = "history_sk"
    type = "S"
  }

  # D2: the run history and each database's snapshot history without a scan: history_pk "RUNS" or
  # "SOURCE#<instance|cluster>#<id>", history_sk the ISO-8601 UTC time (docs/ARCHITECTURE.md).
  # hash_key/range_key, not key_schema: key_schema exists only from provider 6.28 (see README).
  global_secondary_index {
    name            = "history"
    hash_key        = "history_pk"
    range_key       = "history_sk"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}
