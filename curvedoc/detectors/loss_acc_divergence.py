"""`loss-acc-divergence`: validation loss rises while validation accuracy (or another
validation score) also improves.

The smoothed validation loss is split into rises and falls larger than its noise; each
rise that is persistent (Mann-Kendall) is searched for the part of it over which the
score improved, and that part is reported when the score improved beyond noise and by
a trend test while the loss rose beyond noise: a loss that rises while accuracy merely
stays flat is ordinary overfitting, not this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.detectors import Detector, Option
from curvedoc.detectors._format import at, num, pct, span
from curvedoc.detectors._stats import (
    Curve,
    Score,
    curve,
    default_window,
    improvement,
    level_error,
    noise_after,
    quality,
    smooth,
    swings,
    trend,
)
from curvedoc.engine import MIN_POINTS_OPTION
from curvedoc.findings import Finding, Severity

if TYPE_CHECKING:
    from curvedoc.table import CurveTable


CODE = "loss-acc-divergence"

DOC = """\
## What it finds
A span where validation loss rises while validation accuracy also rises, both by more
than their noise and persistently.  When the log has no accuracy, another validation
score stands in: a higher-is-better one (mAP, F1) rising, or a lower-is-better one
(word error rate, MAE) falling while the loss rises; the finding names it in
`score_metric`.  A rising loss with a merely flat accuracy is not this finding (that
is ordinary overfitting).

The loss often rises for much longer than the score improves: accuracy saturates while
the wrong answers keep growing more confident, or it falls first and recovers after a
learning-rate drop.  The span is therefore the part of the loss rise over which the
score improved, from its lowest level to where it came within noise of its best (on to
its best while it still improves by a trend test); it is open-ended when the score was
still improving when the log stopped.  The same rise is usually also `overfitting`,
whose finding then says that accuracy still improved.

## Why it happens
Accuracy and loss measure different things.  Accuracy counts how many predictions are
right; cross-entropy loss measures how far off each prediction is, and it punishes a
confident mistake very hard.  As training goes on, the model becomes more confident:
it gets a few more borderline examples right (accuracy rises) while the examples it
still gets wrong are now predicted wrongly with high confidence, and each of those adds
a large loss, so the average validation loss rises.  The model is improving at ranking
classes but becoming over-confident (badly calibrated), which is an early form of
overfitting.  In sequence models the same happens between the token-level loss and a
decoded metric such as word error rate.

## What to try
- Decide which number you care about: choose the checkpoint and the early-stopping
  criterion by validation accuracy (or your target metric), not by validation loss,
  which here points at an earlier epoch.
- If you need calibrated probabilities, fix the confidence rather than the accuracy:
  label smoothing during training, or temperature scaling on the validation set
  afterwards.
- Regularise as for overfitting (weight decay, dropout, augmentation): over-confidence
  grows with the generalisation gap.
- Look at the wrong validation predictions with the highest confidence: they are often
  mislabelled or ambiguous examples.

## Example
`loss-acc-divergence` over epochs 0-35: "val_loss rose 26% over epochs 0-35 while
val_acc rose too (smoothed 4.219 -> 5.326; 0.4408 -> 0.6124)".  details: `loss_start`
4.219, `loss_end` 5.326, `loss_change` 1.107, `loss_change_rel` 0.26, `score_metric`
"val_acc", `score_higher_is_better` true, `score_start` 0.4408, `score_end` 0.6124,
`score_change` 0.172 (all smoothed levels).
"""

OPTIONS = {
    "min_points": MIN_POINTS_OPTION,
    "min_rise": Option(0.03, "Smallest loss rise that counts, relative to the loss at the "
                             "start of the span (0.03 = 3%)."),
    "noise_k": Option(2.0, "Both changes must exceed this many times their curve's noise."),
    "alpha": Option(0.05, "Mann-Kendall p-value below which a change counts as persistent."),
    "min_span": Option(3, "The span must hold at least this many logged points."),
    "min_gain": Option(0.05, "The score must improve by at least this fraction of the room "
                             "it had left (for an accuracy of 0.84, 5% of 0.16): a rise of "
                             "a few hundredths of a point is 'flat'."),
}


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    loss = curve(table, "val_loss")
    found = quality(table)
    if loss is None or found is None or len(loss) < options["min_points"]:
        return []
    x, y = loss.x, loss.y
    s = smooth(x, y)
    # split at turns larger than the noise and than the smallest rise that counts
    turn = max(options["noise_k"] * noise_after(y, 0), options["min_rise"] * abs(float(np.min(s))))
    findings = []
    for a, b, direction in swings(s, turn):
        if direction < 0:
            continue
        a, b = _as_logged(y, a, b, default_window(len(y)) // 2)
        # the loss rise is persistent as a whole; the score may improve over part of it
        if (b - a + 1 < options["min_span"]
                or trend(x[a:b + 1], y[a:b + 1]).p_up >= options["alpha"]):
            continue
        part = _improving(found, x[a], x[b], options)
        if part is None:
            continue
        i, j = loss.index_at(part[0]), int(np.searchsorted(x, part[1], side="right")) - 1
        if j - i + 1 < options["min_span"]:
            continue
        if s[j] - s[i] < max(options["noise_k"] * noise_after(y, i),
                             options["min_rise"] * abs(s[i])):
            continue  # the loss did not clearly rise while the score improved
        if np.sum((found.curve.x >= x[i]) & (found.curve.x <= x[j])) < options["min_span"]:
            continue
        change = improvement(found, x[i], x[j], alpha=options["alpha"],
                             noise_k=options["noise_k"], min_gain=options["min_gain"])
        if change is None:
            continue
        # still improving, with the loss still rising, when the log ends: an open span
        end = None if j == len(x) - 1 or part[1] >= found.curve.x[-1] else x[j]
        findings.append(_finding(table, loss, found, x[i], end, float(s[i]), float(s[j]),
                                 change))
    return findings


def _improving(found: Score, x0: float, x1: float,
               options: Mapping[str, float]) -> tuple[float, float] | None:
    """The part of [x0, x1] over which the score improved: from its lowest smoothed level
    to where it first came within noise of its best, or on to its best when it still
    improves persistently after that (slowly, but by a Mann-Kendall trend).  A
    loss often rises for much longer than the score improves (accuracy saturates while
    the wrong answers keep growing more confident, or falls first and recovers after a
    learning-rate drop); judged over the whole rise, a short clear improvement would
    drown in the flat rest."""
    score = found.curve
    inside = np.flatnonzero((score.x >= x0) & (score.x <= x1))
    if len(inside) < 3:
        return None
    sx = score.x[inside]
    level = found.sign * smooth(score.x, score.y)[inside]
    near = options["noise_k"] * level_error(noise_after(score.y, int(inside[0])), len(score))
    best = int(np.flatnonzero(level >= level.max() - near)[0])
    rest = inside[best:]
    if trend(score.x[rest], found.sign * score.y[rest]).p_up < options["alpha"]:
        best = int(np.argmax(level))
    low = int(np.argmin(level[:best + 1]))
    return float(sx[low]), float(sx[best])


def _as_logged(y: np.ndarray, a: int, b: int, reach: int) -> tuple[int, int]:
    """Move a rise's ends from the smoothed turning points to the logged lowest and highest
    values near them, so the span starts at the checkpoint a user would pick."""
    lo = max(0, a - reach) + int(np.argmin(y[max(0, a - reach):a + reach + 1]))
    hi = max(lo, b - reach) + int(np.argmax(y[max(lo, b - reach):b + reach + 1]))
    return lo, hi


def _finding(table: CurveTable, loss: Curve, found: Score, x0: float, x1: float | None,
             l0: float, l1: float, change: tuple[float, float]) -> Finding:
    s0, s1 = change
    score, sign = found.curve, found.sign
    details: dict[str, Any] = {
        "axis": table.x_name,
        "loss_start": l0,
        "loss_end": l1,
        "loss_change": l1 - l0,
        "loss_change_rel": (l1 - l0) / abs(l0) if l0 else None,
        "score_metric": score.column,
        "score_higher_is_better": sign > 0,
        "score_start": s0,
        "score_end": s1,
        "score_change": s1 - s0,
    }
    rose = f"rose {pct(l1 / l0 - 1)}" if l0 > 0 else f"rose {num(l1 - l0)}"
    verb = "rose" if sign > 0 else "improved (fell)"
    message = (f"{loss.column} {rose} {span(table.x_name, x0, x1)} while {score.column} "
               f"{verb} too (smoothed {num(l0)} -> {num(l1)}; {num(s0)} -> {num(s1)})")
    return Finding(CODE, Severity.WARNING, x0, x1, message, loss.column, details)


def _seen(f: Finding) -> str:
    d = f.details
    better = "higher" if d["score_higher_is_better"] else "lower"
    return (f"{f.metric} went from {num(d['loss_start'])} to {num(d['loss_end'])} while "
            f"{d['score_metric']} ({better} is better) went from {num(d['score_start'])} to "
            f"{num(d['score_end'])}, {span(d['axis'], f.start, f.end)} (smoothed values): more "
            f"predictions are right, but the wrong ones are wrong with more confidence.")


def _advice(f: Finding) -> list[str]:
    d = f.details
    return [
        (f"Select checkpoints and early-stop on {d['score_metric']}, not on {f.metric}: "
         f"by {f.metric} you would stop at {at(d['axis'], f.start)}, although "
         f"{d['score_metric']} improved by {num(abs(d['score_change']))} after it."),
        ("If you need calibrated probabilities, add label smoothing (e.g. 0.1) or fit a "
         "temperature on the validation set after training."),
        ("Inspect the most confident wrong validation predictions: they are often "
         "mislabelled or ambiguous examples."),
    ]


DETECTOR = Detector(
    code=CODE,
    severity=Severity.WARNING,
    summary="validation loss rises while validation accuracy (or another score) improves",
    doc=DOC,
    run=run,
    seen=_seen,
    advice=_advice,
    options=OPTIONS,
    needs_validation=True,
)
