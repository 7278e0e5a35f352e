"""`train-above-val`: training loss sits above validation loss, beyond noise, for a span.

Training loss is an average over the epoch, validation loss is measured at its end, so
the training curve is first shifted by half an interval; the gap that is left is
smoothed and compared with its own noise, with a fraction of the validation loss and
with what the shift removed.  Only spans that last (`min_span` points and `min_fraction`
of the run) are reported: a gap the averaging lag can explain is not a finding.
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


CODE = "train-above-val"

DOC = """\
## What it finds
A span where training loss is higher than validation loss once the averaging lag is
taken out, by more than the noise of the gap and more than `min_gap` of the validation
loss, for at least `min_span` logged points and `min_fraction` of the run.  The lag: the
training loss of an epoch is averaged over its batches while the model improves, the
validation loss is measured at the epoch's end, so the training curve is compared
shifted by half an epoch.  While the loss falls fast (the first epochs) the shift
removes the lag only roughly, so at least half of the gap must be left after it.
A gap that the lag can explain is not reported; when one comes just before the
reported span, `lag_only_from` says where it began.  The finding gives the mean and
the largest gap as logged and the mean gap after the shift.

The severity is info: on its own this is usually expected behaviour, not a bug.  It is
worth a look when the gap is large and the model has no dropout, augmentation or
regularisation that would explain it (then suspect the validation data).

## Why it happens
Most likely causes first:
1. Dropout and batch normalisation behave differently in training and evaluation.
   During training, dropout switches off units and batch norm uses the statistics of
   each small batch, so the network that produces the training loss is a handicapped,
   noisier version of the one evaluated with `model.eval()` (PyTorch) or
   `training=False` (Keras) on the validation set.
2. Training-only augmentation and regularisation: random crops, flips, mixup or cutmix
   make training examples harder than the clean validation images, and a weight-decay
   or auxiliary term added to the reported training loss (Keras adds L2 penalties to
   `loss`) inflates it further.  Label smoothing does the same.
3. The validation set is easier than the training set, or leaks into it: duplicates
   or near-duplicates across the split, a validation split from a different (cleaner)
   distribution, or too few validation examples.

Not a cause of this finding: the half-epoch lag.  Early in training, when the loss
falls fast, averaging the training loss over the epoch alone puts it above the
validation loss measured at the epoch's end.  curvedoc takes the lag out before it
judges, so a reported gap is not the lag.

## What to try
- Check the training loop: call `model.eval()` (and `torch.no_grad()`) for
  validation and `model.train()` again before the next epoch.
- To compare like with like, evaluate the training set in evaluation mode (no dropout,
  no augmentation) at the end of an epoch; that loss should sit below validation loss.
- If none of the above explains the gap, look for duplicates between
  the training and validation sets and check how the split was made.
- Strong regularisation leaves room to fit better: if validation loss has stopped
  improving while training loss stays above it, the model may be under-fitting;
  try less dropout or augmentation.

## Example
`train-above-val` over epochs 1-56: "train loss sat above val loss over epochs 1-56:
by 0.08527 on average (13% of val loss), at most 0.202; it persists after a half-epoch
shift (before epoch 1 the averaging lag alone could explain it)".  details: `mean_gap`
0.0853, `mean_gap_rel` 0.13, `mean_gap_after_shift` 0.0734, `max_gap` 0.202,
`max_gap_x` 2, `persists_after_shift` true (always, for a reported gap),
`lag_only_from` 0, `points` 56.
"""

OPTIONS = {
    "min_points": MIN_POINTS_OPTION,
    "min_gap": Option(0.02, "Smallest smoothed gap that counts, relative to the validation "
                            "loss (0.02 = 2%)."),
    "noise_k": Option(2.0, "The smoothed gap must also exceed this many times the noise of "
                           "the gap."),
    "min_span": Option(3, "Spans shorter than this many logged points are ignored."),
    "min_fraction": Option(0.1, "Spans must also last this fraction of the run's points: a "
                                "gap over the first few epochs of a long run belongs to the "
                                "start of training, not to the model."),
    "min_share": Option(0.8, "Share of the span's logged points where training loss really "
                             "is above validation loss."),
}


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    train, val = curve(table, "train_loss"), curve(table, "val_loss")
    if train is None or val is None:
        return []
    x, t, v = aligned(train, val)
    if len(x) < options["min_points"]:
        return []
    gap = t - v
    shifted = shifted_train(train.x, train.y, x) - v
    level = np.maximum(options["noise_k"] * noise(shifted),
                       options["min_gap"] * np.abs(smooth(x, v)))
    left, raw = smooth(x, shifted), smooth(x, gap)
    # beyond noise after the shift, and beyond the lag: while the loss falls fast the
    # shift removes the lag only roughly, so at least half of the gap must be left
    above = (left > level) & (left >= raw - left)
    shortest = max(options["min_span"], options["min_fraction"] * len(x))
    findings = []
    for a, b in runs(above, shifted > 0):
        part = slice(a, b + 1)
        if b - a + 1 < shortest or np.mean(shifted[part] > 0) < options["min_share"]:
            continue
        lead = a
        while lead > 0 and raw[lead - 1] > level[lead - 1]:
            lead -= 1  # train above val just before, but by no more than the lag explains
        end = None if b == len(x) - 1 else float(x[b])
        findings.append(_finding(table, train.column, x, gap, shifted, v, (a, b, lead), end))
    return findings


def _finding(table: CurveTable, column: str, x: np.ndarray, gap: np.ndarray,
             shifted: np.ndarray, v: np.ndarray, where: tuple[int, int, int],
             end: float | None) -> Finding:
    a, b, lead = where
    details: dict[str, Any] = {
        **gap_summary(table.x_name, x, gap, v, a, b),
        "mean_gap_after_shift": float(np.mean(shifted[a:b + 1])),
        "persists_after_shift": True,  # only such gaps are reported
        "lag_only_from": float(x[lead]) if lead < a else None,
    }
    rel = details["mean_gap_rel"]
    relative = f" ({pct(rel)} of val loss)" if rel is not None else ""
    message = (f"train loss sat above val loss {span(table.x_name, float(x[a]), end)}: "
               f"by {num(details['mean_gap'])} on average{relative}, at most "
               f"{num(details['max_gap'])}; it persists after a half-epoch shift")
    if lead < a:
        message += (f" (before {at(table.x_name, x[a])} the averaging lag alone could "
                    f"explain it)")
    return Finding(CODE, Severity.INFO, float(x[a]), end, message, column, details)


def _seen(f: Finding) -> str:
    d = f.details
    text = (f"Training loss ({f.metric}) was above val loss {span(d['axis'], f.start, f.end)} "
            f"({d['points']} points), by {num(d['mean_gap'])} on average and {num(d['max_gap'])} "
            f"at most (at {at(d['axis'], d['max_gap_x'])}). Shifting the training curve by "
            f"half an epoch leaves {num(d['mean_gap_after_shift'])} on average, so the "
            f"averaging lag does not explain it.")
    if d["lag_only_from"] is not None:
        text += (f" From {at(d['axis'], d['lag_only_from'])} to {at(d['axis'], f.start)} "
                 f"training loss was above too, but by no more than the lag of a "
                 f"fast-falling training loss explains.")
    return text


def _advice(f: Finding) -> list[str]:
    d = f.details
    return [
        ("Check that validation runs with model.eval() (dropout off, batch norm on running "
         "statistics) and training with model.train()."),
        (f"Evaluate the training set in evaluation mode, without augmentation: if that loss "
         f"is below val loss, the {num(d['mean_gap'])} gap comes from dropout, augmentation "
         f"or a regularisation term in the training loss, and is expected."),
        ("If none of these explains it, look for duplicates between the training and "
         "validation sets and check how the split was made."),
    ]


DETECTOR = Detector(
    code=CODE,
    severity=Severity.INFO,
    summary="training loss sits above validation loss beyond noise",
    doc=DOC,
    run=run,
    seen=_seen,
    advice=_advice,
    options=OPTIONS,
    needs_validation=True,
)
