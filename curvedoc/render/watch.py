"""The live screen of `curvedoc watch`: a status line, the plots, the findings so far.

Redrawn in place by rich `Live`, so it must fit the terminal: anything taller is cut at
the bottom, where the findings are.  The plots therefore take the height that is left
once the status, the run's header and the findings list are laid out, and are left out
when less than `MIN_PLOT_HEIGHT` rows remain.  A file holding several runs (appended or
restarted) shows the ranked table of runs, then the last run, the one being written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from curvedoc.engine import Report
from curvedoc.render.safe import printable
from curvedoc.render.text import WIDE, TextOptions, run_report, summary

__all__ = ["MIN_PLOT_HEIGHT", "Screen"]

#: A plot lower than this shows nothing readable.
MIN_PLOT_HEIGHT = 7


@dataclass(frozen=True)
class Screen:
    """One frame: `report` is the last successful read (None before the first), `status`
    says what is happening now ("waiting for run.csv to appear", "updated 12:03:04")."""

    path: str
    status: str
    report: Report | None = None
    problem: str | None = None
    plot: bool = True
    log_y: bool = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        head = Text.assemble(("curvedoc watch ", "bold"), (printable(self.path), "bold"),
                             ("  " + self.status + " · Ctrl-C to stop", "dim"))
        head.no_wrap, head.overflow = True, "ellipsis"  # one line; the path is in the header
        parts: list[RenderableType] = [head]
        if self.problem:
            parts.append(Text(printable(self.problem), style="yellow"))
        if self.report is None or not self.report.runs:
            yield Group(*parts)
            return
        if len(self.report.runs) > 1:
            parts.append(summary(self.report.runs))
        run = self.report.runs[-1]
        text = TextOptions(explain=False)
        if self.plot:
            text = self._plot_options(console, options, Group(*parts, run_report(run, text)))
        yield Group(*parts, run_report(run, text))

    def _plot_options(self, console: Console, options: ConsoleOptions,
                      without_plots: RenderableType) -> TextOptions:
        """Panels as high as the screen allows; none when they would be too low to read."""
        from curvedoc.render.panels import panels  # plotext: only when plotting

        assert self.report is not None
        run = self.report.runs[-1]
        count = len(panels(run.table, run.findings))
        rows = count if options.max_width < WIDE else math.ceil(count / 2)
        used = len(console.render_lines(without_plots, options, pad=False))
        # Each row of panels also takes a legend line and a blank line; the plots add
        # a blank line and the line naming the marks.
        height = (console.size.height - used - 2) // max(rows, 1) - 2
        if count == 0 or height < MIN_PLOT_HEIGHT:
            return TextOptions(explain=False)
        return TextOptions(plot=True, log_y=self.log_y, explain=False,
                           plot_height=min(height, 14))
