"""Plot building: thinning, ticks, finding marks, step positions."""

from __future__ import annotations

import numpy as np
import pytest

from curvedoc.render import plot
from curvedoc.render.panels import step_positions
from curvedoc.render.plot import Curve, Mark, Panel, build, downsample, nice_ticks


def test_downsample_keeps_each_buckets_extremes() -> None:
    rng = np.random.default_rng(0)
    x = np.arange(1_000_000, dtype=float)
    y = rng.normal(size=x.size)
    y[123_457] = 50.0
    y[876_543] = -50.0
    xs, ys = downsample(x, y, 200)
    assert len(xs) <= 400
    assert ys.max() == 50.0 and ys.min() == -50.0
    assert np.all(np.diff(xs) > 0)


def test_downsample_leaves_short_series_alone() -> None:
    x, y = np.arange(10.0), np.arange(10.0) ** 2
    xs, ys = downsample(x, y, 100)
    assert xs.tolist() == x.tolist() and ys.tolist() == y.tolist()


def test_a_million_points_are_never_handed_to_plotext(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real = plot.plt.plot
    monkeypatch.setattr(plot.plt, "plot",
                        lambda x, y, **kw: sizes.append(len(x)) or real(x, y, **kw))
    x = np.arange(1_000_000, dtype=float)
    build(Panel("loss", (Curve("loss", x, np.sin(x / 1000), 33),)), 80)
    assert sizes and max(sizes) <= 4 * 80


def test_nice_ticks() -> None:
    assert nice_ticks(0, 99, 6) == [0, 20, 40, 60, 80]
    assert nice_ticks(0.31, 2.3, 4) == [0.5, 1.0, 1.5, 2.0]
    assert nice_ticks(0, 3, 8, whole=True) == [0, 1, 2, 3]


def test_mark_label_sits_above_its_x() -> None:
    x = np.arange(101.0)
    panel = Panel("loss", (Curve("loss", x, 1 / (1 + x), 33),), (Mark("7", 50, None, 170),))
    lines = plot.plt.uncolorize(build(panel, 60)).splitlines()
    assert all(len(line) <= 60 for line in lines)
    top = lines[1]  # the row under the frame, kept free for labels
    left, right = top.index("│"), top.rindex("│")
    where = (top.index("7") - left) / (right - left)
    assert abs(where - 0.5) < 0.05
    assert "─" in top[top.index("7"):right]  # the span runs on to the end


def test_constant_and_empty_curves_still_build() -> None:
    x = np.arange(5.0)
    assert "┤" in build(Panel("lr", (Curve("lr", x, np.full(5, 1e-3), 141),), log_y=True), 60)
    assert build(Panel("lr", (Curve("lr", x, np.zeros(5), 141),), log_y=True), 60)


def test_steps_are_spread_over_their_epoch() -> None:
    steps = np.array([10, 20, 30, 40, 50, 60], dtype=float)
    epochs = np.array([0, 0, 0, 1, 1, 1], dtype=float)
    got = step_positions(steps, epochs, "epoch")
    assert np.allclose(got, [-2 / 3, -1 / 3, 0, 1 / 3, 2 / 3, 1])
    assert step_positions(steps, np.array([0.2, 0.4, 0.6, 0.8, 1.0, 1.2]), "epoch")[0] == 0.2
