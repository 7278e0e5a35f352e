"""Noise-aware statistics shared by the detectors (numpy only, so start-up stays fast).

Real learning curves are noisy, sometimes step-level, gappy and short.  A detector that
compares single epochs cries wolf on every healthy run, so every decision here is
taken against the curve's own noise:

* :func:`noise` estimates a curve's point-to-point noise robustly from second
  differences, which ignore the curve's trend;
* :func:`smooth` is a centred local-linear fit (LOWESS without its robustness loop,
  after a 3-point running median that removes single-epoch spikes): centred, so a
  turning point is not shifted later as with an exponential moving average;
* :func:`trend` combines Mann-Kendall (is the rise persistent?) with the Theil-Sen
  slope (how much did it rise?), both insensitive to outliers;
* :func:`swings` splits a smoothed curve into rises and falls larger than a threshold;
* :func:`curve` reads one role of a table as finite arrays, reducing long step-level
  series with :func:`downsample`, which keeps each bucket's extremes so minima, maxima
  and abrupt steps survive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from curvedoc.table import CurveTable

__all__ = [
    "Curve", "Trend", "aligned", "curve", "default_window", "downsample", "noise",
    "noise_after", "quality", "segment_level", "smooth", "swings", "trend",
]

#: Longer series are reduced to about this many points before any statistics.
MAX_POINTS = 1000


@dataclass(frozen=True)
class Curve:
    """One metric of a run as finite numbers: x in the log's numbering, y as logged."""

    column: str
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.x)

    def index_at(self, x: float) -> int:
        """The first point at or after `x` (len(self) when there is none)."""
        return int(np.searchsorted(self.x, x, side="left"))


def curve(table: CurveTable, role: str) -> Curve | None:
    """The primary column of `role` with NaN and inf dropped, or None when there is none."""
    column = table.column(role)
    if column is None:
        return None
    values = table.frame[column]
    x = values.index.to_numpy(dtype=float)
    y = values.to_numpy(dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    if not keep.any():
        return None
    x, y = downsample(x[keep], y[keep], MAX_POINTS)
    return Curve(column, x, y)


def quality(table: CurveTable) -> tuple[Curve, float] | None:
    """The validation score to set against the validation loss, and its sign.

    Accuracy first, else another higher-is-better metric (mAP, F1), else a lower-is-better
    one (WER, MAE); `sign` is -1 for the last, so `sign * y` always rises as the model
    improves.
    """
    for role, sign in (("val_acc", 1.0), ("val_metric", 1.0), ("val_error", -1.0)):
        found = curve(table, role)
        if found is not None:
            return found, sign
    return None


def aligned(a: Curve, b: Curve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x values both curves have, with each curve's values there."""
    x, ia, ib = np.intersect1d(a.x, b.x, assume_unique=True, return_indices=True)
    return x, a.y[ia], b.y[ib]


def downsample(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most about `max_points` points: per bucket the first, last, lowest and highest.

    This is the M4 reduction used for plotting: because each bucket keeps its extremes
    in their original order, the global minimum and maximum and every abrupt step (a
    bucket's high before its low) are still there after the reduction.
    """
    n = len(x)
    if n <= max_points:
        return x, y
    buckets = max(1, max_points // 4)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    keep: list[int] = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi <= lo:
            continue
        part = y[lo:hi]
        keep.extend((lo, hi - 1, lo + int(np.argmin(part)), lo + int(np.argmax(part))))
    rows = np.unique(keep)
    return x[rows], y[rows]


def noise(y: np.ndarray) -> float:
    """Robust standard deviation of a curve's point-to-point noise.

    Second differences cancel a locally linear trend; for white noise of deviation s
    they have deviation s*sqrt(6).  The median absolute deviation ignores the few large
    second differences at bends and spikes.  0.0 when there are too few points.
    """
    if len(y) < 4:
        return 0.0
    d2 = y[:-2] - 2.0 * y[1:-1] + y[2:]
    mad = float(np.median(np.abs(d2 - np.median(d2))))
    return 1.4826 * mad / math.sqrt(6.0)


def noise_after(y: np.ndarray, start: int, points: int = 8) -> float:
    """The noise from `start` on (at least the last `points` points): early training is
    often far noisier than the part of the curve a detector is judging."""
    return noise(y[max(0, min(start, len(y) - points)):])


def default_window(n: int) -> int:
    """Smoothing window for `n` points: 3 for short runs, up to 9 for long ones.

    Kept narrow on purpose: a wide window flattens the short-lived dips that follow a
    learning-rate drop, which the detectors need to see.
    """
    return int(np.clip(2 * (n // 20) + 1, 3, 9))


def smooth(x: np.ndarray, y: np.ndarray, window: int | None = None) -> np.ndarray:
    """A centred, lag-free smooth: 3-point running median, then local-linear fits.

    Each point is refitted by a weighted straight line through its `window` nearest
    neighbours (tricube weights, windows shifted inwards at the ends), so a linear
    trend passes through unbiased even at the first and last point.
    """
    n = len(y)
    window = min(window or default_window(n), n)
    if n < 3 or window < 3:
        return y.astype(float)
    med = y.astype(float)
    med[1:-1] = np.median(np.stack([y[:-2], y[1:-1], y[2:]]), axis=0)
    start = np.clip(np.arange(n) - window // 2, 0, n - window)
    rows = start[:, None] + np.arange(window)[None, :]
    xs, ys = x[rows], med[rows]
    dist = np.abs(xs - x[:, None])
    # Half again the farthest neighbour's distance, so every point in the window counts.
    reach = dist.max(axis=1, keepdims=True) * 1.5
    reach[reach == 0] = 1.0
    w = (1.0 - (dist / reach) ** 3) ** 3
    sw = w.sum(axis=1)
    mx = (w * xs).sum(axis=1) / sw
    my = (w * ys).sum(axis=1) / sw
    sxx = (w * (xs - mx[:, None]) ** 2).sum(axis=1)
    sxy = (w * (xs - mx[:, None]) * (ys - my[:, None])).sum(axis=1)
    slope = np.divide(sxy, sxx, out=np.zeros(n), where=sxx > 0)
    return my + slope * (x - mx)


@dataclass(frozen=True)
class Trend:
    """A monotone trend: Theil-Sen slope and one-sided Mann-Kendall p-values."""

    slope: float
    p_up: float
    p_down: float

    def change(self, x: np.ndarray) -> float:
        """The change the slope implies over the span of `x`."""
        return self.slope * float(x[-1] - x[0]) if len(x) else 0.0


def trend(x: np.ndarray, y: np.ndarray) -> Trend:
    """Mann-Kendall test (with the tie correction) and Theil-Sen slope of y over x.

    Mann-Kendall only counts how often later points are higher than earlier ones, so a
    single spike cannot make a trend; a p-value below 0.05 means a rise (or fall) this
    consistent arises by chance less than one time in twenty (for independent noise:
    slow wander fakes trends more often, which is why detectors add magnitude tests).
    """
    n = len(y)
    if n < 3:
        return Trend(0.0, 1.0, 1.0)
    i, j = np.triu_indices(n, k=1)
    dy = y[j] - y[i]
    dx = x[j] - x[i]
    ok = dx != 0
    slope = float(np.median(dy[ok] / dx[ok])) if ok.any() else 0.0
    s = float(np.sign(dy).sum())
    _, counts = np.unique(y, return_counts=True)
    ties = float((counts * (counts - 1) * (2 * counts + 5)).sum())
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    if var <= 0:
        return Trend(slope, 1.0, 1.0)
    z = (s - math.copysign(1.0, s)) / math.sqrt(var) if s else 0.0
    p_up = 0.5 * math.erfc(z / math.sqrt(2.0))
    return Trend(slope, p_up, 1.0 - p_up)


def swings(s: np.ndarray, threshold: float) -> list[tuple[int, int, int]]:
    """Rises (+1) and falls (-1) of a smoothed curve that exceed `threshold`.

    A zigzag: a turn is confirmed only once the curve has moved back by more than the
    threshold from its last extreme, so wobbles smaller than the threshold never split
    a swing.  Returns (start index, end index, direction); the last swing may still be
    in progress at the end of the log.
    """
    n = len(s)
    lo = hi = 0
    pivot, direction = 0, 0
    for i in range(1, n):
        if s[i] < s[lo]:
            lo = i
        if s[i] > s[hi]:
            hi = i
        if s[i] - s[lo] > threshold:
            pivot, direction, extreme = lo, 1, i
            break
        if s[hi] - s[i] > threshold:
            pivot, direction, extreme = hi, -1, i
            break
    else:
        return []
    found: list[tuple[int, int, int]] = []
    for i in range(extreme + 1, n):
        if (s[i] - s[extreme]) * direction > 0:
            extreme = i
        elif (s[extreme] - s[i]) * direction > threshold:
            found.append((pivot, extreme, direction))
            pivot, direction, extreme = extreme, -direction, i
    found.append((pivot, extreme, direction))
    return found


def segment_level(y: np.ndarray, head: bool, points: int = 3) -> float:
    """A robust level for the start (`head`) or the end of a short segment: the median of
    its first or last few points."""
    part = y[:points] if head else y[-points:]
    return float(np.median(part))
