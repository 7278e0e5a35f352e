"""`curvedoc diagnose`: load, detect, render, and choose the exit code."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from curvedoc.diagnose import Report, RunReport, diagnose_table
from curvedoc.errors import CurvedocError
from curvedoc.findings import Severity
from curvedoc.load import load
from curvedoc.table import ColumnOverrides

__all__ = ["exit_code", "run"]

FAIL_ON = ("info", "warning", "error", "never")


def run(paths: Sequence[str], *, output_format: str, log_format: str | None, x: str | None,
        roles: Mapping[str, str], fail_on: str, verify_checksums: bool = False) -> int:
    if fail_on not in FAIL_ON:
        raise CurvedocError(f"--fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    loaded = load(paths, format=log_format, overrides=ColumnOverrides(x=x, roles=dict(roles)),
                  verify_checksums=verify_checksums)
    report = Report(
        runs=[RunReport(table, diagnose_table(table)) for table in loaded.tables],
        errors=loaded.errors,
        warnings=loaded.warnings,
    )
    for warning in report.warnings:
        print(f"curvedoc: warning: {warning}", file=sys.stderr)
    sys.stdout.write(_render(report, output_format))
    return exit_code(report, fail_on)


def _render(report: Report, output_format: str) -> str:
    if output_format == "json":
        from curvedoc.render import json

        return json.render(report)
    if output_format == "text":
        from curvedoc.render import text

        return text.render(report)
    raise CurvedocError(f"unknown output format {output_format!r}")


def exit_code(report: Report, fail_on: str) -> int:
    """2 when an input could not be read, else 1 when a finding reaches `fail_on`, else 0."""
    if report.errors:
        return 2
    if fail_on != "never":
        threshold = Severity(fail_on).rank
        if any(f.severity.rank >= threshold for run in report.runs for f in run.findings):
            return 1
    return 0
