"""`--output-format concise`: one line per finding, like a compiler or ruff.

    run.csv:54: overfitting val loss rose 18 % from its minimum ...
    logs/train.log [run 2 of 3]:12: lr-drop-no-effect ...
    runs/short.csv: note: nothing was checked: the log has only 3 epochs; ...
    Found 2 findings (1 warning, 1 info) in 2 runs.

The number after the path is the finding's first x value (epoch or step) in the log's
own numbering, not a line number.  A multi-run file names the run after the path.
"""

from __future__ import annotations

from curvedoc.engine import Report
from curvedoc.findings import Finding, x_value
from curvedoc.render.safe import printable
from curvedoc.render.summary import count_line, unchecked_note
from curvedoc.table import CurveTable

__all__ = ["line", "render"]


def line(table: CurveTable, finding: Finding) -> str:
    """`path:x: code message`, the line `check` and a piped `watch` print per finding."""
    return f"{printable(table.label)}:{x_value(finding.start)}: {finding.code} " \
           f"{printable(finding.message)}"


def render(report: Report) -> str:
    lines = [line(run.table, f) for run in report.runs for f in run.findings]
    lines += [f"{printable(run.table.label)}: note: {note}" for run in report.runs
              if (note := unchecked_note(run))]
    lines += [f"{printable(e.source)}: error: {printable(e.message)}" for e in report.errors]
    lines.append(count_line(report))
    return "\n".join(lines) + "\n"
