"""`curvedoc compare RUN RUN...`: several runs side by side.

Each RUN is a file or a folder and may hold several runs; every run found is compared.
It behaves like `diagnose`: plots only when stdout is a terminal (or `--plot`), colour
as `--color` says, `--format json` for scripts, problems on stderr, exit 2 when an
input cannot be read (the runs that could be read are still compared), and exit 2 at
once when the same file or folder is named twice (a run compared with itself is a slip
of the shell, not a comparison).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from curvedoc.commands._shared import (
    diagnose_paths,
    exit_code,
    loading_bar,
    print_problems,
    settings,
)
from curvedoc.comparison import compare
from curvedoc.errors import CurvedocError
from curvedoc.render.console import check_color, make_console
from curvedoc.source import file_identity

__all__ = ["FORMATS", "run"]

#: The output formats a comparison has.
FORMATS = ("text", "json")


def run(paths: Sequence[str], *, output_format: str, log_format: str | None,
        plot: bool | None, color: str, log_y: bool = False, config_file: str | None = None,
        ignore: Sequence[str] = ()) -> int:
    if output_format not in FORMATS:
        raise CurvedocError(f"compare writes {' or '.join(FORMATS)}, not {output_format!r}")
    check_color(color)
    _check_distinct(paths)
    config = settings(config_file, ignore)
    with loading_bar(color) as progress:
        report = diagnose_paths(paths, config, log_format=log_format, progress=progress)
    # JSON lists the unreadable files itself, unless there is no comparison to write.
    print_problems(report, errors=output_format == "text" or len(report.runs) < 2)
    if len(report.runs) < 2:
        found = "one run" if report.runs else "no run"
        raise CurvedocError(f"compare needs at least two runs; {found} could be read")
    comparison = compare(report)
    if output_format == "json":
        from curvedoc.render.json import comparison_document

        sys.stdout.write(comparison_document(comparison))
    else:
        from curvedoc.render import compare as text

        text.render(comparison, make_console(color),
                    plot=sys.stdout.isatty() if plot is None else plot, log_y=log_y)
    return exit_code(report, "never")


def _check_distinct(paths: Sequence[str]) -> None:
    """Refuse a file or folder named twice, under any spelling (`a.csv ./a.csv`, links).
    Paths that cannot be read are left to the loader, which reports them."""
    named: dict[tuple[int, int], str] = {}
    for given in paths:
        if given == "-":
            continue
        try:
            info = os.stat(given)
        except OSError:
            continue
        first = named.get(file_identity(info))
        if first is not None:
            same = "given twice" if first == given else f"the same file as {first}"
            raise CurvedocError(f"{given} is {same}: compare needs different runs")
        named[file_identity(info)] = given
