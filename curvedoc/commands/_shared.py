"""What `diagnose` and `check` share: settings, the report, its output, the exit code.

Exit codes: 0 when nothing reaches the `--fail-on` threshold, 1 when a finding does,
2 when an input could not be read (the other inputs are still checked and reported).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from pathlib import Path

from curvedoc.config import FAIL_ON, Config, load_config, parse_codes
from curvedoc.engine import Report, RunReport, diagnose_run
from curvedoc.errors import CurvedocError
from curvedoc.findings import Severity
from curvedoc.loader import load
from curvedoc.render.safe import printable
from curvedoc.source import parse_size
from curvedoc.table import ColumnOverrides, CurveTable

__all__ = ["check_fail_on", "diagnose_paths", "exit_code", "finish", "loading_bar",
           "print_problems", "settings", "write_output"]


def check_fail_on(value: str) -> str:
    if value not in FAIL_ON:
        raise CurvedocError(f"--fail-on must be one of {', '.join(FAIL_ON)}, not {value!r}")
    return value


def settings(config_file: str | None, ignore: Sequence[str], same_data: bool = False) -> Config:
    """The config file's settings with `--ignore CODE[,CODE]` and `--same-data` added."""
    config = load_config(config_file)
    codes = [code.strip() for given in ignore for code in given.split(",") if code.strip()]
    return dataclasses.replace(config, ignore=config.ignore | parse_codes(codes, "--ignore"),
                               same_data=config.same_data or same_data)


def diagnose_paths(paths: Sequence[str], config: Config, *, log_format: str | None,
                   overrides: ColumnOverrides | None = None,
                   progress: Callable[[int, int, str], None] | None = None,
                   max_size: str | None = None,
                   verify_checksums: bool = False) -> Report:
    """Load every log and run the detectors, honouring ignores, options and columns;
    `max_size` (`--max-size`) overrides the limit on what is read whole into memory."""
    loaded = load(paths, format=log_format, overrides=overrides,
                  overrides_for=config.overrides_for, progress=progress,
                  max_bytes="default" if max_size is None else parse_size(max_size),
                  verify_checksums=verify_checksums, then=partial(_diagnose, config=config))
    return Report(runs=loaded.then, errors=loaded.errors, warnings=loaded.warnings)


def _diagnose(table: CurveTable, config: Config) -> RunReport:
    """One run's report, made where its table is built: in a worker process when many
    runs are loaded, so the detectors use every CPU as reading does."""
    return diagnose_run(table, ignore=config.ignored_for(table.source),
                        options=config.detector_options)


def loading_bar(color: str) -> AbstractContextManager[Callable[[int, int, str], None] | None]:
    """A progress bar on stderr when it is a terminal (rich is not even imported else)."""
    if not sys.stderr.isatty():
        return nullcontext(None)
    from curvedoc.render.console import make_console
    from curvedoc.render.progress import loading_progress

    return loading_progress(make_console(color, stderr=True))


def print_problems(report: Report, *, errors: bool) -> None:
    """The warnings on stderr and, for output that does not list them itself (text), the
    files that could not be read."""
    for warning in report.warnings:
        print(f"curvedoc: warning: {printable(warning)}", file=sys.stderr)
    for error in report.errors if errors else ():
        print(f"curvedoc: error: {printable(error.source)}: {printable(error.message)}",
              file=sys.stderr)


def finish(report: Report, rendered: str, output: str | None, fail_on: str) -> int:
    """Print the warnings, write the report to `output` (or stdout), return the exit code."""
    print_problems(report, errors=False)
    if output is None:
        sys.stdout.write(rendered)
    else:
        write_output(output, rendered)
    return exit_code(report, fail_on)


def write_output(path: str, content: str) -> None:
    """Write a file the user named (`--output`, `--save-svg`): the only writes we make."""
    try:
        Path(path).write_text(content, encoding="utf-8")
    except OSError as exc:
        raise CurvedocError(f"cannot write the report: {exc.strerror or exc}", path) from exc


def exit_code(report: Report, fail_on: str) -> int:
    """2 when an input could not be read, else 1 when a finding reaches `fail_on`, else 0."""
    if report.errors:
        return 2
    if fail_on != "never":
        threshold = Severity(fail_on).rank
        if any(f.severity.rank >= threshold for run in report.runs for f in run.findings):
            return 1
    return 0
