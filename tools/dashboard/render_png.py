"""Render docs/images/dashboard.png: the module's dashboard, plotted from sample metrics.

The module renders templates/dashboard.json.tftpl with templatefile(). The template is limited to
plain ${name} interpolations, so `render_template` fills it exactly as Terraform does
(tests/unit/test_dashboard.py compares the two). Each widget's metric rows and SEARCH expressions
are plotted from a deterministic sample: a daily run over two weeks for three databases, with a
failing database that breaches the RPO, a failed copy, a run skipped for the lease and two weekly
restore tests. The picture shows the real layout, titles, series and RPO line, not real data.

`make dashboard-png` runs this with the tools venv's matplotlib; parsing needs only the standard
library, so the unit test runs in the dev venv.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "modules" / "rds-snapshot-manager" / "templates" / "dashboard.json.tftpl"
OUTPUT = REPO / "docs" / "images" / "dashboard.png"
# The values dashboard.tf passes to templatefile(), for a default deployment.
SAMPLE_VARIABLES = {
    "namespace": "RdsSnapshotManager",
    "deployment": "rds-snapshot-manager",
    "region": "eu-west-1",
    "rpo_hours": "27",
}
INTERPOLATION = re.compile(r"\$\{(\w+)\}")
SEARCH_METRIC = re.compile(r'MetricName="(\w+)"')
GRID_COLUMNS = 24

DAYS = 14
FIRST_RUN = datetime(2026, 11, 2, 1, tzinfo=UTC)
TARGETS = ("instance/orders-db", "instance/inventory-db", "cluster/billing-aurora")
# orders-db cannot be snapshotted on days 9 and 10: its newest snapshot ages past the RPO.
FAILED = {(9, 0), (10, 0)}
SKIPPED_RUN_DAY = 5  # an on-demand run started while the scheduled one held the lease
FAILED_COPY_DAY = 12
RESTORE_TEST_DAYS = (6, 13)
RESTORE_SECONDS = (540.0, 610.0, 1250.0)
RETENTION_DAYS = 7


def render_template(text: str, variables: dict[str, str]) -> str:
    """Fill the template as templatefile() does; it may use nothing but ${name} interpolations."""
    if "%{" in text or re.search(r"\$\{(?!\w+\})", text):
        raise ValueError("the dashboard template may use only ${name} interpolations")
    return INTERPOLATION.sub(lambda match: variables[match.group(1)], text)


def template_variables(text: str) -> set[str]:
    return set(INTERPOLATION.findall(text))


@dataclass(frozen=True)
class Series:
    metric: str
    label: str
    per_target: bool  # a SEARCH expression: one line per target
    color: str | None = None


@dataclass(frozen=True)
class Widget:
    title: str
    x: int
    y: int
    width: int
    height: int
    stacked: bool
    y_label: str
    series: tuple[Series, ...]
    horizontal_lines: tuple[tuple[str, float], ...]


def series_of(row: list[Any]) -> Series:
    """A metric row: [namespace, metric, dimension, value, {options}] or [{"expression": ...}]."""
    if isinstance(row[0], dict):
        expression = row[0]["expression"]
        (metric,) = SEARCH_METRIC.findall(expression)
        return Series(metric=metric, label=metric, per_target=True)
    options = row[-1] if isinstance(row[-1], dict) else {}
    return Series(
        metric=row[1],
        label=options.get("label", row[1]),
        per_target=False,
        color=options.get("color"),
    )


def widgets(body: str) -> list[Widget]:
    found = []
    for widget in json.loads(body)["widgets"]:
        properties = widget["properties"]
        found.append(
            Widget(
                title=properties["title"],
                x=widget["x"],
                y=widget["y"],
                width=widget["width"],
                height=widget["height"],
                stacked=properties.get("stacked", False),
                y_label=properties.get("yAxis", {}).get("left", {}).get("label", ""),
                series=tuple(series_of(row) for row in properties["metrics"]),
                horizontal_lines=tuple(
                    (line.get("label", ""), float(line["value"]))
                    for line in properties.get("annotations", {}).get("horizontal", [])
                ),
            )
        )
    return found


def snapshot_age(day: int, target: int) -> float:
    """Hours since the target's newest snapshot, as the run on `day` reports it."""
    last_good = max(d for d in range(day + 1) if (d, target) not in FAILED)
    return 24.0 * (day - last_good) + 0.1 + 0.05 * target


def created(day: int) -> float:
    return float(sum((day, target) not in FAILED for target in range(len(TARGETS))))


# Per metric: the value the run on a day reports (None: no datapoint that day).
DAILY: dict[str, Callable[[int], float | None]] = {
    "RunsOK": lambda day: float(not any((day, t) in FAILED for t in range(len(TARGETS)))),
    "RunsPartial": lambda day: float(any((day, t) in FAILED for t in range(len(TARGETS)))),
    "RunsFailed": lambda day: 0.0,
    "RunsSkipped": lambda day: float(day == SKIPPED_RUN_DAY),
    "SnapshotsCreated": created,
    "SnapshotsDeleted": lambda day: created(day - RETENTION_DAYS) if day >= RETENTION_DAYS else 0.0,
    "SnapshotsCopied": lambda day: created(day) - float(day == FAILED_COPY_DAY),
    "SnapshotsShared": lambda day: float((day, 2) not in FAILED),
    "TargetsSkipped": lambda day: 0.0,
    "TargetsFailed": lambda day: float(sum((day, t) in FAILED for t in range(len(TARGETS)))),
    "RpoBreaches": lambda day: float(
        sum(
            snapshot_age(day, t) > float(SAMPLE_VARIABLES["rpo_hours"]) for t in range(len(TARGETS))
        )
    ),
    "WorkFailed": lambda day: float(day == FAILED_COPY_DAY),
    "RestoreTestsFailed": lambda day: 0.0 if day in RESTORE_TEST_DAYS else None,
    "MaxNewestSnapshotAgeHours": lambda day: max(snapshot_age(day, t) for t in range(len(TARGETS))),
    "RunDurationSeconds": lambda day: 240.0 + 37.0 * (day * 7 % 11),
    "RestoreSeconds": lambda day: max(RESTORE_SECONDS) if day in RESTORE_TEST_DAYS else None,
}
# Per metric with per-target dimensions: the value for one target (index into TARGETS).
PER_TARGET: dict[str, Callable[[int, int], float | None]] = {
    "NewestSnapshotAgeHours": snapshot_age,
    "RestoreSeconds": lambda day, target: (
        RESTORE_SECONDS[target] if day in RESTORE_TEST_DAYS else None
    ),
}


def points(values: Callable[[int], float | None]) -> list[tuple[datetime, float]]:
    found = []
    for day in range(DAYS):
        value = values(day)
        if value is not None:
            found.append((FIRST_RUN + timedelta(days=day, minutes=20), value))
    return found


def sample_lines(series: Series) -> dict[str, list[tuple[datetime, float]]]:
    """The sample datapoints of one series, by line label; KeyError for a metric with no sample."""
    if series.per_target:
        per_target = PER_TARGET[series.metric]
        return {
            name: points(partial(lambda index, day: per_target(day, index), index))
            for index, name in enumerate(TARGETS)
        }
    return {series.label: points(DAILY[series.metric])}


def plot(found: list[Widget], path: Path) -> None:
    # Imported here: only `make dashboard-png` (the tools venv) has matplotlib.
    import matplotlib  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

    matplotlib.use("Agg")
    from matplotlib import dates, pyplot, ticker  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

    rows = max(widget.y + widget.height for widget in found)
    figure = pyplot.figure(figsize=(16, rows * 0.7), dpi=100)
    grid = figure.add_gridspec(rows, GRID_COLUMNS, hspace=6, wspace=2.5)
    figure.suptitle(
        f"CloudWatch dashboard {SAMPLE_VARIABLES['deployment']!r} (rendered from sample data)",
        fontsize=14,
    )
    for widget in found:
        axes = figure.add_subplot(
            grid[widget.y : widget.y + widget.height, widget.x : widget.x + widget.width]
        )
        axes.set_title(widget.title, fontsize=11, loc="left")
        axes.set_ylabel(widget.y_label)
        bottom = [0.0] * DAYS
        top = 0.0
        for series in widget.series:
            for label, data in sample_lines(series).items():
                times = [time for time, _ in data]
                values = [value for _, value in data]
                color = series.color if not series.per_target else None
                if widget.stacked:
                    axes.bar(times, values, 0.6, bottom[: len(values)], label=label, color=color)
                    bottom = [b + v for b, v in zip(bottom, values, strict=False)]
                    top = max(top, *bottom)
                else:
                    axes.plot(times, values, marker="o", markersize=3, label=label, color=color)
                    top = max(top, *values)
        for label, value in widget.horizontal_lines:
            axes.axhline(value, color="#d62728", linestyle="--", linewidth=1.2)
            axes.annotate(label, (0.01, value), xycoords=("axes fraction", "data"), color="#d62728")
            top = max(top, value)
        # Head room for the legend; every widget shows the same two weeks.
        axes.set_ylim(0, max(top, 1.0) * 1.45)
        axes.set_xlim(FIRST_RUN - timedelta(days=1), FIRST_RUN + timedelta(days=DAYS))
        axes.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.tick_params(axis="x", labelsize=8)
        axes.xaxis.set_major_formatter(dates.DateFormatter("%d %b"))
        axes.legend(fontsize=7, loc="upper left", ncols=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    # No software or date metadata, so the same inputs give the same file.
    figure.savefig(path, metadata={"Software": None}, bbox_inches="tight")
    pyplot.close(figure)


def main(args: list[str]) -> int:
    output = Path(args[0]) if args else OUTPUT
    found = widgets(render_template(TEMPLATE.read_text(), SAMPLE_VARIABLES))
    plot(found, output)
    print(f"{output}: {len(found)} widgets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
