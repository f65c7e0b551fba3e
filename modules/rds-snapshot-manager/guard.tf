# Optional account guard. The repository's root configuration sets `allowed_account_ids` on its
# provider, but most teams call this module by git source from their own configuration, where that
# provider setting (and the root's workspace guard) may be missing. With `allowed_account_ids` set,
# the plan fails here, before any resource is created, changed or destroyed, when the credentials
# in use belong to another account. Off ([]) creates nothing.
resource "terraform_data" "account_guard" {
  count = length(var.allowed_account_ids) > 0 ? 1 : 0

  input = local.account_id

  lifecycle {
    precondition {
      condition     = contains(var.allowed_account_ids, local.account_id)
      error_message = "This deployment may only be applied to AWS account ${join(" or ", var.allowed_account_ids)} (allowed_account_ids), but the credentials in use are for account ${local.account_id}. Use credentials, or an assume_role, for an allowed account, or correct allowed_account_ids."
    }
  }
}
