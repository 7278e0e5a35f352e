"""`downsample`, the reduction of step-level curves the detectors judge (it must keep the
minimum, the maximum and the place of a level change), and `shared_curves`."""

from __future__ import annotations

import warnings
from itertools import pairwise

import numpy as np
import pytest

from curvedoc.detectors._stats import (
    curve,
    downsample,
    rolling_mad,
    rolling_median,
    rolling_quantile,
    shared_curves,
)
from synthetic import table


def _middle_rows(n: int, max_points: int) -> np.ndarray:
    """The rows `downsample` places its bucket medians on."""
    edges = np.linspace(0, n, max_points - 1).astype(int)
    return (edges[:-1] + edges[1:]) // 2


def test_short_series_are_left_alone() -> None:
    x, y = np.arange(50.0), np.linspace(1, 0, 50)
    xs, ys = downsample(x, y, 100)
    assert xs is x and ys is y


def test_buckets_are_medians_at_their_middle_row() -> None:
    rng = np.random.default_rng(3)
    n, max_points = 10_007, 200
    x, y = np.arange(n, dtype=float) * 2, rng.normal(size=n)
    xs, ys = downsample(x, y, max_points)
    edges = np.linspace(0, n, max_points - 1).astype(int)
    medians = {float(x[(lo + hi) // 2]): float(np.median(y[lo:hi]))
               for lo, hi in pairwise(edges.tolist())}
    extremes = {float(x[np.argmin(y)]), float(x[np.argmax(y)])}
    assert np.all(np.diff(xs) > 0)
    for at, value in zip(xs.tolist(), ys.tolist()):
        if at not in extremes:
            assert value == medians[at]
    assert len(xs) <= max_points


@pytest.mark.parametrize("extreme", ["min", "max"])
@pytest.mark.parametrize("on_middle_row", [True, False])
def test_the_minimum_and_a_spike_survive_wherever_they_sit(extreme: str,
                                                           on_middle_row: bool) -> None:
    n, max_points = 5_000, 300
    x = np.arange(n, dtype=float)
    y = np.linspace(2.0, 1.0, n)
    rows = _middle_rows(n, max_points)
    at = int(rows[100]) if on_middle_row else int(rows[100]) + 1
    y[at] = -5.0 if extreme == "min" else 50.0  # a dip to the best point, or a spike
    xs, ys = downsample(x, y, max_points)
    assert float(x[at]) in xs.tolist()
    assert ys[xs.tolist().index(float(x[at]))] == y[at]
    assert (ys.min() if extreme == "min" else ys.max()) == y[at]
    assert np.all(np.diff(xs) > 0)


def test_a_level_step_stays_within_one_bucket() -> None:
    """A learning-rate drop's step in the loss stays where it was logged."""
    n, max_points, step_at = 100_000, 1_000, 61_234
    x = np.arange(n, dtype=float)
    y = np.where(x < step_at, 1.0, 0.5) + np.random.default_rng(5).normal(0, 0.01, n)
    xs, ys = downsample(x, y, max_points)
    bucket = n / (max_points - 2)
    low = xs[ys < 0.75]
    high = xs[ys > 0.75]
    assert high.max() < step_at + bucket and low.min() > step_at - bucket


def test_shared_curves_reads_each_role_once_per_table() -> None:
    first = table({"loss": np.linspace(1, 0.1, 40), "val_loss": np.linspace(1.1, 0.3, 40)})
    second = table({"loss": np.linspace(2, 0.2, 40), "val_loss": np.linspace(2.1, 0.4, 40)})
    assert curve(first, "val_loss") is not curve(first, "val_loss")
    with shared_curves():
        found = curve(first, "val_loss")
        assert found is not None and curve(first, "val_loss") is found
        assert curve(first, "val_loss", reduce=False) is not found
        other = curve(second, "val_loss")
        assert other is not None and other.y[0] == 2.1
    assert curve(first, "val_loss") is not found


def _numpy_windows(y: np.ndarray, window: int) -> np.ndarray:
    half = window // 2
    return np.lib.stride_tricks.sliding_window_view(
        np.concatenate([np.full(half, np.nan), y, np.full(half, np.nan)]), 2 * half + 1)


@pytest.mark.parametrize("gaps", ["none", "scattered", "leading", "inf"])
@pytest.mark.parametrize("window", [3, 9, 43, 203])
def test_rolling_statistics_are_numpys_nan_functions(gaps: str, window: int) -> None:
    """The vectorised running median, percentile and MAD give numpy's nanmedian and
    nanpercentile values exactly, NaNs (the ends, gaps, an all-NaN window) included."""
    rng = np.random.default_rng(window)
    y = np.exp(rng.normal(size=300))
    if gaps == "scattered":
        y[rng.random(300) < 0.3] = np.nan
    elif gaps == "leading":
        y[:250] = np.nan
    elif gaps == "inf":
        y[rng.random(300) < 0.05] = np.inf
    w = _numpy_windows(y, window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's all-NaN windows
        median = np.nanmedian(w, axis=1)
        quantiles = {q: np.nanpercentile(w, q, axis=1) for q in (10, 25, 90)}
        mad = 1.4826 * np.nanmedian(np.abs(w - np.nanmedian(w, axis=1, keepdims=True)), axis=1)
    np.testing.assert_array_equal(rolling_median(y, window), median)
    for q, expected in quantiles.items():
        np.testing.assert_array_equal(rolling_quantile(y, window, q), expected)
    np.testing.assert_array_equal(rolling_mad(y, window), mad)
