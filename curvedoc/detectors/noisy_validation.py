"""`noisy-validation`: the validation curve jitters so much that its trends cannot be read.

The noise is the robust point-to-point deviation from `_stats.noise` (second
differences, which ignore the trend); the movement is the range of the smoothed curve.
Both must be large: noise above `max_ratio` of the movement (trends smaller than a
few noise widths are invisible) and above `min_noise` of the curve's level (a curve
that barely moves because it has converged has small noise too, and a big validation
set would not change it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.detectors import Detector, Option
from curvedoc.detectors._format import num, pct
from curvedoc.detectors._stats import Curve, curve, noise, quality, smooth
from curvedoc.findings import Finding, Severity

if TYPE_CHECKING:
    from curvedoc.table import CurveTable


CODE = "noisy-validation"

DOC = """\
## What it finds
A validation curve (validation loss, else the validation score) whose epoch-to-epoch
noise is so large against its total movement that its trends cannot be read: the
noise is more than `max_ratio` of the range the smoothed curve covers, and more than
`min_noise` of the curve's typical level (of the room left to perfect for an
accuracy).  The finding gives both numbers, and how much larger the validation set
would need to be to bring the noise down to `target_ratio` of the movement: the noise
of an average over n examples shrinks as 1/sqrt(n), so halving the noise takes four
times the examples.  Other findings on a curve this noisy (an overfitting onset, a
response to a learning-rate drop) are uncertain by about the noise.

A curve that is flat because the model converged is not noisy: its noise is small
against its level, and a larger validation set would not make it move.

## Why it happens
The validation loss is an average over the validation examples, and so is the
accuracy (the share of them predicted right).  An average over n examples carries
sampling noise proportional to 1/sqrt(n): with 50 validation images, one image is 2%
of the accuracy, and a handful of borderline examples flipping between epochs moves
the curve by several points even when the model has not really changed.  The same
jitter comes from training itself when the learning rate is high or batches are small
(the weights at the end of each epoch differ a lot); then the training loss is jumpy
too, and a larger validation set does not help.  Stochastic evaluation (dropout left
on, random augmentation at validation time, a random subset drawn each epoch) adds
noise of its own.

## What to try
- Use a larger validation set: the factor given in the finding brings the noise to
  `target_ratio` of the curve's movement.  With little data, use k-fold
  cross-validation, or evaluate less often on more data.
- Evaluate the same checkpoint on two halves of the validation set: if they differ by
  about the noise seen here, the validation set is too small.
- Make evaluation deterministic: `model.eval()`, no augmentation except resizing, the
  same fixed validation examples every epoch.
- If the training loss jumps as much, lower the learning rate or use larger batches;
  an exponential moving average of the weights (EMA, SWA) also steadies validation.
- Read trends from a smoothed curve or a moving average over several epochs, and use a
  larger patience for early stopping on a noisy metric.

## Example
`noisy-validation` from epoch 0 on: "val_loss jitters by 0.2255 from epoch to epoch,
12% of the 1.946 it moves in total (15% of its level): trends smaller than about
0.45 cannot be read; a validation set about 5.3x larger would bring the noise to 5%
of the movement".  details: `noise` 0.2255, `movement` 1.946, `noise_ratio` 0.12,
`noise_rel` 0.15, `size_factor` 5.3, `train_noise_rel` 0.003 (the training loss's
noise against its level, when logged), `metric_used` "val_loss" (or "score").
"""

OPTIONS = {
    "min_points": Option(8, "Curves with fewer validation points than this get no finding."),
    "max_ratio": Option(0.1, "Noise above this fraction of the smoothed curve's total "
                             "movement is too much to read trends."),
    "min_noise": Option(0.05, "The noise must also exceed this fraction of the curve's "
                              "median level (for an accuracy: of its median distance from "
                              "perfect)."),
    "target_ratio": Option(0.05, "The noise-to-movement ratio the suggested validation-set "
                                 "size aims at."),
}


@dataclass(frozen=True)
class _Noise:
    noise: float
    movement: float
    level: float  # what the noise is compared with: the typical level or room left


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    found = _validation(table)
    if found is None or len(found[0]) < options["min_points"]:
        return []
    val, role, scale = found
    measured = _measure(val, scale)
    if measured.movement <= 0 or measured.level <= 0:
        return []
    ratio = measured.noise / measured.movement
    relative = measured.noise / measured.level
    if ratio <= options["max_ratio"] or relative <= options["min_noise"]:
        return []
    details: dict[str, Any] = {
        "axis": table.x_name,
        "metric_used": role,
        "noise": measured.noise,
        "movement": measured.movement,
        "noise_ratio": ratio,
        "noise_rel": relative,
        "size_factor": (ratio / options["target_ratio"]) ** 2,
        "target_ratio": options["target_ratio"],
    }
    train = curve(table, "train_loss")
    if train is not None and len(train) >= options["min_points"]:
        level = float(np.median(np.abs(train.y)))
        if level > 0:
            details["train_noise_rel"] = noise(train.y) / level
    return [Finding(CODE, Severity.WARNING, float(val.x[0]), None, _message(details, val.column),
                    val.column, details)]


def _validation(table: CurveTable) -> tuple[Curve, str, float | None] | None:
    """Validation loss, else the score; with the score's perfect value when it has one."""
    loss = curve(table, "val_loss")
    if loss is not None:
        return loss, "val_loss", None
    score = quality(table)
    if score is None:
        return None
    return score.curve, "score", score.perfect


def _measure(val: Curve, perfect: float | None) -> _Noise:
    s = smooth(val.x, val.y)
    level = np.abs(val.y - perfect) if perfect is not None else np.abs(val.y)
    return _Noise(noise(val.y), float(np.max(s) - np.min(s)), float(np.median(level)))


def _message(d: dict[str, Any], name: str) -> str:
    axis = d["axis"]
    against = "its level" if d["metric_used"] == "val_loss" else "the room left to perfect"
    return (f"{name} jitters by {num(d['noise'])} from {axis} to {axis}, "
            f"{pct(d['noise_ratio'])} of the {num(d['movement'])} it moves in total "
            f"({pct(d['noise_rel'])} of {against}): trends smaller than about "
            f"{num(2 * d['noise'])} cannot be read; a validation set about "
            f"{d['size_factor']:.2g}x larger would bring the noise to "
            f"{pct(d['target_ratio'])} of the movement")


def _seen(f: Finding) -> str:
    d = f.details
    text = (f"From one logged point to the next, {f.metric} moves by about "
            f"{num(d['noise'])} (a robust estimate that ignores the trend), "
            f"{pct(d['noise_ratio'])} of the {num(d['movement'])} the smoothed curve spans "
            f"over the whole run: any change smaller than about twice the noise is "
            f"indistinguishable from chance.")
    if "train_noise_rel" in d:
        if d["train_noise_rel"] >= d["noise_rel"] / 2:
            text += (f" The training loss is jumpy too ({pct(d['train_noise_rel'])} of its "
                     f"level), so part of the noise may come from training itself.")
        else:
            text += (f" The training loss is smooth ({pct(d['train_noise_rel'])} of its "
                     f"level), which points at the validation measurement.")
    return text


def _advice(f: Finding) -> list[str]:
    d = f.details
    tips = [
        (f"Use a validation set about {d['size_factor']:.2g}x larger (noise shrinks as "
         f"1/sqrt(n): 4x the examples halve it), or k-fold cross-validation."),
        ("Evaluate one checkpoint on two halves of the validation set: a difference near "
         f"{num(d['noise'])} confirms the set is too small."),
        "Keep evaluation deterministic: model.eval(), no random augmentation, fixed examples.",
    ]
    if d.get("train_noise_rel", 0.0) >= d["noise_rel"] / 2:
        tips.append("The training loss is as jumpy: lower the learning rate or use larger "
                    "batches, or evaluate an EMA of the weights.")
    return tips


DETECTOR = Detector(
    code=CODE,
    severity=Severity.WARNING,
    summary="the validation curve is too noisy for its trends to be read",
    doc=DOC,
    run=run,
    seen=_seen,
    advice=_advice,
    options=OPTIONS,
    needs_validation=True,
)
