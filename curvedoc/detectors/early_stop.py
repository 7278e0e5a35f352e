"""`early-stop`: the best checkpoint, and what early stopping would have done.

A replay of Keras' `EarlyStopping` (and Hugging Face's `EarlyStoppingCallback`, which
counts the same way) over the logged validation curve: a point improves on the best
so far when it is better by more than `min_delta`; training stops at the first point
`patience` points after the last improvement.  Reported only when that stop comes
before the end of the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.detectors import Detector, Option
from curvedoc.detectors._format import at, num, pct
from curvedoc.detectors._stats import Curve, curve, quality, schedule_drops
from curvedoc.engine import MIN_POINTS_OPTION
from curvedoc.findings import Finding, Severity

if TYPE_CHECKING:
    from curvedoc.table import CurveTable


CODE = "early-stop"

#: A fall of the learning rate by this much, unexplained by a smooth decay, is a step
#: (the `lr-drop` default).
_LR_DROP = 0.2

DOC = """\
## What it finds
The best checkpoint of the run by its main validation metric (validation loss, as
Keras' `EarlyStopping` and Hugging Face's `metric_for_best_model` default to; the
validation score when there is no validation loss, when the loss is only the sum of
its parts as in detection logs, whose frameworks select checkpoints by mAP, or with
`monitor_score` = 1), and
what `EarlyStopping(patience=P)` would have done on this log: the point where it would
have stopped, how many logged points and epochs that saves, and the value lost, which
is the difference between the best value of the whole run and the best value seen
before the stop (0 when the run's best came before the stop, as it does when the run
went on long past its best).  Reported only when early stopping would have stopped
before the end of the log, saving at least `min_saved` of the logged points; patience
counts logged validation points, as both callbacks count evaluations; a point the log
wrote as NaN or infinity is one without improvement, as it is to them.

The severity is info: the finding says what was left on the table, not that something
is wrong.  A run still improving slowly also gets it, with the value lost: that tells
how much patience the run needed.

## Why it happens
Validation performance usually improves quickly, levels off, and then stays flat or
gets worse as the model starts to overfit.  Every epoch after the best one costs time
and, without checkpointing, leaves you with a worse final model.  Early stopping
watches the validation metric and stops once it has not improved for `patience`
evaluations; with `restore_best_weights=True` (Keras) or `load_best_model_at_end=True`
(Hugging Face) you keep the best checkpoint rather than the last one.  Validation
curves are noisy, so a small patience stops on a random dip, while a large patience
wastes compute: the value lost at a given patience shows which way this run leans.

## What to try
- Keep the checkpoint from the best point: Keras `ModelCheckpoint(save_best_only=True)`
  or `EarlyStopping(restore_best_weights=True)`, Lightning
  `ModelCheckpoint(monitor="val_loss")`, Hugging Face `load_best_model_at_end=True`.
- Add early stopping with the patience given here: Keras
  `EarlyStopping(monitor="val_loss", patience=P, restore_best_weights=True)`,
  Lightning `EarlyStopping(monitor="val_loss", patience=P)`, Hugging Face
  `EarlyStoppingCallback(early_stopping_patience=P)`.
- If the value lost is not negligible, the run was still improving: raise the
  patience (or `min_delta` lower), or use a learning-rate schedule that settles.
- Select and stop on the metric you report: loss and accuracy can peak at different
  epochs (see `loss-acc-divergence`).

## Example
`early-stop` at epoch 31: "EarlyStopping(patience=10) on val_loss would have stopped at
epoch 31, 10 epochs after the best val_loss so far 0.5167 (epoch 21), saving 28 of 60
logged points (47%) at no cost: the best of the whole run came before the stop".
details: `monitor` "val_loss", `mode` "min", `patience` 10, `min_delta` 0, `stop_x` 31,
`best_x` 21, `best_value` 0.5167, `best_before_stop_x` 21, `best_before_stop_value`
0.5167, `value_lost` 0, `value_lost_rel` 0, `points` 60, `points_saved` 28, `x_saved`
28, `share_saved` 0.47; with a validation score beside the loss `score_metric`,
`score_at_stop_best` (the score at the checkpoint early stopping keeps) and
`score_best` (the best score of the run); with a learning rate that stepped down
between the stop and the run's best point, `lr_drop_x` (the first step; smooth decays
are not steps).
"""

OPTIONS = {
    "min_points": MIN_POINTS_OPTION,
    "patience": Option(10, "EarlyStopping's patience: logged validation points without "
                           "improvement before it stops."),
    "min_delta": Option(0.0, "EarlyStopping's min_delta: an improvement must beat the best "
                             "so far by more than this (in the metric's units)."),
    "monitor_score": Option(0, "1 to watch the validation score (accuracy, mAP, WER) instead "
                               "of the validation loss."),
    "min_saved": Option(0.1, "Report only when stopping would have saved at least this share "
                             "of the logged validation points (0.1 = 10%)."),
}


@dataclass(frozen=True)
class _Monitor:
    """The curve early stopping watches, with `sign * y` lower-is-better."""

    curve: Curve
    sign: float

    @property
    def mode(self) -> str:
        return "min" if self.sign > 0 else "max"

    @property
    def lower(self) -> np.ndarray:
        """The curve lower-is-better, a NaN or infinity as +inf: never an improvement."""
        y = self.sign * self.curve.y
        return np.where(np.isfinite(y), y, np.inf)


def _with_nonfinite(table: CurveTable, c: Curve) -> Curve:
    """The curve with the points where the log wrote NaN or an infinity put back (as NaN).

    `curve` drops them, but Keras' `EarlyStopping` sees them: a NaN is never below the
    best so far, so such an epoch counts towards the patience like any epoch without
    improvement, and a run whose validation loss became NaN is stopped `patience` epochs
    after its last improvement.  Dropping them instead would shorten the curve and hide
    the stop (or move it past the NaN epochs)."""
    bad = np.asarray(table.nonfinite.get(c.column, []), dtype=float)
    bad = bad[~np.isin(bad, c.x)]
    if not len(bad):
        return c
    x = np.concatenate([c.x, bad])
    order = np.argsort(x, kind="stable")
    return Curve(c.column, x[order], np.concatenate([c.y, np.full(len(bad), np.nan)])[order])


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    monitor = _monitor(table, bool(options["monitor_score"]))
    if monitor is None or len(monitor.curve) < options["min_points"]:
        return []
    monitor = _Monitor(_with_nonfinite(table, monitor.curve), monitor.sign)
    y = monitor.lower
    stop, kept = _replay(y, int(options["patience"]), options["min_delta"])
    if stop is None or len(y) - 1 - stop < max(1.0, options["min_saved"] * len(y)):
        return []
    return [_finding(table, monitor, stop, kept, options)]


def _monitor(table: CurveTable, prefer_score: bool) -> _Monitor | None:
    """Validation loss, or the score when asked, when there is no loss, or when the loss
    is a total curvedoc summed from parts (detection logs: YOLO, detectron2 and MMDetection
    select checkpoints by mAP)."""
    loss = curve(table, "val_loss", reduce=False)
    score = quality(table)
    summed = loss is not None and table.metrics[loss.column].derived
    if score is not None and (prefer_score or loss is None or summed):
        full = curve(table, table.metrics[score.curve.column].role.name, reduce=False)
        return _Monitor(full if full is not None else score.curve, -score.sign)
    return _Monitor(loss, 1.0) if loss is not None else None


def _replay(y: np.ndarray, patience: int, min_delta: float) -> tuple[int | None, int]:
    """(index where early stopping stops, or None; index of the best point before it)
    for a lower-is-better curve.  Each round looks only `patience` points ahead of the
    best so far, so a long curve costs patience-sized steps, never a scan per point."""
    wait = max(patience, 1)
    best = 0
    while True:
        ahead = np.flatnonzero(y[best + 1:best + 1 + wait] < y[best] - min_delta)
        if len(ahead) == 0:
            stop = best + wait
            return (stop if stop < len(y) else None), best
        best += int(ahead[0]) + 1


def _finding(table: CurveTable, monitor: _Monitor, stop: int, kept: int,
             options: Mapping[str, float]) -> Finding:
    c = monitor.curve
    x, y = c.x, c.y
    lower = monitor.lower
    best = int(np.argmin(lower))
    lost = float(lower[kept] - lower[best])
    details: dict[str, Any] = {
        "axis": table.x_name,
        "monitor": c.column,
        "mode": monitor.mode,
        "patience": int(options["patience"]),
        "min_delta": options["min_delta"],
        "stop_x": float(x[stop]),
        "best_x": float(x[best]),
        "best_value": float(y[best]),
        "best_before_stop_x": float(x[kept]),
        "best_before_stop_value": float(y[kept]),
        "value_lost": lost,
        "value_lost_rel": lost / abs(float(y[best])) if y[best] else None,
        "points": len(x),
        "points_saved": len(x) - 1 - stop,
        "x_saved": float(x[-1] - x[stop]),
        "share_saved": (len(x) - 1 - stop) / len(x),
    }
    details.update(_score_at(table, monitor, x[kept]))
    if best > stop:
        dropped = _lr_drop(table, float(x[stop]), float(x[best]))
        if dropped is not None:
            details["lr_drop_x"] = dropped
    return Finding(CODE, Severity.INFO, float(x[stop]), float(x[stop]), _message(details),
                   c.column, details)


def _score_at(table: CurveTable, monitor: _Monitor, x_kept: float) -> dict[str, Any]:
    """When early stopping watches the loss: the score at the checkpoint it keeps and
    the best score of the run, so a user choosing by accuracy sees what changes."""
    score = quality(table)
    if score is None or score.curve.column == monitor.curve.column:
        return {}
    c = score.curve
    at_kept = c.y[c.x == x_kept]
    if len(at_kept) == 0:
        return {}
    best = c.y[int(np.argmax(score.sign * c.y))]
    return {"score_metric": c.column, "score_at_stop_best": float(at_kept[0]),
            "score_best": float(best)}


def _lr_drop(table: CurveTable, x0: float, x1: float) -> float | None:
    """The first step down of the learning rate after `x0`, by `x1`: a step schedule
    that early stopping cut off before it could help (smooth decays are not steps)."""
    lr = curve(table, "lr", reduce=False)
    if lr is None:
        return None
    steps = [lr.x[i] for i in schedule_drops(lr.x, lr.y, _LR_DROP) if x0 < lr.x[i] <= x1]
    return float(steps[0]) if steps else None


def _message(d: dict[str, Any]) -> str:
    axis = d["axis"]
    name = d["monitor"]
    wait = d["patience"]
    unit = f"{axis}s" if axis == "epoch" else "points"
    text = (f"EarlyStopping(patience={wait}) on {name} would have stopped at "
            f"{at(axis, d['stop_x'])}, {wait} {unit} after the best {name} so far "
            f"{num(d['best_before_stop_value'])} ({at(axis, d['best_before_stop_x'])}), "
            f"saving {d['points_saved']} of {d['points']} logged points ({pct(d['share_saved'])})")
    if d["value_lost"] <= 0:
        return text + " at no cost: the best of the whole run came before the stop"
    rel = f" ({pct(d['value_lost_rel'])})" if d["value_lost_rel"] is not None else ""
    text += (f" and losing {num(d['value_lost'])}{rel}: the run's best {name} "
             f"{num(d['best_value'])} came later, at {at(axis, d['best_x'])}")
    if "lr_drop_x" in d:
        text += f", after a learning-rate drop at {at(axis, d['lr_drop_x'])}"
    return text


def _seen(f: Finding) -> str:
    d = f.details
    axis = d["axis"]
    better = "lowest" if d["mode"] == "min" else "highest"
    text = (f"The {better} {f.metric} of the run was {num(d['best_value'])} at "
            f"{at(axis, d['best_x'])}. Replaying EarlyStopping(patience={d['patience']}, "
            f"min_delta={num(d['min_delta'])}) on the logged values, the last improvement "
            f"before it stops is at {at(axis, d['best_before_stop_x'])} "
            f"({num(d['best_before_stop_value'])}) and it stops at {at(axis, d['stop_x'])}, "
            f"{num(d['x_saved'])} {axis}s before the log ends.")
    if d["value_lost"] > 0:
        text += (f" Stopping there gives up {num(d['value_lost'])} of {f.metric}: the run "
                 f"was still improving, slowly.")
    if "score_metric" in d:
        text += (f" {d['score_metric']} at the kept checkpoint: "
                 f"{num(d['score_at_stop_best'])} (best of the run "
                 f"{num(d['score_best'])}).")
    return text


def _advice(f: Finding) -> list[str]:
    d = f.details
    axis = d["axis"]
    mode = d["mode"]
    tips = [
        (f"Keep the checkpoint from {at(axis, d['best_x'])} ({f.metric} "
         f"{num(d['best_value'])}): ModelCheckpoint(monitor='{f.metric}', mode='{mode}', "
         f"save_best_only=True), or load_best_model_at_end=True with Hugging Face."),
        (f"EarlyStopping(monitor='{f.metric}', mode='{mode}', patience={d['patience']}, "
         f"restore_best_weights=True) would have ended this run at {at(axis, d['stop_x'])}."),
    ]
    if "lr_drop_x" in d:
        tips.append(f"Early stopping would have ended the run before the learning-rate drop "
                    f"at {at(axis, d['lr_drop_x'])} that gave the best {f.metric}: with a step "
                    f"schedule, start counting after the last drop (Keras "
                    f"EarlyStopping(start_from_epoch=...)), or let ReduceLROnPlateau drop "
                    f"the rate before early stopping gives up.")
    elif d["value_lost"] > 0:
        tips.append(f"At this patience {num(d['value_lost'])} of {f.metric} is lost: raise "
                    f"the patience if that matters, or let a learning-rate schedule settle "
                    f"the curve first.")
    return tips


DETECTOR = Detector(
    code=CODE,
    severity=Severity.INFO,
    summary="the best checkpoint, and where EarlyStopping(patience) would have stopped",
    doc=DOC,
    run=run,
    seen=_seen,
    advice=_advice,
    options=OPTIONS,
    needs_validation=True,
)
