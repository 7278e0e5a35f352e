"""The terminal report: what was read, the curves, the findings, and why they happen.

A pure function of a :class:`~curvedoc.engine.Report` that writes to the rich console
it is given (and to nothing else), so the caller decides colour, width and where the
text goes, and can record it as SVG or HTML.  Order follows what a reader needs first:
a header that says what curvedoc understood, the plots, the findings one per line, then
for each finding what this run shows, why it happens, and what to try.
User text (paths, column names, messages) only ever enters as `Text`, never as markup.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.constrain import Constrain
from rich.measure import Measurement
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from curvedoc.detectors import get_detector
from curvedoc.engine import Report, RunReport
from curvedoc.findings import Finding, x_value
from curvedoc.ranking import best, ranked
from curvedoc.render import palette
from curvedoc.render.safe import printable
from curvedoc.render.summary import every_epoch, length, short_labels, unchecked_note
from curvedoc.roles import Kind, Split
from curvedoc.table import CurveTable

if TYPE_CHECKING:
    from curvedoc.render.plot import Panel

__all__ = ["Plots", "TextOptions", "name_column", "num", "print_unclipped", "render", "run_report",
           "short_metric", "summary", "x_text"]

#: From this width on, plots go two abreast.
WIDE = 150
#: Prose wider than this is hard to read, however wide the terminal.
TEXT_WIDTH = 110
#: The width a table is measured at by `print_unclipped`: more than any table needs.
_UNBOUNDED = 10_000
#: On a terminal too narrow for a table of runs, names fold down to this width.
NARROWEST_NAMES = 10

_KIND_ORDER = (Kind.LOSS, Kind.ACC, Kind.METRIC, Kind.ERROR, Kind.LR, Kind.LOSS_PART, Kind.OTHER)
_SPLIT_ORDER = (Split.TRAIN, Split.VAL, Split.TEST, None)


@dataclass(frozen=True)
class TextOptions:
    """`explain=False` stops after the findings list (the live view of `watch`);
    `plot_height` sets every panel's height (to fit a screen) instead of its own."""

    plot: bool = False
    log_y: bool = False
    summary_only: bool = False
    explain: bool = True
    plot_height: int | None = None


def render(report: Report, console: Console, options: TextOptions = TextOptions()) -> None:
    """Write the report: a summary table when there are several runs, then each run."""
    if len(report.runs) > 1 or (options.summary_only and report.runs):
        print_unclipped(console, lambda names: summary(report.runs, names))
    if options.summary_only:
        return
    for run in report.runs:
        console.print(run_report(run, options), crop=False)  # long paths stay whole


def print_unclipped(console: Console,
                    table_for: Callable[[int | None], RenderableType]) -> None:
    """Print a table of runs whose cells must stay whole (names, numbers, epoch lists);
    `table_for(n)` builds it with run names folded to `n` columns (None: rich decides).

    Left to itself, rich fits a table too wide for the console by shrinking every
    column: numbers are cut ("0.0…"), whole columns vanish.  Off a terminal nothing wraps
    lines, so the table takes its natural width.  On a terminal the names give way,
    folded down to `NARROWEST_NAMES`; a screen too narrow even then gets lines wider than
    itself, never a cut number.  The console is widened for the one print:
    `measure` and `print(width=...)` are both capped at its width."""
    table = table_for(None)
    needed = _measure(console, table).maximum
    if console.is_terminal and needed > console.width:
        names = console.width - _measure(console, table_for(0)).maximum  # room left
        while True:  # once more if the column's own padding did not fit
            table = table_for(max(NARROWEST_NAMES, names))
            needed = _measure(console, table).maximum
            if needed <= console.width or names <= NARROWEST_NAMES:
                break
            names -= needed - console.width
    saved = console.width
    console.width = max(saved, needed)
    try:
        console.print(table, crop=False)
    finally:
        console.width = saved


def _measure(console: Console, table: RenderableType) -> Measurement:
    return console.measure(table, options=console.options.update_width(_UNBOUNDED))


def render_plain(report: Report, width: int = 100) -> str:
    """The report as plain text without plots or escape codes (`--output-format text`
    written to a file, or `check -f text`)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    render(report, Console(file=buffer, width=width, color_system=None, highlight=False))
    return buffer.getvalue()


def run_report(run: RunReport, options: TextOptions) -> RenderableType:
    table, findings = run.table, run.findings
    parts: list[RenderableType] = [_header(table)]
    if options.plot:
        from curvedoc.render.panels import panels  # plotext: only when plotting

        shown = panels(table, findings, log_y=options.log_y)
        if options.plot_height:
            shown = [replace(panel, height=options.plot_height) for panel in shown]
        if shown:
            parts += [Text(), Plots(shown)]
            if findings:
                parts.append(_marks_legend(findings, table.x_name))
    parts.append(Text())
    note = unchecked_note(run)
    if note:
        parts += [Text(f"Note: {note}.", style="yellow"), Text()]
    if not findings:
        parts.append(Text("No findings.", style="green"))
        return Group(*parts, Text())
    listing = _findings_table(findings, table.x_name)
    if not options.explain:
        return Group(*parts, listing)
    prose: list[RenderableType] = [listing, Text()]
    for explanation in _explanations(findings, table.x_name):
        prose += [explanation, Text()]
    prose.append(Text("`curvedoc explain CODE` prints the full documentation of a code.",
                      style="dim"))
    return Group(*parts, Constrain(Group(*prose), TEXT_WIDTH), Text())


# --------------------------------------------------------------------------- header


def _header(table: CurveTable) -> RenderableType:
    title = Text(printable(os.path.basename(table.source) or table.source), style="bold")
    if table.run:
        title.append(f"  {printable(table.run)}", style="bold")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("format", Text(f"{printable(table.format)}, {_extent(table)}"))
    grid.add_row("columns", _columns(table))
    top = best(table)
    if top is None:
        grid.add_row("best", Text("no validation metric in this log", style="yellow"))
    else:
        line = Text()
        line.append(f"{printable(top.column)} {num(top.value)}", style="bold")
        line.append(f" at {table.x_name} ")
        line.append(x_text(top.x), style="bold")
        line.append(f"   (last {num(top.last)} at {table.x_name} {x_text(top.last_x)})",
                    style="dim")
        grid.add_row("best", line)
    for note in table.notes:
        grid.add_row("note", Text(printable(note)))
    # The path is never folded: a user copies it, and tests and scripts grep for it.
    source = Text.assemble(("source", "dim"), "   ", printable(table.source))
    source.no_wrap, source.overflow = True, "ignore"
    return Group(Rule(title, align="left", style="dim"), source, grid)


def _extent(table: CurveTable) -> str:
    first, last = x_text(table.x[0]), x_text(table.x[-1])
    where = first if first == last else f"{first}–{last}"
    if every_epoch(table):
        text = f"{length(table)} ({where})"
    else:  # fractional or sparse epochs, or steps: points logged at a..b
        text = f"{length(table)} at {table.x_name}{'' if first == last else 's'} {where}"
    if table.steps is not None:
        text += f", from {len(table.steps)} step-level rows"
    return text


def _columns(table: CurveTable) -> RenderableType:
    """What each column was taken as, grouped by role; the columns detectors read first."""
    by_role: dict[tuple[int, int], list[str]] = {}
    for metric in table.metrics.values():
        key = (_KIND_ORDER.index(metric.role.kind), _SPLIT_ORDER.index(metric.role.split))
        by_role.setdefault(key, []).append(metric.column)
    items = []
    for key in sorted(by_role):
        kind, split = _KIND_ORDER[key[0]], _SPLIT_ORDER[key[1]]
        role = "ignored" if kind == Kind.OTHER else \
            " ".join(p.value for p in (split, kind) if p is not None).replace("_", " ")
        primary = [c for c in by_role[key] if table.metrics[c].primary]
        rest = [c for c in by_role[key] if not table.metrics[c].primary]
        item = Text(f"{role}: ", style="dim")
        item.append(", ".join(printable(c) for c in primary or rest))
        if primary and rest:
            item.append(f" (also {', '.join(printable(c) for c in rest)})", style="dim")
        items.append(item)
    return _Flow(Text(), items, separator=" · ")


# --------------------------------------------------------------------------- plots


@dataclass(frozen=True)
class Plots:
    """The panels one under another, or two abreast on a wide terminal."""

    panels: Sequence[Panel]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width < WIDE or len(self.panels) < 2:
            for number, panel in enumerate(self.panels):
                if number:
                    yield Text()
                yield panel
            return
        grid = Table.grid(expand=True, padding=(1, 4))
        grid.add_column(ratio=1)
        grid.add_column(ratio=1)
        pairs = zip_longest(self.panels[::2], self.panels[1::2], fillvalue=Text())
        for left, right in pairs:
            grid.add_row(left, right)
        yield grid


def _marks_legend(findings: Sequence[Finding], x_name: str) -> RenderableType:
    """What the numbered lines on the plots are."""
    items = []
    for number, finding in enumerate(findings, start=1):
        item = Text(f"│{number}", style=f"bold color({palette.SEVERITY[finding.severity]})")
        item.append(f" {printable(finding.code)} {_span(finding, x_name)}")
        items.append(item)
    return _Flow(Text("marked:", style="dim"), items)


@dataclass(frozen=True)
class _Flow:
    """Items on as few lines as fit, never broken inside an item (rich would wrap at any
    space); continuation lines are indented under the first item."""

    lead: Text
    items: Sequence[Text]
    separator: str = "  "

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        indent = self.lead.cell_len + len(self.separator) if self.lead else 0
        line = self.lead.copy()
        for item in self.items:
            if line.cell_len > indent and \
                    line.cell_len + len(self.separator) + item.cell_len > options.max_width:
                yield line
                line = Text(" " * indent)
            elif line.cell_len > indent or self.lead:
                line.append(self.separator, style="dim")
            line.append_text(item)
        yield line


# --------------------------------------------------------------------------- findings


def _findings_table(findings: Sequence[Finding], x_name: str) -> Table:
    table = Table(box=None, padding=(0, 1), header_style="bold", show_edge=False)
    table.add_column("#", justify="right")
    table.add_column("severity", no_wrap=True)
    table.add_column("code", no_wrap=True)
    table.add_column(f"{x_name}s", no_wrap=True)
    table.add_column("message", ratio=1)
    for number, f in enumerate(findings, start=1):
        table.add_row(str(number), _severity(f), Text(printable(f.code), style="bold"),
                      _span(f, x_name, word=False), Text(printable(f.message)))
    return table


def _by_code(findings: Sequence[Finding]) -> list[list[tuple[int, Finding]]]:
    """Findings with their numbers, grouped by code in order of first appearance."""
    groups: dict[str, list[tuple[int, Finding]]] = {}
    for number, finding in enumerate(findings, start=1):
        groups.setdefault(finding.code, []).append((number, finding))
    return list(groups.values())


def _worst(group: Sequence[tuple[int, Finding]]) -> Finding:
    return max((f for _, f in group), key=lambda f: f.severity.rank)


def _explanations(findings: Sequence[Finding], x_name: str) -> list[RenderableType]:
    """One explanation per code: a code found four times says four times what this run
    shows, but only once why it happens."""
    return [_explanation(group, x_name) for group in _by_code(findings)]


def _explanation(group: Sequence[tuple[int, Finding]], x_name: str) -> RenderableType:
    """Ruff-style: what this run shows, why it happens in general, what to try here."""
    first = group[0][1]
    title = Text.assemble((", ".join(str(n) for n, _ in group), "bold"), " ",
                          _severity(_worst(group)), " ", (printable(first.code), "bold"))
    if len(group) == 1:
        title.append(f"  {_span(first, x_name)}")
    detector = get_detector(first.code)
    seen = [printable(detector.seen(f) if detector else f.message) for _, f in group]
    if len(group) > 1:
        seen = [f"{n}  {_span(f, x_name)}: {line}" for (n, f), line in zip(group, seen)]
    body = Table.grid(padding=(0, 2))
    body.add_column(style="bold", no_wrap=True)
    body.add_column(ratio=1)
    body.add_row("What we see", Text("\n".join(seen)))
    if detector is not None:
        why = detector.section("Why it happens")
        if why:
            from rich.markdown import Markdown  # pulls in pygments: only when needed

            body.add_row("Why it happens", Markdown(why))
        advice = list(dict.fromkeys(a for _, f in group for a in detector.advice(f)))
        if advice:
            body.add_row("What to try", Text("\n".join(f"• {printable(a)}" for a in advice)))
    return Group(title, Padding(body, (0, 0, 0, 2)))


def _severity(finding: Finding) -> Text:
    return Text(finding.severity.value, style=f"color({palette.SEVERITY[finding.severity]})")


def _span(finding: Finding, x_name: str, word: bool = True) -> str:
    start = x_text(finding.start)
    if finding.end is None:
        text = f"{start}–end"
    elif finding.end == finding.start:
        text = start
    else:
        text = f"{start}–{x_text(finding.end)}"
    if not word:
        return text
    plural = "s" if finding.end != finding.start else ""
    return f"{x_name}{plural} {text}"


# --------------------------------------------------------------------------- summary


def summary(runs: Sequence[RunReport], name_width: int | None = None) -> RenderableType:
    """One row per run, best first (see :mod:`curvedoc.ranking`): its rank, length, best
    point and findings by code; names are folded to `name_width` when given."""
    common, labels = short_labels([run.table for run in runs])
    title = f"{len(runs)} run{'s' if len(runs) != 1 else ''}" + (f" in {common}" if common else "")
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column(**name_column(labels, name_width))
    table.add_column("length", no_wrap=True)
    table.add_column("best val", no_wrap=True)
    table.add_column("findings", min_width=14, no_wrap=True)
    order = ranked(list(zip(runs, labels)), lambda pair: pair[0].table)
    for place, (run, label) in enumerate(order, start=1):
        top = best(run.table)
        where = Text("—") if top is None else Text.assemble(
            (short_metric(run.table, top.column), "dim"), f" {num(top.value)} @ {x_text(top.x)}")
        table.add_row("—" if top is None else str(place), Text(label),
                      length(run.table), where,
                      _findings_cell(run))
    return Group(Text(printable(title), style="bold"), table)


def name_column(labels: Sequence[str], width: int | None) -> dict[str, Any]:
    """The run-name column of a table of runs: names fold, at `width` when given (0:
    an empty column, to measure the rest), else at what rich leaves, but not below the
    longest name or 24."""
    if width is None:
        return {"header": "run", "overflow": "fold",
                "min_width": min(max(map(len, labels)), 24)}
    return {"header": "run" if width else "", "overflow": "fold", "width": width}


def short_metric(table: CurveTable, column: str) -> str:
    """"loss" or "acc" for the usual validation metrics, the column name for the rest."""
    role = table.metrics[column].role
    return role.kind.value if role.kind in (Kind.LOSS, Kind.ACC) else printable(column)


def _findings_cell(run: RunReport) -> Text:
    """The run's findings by code, and how many codes could not be checked on it: a
    3-epoch log with no finding is not a clean run, and "none" alone would say it is."""
    text = Text()
    for group in _by_code(run.findings):
        if text:
            text.append("\n")
        text.append(printable(group[0][1].code),
                    style=f"color({palette.SEVERITY[_worst(group).severity]})")
        text.append(" @ " + ", ".join(x_text(f.start) for _, f in group), style="dim")
    if not run.unchecked:
        return text or Text("none", style="green")
    if not text:
        text.append("none", style="dim")
    text.append(f"\n{len(run.unchecked)} not checked", style="yellow")
    return text


def x_text(value: float) -> str:
    return str(x_value(value))


def num(value: float) -> str:
    return f"{value:.4g}"
