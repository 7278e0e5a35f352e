"""`curvedoc diagnose`: load, detect, render, and choose the exit code."""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from curvedoc.commands._shared import (
    check_fail_on,
    diagnose_paths,
    exit_code,
    finish,
    loading_bar,
    print_problems,
    settings,
    write_output,
)
from curvedoc.engine import Report
from curvedoc.render import check_format, render
from curvedoc.render.console import check_color, make_console
from curvedoc.table import ColumnOverrides

__all__ = ["Display", "run"]


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
        roles: Mapping[str, str], fail_on: str, output: str | None = None,
        config_file: str | None = None, ignore: Sequence[str] = (),
        display: Display = Display(), max_size: str | None = None, same_data: bool = False,
        verify_checksums: bool = False) -> int:
    check_format(output_format)
    check_fail_on(fail_on)
    check_color(display.color)
    config = settings(config_file, ignore, same_data)
    with loading_bar(display.color) as progress:
        report = diagnose_paths(paths, config, log_format=log_format,
                                overrides=ColumnOverrides(x=x, roles=dict(roles)),
                                progress=progress, max_size=max_size,
                                verify_checksums=verify_checksums)
    if output_format != "text":
        code = finish(report, render(report, output_format), output, fail_on)
        _save_picture(report, display)
        return code
    print_problems(report, errors=True)
    _text(report, display, output)
    return exit_code(report, fail_on)


def _text(report: Report, display: Display, output: str | None) -> None:
    """The terminal report on stdout (or plain into `--output`), and the picture files
    if asked."""
    from curvedoc.render import text

    buffer = io.StringIO() if output else None
    console = make_console("never" if output else display.color, file=buffer)
    plot = (sys.stdout.isatty() and not output) if display.plot is None else display.plot
    options = text.TextOptions(plot=plot, log_y=display.log_y, summary_only=display.summary)
    text.render(report, console, options)
    if buffer is not None and output:
        write_output(output, buffer.getvalue())
    _save_picture(report, display, console.width)


def _save_picture(report: Report, display: Display, width: int | None = None) -> None:
    """The text report as SVG/HTML when asked, whatever the output format, in colour and
    with plots whatever stdout is (unless `--no-plot`): rendered again on a recording
    console, so stdout stays as it was.  `width` is the text report's; without one (other
    output formats) the terminal's, asked only here: rich is not imported otherwise."""
    if not (display.save_svg or display.save_html):
        return
    from rich.console import Console

    from curvedoc.render import text

    options = text.TextOptions(plot=display.plot is not False, log_y=display.log_y,
                               summary_only=display.summary)
    picture = Console(file=io.StringIO(), record=True,
                      width=width or make_console(display.color).width,
                      force_terminal=True, color_system="truecolor", highlight=False)
    text.render(report, picture, options)
    if display.save_svg:
        write_output(display.save_svg, picture.export_svg(title="curvedoc diagnose", clear=False))
    if display.save_html:
        write_output(display.save_html, picture.export_html(clear=False))
