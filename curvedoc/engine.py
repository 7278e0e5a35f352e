"""Run the detectors over loaded tables: the engine behind every command.

It also decides what cannot be checked, so that no report passes a run silently: a log
shorter than `MIN_POINTS` has no trend to read (only codes that a single value can show,
`Detector.reads_trend` False, run on it), and a detector that needs a validation curve
(`Detector.needs_validation`) cannot run on a train-only log.  Those codes are
the run's `unchecked`, each with its reason, which every report format says.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from curvedoc.detectors import Detector, Option, all_detectors
from curvedoc.roles import MAIN_METRICS

if TYPE_CHECKING:  # detectors import MIN_POINTS from here: keep this module light
    from curvedoc.findings import Finding
    from curvedoc.loader import LoadError
    from curvedoc.table import CurveTable

__all__ = ["MIN_POINTS", "MIN_POINTS_OPTION", "Report", "RunReport", "Unchecked", "diagnose_run",
           "diagnose_table", "validation_points"]

#: Fewer points than this and a curve has no trend to read: the one place this lives.
#: A shorter log gets no trend finding; a shorter validation curve none of the codes
#: that need validation.  (A few detectors need more points for their own statistics:
#: see their `min_points` option.)
MIN_POINTS = 5

#: The `min_points` option of the codes that need no more points than the engine's
#: floor: a config may raise it per code (a noisy project may want 10), never lower it.
MIN_POINTS_OPTION = Option(MIN_POINTS, "Runs with fewer points than this get no finding "
                                       f"(below {MIN_POINTS} it has no effect: shorter logs "
                                       "are not checked for trends at all).")

@dataclass(frozen=True)
class Unchecked:
    """A code that was not checked on a run, and why, in words fit for a report."""

    code: str
    reason: str


@dataclass
class RunReport:
    """One run's findings; `checked` lists the codes that ran on it (after ignores), so a
    report can also say which checks passed, and `unchecked` the codes that could not
    run and why (too short a log, no validation curve)."""

    table: CurveTable
    findings: list[Finding]
    checked: tuple[str, ...] = ()
    unchecked: tuple[Unchecked, ...] = ()


@dataclass
class Report:
    """Everything a renderer needs: each run with its findings, and the files that failed."""

    runs: list[RunReport] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def validation_points(table: CurveTable) -> int:
    """How many points the longest validation curve has (0 without validation)."""
    lengths = [len(s) for role in MAIN_METRICS if (s := table.series(role)) is not None]
    return max(lengths, default=0)


def _plan(table: CurveTable, ignore: Collection[str],
          options: Mapping[str, Mapping[str, float]]
          ) -> tuple[list[Detector], tuple[Unchecked, ...]]:
    """The detectors to run on `table`, and the codes that cannot be checked on it."""
    wanted = [d for d in all_detectors()
              if d.code not in ignore and d.enabled(options.get(d.code))]
    if table.points < MIN_POINTS:
        unit = table.x_name if table.points == 1 else f"{table.x_name}s"
        reason = (f"the log has only {table.points} {unit}; reading a trend needs at "
                  f"least {MIN_POINTS}")
        return ([d for d in wanted if not d.reads_trend],
                tuple(Unchecked(d.code, reason) for d in wanted if d.reads_trend))
    val = validation_points(table)
    if val >= MIN_POINTS:
        return wanted, ()
    reason = ("the log has no validation curve" if val == 0 else
              f"the validation curve has only {val} point{'s' if val > 1 else ''}; "
              f"reading a trend needs at least {MIN_POINTS}")
    return ([d for d in wanted if not d.needs_validation],
            tuple(Unchecked(d.code, reason) for d in wanted if d.needs_validation))


def _run(detectors: list[Detector], table: CurveTable,
         options: Mapping[str, Mapping[str, float]]) -> list[Finding]:
    """Each detector's findings, in x order; the curves the detectors share are read
    from the table once for all of them (`shared_curves`)."""
    from curvedoc.detectors._stats import shared_curves  # numpy, once detectors run

    findings: list[Finding] = []
    with shared_curves():
        for detector in detectors:
            findings.extend(detector.run(table,
                                         detector.options_with(options.get(detector.code))))
    return sorted(findings, key=lambda f: (f.start, f.code))


def diagnose_table(
    table: CurveTable,
    *,
    ignore: Collection[str] = (),
    options: Mapping[str, Mapping[str, float]] | None = None,
) -> list[Finding]:
    """All findings for one table, in x order; `ignore` silences codes, `options` tunes
    thresholds per code.  Codes that cannot be checked on it give none (see
    `diagnose_run` for which, and why)."""
    return diagnose_run(table, ignore=ignore, options=options).findings


def diagnose_run(
    table: CurveTable,
    *,
    ignore: Collection[str] = (),
    options: Mapping[str, Mapping[str, float]] | None = None,
) -> RunReport:
    """`diagnose_table` plus the codes it checked and those it could not, for reports
    that list passing checks and say what was not checked."""
    options = options or {}
    detectors, unchecked = _plan(table, ignore, options)
    return RunReport(table, _run(detectors, table, options),
                     tuple(d.code for d in detectors), unchecked)
