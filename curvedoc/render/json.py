"""The `--format json` document: a public interface that scripts and CI parse.

Its shape is fixed by the foundation issue; keys may be added, never changed.
"""

from __future__ import annotations

import json
from typing import Any

from curvedoc import __version__
from curvedoc.engine import Report, RunReport
from curvedoc.findings import json_number

__all__ = ["render", "run_document"]


def run_document(run: RunReport) -> dict[str, Any]:
    table = run.table
    metrics: dict[str, dict[str, Any]] = {}
    for column, metric in table.metrics.items():
        entry: dict[str, Any] = {"role": metric.role.name, "primary": metric.primary}
        if metric.derived:
            entry["derived"] = True
        metrics[column] = entry
    doc: dict[str, Any] = {
        "source": table.source,
        "format": table.format,
        "x": table.x_name,
        "points": table.points,
        "metrics": metrics,
        "findings": [f.to_json() for f in run.findings],
    }
    if table.run:
        doc["run"] = table.run
    if table.x_column:
        doc["x_column"] = table.x_column
    if table.notes:
        doc["notes"] = list(table.notes)
    return doc


def render(report: Report) -> str:
    doc = {
        "curvedoc": __version__,
        "runs": [run_document(run) for run in report.runs],
        "errors": [{"source": e.source, "message": e.message} for e in report.errors],
    }
    return json.dumps(json_number(doc), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
