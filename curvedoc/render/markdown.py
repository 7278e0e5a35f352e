"""`--output-format markdown`: a report for pull-request comments and GitHub job
summaries (`>> $GITHUB_STEP_SUMMARY`).

A count line and a summary table, then per run its findings and its curves as a
Mermaid chart, which GitHub draws as a graph.  File, run and column names are the
user's data: each is escaped so that a `|` cannot split a table cell, `<` cannot open
HTML, `*` or `_` cannot turn on emphasis and a newline cannot end a row.
"""

from __future__ import annotations

from collections.abc import Collection

from curvedoc.engine import Report, RunReport
from curvedoc.findings import Severity
from curvedoc.render.mermaid import chart
from curvedoc.render.safe import printable
from curvedoc.render.summary import SEVERITIES, count_line, length, span, unchecked_note

__all__ = ["escape", "render"]

#: HTML-significant characters become entities; `$` too, as GitHub reads `$...$` as math.
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;"}
#: Characters that start Markdown syntax inside a line get a backslash (CommonMark):
#: code, emphasis, strike-through, links (`[`; `(` and `!` do nothing without it) and
#: the table-cell separator.
_BACKSLASHED = set("\\`*_~[]|")
_HEADINGS = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.INFO: "Info"}


def escape(text: str) -> str:
    """`text` as literal Markdown inline text, safe in a table cell; control characters
    (newlines included) are shown as escapes, so one value stays on one line."""
    return "".join(_ENTITIES.get(ch) or (f"\\{ch}" if ch in _BACKSLASHED else ch)
                   for ch in printable(text))


def _table(header: list[str], rows: list[list[str]], numeric: Collection[int] = ()) -> str:
    rule = ["---:" if i in numeric else "---" for i in range(len(header))]
    return "\n".join(f"| {' | '.join(cells)} |" for cells in (header, rule, *rows))


def _summary(report: Report) -> str:
    rows = []
    for run in report.runs:
        table = run.table
        counts = [str(sum(1 for f in run.findings if f.severity == s)) for s in SEVERITIES]
        rows.append([escape(table.label), escape(table.format), length(table),
                     *counts])
    header = ["Run", "Format", "Length", *(_HEADINGS[s] for s in SEVERITIES)]
    return _table(header, rows, numeric={2, 3, 4, 5})


def _run(run: RunReport) -> list[str]:
    table = run.table
    parts = [f"### {escape(table.label)}"]
    notes = [*table.notes, *filter(None, [unchecked_note(run)])]
    if notes:
        parts.append("\n".join(f"- note: {escape(note)}" for note in notes))
    if run.findings:
        rows = [[f.severity.value, escape(f.code), span(f), escape(f.message)]
                for f in run.findings]
        parts.append(_table(["Severity", "Code", table.x_name.capitalize(), "Message"], rows))
    else:
        parts.append("No findings.")
    drawn = chart(table)
    if drawn is not None:
        legend = ", ".join(f"{n}. {role.replace('_', ' ')} ({escape(column)})"
                           for n, (role, column) in enumerate(drawn.lines, start=1))
        extent = (length(table, drawn.total) if drawn.shown == drawn.total
                  else f"{drawn.shown} of {length(table, drawn.total)}")
        gaps = "; gaps interpolated" if drawn.interpolated else ""
        parts.append(f"Lines: {legend}; {extent}{gaps}.")
        parts.append(f"```mermaid\n{drawn.source}\n```")
    return parts


def render(report: Report) -> str:
    parts = ["## curvedoc report", count_line(report)]
    if report.runs:
        parts.append(_summary(report))
    for run in report.runs:
        parts.extend(_run(run))
    if report.errors:
        parts.append("### Files that could not be read")
        parts.append(_table(["File", "Problem"],
                            [[escape(e.source), escape(e.message)] for e in report.errors]))
    return "\n\n".join(parts) + "\n"
