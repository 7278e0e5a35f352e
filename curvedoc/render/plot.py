"""Terminal plots of learning curves: the only module that talks to plotext.

plotext (5.3.x API) keeps its figure in global state, so every build starts with
`clear_figure()` and ends before another begins.  A :class:`Panel` is a rich renderable
that builds its plot at the width rich offers it: the same object fits an 80-column
terminal, half of a 160-column one, and is recorded with the rest of the report when it
is saved as SVG or HTML.  No user text ever reaches plotext (its output is parsed as
ANSI), only numbers; names go into the rich legend line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import plotext as plt
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

__all__ = ["Curve", "Mark", "Panel", "build", "downsample", "nice_ticks"]

#: Narrower than this, a plot says nothing; the panel prints its legend only.
MIN_WIDTH = 30


@dataclass(frozen=True)
class Curve:
    """One line of a panel.  `marker` is a plotext marker ("braille", "hd" or one
    character) chosen so that curves stay apart without colour; `staircase` draws a
    piecewise-constant series (a learning-rate schedule) as steps."""

    label: str
    x: np.ndarray
    y: np.ndarray
    color: int
    marker: str = "braille"
    staircase: bool = False


@dataclass(frozen=True)
class Mark:
    """A finding on the x axis: a vertical line at `start`, a bar on the top row to `end`
    (None = to the end of the log) and `label` (its number in the findings list)."""

    label: str
    start: float
    end: float | None
    color: int


@dataclass(frozen=True)
class Panel:
    """A titled plot of a few curves sharing an x axis, with findings marked.

    `x_range` fixes the x axis (panels of several runs line up); by default it spans the
    curves."""

    title: str
    curves: tuple[Curve, ...]
    marks: tuple[Mark, ...] = ()
    log_y: bool = False
    height: int = 14
    x_range: tuple[float, float] | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.legend()
        if options.max_width >= MIN_WIDTH:
            yield Text.from_ansi(build(self, options.max_width), no_wrap=True, overflow="crop")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(MIN_WIDTH, options.max_width), options.max_width)

    def legend(self) -> Text:
        """The title and a sample of each curve's marker, in its colour."""
        text = Text()
        text.append(self.title + (" (log scale)" if self.log_y else ""), style="bold")
        for curve in self.curves:
            text.append("  ")
            text.append(_sample(curve.marker), style=f"color({curve.color})")
            text.append(" " + curve.label)
        return text


def build(panel: Panel, width: int) -> str:
    """The panel's plot as plotext draws it (ANSI colours included), `width` columns wide."""
    curves = [_prepared(c, panel.log_y, width) for c in panel.curves]
    curves = [(c, x, y) for c, x, y in curves if len(x)]
    plt.clear_figure()
    plt.limitsize(False, False)
    plt.plotsize(width, panel.height)
    plt.theme("clear")
    if not curves:
        return str(plt.build()).rstrip("\n")
    xs = np.concatenate([x for _, x, _ in curves])
    ys = np.concatenate([y for _, _, y in curves])
    x_lo, x_hi = panel.x_range or (float(xs.min()), float(xs.max()))
    y_lo, y_hi = float(ys.min()), float(ys.max())
    if y_hi == y_lo:
        pad = abs(y_hi) * 0.1 or (1.0 if not panel.log_y else 0.5)
        y_lo, y_hi = y_lo - pad, y_hi + pad
    rows = max(panel.height - 3, 2)  # the frame and the x tick labels take three rows
    top = y_hi + (y_hi - y_lo) / (rows - 1)  # a free top row for the finding labels
    plt.ylim(y_lo, top)
    if x_hi > x_lo:
        plt.xlim(x_lo, x_hi)
    for curve, x, y in curves:
        plt.plot(x.tolist(), y.tolist(), marker=curve.marker, color=curve.color)
    _draw_marks(panel.marks, x_lo, x_hi, top)
    count = max(rows // 2, 3)
    y_ticks = _log_ticks(y_lo, y_hi, count) if panel.log_y else nice_ticks(y_lo, y_hi, count)
    plt.yticks(y_ticks, [_tick_label(t, y_ticks, panel.log_y) for t in y_ticks])
    integral = all(np.all(np.mod(x, 1) == 0) for _, x, _ in curves)
    x_ticks = nice_ticks(x_lo, x_hi, max(width // 12, 2), whole=integral)
    plt.xticks(x_ticks, [_tick_label(t, x_ticks, False) for t in x_ticks])
    return str(plt.build()).rstrip("\n")


def _draw_marks(marks: Iterable[Mark], x_lo: float, x_hi: float, top: float) -> None:
    """Vertical lines, span bars on the top row, and labels; marks at one x share a label."""
    labels: dict[float, list[Mark]] = {}
    for mark in marks:
        if not x_lo <= mark.start <= x_hi:
            continue
        end = x_hi if mark.end is None else min(mark.end, x_hi)
        if end > mark.start:
            plt.plot([mark.start, end], [top, top], marker="─", color=mark.color)
        plt.vline(mark.start, mark.color)
        labels.setdefault(mark.start, []).append(mark)
    for x, group in labels.items():
        plt.text(",".join(m.label for m in group), x, top, color=group[0].color,
                 alignment="left" if x < (x_lo + x_hi) / 2 else "right")


def _prepared(curve: Curve, log_y: bool, width: int) -> tuple[Curve, np.ndarray, np.ndarray]:
    """Finite points (positive ones on a log axis, as log10), thinned to the plot's resolution."""
    x = np.asarray(curve.x, dtype=float)
    y = np.asarray(curve.y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y) & ((y > 0) if log_y else True)
    x, y = x[keep], y[keep]
    if log_y:
        y = np.log10(y)
    x, y = downsample(x, y, 2 * width)  # braille has two dots per column
    if curve.staircase and len(x) > 1:
        x = np.repeat(x, 2)[1:]
        y = np.repeat(y, 2)[:-1]
    return curve, x, y


def downsample(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """At most two points per bucket of x, the lowest and the highest, in x order.

    A plot cannot show more points than it has columns; averaging would hide the spikes
    and dips a reader looks for, so each bucket keeps its extremes.  `x` must be sorted.
    """
    if len(x) <= 2 * buckets or x[-1] == x[0]:
        return x, y
    bucket = np.minimum(((x - x[0]) / (x[-1] - x[0]) * buckets).astype(int), buckets - 1)
    order = np.lexsort((y, bucket))  # by bucket, then by value within it
    first = np.flatnonzero(np.r_[True, np.diff(bucket[order]) != 0])
    last = np.r_[first[1:] - 1, len(order) - 1]
    keep = np.unique(np.concatenate([order[first], order[last]]))
    return x[keep], y[keep]


def nice_ticks(lo: float, hi: float, count: int, whole: bool = False) -> list[float]:
    """About `count` round tick values (steps of 1, 2, 2.5 or 5 times a power of ten);
    `whole` keeps them on whole numbers (epochs)."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if whole:
        step = max(1.0, 2.0 if step == 2.5 else step)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def _log_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Ticks in log10 space: whole decades, or 1-2-5 steps when the range is under two."""
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if len(decades) >= 2:
        stride = max(1, math.ceil(len(decades) / count))
        return [float(d) for d in decades[::stride]]
    candidates = [math.log10(m) + d for d in range(math.floor(lo) - 1, math.ceil(hi) + 1)
                  for m in (1, 2, 5)]
    inside = [t for t in candidates if lo - 1e-9 <= t <= hi + 1e-9]
    return inside if len(inside) >= 2 else nice_ticks(lo, hi, count)


def _tick_label(value: float, ticks: list[float], log: bool) -> str:
    if log:
        if min(ticks) < -2 or max(ticks) > 4:  # 1e-4 reads better than 0.0001
            return f"{10.0 ** value:.0e}".replace("e-0", "e-").replace("e+0", "e")
        return f"{10.0 ** value:.3g}"
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else abs(value) or 1.0
    if step >= 1 and float(value).is_integer():
        whole = int(value)
        return f"{whole // 1000}k" if abs(whole) >= 10000 and whole % 1000 == 0 else str(whole)
    if step < 1e-3 or abs(value) >= 1e6:
        return f"{value:.2g}"
    decimals = len(f"{step:.10f}".rstrip("0").split(".")[1])
    return f"{value:.{decimals}f}"


def _sample(marker: str) -> str:
    """Two characters that look like the curve drawn with `marker`."""
    return {"braille": "⠤⠤", "hd": "▄▄", "fhd": "▄▄"}.get(marker, marker * 2)
