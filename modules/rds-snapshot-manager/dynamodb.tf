# The run ledger. Key schema fixed by docs/ARCHITECTURE.md; items are described in README.md.
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
