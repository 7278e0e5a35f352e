"""Plain-text report: what was read, and each finding on a line."""

from __future__ import annotations

from curvedoc.diagnose import Report
from curvedoc.findings import x_value


def render(report: Report) -> str:
    lines: list[str] = []
    for run in report.runs:
        table = run.table
        lines.append(f"{table.label}  ({table.format}, {table.points} {table.x_name}s)")
        for column, metric in table.metrics.items():
            mark = "" if metric.primary else "  (secondary)"
            lines.append(f"  {column!r}: {metric.role.name}{mark}")
        for note in table.notes:
            lines.append(f"  note: {note}")
        for f in run.findings:
            span = f"{x_value(f.start)}" + ("" if f.end is None else f"-{x_value(f.end)}")
            lines.append(f"  {f.severity.value:<7} {f.code:<20} {table.x_name} {span}: {f.message}")
        if not run.findings:
            lines.append("  no findings")
        lines.append("")
    for error in report.errors:
        lines.append(f"error: {error.source}: {error.message}")
    return "\n".join(lines) + ("\n" if lines else "")
