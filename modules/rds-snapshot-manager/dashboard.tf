# An optional CloudWatch dashboard of the metrics Notify prints (D12 names, namespace
# RdsSnapshotManager). Per-target widgets use SEARCH expressions, so the dashboard needs no list of
# targets and picks up databases that tags or the list file select at run time.
resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = var.name
  dashboard_body = templatefile("${path.module}/templates/dashboard.json.tftpl", {
    namespace  = local.metric_namespace
    deployment = var.name
    region     = local.region
    rpo_hours  = local.rpo_hours
  })
}
