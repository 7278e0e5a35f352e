"""A small, predictable run for the report tests: val loss bottoms out at epoch 12 and
rises after it; the learning rate drops tenfold at epoch 20."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from curvedoc.engine import Report, RunReport, diagnose_table
from curvedoc.table import CurveTable, RawRun, build

EPOCHS = 30


def frame(val_loss_name: str = "val_loss") -> pd.DataFrame:
    epoch = np.arange(EPOCHS)
    val = 0.4 + 0.004 * (epoch - 12) ** 2
    return pd.DataFrame({
        "epoch": epoch,
        "loss": 1.5 * np.exp(-epoch / 8) + 0.1,
        val_loss_name: val,
        "accuracy": 0.5 + 0.015 * epoch,
        "val_accuracy": 0.55 + 0.01 * np.minimum(epoch, 15),
        "lr": np.where(epoch < 20, 1e-3, 1e-4),
    })


def table(source: str = "run.csv", val_loss_name: str = "val_loss") -> CurveTable:
    (built,) = build(RawRun(frame(val_loss_name), source, "keras-csv", epoch="epoch"))
    return built


def report(*tables: CurveTable) -> Report:
    return Report(runs=[RunReport(t, diagnose_table(t)) for t in tables or (table(),)])


def write_csv(path: Path, val_loss_name: str = "val_loss") -> Path:
    frame(val_loss_name).to_csv(path, index=False)
    return path
