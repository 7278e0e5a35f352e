"""`curvedoc diagnose`: load, detect, render, and choose the exit code."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from curvedoc.diagnose import Report, RunReport, diagnose_table
from curvedoc.errors import CurvedocError
from curvedoc.findings import Severity
from curvedoc.load import load
from curvedoc.render.console import check_color, make_console
from curvedoc.render.safe import printable
from curvedoc.table import ColumnOverrides

if TYPE_CHECKING:
    from curvedoc.render.text import TextOptions

__all__ = ["Display", "exit_code", "run"]

FAIL_ON = ("info", "warning", "error", "never")


@dataclass(frozen=True)
class Display:
    """How the text report looks; other output formats ignore it."""

    plot: bool | None = None  # None: plot only when stdout is a terminal
    color: str = "auto"
    log_y: bool = False
    summary: bool = False
    save_svg: str | None = None
    save_html: str | None = None


def run(paths: Sequence[str], *, output_format: str, log_format: str | None, x: str | None,
        roles: Mapping[str, str], fail_on: str, display: Display = Display()) -> int:
    if fail_on not in FAIL_ON:
        raise CurvedocError(f"--fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    check_color(display.color)
    with _progress(display.color) as progress:
        loaded = load(paths, format=log_format, overrides=ColumnOverrides(x=x, roles=dict(roles)),
                      progress=progress)
    report = Report(
        runs=[RunReport(table, diagnose_table(table)) for table in loaded.tables],
        errors=loaded.errors,
        warnings=loaded.warnings,
    )
    for warning in report.warnings:
        print(f"curvedoc: warning: {printable(warning)}", file=sys.stderr)
    if output_format == "text":
        _text(report, display)
    else:
        sys.stdout.write(_render(report, output_format))
    return exit_code(report, fail_on)


def _progress(color: str) -> AbstractContextManager[Callable[[int, int, str], None] | None]:
    """A progress bar on stderr when it is a terminal (rich is not even imported else)."""
    if not sys.stderr.isatty():
        return nullcontext(None)
    from curvedoc.render.progress import loading_progress

    return loading_progress(make_console(color, stderr=True))


def _text(report: Report, display: Display) -> None:
    """The terminal report on stdout, errors on stderr, and the picture files if asked."""
    from curvedoc.render import text

    console = make_console(display.color)
    for error in report.errors:
        print(f"curvedoc: error: {printable(error.source)}: {printable(error.message)}",
              file=sys.stderr)
    plot = sys.stdout.isatty() if display.plot is None else display.plot
    options = text.TextOptions(plot=plot, log_y=display.log_y, summary_only=display.summary)
    text.render(report, console, options)
    if display.save_svg or display.save_html:
        _save_picture(report, replace(options, plot=display.plot is not False), display,
                      console.width)


def _save_picture(report: Report, options: TextOptions, display: Display, width: int) -> None:
    """The report as SVG/HTML, in colour and with plots whatever stdout is (unless
    `--no-plot`): rendered again on a recording console, so stdout stays as it was."""
    from rich.console import Console

    from curvedoc.render import text

    picture = Console(file=io.StringIO(), record=True, width=width, force_terminal=True,
                      color_system="truecolor", highlight=False)
    text.render(report, picture, options)
    if display.save_svg:
        _write(display.save_svg, picture.export_svg(title="curvedoc diagnose", clear=False))
    if display.save_html:
        _write(display.save_html, picture.export_html(clear=False))


def _write(path: str, content: str) -> None:
    try:
        Path(path).write_text(content, encoding="utf-8")
    except OSError as exc:
        raise CurvedocError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _render(report: Report, output_format: str) -> str:
    if output_format == "json":
        from curvedoc.render import json

        return json.render(report)
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
