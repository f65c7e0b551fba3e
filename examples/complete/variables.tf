variable "allowed_account_ids" {
  description = "AWS account ids this example may be applied to, e.g. [\"123456789012\"]; [] allows any account. Set it to the account you mean, so credentials for another one fail the plan."
  type        = list(string)
  default     = []
}
