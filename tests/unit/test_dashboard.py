"""The dashboard template (modules/rds-snapshot-manager/templates/dashboard.json.tftpl) and the
PNG generator that plots it (tools/dashboard/render_png.py)."""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rds_snapshot_manager.domain import metrics
from tools.dashboard import render_png

REPO = Path(__file__).resolve().parents[2]
DASHBOARD_TF = REPO / "modules" / "rds-snapshot-manager" / "dashboard.tf"
TERRAFORM = REPO / ".venv" / "bin" / "terraform"
# The metric names lambda_src emits (domain/metrics.py, design decision D12): a rename there
# that the template does not follow fails here.
D12_METRICS = {
    metrics.RUNS,
    metrics.RUNS_OK,
    metrics.RUNS_PARTIAL,
    metrics.RUNS_FAILED,
    metrics.RUNS_SKIPPED,
    metrics.SNAPSHOTS_CREATED,
    metrics.SNAPSHOTS_DELETED,
    metrics.TARGETS_SKIPPED,
    metrics.TARGETS_FAILED,
    metrics.RUN_DURATION_SECONDS,
    metrics.RPO_BREACHES,
    metrics.MAX_NEWEST_SNAPSHOT_AGE_HOURS,
    metrics.SNAPSHOTS_COPIED,
    metrics.SNAPSHOTS_SHARED,
    metrics.WORK_FAILED,
    metrics.NEWEST_SNAPSHOT_AGE_HOURS,
    metrics.RESTORE_SECONDS,
    metrics.RESTORE_TESTS_FAILED,
}


def template_text() -> str:
    return render_png.TEMPLATE.read_text()


def rendered() -> dict[str, Any]:
    body = render_png.render_template(template_text(), render_png.SAMPLE_VARIABLES)
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def metric_rows() -> list[tuple[str, list[Any]]]:
    return [
        (widget["properties"]["title"], row)
        for widget in rendered()["widgets"]
        for row in widget["properties"]["metrics"]
    ]


def test_template_uses_exactly_the_variables_dashboard_tf_passes() -> None:
    call = re.search(r"templatefile\([^{]*\{(.*?)\}\)", DASHBOARD_TF.read_text(), re.DOTALL)
    assert call is not None
    passed = set(re.findall(r"^\s*(\w+)\s*=", call.group(1), re.MULTILINE))
    assert render_png.template_variables(template_text()) == passed
    assert set(render_png.SAMPLE_VARIABLES) == passed


def test_rendered_template_is_json_of_only_d12_metrics_for_the_deployment() -> None:
    rows = metric_rows()
    names = set()
    for _, row in rows:
        if isinstance(row[0], dict):
            expression = row[0]["expression"]
            assert expression.startswith(
                "SEARCH('{RdsSnapshotManager,Deployment,SourceType,SourceId}"
            )
            assert 'Deployment="rds-snapshot-manager"' in expression
            names.update(render_png.SEARCH_METRIC.findall(expression))
        else:
            assert row[0] == "RdsSnapshotManager"
            assert row[2:4] == ["Deployment", "rds-snapshot-manager"]
            names.add(row[1])
    assert names <= D12_METRICS, names - D12_METRICS
    # The brief's panels: run status, snapshots, failures, per-target age, duration, restore time.
    assert {"RunsOK", "SnapshotsCreated", "SnapshotsDeleted", "TargetsFailed"} <= names
    assert {"NewestSnapshotAgeHours", "RunDurationSeconds", "RestoreSeconds"} <= names


def test_rendering_by_terraform_templatefile_gives_the_same_dashboard(tmp_path: Path) -> None:
    if not TERRAFORM.exists():
        pytest.skip("no .venv/bin/terraform (make setup-terraform)")
    values = ", ".join(f'{name} = "{value}"' for name, value in render_png.SAMPLE_VARIABLES.items())
    expression = f'templatefile("{render_png.TEMPLATE}", {{{values}}})\n'
    result = subprocess.run(
        [str(TERRAFORM), "console"],
        input=expression,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        timeout=120,
    )
    # A multi-line string prints as a heredoc: <<EOT ... EOT.
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "<<EOT"
    assert lines[-1] == "EOT"
    assert json.loads("\n".join(lines[1:-1])) == rendered()


def test_stand_in_refuses_template_directives_it_cannot_render() -> None:
    with pytest.raises(ValueError, match="only"):
        render_png.render_template('%{ if x }{"a": 1}%{ endif }', {})
    with pytest.raises(ValueError, match="only"):
        render_png.render_template('{"a": ${jsonencode(x)}}', {"x": "1"})


def test_generator_covers_every_widget_and_series_of_the_template() -> None:
    raw = rendered()["widgets"]
    widgets = render_png.widgets(json.dumps(rendered()))
    assert [w.title for w in widgets] == [w["properties"]["title"] for w in raw]
    for widget, raw_widget in zip(widgets, raw, strict=True):
        assert len(widget.series) == len(raw_widget["properties"]["metrics"])
        for series in widget.series:
            lines = render_png.sample_lines(series)
            assert lines, (widget.title, series)
            assert all(points for points in lines.values()), (widget.title, series)
            if series.per_target:
                assert set(lines) == set(render_png.TARGETS)


def test_generator_draws_the_rpo_line_at_the_rendered_value() -> None:
    (age,) = [
        w
        for w in render_png.widgets(json.dumps(rendered()))
        if any(s.metric == "NewestSnapshotAgeHours" for s in w.series)
    ]
    assert age.horizontal_lines == (("RPO", float(render_png.SAMPLE_VARIABLES["rpo_hours"])),)


def test_sample_fleet_breaches_the_rpo_where_a_database_failed_twice() -> None:
    rpo = float(render_png.SAMPLE_VARIABLES["rpo_hours"])
    ages = dict(
        render_png.sample_lines(render_png.Series("MaxNewestSnapshotAgeHours", "max", False))
    )
    (points,) = ages.values()
    breached = [time.day for time, age in points if age > rpo]
    assert breached == [(render_png.FIRST_RUN.day + 10)]


def test_widgets_fit_the_24_column_grid_without_overlap() -> None:
    cells: set[tuple[int, int]] = set()
    for widget in render_png.widgets(json.dumps(rendered())):
        assert widget.x + widget.width <= render_png.GRID_COLUMNS
        area = {
            (x, y)
            for x in range(widget.x, widget.x + widget.width)
            for y in range(widget.y, widget.y + widget.height)
        }
        assert not area & cells, widget.title
        cells |= area
