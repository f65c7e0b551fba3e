"""The module's CloudWatch dashboard, rendered to a PNG from sample data (make dashboard-png)."""
