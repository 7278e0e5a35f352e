"""Constructed learning curves with deterministic noise, for the detector tests.

Each builder returns a CurveTable built the way a reader's output would be, so the
tests exercise the same path as real logs.  Shapes are stated in each docstring.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from curvedoc.table import CurveTable, RawRun, build

__all__ = ["flat_wobbly", "healthy", "loss_up_acc_flat", "seed_run", "table"]


def table(columns: dict[str, np.ndarray], x: np.ndarray | None = None,
          axis: str = "epoch") -> CurveTable:
    """One run from columns named as a Keras CSVLogger would name them."""
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame({axis: np.arange(n) if x is None else x, **columns})
    raw = RawRun(frame, "synthetic.csv", "test", **{axis: axis})
    (built,) = build(raw)
    return built


def seed_run(rng: np.random.Generator, with_lr: bool = True) -> CurveTable:
    """The ResNet18/CIFAR-10 run of the seed question, 200 epochs, LR /5 at 60/120/160.

    Train loss sits above val loss until the first drop (epochs 0-59); val loss is lowest
    just after epoch 60 and then rises while val accuracy slowly falls (overfitting);
    the drop at 120 improves val loss for about 4 epochs, after which val loss rises
    again while val accuracy keeps improving (loss up, accuracy up); the drop at 160
    changes little.
    """
    e = np.arange(200.0)
    phase = [e < 60, e < 120, e < 160]
    lr = np.select(phase, [0.1, 0.02, 0.004], 0.0008)
    train = np.select(phase, [0.55 + 1.5 * np.exp(-e / 8),
                              0.15 + 0.10 * np.exp(-(e - 60) / 20),
                              0.06 + 0.02 * np.exp(-(e - 120) / 10)],
                      0.035 + 0.005 * np.exp(-(e - 160) / 10))
    train = train * (1 + 0.02 * rng.standard_normal(200))
    val = np.select(phase, [0.48 + 1.4 * np.exp(-e / 8),
                            0.33 + 0.12 * np.clip(e - 63, 0, None) / 56
                            + 0.03 * np.exp(-(e - 60)),
                            0.40 + 0.12 * np.clip(e - 123, 0, None) / 36
                            + 0.03 * np.exp(-(e - 120) / 1.5)],
                    0.51 + 0.06 * (e - 160) / 40 + 0.01 * np.exp(-(e - 160)))
    val = val + np.where(e < 60, 0.02, 0.006) * rng.standard_normal(200)
    acc = np.select(phase, [0.85 - 0.55 * np.exp(-e / 8),
                            0.90 - 0.015 * np.clip(e - 64, 0, None) / 55,
                            0.915 + 0.01 * (e - 120) / 40],
                    0.927 + 0.003 * (e - 160) / 40)
    acc = acc + np.where(e < 60, 0.01, 0.002) * rng.standard_normal(200)
    columns = {"loss": train, "val_loss": val, "val_accuracy": acc}
    if with_lr:
        columns["lr"] = lr
    return table(columns)


def healthy(rng: np.random.Generator, n: int = 100, lr: str | None = "cosine") -> CurveTable:
    """Both losses fall and level off, val above train, accuracy saturates; noisy."""
    e = np.arange(float(n))
    columns = {
        "loss": 0.3 + 2.0 * np.exp(-e / 10) + 0.01 * rng.standard_normal(n),
        "val_loss": 0.45 + 1.8 * np.exp(-e / 12) + 0.02 * rng.standard_normal(n),
        "val_accuracy": 0.9 - 0.6 * np.exp(-e / 12) + 0.008 * rng.standard_normal(n),
    }
    if lr == "cosine":
        columns["lr"] = 0.05 * (1 + np.cos(np.pi * e / n))
    elif lr == "warmup":
        columns["lr"] = np.where(e < 5, 0.1 * (e + 1) / 5, 0.1 * 0.97 ** (e - 5))
    return table(columns)


def flat_wobbly(rng: np.random.Generator, n: int = 100) -> CurveTable:
    """Val loss falls, then flattens at 0.5 and wobbles (a slow sine plus noise) while
    train loss keeps falling: not overfitting."""
    e = np.arange(float(n))
    return table({
        "loss": 0.2 + 1.0 * np.exp(-e / 10) - 0.05 * e / n + 0.01 * rng.standard_normal(n),
        "val_loss": 0.5 + 1.2 * np.exp(-e / 8) + 0.015 * np.sin(e / 2.5)
        + 0.02 * rng.standard_normal(n),
        "val_accuracy": 0.8 - 0.5 * np.exp(-e / 8) + 0.01 * rng.standard_normal(n),
    })


def loss_up_acc_flat(rng: np.random.Generator, n: int = 60) -> CurveTable:
    """Ordinary overfitting: val loss is lowest at epoch 20 and rises 40% by the end
    while val accuracy stays flat and train loss keeps falling."""
    e = np.arange(float(n))
    val = 0.5 + 1.0 * np.exp(-e / 5) + 0.2 * np.clip(e - 20, 0, None) / (n - 20)
    return table({
        "loss": 0.1 + 1.2 * np.exp(-e / 8) + 0.005 * rng.standard_normal(n),
        "val_loss": val * (1 + 0.01 * rng.standard_normal(n)),
        "val_accuracy": 0.85 - 0.4 * np.exp(-e / 3) + 0.004 * rng.standard_normal(n),
    })
