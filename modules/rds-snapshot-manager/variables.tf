################################################################################
# Naming and tags
################################################################################

variable "name" {
  description = "Prefix of every resource, and the value of the ManagedBy tag on the snapshots this deployment creates and may delete. Several deployments can share an account and region under different names."
  type        = string
  default     = "rds-snapshot-manager"

  validation {
    # 32 leaves room for the longest suffix ("-notify") within the 64-character limit of Lambda
    # function and IAM role names, and keeps snapshot identifiers short.
    condition     = length(var.name) <= 32 && can(regex("^[a-z]([a-z0-9-]*[a-z0-9])?$", var.name)) && !strcontains(var.name, "--")
    error_message = "name must be 1 to 32 characters: lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen; got \"${var.name}\"."
  }
}

variable "tags" {
  description = "Tags on every resource the module creates."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key, value in var.tags : length(key) >= 1 && length(key) <= 128 && length(value) <= 256 && !startswith(lower(key), "aws:")])
    error_message = "tags must have keys of 1 to 128 characters not starting with \"aws:\" and values of at most 256 characters; got keys ${jsonencode(keys(var.tags))}."
  }
}

################################################################################
# Targets: which databases are snapshotted
################################################################################

variable "db_instance_identifiers" {
  description = "RDS DB instances to snapshot."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.db_instance_identifiers : length(id) <= 63 && can(regex("^[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$", id)) && !strcontains(id, "--")])
    error_message = "db_instance_identifiers must be RDS identifiers: 1 to 63 letters, digits or hyphens, starting with a letter, without \"--\" or a trailing hyphen; got ${jsonencode([for id in var.db_instance_identifiers : id if !(length(id) <= 63 && can(regex("^[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$", id)) && !strcontains(id, "--"))])}."
  }

  validation {
    condition     = length(distinct(var.db_instance_identifiers)) == length(var.db_instance_identifiers)
    error_message = "db_instance_identifiers must not repeat an identifier; got ${jsonencode(var.db_instance_identifiers)}."
  }
}

variable "db_cluster_identifiers" {
  description = "Aurora and Multi-AZ DB clusters to snapshot, at cluster level."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.db_cluster_identifiers : length(id) <= 63 && can(regex("^[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$", id)) && !strcontains(id, "--")])
    error_message = "db_cluster_identifiers must be RDS identifiers: 1 to 63 letters, digits or hyphens, starting with a letter, without \"--\" or a trailing hyphen; got ${jsonencode([for id in var.db_cluster_identifiers : id if !(length(id) <= 63 && can(regex("^[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$", id)) && !strcontains(id, "--"))])}."
  }

  validation {
    condition     = length(distinct(var.db_cluster_identifiers)) == length(var.db_cluster_identifiers)
    error_message = "db_cluster_identifiers must not repeat an identifier; got ${jsonencode(var.db_cluster_identifiers)}."
  }
}

variable "selection_tags" {
  description = "Also select every DB instance and cluster that carries all of these tags (key = value)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key, value in var.selection_tags : length(key) >= 1 && length(key) <= 128 && length(value) <= 256])
    error_message = "selection_tags must have keys of 1 to 128 characters and values of at most 256 characters; got keys ${jsonencode(keys(var.selection_tags))}."
  }
}

variable "targets_s3_object" {
  description = "Also read identifiers from this S3 object: a text file, one identifier per line (LF or CRLF); blank lines and lines starting with # are ignored. kms_key_arn: the customer-managed key the object is encrypted with (SSE-KMS), if any."
  type = object({
    bucket      = string
    key         = string
    kms_key_arn = optional(string)
  })
  default = null

  validation {
    condition     = var.targets_s3_object == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.targets_s3_object.bucket))
    error_message = "targets_s3_object.bucket must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit; got \"${try(var.targets_s3_object.bucket, "")}\"."
  }

  validation {
    condition     = var.targets_s3_object == null || (length(try(var.targets_s3_object.key, "")) >= 1 && length(try(var.targets_s3_object.key, "")) <= 1024 && !startswith(try(var.targets_s3_object.key, ""), "/"))
    error_message = "targets_s3_object.key must be an S3 object key of 1 to 1024 characters, without a leading \"/\"; got \"${try(var.targets_s3_object.key, "")}\"."
  }

  validation {
    condition     = try(var.targets_s3_object.kms_key_arn, null) == null || can(regex(local.kms_key_arn_pattern, var.targets_s3_object.kms_key_arn))
    error_message = "targets_s3_object.kms_key_arn must be a KMS key ARN like arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (not an alias), or null; got \"${coalesce(try(var.targets_s3_object.kms_key_arn, null), "null")}\"."
  }
}

################################################################################
# Schedule and retention
################################################################################

variable "schedule_expression" {
  description = "EventBridge schedule of the runs: cron(minutes hours day-of-month month day-of-week year), where exactly one of day-of-month and day-of-week is ?, or rate(N unit)."
  type        = string
  default     = "cron(0 1 * * ? *)"

  validation {
    # What EventBridge itself accepts (checked only at apply, not by the provider): six fields, each
    # from its own character set, and exactly one of day-of-month and day-of-week given as "?".
    condition = (
      can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", var.schedule_expression)) ||
      try(length([
        for field in regex("^cron\\(([0-9,*/-]+) ([0-9,*/-]+) (\\?|[0-9,*/LW-]+) ([0-9A-Za-z,*/-]+) (\\?|[0-9A-Za-z,*/L#-]+) ([0-9,*/-]+)\\)$", var.schedule_expression) : field if field == "?"
      ]) == 1, false)
    )
    error_message = "schedule_expression must be cron() with six fields (minutes hours day-of-month month day-of-week year) where exactly one of day-of-month and day-of-week is \"?\", e.g. \"cron(0 1 * * ? *)\" or \"cron(0 1 ? * MON-FRI *)\", or rate(N unit), e.g. \"rate(1 day)\" or \"rate(12 hours)\"; got \"${var.schedule_expression}\"."
  }
}

variable "backup_interval_hours" {
  description = "Take a new snapshot of a database only if its newest managed snapshot is older than this many hours. Fractions are allowed."
  type        = number
  default     = 24

  validation {
    condition     = var.backup_interval_hours > 0 && var.backup_interval_hours <= 8760
    error_message = "backup_interval_hours must be greater than 0 and at most 8760 (one year); got ${var.backup_interval_hours}."
  }
}

variable "retention_days" {
  description = "Managed snapshots older than this many days are deleted (fractions are allowed, e.g. 0.5)."
  type        = number
  default     = 7

  validation {
    condition     = var.retention_days > 0 && var.retention_days <= 3650
    error_message = "retention_days must be greater than 0 and at most 3650 (ten years); got ${var.retention_days}."
  }
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

  validation {
    condition = var.retention_policy == null ? true : alltrue([
      for count in values(var.retention_policy) : count >= 0 && count <= 1000 && floor(count) == count
    ])
    error_message = "retention_policy counts (daily, weekly, monthly, yearly) must be whole numbers from 0 to 1000; got ${jsonencode(var.retention_policy)}."
  }

  validation {
    condition     = var.retention_policy == null ? true : anytrue([for count in values(var.retention_policy) : count > 0])
    error_message = "retention_policy must keep something: at least one of daily, weekly, monthly and yearly must be greater than 0 (or set retention_policy = null to use retention_days); got ${jsonencode(var.retention_policy)}."
  }
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

  validation {
    condition     = var.min_snapshots_to_keep >= 0 && var.min_snapshots_to_keep <= 1000 && floor(var.min_snapshots_to_keep) == var.min_snapshots_to_keep
    error_message = "min_snapshots_to_keep must be a whole number from 0 to 1000; got ${var.min_snapshots_to_keep}."
  }
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

  validation {
    condition     = var.manual_snapshot_quota >= 1 && var.manual_snapshot_quota <= 100000 && floor(var.manual_snapshot_quota) == var.manual_snapshot_quota
    error_message = "manual_snapshot_quota must be a whole number from 1 to 100000; got ${var.manual_snapshot_quota}."
  }
}

variable "api_concurrency" {
  description = "Create and delete calls a function makes at the same time."
  type        = number
  default     = 8

  validation {
    condition     = var.api_concurrency >= 1 && var.api_concurrency <= 32 && floor(var.api_concurrency) == var.api_concurrency
    error_message = "api_concurrency must be a whole number from 1 to 32; got ${var.api_concurrency}."
  }
}

################################################################################
# Run history (DynamoDB ledger)
################################################################################

variable "ledger_ttl_days" {
  description = "Days a run's history stays in the DynamoDB ledger before TTL removes it."
  type        = number
  default     = 400

  validation {
    condition     = var.ledger_ttl_days >= 1 && var.ledger_ttl_days <= 3650 && floor(var.ledger_ttl_days) == var.ledger_ttl_days
    error_message = "ledger_ttl_days must be a whole number from 1 to 3650; got ${var.ledger_ttl_days}."
  }
}

################################################################################
# Waiting for new snapshots (Check loop)
################################################################################

variable "wait_timeout_minutes" {
  description = "How long a run waits for its new snapshots to become available before it reports them as still creating."
  type        = number
  default     = 120

  validation {
    condition     = var.wait_timeout_minutes >= 1 && var.wait_timeout_minutes <= 1440 && floor(var.wait_timeout_minutes) == var.wait_timeout_minutes
    error_message = "wait_timeout_minutes must be a whole number from 1 to 1440 (one day); got ${var.wait_timeout_minutes}."
  }
}

variable "poll_interval_seconds" {
  description = "Seconds between two checks of the new snapshots' status."
  type        = number
  default     = 60

  validation {
    condition     = var.poll_interval_seconds >= 1 && var.poll_interval_seconds <= 3600 && floor(var.poll_interval_seconds) == var.poll_interval_seconds
    error_message = "poll_interval_seconds must be a whole number from 1 to 3600; got ${var.poll_interval_seconds}."
  }

  validation {
    # A Step Functions execution ends when its history reaches 25,000 events, before Notify could
    # report. Each poll of the Check loop adds 9 events (Check: TaskStateEntered, Lambda scheduled,
    # started, succeeded, TaskStateExited; the Choice and the Wait: entered and exited each); a run
    # polls at most wait_timeout_minutes * 60 / poll_interval_seconds + 1 times. 100 events cover the
    # rest of a run (36, measured in LocalStack: 45 events with one poll) with the retries of Create,
    # Prune and Notify, and 2,500 (10 %) stay in reserve for retries of Check: so 9 * polls + 100
    # must be at most 22,500.
    condition     = var.poll_interval_seconds < 1 || 9 * (ceil(var.wait_timeout_minutes * 60 / var.poll_interval_seconds) + 1) + 100 <= 22500
    error_message = "wait_timeout_minutes = ${var.wait_timeout_minutes} with poll_interval_seconds = ${var.poll_interval_seconds} allows up to ${ceil(var.wait_timeout_minutes * 60 / var.poll_interval_seconds) + 1} polls, about ${9 * (ceil(var.wait_timeout_minutes * 60 / var.poll_interval_seconds) + 1) + 100} execution history events (9 per poll + 100), over the 22,500 this module allows of Step Functions' 25,000-event limit (the rest is kept for retries). Use poll_interval_seconds >= ${ceil(var.wait_timeout_minutes * 60 / ((22500 - 100) / 9 - 1))} or a shorter wait_timeout_minutes."
  }
}

################################################################################
# Notifications
################################################################################

variable "notification_emails" {
  description = "Email addresses subscribed to both the report and the failure topic. Each must confirm the subscription."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for email in var.notification_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", email))])
    error_message = "notification_emails must be email addresses like ops@example.com; got ${jsonencode([for email in var.notification_emails : email if !can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", email))])}."
  }
}

################################################################################
# Lambda functions
################################################################################

variable "lambda_runtime" {
  description = "Lambda runtime of the four functions: python3.11 or later (the code needs 3.11)."
  type        = string
  default     = "python3.13"

  validation {
    # The package uses Python 3.11 features: on an older runtime every step, Notify included, fails
    # on import and no report is sent. Emulators with provider 3.x (whose client-side check accepts
    # at most python3.8) declare an older runtime through allow_emulator_runtime.
    condition     = can(regex("^python3\\.[0-9]+$", var.lambda_runtime)) && (var.allow_emulator_runtime || try(tonumber(split(".", var.lambda_runtime)[1]) >= 11, false))
    error_message = "lambda_runtime must be python3.11 or later, such as \"python3.13\" (the code needs Python 3.11); got \"${var.lambda_runtime}\". An older runtime is accepted only with allow_emulator_runtime = true, for emulators with AWS provider 3.x."
  }
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

  validation {
    condition     = var.lambda_timeout >= 10 && var.lambda_timeout <= 900 && floor(var.lambda_timeout) == var.lambda_timeout
    error_message = "lambda_timeout must be a whole number of seconds from 10 to 900; got ${var.lambda_timeout}."
  }
}

variable "lambda_memory_size" {
  description = "Memory of each Lambda function, in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240 && floor(var.lambda_memory_size) == var.lambda_memory_size
    error_message = "lambda_memory_size must be a whole number of MB from 128 to 10240; got ${var.lambda_memory_size}."
  }
}

variable "xray_tracing" {
  description = "Trace the functions and the state machine with AWS X-Ray. false also drops the X-Ray permissions."
  type        = bool
  default     = true
}

variable "log_level" {
  description = "Log level of the functions: DEBUG, INFO, WARNING, ERROR or CRITICAL."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, WARNING, ERROR or CRITICAL; got \"${var.log_level}\"."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' and the state machine's log groups, in days; one of the values CloudWatch Logs accepts."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653; got ${var.log_retention_days}."
  }
}

################################################################################
# IAM roles (organisation guardrails)
################################################################################

variable "role_path" {
  description = "IAM path of every role the module creates."
  type        = string
  default     = "/"

  validation {
    condition     = length(var.role_path) <= 512 && can(regex("^/([!-.0-~]+/)*$", var.role_path))
    error_message = "role_path must start and end with \"/\", with printable ASCII characters between (no spaces), at most 512 characters, e.g. \"/service/\"; got \"${var.role_path}\"."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of the managed policy set as permissions boundary on every role the module creates; null sets none."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary))
    error_message = "role_permissions_boundary must be an IAM managed policy ARN like arn:aws:iam::123456789012:policy/boundary, or null; got \"${coalesce(var.role_permissions_boundary, "null")}\"."
  }
}

################################################################################
# Encryption
################################################################################

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key for the SNS topics, the DynamoDB table, the log groups and the functions' environment. null uses AWS-managed encryption. The key policy must let CloudWatch Logs, and CloudWatch alarms (failure topic), use the key; see examples/complete."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex(local.kms_key_arn_pattern, var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN like arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (not an alias); got \"${coalesce(var.kms_key_arn, "null")}\"."
  }
}

################################################################################
# Account guard
################################################################################

variable "allowed_account_ids" {
  description = "AWS account ids this deployment may be applied to: the plan fails before any change when the credentials in use are for another account. [] allows any account."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "allowed_account_ids must list 12-digit AWS account ids, e.g. [\"123456789012\"]; got ${jsonencode(var.allowed_account_ids)}."
  }
}

################################################################################
# Restore tests
################################################################################

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

  validation {
    condition     = var.restore_test == null || can(regex("^(rate|cron)\\(.+\\)$", var.restore_test.schedule_expression))
    error_message = "restore_test.schedule_expression must be an EventBridge schedule, rate(...) or cron(...), e.g. \"cron(0 3 ? * SUN *)\"; got \"${try(var.restore_test.schedule_expression, "")}\"."
  }

  validation {
    condition     = var.restore_test == null || try(var.restore_test.sample_size == null ? true : var.restore_test.sample_size >= 1 && var.restore_test.sample_size <= 20 && floor(var.restore_test.sample_size) == var.restore_test.sample_size, false)
    error_message = "restore_test.sample_size must be null or a whole number from 1 to 20; got ${jsonencode(try(var.restore_test.sample_size, null))}."
  }

  validation {
    condition     = var.restore_test == null || try(var.restore_test.timeout_minutes >= 10 && var.restore_test.timeout_minutes <= var.wait_timeout_minutes && floor(var.restore_test.timeout_minutes) == var.restore_test.timeout_minutes, false)
    error_message = "restore_test.timeout_minutes must be a whole number from 10 to wait_timeout_minutes (${var.wait_timeout_minutes}): the run's Check loop ends then; got ${try(var.restore_test.timeout_minutes, "null")}."
  }

  validation {
    condition     = var.restore_test == null || try(var.restore_test.leftover_max_age_hours >= 1 && var.restore_test.leftover_max_age_hours <= 720 && floor(var.restore_test.leftover_max_age_hours) == var.restore_test.leftover_max_age_hours && var.restore_test.leftover_max_age_hours * 60 > var.restore_test.timeout_minutes, false)
    error_message = "restore_test.leftover_max_age_hours must be a whole number from 1 to 720 and longer than timeout_minutes, or the sweeper would delete a database a running test waits for; got ${try(var.restore_test.leftover_max_age_hours, "null")}."
  }

  validation {
    condition     = var.restore_test == null || try(can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.restore_test.instance_class)), false)
    error_message = "restore_test.instance_class must be an RDS instance class like db.t3.micro; got \"${try(var.restore_test.instance_class, "")}\"."
  }

  validation {
    condition     = var.restore_test == null || try(length(var.restore_test.vpc_security_group_ids) <= 5 && alltrue([for id in var.restore_test.vpc_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", id))]), false)
    error_message = "restore_test.vpc_security_group_ids must list at most 5 security group ids like sg-0123456789abcdef0; got ${jsonencode(try(var.restore_test.vpc_security_group_ids, []))}."
  }

  validation {
    # Python checks the same at run time against the resolved targets (tags, S3 file).
    condition = var.restore_test == null || try(
      length(var.selection_tags) > 0 || var.targets_s3_object != null || (
        length(setsubtract([for id in var.restore_test.db_instance_identifiers : lower(id)], [for id in var.db_instance_identifiers : lower(id)])) == 0 &&
        length(setsubtract([for id in var.restore_test.db_cluster_identifiers : lower(id)], [for id in var.db_cluster_identifiers : lower(id)])) == 0
      ), false
    )
    error_message = "restore_test may only test this deployment's targets: restore_test.db_instance_identifiers and db_cluster_identifiers must be among db_instance_identifiers and db_cluster_identifiers (or selection_tags / targets_s3_object must select them)."
  }
}

################################################################################
# Backup assurance: RPO audit, metrics, alarms and dashboard
################################################################################

variable "rpo_hours" {
  description = "Recovery point objective: a target whose newest available managed snapshot is older than this many hours is a failure, and the RPO alarm fires when the fleet's oldest newest-snapshot exceeds it or no run reports for this long. null = backup_interval_hours + wait_timeout_minutes / 60 + 1."
  type        = number
  default     = null

  validation {
    condition     = var.rpo_hours == null ? true : var.rpo_hours > 0 && var.rpo_hours <= 87600 && var.rpo_hours >= var.backup_interval_hours
    error_message = "rpo_hours must be greater than 0, at most 87600 (ten years) and at least backup_interval_hours (${var.backup_interval_hours}), since a database is snapshotted only every backup_interval_hours; got ${coalesce(var.rpo_hours, 0)}."
  }
}

variable "create_dashboard" {
  description = "Create a CloudWatch dashboard named after the deployment: runs by status, snapshots, failures, newest-snapshot age per target against the RPO, run duration and restore time."
  type        = bool
  default     = false
  nullable    = false
}

variable "snapshot_price_per_gib_month" {
  description = "USD per GiB-month of RDS backup storage beyond the free allowance (0.095 is the us-east-1 list price; see the Amazon RDS pricing page for your Region), used for the report's estimated monthly storage cost. The estimate is an upper bound: snapshots are incremental and their allocated size overstates what is stored."
  type        = number
  default     = 0.095
  nullable    = false

  validation {
    condition     = var.snapshot_price_per_gib_month >= 0 && var.snapshot_price_per_gib_month <= 1000
    error_message = "snapshot_price_per_gib_month must be a price in USD from 0 to 1000; got ${var.snapshot_price_per_gib_month}."
  }
}

variable "metric_target_limit" {
  description = "Emit the per-target metric NewestSnapshotAgeHours (dimensions Deployment, SourceType, SourceId) for at most this many targets, the oldest first; the fleet-wide metrics cover every target. Bounds the number of custom metrics (each is billed)."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.metric_target_limit >= 0 && var.metric_target_limit <= 500 && floor(var.metric_target_limit) == var.metric_target_limit
    error_message = "metric_target_limit must be a whole number from 0 to 500; got ${var.metric_target_limit}."
  }
}

################################################################################
# Disaster recovery: cross-region copies and cross-account sharing (issue 10)
################################################################################

variable "copy_to_regions" {
  description = "Copy each new snapshot to these Regions (at most 5, never the deployment's own). kms_key_arn: the key ARN in that Region that encrypts the copy of an encrypted snapshot (without one, an encrypted snapshot's copy fails with MissingDestinationKey in the report); retention_days: how long copies are kept there (null = the home rule); share: also share the copy with share_with_account_ids."
  type = list(object({
    region         = string
    kms_key_arn    = optional(string)
    retention_days = optional(number)
    share          = optional(bool, false)
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for copy in var.copy_to_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", copy.region))])
    error_message = "copy_to_regions[*].region must be AWS Region names like \"eu-central-1\" or \"us-gov-west-1\"; got ${jsonencode([for copy in var.copy_to_regions : copy.region if !can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", copy.region))])}."
  }

  validation {
    condition     = length(distinct([for copy in var.copy_to_regions : copy.region])) == length(var.copy_to_regions)
    error_message = "copy_to_regions must name each Region once; got ${jsonencode([for copy in var.copy_to_regions : copy.region])}."
  }

  validation {
    condition     = length(var.copy_to_regions) <= 5
    error_message = "copy_to_regions may list at most 5 Regions; got ${length(var.copy_to_regions)}."
  }

  validation {
    # KMS keys are regional: RDS encrypts a copy only with a key of its destination Region. A key
    # ARN, not an alias: the function role is granted kms:CreateGrant on exactly this ARN, and IAM
    # matches the key ARN of the request, never an alias (KMS developer guide, alias-authorization).
    condition     = alltrue([for copy in var.copy_to_regions : copy.kms_key_arn == null || (can(regex(local.kms_key_arn_pattern, copy.kms_key_arn)) && try(split(":", copy.kms_key_arn)[3], "") == copy.region)])
    error_message = "copy_to_regions[*].kms_key_arn must be a KMS key ARN in that entry's own Region, like arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (not an alias), or null; got ${jsonencode([for copy in var.copy_to_regions : "${copy.region}: ${copy.kms_key_arn}" if copy.kms_key_arn != null && !(can(regex(local.kms_key_arn_pattern, coalesce(copy.kms_key_arn, "-"))) && try(split(":", copy.kms_key_arn)[3], "") == copy.region)])}."
  }

  validation {
    condition     = alltrue([for copy in var.copy_to_regions : copy.retention_days == null || (try(copy.retention_days > 0, false) && try(copy.retention_days <= 3650, false))])
    error_message = "copy_to_regions[*].retention_days must be greater than 0 and at most 3650 (ten years), or null for the home rule; got ${jsonencode({ for copy in var.copy_to_regions : copy.region => copy.retention_days if copy.retention_days != null })}."
  }

  validation {
    condition     = alltrue([for copy in var.copy_to_regions : !copy.share || length(var.share_with_account_ids) > 0])
    error_message = "copy_to_regions sets share = true for ${jsonencode([for copy in var.copy_to_regions : copy.region if copy.share])}, but share_with_account_ids is empty: list the accounts to share with, or set share = false."
  }
}

variable "share_with_account_ids" {
  description = "AWS accounts each new snapshot (or its re-encrypted copy, see share_kms_key_arn) is shared with, for restore: 12-digit ids, at most 20, never the deployment's own account and never public (\"all\")."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    # RDS makes a snapshot public with the value "all"; this module never does, whatever the input.
    condition     = !anytrue([for id in var.share_with_account_ids : contains(["all", "*"], lower(trimspace(id)))])
    error_message = "share_with_account_ids must never make a snapshot public: \"all\" and \"*\" are refused; list 12-digit account ids instead."
  }

  validation {
    condition     = alltrue([for id in var.share_with_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "share_with_account_ids must be 12-digit AWS account ids, e.g. [\"210987654321\"]; got ${jsonencode([for id in var.share_with_account_ids : id if !can(regex("^[0-9]{12}$", id))])}."
  }

  validation {
    condition     = length(distinct(var.share_with_account_ids)) == length(var.share_with_account_ids)
    error_message = "share_with_account_ids must not repeat an account id; got ${jsonencode(var.share_with_account_ids)}."
  }

  validation {
    # RDS lets a manual snapshot be shared with at most 20 accounts.
    condition     = length(var.share_with_account_ids) <= 20
    error_message = "share_with_account_ids may list at most 20 accounts (the RDS limit per manual snapshot); got ${length(var.share_with_account_ids)}."
  }
}

variable "share_kms_key_arn" {
  description = "Customer-managed KMS key (key ARN, in the deployment's Region) for a shareable copy of a snapshot encrypted with the AWS-managed key aws/rds, which RDS cannot share: the copy is re-encrypted with this key and shared instead. Its key policy must let share_with_account_ids use it. null: such snapshots are reported as not shareable (DefaultKeyNotShareable)."
  type        = string
  default     = null

  validation {
    condition     = var.share_kms_key_arn == null || can(regex(local.kms_key_arn_pattern, var.share_kms_key_arn))
    error_message = "share_kms_key_arn must be a KMS key ARN like arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (not an alias), or null; got \"${coalesce(var.share_kms_key_arn, "null")}\"."
  }

  validation {
    condition     = var.share_kms_key_arn == null || length(var.share_with_account_ids) > 0
    error_message = "share_kms_key_arn is only used to share snapshots: set share_with_account_ids too, or leave share_kms_key_arn null."
  }
}
