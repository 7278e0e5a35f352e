"""`curvedoc watch PATH`: diagnose a log again each time training writes to it.

On a terminal the screen is redrawn in place (rich `Live`): status, plots, findings so
far.  Piped, it prints one line per new finding (`path:epoch: code message`, as `check`
does), so `curvedoc watch run.csv | grep overfitting` works, and says nothing else on
stdout.  It ends on Ctrl-C (exit 0) or, with `--idle`, once the log has not changed for
that long: exit 0 when the last read succeeded, 2 when the log never became readable.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from curvedoc.commands._shared import diagnose_paths, settings
from curvedoc.engine import Report
from curvedoc.errors import CurvedocError
from curvedoc.follow import changes
from curvedoc.render.console import check_color, make_console
from curvedoc.render.safe import printable

if TYPE_CHECKING:
    from rich.live import Live
    from typing_extensions import Self

__all__ = ["run"]


def run(path: str, *, interval: float, idle: float | None, log_format: str | None,
        plot: bool | None, color: str, log_y: bool = False, config_file: str | None = None,
        ignore: Sequence[str] = ()) -> int:
    if not interval > 0:
        raise CurvedocError(f"--interval must be a positive number of seconds, not {interval}")
    if idle is not None and not idle > 0:
        raise CurvedocError(f"--idle must be a positive number of seconds, not {idle}")
    check_color(color)
    config = settings(config_file, ignore)
    follower: _Live | _Lines = (_Live(path, color, plot is not False, log_y)
                                if sys.stdout.isatty() else _Lines(path))
    last: Report | None = None
    try:
        with follower:
            for present in changes(Path(path), interval=interval, idle=idle):
                if not present:
                    follower.waiting()
                    continue
                last = diagnose_paths([path], config, log_format=log_format)
                follower.show(last)
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # `curvedoc watch run.csv | head -1`: the reader has enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0 if last is not None and last.runs and not last.errors else 2


class _Lines:
    """Piped: each finding once, as soon as it appears; problems once each on stderr."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: set[tuple[str, str, float]] = set()
        self.said: set[str] = set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def waiting(self) -> None:
        self._stderr(f"waiting for {self.path} to appear")

    def show(self, report: Report) -> None:
        from curvedoc.render.concise import line

        for warning in report.warnings:
            self._stderr(f"warning: {warning}")
        for error in report.errors:
            self._stderr(f"cannot read {error.source} yet: {error.message}")
        for run in report.runs:
            for finding in run.findings:
                key = (run.table.label, finding.code, finding.start)
                if key not in self.seen:
                    self.seen.add(key)
                    print(line(run.table, finding), flush=True)

    def _stderr(self, message: str) -> None:
        if message not in self.said:
            self.said.add(message)
            print(f"curvedoc: {printable(message)}", file=sys.stderr, flush=True)


class _Live:
    """On a terminal: one frame redrawn in place, which stays on screen at the end."""

    def __init__(self, path: str, color: str, plot: bool, log_y: bool) -> None:
        from rich.live import Live

        self.path, self.plot, self.log_y = path, plot, log_y
        self.live: Live = Live(console=make_console(color), auto_refresh=False,
                               redirect_stdout=False, redirect_stderr=False)
        self.report: Report | None = None

    def __enter__(self) -> Self:
        self.live.start()
        self._draw("starting")
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()

    def waiting(self) -> None:
        self._draw(f"waiting for {printable(self.path)} to appear")

    def show(self, report: Report) -> None:
        problem = "; ".join(f"cannot read {e.source} yet: {e.message}" for e in report.errors)
        if report.runs:
            self.report = report
        self._draw(f"updated {time.strftime('%H:%M:%S')}", problem or None)

    def _draw(self, status: str, problem: str | None = None) -> None:
        from curvedoc.render.watch import Screen

        self.live.update(Screen(self.path, status, self.report, problem, self.plot, self.log_y),
                         refresh=True)
