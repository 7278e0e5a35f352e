"""`curvedoc diagnose`: load, detect, render, and choose the exit code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from curvedoc.commands._shared import check_fail_on, diagnose_paths, finish, settings
from curvedoc.diagnose import Report
from curvedoc.render import check_format, render
from curvedoc.table import ColumnOverrides

__all__ = ["run"]


def run(paths: Sequence[str], *, output_format: str, log_format: str | None, x: str | None,
        roles: Mapping[str, str], fail_on: str, output: str | None = None,
        config_file: str | None = None, ignore: Sequence[str] = ()) -> int:
    check_format(output_format)
    check_fail_on(fail_on)
    config = settings(config_file, ignore)
    report = diagnose_paths(paths, config, log_format=log_format,
                            overrides=ColumnOverrides(x=x, roles=dict(roles)))
    return finish(report, _render(report, output_format), output, fail_on)


def _render(report: Report, output_format: str) -> str:
    if output_format == "text":
        from curvedoc.render import text

        return text.render(report)
    return render(report, output_format)
