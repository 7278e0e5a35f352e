"""Constructed learning curves with deterministic noise, for the detector tests.

Each builder returns a CurveTable built the way a reader's output would be, so the
tests exercise the same path as real logs.  Shapes are stated in each docstring.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from curvedoc.detectors import get_detector
from curvedoc.findings import Finding
from curvedoc.table import LOGGED_NAN, CurveTable, RawRun, build

__all__ = ["detect", "diverging", "flat_wobbly", "healthy", "loss_up_acc_flat", "same_data",
           "seed_run", "slow_start", "small_val", "spiky", "stuck", "table"]


def table(columns: dict[str, np.ndarray], x: np.ndarray | None = None,
          axis: str = "epoch") -> CurveTable:
    """One run from columns named as a Keras CSVLogger would name them."""
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame({axis: np.arange(n) if x is None else x, **columns})
    raw = RawRun(frame, "synthetic.csv", "test", **{axis: axis})
    (built,) = build(raw)
    return built


def detect(code: str, run_table: CurveTable, **options: float) -> list[Finding]:
    """One detector's findings on a table, with some options changed."""
    detector = get_detector(code)
    assert detector is not None, code
    return detector.run(run_table, detector.options_with(options))


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


def diverging(rng: np.random.Generator, n: int = 60, at: int = 40,
              nan_from: int | None = None) -> CurveTable:
    """A healthy fall with 1% noise until epoch `at`, then the loss grows 3x per epoch;
    from `nan_from` on the log writes `nan` (as a CSV cell would hold it)."""
    e = np.arange(float(n))
    loss = (0.3 + 2.0 * np.exp(-e / 8)) * (1 + 0.01 * rng.standard_normal(n))
    loss = np.where(e >= at, loss * 3.0 ** (e - at + 1), loss)
    written = loss.astype(object)
    if nan_from is not None:
        written[nan_from:] = LOGGED_NAN
    return table({"loss": written,
                  "val_loss": 0.4 + 2.0 * np.exp(-e / 8) + 0.01 * rng.standard_normal(n)})


def spiky(rng: np.random.Generator, n: int = 80) -> CurveTable:
    """A healthy fall with 1% noise and five one- or two-epoch spikes (1.3x-2.5x)."""
    e = np.arange(float(n))
    loss = (0.4 + 2.0 * np.exp(-e / 10)) * (1 + 0.01 * rng.standard_normal(n))
    for epoch, factor in ((20, 2.0), (35, 1.6), (36, 1.3), (50, 2.5), (66, 1.8)):
        loss[epoch] *= factor
    return table({"loss": loss, "val_loss": 0.5 + 2.0 * np.exp(-e / 10)
                  + 0.01 * rng.standard_normal(n)})


def slow_start(rng: np.random.Generator, n: int = 80, stall: int = 25,
               warmup: bool = False) -> CurveTable:
    """A 10-class classifier stuck at the guessing loss ln(10) = 2.303 for `stall`
    epochs, then learning; with `warmup`, the logged learning rate rises 20x over the
    stall (a warm-up, which explains it)."""
    e = np.arange(float(n))
    after = np.clip(e - stall, 0, None)
    loss = 0.3 + 2.0 * np.exp(-after / 8) * (1 - 0.02 * (e < stall) * e / stall)
    columns = {
        "loss": loss * (1 + 0.005 * rng.standard_normal(n)),
        "val_loss": (0.4 + 1.9 * np.exp(-after / 8)) * (1 + 0.01 * rng.standard_normal(n)),
        "val_accuracy": 0.9 - 0.8 * np.exp(-after / 8) + 0.005 * rng.standard_normal(n),
    }
    if warmup:
        columns["lr"] = np.where(e < stall, 1e-4 * 20 ** (e / stall), 2e-3)
    return table(columns)


def stuck(rng: np.random.Generator, n: int = 50) -> CurveTable:
    """A run that never learns: both losses at ln(10) with noise, accuracy at chance."""
    return table({
        "loss": 2.303 + 0.01 * rng.standard_normal(n),
        "val_loss": 2.305 + 0.02 * rng.standard_normal(n),
        "val_accuracy": 0.1 + 0.01 * rng.standard_normal(n),
        "lr": np.full(n, 1e-6),
    })


def same_data(rng: np.random.Generator, n: int = 40, val_factor: float = 1.0) -> CurveTable:
    """Training and validation on the same data: train loss is the average over each
    epoch of a loss falling exponentially (so it lags by half an epoch), val loss is that
    loss at the end of the epoch times `val_factor` (1.3: evaluation mode 30% worse)."""
    e = np.arange(1.0, n + 1)
    tau = 6.0
    end_of_epoch = 0.2 + 2.0 * np.exp(-e / tau)
    epoch_mean = 0.2 + 2.0 * tau * (np.exp(-(e - 1) / tau) - np.exp(-e / tau))
    return table({"loss": epoch_mean * (1 + 0.005 * rng.standard_normal(n)),
                  "val_loss": val_factor * end_of_epoch * (1 + 0.005 * rng.standard_normal(n))},
                 x=e)


def fast_fall(rng: np.random.Generator, examples: int, n: int = 40) -> CurveTable:
    """A validation loss that falls from about 1.1 to 0.08 within five epochs, each
    epoch's value the mean of `examples` per-example losses (as `small_val`): its whole
    movement is the first fall, so its noise is a percent or two of that movement,
    whatever the size of the validation set."""
    e = np.arange(float(n))
    true = 0.08 + np.exp(-e / 1.5)
    val = rng.exponential(true[:, None], size=(n, examples)).mean(axis=1)
    return table({"loss": 0.05 + np.exp(-e / 1.5) + 0.001 * rng.standard_normal(n),
                  "val_loss": val})


def small_val(rng: np.random.Generator, n: int = 60, examples: int = 40) -> CurveTable:
    """Validation loss measured on `examples` examples: each epoch's value is the mean
    of that many per-example losses (exponential, mean on the true curve), so its noise
    is about the level / sqrt(examples); training loss is smooth."""
    e = np.arange(float(n))
    true = 0.8 + 0.8 * np.exp(-e / 10)
    val = rng.exponential(true[:, None], size=(n, examples)).mean(axis=1)
    return table({"loss": 0.6 + 0.8 * np.exp(-e / 10) + 0.005 * rng.standard_normal(n),
                  "val_loss": val})
