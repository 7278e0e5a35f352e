"""`overfitting`: validation loss rises persistently after its minimum while training loss
keeps falling.

The start of the finding is the checkpoint worth keeping (the validation minimum).  A
rise counts only when it is (a) larger than the noise of the smoothed curve and than a
relative margin (Prechelt's generalisation loss), (b) persistent by a Mann-Kendall
test, and, fitted as a line, larger than its own standard error over its length, and
(c) accompanied by a falling training loss.  Accuracy does not decide: a rise during
which validation accuracy still improves is overfitting too, and the finding says so
(`loss-acc-divergence` explains it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.detectors import Detector, Option
from curvedoc.detectors._format import at, num, pct
from curvedoc.detectors._stats import (
    Curve,
    Score,
    aligned,
    change_error,
    curve,
    default_window,
    improvement,
    level_error,
    noise,
    noise_after,
    onset,
    quality,
    smooth,
    trend,
)
from curvedoc.engine import MIN_POINTS_OPTION
from curvedoc.findings import Finding, Severity

if TYPE_CHECKING:
    from curvedoc.table import CurveTable


CODE = "overfitting"

DOC = """\
## What it finds
Validation loss reached its lowest value and then rose persistently while training loss
kept falling: the model has started to learn the training set rather than the task.
The finding starts at the validation minimum (the checkpoint worth keeping) and ends
when the rise is reversed (often by a learning-rate drop), all the way (`fell_back`
"fully") or part of the way (`fell_back` "partly"); an open end means the run is still
overfitting when the log stops.  Logs without validation loss but with validation
accuracy are judged on accuracy (a peak followed by a persistent fall), and the
finding says so in `metric_used`.

Single-epoch comparisons cry wolf on noisy curves, so the smoothed rise must be larger
than the noise of smoothed levels and than `min_rise` of the minimum, last at least
`min_epochs` points, and, leaving out the minimum itself (it was picked for being
low), pass a Mann-Kendall trend test and exceed `noise_k` standard errors of the change
a straight line fitted to it implies.  A long steady rise therefore counts even when it
is small next to the jitter of single epochs, and a few epochs up (a wobble about to
turn) only when large.  A validation loss that merely flattens and wobbles is not
overfitting.

Accuracy does not enter the decision: the definition is about the losses.  When the
validation score (accuracy, mAP, WER...) still clearly improves while the loss rises,
the finding says so (`score_improved`, with the score at the loss minimum and its best
later) and `loss-acc-divergence` reports the same span: the model gets more answers
right while the wrong ones grow more confident.

## Why it happens
Training loss measures how well the model fits the examples it learns from; validation
loss measures how well that fit carries over to new data.  Once the model has learned
the patterns that generalise, the cheapest way to keep lowering the training loss is to
memorise particulars of the training examples (noise, rare cases, label errors).  That
lowers the training loss but makes predictions on new data worse and more confidently
wrong, so validation loss rises.  The difference between the two, the generalisation
gap, widens.  It comes sooner with a large model on a small data set, weak
regularisation, little augmentation, or many epochs at a small learning rate.

## What to try
- Keep the checkpoint from the epoch the finding starts at (the validation minimum);
  with Keras, `ModelCheckpoint(save_best_only=True)` or
  `EarlyStopping(restore_best_weights=True)` do this.
- But when validation accuracy (or your target metric) still improved after the loss
  minimum (`score_improved`), stopping there gives that improvement away: keep the
  checkpoint by the metric you report, early-stop on it, and calibrate that checkpoint
  (temperature scaling) if you need sensible probabilities.
- Stop earlier: early stopping on validation loss with the patience this run needed
  to show the rise (given in the advice) stops soon after the minimum.
- Regularise more: stronger weight decay, more dropout, more data augmentation,
  label smoothing, or a smaller model.
- Get more (or more varied) training data.

## Example
`overfitting` from epoch 62 on: "val_loss rose 71% after its minimum 0.3277 at epoch 62
(smoothed 0.3337 -> 0.5715) while train loss kept falling; val_accuracy still improved
(0.893 -> 0.9287 at epoch 168): the wrong answers grew more confident (see
loss-acc-divergence)".  details: `best_x` 62, `best_value` 0.3277 (the logged minimum),
`level_at_best` 0.3337, `value_now` 0.5715 and `level_at_end` 0.5715 (smoothed),
`rise` 0.238, `rise_rel` 0.71, `train_change` -0.21, `detected_x` 74, `patience` 12,
`ongoing` true, `fell_back` null, `gap_at_best` 0.08, `gap_at_end` 0.54,
`gap_widening_from` 0, `metric_used` "val_loss", `score_metric` "val_accuracy",
`score_higher_is_better` true, `score_at_min` 0.893, `score_best` 0.9287,
`score_best_x` 168, `score_end` 0.9281, `score_improved` true.  An ended finding also
has `peak_x`; a log without a validation score has no `score_*` keys.
"""

OPTIONS = {
    "min_points": MIN_POINTS_OPTION,
    "min_rise": Option(0.05, "Smallest rise above the minimum that counts, relative to the "
                             "minimum (0.05 = Prechelt's GL5, 5%)."),
    "noise_k": Option(3.0, "The smoothed rise must also exceed this many standard errors "
                           "of a difference of smoothed levels, and the change a line "
                           "fitted to the rise implies this many of its standard errors "
                           "(both from the curve's point-to-point jitter from the minimum "
                           "on)."),
    "alpha": Option(0.05, "Mann-Kendall p-value below which the rise counts as persistent."),
    "min_epochs": Option(3, "The rise must span at least this many logged points after "
                            "the minimum."),
    "min_gain": Option(0.05, "The validation score counts as still improving during the "
                             "rise (`score_improved`) when it gains this fraction of the "
                             "room it had left, beyond noise and by a trend test."),
}


@dataclass(frozen=True)
class _Val:
    """The validation curve in loss form (lower is better), with how to show it."""

    curve: Curve  # accuracy is turned into an error rate: unit - accuracy
    role: str
    unit: float | None  # set when the curve is an accuracy turned into an error

    def shown(self, value: float) -> float:
        return self.unit - value if self.unit is not None else value


def _val_curve(table: CurveTable) -> tuple[_Val, Curve | None] | None:
    """The validation curve to judge and the matching training curve (same kind)."""
    loss = curve(table, "val_loss")
    if loss is not None:
        return _Val(loss, "val_loss", None), curve(table, "train_loss")
    acc = curve(table, "val_acc")
    if acc is None:
        return None
    unit = 100.0 if float(np.nanmax(acc.y)) > 1.0 else 1.0
    train = curve(table, "train_acc")
    if train is not None:
        train = Curve(train.column, train.x, unit - train.y)
    return _Val(Curve(acc.column, acc.x, unit - acc.y), "val_acc", unit), train


@dataclass(frozen=True)
class _Rise:
    """Indices of one rise: the logged minimum, the smoothed minimum, where the rise
    became clear, its top, and the last point before it came back (the log's last when it
    did not); `fell_back` is "fully" (back to the minimum), "partly" (clearly below its
    top at the end of the log, as after a learning-rate drop) or None (still rising, or
    still high, when the log ends)."""

    start: int
    low: int
    cross: int
    top: int
    last: int
    fell_back: str | None


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    found = _val_curve(table)
    if found is None or len(found[0].curve) < options["min_points"]:
        return []
    val, train = found
    score = quality(table) if val.unit is None else None
    x, y = val.curve.x, val.curve.y
    s = smooth(x, y)

    def threshold(i: int) -> float:
        return max(options["noise_k"] * level_error(noise_after(y, i), len(y)),
                   options["min_rise"] * abs(s[i]))

    findings = []
    for excursion in _excursions(s, threshold):
        rise = _rise(x, y, s, excursion, threshold, options)
        if rise is None:
            continue
        # training loss must fall over the whole time validation loss stays risen
        train_change = None if train is None else _train_change(train, x[rise.start],
                                                                x[rise.last])
        if train is not None and train_change is None:
            continue
        course = (None if score is None
                  else _score_course(score, x[rise.start], x[rise.top], options))
        findings.append(_finding(table, val, train, rise, s, train_change, course))
    return findings


def _rise(x: np.ndarray, y: np.ndarray, s: np.ndarray,
          excursion: tuple[int, int, int, int | None], threshold: Callable[[int], float],
          options: Mapping[str, float]) -> _Rise | None:
    """One excursion above the running minimum judged as a rise, or None when it is too
    short, no longer clear at the end of the log, a slow wander, or not persistent."""
    lo, low, cross, ret = excursion
    last = len(y) - 1 if ret is None else ret - 1
    # the checkpoint worth keeping: the lowest logged value where the smoothed curve is
    # lowest, not a lucky dip anywhere on a flat bottom
    reach = default_window(len(y)) // 2
    first = max(lo, low - reach)
    start = first + int(np.argmin(y[first:min(last, low + reach) + 1]))
    peak = start + int(np.argmax(s[start:last + 1]))
    if peak - start < options["min_epochs"]:
        return None
    if ret is None and s[-1] - s[low] <= threshold(low):
        return None  # risen once, but no longer clearly above the minimum at the end
    if ret is not None and ret - peak > max(options["min_epochs"], (peak - start) / 4):
        return None  # came back about as slowly as it rose: a wander, not a reversed overfit
    # persistent (Mann-Kendall) and, fitted as a line, larger than noise over its length:
    # a long steady rise counts even when small next to single-point jitter, a few points
    # up (a wobble about to turn) only when large.  The minimum itself is left out: it
    # was picked for being low, so it would favour a rise.
    rx, ry = x[start + 1:peak + 1], y[start + 1:peak + 1]
    rising = trend(rx, ry)
    if (rising.p_up >= options["alpha"]
            or rising.change(rx) <= options["noise_k"] * change_error(rx, noise_after(y, start))):
        return None
    # still high when the log ends, or came back down (often after a learning-rate drop):
    # all the way to the minimum, or clearly below the top but not that far
    if ret is not None:
        top, fell_back = peak, "fully"
    elif s[peak] - s[-1] > threshold(peak):
        top, fell_back = peak, "partly"
    else:
        top, fell_back = last, None
    return _Rise(start, low, max(cross, start + 1), top, last, fell_back)


def _excursions(s: np.ndarray,
                threshold: Callable[[int], float]) -> list[tuple[int, int, int, int | None]]:
    """Spans where the smoothed curve climbs clearly above its running minimum.

    Returns (first index of the stretch holding the minimum, index of the smoothed
    minimum, index where the rise became clear, index where the curve came back to within
    half the threshold, or None).
    """
    found: list[tuple[int, int, int, int | None]] = []
    lo = best = 0
    k = 1
    while k < len(s):
        if s[k] <= s[best]:
            best = k
        elif s[k] - s[best] > threshold(best):
            back = np.flatnonzero(s[k:] <= s[best] + threshold(best) / 2)
            ret = k + int(back[0]) if len(back) else None
            found.append((lo, best, k, ret))
            if ret is None:
                break
            lo = best = k = ret
        k += 1
    return found


def _train_change(train: Curve, x0: float, x1: float) -> float | None:
    """Theil-Sen change of the training curve over [x0, x1] when it fell by more than its
    noise there, else None (a flat training curve means something other than
    overfitting)."""
    inside = (train.x >= x0) & (train.x <= x1)
    if inside.sum() < 3:
        return None
    tx, ty = train.x[inside], train.y[inside]
    change = trend(tx, ty).change(tx)
    return change if change < -noise(ty) else None


def _score_course(score: Score, x0: float, x1: float,
                  options: Mapping[str, float]) -> dict[str, Any] | None:
    """How the validation score (accuracy, mAP, WER...) moved while the loss rose: its
    smoothed level at the loss minimum, at the end of the rise, its best level in
    between and whether that was a clear improvement.  Accuracy does not decide whether
    the model overfits (the loss does), but it decides which checkpoint to keep: when it
    still improved, stopping at the loss minimum would give that improvement away."""
    found = score.curve
    inside = (found.x >= x0) & (found.x <= x1)
    if inside.sum() < 3:
        return None
    sx, level = found.x[inside], smooth(found.x, found.y)[inside]
    best = int(np.argmax(score.sign * level))
    improved = best > 0 and improvement(
        score, float(sx[0]), float(sx[best]), alpha=options["alpha"],
        noise_k=options["noise_k"], min_gain=options["min_gain"]) is not None
    return {
        "score_metric": found.column,
        "score_higher_is_better": score.sign > 0,
        "score_at_min": float(level[0]),
        "score_best": float(level[best]),
        "score_best_x": float(sx[best]),
        "score_end": float(level[-1]),
        "score_improved": improved,
    }


def _finding(table: CurveTable, val: _Val, train: Curve | None, rise: _Rise, s: np.ndarray,
             train_change: float | None, course: dict[str, Any] | None) -> Finding:
    x, y = val.curve.x, val.curve.y
    start, low, top = rise.start, rise.low, rise.top
    accuracy = val.unit is not None
    risen = float(s[top] - s[low])
    details: dict[str, Any] = {
        "axis": table.x_name,
        "metric_used": val.role,
        "best_x": float(x[start]),
        "best_value": val.shown(float(y[start])),
        "level_at_best": val.shown(float(s[low])),
        "value_now": val.shown(float(s[top])),
        "level_at_end": val.shown(float(s[-1])),
        "rise": risen,
        "rise_rel": risen / abs(float(s[low])) if s[low] else None,
        # as logged: negative for a falling loss, positive for a rising accuracy
        "train_change": None if train_change is None else (
            -train_change if accuracy else train_change),
        "detected_x": float(x[rise.cross]),
        "patience": rise.cross - start,
        "ongoing": rise.fell_back is None,
        "fell_back": rise.fell_back,
    }
    if rise.fell_back is not None:
        details["peak_x"] = float(x[top])
    details.update(course or {})
    details.update(_gap(val, train, x[start], x[top]))
    end = None if rise.fell_back is None else float(x[top])
    name = val.curve.column
    return Finding(CODE, Severity.WARNING, float(x[start]), end, _message(name, details),
                   name, details)


def _message(name: str, d: dict[str, Any]) -> str:
    axis = d["axis"]
    accuracy = d["metric_used"] == "val_acc"
    where = f"{num(d['best_value'])} at {at(axis, d['best_x'])}"
    levels = f"smoothed {num(d['level_at_best'])} -> {num(d['value_now'])}"
    if d["fell_back"] is not None:
        levels += f" at {at(axis, d['peak_x'])}"
    if accuracy:
        message = f"{name} fell {num(d['rise'])} after its peak {where} ({levels})"
    elif d["rise_rel"] is not None:
        message = f"{name} rose {pct(d['rise_rel'])} after its minimum {where} ({levels})"
    else:
        message = f"{name} rose {num(d['rise'])} after its minimum {where} ({levels})"
    if d["train_change"] is not None:
        message += f" while train {'accuracy kept rising' if accuracy else 'loss kept falling'}"
    if d["fell_back"] == "fully":
        message += ", then came back"
    elif d["fell_back"] == "partly":
        message += f", then fell back partly (to {num(d['level_at_end'])})"
    if "score_metric" in d:
        score = d["score_metric"]
        if d["score_improved"]:
            message += (f"; {score} still improved ({num(d['score_at_min'])} -> "
                        f"{num(d['score_best'])} at {at(axis, d['score_best_x'])}): the "
                        f"wrong answers grew more confident (see loss-acc-divergence)")
        else:
            message += (f"; {score} did not improve ({num(d['score_at_min'])} -> "
                        f"{num(d['score_end'])})")
    if accuracy:
        message += "; judged on accuracy, the log has no val loss"
    return message


def _gap(val: _Val, train: Curve | None, x0: float, x1: float) -> dict[str, float | None]:
    """Generalisation gap (val minus train, in loss form) at the minimum and the end, and
    where it began to widen (the corner of the best flat-then-rising fit)."""
    if train is None:
        return {}
    gx, gt, gv = aligned(train, val.curve)
    upto = gx <= x1
    if upto.sum() < 5:
        return {}
    gx, gap = gx[upto], (gv - gt)[upto]
    return {
        "gap_at_best": float(np.interp(x0, gx, gap)),
        "gap_at_end": float(gap[-1]),
        "gap_widening_from": onset(gx, smooth(gx, gap)),
    }


def _seen(f: Finding) -> str:
    d = f.details
    accuracy = d["metric_used"] == "val_acc"
    axis = d["axis"]
    text = (f"{f.metric} was best at {at(axis, d['best_x'])} ({num(d['best_value'])}); the "
            f"{'fall' if accuracy else 'rise'} since became clear at {at(axis, d['detected_x'])}")
    if d["ongoing"]:
        text += f" and the smoothed curve ends the log at {num(d['value_now'])}"
    elif d.get("fell_back") == "partly":
        text += (f"; the smoothed curve peaked at {num(d['value_now'])} at "
                 f"{at(axis, d['peak_x'])} and then fell back to {num(d['level_at_end'])}, "
                 f"still above its minimum")
    else:
        text += (f"; the smoothed curve peaked at {num(d['value_now'])} at "
                 f"{at(axis, d['peak_x'])} and then came back")
    if d["rise_rel"] is not None and not accuracy:
        text += f", {pct(d['rise_rel'])} above its minimum {num(d['level_at_best'])}"
    if d["train_change"] is not None:
        text += (f"; over the same span the training {'accuracy' if accuracy else 'loss'} "
                 f"changed by {num(d['train_change'])}")
    if "gap_at_best" in d:
        text += (f". The generalisation gap (val minus train) went from "
                 f"{num(d['gap_at_best'])} at the best checkpoint to {num(d['gap_at_end'])}, "
                 f"widening since {at(axis, d['gap_widening_from'])}")
    if d.get("score_improved"):
        text += (f". Meanwhile {d['score_metric']} kept improving, from "
                 f"{num(d['score_at_min'])} at the loss minimum to {num(d['score_best'])} at "
                 f"{at(axis, d['score_best_x'])}: more answers are right, but the wrong ones "
                 f"are wrong with more confidence, which costs loss")
    return text + "."


def _advice(f: Finding) -> list[str]:
    d = f.details
    patience = max(int(d["patience"]), 2)
    best = at(d["axis"], d["best_x"])
    regularise = ("Regularise more: raise weight decay, add dropout or stronger augmentation, "
                  "or try label smoothing; a smaller model or more data also help.")
    if d.get("score_improved"):
        score, later = d["score_metric"], at(d["axis"], d["score_best_x"])
        return [
            (f"Do not simply stop at the loss minimum ({best}): {score} kept improving "
             f"until {later} ({num(d['score_at_min'])} -> {num(d['score_best'])}). Keep the "
             f"checkpoint by the metric you report: {later} by {score}, {best} by "
             f"{f.metric} if you need calibrated probabilities."),
            (f"Early-stop on {score} rather than {f.metric}, or calibrate the later "
             f"checkpoint (temperature scaling on the validation set) to get its accuracy "
             f"with sensible confidences."),
            regularise,
        ]
    return [
        f"Keep the checkpoint from {best} ({f.metric} {num(d['best_value'])}).",
        (f"Use early stopping on {f.metric} with patience {patience} and restore the best "
         f"weights: this run needed {d['patience']} logged points after the best one to "
         f"show the change clearly."),
        regularise,
        (f"Before settling on the checkpoint from {best}, compare your target metric there "
         f"with later checkpoints: loss and accuracy can disagree."),
    ]


DETECTOR = Detector(
    code=CODE,
    severity=Severity.WARNING,
    summary="validation loss rises persistently after its minimum while training loss falls",
    doc=DOC,
    run=run,
    seen=_seen,
    advice=_advice,
    options=OPTIONS,
    needs_validation=True,
)
