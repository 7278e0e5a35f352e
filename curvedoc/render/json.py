"""The `--format json` documents: public interfaces that scripts and CI parse.

`diagnose` and `check` write the report document, whose shape is fixed by the foundation
issue; `compare` writes the same runs with their key numbers, plus the differences.
Keys may be added, never changed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from curvedoc import __version__
from curvedoc.engine import Report, RunReport
from curvedoc.findings import json_number, x_value

if TYPE_CHECKING:
    from curvedoc.comparison import Comparison

__all__ = ["comparison_document", "render", "run_document"]


def run_document(run: RunReport) -> dict[str, Any]:
    """One run: its metrics, its findings, and the codes it was `unchecked` for (each
    with the reason: a log too short, no validation curve); an empty list when every
    code ran."""
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
        "unchecked": [{"code": u.code, "reason": u.reason} for u in run.unchecked],
    }
    if table.run:
        doc["run"] = table.run
    if table.x_column:
        doc["x_column"] = table.x_column
    if table.notes:
        doc["notes"] = list(table.notes)
    return doc


def render(report: Report) -> str:
    return _dumps({
        "curvedoc": __version__,
        "runs": [run_document(run) for run in report.runs],
        "errors": [{"source": e.source, "message": e.message} for e in report.errors],
    })


def comparison_document(comparison: Comparison) -> str:
    """`compare --format json`: each run as in the report, with its `label` (the name the
    differences use), `rank` (1 = best val, null without validation), `best` point and
    final losses; `differences` has one entry per code found in any run, with `kind`
    "only-some", "shifted" or "same", the x values where each run has it (`found`) and
    the runs that do not (`missing`).  Runs are listed in the order they were given
    (scripts index them so); `rank` orders them by quality."""
    runs = []
    for entry in sorted(comparison.entries, key=lambda e: e.given):  # as given, as ever
        top = entry.best
        runs.append({
            **run_document(entry.run), "label": entry.label, "rank": entry.rank,
            "best": None if top is None else {"metric": top.column, "x": x_value(top.x),
                                              "value": top.value},
            "final_train_loss": entry.final_train_loss, "final_val_loss": entry.final_val_loss,
        })
    differences = [{
        "code": d.code, "kind": d.kind,
        "found": [{"run": label, "start": [x_value(f.start) for f in findings],
                   "end": [None if f.end is None else x_value(f.end) for f in findings]}
                  for label, findings in d.found],
        "missing": list(d.missing),
    } for d in comparison.codes]
    return _dumps({
        "curvedoc": __version__, "runs": runs, "differences": differences,
        "errors": [{"source": e.source, "message": e.message} for e in comparison.errors],
    })


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(json_number(doc), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
