"""Phrases every report format shares: the count line, a finding's x span, its place.

Kept in one module so that the concise line, the Markdown summary and the GitHub
annotations can never disagree about how many findings there were or where they are.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise

from curvedoc.engine import Report, RunReport
from curvedoc.findings import Finding, Severity, x_value
from curvedoc.render.safe import printable
from curvedoc.table import CurveTable

__all__ = ["SEVERITIES", "count_line", "every_epoch", "length", "plural", "short_labels",
           "span", "unchecked_note"]

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


def every_epoch(table: CurveTable) -> bool:
    """Whether the log has one point per epoch, each epoch once (0, 1, 2, ...)."""
    if table.x_name != "epoch":
        return False
    x = [float(v) for v in table.x]
    return all(v.is_integer() for v in x) and all(b - a == 1 for a, b in pairwise(x))


def length(table: CurveTable, count: int | None = None) -> str:
    """`count` points of the log (all of them by default) as "100 epochs" when every
    epoch is one point, else "33 points": a count of logged points is not a number of
    epochs (Hugging Face's fractional epochs, an evaluation every 5 epochs), nor ever
    of steps (a record every 20 iterations)."""
    n = table.points if count is None else count
    return plural(n, "epoch", "epochs") if every_epoch(table) else plural(n, "point", "points")


def count_line(report: Report) -> str:
    """"Found 3 findings (2 warnings, 1 info) in 2 runs." and its variants."""
    findings = [f for run in report.runs for f in run.findings]
    unread = (f"; {plural(len(report.errors), 'file', 'files')} could not be read"
              if report.errors else "")
    runs = len(report.runs)
    if not findings:
        if not runs:
            return f"No training logs found{unread}."
        partly = sum(1 for run in report.runs if run.unchecked)
        if partly and not unread:
            return (f"No findings; {plural(partly, 'run was', 'runs were')} not fully "
                    "checked (see the notes).")
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


def unchecked_note(run: RunReport) -> str | None:
    """What could not be checked on a run, and why, in one sentence without its capital
    ("nothing was checked: the log has only 3 epochs; ..."); None when all was checked.
    Every format says it, so that a short or train-only log never passes silently."""
    if not run.unchecked:
        return None
    reasons = list(dict.fromkeys(u.reason for u in run.unchecked))
    if not run.checked:
        return f"nothing was checked: {'; '.join(reasons)}"
    return "; ".join(
        f"not checked, as {reason}: {', '.join(u.code for u in run.unchecked if u.reason == reason)}"
        for reason in reasons)


def short_labels(tables: Sequence[CurveTable]) -> tuple[str, list[str]]:
    """The folder all sources share, and for each run the shortest label that tells it from
    the others: the fewest trailing parts of its path that differ (file names, unless two
    runs are `metrics.csv`), without the trailing parts every path ends with
    (`version_0`, `version_1` for `version_*/metrics.csv`), plus the run's name in a file
    that holds several.  Runs that all come from one source go by their names alone."""
    sources = [t.source for t in tables]
    if len(set(sources)) == 1 and all(t.run for t in tables):
        return sources[0], [printable(str(t.run)) for t in tables]
    try:
        common = os.path.commonpath(sources) if len(set(sources)) > 1 else ""
    except ValueError:  # mixed absolute and relative paths, or stdin
        common = ""
    parts = [(os.path.relpath(s, common) if common and s != common else s).split(os.sep)
             for s in sources]
    for keep in range(1, max(len(p) for p in parts) + 1):
        kept = [p[-keep:] for p in parts]
        if len({tuple(k) for k in kept}) == len(set(sources)):
            break
    while len(set(sources)) > 1 and all(len(k) > 1 and k[-1] == kept[0][-1] for k in kept):
        kept = [k[:-1] for k in kept]
    paths = [os.sep.join(k) for k in kept]
    labels = [printable(f"{path} [{t.run}]" if t.run else path) for path, t in zip(paths, tables)]
    return common, labels
