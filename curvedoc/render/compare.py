"""The terminal view of `curvedoc compare`: shared plots, key numbers, differing findings.

Like the diagnose report, a pure function writing to the rich console it is given.
Order: which runs were compared, their curves on the same panels (one colour and
marker per run, named by the shortest label that tells runs apart), a table of the
numbers that decide between them, then how their findings differ.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from curvedoc.comparison import CodeDifference, Comparison, Entry
from curvedoc.findings import Finding
from curvedoc.render import palette
from curvedoc.render.safe import printable
from curvedoc.render.summary import every_epoch
from curvedoc.render.text import (
    Plots,
    name_column,
    num,
    print_unclipped,
    short_metric,
    x_text,
)

__all__ = ["MAX_NAMED", "differences", "phrase", "render"]

#: Runs without a code are named up to this many; beyond, they are counted.
MAX_NAMED = 3


def render(comparison: Comparison, console: Console, *, plot: bool = False,
           log_y: bool = False) -> None:
    entries = comparison.entries
    title = f"Comparing {len(entries)} runs" + (
        f" in {printable(comparison.common)}" if comparison.common else "")
    console.print(Text(title, style="bold"), soft_wrap=True)  # a path is never folded
    if len(comparison.x_names) > 1:
        console.print(Text(f"The runs use different x axes ({', '.join(comparison.x_names)}); "
                           "each is plotted and listed in its own numbering.", style="yellow"))
    if plot:
        from curvedoc.render.panels import run_panels  # plotext: only when plotting

        shown = run_panels([e.run.table for e in entries], [e.label for e in entries],
                           log_y=log_y)
        if shown:
            console.print(Text())
            console.print(Plots(shown))
    console.print(Text())
    print_unclipped(console, lambda names: key_numbers(entries, names))
    console.print(Text())
    console.print(differences(comparison))


def key_numbers(entries: Sequence[Entry], name_width: int | None = None) -> Table:
    """One row per run, best first; `#` is its rank (best val first).  Headers go
    on two lines, so that long run names keep the room in 80 columns."""
    x_names = {e.run.table.x_name for e in entries}
    x_name = x_names.pop() if len(x_names) == 1 else None  # None: epochs and steps mixed
    # A count of points is a number of epochs only when every epoch is one point.
    length = "epochs" if all(every_epoch(e.run.table) for e in entries) else "points"
    at = f"best\n{x_name}" if x_name else "best\nat"
    kinds = {short_metric(e.run.table, e.best.column) for e in entries if e.best}
    kind = kinds.pop() if len(kinds) == 1 else None  # one kind: named once, in the header
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, show_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column(**name_column([e.label for e in entries], name_width))
    for header in (length, at, f"best val\n{kind or ''}".rstrip(),
                   "final\ntrain loss", "final\nval loss"):
        table.add_column(header, justify="right", no_wrap=True)
    for e in entries:
        top = e.best
        if top is None:
            where, value = "—", Text("—")
        else:
            where, value = x_text(top.x), Text(num(top.value))
            if kind is None:
                value = Text.assemble((short_metric(e.run.table, top.column), "dim"), " ", value)
        table.add_row("—" if e.rank is None else str(e.rank), Text(e.label),
                      str(e.run.table.points), where, value, _maybe(e.final_train_loss),
                      _maybe(e.final_val_loss), style="bold" if e.rank == 1 else None)
    return table


def differences(comparison: Comparison) -> RenderableType:
    """The codes that tell the runs apart, then the ones they share alike."""
    apart = [d for d in comparison.codes if d.kind != "same"]
    alike = [d for d in comparison.codes if d.kind == "same"]
    parts: list[RenderableType] = [Text("How their findings differ", style="bold")]
    if not comparison.codes:
        parts.append(Text("  No run has a finding.", style="green"))
    elif not apart:
        parts.append(Text("  Not at all: every run has the same findings at the same "
                          f"{'/'.join(comparison.x_names)}s.", style="green"))
    else:
        parts.append(_code_list(apart, comparison))
    if alike:
        parts += [Text(), Text("Found alike in every run", style="bold"),
                  _code_list(alike, comparison)]
    return Group(*parts, Text())


def _code_list(codes: Sequence[CodeDifference], comparison: Comparison) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for d in codes:
        worst = max((f for _, fs in d.found for f in fs), key=lambda f: f.severity.rank)
        grid.add_row(Text("  " + printable(d.code), style=f"bold "
                          f"color({palette.SEVERITY[worst.severity]})"),
                     Text(phrase(d, _x_names(comparison))))
    return grid


def phrase(difference: CodeDifference, x_names: dict[str, str]) -> str:
    """"starts at epoch 12 in A, 40 in B", "at epochs 30 and 60 in A; 30 in B; not in C"
    (or "not in the other 9 runs"), or for a code found alike everywhere "at epoch 0 in
    every run"."""
    found = difference.found
    spans = all(f.end != f.start for _, fs in found for f in fs)
    several = any(len(fs) > 1 for _, fs in found)
    axes = {x_names[label] for label, _ in found}
    shared = axes.pop() if len(axes) == 1 else None
    head = ("starts at" if spans else "at") + (
        f" {shared}{'s' if several else ''}" if shared else "")

    def where(label: str, findings: Sequence[Finding]) -> str:
        xs = _and([x_text(f.start) for f in findings])
        return xs if shared else f"{x_names[label]} {xs}"

    if difference.kind == "same":
        return f"{head} {where(*found[0])} in every run"
    text = f"{head} " + ("; " if several else ", ").join(
        f"{where(label, fs)} in {label}" for label, fs in found)
    missing = difference.missing
    if len(missing) > MAX_NAMED:
        text += f"; not in the other {len(missing)} runs"
    elif missing:
        text += "; not in " + ", ".join(missing)
    return text


def _x_names(comparison: Comparison) -> dict[str, str]:
    return {e.label: e.run.table.x_name for e in comparison.entries}


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _maybe(value: float | None) -> str:
    return "—" if value is None else num(value)
