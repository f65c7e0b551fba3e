################################################################################
# LocalStack
################################################################################

variable "localstack_endpoint" {
  description = "URL of LocalStack's gateway."
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "aws_region" {
  description = "Region LocalStack emulates for this deployment."
  type        = string
  default     = "us-east-1"
}

################################################################################
# Module inputs, passed through unchanged (the module validates them)
################################################################################

variable "name" {
  description = "Prefix of every resource, and the value of the ManagedBy tag on the snapshots this deployment creates and may delete. Several deployments can share an account and region under different names."
  type        = string
  default     = "rds-snapshot-manager"
}

variable "tags" {
  description = "Tags on every resource the module creates."
  type        = map(string)
  default     = {}
}

variable "db_instance_identifiers" {
  description = "RDS DB instances to snapshot."
  type        = list(string)
  default     = []
}

variable "db_cluster_identifiers" {
  description = "Aurora and Multi-AZ DB clusters to snapshot, at cluster level."
  type        = list(string)
  default     = []
}

variable "selection_tags" {
  description = "Also select every DB instance and cluster that carries all of these tags (key = value)."
  type        = map(string)
  default     = {}
}

variable "targets_s3_object" {
  description = "Also read identifiers from this S3 object: a text file, one identifier per line (LF or CRLF); blank lines and lines starting with # are ignored. kms_key_arn: the customer-managed key the object is encrypted with (SSE-KMS), if any."
  type = object({
    bucket      = string
    key         = string
    kms_key_arn = optional(string)
  })
  default = null
}

variable "schedule_expression" {
  description = "EventBridge schedule of the runs: cron(minutes hours day-of-month month day-of-week year), where exactly one of day-of-month and day-of-week is ?, or rate(N unit)."
  type        = string
  default     = "cron(0 1 * * ? *)"
}

variable "backup_interval_hours" {
  description = "Take a new snapshot of a database only if its newest managed snapshot is older than this many hours. Fractions are allowed."
  type        = number
  default     = 24
}

variable "retention_days" {
  description = "Managed snapshots older than this many days are deleted (fractions are allowed, e.g. 0.5)."
  type        = number
  default     = 7
}

variable "retention_policy" {
  description = "Tiered (grandfather-father-son) retention: for each tier, keep the newest managed snapshot in each of the N most recent periods that have one (daily = UTC calendar days, weekly = ISO weeks, monthly = calendar months, yearly = calendar years). When set, it replaces retention_days; min_snapshots_to_keep and the ownership rule still apply. null = off."
  type = object({
    daily   = optional(number, 0)
    weekly  = optional(number, 0)
    monthly = optional(number, 0)
    yearly  = optional(number, 0)
  })
  default = null
}

variable "delete_old_snapshots" {
  description = "Delete expired managed snapshots. false creates no Prune function, permission or state; history stays in DynamoDB."
  type        = bool
  default     = true
}

variable "min_snapshots_to_keep" {
  description = "Never delete the newest N managed snapshots of a database, whatever their age."
  type        = number
  default     = 1
}

variable "dry_run" {
  description = "Report what would be created and deleted, and change nothing."
  type        = bool
  default     = false
}

variable "manual_snapshot_quota" {
  description = "Manual snapshots allowed per account and region, used when RDS DescribeAccountAttributes is unavailable. The AWS default is 100."
  type        = number
  default     = 100
}

variable "api_concurrency" {
  description = "Create and delete calls a function makes at the same time."
  type        = number
  default     = 8
}

variable "ledger_ttl_days" {
  description = "Days a run's history stays in the DynamoDB ledger before TTL removes it."
  type        = number
  default     = 400
}

variable "wait_timeout_minutes" {
  description = "How long a run waits for its new snapshots to become available before it reports them as still creating."
  type        = number
  default     = 120
}

variable "poll_interval_seconds" {
  description = "Seconds between two checks of the new snapshots' status."
  type        = number
  default     = 60
}

variable "notification_emails" {
  description = "Email addresses subscribed to both the report and the failure topic. Each must confirm the subscription."
  type        = list(string)
  default     = []
}

variable "lambda_runtime" {
  description = "Lambda runtime of the four functions: python3.11 or later (the code needs 3.11)."
  type        = string
  default     = "python3.13"
}

variable "allow_emulator_runtime" {
  description = "Only for emulators (LocalStack) driven by AWS provider 3.x, whose client-side check accepts at most python3.8: lets lambda_runtime name a Python older than 3.11. The emulator runs the code on its own Python; on real AWS the functions would fail on import."
  type        = bool
  default     = false
}

variable "lambda_timeout" {
  description = "Timeout of each Lambda function, in seconds."
  type        = number
  default     = 300
}

variable "lambda_memory_size" {
  description = "Memory of each Lambda function, in MB."
  type        = number
  default     = 256
}

variable "xray_tracing" {
  description = "Trace the functions and the state machine with AWS X-Ray. false also drops the X-Ray permissions."
  type        = bool
  default     = false
}

variable "log_level" {
  description = "Log level of the functions: DEBUG, INFO, WARNING, ERROR or CRITICAL."
  type        = string
  default     = "INFO"
}

variable "log_retention_days" {
  description = "Retention of the functions' and the state machine's log groups, in days; one of the values CloudWatch Logs accepts."
  type        = number
  default     = 365
}

variable "role_path" {
  description = "IAM path of every role the module creates."
  type        = string
  default     = "/"
}

variable "role_permissions_boundary" {
  description = "ARN of the managed policy set as permissions boundary on every role the module creates; null sets none."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key for the SNS topics, the DynamoDB table, the log groups and the functions' environment. null uses AWS-managed encryption. The key policy must let CloudWatch Logs, and CloudWatch alarms (failure topic), use the key; see examples/complete."
  type        = string
  default     = null
}

variable "copy_to_regions" {
  description = "Copy each new snapshot to these Regions (at most 5, never the deployment's own). kms_key_arn: the key ARN in that Region that encrypts the copy of an encrypted snapshot (without one, an encrypted snapshot's copy fails with MissingDestinationKey in the report); retention_days: how long copies are kept there (null = the home rule); share: also share the copy with share_with_account_ids."
  type = list(object({
    region         = string
    kms_key_arn    = optional(string)
    retention_days = optional(number)
    share          = optional(bool, false)
  }))
  default = []
}

variable "share_with_account_ids" {
  description = "AWS accounts each new snapshot (or its re-encrypted copy, see share_kms_key_arn) is shared with, for restore: 12-digit ids, at most 20, never the deployment's own account and never public (\"all\")."
  type        = list(string)
  default     = []
}

variable "share_kms_key_arn" {
  description = "Customer-managed KMS key (key ARN, in the deployment's Region) for a shareable copy of a snapshot encrypted with the AWS-managed key aws/rds, which RDS cannot share: the copy is re-encrypted with this key and shared instead. Its key policy must let share_with_account_ids use it. null: such snapshots are reported as not shareable (DefaultKeyNotShareable)."
  type        = string
  default     = null
}

variable "allowed_account_ids" {
  description = "AWS account ids this deployment may be applied to: the plan fails before any change when the credentials in use are for another account. [] allows any account."
  type        = list(string)
  default     = []
}

variable "restore_test" {
  description = "Opt-in scheduled restore tests (docs/OPERATIONS.md, \"Restore tests\"): on their own schedule, restore the newest available managed snapshot of each chosen target into a temporary instance (or an Aurora cluster with one instance) named with the deployment's prefix and `rt-`, measure the time until it is available (the RTO), and delete it without a final snapshot. Targets: the listed ids (each must be a target of this deployment), or a rotating sample of `sample_size` targets (1 when nothing is listed). `db_subnet_group_name` and `vpc_security_group_ids` place the temporary database (null: the default VPC's subnet group); `timeout_minutes` (at most wait_timeout_minutes) fails a restore that is not available in time; temporary databases older than `leftover_max_age_hours` are swept by every run. null turns restore tests off."
  type = object({
    schedule_expression     = optional(string, "cron(0 3 ? * SUN *)")
    db_instance_identifiers = optional(list(string), [])
    db_cluster_identifiers  = optional(list(string), [])
    sample_size             = optional(number)
    instance_class          = optional(string, "db.t3.micro")
    db_subnet_group_name    = optional(string)
    vpc_security_group_ids  = optional(list(string), [])
    timeout_minutes         = optional(number, 120)
    leftover_max_age_hours  = optional(number, 24)
  })
  default = null
}

################################################################################
# Backup assurance
################################################################################

variable "rpo_hours" {
  description = "Recovery point objective: a target whose newest available managed snapshot is older than this many hours is a failure, and the RPO alarm fires when the fleet's oldest newest-snapshot exceeds it or no run reports for this long. null = backup_interval_hours + wait_timeout_minutes / 60 + 1."
  type        = number
  default     = null
}

variable "create_dashboard" {
  description = "Create a CloudWatch dashboard named after the deployment: runs by status, snapshots, failures, newest-snapshot age per target against the RPO, run duration and restore time."
  type        = bool
  default     = false
}

variable "snapshot_price_per_gib_month" {
  description = "USD per GiB-month of RDS backup storage beyond the free allowance (0.095 is the us-east-1 list price; see the Amazon RDS pricing page for your Region), used for the report's estimated monthly storage cost. The estimate is an upper bound: snapshots are incremental and their allocated size overstates what is stored."
  type        = number
  default     = 0.095
}

variable "metric_target_limit" {
  description = "Emit the per-target metric NewestSnapshotAgeHours (dimensions Deployment, SourceType, SourceId) for at most this many targets, the oldest first; the fleet-wide metrics cover every target. Bounds the number of custom metrics (each is billed)."
  type        = number
  default     = 50
}
