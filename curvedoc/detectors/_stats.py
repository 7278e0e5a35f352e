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
* :func:`level_error` is the noise of a difference between two smoothed levels, and
  :func:`change_error` that of the change a straight line fitted over a span implies:
  the yardsticks for "did the curve move beyond noise";
* :func:`swings` splits a smoothed curve into rises and falls larger than a threshold,
  and :func:`onset` finds where a rising curve started to rise;
* :func:`quality` picks the validation score (accuracy, mAP, WER) and
  :func:`improvement` says whether it clearly improved over a span;
* :func:`curve` reads one role of a table as finite arrays, reducing long step-level
  series with :func:`downsample` (bucket medians, with the logged minimum and maximum
  kept, so noise averages out while the best point and abrupt steps survive);
* :func:`median3` and :func:`rolling_median` give a level that single points cannot
  move, :func:`rolling_mad` a local noise scale, for judging spikes, and
  :func:`rolling_quantile` its quiet part where spikes are frequent;
* :func:`shifted_train` removes the half-epoch lag of an epoch-averaged training loss,
  and :func:`runs` finds the spans where a condition holds;
* :func:`schedule_drops` finds the steps down of a logged learning rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from curvedoc.table import CurveTable

__all__ = [
    "Curve", "Score", "Trend", "aligned", "change_error", "curve", "default_window",
    "downsample", "improvement", "level_error", "median3", "noise", "noise_after",
    "onset", "quality", "rolling_mad", "rolling_median", "runs", "schedule_drops",
    "shared_curves", "shifted_train", "smooth", "swings", "trend",
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


#: The curves read so far, while :func:`shared_curves` is active, by (role, reduce).
_SHARED: ContextVar[dict[tuple[int, str, bool], tuple[CurveTable, Curve | None]] | None] = \
    ContextVar("curvedoc_shared_curves", default=None)


@contextmanager
def shared_curves() -> Iterator[None]:
    """Within it, :func:`curve` reads each role of a table once: the detectors ask for
    the same few curves (about twenty calls per table), and on a step-level log each
    costs a pass over hundreds of thousands of rows.  The curves' arrays are read-only
    (numpy raises on a write), so no detector can change another's input."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def curve(table: CurveTable, role: str, *, reduce: bool = True) -> Curve | None:
    """The primary column of `role` with NaN and inf dropped, or None when there is none.

    Series longer than `MAX_POINTS` (step-level logs) are reduced with :func:`downsample`
    unless `reduce` is false (a learning-rate schedule has no noise to average away).
    """
    shared = _SHARED.get()
    if shared is None:
        return _read_curve(table, role, reduce)
    key = (id(table), role, reduce)
    if key not in shared or shared[key][0] is not table:  # the table keeps its id alive
        shared[key] = (table, _read_curve(table, role, reduce))
    return shared[key][1]


def _read_curve(table: CurveTable, role: str, reduce: bool) -> Curve | None:
    column = table.column(role)
    if column is None:
        return None
    values = table.frame[column]
    x = values.index.to_numpy(dtype=float)
    y = values.to_numpy(dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    if not keep.any():
        return None
    x, y = x[keep], y[keep]
    if reduce:
        x, y = downsample(x, y, MAX_POINTS)
    for a in (x, y):  # shared by every detector: one writing into it would change the rest
        a.setflags(write=False)
    return Curve(column, x, y)


@dataclass(frozen=True)
class Score:
    """A validation score to set against the validation loss.

    `sign * curve.y` rises as the model improves; `perfect` is the best possible value
    when the scale has one (1 or 100 for an accuracy or a 0-1 metric, 0 for an error
    rate), so an improvement can be measured against the room left for it.
    """

    curve: Curve
    sign: float
    perfect: float | None

    def headroom(self, level: float) -> float:
        """How far `level` is from perfect (from zero when the scale has no top)."""
        return abs(self.perfect - level) if self.perfect is not None else abs(level)


def quality(table: CurveTable) -> Score | None:
    """Accuracy, else another higher-is-better metric (mAP, F1), else a lower-is-better
    one (WER, MAE): the score that says whether more predictions are right."""
    for role, sign in (("val_acc", 1.0), ("val_metric", 1.0), ("val_error", -1.0)):
        found = curve(table, role)
        if found is None:
            continue
        top = float(np.max(np.abs(found.y)))
        if sign < 0:
            perfect: float | None = 0.0
        elif top <= 1.0:
            perfect = 1.0
        else:
            perfect = 100.0 if role == "val_acc" and top <= 100.0 else None
        return Score(found, sign, perfect)
    return None


def improvement(score: Score, x0: float, x1: float, *, alpha: float, noise_k: float,
                min_gain: float) -> tuple[float, float] | None:
    """The score's smoothed level at x0 and x1 when it improved over [x0, x1] clearly:
    a Mann-Kendall trend (p < `alpha`), a Theil-Sen change above `noise_k` times its noise,
    and a gain of at least `min_gain` of the room it had left.  None otherwise."""
    found = score.curve
    inside = (found.x >= x0) & (found.x <= x1)
    if inside.sum() < 3:
        return None
    sx, sy = found.x[inside], found.y[inside]
    better = trend(sx, score.sign * sy)
    if better.p_up >= alpha:
        return None
    if better.change(sx) <= noise_k * noise_after(found.y, int(np.argmax(inside))):
        return None
    level = smooth(found.x, found.y)[inside]
    if score.sign * float(level[-1] - level[0]) < min_gain * score.headroom(float(level[0])):
        return None
    return float(level[0]), float(level[-1])


def aligned(a: Curve, b: Curve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x values both curves have, with each curve's values there."""
    x, ia, ib = np.intersect1d(a.x, b.x, assume_unique=True, return_indices=True)
    return x, a.y[ia], b.y[ib]


def downsample(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most about `max_points` points: the median of each of equal buckets, placed at
    the bucket's middle x (a logged x), plus the series' minimum and maximum as logged.

    Medians average the step-to-step noise away without being pulled by spikes; a level
    change (a learning-rate step) stays where it was, to within one bucket; the lowest
    and highest logged values (the best checkpoint, the worst spike) survive as they are,
    also when one sits on a bucket's middle row (it then stands for its bucket).
    """
    n = len(x)
    if n <= max_points:
        return x, y
    edges = np.linspace(0, n, max_points - 1).astype(int)
    lo, hi = edges[:-1], edges[1:]
    rows = (lo + hi) // 2
    values = _bucket_medians(y, lo, hi - lo)
    for extreme in (int(np.argmin(y)), int(np.argmax(y))):
        at = int(np.searchsorted(rows, extreme))
        if at < len(rows) and rows[at] == extreme:
            values[at] = y[extreme]
        else:
            rows, values = np.insert(rows, at, extreme), np.insert(values, at, y[extreme])
    return x[rows], values


def _bucket_medians(y: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The median of each y[start:start + size] (sizes >= 1), a numpy step per distinct
    size: equal buckets come in at most two sizes, so a million points cost a few ms."""
    out = np.empty(len(starts), dtype=float)
    for size in np.unique(sizes).tolist():
        which = np.flatnonzero(sizes == size)
        block = y[starts[which, None] + np.arange(size)]  # a copy: partition it in place
        middle = [(size - 1) // 2, size // 2]
        block.partition(middle, axis=1)
        out[which] = (block[:, middle[0]] + block[:, middle[1]]) / 2
    return out


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


def noise_after(y: np.ndarray, start: int) -> float:
    """The noise from `start` on, over at least the last third of the curve (and at least
    8 points): early training is often far noisier than the part a detector judges, but
    a handful of points gives too rough an estimate (it comes out low as often as not)."""
    points = max(8, len(y) // 3)
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
    med = median3(y)
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


def level_error(sigma: float, n: int, window: int | None = None) -> float:
    """Standard error of the difference between two values of :func:`smooth` for a curve
    of `n` points whose point-to-point noise is `sigma`.

    A smoothed value is a local fit through `window` points, so its error is about
    sigma/sqrt(window) (simulated on white noise: 0.57, 0.49, 0.42 and 0.37 sigma for
    windows 3, 5, 7 and 9 away from the ends), and a difference of two is sqrt(2) times
    that.  Comparing a smoothed rise with the raw point noise instead asks a long, clear
    rise on a jittery curve to be several times larger than it needs to be.
    """
    return sigma * math.sqrt(2.0 / min(window or default_window(n), max(n, 1)))


def change_error(x: np.ndarray, sigma: float) -> float:
    """Standard error of the change over the span of `x` that a straight line fitted to
    points with independent noise `sigma` implies (slope error sigma/sqrt(Sxx), times the
    span): 1.34 sigma over 4 points, 0.99 sigma over 10, 0.64 sigma over 27.

    A long steady rise is strong evidence even when it is small next to the jitter of
    single points, while a short one has to be large: the same yardstick that separates
    a slow wobble (a few points up, then down again) from a rise that keeps going.
    """
    if len(x) < 3:
        return math.inf
    sxx = float(np.sum((x - x.mean()) ** 2))
    return sigma * float(x[-1] - x[0]) / math.sqrt(sxx) if sxx > 0 else math.inf


def median3(y: np.ndarray) -> np.ndarray:
    """3-point running median (the end points as they are): a single-point spike or dip
    cannot move it."""
    med = y.astype(float)
    if len(y) >= 3:
        # the middle of three values, NaN if any is (np.median's result, a tenth the cost)
        a, b, c = med[:-2], med[1:-1], med[2:]
        med[1:-1] = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    return med


def _windows(y: np.ndarray, window: int) -> np.ndarray:
    """Centred windows of `window` points around each point, each sorted, NaN-padded at
    the ends (NaNs sort last, so a window's values come first)."""
    half = window // 2
    padded = np.concatenate([np.full(half, np.nan), y.astype(float), np.full(half, np.nan)])
    return np.sort(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)


def _sorted_quantile(w: np.ndarray, q: float) -> np.ndarray:
    """The `q`-th quantile (0 to 1) of each row's values of sorted windows `w`, ignoring
    NaNs; NaN for a row without any.

    `np.nanpercentile` and `np.nanmedian` along an axis work row by row in Python once a
    row holds a NaN, as every window at the ends does (1000 runs of 50 epochs spent
    2 s in them); here all rows are read at once, with numpy's own arithmetic for
    its default (linear) method: the index (k - 1) q among a row's k values, and the lerp from the lower neighbour, or back from the upper one when
    the weight is at least one half.  So the values are numpy's to the last bit.
    """
    rows = np.arange(len(w))
    count = np.count_nonzero(~np.isnan(w), axis=1)
    index = (count - 1) * q
    lower = np.floor(index)
    upper = lower + 1
    top = index >= count - 1
    lower[top] = upper[top] = count[top] - 1
    lower[index < 0] = upper[index < 0] = 0
    gamma = index - np.where(top, -1, lower)  # numpy weighs from index -1 at the top
    a = w[rows, lower.astype(np.intp)]
    b = w[rows, upper.astype(np.intp)]
    with np.errstate(invalid="ignore"):
        diff = b - a
        out = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    out[count == 0] = np.nan
    return out


def _sorted_median(w: np.ndarray) -> np.ndarray:
    """The median of each row's values of sorted windows `w`, ignoring NaNs, as
    `np.nanmedian` gives it (the mean of the two middle values, a value with itself
    for an odd count); NaN for a row without any."""
    rows = np.arange(len(w))
    count = np.count_nonzero(~np.isnan(w), axis=1)
    low, high = np.maximum(count - 1, 0) // 2, count // 2
    out = (w[rows, low] + w[rows, high]) / 2
    out[count == 0] = np.nan
    return out


def rolling_median(y: np.ndarray, window: int) -> np.ndarray:
    """Centred running median over `window` points (fewer at the ends): a local level
    that excursions shorter than half the window do not move."""
    if len(y) == 0:
        return y.astype(float)
    return _sorted_median(_windows(y, window))


def rolling_quantile(y: np.ndarray, window: int, q: float) -> np.ndarray:
    """Centred running `q`-th percentile over `window` points (fewer at the ends): with a
    low `q`, the quiet part of each stretch of a curve."""
    if len(y) == 0:
        return y.astype(float)
    return _sorted_quantile(_windows(y, window), q / 100)


def rolling_mad(r: np.ndarray, window: int) -> np.ndarray:
    """Centred running robust standard deviation (1.4826 x median absolute deviation)
    of `r` over `window` points: the local noise scale, which outliers do not inflate
    and which follows noise that changes along the run (often larger early on)."""
    if len(r) == 0:
        return r.astype(float)
    w = _windows(r, window)
    deviation = np.sort(np.abs(w - _sorted_median(w)[:, None]), axis=1)
    return 1.4826 * _sorted_median(deviation)


def runs(mask: np.ndarray, bridge: np.ndarray | None = None) -> list[tuple[int, int]]:
    """(first, last) index of each run of True values in `mask`; runs separated only by
    points where `bridge` holds (the condition lapsed, but not its sign) are joined."""
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    found: list[tuple[int, int]] = []
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1):
        if found and bridge is not None and bridge[found[-1][1] + 1:a].all():
            found[-1] = (found[-1][0], int(b))
        else:
            found.append((int(a), int(b)))
    return found


def shifted_train(tx: np.ndarray, ty: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The training curve with each value moved back half an interval (to the middle of
    the epoch it averages over), read off at `x` (the validation points).

    Where the training loss falls fast this gives the training loss of the moment the
    validation loss was measured, removing the averaging lag.  Positive losses are
    interpolated in log space: a falling loss curve is close to exponential, and a
    straight line between two epoch averages would overestimate the loss in between.
    """
    spacing = np.diff(tx, prepend=tx[0] - (tx[1] - tx[0] if len(tx) > 1 else 1.0))
    centres = tx - spacing / 2
    if np.all(ty > 0):
        return np.exp(np.interp(x, centres, np.log(ty)))
    return np.interp(x, centres, ty)


def schedule_drops(x: np.ndarray, y: np.ndarray, min_drop: float) -> list[int]:
    """Indices where the learning rate steps down in a way the schedule's course does not
    explain (the first point at the lower rate).

    The value expected at each point is the smallest of the previous value and the
    geometric and linear continuations of the two before it; a drop is a value at least
    `min_drop` below that, after which the rate holds (does not fall by `min_drop`
    again at the next point).  A smooth decay sampled coarsely, or unevenly as when a
    per-step learning rate is read once per epoch, keeps falling and is not a drop.
    Only points that fell by `min_drop` from the one before are examined, so a
    million-step schedule costs one vectorised comparison.
    """
    drops = []
    for i in np.flatnonzero((y[:-1] > 0) & (y[1:] <= y[:-1] * (1 - min_drop))) + 1:
        prev = y[i - 1]
        expected = prev
        if i >= 2 and y[i - 2] > 0:
            ratio = (x[i] - x[i - 1]) / (x[i - 1] - x[i - 2])
            geometric = prev * (prev / y[i - 2]) ** ratio
            linear = prev + (prev - y[i - 2]) * ratio
            expected = max(0.0, min(prev, geometric, linear))
        holds = i == len(y) - 1 or y[i + 1] > y[i] * (1 - min_drop)
        if y[i] < expected * (1 - min_drop) and holds:
            drops.append(int(i))
    return drops


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


def onset(x: np.ndarray, y: np.ndarray, candidates: int = 200) -> float:
    """Where a curve that ends rising started to rise: the corner of the best "flat, then
    straight up" fit, y = a + c*max(0, x - k), by least squares over candidate corners
    k (at most `candidates` of the x values).  The flat piece absorbs everything before
    the corner, so earlier moves (a fast first epoch) do not drag the corner to the start
    unless the rise really began there.
    """
    inner = x[:-2]
    if len(inner) > candidates:
        inner = inner[np.linspace(0, len(inner) - 1, candidates).astype(int)]
    best, corner = float("inf"), float(x[0])
    for k in inner:
        design = np.column_stack([np.ones_like(x), np.maximum(0.0, x - k)])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        sse = float(((design @ coef - y) ** 2).sum())
        if coef[1] > 0 and sse < best:
            best, corner = sse, float(k)
    return corner


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


def gap_summary(axis: str, x: np.ndarray, gap: np.ndarray, level: np.ndarray,
                a: int, b: int) -> dict[str, float | int | str | None]:
    """The evidence numbers of a gap between two loss curves over points `a..b`: its
    mean (absolute, and relative to `level`, the curve it is measured against) and its
    largest value with where it was.  Shared by the detectors that report such gaps."""
    part = slice(a, b + 1)
    top = a + int(np.argmax(gap[part]))
    mean_gap = float(np.mean(gap[part]))
    mean_level = float(np.mean(np.abs(level[part])))
    return {
        "axis": axis,
        "points": b - a + 1,
        "mean_gap": mean_gap,
        "mean_gap_rel": mean_gap / mean_level if mean_level else None,
        "max_gap": float(gap[top]),
        "max_gap_x": float(x[top]),
    }
