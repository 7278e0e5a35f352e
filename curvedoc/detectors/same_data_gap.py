"""`same-data-gap`: train and validation loss differ although they come from the same data.

Only with `same_data` = 1 (`--same-data`, or `same-data = true` in the config): then
any lasting difference between the two losses comes from how they are computed, not
from the data.  The training curve is first moved back half an epoch (its values are
averages over an epoch in which the model kept improving), and the remaining gap must
exceed `min_gap` of the validation loss and `noise_k` times its own noise, with the
same sign at `min_share` of the points, for `min_span` points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.detectors import Detector, Option
from curvedoc.detectors._format import at, num, pct, span
from curvedoc.detectors._stats import (
    aligned,
    curve,
    gap_summary,
    noise,
    runs,
    shifted_train,
    smooth,
)
from curvedoc.engine import MIN_POINTS_OPTION
from curvedoc.findings import Finding, Severity

if TYPE_CHECKING:
    from curvedoc.table import CurveTable


CODE = "same-data-gap"

DOC = """\
## What it finds
When training and validation use the same data (you say so with `--same-data` or
`same-data = true` in the config; without it this check does not run), the two losses
should agree once the training loss is shifted back half an epoch to undo its
averaging lag.  This finding is a span where they still differ: by more than `min_gap`
of the validation loss and more than `noise_k` times the noise of the gap, with the
same sign at `min_share` of at least `min_span` logged points.  `direction` says which
one is higher.

## Why it happens
On the same examples, the only differences left are in how each loss is computed:
1. Training mode versus evaluation mode.  In training mode dropout switches off units
   and batch normalisation normalises with the statistics of each batch; in evaluation
   mode (`model.eval()`, `training=False`) dropout is off and batch norm uses its
   running averages.  Dropout makes the training loss higher.  Running averages that
   do not match the data (small batches, a momentum that lags a fast-changing
   network, a different batch composition) make the evaluation loss higher, often by
   a lot, and it can stay flat while the training loss improves.
2. Training-only work: augmentation, mixup, label smoothing, or a regularisation term
   (weight decay added to the loss) are in the training loss only.
3. How the loss is averaged.  A mean over batch means weighs a small last batch as
   much as a full one; a sum versus a mean, or an average over pixels versus over
   images, changes the scale; a Dice or IoU loss computed per batch is not the Dice
   of the whole set (it is not additive), so the same predictions give a different
   number when evaluated in other batch sizes.
4. The evaluation runs on a different model: an exponential moving average of the
   weights, or a checkpoint from another step.

## What to try
- Evaluate the training data with the exact code path of validation (same batch size,
  `model.eval()`, `torch.no_grad()`): that number should match the validation loss.
- Evaluate once in training mode without updating (`model.train()` under
  `torch.no_grad()`): if that matches the training loss, the gap is dropout or batch
  norm.  For batch norm, larger batches, `track_running_stats`, or recomputing the
  statistics (`torch.optim.swa_utils.update_bn`) close it.
- Make the losses comparable: average per example (weight each batch by its size),
  compute set-level metrics such as Dice over the whole set in both places, and
  report the regularisation term separately.
- Remember that augmentation and label smoothing belong to training only: with them
  a training loss above the validation loss is expected.

## Example
`same-data-gap` from epoch 1 on: "with the same data, val loss sat above train loss
from epoch 1 on by 0.1434 on average (23% of val loss), after shifting train loss half
an epoch: the loss is computed differently in evaluation (batch-norm statistics,
averaging)".  details: `direction` "val-above" (or "train-above"), `mean_gap` 0.1434
(the higher loss minus the lower, train shifted), `mean_gap_rel` 0.23, `max_gap` 0.5498,
`max_gap_x` 1, `points` 40.
"""

OPTIONS = {
    "min_points": MIN_POINTS_OPTION,
    "same_data": Option(0, "1 when training and validation use the same data (set by "
                           "--same-data or `same-data = true`); 0 turns this check off."),
    "min_gap": Option(0.05, "Smallest smoothed gap that counts, relative to the validation "
                            "loss (0.05 = 5%)."),
    "noise_k": Option(2.0, "The smoothed gap must also exceed this many times the noise of "
                           "the gap."),
    "min_span": Option(3, "Spans shorter than this many logged points are ignored."),
    "min_share": Option(0.8, "Share of the span's points where the gap has the same sign."),
}


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    if not options["same_data"]:
        return []
    train, val = curve(table, "train_loss"), curve(table, "val_loss")
    if train is None or val is None:
        return []
    x, _, v = aligned(train, val)
    if len(x) < options["min_points"]:
        return []
    gap = shifted_train(train.x, train.y, x) - v  # > 0: train above
    smoothed = smooth(x, gap)
    threshold = np.maximum(options["noise_k"] * noise(gap),
                           options["min_gap"] * np.abs(smooth(x, v)))
    findings = []
    for sign, direction in ((1.0, "train-above"), (-1.0, "val-above")):
        signed = sign * gap
        for a, b in runs(sign * smoothed > threshold, signed > 0):
            part = slice(a, b + 1)
            if b - a + 1 < options["min_span"] or np.mean(signed[part] > 0) < options[
                    "min_share"]:
                continue
            end = None if b == len(x) - 1 else float(x[b])
            findings.append(_finding(table, val.column, x, signed, v, a, b, end, direction))
    return sorted(findings, key=lambda f: f.start)


def _finding(table: CurveTable, column: str, x: np.ndarray, gap: np.ndarray, v: np.ndarray,
             a: int, b: int, end: float | None, direction: str) -> Finding:
    details: dict[str, Any] = {**gap_summary(table.x_name, x, gap, v, a, b),
                               "direction": direction}
    mean_gap = details["mean_gap"]
    higher, lower = ("train", "val") if direction == "train-above" else ("val", "train")
    rel = details["mean_gap_rel"]
    relative = f" ({pct(rel)} of val loss)" if rel is not None else ""
    cause = ("the training loss is computed differently (dropout, batch norm, augmentation)"
             if direction == "train-above" else "the loss is computed differently in "
             "evaluation (batch-norm statistics, averaging)")
    message = (f"with the same data, {higher} loss sat above {lower} loss "
               f"{span(table.x_name, float(x[a]), end)} by {num(mean_gap)} on average"
               f"{relative}, after shifting train loss half an epoch: {cause}")
    return Finding(CODE, Severity.WARNING, float(x[a]), end, message, column, details)


def _seen(f: Finding) -> str:
    d = f.details
    higher, lower = ("training", "validation") if d["direction"] == "train-above" \
        else ("validation", "training")
    return (f"Training and validation use the same data, yet the {higher} loss was above the "
            f"{lower} loss {span(d['axis'], f.start, f.end)} ({d['points']} points) by "
            f"{num(d['mean_gap'])} on average and {num(d['max_gap'])} at most (at "
            f"{at(d['axis'], d['max_gap_x'])}), after the training curve was shifted half an "
            f"epoch to remove its averaging lag.")


def _advice(f: Finding) -> list[str]:
    d = f.details
    tips = [(f"Evaluate the training data with the validation code path (same batch size, "
             f"model.eval(), no_grad): it should match the validation loss; the "
             f"{num(d['mean_gap'])} gap tells how far the two paths differ.")]
    if d["direction"] == "val-above":
        tips += [
            ("Suspect batch-norm running statistics: evaluate in train mode under no_grad; "
             "if that matches the training loss, use larger batches or recompute the "
             "statistics (torch.optim.swa_utils.update_bn)."),
            ("Check how each loss is averaged: weight batches by their size, and compute "
             "set-level metrics (Dice, IoU) the same way in both loops."),
        ]
    else:
        tips += [
            ("Dropout, augmentation, label smoothing and regularisation terms raise the "
             "training loss only; evaluate in train mode under no_grad to confirm."),
        ]
    return tips


DETECTOR = Detector(
    code=CODE,
    severity=Severity.WARNING,
    summary="train and validation loss differ although they use the same data",
    doc=DOC,
    run=run,
    seen=_seen,
    advice=_advice,
    options=OPTIONS,
    needs_validation=True,
    switch="same_data",
)
