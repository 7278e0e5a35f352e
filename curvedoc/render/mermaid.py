"""A run's curves as a Mermaid `xychart-beta` line chart, which GitHub draws as a graph
in Markdown (pull-request comments, job summaries, README files).

The chart holds the train and validation loss (or, for a log without losses, the first
of accuracy, a higher-is-better metric, a lower-is-better measure), one line each.  Lines
share one x axis, so each is interpolated onto the union of their x values (a value held
flat beyond its own first and last point) and the axis is thinned to `MAX_POINTS` evenly
spaced x values.  Named lines and legends are recent Mermaid additions that GitHub's
renderer may not parse, so the caller writes the legend in Markdown.  Mermaid numbers
have no exponent, so values are written positionally with four significant digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from curvedoc.findings import x_value
from curvedoc.table import CurveTable

__all__ = ["MAX_POINTS", "Chart", "chart", "number"]

MAX_POINTS = 100

#: Role groups to chart, in order of preference, with the y-axis title.
_GROUPS = (
    (("train_loss", "val_loss"), "loss"),
    (("train_acc", "val_acc"), "accuracy"),
    (("val_metric",), "metric"),
    (("val_error",), "error"),
)


@dataclass(frozen=True)
class Chart:
    """The Mermaid source; (role, column) of each line, in order, for the legend; how
    many x values the chart shows of how many the log has; whether a line needed values
    interpolated at x values where it was not logged."""

    source: str
    lines: tuple[tuple[str, str], ...]
    shown: int
    total: int
    interpolated: bool


def number(value: float) -> str:
    """`0.0001234`, `12.5`, `3`: at most four significant digits, never an exponent."""
    text = format(Decimal(f"{value:.4g}"), "f")
    return "0" if text in ("-0", "0.0") else text


def chart(table: CurveTable) -> Chart | None:
    """The chart of `table`'s curves, or None when it has no curve worth a chart."""
    for roles, title in _GROUPS:
        series = []
        for role in roles:
            values = table.series(role)
            if values is None:
                continue
            x = values.index.to_numpy(dtype=float)
            y = values.to_numpy(dtype=float)
            finite = np.isfinite(y)
            if finite.sum() >= 2:
                series.append((role, table.column(role) or role, x[finite], y[finite]))
        if series:
            return _chart(table.x_name, title, series)
    return None


def _chart(x_name: str, title: str,
           series: list[tuple[str, str, np.ndarray, np.ndarray]]) -> Chart:
    grid = np.unique(np.concatenate([x for _, _, x, _ in series]))
    total = len(grid)
    if total > MAX_POINTS:
        grid = grid[np.unique(np.linspace(0, total - 1, MAX_POINTS).round().astype(int))]
    interpolated = any(not np.isin(grid, x).all() for _, _, x, _ in series)
    categories = ", ".join(f'"{x_value(x)}"' for x in grid)
    body = [
        "xychart-beta",
        f'    x-axis "{x_name}" [{categories}]',
        f'    y-axis "{title}"',
    ]
    for _, _, x, y in series:
        body.append(f"    line [{', '.join(number(v) for v in np.interp(grid, x, y))}]")
    return Chart("\n".join(body), tuple((role, column) for role, column, _, _ in series),
                 len(grid), total, interpolated)
