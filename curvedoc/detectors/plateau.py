"""`plateau`: training made no progress from the start, for a long stretch or for good.

"No progress" is judged from where the run started, not from where it ended, so a run
that learned and then flattened near its best (converged, healthy) is never a plateau.
The training loss (else validation loss, else the validation score) is smoothed; the
run stalled while the smoothed curve stays within `band` of its starting level (the
median of the first three points, so a wild first value does not count) and within
`noise_k` times its noise.  Two shapes are reported:

* `slow-start`: the stall lasts at least `min_share` of the run and the curve later
  falls by at least three bands (a breakthrough a higher learning rate would have
  found sooner), unless the logged learning rate was still warming up;
* `never-learned`: the stall lasts the whole run, and validation did not clearly
  improve either (a score gaining `min_gain` of the room it had left, or a validation
  loss falling by more than a band, means the model did learn something).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.detectors import Detector, Option
from curvedoc.detectors._format import at, num, pct, span
from curvedoc.detectors._stats import (
    Curve,
    Score,
    curve,
    improvement,
    noise,
    quality,
    smooth,
    trend,
)
from curvedoc.findings import Finding, Severity

if TYPE_CHECKING:
    from curvedoc.table import CurveTable


CODE = "plateau"

#: A band of no progress wider than this fraction of the level means the curve's noise
#: is as large as the level itself (a near-zero loss jittering between batches): whether
#: it moved cannot be told, so there is no finding.
_MAX_BAND = 0.5

DOC = """\
## What it finds
A run that made no progress from its start: the training loss stayed within `band`
(5%) of its starting level, and within its noise, either for a long first stretch
(`slow-start`: at least `min_share` of the run, after which the loss did fall by
three bands or more) or for the whole run (`never-learned`, when validation did not
clearly improve either).  The finding spans the stall.  Logs without a training loss
are judged on validation loss, else on the validation score.

A run that learned and then flattened near its best is converged, not stalled, and is
never reported: progress is measured from the start of the log.  A stall while the
logged learning rate was still warming up is expected and not reported.  A model that
is too small and settles at a high loss early is not found either: no log says what
loss the task allows.

## Why it happens
At the start of training the weights are random and the loss sits at the level of
guessing (for a classifier with C classes, about ln C).  Progress needs gradient steps
large enough to move the weights meaningfully: with a learning rate that is far too
small, every step changes almost nothing and the loss creeps along for a long time
before the model finds a direction that helps, then drops quickly (the breakthrough
a larger rate would have reached sooner).  The same flat start comes from a poor
initialisation (vanishing gradients in a deep network without normalisation or
residual connections, saturated sigmoids or tanh), from layers that are accidentally
frozen, and from dead ReLUs.  A loss that never leaves the guessing level usually
means the model receives no useful signal: labels shuffled out of order with the
inputs, a loss applied to the wrong outputs, `optimizer.zero_grad()` or
`optimizer.step()` missing, or a learning rate so high that every step overshoots.

## What to try
- Raise the learning rate (3-10x), or run a learning-rate range test (fastai's
  `lr_find`, PyTorch Lightning's `Tuner.lr_find`) to choose one.
- Check that the weights actually change: compare a parameter before and after a few
  steps, and that `requires_grad` is on for the layers you train.
- Overfit one small batch first: a correct pipeline drives the loss on 10 examples to
  almost zero within a few hundred steps; if it cannot, there is a bug.
- Check the data: inputs and labels in the same order, labels in the range the loss
  expects, inputs normalised.
- Use an initialisation and normalisation that keep gradients alive (He/Kaiming
  initialisation for ReLU, batch or layer norm, residual connections).
- If this run was resumed from a trained checkpoint, a flat curve only says it had
  already converged.

## Example
`plateau` over epochs 0-23: "loss made no progress over epochs 0-23 (within 5.0% of its
starting level 2.301), then went to 0.3019 by epoch 75; a higher learning rate would
likely have got there sooner".  details: `shape` "slow-start", `metric_used`
"train_loss", `start_level` 2.301, `band` 0.1151, `band_rel` 0.05, `stall_points` 24,
`stall_share` 0.3, `best` 0.3019, `best_x` 75, `lr` (the median learning rate during
the stall, when logged).  A `never-learned` finding has no end and no `best`; with a
validation score it has `score_metric`, `score_start` and `score_end` (smoothed).
"""

OPTIONS = {
    "min_points": Option(8, "Runs with fewer points than this get no finding."),
    "band": Option(0.05, "Moves smaller than this fraction of the starting level are no "
                         "progress (0.05 = 5%)."),
    "noise_k": Option(3.0, "The band is at least this many times the curve's noise."),
    "min_share": Option(0.25, "A stall followed by progress must last at least this share "
                              "of the run's points."),
    "min_span": Option(4, "A stall followed by progress must also last at least this many "
                          "logged points."),
    "min_gain": Option(0.1, "A validation score that gains this fraction of the room it had "
                            "left shows the model learned: no never-learned finding."),
}


@dataclass(frozen=True)
class _Progress:
    """The curve whose progress is judged, in loss form (lower is better)."""

    curve: Curve
    role: str
    sign: float  # -1 for a score turned into loss form

    def shown(self, value: float) -> float:
        return self.sign * value


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    found = _progress_curve(table, int(options["min_points"]))
    if found is None:
        return []
    x, y = found.curve.x, found.curve.y
    s = smooth(x, y)
    start_level = float(np.median(y[:3]))
    band = max(options["band"] * abs(start_level), options["noise_k"] * noise(y))
    if band > _MAX_BAND * abs(start_level):
        return []  # noise as large as the level: flat or not cannot be told
    left = np.flatnonzero(s < start_level - band)
    details: dict[str, Any] = {"axis": table.x_name, "metric_used": found.role,
                               "start_level": found.shown(start_level), "band": band,
                               "band_rel": band / abs(start_level) if start_level else None}
    lr = curve(table, "lr", reduce=False)
    if len(left) == 0:
        if not _validation_flat(table, found, options, details):
            return []
        details.update(shape="never-learned", stall_points=len(x), stall_share=1.0)
        end = None
        stall = slice(0, len(x))
    else:
        k = int(left[0])
        if k < max(options["min_span"], options["min_share"] * len(x)) \
                or float(np.min(s[k:])) > start_level - 3 * band:
            return []
        if trend(x[:k], y[:k]).change(x[:k]) < -band:
            return []  # a steady fall through the band is slow progress, not a stall
        if lr is not None and _warming_up(lr, x[0], x[k]):
            return []
        best = k + int(np.argmin(y[k:]))
        details.update(shape="slow-start", stall_points=k, stall_share=k / len(x),
                       best=found.shown(float(y[best])), best_x=float(x[best]))
        end = float(x[k - 1])
        stall = slice(0, k)
    if lr is not None:
        inside = (lr.x >= x[stall][0]) & (lr.x <= x[stall][-1])
        if inside.any():
            details["lr"] = float(np.median(lr.y[inside]))
    name = found.curve.column
    return [Finding(CODE, Severity.WARNING, float(x[0]), end,
                    _message(details, name, float(x[0]), end), name, details)]


def _progress_curve(table: CurveTable, min_points: int) -> _Progress | None:
    """Training loss, else validation loss, else the validation score (negated when
    higher is better), with at least `min_points` points."""
    for role in ("train_loss", "val_loss"):
        found = curve(table, role)
        if found is not None and len(found) >= min_points:
            return _Progress(found, role, 1.0)
    score = quality(table)
    if score is not None and len(score.curve) >= min_points:
        c = score.curve
        return _Progress(Curve(c.column, c.x, -score.sign * c.y), "score", -score.sign)
    return None


def _validation_flat(table: CurveTable, found: _Progress, options: Mapping[str, float],
                     details: dict[str, Any]) -> bool:
    """Whether validation also shows no learning over the run (adds its numbers to
    `details`): no clear score gain, a score not already near perfect, and no fall of
    the smoothed validation loss by more than `band` of where it started."""
    if found.role == "train_loss":
        val = curve(table, "val_loss")
        if val is not None and len(val) >= 3:
            level = smooth(val.x, val.y)
            head = float(np.median(val.y[:3]))
            if head - float(np.min(level)) > options["band"] * abs(head):
                return False
    score: Score | None = quality(table) if found.role != "score" else None
    if score is not None and len(score.curve) >= 3:
        c = score.curve
        gain = improvement(score, float(c.x[0]), float(c.x[-1]), alpha=0.05,
                           noise_k=options["noise_k"], min_gain=options["min_gain"])
        if gain is not None:
            return False
        level = smooth(c.x, c.y)
        if score.perfect is not None and score.headroom(float(level[-1])) < 0.1 * max(
                abs(score.perfect), 1.0):
            return False  # already near perfect: nothing left to learn
        details.update(score_metric=c.column, score_start=float(level[0]),
                       score_end=float(level[-1]))
    return True


def _warming_up(lr: Curve, x0: float, x1: float) -> bool:
    """Whether the learning rate at the end of the stall was at least twice the one at
    its start: a warm-up holds the loss back on purpose."""
    first = lr.y[lr.x <= x0]
    last = lr.y[lr.x <= x1]
    start = first[-1] if len(first) else lr.y[0]
    return len(last) > 0 and float(last[-1]) >= 2 * float(start)


def _message(d: dict[str, Any], name: str, start: float, end: float | None) -> str:
    axis = d["axis"]
    within = pct(d["band_rel"]) if d["band_rel"] is not None else num(d["band"])
    level = f"within {within} of its starting level {num(d['start_level'])}"
    if d["shape"] == "never-learned":
        text = (f"{name} made no progress over the whole run ({d['stall_points']} points, "
                f"all {level})")
        if "score_metric" in d:
            text += (f" and {d['score_metric']} did not improve clearly "
                     f"({num(d['score_start'])} -> {num(d['score_end'])})")
        return text + ": the model did not learn"
    return (f"{name} made no progress {span(axis, start, end)} ({level}), then "
            f"went to {num(d['best'])} by {at(axis, d['best_x'])}; a higher learning rate "
            f"would likely have got there sooner")


def _seen(f: Finding) -> str:
    d = f.details
    axis = d["axis"]
    text = (f"{f.metric} started at about {num(d['start_level'])} and for "
            f"{d['stall_points']} logged points ({pct(d['stall_share'])} of the run) it moved "
            f"by less than {num(d['band'])} (the band of no progress, from the level and "
            f"the curve's noise)")
    if d["shape"] == "slow-start":
        text += (f"; from {at(axis, f.end)} on it fell, reaching {num(d['best'])} at "
                 f"{at(axis, d['best_x'])}.")
    else:
        text += ", to the end of the log."
        if "score_metric" in d:
            text += (f" {d['score_metric']} went from {num(d['score_start'])} to "
                     f"{num(d['score_end'])} (smoothed), no clear improvement.")
    if "lr" in d:
        text += f" The learning rate during the stall was {num(d['lr'])}."
    return text


def _advice(f: Finding) -> list[str]:
    d = f.details
    raise_lr = (f"Raise the learning rate from {num(d['lr'])} (try {num(d['lr'] * 3)} to "
                f"{num(d['lr'] * 10)}), or run a learning-rate range test (lr_find)."
                if "lr" in d else
                "Raise the learning rate 3-10x, or run a learning-rate range test (lr_find).")
    if d["shape"] == "slow-start":
        return [raise_lr,
                (f"The first {d['stall_points']} {d['axis']}s were spent stalled: check the "
                 f"initialisation and normalisation (He init, batch/layer norm, residual "
                 f"connections) so gradients reach every layer from the start.")]
    return [
        raise_lr,
        ("Overfit one small batch (10 examples): if the loss does not approach zero, the "
         "pipeline has a bug (labels out of order, zero_grad/step missing, frozen layers)."),
        "Check that inputs and labels line up and that the weights change between steps.",
        ("If this run resumed from a trained checkpoint, the flat curve only means it had "
         "already converged."),
    ]


DETECTOR = Detector(
    code=CODE,
    severity=Severity.WARNING,
    summary="no progress from the start: a long stall before learning, or none at all",
    doc=DOC,
    run=run,
    seen=_seen,
    advice=_advice,
    options=OPTIONS,
)
