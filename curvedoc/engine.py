"""Run the detectors over loaded tables: the engine behind every command."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from curvedoc.detectors import all_detectors
from curvedoc.findings import Finding
from curvedoc.loader import LoadError
from curvedoc.table import CurveTable

__all__ = ["Report", "RunReport", "diagnose_run", "diagnose_table"]


@dataclass
class RunReport:
    """One run's findings; `checked` lists the codes that ran on it (after ignores), so a
    report can also say which checks passed."""

    table: CurveTable
    findings: list[Finding]
    checked: tuple[str, ...] = ()


@dataclass
class Report:
    """Everything a renderer needs: each run with its findings, and the files that failed."""

    runs: list[RunReport] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def diagnose_table(
    table: CurveTable,
    *,
    ignore: Collection[str] = (),
    options: Mapping[str, Mapping[str, float]] | None = None,
) -> list[Finding]:
    """All findings for one table, in x order; `ignore` silences codes, `options` tunes
    thresholds per code."""
    from curvedoc.detectors._stats import shared_curves  # numpy, once detectors run

    options = options or {}
    findings: list[Finding] = []
    with shared_curves():
        for detector in all_detectors():
            if detector.code in ignore:
                continue
            findings.extend(detector.run(table,
                                         detector.options_with(options.get(detector.code))))
    return sorted(findings, key=lambda f: (f.start, f.code))


def diagnose_run(
    table: CurveTable,
    *,
    ignore: Collection[str] = (),
    options: Mapping[str, Mapping[str, float]] | None = None,
) -> RunReport:
    """`diagnose_table` plus the codes it checked, for reports that list passing checks."""
    checked = tuple(d.code for d in all_detectors() if d.code not in ignore)
    return RunReport(table, diagnose_table(table, ignore=ignore, options=options), checked)
