"""Which curves a run's plots show: a loss panel, an accuracy/metric panel, a learning-rate
panel, each with the run's findings marked on the x axis; and for several runs compared,
one curve per run on shared panels.

Train curves and the learning rate are drawn at step level when the log has steps (the
epoch means hide the noise and a schedule's shape); validation is logged per evaluation
anyway.  Markers differ as well as colours, so curves stay apart when colour is off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from curvedoc.findings import Finding
from curvedoc.render import palette
from curvedoc.render.plot import Curve, Mark, Panel
from curvedoc.render.safe import printable
from curvedoc.table import CurveTable

__all__ = ["panels", "run_panels", "step_positions"]

#: (title, train role, val role) of the second panel, first match wins.
_METRIC_PANELS = (("accuracy", "train_acc", "val_acc"), ("metric", "train_metric", "val_metric"),
                  ("error", "train_error", "val_error"))


def panels(table: CurveTable, findings: Sequence[Finding], *, log_y: bool = False) -> list[Panel]:
    """The panels for one run; findings are labelled by their 1-based place in `findings`."""
    marks = tuple(Mark(str(number), f.start, f.end, palette.SEVERITY[f.severity])
                  for number, f in enumerate(findings, start=1))
    found: list[Panel] = []
    loss = _curves(table, "train_loss", "val_loss")
    if loss:
        found.append(Panel("loss", loss, marks, log_y=log_y, height=14))
    for title, train, val in _METRIC_PANELS:
        curves = _curves(table, train, val)
        if curves:
            found.append(Panel(title, curves, marks, height=12))
            break
    lr = _step_curve(table, "lr", palette.LR, "braille") or _curve(table, "lr", palette.LR, "braille")
    if lr:
        found.append(Panel("learning rate", (_staircase(lr),), marks, log_y=True, height=9))
    return found


def run_panels(tables: Sequence[CurveTable], labels: Sequence[str], *,
               log_y: bool = False) -> list[Panel]:
    """Runs side by side: a loss panel with every run's val loss (train loss when no run
    has one) and an accuracy/metric panel, both over the same x range.  Each run keeps
    its colour and marker on both; curves are named by `labels`."""
    spans = [(float(t.x.min()), float(t.x.max())) for t in tables if t.points]
    x_range = (min(lo for lo, _ in spans), max(hi for _, hi in spans)) if spans else None
    found: list[Panel] = []
    loss = _run_curves(tables, labels, ("val_loss", "train_loss"))
    if loss:
        found.append(Panel(loss[0], loss[1], log_y=log_y, height=14, x_range=x_range))
    for title, train, val in _METRIC_PANELS:
        metric = _run_curves(tables, labels, (val, train), title)
        if metric:
            found.append(Panel(metric[0], metric[1], height=12, x_range=x_range))
            break
    return found


def _run_curves(tables: Sequence[CurveTable], labels: Sequence[str], roles: tuple[str, ...],
                title: str = "loss") -> tuple[str, tuple[Curve, ...]] | None:
    """The title and the curves of the first role in `roles` that any run has."""
    for role in roles:
        curves = []
        for number, (table, label) in enumerate(zip(tables, labels)):
            curve = _curve(table, role, palette.RUNS[number % len(palette.RUNS)],
                           palette.RUN_MARKERS[number % len(palette.RUN_MARKERS)])
            if curve is not None:
                curves.append(replace(curve, label=label))
        if curves:
            return f"{role.split('_')[0]} {title}", tuple(curves)
    return None


def _curves(table: CurveTable, train_role: str, val_role: str) -> tuple[Curve, ...]:
    """Step-level train (faint, drawn first), train per x, val per x: those the log has."""
    steps = _step_curve(table, train_role, palette.STEP, "·")
    train = _curve(table, train_role, palette.TRAIN, "braille")
    if steps and train and steps.label == f"{train.label} per step":
        train = replace(train, label=f"{train.label} {table.x_name} mean")
    found = [steps, train, _curve(table, val_role, palette.VAL, "hd")]
    return tuple(c for c in found if c is not None)


def _curve(table: CurveTable, role: str, color: int, marker: str) -> Curve | None:
    series = table.series(role)
    if series is None:
        return None
    return Curve(printable(str(series.name)), series.index.to_numpy(dtype=float),
                 series.to_numpy(dtype=float), color, marker)


def _step_curve(table: CurveTable, role: str, color: int, marker: str) -> Curve | None:
    """The role's densest step-level column, when it has clearly more points than the
    epoch-level curve (else it would only repeat it)."""
    if table.steps is None or table.steps_x is None:
        return None
    columns = [c for c in table.columns(role) if c in table.steps]
    if not columns:
        return None
    column = max(columns, key=lambda c: int(table.steps[c].notna().sum()))
    values = table.steps[column].to_numpy(dtype=float)
    known = np.isfinite(values)
    epoch_level = table.series(role)
    if known.sum() < 1.5 * (0 if epoch_level is None else len(epoch_level)) or known.sum() < 2:
        return None
    x = step_positions(table.steps.index.to_numpy(dtype=float), table.steps_x, table.x_name)
    order = np.argsort(x[known], kind="stable")
    label = f"{printable(column)} per step"
    return Curve(label, x[known][order], values[known][order], color, marker)


def step_positions(steps: np.ndarray, row_x: np.ndarray, x_name: str) -> np.ndarray:
    """Where each step-level row goes on the table's x axis.

    On a step axis, and with fractional epochs (Hugging Face writes the exact epoch of each
    record), the row's own x is exact.  With whole epochs (Lightning), every row of epoch
    e says "e"; its steps are spread over (e - 1, e], since the epoch-level point at e is
    written when epoch e ends: the last step of each epoch is the anchor.
    """
    if x_name == "step" or not np.all(np.mod(row_x, 1) == 0):
        return row_x.astype(float)
    epochs = np.unique(row_x)
    ends = np.array([steps[row_x == e].max() for e in epochs])
    if len(epochs) < 2 or np.any(np.diff(ends) <= 0):
        return row_x.astype(float)
    anchors_step = np.r_[ends[0] - (ends[1] - ends[0]), ends]
    anchors_x = np.r_[epochs[0] - 1, epochs]
    return np.interp(steps, anchors_step, anchors_x)


def _staircase(curve: Curve) -> Curve:
    return replace(curve, staircase=True)
