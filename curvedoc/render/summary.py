"""Phrases every report format shares: the count line, a finding's x span, its place.

Kept in one module so that the concise line, the Markdown summary and the GitHub
annotations can never disagree about how many findings there were or where they are.
"""

from __future__ import annotations

from collections import Counter

from curvedoc.engine import Report
from curvedoc.findings import Finding, Severity, x_value

__all__ = ["SEVERITIES", "count_line", "plural", "span"]

#: Most severe first, the order every summary lists them in.
SEVERITIES = tuple(sorted(Severity, key=lambda s: s.rank, reverse=True))

_NOUNS = {Severity.ERROR: ("error", "errors"), Severity.WARNING: ("warning", "warnings"),
          Severity.INFO: ("info", "info")}


def span(finding: Finding) -> str:
    """`12` for a point, `12-39` for a span, `12-end` when it lasts to the end of the log."""
    start = f"{x_value(finding.start)}"
    if finding.end is None:
        return f"{start}-end"
    return start if finding.end == finding.start else f"{start}-{x_value(finding.end)}"


def plural(count: int, singular: str, many: str) -> str:
    return f"{count} {singular if count == 1 else many}"


def count_line(report: Report) -> str:
    """"Found 3 findings (2 warnings, 1 info) in 2 runs." and its variants."""
    findings = [f for run in report.runs for f in run.findings]
    unread = (f"; {plural(len(report.errors), 'file', 'files')} could not be read"
              if report.errors else "")
    runs = len(report.runs)
    if not findings:
        if not runs:
            return f"No training logs found{unread}."
        if not unread:
            return "All checked: no findings."
        return f"No findings in {plural(runs, 'run', 'runs')}{unread}."
    counts = Counter(f.severity for f in findings)
    breakdown = ", ".join(plural(counts[s], *_NOUNS[s]) for s in SEVERITIES if counts[s])
    with_findings = sum(1 for run in report.runs if run.findings)
    where = (plural(runs, "run", "runs") if with_findings == runs
             else f"{with_findings} of {plural(runs, 'run', 'runs')}")
    return (f"Found {plural(len(findings), 'finding', 'findings')} ({breakdown}) "
            f"in {where}{unread}.")
