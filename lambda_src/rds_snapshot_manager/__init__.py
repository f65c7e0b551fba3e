"""rds-snapshot-manager: scheduled manual RDS snapshots with retention, a ledger and run reports."""
