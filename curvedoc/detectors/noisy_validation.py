"""`noisy-validation`: the validation curve jitters so much that its trends cannot be read.

The noise is the robust point-to-point deviation from `_stats.noise` (second
differences, which ignore the trend); the movement is the range of the smoothed curve.
Both must be large: noise above `max_ratio` of the movement (trends smaller than a
few noise widths are invisible) and above `min_noise` of the curve's level (a curve
that barely moves because it has converged has small noise too, and a big validation
set would not change it).  When the whole movement is the first epochs' fall, the
noise is small against it however noisy the rest is, so the curve is judged again
after that fall, where trends are read: there, noise above `late_ratio` of the
movement (only noise moves the curve) and clearly above `min_noise` of the level (by
the noise estimate's own 95 % margin, about 2.5/sqrt(n) for n points) is too much.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.detectors import Detector, Option
from curvedoc.detectors._format import at, num, pct
from curvedoc.detectors._stats import Curve, curve, noise, quality, smooth
from curvedoc.findings import Finding, Severity

if TYPE_CHECKING:
    from curvedoc.table import CurveTable


CODE = "noisy-validation"

DOC = """\
## What it finds
A validation curve (validation loss, else the validation score) whose epoch-to-epoch
noise is so large against its movement that its trends cannot be read: the noise is
more than `max_ratio` of the range the smoothed curve covers, and more than
`min_noise` of the curve's typical level (of the room left to perfect for an
accuracy).  The finding gives both numbers, and how much larger the validation set
would need to be to bring the noise down to `target_ratio` of the movement: the noise
of an average over n examples shrinks as 1/sqrt(n), so halving the noise takes four
times the examples.  Other findings on a curve this noisy (an overfitting onset, a
response to a learning-rate drop) are uncertain by about the noise.

Most of a curve's movement is often its first few epochs' fall, against which any
later noise looks small, although trends are read after it.  So a curve that passes
on its whole run is judged again from where its first fall ends (where the smoothed
curve first comes within two noise widths of its best level) when that later part is
at least half the run: if only noise moves it there (noise above `late_ratio` of the
later part's movement) and the noise is clearly above `min_noise` of its level (beyond
the uncertainty of a noise measured on n points: by a factor 1 + 2.5/sqrt(n), 1.35 for
50 points, so a healthy curve whose noise is just under `min_noise` is not reported by
chance), the finding
is reported with `after_fall` true and `judged_from` where that part starts, and the
size factor brings the noise down to `target_rel` of the level instead.  The finding
still covers the whole run: the validation set is the same from the first epoch on.

A curve that is flat because the model converged is not noisy: its noise is small
against its level, and a larger validation set would not make it move.  A curve that
falls for most of the run is read by its fall.

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
noise against its level, when logged), `metric_used` "val_loss" (or "score"),
`after_fall` false, `judged_from` 0.

Judged after the first fall (25 validation images): `noisy-validation` from epoch 0
on: "val_loss jitters by 0.006626 from epoch to epoch after its first fall (epoch 7
on), 7.4% of its level, while it moves only 0.02331 there: trends smaller than about
0.01325 cannot be read; a validation set about 14x larger would bring the noise to
2.0% of its level".
details: `after_fall` true, `judged_from` 7, `noise`, `movement` and `noise_ratio`
of that part, `noise_rel` 0.074, `size_factor` 14, `target_rel` 0.02 (instead of
`target_ratio`).
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
    "late_ratio": Option(0.25, "After the first fall (where trends are read): noise above "
                               "this fraction of the smoothed curve's movement there (a "
                               "movement under 4 noise widths: only noise moves it) is too "
                               "much, when it also clearly exceeds `min_noise` of the "
                               "level (by 1 + 2.5/sqrt(n) for n points)."),
    "target_rel": Option(0.02, "For a curve judged after its first fall: the noise-to-level "
                               "ratio the suggested validation-set size aims at (at 2 %, a 5 % "
                               "change stands 2.5 noise widths out)."),
}


#: For white noise of deviation s, `_stats.noise` over n points exceeds s by more than
#: about 2.5 s / sqrt(n) one time in twenty (its spread is about 1.4 s / sqrt(n)): the
#: margin by which a noise estimate must pass a threshold to be above it with 95 %
#: confidence.
_CLEAR = 2.5


@dataclass(frozen=True)
class _Noise:
    noise: float
    movement: float
    level: float  # what the noise is compared with: the typical level or room left


@dataclass(frozen=True)
class _Validation:
    curve: Curve
    role: str  # "val_loss" or "score"
    perfect: float | None  # the score's best possible value, when it has one
    worse: float  # +1 when higher values are worse (a loss), -1 when better


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    val = _validation(table)
    if val is None or len(val.curve) < options["min_points"]:
        return []
    whole = _measure(val, 0)
    first, judged = 0, whole
    if not _too_noisy(whole, options["max_ratio"], options["min_noise"]):
        first = _after_fall(val, whole.noise, int(options["min_points"]))
        judged = _measure(val, first)
        # the level test decides here, so the noise must clear it beyond its estimate's
        # own uncertainty
        clear = 1.0 + _CLEAR / math.sqrt(len(val.curve) - first)
        if first == 0 or not _too_noisy(judged, options["late_ratio"],
                                        clear * options["min_noise"]):
            return []
    ratio = judged.noise / judged.movement
    relative = judged.noise / judged.level
    details: dict[str, Any] = {
        "axis": table.x_name,
        "metric_used": val.role,
        "noise": judged.noise,
        "movement": judged.movement,
        "noise_ratio": ratio,
        "noise_rel": relative,
        "judged_from": float(val.curve.x[first]),
        "after_fall": first > 0,
    }
    if first:
        details.update(size_factor=(relative / options["target_rel"]) ** 2,
                       target_rel=options["target_rel"])
    else:
        details.update(size_factor=(ratio / options["target_ratio"]) ** 2,
                       target_ratio=options["target_ratio"])
    train = curve(table, "train_loss")
    if train is not None and len(train) >= options["min_points"]:
        level = float(np.median(np.abs(train.y)))
        if level > 0:
            details["train_noise_rel"] = noise(train.y) / level
    column = val.curve.column
    return [Finding(CODE, Severity.WARNING, float(val.curve.x[0]), None,
                    _message(details, column), column, details)]


def _too_noisy(measured: _Noise, max_ratio: float, min_noise: float) -> bool:
    """Noise above `max_ratio` of the movement and above `min_noise` of the level."""
    return (measured.movement > 0 and measured.level > 0
            and measured.noise > max_ratio * measured.movement
            and measured.noise > min_noise * measured.level)


def _validation(table: CurveTable) -> _Validation | None:
    """Validation loss, else the score; with the score's perfect value when it has one."""
    loss = curve(table, "val_loss")
    if loss is not None:
        return _Validation(loss, "val_loss", None, 1.0)
    score = quality(table)
    if score is None:
        return None
    return _Validation(score.curve, "score", score.perfect, -score.sign)


def _after_fall(val: _Validation, sigma: float, min_points: int) -> int:
    """Where the first fall (of a loss; the first rise of a score) ends: the first point at
    which the smoothed curve comes within two noise widths of its best level.  From there
    on the curve's moves are what is read (an overfitting rise, the response to a drop),
    so its readability is judged there.  0 when that part is shorter than `min_points` or
    than half the curve: a curve that falls for most of the run is read by its fall."""
    c = val.curve
    bad = val.worse * smooth(c.x, c.y)
    end = int(np.argmax(bad <= np.min(bad) + 2.0 * sigma))
    return end if len(c) - end >= max(min_points, len(c) / 2) else 0


def _measure(val: _Validation, first: int) -> _Noise:
    """Noise, movement of the smoothed curve and level, from point `first` on."""
    x, y = val.curve.x[first:], val.curve.y[first:]
    s = smooth(x, y)
    level = np.abs(y - val.perfect) if val.perfect is not None else np.abs(y)
    return _Noise(noise(y), float(np.max(s) - np.min(s)), float(np.median(level)))


def _message(d: dict[str, Any], name: str) -> str:
    axis = d["axis"]
    against = "its level" if d["metric_used"] == "val_loss" else "the room left to perfect"
    if d["after_fall"]:
        return (f"{name} jitters by {num(d['noise'])} from {axis} to {axis} after its first "
                f"fall ({at(axis, d['judged_from'])} on), {pct(d['noise_rel'])} of "
                f"{against}, while it moves only {num(d['movement'])} there: trends smaller "
                f"than about {num(2 * d['noise'])} cannot be read; a validation set about "
                f"{d['size_factor']:.2g}x larger would bring the noise to "
                f"{pct(d['target_rel'])} of {against}")
    return (f"{name} jitters by {num(d['noise'])} from {axis} to {axis}, "
            f"{pct(d['noise_ratio'])} of the {num(d['movement'])} it moves in total "
            f"({pct(d['noise_rel'])} of {against}): trends smaller than about "
            f"{num(2 * d['noise'])} cannot be read; a validation set about "
            f"{d['size_factor']:.2g}x larger would bring the noise to "
            f"{pct(d['target_ratio'])} of the movement")


def _seen(f: Finding) -> str:
    d = f.details
    if d["after_fall"]:
        text = (f"After its first fall, from {at(d['axis'], d['judged_from'])} on, where "
                f"trends such as an overfitting rise or the response to a learning-rate "
                f"drop are read, {f.metric} moves by about {num(d['noise'])} from one "
                f"logged point to the next (a robust estimate that ignores the trend), "
                f"{pct(d['noise_rel'])} of its level, while the smoothed curve spans only "
                f"{num(d['movement'])} there: nothing but the noise moves it, and any "
                f"change smaller than about twice the noise is indistinguishable from "
                f"chance.")
    else:
        text = (f"From one logged point to the next, {f.metric} moves by about "
                f"{num(d['noise'])} (a robust estimate that ignores the trend), "
                f"{pct(d['noise_ratio'])} of the {num(d['movement'])} the smoothed curve "
                f"spans over the whole run: any change smaller than about twice the noise "
                f"is indistinguishable from chance.")
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
